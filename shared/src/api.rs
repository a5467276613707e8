//! Request parameters and response bodies of the edge API, parsed and checked natively.
//!
//! Unknown or repeated query parameters are rejected, so a typo (`?catgory=`) is a 400 naming the
//! parameter rather than a silently ignored filter.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Code};
use crate::recommend::Reason;

/// Default and largest number of items per response.
pub const DEFAULT_K: usize = 10;
pub const MAX_K: usize = 100;
pub const MAX_OFFSET: usize = 1000;

/// Decoded query parameters, checked against what a route accepts.
#[derive(Debug, Clone)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Checks that every parameter is one of `allowed` and none repeats.
    pub fn new(pairs: Vec<(String, String)>, allowed: &[&str]) -> Result<Self, ApiError> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::new(
                    Code::UnknownParameter,
                    format!(
                        "unknown parameter `{name}`; allowed: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::invalid_param(name, "is given more than once"));
            }
        }
        Ok(Self { pairs })
    }

    /// The raw value of a parameter; empty values count as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A whole number in `min..=max`, or `default` when absent.
    pub fn usize_in(
        &self,
        name: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        name,
                        &format!("must be a whole number from {min} to {max}"),
                    )
                }),
        }
    }

    /// An id-like string of at most 128 characters.
    pub fn id(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v)
                if v.chars().count() > crate::event::MAX_ID_LEN
                    || v.chars().any(char::is_control) =>
            {
                Err(ApiError::invalid_param(
                    name,
                    "must be at most 128 printable characters",
                ))
            }
            Some(v) => Ok(Some(v.to_owned())),
        }
    }

    /// A comma-separated list of at most `max` ids (empty when absent).
    pub fn id_list(&self, name: &str, max: usize) -> Result<Vec<String>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(Vec::new());
        };
        let ids: Vec<String> = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if ids.len() > max {
            return Err(ApiError::invalid_param(
                name,
                &format!("lists at most {max} ids"),
            ));
        }
        if ids.iter().any(|id| {
            id.chars().count() > crate::event::MAX_ID_LEN || id.chars().any(char::is_control)
        }) {
            return Err(ApiError::invalid_param(
                name,
                "ids must be at most 128 printable characters",
            ));
        }
        Ok(ids)
    }
}

/// Most context items a request may name.
pub const MAX_CONTEXT: usize = 50;

/// `GET /v1/recommendations`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecommendQuery {
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub category: Option<String>,
    /// Items the shopper is looking at or just saw, most recent first (`context=a,b,c`): folded
    /// into the user vector on this request.
    pub context: Vec<String>,
    pub k: usize,
    pub offset: usize,
}

impl RecommendQuery {
    pub const PARAMS: &'static [&'static str] = &[
        "user_id",
        "anonymous_id",
        "category",
        "context",
        "k",
        "offset",
    ];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, Self::PARAMS)?;
        Ok(Self {
            user_id: q.id("user_id")?,
            anonymous_id: q.id("anonymous_id")?,
            category: q.id("category")?,
            context: q.id_list("context", MAX_CONTEXT)?,
            k: q.usize_in("k", DEFAULT_K, 1, MAX_K)?,
            offset: q.usize_in("offset", 0, 0, MAX_OFFSET)?,
        })
    }
}

/// `GET /v1/items/{id}/similar`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimilarQuery {
    pub k: usize,
}

impl SimilarQuery {
    pub const PARAMS: &'static [&'static str] = &["k"];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, Self::PARAMS)?;
        Ok(Self {
            k: q.usize_in("k", DEFAULT_K, 1, MAX_K)?,
        })
    }
}

/// `GET /v1/admin/lake`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeListQuery {
    pub prefix: String,
    pub cursor: Option<String>,
}

impl LakeListQuery {
    pub const PARAMS: &'static [&'static str] = &["prefix", "cursor"];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, Self::PARAMS)?;
        let prefix = q.get("prefix").unwrap_or("raw/").to_owned();
        if !prefix.starts_with("raw/") {
            return Err(ApiError::invalid_param("prefix", "must start with `raw/`"));
        }
        Ok(Self {
            prefix,
            cursor: q.get("cursor").map(str::to_owned),
        })
    }
}

