//! Scoring: turns a loaded [`Model`] and a request into ranked items with reasons.
//!
//! The same functions run in the worker and in the trainer's evaluation, so offline figures
//! describe what shoppers get.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::filter::Allow;

/// Why an item was recommended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Popular across the shop.
    Popular,
    /// Popular in a category.
    Trending { category: String },
    /// Viewed in the same sessions as `item`.
    ViewedTogether { item: String },
    /// Bought together with `item`.
    BoughtTogether { item: String },
    /// Follows from the shopper's own recent `item`.
    Session { item: String },
    /// The shopper bought `item` before and is due (negative: overdue) to reorder it.
    BuyAgain { item: String, due_in_days: i32 },
    /// Placed or boosted by merchandising rule `rule`.
    Rule { rule: String },
}

/// A ranked item.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub idx: u32,
    pub score: f32,
    pub reason: Reason,
}

/// Collects distinct items up to `limit`, skipping ones the filter refuses.
struct Picker<'a> {
    out: Vec<Scored>,
    seen: HashSet<u32>,
    exclude: &'a dyn Allow,
    limit: usize,
}

impl<'a> Picker<'a> {
    fn new(limit: usize, exclude: &'a dyn Allow) -> Self {
        Self {
            out: Vec::with_capacity(limit),
            seen: HashSet::new(),
            exclude,
            limit,
        }
    }

    fn full(&self) -> bool {
        self.out.len() >= self.limit
    }

    fn push(&mut self, idx: u32, score: f32, reason: impl FnOnce() -> Reason) {
        if !self.full() && self.exclude.allows(idx) && self.seen.insert(idx) {
            self.out.push(Scored {
                idx,
                score,
                reason: reason(),
            });
        }
    }

    fn extend(&mut self, items: impl Iterator<Item = (u32, f32)>, reason: impl Fn() -> Reason) {
        for (idx, score) in items {
            if self.full() {
                break;
            }
            self.push(idx, score, &reason);
        }
    }
}

/// Popular items, from `category` first when given, then filled from the whole shop; when the
/// filter leaves the precomputed lists short, every allowed item is ranked by popularity.
pub fn popular(
    model: &Model,
    category: Option<&str>,
    k: usize,
    offset: usize,
    exclude: &dyn Allow,
) -> Vec<Scored> {
    let mut p = Picker::new(k + offset, exclude);
    if let Some(c) = category.and_then(|name| model.category_index(name)) {
        let name = model.category_name(c).to_owned();
        p.extend(model.category_popular(c), || Reason::Trending {
            category: name.clone(),
        });
    }
    let global = model.popular().map(|i| (i, model.popularity(i)));
    p.extend(global, || Reason::Popular);
    if !p.full() {
        let n = u32::try_from(model.n_items()).unwrap_or(u32::MAX);
        let mut rest: Vec<(u32, f32)> = (0..n)
            .filter(|&i| exclude.allows(i) && !p.seen.contains(&i))
            .map(|i| (i, model.popularity(i)))
            .collect();
        rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        p.extend(rest.into_iter(), || Reason::Popular);
    }
    p.out.into_iter().skip(offset).collect()
}

/// Refuses one item on top of another filter.
struct Besides<'a> {
    inner: &'a dyn Allow,
    item: u32,
}

impl Allow for Besides<'_> {
    fn allows(&self, idx: u32) -> bool {
        idx != self.item && self.inner.allows(idx)
    }
}

/// Items like `idx`: viewed together, then bought together, then popular in its category.
pub fn similar(model: &Model, idx: u32, k: usize, allow: &dyn Allow) -> Vec<Scored> {
    let exclude = Besides {
        inner: allow,
        item: idx,
    };
    let id = model.item_id(idx).to_owned();
    let mut p = Picker::new(k, &exclude);
    p.extend(model.co_view(idx), || Reason::ViewedTogether {
        item: id.clone(),
    });
    p.extend(model.co_buy(idx), || Reason::BoughtTogether {
        item: id.clone(),
    });
    if let Some(c) = model.item_category(idx) {
        let name = model.category_name(c).to_owned();
        p.extend(model.category_popular(c), || Reason::Trending {
            category: name.clone(),
        });
    }
    p.out
}

/// Items bought with `idx` (accessories, consumables), then viewed together, then popular in
/// its category.
pub fn bought_together(model: &Model, idx: u32, k: usize, allow: &dyn Allow) -> Vec<Scored> {
    let exclude = Besides {
        inner: allow,
        item: idx,
    };
    let id = model.item_id(idx).to_owned();
    let mut p = Picker::new(k, &exclude);
    p.extend(model.co_buy(idx), || Reason::BoughtTogether {
        item: id.clone(),
    });
    p.extend(model.co_view(idx), || Reason::ViewedTogether {
        item: id.clone(),
    });
    if let Some(c) = model.item_category(idx) {
        let name = model.category_name(c).to_owned();
        p.extend(model.category_popular(c), || Reason::Trending {
            category: name.clone(),
        });
    }
    p.out
}

