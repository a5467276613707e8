//! The common filter fields, declared once: [`filter_fields!`] below writes the [`FilterSpec`]
//! struct (the JSON bodies' field names through serde) and the [`FIELDS`] table (name, type,
//! description) from one list. The table drives query-string parsing ([`FilterSpec::from_query`]),
//! the parameter allow-lists of every route, and the OpenAPI parameters and the README table,
//! which a golden test regenerates and compares (`shared/tests/filter_docs.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Most ids in `exclude`.
pub const MAX_EXCLUDE: usize = 200;
/// Longest id, characters.
const MAX_ID_CHARS: usize = 128;

/// How a field's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An id-like string of at most 128 printable characters.
    Id,
    /// A number ≥ 0.
    Price,
    /// `true` or `false` (query strings also take `1` and `0`).
    Flag,
    /// Ids: comma-separated in a query string, an array in a JSON body; at most [`MAX_EXCLUDE`].
    IdList,
}

/// One filter field as the API documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterField {
    pub name: &'static str,
    pub kind: FieldKind,
    pub description: &'static str,
}

macro_rules! filter_fields {
    ($( #[doc = $doc:literal] $name:ident : $ty:ty = $kind:expr ),* $(,)?) => {
        /// Filter settings as the API takes them (names, not indices); an empty spec filters
        /// nothing.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct FilterSpec {
            $( #[doc = $doc] pub $name: $ty, )*
        }

        /// Every filter field, in documentation order.
        pub const FIELDS: &[FilterField] = &[
            $( FilterField { name: stringify!($name), kind: $kind, description: $doc.trim_ascii() }, )*
        ];
    };
}

filter_fields! {
    /// Only this category and its sub-categories (dot-separated segments: `computers` includes `computers.notebook`; a prefix that is not a whole segment matches nothing). An unknown category matches nothing.
    category: Option<String> = FieldKind::Id,
    /// Only this brand (ASCII case-insensitive).
    brand: Option<String> = FieldKind::Id,
    /// Lowest price, inclusive; must not be greater than `max_price`.
    min_price: Option<f32> = FieldKind::Price,
    /// Highest price, inclusive.
    max_price: Option<f32> = FieldKind::Price,
    /// Only items in stock.
    in_stock: bool = FieldKind::Flag,
    /// Item ids never to show (at most 200).
    exclude: Vec<String> = FieldKind::IdList,
}

impl FilterField {
    /// What a valid value looks like, for error messages.
    pub fn expectation(&self) -> &'static str {
        match self.kind {
            FieldKind::Id => "must be at most 128 printable characters",
            FieldKind::Price => "must be a number ≥ 0",
            FieldKind::Flag => "must be true or false",
            FieldKind::IdList => "must list at most 200 ids of at most 128 printable characters",
        }
    }

    /// A query-string value as the JSON value the struct field takes.
    fn parse_text(&self, v: &str) -> Result<Value, ApiError> {
        let bad = || ApiError::invalid_param(self.name, self.expectation());
        Ok(match self.kind {
            FieldKind::Id => Value::String(v.to_owned()),
            FieldKind::Price => {
                let p: f64 = v.trim().parse().map_err(|_| bad())?;
                serde_json::Number::from_f64(p)
                    .map(Value::Number)
                    .ok_or_else(bad)?
            }
            FieldKind::Flag => match v {
                "true" | "1" => Value::Bool(true),
                "false" | "0" => Value::Bool(false),
                _ => return Err(bad()),
            },
            FieldKind::IdList => Value::Array(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_owned()))
                    .collect(),
            ),
        })
    }
}

fn bad_id(s: &str) -> bool {
    s.chars().count() > MAX_ID_CHARS || s.chars().any(char::is_control)
}

