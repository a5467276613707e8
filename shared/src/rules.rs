//! Merchandising rules: pin an item to a position, boost or hide an item or a whole category,
//! each optionally within a validity window.
//!
//! The shop edits one JSON document (`PUT /v1/admin/rules`, stored in the models bucket); the edge
//! caches it beside the model and applies it to every widget. Parsing and validation happen here,
//! so a bad document is a 400 naming the rule, never a half-applied set.

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::error::{ApiError, Code};
use crate::filter::Allow;

/// Where the rules document lives in the models bucket.
pub use crate::lake::RULES_KEY;
/// Most rules in one document.
pub const MAX_RULES: usize = 500;
/// Largest accepted document, bytes.
pub const MAX_RULES_BYTES: usize = 256 * 1024;

/// What a rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Put the item at `position` (1-based) when the widget may show it.
    Pin,
    /// Multiply the score by `factor`.
    Boost,
    /// Never show.
    Hide,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// A category and its sub-categories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f32>,
    /// Epoch milliseconds; inactive before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<i64>,
    /// Epoch milliseconds; inactive from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<i64>,
}

/// The rules document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

fn bad(rule: usize, why: &str) -> ApiError {
    ApiError::new(Code::InvalidParameter, format!("rules[{rule}]: {why}"))
}

impl RuleSet {
    /// Parses and validates a document.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_RULES_BYTES {
            return Err(ApiError::new(
                Code::PayloadTooLarge,
                format!("the rules document is larger than {MAX_RULES_BYTES} bytes"),
            ));
        }
        let set: Self = serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                Code::InvalidJson,
                format!("rules document is not valid: {e}"),
            )
        })?;
        if set.rules.len() > MAX_RULES {
            return Err(ApiError::invalid_param(
                "rules",
                &format!("lists at most {MAX_RULES} rules"),
            ));
        }
        for (i, r) in set.rules.iter().enumerate() {
            if !crate::lake::is_safe_segment(&r.id) {
                return Err(bad(i, "id must be 1-128 letters, digits, `-`, `_` or `.`"));
            }
            if set.rules[..i].iter().any(|o| o.id == r.id) {
                return Err(bad(i, "id is used twice"));
            }
            if r.item.is_some() == r.category.is_some() {
                return Err(bad(i, "name exactly one of `item` or `category`"));
            }
            match r.action {
                Action::Pin if r.item.is_none() => return Err(bad(i, "pin needs an `item`")),
                Action::Pin if !r.position.is_some_and(|p| (1..=100).contains(&p)) => {
                    return Err(bad(i, "pin needs a `position` from 1 to 100"));
                }
                Action::Boost if !r.factor.is_some_and(|f| f.is_finite() && f > 0.0) => {
                    return Err(bad(i, "boost needs a `factor` > 0"));
                }
                _ => {}
            }
            if let (Some(s), Some(e)) = (r.starts_at, r.ends_at)
                && s >= e
            {
                return Err(bad(i, "starts_at must be before ends_at"));
            }
        }
        Ok(set)
    }

    /// The rules in force at `now`, resolved against `model` (rules naming unknown items or
    /// categories do nothing).
    pub fn active<'m>(&self, model: &'m Model, now: i64) -> Active<'m> {
        let mut a = Active {
            model,
            hidden_items: Vec::new(),
            hidden_categories: Vec::new(),
            boosts: Vec::new(),
            pins: Vec::new(),
        };
        for r in &self.rules {
            if r.starts_at.is_some_and(|s| now < s) || r.ends_at.is_some_and(|e| now >= e) {
                continue;
            }
            let target = match (&r.item, &r.category) {
                (Some(item), _) => match model.item_index(item) {
                    Some(i) => Target::Item(i),
                    None => continue,
                },
                (None, Some(c)) => Target::Category(c.clone()),
                (None, None) => continue,
            };
            match (r.action, target) {
                (Action::Hide, Target::Item(i)) => a.hidden_items.push(i),
                (Action::Hide, Target::Category(c)) => a.hidden_categories.push(c),
                (Action::Boost, t) => a.boosts.push((t, r.factor.unwrap_or(1.0), r.id.clone())),
                (Action::Pin, Target::Item(i)) => {
                    a.pins.push((i, r.position.unwrap_or(1), r.id.clone()));
                }
                (Action::Pin, Target::Category(_)) => {}
            }
        }
        a.pins.sort_by_key(|p| p.1);
        a
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Item(u32),
    Category(String),
}

