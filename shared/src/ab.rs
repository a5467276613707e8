//! A/B tests: a configured split of shoppers between ranking strategies, deterministic per
//! shopper (a hash of the test name and the shopper key), so a shopper sees one variant on every
//! request and every edge location agrees without shared state.
//!
//! Configured with one string (the worker's `AB_TEST` variable):
//! `<test name>:<variant>=<weight>,<variant>=<weight>…`, where a variant's name is its strategy
//! (`blend`, `embedding`, `item_knn`, `popular`), e.g. `ranker-nov:blend=80,item_knn=20`.

use serde::Serialize;

use crate::artifact::Model;
use crate::personal::Blend;

/// How a variant ranks the for-you list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The model's tuned blend of embedding, co-visitation and popularity.
    Blend,
    /// The fold-in embedding score alone.
    Embedding,
    /// Co-visitation with the shopper's history alone (item-kNN).
    ItemKnn,
    /// Popular items only (no personalisation): the usual control.
    Popular,
}

impl Strategy {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "blend" => Some(Self::Blend),
            "embedding" => Some(Self::Embedding),
            "item_knn" => Some(Self::ItemKnn),
            "popular" => Some(Self::Popular),
            _ => None,
        }
    }

    /// The blend this strategy ranks with (`None`: popular only).
    pub fn blend(self, model: &Model) -> Option<Blend> {
        let tuned = Blend::of(model);
        match self {
            Self::Blend => Some(tuned),
            Self::Embedding => Some(Blend {
                embedding: 1.0,
                covisit: 0.0,
                popularity: 0.0,
                ..tuned
            }),
            Self::ItemKnn => Some(Blend {
                embedding: 0.0,
                covisit: 1.0,
                popularity: 0.0,
                ..tuned
            }),
            Self::Popular => None,
        }
    }
}

/// One arm of a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub strategy: Strategy,
    pub weight: u32,
}

/// A parsed test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbTest {
    pub name: String,
    pub variants: Vec<Variant>,
}

/// Why an `AB_TEST` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AbError {
    #[error("expected `<test>:<variant>=<weight>,…`, got `{0}`")]
    Shape(String),
    #[error("unknown strategy `{0}`; use blend, embedding, item_knn or popular")]
    Strategy(String),
    #[error("weight of `{0}` must be a whole number from 1 to 10000")]
    Weight(String),
    #[error("variant `{0}` is listed twice")]
    Duplicate(String),
}

/// The answer when no test runs.
pub const DEFAULT_VARIANT: &str = "default";

impl AbTest {
    /// Parses a configuration string; empty means no test.
    pub fn parse(s: &str) -> Result<Option<Self>, AbError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let (name, arms) = s.split_once(':').ok_or_else(|| AbError::Shape(s.into()))?;
        if name.trim().is_empty() || !crate::lake::is_safe_segment(name.trim()) {
            return Err(AbError::Shape(s.into()));
        }
        let mut variants: Vec<Variant> = Vec::new();
        for arm in arms.split(',') {
            let (v, w) = arm
                .trim()
                .split_once('=')
                .ok_or_else(|| AbError::Shape(s.into()))?;
            let strategy = Strategy::parse(v.trim()).ok_or_else(|| AbError::Strategy(v.into()))?;
            let weight = w
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|w| (1..=10_000).contains(w))
                .ok_or_else(|| AbError::Weight(v.into()))?;
            if variants.iter().any(|x| x.name == v.trim()) {
                return Err(AbError::Duplicate(v.into()));
            }
            variants.push(Variant {
                name: v.trim().to_owned(),
                strategy,
                weight,
            });
        }
        Ok(Some(Self {
            name: name.trim().to_owned(),
            variants,
        }))
    }

    /// The variant of a shopper: stable for the same test name and shopper.
    pub fn assign(&self, shopper_key: &str) -> &Variant {
        let total: u64 = self.variants.iter().map(|v| u64::from(v.weight)).sum();
        let mut point =
            crate::hash::fnv1a(&format!("{}\u{0}{shopper_key}", self.name)) % total.max(1);
        for v in &self.variants {
            if point < u64::from(v.weight) {
                return v;
            }
            point -= u64::from(v.weight);
        }
        &self.variants[0]
    }
}

/// The variant name and strategy for a request: the test's assignment when a test runs and the
/// shopper is known, else the default blend.
pub fn variant_for(test: Option<&AbTest>, shopper_key: Option<&str>) -> (String, Strategy) {
    match (test, shopper_key) {
        (Some(t), Some(key)) => {
            let v = t.assign(key);
            (format!("{}:{}", t.name, v.name), v.strategy)
        }
        _ => (DEFAULT_VARIANT.to_owned(), Strategy::Blend),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_with_reasons() {
        let t = AbTest::parse("ranker-nov:blend=80, item_knn=20")
            .unwrap()
            .unwrap();
        assert_eq!(t.name, "ranker-nov");
        assert_eq!(t.variants.len(), 2);
        assert_eq!(t.variants[1].strategy, Strategy::ItemKnn);
        assert_eq!(AbTest::parse("  ").unwrap(), None);
        assert!(matches!(AbTest::parse("x"), Err(AbError::Shape(_))));
        assert!(matches!(
            AbTest::parse("t:magic=1"),
            Err(AbError::Strategy(_))
        ));
        assert!(matches!(
            AbTest::parse("t:blend=0"),
            Err(AbError::Weight(_))
        ));
        assert!(matches!(
            AbTest::parse("t:blend=1,blend=2"),
            Err(AbError::Duplicate(_))
        ));
    }

    #[test]
    fn assignment_is_stable_and_follows_the_weights() {
        let t = AbTest::parse("t1:blend=75,popular=25").unwrap().unwrap();
        let mut popular = 0;
        for i in 0..10_000 {
            let key = format!("a:shopper-{i}");
            let v = t.assign(&key);
            assert_eq!(v, t.assign(&key), "same shopper, same variant");
            if v.strategy == Strategy::Popular {
                popular += 1;
            }
        }
        assert!((2_200..2_800).contains(&popular), "{popular} of 10000");
        // Another test name reshuffles shoppers independently.
        let other = AbTest::parse("t2:blend=75,popular=25").unwrap().unwrap();
        let moved = (0..1000)
            .filter(|i| {
                let key = format!("a:shopper-{i}");
                t.assign(&key).name != other.assign(&key).name
            })
            .count();
        assert!(moved > 100, "{moved}");
        assert_eq!(
            variant_for(Some(&t), None),
            (DEFAULT_VARIANT.to_owned(), Strategy::Blend)
        );
        assert!(variant_for(Some(&t), Some("a:x")).0.starts_with("t1:"));
    }
}