impl FilterSpec {
    /// The field names, for a route's parameter allow-list.
    pub fn names() -> impl Iterator<Item = &'static str> {
        FIELDS.iter().map(|f| f.name)
    }

    /// `own` followed by every filter field: the parameters a filtered route accepts.
    pub fn with_params(own: &[&'static str]) -> Vec<&'static str> {
        own.iter().copied().chain(Self::names()).collect()
    }

    /// Parses the filter fields of a query string (`get` returns a parameter's value, empty
    /// values count as absent) and checks them.
    pub fn from_query<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Self, ApiError> {
        let mut map = Map::new();
        for f in FIELDS {
            if let Some(v) = get(f.name) {
                map.insert(f.name.to_owned(), f.parse_text(v)?);
            }
        }
        let spec: Self = serde_json::from_value(Value::Object(map))
            .map_err(|e| ApiError::invalid_param("filter", &e.to_string()))?;
        spec.check()
            .map_err(|(name, why)| ApiError::invalid_param(name, why))?;
        Ok(spec)
    }

    /// Takes the filter fields out of a JSON object (a widget, a cart request), leaving the rest
    /// for the caller's own fields. Type errors are the JSON's; call [`Self::check`] for values.
    pub fn take_json(object: &mut Map<String, Value>) -> Result<Self, serde_json::Error> {
        let mut mine = Map::new();
        for f in FIELDS {
            if let Some(v) = object.remove(f.name) {
                mine.insert(f.name.to_owned(), v);
            }
        }
        serde_json::from_value(Value::Object(mine))
    }

    /// Checks values: prices finite and ≥ 0, `min_price` ≤ `max_price`, ids bounded and
    /// printable. On failure, the field and what is wrong with it.
    pub fn check(&self) -> Result<(), (&'static str, &'static str)> {
        for (name, p) in [("min_price", self.min_price), ("max_price", self.max_price)] {
            if p.is_some_and(|p| !(p.is_finite() && p >= 0.0)) {
                return Err((name, "must be a number ≥ 0"));
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_price, self.max_price)
            && lo > hi
        {
            return Err(("min_price", "must not be greater than max_price"));
        }
        for (name, v) in [("category", &self.category), ("brand", &self.brand)] {
            if v.as_deref().is_some_and(bad_id) {
                return Err((name, "must be at most 128 printable characters"));
            }
        }
        if self.exclude.len() > MAX_EXCLUDE || self.exclude.iter().any(|id| bad_id(id)) {
            return Err((
                "exclude",
                "must list at most 200 ids of at most 128 printable characters",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_struct_agree() {
        let spec = FilterSpec {
            category: Some("c".into()),
            brand: Some("b".into()),
            min_price: Some(1.0),
            max_price: Some(2.0),
            in_stock: true,
            exclude: vec!["x".into()],
        };
        let json = serde_json::to_value(&spec).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: Vec<&str> = FilterSpec::names().collect();
        names.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, names);
        assert!(FIELDS.iter().all(|f| !f.description.is_empty()));
    }

    #[test]
    fn query_and_json_parse_to_the_same_spec() {
        let pairs = [
            ("category", "computers"),
            ("min_price", "10"),
            ("in_stock", "1"),
            ("exclude", "a, b,"),
        ];
        let q =
            FilterSpec::from_query(|n| pairs.iter().find(|(k, _)| *k == n).map(|p| p.1)).unwrap();
        let mut obj =
            serde_json::json!({"category": "computers", "min_price": 10, "in_stock": true,
            "exclude": ["a", "b"], "k": 3})
            .as_object()
            .cloned()
            .unwrap();
        let j = FilterSpec::take_json(&mut obj).unwrap();
        assert_eq!(q, j);
        assert_eq!(obj.keys().collect::<Vec<_>>(), ["k"]);
    }

    #[test]
    fn bad_values_name_their_field() {
        for (pairs, field) in [
            (vec![("min_price", "20"), ("max_price", "10")], "min_price"),
            (vec![("min_price", "NaN")], "min_price"),
            (vec![("max_price", "-1")], "max_price"),
            (vec![("in_stock", "yes")], "in_stock"),
        ] {
            let e = FilterSpec::from_query(|n| pairs.iter().find(|(k, _)| *k == n).map(|p| p.1))
                .unwrap_err();
            assert!(e.message.contains(field), "{}", e.message);
        }
    }
}
