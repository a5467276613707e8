//! Request parameters and response bodies of the edge API, parsed and checked natively.
//!
//! Unknown or repeated query parameters are rejected, so a typo (`?catgory=`) is a 400 naming the
//! parameter rather than a silently ignored filter.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Code};
use crate::filter::FilterSpec;
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

    /// A price: a finite number ≥ 0.
    pub fn price(&self, name: &str) -> Result<Option<f32>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<f32>()
                .ok()
                .filter(|p| p.is_finite() && *p >= 0.0)
                .map(Some)
                .ok_or_else(|| ApiError::invalid_param(name, "must be a number ≥ 0")),
        }
    }

    /// A boolean flag: `true`/`1` or `false`/`0` (absent: false).
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1") => Ok(true),
            Some(_) => Err(ApiError::invalid_param(name, "must be true or false")),
        }
    }

    /// `diversity`: a number from 0 to 1 (absent: 0).
    pub fn diversity(&self) -> Result<f32, ApiError> {
        match self.get("diversity") {
            None => Ok(0.0),
            Some(v) => v
                .parse::<f32>()
                .ok()
                .filter(|d| (0.0..=1.0).contains(d))
                .ok_or_else(|| {
                    ApiError::invalid_param("diversity", "must be a number from 0 to 1")
                }),
        }
    }

    /// The common item filters of every recommendation widget.
    pub fn filter(&self) -> Result<FilterSpec, ApiError> {
        FilterSpec::from_query(|name| self.get(name))
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
pub use crate::filter::fields::MAX_EXCLUDE;

/// `GET /v1/recommendations` (and the shopper-scoped widgets): who, what they are looking at,
/// how many, and the common filters.
#[derive(Debug, Clone, PartialEq)]
pub struct RecommendQuery {
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The shop's signature of `user_id` (`crate::identity`).
    pub user_token: Option<String>,
    /// Items the shopper is looking at or just saw, most recent first (`context=a,b,c`): folded
    /// into the user vector on this request.
    pub context: Vec<String>,
    /// The recent session the storefront carries (`crate::carried`): answers an anonymous
    /// shopper without reading their Durable Object.
    pub session: Option<crate::carried::CarriedSession>,
    pub k: usize,
    pub offset: usize,
    pub filter: FilterSpec,
    /// Leave out what the shopper already bought.
    pub exclude_purchased: bool,
    /// 0 (pure relevance) to 1 (spread across categories and brands).
    pub diversity: f32,
}

impl RecommendQuery {
    /// Its own parameters; every filter field is accepted too.
    pub const PARAMS: &'static [&'static str] = &[
        "user_id",
        "anonymous_id",
        "user_token",
        "context",
        "session",
        "k",
        "offset",
        "exclude_purchased",
        "diversity",
    ];

    /// `GET /v1/recommendations/buy-again`: no context items.
    pub const BUY_AGAIN_PARAMS: &'static [&'static str] = &[
        "user_id",
        "anonymous_id",
        "user_token",
        "k",
        "offset",
        "diversity",
    ];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        Self::parse_with(pairs, Self::PARAMS)
    }

    /// Parses with a route's own parameter list (a subset of [`Self::PARAMS`]) and the filters.
    pub fn parse_with(
        pairs: Vec<(String, String)>,
        own: &[&'static str],
    ) -> Result<Self, ApiError> {
        let q = Query::new(pairs, &FilterSpec::with_params(own))?;
        Ok(Self {
            user_id: q.id("user_id")?,
            anonymous_id: q.id("anonymous_id")?,
            user_token: q.get("user_token").map(str::to_owned),
            context: q.id_list("context", MAX_CONTEXT)?,
            session: crate::carried::CarriedSession::parse_opt(q.get("session"))?,
            k: q.usize_in("k", DEFAULT_K, 1, MAX_K)?,
            offset: q.usize_in("offset", 0, 0, MAX_OFFSET)?,
            filter: q.filter()?,
            exclude_purchased: q.flag("exclude_purchased")?,
            diversity: q.diversity()?,
        })
    }
}

