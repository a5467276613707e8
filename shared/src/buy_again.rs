//! Buy again: consumables and accessories (ink, batteries, cables) a shopper is due to reorder.
//!
//! Two facts meet here. The trainer learns per item how shoppers re-buy it ([`Repeat`]: the share
//! of buyers who bought it again and the typical interval between purchases), shipped in the
//! artifact. The shopper's Durable Object keeps a small purchase ledger ([`Bought`]: a
//! recency-decayed purchase count and the last purchase time per item). Ranking is the personal
//! decayed count, raised for items people do re-buy and for items that are due, lowered for
//! items bought moments ago or that (almost) nobody buys twice. On held-out baskets, personal
//! purchase frequency alone beats collaborative filtering; `cargo bench -p trainer --bench
//! buy_again` keeps this ranking at least as good as that baseline.

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::filter::Allow;
use crate::recommend::{Reason, Scored};

const DAY_MS: f32 = 86_400_000.0;
/// Half-life of a purchase in the decayed count, days.
pub const HALF_LIFE_DAYS: f32 = 120.0;
/// Most items kept in a shopper's purchase ledger (the least recently bought go first).
pub const MAX_BOUGHT: usize = 300;
/// Purchases older than this are forgotten: two years.
pub const LEDGER_TTL_MS: i64 = 730 * 86_400_000;

pub use crate::artifact::Repeat;

/// One line of a shopper's purchase ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bought {
    pub item_id: String,
    /// Number of purchases (orders) of the item.
    pub count: u32,
    /// Purchases decayed with [`HALF_LIFE_DAYS`], as of `last_ts`.
    pub weight: f32,
    pub last_ts: i64,
    /// The last order counted, so a redelivered purchase is not counted twice.
    pub last_event: String,
}

/// Records one purchase of `item_id` (event `event_id` at `ts`) in a ledger.
pub fn record(ledger: &mut Vec<Bought>, item_id: &str, event_id: &str, ts: i64) {
    match ledger.iter_mut().find(|b| b.item_id == item_id) {
        Some(b) if b.last_event == event_id => {}
        Some(b) => {
            if ts >= b.last_ts {
                b.weight = decayed(b.weight, ts - b.last_ts) + 1.0;
                b.last_ts = ts;
                b.last_event = event_id.to_owned();
            } else {
                b.weight += decayed(1.0, b.last_ts - ts);
            }
            b.count = b.count.saturating_add(1);
        }
        None => ledger.push(Bought {
            item_id: item_id.to_owned(),
            count: 1,
            weight: 1.0,
            last_ts: ts,
            last_event: event_id.to_owned(),
        }),
    }
    if let Some(newest) = ledger.iter().map(|b| b.last_ts).max() {
        ledger.retain(|b| newest - b.last_ts <= LEDGER_TTL_MS);
    }
    if ledger.len() > MAX_BOUGHT {
        ledger.sort_by_key(|b| std::cmp::Reverse(b.last_ts));
        ledger.truncate(MAX_BOUGHT);
    }
}

/// Merges another ledger (login: anonymous → user).
pub fn merge(into: &mut Vec<Bought>, from: Vec<Bought>) {
    for b in from {
        match into.iter_mut().find(|x| x.item_id == b.item_id) {
            Some(x) if x.last_event == b.last_event => {}
            Some(x) => {
                let (newer, older) = if b.last_ts >= x.last_ts {
                    (b.clone(), x.clone())
                } else {
                    (x.clone(), b.clone())
                };
                x.weight = newer.weight + decayed(older.weight, newer.last_ts - older.last_ts);
                x.count = x.count.saturating_add(b.count);
                x.last_ts = newer.last_ts;
                x.last_event = newer.last_event;
            }
            None => into.push(b),
        }
    }
}

fn decayed(weight: f32, elapsed_ms: i64) -> f32 {
    #[expect(clippy::cast_precision_loss, reason = "day resolution is plenty")]
    let days = (elapsed_ms.max(0) as f32) / DAY_MS;
    weight * 0.5f32.powf(days / HALF_LIFE_DAYS)
}

/// How much a shopper's history says "reorder now": the decayed count at `now`, times how
/// re-buyable the item is, times how due it is.
pub fn score(weight: f32, last_ts: i64, now: i64, repeat: Option<Repeat>) -> f32 {
    let base = decayed(weight, now - last_ts);
    let Some(r) = repeat else {
        return base;
    };
    let propensity = 0.25 + r.share.clamp(0.0, 1.0);
    if r.interval_days <= 0.0 {
        return base * propensity;
    }
    base * propensity * due_factor(days_since(last_ts, now) / r.interval_days)
}

