//! Scoring: turns a loaded [`Model`] and a request into ranked items with reasons.
//!
//! The same functions run in the worker and in the trainer's evaluation, so offline figures
//! describe what shoppers get.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::api::ItemOut;
use crate::artifact::Model;

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
}

/// A ranked item.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub idx: u32,
    pub score: f32,
    pub reason: Reason,
}

/// Collects distinct items up to `limit`, skipping excluded ones.
struct Picker<'a> {
    out: Vec<Scored>,
    seen: HashSet<u32>,
    exclude: &'a HashSet<u32>,
    limit: usize,
}

impl<'a> Picker<'a> {
    fn new(limit: usize, exclude: &'a HashSet<u32>) -> Self {
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
        if !self.full() && !self.exclude.contains(&idx) && self.seen.insert(idx) {
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

/// Popular items, from `category` first when given, then filled from the whole shop.
pub fn popular(
    model: &Model,
    category: Option<&str>,
    k: usize,
    offset: usize,
    exclude: &HashSet<u32>,
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
    p.out.into_iter().skip(offset).collect()
}

/// Items like `idx`: viewed together, then bought together, then popular in its category.
pub fn similar(model: &Model, idx: u32, k: usize) -> Vec<Scored> {
    let exclude = HashSet::from([idx]);
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

/// Product fields for the response.
pub fn describe(model: &Model, scored: Vec<Scored>) -> Vec<ItemOut> {
    scored
        .into_iter()
        .map(|s| ItemOut {
            id: model.item_id(s.idx).to_owned(),
            score: s.score,
            title: model.item_title(s.idx).to_owned(),
            category: model.item_category_name(s.idx).to_owned(),
            brand: model.item_brand(s.idx).to_owned(),
            price: model.item_price(s.idx),
            in_stock: model.item_in_stock(s.idx),
            reason: s.reason,
        })
        .collect()
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
    fn similar_uses_covisitation_then_falls_back() {
        let m = model();
        let r = similar(&m, 0, 3);
        assert_eq!(ids(&m, &r), ["laptop-2", "mouse-1"]);
        assert_eq!(
            r[0].reason,
            Reason::ViewedTogether {
                item: "laptop-1".into()
            }
        );
        let r = similar(&m, 3, 5);
        assert_eq!(ids(&m, &r), ["mouse-1"]);
        let out = describe(&m, r);
        assert_eq!(out[0].title, "Wireless Mouse");
        assert_eq!(out[0].brand, "zenit");
    }
}