/// Completes a cart: what is bought with its items (summed over the cart, explained by the cart
/// item with the strongest link), then `fill` (the personal ranking) for the rest.
pub fn complete_cart(
    model: &Model,
    cart: &[u32],
    k: usize,
    allow: &dyn Allow,
    fill: impl FnOnce(&dyn Allow, usize) -> Vec<Scored>,
) -> Vec<Scored> {
    let mut sums: std::collections::HashMap<u32, (f32, u32, f32)> =
        std::collections::HashMap::new();
    for &c in cart {
        for (j, w) in model.co_buy(c) {
            let e = sums.entry(j).or_insert((0.0, c, 0.0));
            e.0 += w;
            if w > e.2 {
                e.1 = c;
                e.2 = w;
            }
        }
    }
    let mut ranked: Vec<(u32, f32, u32)> =
        sums.into_iter().map(|(j, (s, c, _))| (j, s, c)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let in_cart: HashSet<u32> = cart.iter().copied().collect();
    let mut p = Picker::new(k, allow);
    for (j, score, because) in ranked {
        if !in_cart.contains(&j) {
            p.push(j, score, || Reason::BoughtTogether {
                item: model.item_id(because).to_owned(),
            });
        }
    }
    if !p.full() {
        let taken: HashSet<u32> = p.seen.iter().chain(cart).copied().collect();
        let rest = AlsoNot {
            inner: allow,
            not: &taken,
        };
        let more = fill(&rest, k - p.out.len());
        p.out.extend(more);
    }
    p.out
}

/// A filter that also refuses a set.
pub struct AlsoNot<'a> {
    pub inner: &'a dyn Allow,
    pub not: &'a HashSet<u32>,
}

impl Allow for AlsoNot<'_> {
    fn allows(&self, idx: u32) -> bool {
        !self.not.contains(&idx) && self.inner.allows(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture;

    fn model() -> Model {
        Model::load(fixture().encode().unwrap()).unwrap()
    }

    fn ids(m: &Model, s: &[Scored]) -> Vec<String> {
        s.iter().map(|x| m.item_id(x.idx).to_owned()).collect()
    }

    #[test]
    fn popular_global_and_paged() {
        let m = model();
        let none = HashSet::new();
        assert_eq!(
            ids(&m, &popular(&m, None, 3, 0, &none)),
            ["mouse-1", "phone-1", "laptop-1"]
        );
        assert_eq!(
            ids(&m, &popular(&m, None, 2, 1, &none)),
            ["phone-1", "laptop-1"]
        );
        assert_eq!(popular(&m, None, 3, 0, &none)[0].reason, Reason::Popular);
    }

    #[test]
    fn popular_category_first_then_fills() {
        let m = model();
        let r = popular(&m, Some("computers.notebook"), 4, 0, &HashSet::new());
        assert_eq!(ids(&m, &r), ["laptop-1", "laptop-2", "mouse-1", "phone-1"]);
        assert_eq!(
            r[0].reason,
            Reason::Trending {
                category: "computers.notebook".into()
            }
        );
        assert_eq!(r[2].reason, Reason::Popular);
        // An unknown category falls back to the whole shop.
        let r = popular(&m, Some("no-such"), 2, 0, &HashSet::new());
        assert_eq!(ids(&m, &r), ["mouse-1", "phone-1"]);
    }

    #[test]
    fn exclusions_hold() {
        let m = model();
        let r = popular(&m, None, 10, 0, &HashSet::from([2]));
        assert!(!ids(&m, &r).contains(&"mouse-1".to_owned()));
        assert_eq!(r.len(), 4);
    }

    #[test]
    fn bought_together_and_cart_completion_prefer_co_purchases() {
        let m = model();
        let none = HashSet::new();
        for idx in 0..u32::try_from(m.n_items()).unwrap() {
            let r = bought_together(&m, idx, 3, &none);
            assert!(r.iter().all(|s| s.idx != idx));
            let bought: Vec<u32> = m.co_buy(idx).map(|x| x.0).collect();
            if let Some(&first) = bought.first() {
                assert_eq!(r[0].idx, first);
                assert!(matches!(r[0].reason, Reason::BoughtTogether { .. }));
            }
        }
        let cart = [0u32];
        let r = complete_cart(&m, &cart, 4, &none, |allow, n| {
            popular(&m, None, n, 0, allow)
        });
        assert_eq!(r.len(), 4);
        assert!(r.iter().all(|s| s.idx != 0));
        let distinct: HashSet<u32> = r.iter().map(|s| s.idx).collect();
        assert_eq!(distinct.len(), 4);
        let bought: Vec<u32> = m.co_buy(0).map(|x| x.0).collect();
        if let Some(&first) = bought.first() {
            assert_eq!(r[0].idx, first);
        }
    }

    #[test]
    fn similar_uses_covisitation_then_falls_back() {
        let m = model();
        let none = HashSet::new();
        let r = similar(&m, 0, 3, &none);
        assert_eq!(ids(&m, &r), ["laptop-2", "mouse-1"]);
        assert_eq!(
            r[0].reason,
            Reason::ViewedTogether {
                item: "laptop-1".into()
            }
        );
        let r = similar(&m, 3, 5, &none);
        assert_eq!(ids(&m, &r), ["mouse-1"]);
        let out = crate::api::ItemOut::describe(&m, r);
        assert_eq!(out[0].title, "Wireless Mouse");
        assert_eq!(out[0].brand, "zenit");
    }
}