/// `GET /v1/items/{id}/similar` and `/bought-together`: how many, and the filters.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarQuery {
    pub k: usize,
    pub filter: FilterSpec,
    pub diversity: f32,
}

impl SimilarQuery {
    /// Its own parameters; every filter field is accepted too.
    pub const PARAMS: &'static [&'static str] = &["k", "diversity"];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, &FilterSpec::with_params(Self::PARAMS))?;
        Ok(Self {
            k: q.usize_in("k", DEFAULT_K, 1, MAX_K)?,
            filter: q.filter()?,
            diversity: q.diversity()?,
        })
    }
}

/// `GET /v1/trending`: popular now, in a category when given.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingQuery {
    pub k: usize,
    pub offset: usize,
    pub filter: FilterSpec,
    pub diversity: f32,
}

impl TrendingQuery {
    /// Its own parameters; every filter field is accepted too.
    pub const PARAMS: &'static [&'static str] = &["k", "offset", "diversity"];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, &FilterSpec::with_params(Self::PARAMS))?;
        Ok(Self {
            k: q.usize_in("k", DEFAULT_K, 1, MAX_K)?,
            offset: q.usize_in("offset", 0, 0, MAX_OFFSET)?,
            filter: q.filter()?,
            diversity: q.diversity()?,
        })
    }
}

/// `POST /v1/cart/recommendations` body: complete the cart from its items, with the filter
/// fields beside its own.
#[derive(Debug, Clone, PartialEq)]
pub struct CartRequest {
    pub items: Vec<String>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The shop's signature of `user_id` (`crate::identity`).
    pub user_token: Option<String>,
    pub k: Option<usize>,
    pub filter: FilterSpec,
    pub diversity: f32,
}

/// The cart body's own fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CartOwn {
    items: Vec<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    anonymous_id: Option<String>,
    #[serde(default)]
    user_token: Option<String>,
    #[serde(default)]
    k: Option<usize>,
    #[serde(default)]
    diversity: f32,
}

impl CartRequest {
    /// Parses and checks a body.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        let invalid = |e: serde_json::Error| {
            ApiError::new(Code::InvalidJson, format!("cart request is not valid: {e}"))
        };
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(invalid)?;
        let filter = FilterSpec::take_json(&mut object).map_err(invalid)?;
        let own: CartOwn =
            serde_json::from_value(serde_json::Value::Object(object)).map_err(invalid)?;
        let r = Self {
            items: own.items,
            user_id: own.user_id,
            anonymous_id: own.anonymous_id,
            user_token: own.user_token,
            k: own.k,
            filter,
            diversity: own.diversity,
        };
        if r.items.is_empty() || r.items.len() > MAX_CONTEXT {
            return Err(ApiError::invalid_param(
                "items",
                &format!("must list 1 to {MAX_CONTEXT} item ids"),
            ));
        }
        if r.k.is_some_and(|k| !(1..=MAX_K).contains(&k)) {
            return Err(ApiError::invalid_param(
                "k",
                &format!("must be a whole number from 1 to {MAX_K}"),
            ));
        }
        if !(0.0..=1.0).contains(&r.diversity) {
            return Err(ApiError::invalid_param(
                "diversity",
                "must be a number from 0 to 1",
            ));
        }
        r.filter
            .check()
            .map_err(|(name, why)| ApiError::invalid_param(name, why))?;
        Ok(r)
    }

    pub fn filter(&self) -> FilterSpec {
        self.filter.clone()
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
    /// What the admin API may list: the raw zone, GDPR requests and receipts, the audit log.
    pub const PREFIXES: &'static [&'static str] = crate::lake::ADMIN_READABLE;

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, Self::PARAMS)?;
        let prefix = q.get("prefix").unwrap_or(crate::lake::RAW).to_owned();
        if !Self::PREFIXES.iter().any(|p| prefix.starts_with(p)) {
            return Err(ApiError::invalid_param(
                "prefix",
                "must start with `raw/`, `gdpr/` or `audit/`",
            ));
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f32>,
    pub reason: Reason,
}

