//! Repurchase statistics for buy-again: per item, the share of its buyers who bought it again and
//! the median days between two purchases by the same shopper.
//!
//! Items with few buyers borrow strength from their category (the share is smoothed towards the
//! category's, the interval falls back to the category median), so a new ink cartridge is treated
//! like the other ink cartridges until it has its own history.

use shared::artifact::NONE;
use shared::buy_again::Repeat;

const DAY_MS: i64 = 86_400_000;
/// Purchases of one item by one shopper closer than this are the same order.
const SAME_ORDER_MS: i64 = DAY_MS;
/// Pseudo-buyers of category evidence added to each item's share.
const PRIOR_BUYERS: f32 = 5.0;
/// Fewest own repeat gaps for an item to use its own median interval.
const MIN_GAPS: usize = 3;

#[derive(Default, Clone)]
struct Tally {
    buyers: u32,
    repeaters: u32,
    gaps: Vec<f32>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.buyers += other.buyers;
        self.repeaters += other.repeaters;
        self.gaps.extend_from_slice(&other.gaps);
    }
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f32::total_cmp);
    v[v.len() / 2]
}

/// Per item `0..n`: how it is bought again. `purchases` holds `(shopper, ts, item)` in any order;
/// `category[i]` is item `i`'s category index or [`NONE`].
pub fn stats(purchases: &[(u32, i64, u32)], category: &[u32]) -> Vec<Repeat> {
    let n = category.len();
    let mut keys: Vec<(u32, u32, i64)> = purchases.iter().map(|&(s, t, i)| (s, i, t)).collect();
    keys.sort_unstable();
    let mut items = vec![Tally::default(); n];
    let mut at = 0;
    while at < keys.len() {
        let (shopper, item, _) = keys[at];
        let end = keys[at..]
            .iter()
            .position(|&(s, i, _)| (s, i) != (shopper, item))
            .map_or(keys.len(), |p| at + p);
        let Some(t) = items.get_mut(item as usize) else {
            at = end;
            continue;
        };
        let mut orders = 1u32;
        let mut last = keys[at].2;
        for &(_, _, ts) in &keys[at + 1..end] {
            if ts - last >= SAME_ORDER_MS {
                #[expect(clippy::cast_precision_loss, reason = "days as f32")]
                t.gaps.push((ts - last) as f32 / DAY_MS as f32);
                orders += 1;
                last = ts;
            }
        }
        t.buyers += 1;
        t.repeaters += u32::from(orders > 1);
        at = end;
    }
    let n_cat = category
        .iter()
        .filter(|&&c| c != NONE)
        .map(|&c| c as usize + 1)
        .max()
        .unwrap_or(0);
    let mut cats = vec![Tally::default(); n_cat];
    for (i, t) in items.iter().enumerate() {
        if let Some(c) = cats.get_mut(category[i] as usize) {
            c.add(t);
        }
    }
    let mut all = Tally::default();
    for t in &items {
        all.add(t);
    }
    let share_of = |t: &Tally| {
        #[expect(clippy::cast_precision_loss, reason = "counts as f32")]
        let s = t.repeaters as f32 / t.buyers.max(1) as f32;
        s
    };
    let global_share = share_of(&all);
    let cat_share: Vec<f32> = cats
        .iter()
        .map(|c| {
            #[expect(clippy::cast_precision_loss, reason = "counts as f32")]
            let s = (c.repeaters as f32 + PRIOR_BUYERS * global_share)
                / (c.buyers as f32 + PRIOR_BUYERS);
            s
        })
        .collect();
    let cat_interval: Vec<f32> = cats
        .iter_mut()
        .map(|c| {
            if c.gaps.len() >= MIN_GAPS {
                median(&mut c.gaps)
            } else {
                0.0
            }
        })
        .collect();
    items
        .into_iter()
        .enumerate()
        .map(|(i, mut t)| {
            let c = category[i] as usize;
            let prior = cat_share.get(c).copied().unwrap_or(global_share);
            #[expect(clippy::cast_precision_loss, reason = "counts as f32")]
            let share =
                (t.repeaters as f32 + PRIOR_BUYERS * prior) / (t.buyers as f32 + PRIOR_BUYERS);
            let interval_days = if t.gaps.len() >= MIN_GAPS {
                median(&mut t.gaps)
            } else {
                cat_interval.get(c).copied().unwrap_or(0.0)
            };
            Repeat {
                interval_days,
                share,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumables_repeat_at_their_interval_and_durables_do_not() {
        // Item 0 (ink, category 0): 4 shoppers re-buy every 30 days. Item 1 (laptop, category 1):
        // 10 buyers, once each. Item 2 (new ink, category 0): one buyer, once.
        let mut p = Vec::new();
        for s in 0..4u32 {
            for k in 0..3i64 {
                p.push((s, k * 30 * DAY_MS, 0));
            }
        }
        for s in 0..10u32 {
            p.push((s, 5 * DAY_MS, 1));
        }
        p.push((20, 0, 2));
        // A second line of the same order does not count as a repeat.
        p.push((21, 0, 1));
        p.push((21, 1000, 1));
        let r = stats(&p, &[0, 1, 0]);
        assert!((r[0].interval_days - 30.0).abs() < 1e-3);
        assert!(r[0].share > 0.4, "{:?}", r[0]);
        assert!(r[1].share < 0.1, "{:?}", r[1]);
        assert_eq!(r[1].interval_days, 0.0);
        assert!(
            (r[2].interval_days - 30.0).abs() < 1e-3,
            "borrows its category's interval"
        );
        assert!(r[2].share > r[1].share, "borrows its category's share");
    }
}