/// One recommended item with its product fields and why it was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemOut {
    pub id: String,
    pub score: f32,
    pub title: String,
    pub category: String,
    pub brand: String,
    pub price: f32,
    pub in_stock: bool,
    pub reason: Reason,
}

/// The answer of every recommendation endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecommendResponse {
    pub serve_id: String,
    pub model_version: String,
    pub variant: String,
    pub took_ms: f64,
    pub items: Vec<ItemOut>,
}

/// One object in an admin lake listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeObject {
    pub key: String,
    pub size: u64,
    pub etag: String,
}

/// `GET /v1/admin/lake` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LakeListing {
    pub objects: Vec<LakeObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// Checks an `Authorization: Bearer <key>` header against the configured admin key.
///
/// With no admin key configured the admin API is off (403); a missing or wrong key is 401.
pub fn check_admin(header: Option<&str>, configured: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = configured.filter(|k| !k.is_empty()) else {
        return Err(ApiError::new(
            Code::Forbidden,
            "the admin API is disabled: set the ADMIN_KEY secret",
        ));
    };
    let given = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Unauthorized,
            "a valid admin key is required: Authorization: Bearer <key>",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn recommend_defaults_and_values() {
        let q = RecommendQuery::parse(pairs(&[])).unwrap();
        assert_eq!((q.k, q.offset, q.user_id), (DEFAULT_K, 0, None));
        let q = RecommendQuery::parse(pairs(&[
            ("user_id", "u1"),
            ("k", "5"),
            ("category", "audio"),
        ]))
        .unwrap();
        assert_eq!(
            (q.k, q.user_id.as_deref(), q.category.as_deref()),
            (5, Some("u1"), Some("audio"))
        );
    }

    #[test]
    fn bad_params_name_the_param() {
        for (name, value) in [("k", "0"), ("k", "101"), ("k", "ten"), ("offset", "-1")] {
            let e = RecommendQuery::parse(pairs(&[(name, value)])).unwrap_err();
            assert_eq!(e.code, Code::InvalidParameter);
            assert!(e.message.contains(&format!("`{name}`")), "{}", e.message);
        }
        let e = RecommendQuery::parse(pairs(&[("catgory", "x")])).unwrap_err();
        assert_eq!(e.code, Code::UnknownParameter);
        assert!(e.message.contains("catgory"));
        let e = RecommendQuery::parse(pairs(&[("k", "1"), ("k", "2")])).unwrap_err();
        assert!(e.message.contains("more than once"));
        let long = "u".repeat(200);
        assert!(RecommendQuery::parse(pairs(&[("user_id", &long)])).is_err());
    }

    #[test]
    fn context_lists_are_checked() {
        let q = RecommendQuery::parse(pairs(&[("context", "a, b,,c")])).unwrap();
        assert_eq!(q.context, ["a", "b", "c"]);
        let many = vec!["x"; MAX_CONTEXT + 1].join(",");
        let e = RecommendQuery::parse(pairs(&[("context", &many)])).unwrap_err();
        assert!(e.message.contains("`context`"), "{}", e.message);
    }

    #[test]
    fn lake_listing_is_limited_to_raw() {
        assert_eq!(LakeListQuery::parse(pairs(&[])).unwrap().prefix, "raw/");
        assert!(LakeListQuery::parse(pairs(&[("prefix", "models/")])).is_err());
    }

    #[test]
    fn admin_key_checks() {
        assert_eq!(check_admin(Some("Bearer s3cret"), Some("s3cret")), Ok(()));
        assert_eq!(
            check_admin(Some("Bearer nope"), Some("s3cret"))
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(check_admin(None, Some("s3cret")).unwrap_err().status(), 401);
        assert_eq!(
            check_admin(Some("s3cret"), Some("s3cret"))
                .unwrap_err()
                .status(),
            401
        );
        assert_eq!(
            check_admin(Some("Bearer x"), None).unwrap_err().status(),
            403
        );
        assert_eq!(
            check_admin(Some("Bearer "), Some("")).unwrap_err().status(),
            403
        );
    }
}