impl ItemOut {
    /// Product fields for the response, in ranking order.
    pub fn describe(
        model: &crate::artifact::Model,
        scored: Vec<crate::recommend::Scored>,
    ) -> Vec<Self> {
        scored
            .into_iter()
            .map(|s| Self {
                id: model.item_id(s.idx).to_owned(),
                score: s.score,
                title: model.item_title(s.idx).to_owned(),
                category: model.item_category_name(s.idx).to_owned(),
                brand: model.item_brand(s.idx).to_owned(),
                price: model.item_price(s.idx),
                in_stock: model.item_in_stock(s.idx),
                rating: model.item_rating(s.idx),
                reason: s.reason,
            })
            .collect()
    }
}

/// `GET /v1/items/{id}`: one product as the model knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub category: String,
    pub brand: String,
    pub price: f32,
    pub in_stock: bool,
    /// Average review rating, when the catalog has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f32>,
}

impl Product {
    pub fn of(model: &crate::artifact::Model, idx: u32) -> Self {
        Self {
            id: model.item_id(idx).to_owned(),
            title: model.item_title(idx).to_owned(),
            category: model.item_category_name(idx).to_owned(),
            brand: model.item_brand(idx).to_owned(),
            price: model.item_price(idx),
            in_stock: model.item_in_stock(idx),
            rating: model.item_rating(idx),
        }
    }
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

use crate::hash::constant_time_eq;

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
            (q.k, q.user_id.as_deref(), q.filter.category.as_deref()),
            (5, Some("u1"), Some("audio"))
        );
    }

    #[test]
    fn filters_parse_and_bad_ones_name_the_param() {
        let q = RecommendQuery::parse(pairs(&[
            ("brand", "acme"),
            ("min_price", "10"),
            ("max_price", "99.5"),
            ("in_stock", "true"),
            ("exclude", "a,b"),
            ("exclude_purchased", "1"),
        ]))
        .unwrap();
        assert_eq!(
            q.filter,
            FilterSpec {
                category: None,
                brand: Some("acme".into()),
                min_price: Some(10.0),
                max_price: Some(99.5),
                in_stock: true,
                exclude: vec!["a".into(), "b".into()],
            }
        );
        assert!(q.exclude_purchased);
        for (list, name) in [
            (vec![("min_price", "20"), ("max_price", "10")], "min_price"),
            (vec![("max_price", "-1")], "max_price"),
            (vec![("min_price", "NaN")], "min_price"),
            (vec![("in_stock", "yes")], "in_stock"),
        ] {
            let e = RecommendQuery::parse(pairs(&list)).unwrap_err();
            assert_eq!(e.code, Code::InvalidParameter);
            assert!(e.message.contains(&format!("`{name}`")), "{}", e.message);
        }
        let e = TrendingQuery::parse(pairs(&[("user_id", "u")])).unwrap_err();
        assert_eq!(e.code, Code::UnknownParameter);
    }

    #[test]
    fn cart_requests_are_checked() {
        let r = CartRequest::parse(br#"{"items": ["a", "b"], "k": 3, "max_price": 50}"#).unwrap();
        assert_eq!(
            (r.items.len(), r.k, r.filter().max_price),
            (2, Some(3), Some(50.0))
        );
        for (body, code) in [
            (&br#"{"items": []}"#[..], Code::InvalidParameter),
            (br#"{"items": ["a"], "k": 0}"#, Code::InvalidParameter),
            (br#"{"items": ["a"], "colour": "red"}"#, Code::InvalidJson),
            (
                br#"{"items": ["a"], "min_price": 5, "max_price": 1}"#,
                Code::InvalidParameter,
            ),
            (b"nope", Code::InvalidJson),
        ] {
            assert_eq!(CartRequest::parse(body).unwrap_err().code, code);
        }
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