/// Rules in force for one request.
#[derive(Debug, Clone)]
pub struct Active<'m> {
    model: &'m Model,
    hidden_items: Vec<u32>,
    hidden_categories: Vec<String>,
    boosts: Vec<(Target, f32, String)>,
    /// `(item, 1-based position, rule id)`, by position.
    pins: Vec<(u32, usize, String)>,
}

fn in_category(model: &Model, idx: u32, c: &str) -> bool {
    let name = model.item_category_name(idx);
    name == c
        || name
            .strip_prefix(c)
            .is_some_and(|rest| rest.starts_with('.'))
}

impl Active<'_> {
    /// Whether any rule changes ranking (beyond hiding).
    pub fn reorders(&self) -> bool {
        !self.boosts.is_empty() || !self.pins.is_empty()
    }

    /// Whether a hide rule removes `idx`.
    pub fn hides(&self, idx: u32) -> bool {
        self.hidden_items.contains(&idx)
            || self
                .hidden_categories
                .iter()
                .any(|c| in_category(self.model, idx, c))
    }

    /// The boost factor for `idx` and the rule that gave it (the strongest applies).
    pub fn boost(&self, idx: u32) -> Option<(f32, &str)> {
        self.boosts
            .iter()
            .filter(|(t, _, _)| match t {
                Target::Item(i) => *i == idx,
                Target::Category(c) => in_category(self.model, idx, c),
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(_, f, id)| (*f, id.as_str()))
    }

    /// Pinned items with their 1-based positions, by position.
    pub fn pins(&self) -> impl Iterator<Item = (u32, usize, &str)> {
        self.pins.iter().map(|(i, p, id)| (*i, *p, id.as_str()))
    }
}

/// A filter with the hide rules on top.
pub struct Unhidden<'a, 'm> {
    pub inner: &'a dyn Allow,
    pub rules: &'a Active<'m>,
}

/// The hide rules as a filter takes them: an item is allowed unless a rule hides it.
impl Allow for Active<'_> {
    fn allows(&self, idx: u32) -> bool {
        !self.hides(idx)
    }
}

impl Allow for Unhidden<'_, '_> {
    fn allows(&self, idx: u32) -> bool {
        !self.rules.hides(idx) && self.inner.allows(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture;

    fn model() -> Model {
        Model::load(fixture().encode().unwrap()).unwrap()
    }

    #[test]
    fn validation_names_the_rule() {
        let err = |body: &str| RuleSet::parse(body.as_bytes()).unwrap_err().message;
        assert!(err(r#"{"rules":[{"id":"a","action":"pin","item":"x"}]}"#).contains("rules[0]"));
        assert!(
            err(r#"{"rules":[{"id":"a","action":"hide","item":"x","category":"y"}]}"#)
                .contains("exactly one")
        );
        assert!(
            err(r#"{"rules":[{"id":"a","action":"boost","category":"y","factor":-1}]}"#)
                .contains("factor")
        );
        assert!(
            err(r#"{"rules":[{"id":"a","action":"hide","item":"x","starts_at":5,"ends_at":5}]}"#)
                .contains("before")
        );
        assert!(err(r#"{"rules":[{"id":"a","action":"hide","item":"x"},{"id":"a","action":"hide","item":"y"}]}"#).contains("rules[1]"));
        assert_eq!(
            RuleSet::parse(b"{\"rulez\":[]}").unwrap_err().code,
            Code::InvalidJson
        );
    }

    #[test]
    fn windows_decide_what_is_active() {
        let m = model();
        let set = RuleSet::parse(
            br#"{"rules":[
              {"id":"sale","action":"boost","category":"computers.accessories","factor":3,"starts_at":100,"ends_at":200},
              {"id":"recall","action":"hide","item":"mouse-1"},
              {"id":"hero","action":"pin","item":"laptop-2","position":1,"ends_at":150}
            ]}"#,
        )
        .unwrap();
        let before = set.active(&m, 50);
        assert!(before.boost(3).is_none());
        assert!(before.hides(2));
        assert_eq!(before.pins().count(), 1);
        let during = set.active(&m, 160);
        assert_eq!(during.boost(3).map(|b| b.1), Some("sale"));
        assert!(during.boost(0).is_none());
        assert_eq!(during.pins().count(), 0, "the pin ended");
        assert!(!during.hides(0));
    }
}