/// 1 from the typical interval on (slowly fading when long overdue); less before it is due.
fn due_factor(x: f32) -> f32 {
    if x < 1.0 {
        0.5 + 0.5 * x
    } else {
        1.0 / (1.0 + 0.1 * (x - 1.0))
    }
}

fn days_since(ts: i64, now: i64) -> f32 {
    #[expect(clippy::cast_precision_loss, reason = "day resolution is plenty")]
    let d = ((now - ts).max(0) as f32) / DAY_MS;
    d
}

/// Items below this learned repeat share (with a known interval) are durables: not suggested
/// again unless the shopper already bought them twice.
pub const MIN_SHARE: f32 = 0.02;

/// Whether a ledger line is worth suggesting: not a durable bought once.
pub fn is_candidate(count: u32, repeat: Option<Repeat>) -> bool {
    !(repeat.is_some_and(|r| r.share < MIN_SHARE) && count < 2)
}

/// The shopper's items to buy again, best first.
pub fn rank(
    model: &Model,
    ledger: &[Bought],
    now: i64,
    k: usize,
    offset: usize,
    allow: &dyn Allow,
) -> Vec<Scored> {
    let mut scored: Vec<(u32, f32, i32)> = ledger
        .iter()
        .filter_map(|b| {
            let idx = model.item_index(&b.item_id)?;
            let repeat = model.repeat(idx);
            if !is_candidate(b.count, repeat) || !allow.allows(idx) {
                return None;
            }
            let due = repeat
                .filter(|r| r.interval_days > 0.0)
                .map_or(0.0, |r| r.interval_days - days_since(b.last_ts, now));
            #[expect(clippy::cast_possible_truncation, reason = "days fit i32")]
            let due_in_days = due.round() as i32;
            Some((idx, score(b.weight, b.last_ts, now, repeat), due_in_days))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .skip(offset)
        .take(k)
        .map(|(idx, score, due_in_days)| Scored {
            idx,
            score,
            reason: Reason::BuyAgain {
                item: model.item_id(idx).to_owned(),
                due_in_days,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn record_counts_orders_once_and_decays() {
        let mut l = Vec::new();
        record(&mut l, "ink", "o1", 0);
        record(&mut l, "ink", "o1", 0);
        assert_eq!(l[0].count, 1, "a redelivered order counts once");
        record(&mut l, "ink", "o2", 120 * DAY);
        assert_eq!(l[0].count, 2);
        assert!((l[0].weight - 1.5).abs() < 1e-3, "{}", l[0].weight);
        record(&mut l, "cable", "o3", 121 * DAY);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn ledger_is_bounded_and_forgets_old_purchases() {
        let mut l = Vec::new();
        record(&mut l, "old", "o0", 0);
        for i in 0..(MAX_BOUGHT + 5) {
            record(
                &mut l,
                &format!("i{i}"),
                &format!("o{i}"),
                800 * DAY + i as i64,
            );
        }
        assert_eq!(l.len(), MAX_BOUGHT);
        assert!(l.iter().all(|b| b.item_id != "old" && b.item_id != "i0"));
    }

    #[test]
    fn merge_adds_counts_and_keeps_newest() {
        let mut a = Vec::new();
        record(&mut a, "ink", "o1", 0);
        let mut b = Vec::new();
        record(&mut b, "ink", "o2", 120 * DAY);
        record(&mut b, "usb", "o3", 120 * DAY);
        merge(&mut a, b);
        let ink = a.iter().find(|x| x.item_id == "ink").unwrap();
        assert_eq!((ink.count, ink.last_ts), (2, 120 * DAY));
        assert!((ink.weight - 1.5).abs() < 1e-3);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn due_items_outrank_just_bought_and_durables_rank_low() {
        let ink = Repeat {
            interval_days: 30.0,
            share: 0.6,
        };
        let laptop = Repeat {
            interval_days: 0.0,
            share: 0.01,
        };
        let now = 100 * DAY;
        let due = score(1.0, now - 30 * DAY, now, Some(ink));
        let fresh = score(1.0, now - DAY, now, Some(ink));
        let durable = score(1.0, now - 30 * DAY, now, Some(laptop));
        assert!(due > fresh, "{due} vs {fresh}");
        assert!(fresh > durable, "{fresh} vs {durable}");
        assert!(score(3.0, now, now, None) > score(1.0, now, now, None));
    }
}
