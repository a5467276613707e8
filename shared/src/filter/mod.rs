//! Which items a widget may show: the common request filters (category subtree, brand, price
//! range, stock, explicit exclusions) checked per candidate inside ranking, so a filtered list
//! is still the best `k` that match rather than a short list cut from an unfiltered one.

use std::collections::HashSet;

use crate::artifact::Model;

/// Anything that decides per item whether it may be shown.
pub trait Allow {
    fn allows(&self, idx: u32) -> bool;
}

/// A plain exclusion set.
impl Allow for HashSet<u32> {
    fn allows(&self, idx: u32) -> bool {
        !self.contains(&idx)
    }
}

/// The request filters, resolved against one model.
#[derive(Clone)]
pub struct Filter<'m> {
    model: &'m Model,
    /// Allowed category indices (a category and its sub-categories); `None`: any.
    categories: Option<HashSet<u32>>,
    brand: Option<String>,
    min_price: Option<f32>,
    max_price: Option<f32>,
    in_stock: bool,
    pub exclude: HashSet<u32>,
    /// What else must allow an item: the merchandising hide rules in force (`crate::rules`).
    hidden: Option<&'m dyn Allow>,
}

pub mod fields;

pub use fields::{FIELDS, FieldKind, FilterField, FilterSpec};

impl FilterSpec {
    /// Resolves names against `model`; an unknown category or brand matches nothing.
    pub fn resolve<'m>(&self, model: &'m Model) -> Filter<'m> {
        let categories = self.category.as_deref().map(|c| {
            let prefix = format!("{c}.");
            (0..u32::try_from(model.n_categories()).unwrap_or(u32::MAX))
                .filter(|&i| {
                    let name = model.category_name(i);
                    name == c || name.starts_with(&prefix)
                })
                .collect()
        });
        Filter {
            model,
            categories,
            brand: self.brand.clone(),
            min_price: self.min_price,
            max_price: self.max_price,
            in_stock: self.in_stock,
            exclude: self
                .exclude
                .iter()
                .filter_map(|id| model.item_index(id))
                .collect(),
            hidden: None,
        }
    }
}

impl<'m> Filter<'m> {
    /// Also never show what a hide rule in `rules` removes.
    pub fn hide(&mut self, rules: &'m dyn Allow) {
        self.hidden = Some(rules);
    }

    /// Also never show these items.
    pub fn exclude(&mut self, items: impl IntoIterator<Item = u32>) {
        self.exclude.extend(items);
    }
}

impl std::fmt::Debug for Filter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("categories", &self.categories)
            .field("brand", &self.brand)
            .field("min_price", &self.min_price)
            .field("max_price", &self.max_price)
            .field("in_stock", &self.in_stock)
            .field("exclude", &self.exclude)
            .field("hidden", &self.hidden.is_some())
            .finish_non_exhaustive()
    }
}

impl Allow for Filter<'_> {
    fn allows(&self, idx: u32) -> bool {
        let m = self.model;
        if self.exclude.contains(&idx) || self.hidden.is_some_and(|r| !r.allows(idx)) {
            return false;
        }
        if let Some(cats) = &self.categories
            && !m.item_category(idx).is_some_and(|c| cats.contains(&c))
        {
            return false;
        }
        if let Some(b) = &self.brand
            && !m.item_brand(idx).eq_ignore_ascii_case(b)
        {
            return false;
        }
        let price = m.item_price(idx);
        if self.min_price.is_some_and(|p| price < p) || self.max_price.is_some_and(|p| price > p) {
            return false;
        }
        !self.in_stock || m.item_in_stock(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture;

    fn allowed(m: &Model, spec: &FilterSpec) -> Vec<String> {
        let f = spec.resolve(m);
        (0..u32::try_from(m.n_items()).unwrap())
            .filter(|&i| f.allows(i))
            .map(|i| m.item_id(i).to_owned())
            .collect()
    }

    #[test]
    fn each_filter_narrows_and_they_combine() {
        let m = Model::load(fixture().encode().unwrap()).unwrap();
        let all = allowed(&m, &FilterSpec::default());
        assert_eq!(all.len(), m.n_items());
        let laptops = allowed(
            &m,
            &FilterSpec {
                category: Some("computers.notebook".into()),
                ..FilterSpec::default()
            },
        );
        assert_eq!(laptops, ["laptop-1", "laptop-2"]);
        let subtree = allowed(
            &m,
            &FilterSpec {
                category: Some("computers".into()),
                ..FilterSpec::default()
            },
        );
        assert_eq!(subtree, ["laptop-1", "laptop-2", "mouse-1", "cable-1"]);
        let none = allowed(
            &m,
            &FilterSpec {
                category: Some("comp".into()),
                ..FilterSpec::default()
            },
        );
        assert!(none.is_empty(), "a prefix that is not a whole segment");
        let cheap = allowed(
            &m,
            &FilterSpec {
                max_price: Some(100.0),
                exclude: vec!["nope".into()],
                ..FilterSpec::default()
            },
        );
        assert!(cheap.iter().all(|id| {
            let i = m.item_index(id).unwrap();
            m.item_price(i) <= 100.0
        }));
        assert!(cheap.len() < all.len());
        let brand = allowed(
            &m,
            &FilterSpec {
                brand: Some("ZENIT".into()),
                exclude: vec!["mouse-1".into()],
                ..FilterSpec::default()
            },
        );
        assert!(!brand.contains(&"mouse-1".to_owned()));
        assert!(
            brand
                .iter()
                .all(|id| m.item_brand(m.item_index(id).unwrap()) == "zenit")
        );
    }
}
