//! `GET /v1/search` and `/v1/search/suggest`: parameters checked natively (a bad value is a 400
//! naming it), the response shape, and highlighting.

use serde::{Deserialize, Serialize};

use crate::api::{MAX_K, Query};
use crate::error::{ApiError, Code};
use crate::filter::FilterSpec;
use crate::search::spec::{Facet, Search, SearchFilter, Sort};
use crate::search::text;

/// Longest accepted query, characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Deepest page.
pub const MAX_PAGE: usize = 100;

/// A parsed search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub q: String,
    pub filter: SearchFilter,
    pub sort: Sort,
    pub facets: Vec<Facet>,
    /// 1-based.
    pub page: usize,
    pub k: usize,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The shop's signature of `user_id` (`crate::identity`).
    pub user_token: Option<String>,
    /// The recent session the storefront carries (`crate::carried`), for an anonymous shopper's
    /// personal tie-breaks without a Durable Object read.
    pub session: Option<crate::carried::CarriedSession>,
    /// Whether price words in `q` ("under 800", "cheap") become filters (`intents=off`: no).
    pub intents: bool,
}

impl SearchQuery {
    /// What the index is asked for this request's words as they are (no intents read),
    /// filters, order, facets and page window.
    pub fn spec(&self) -> Search<'_> {
        Search {
            q: &self.q,
            filter: &self.filter,
            sort: self.sort,
            facets: &self.facets,
            k: self.k,
            offset: (self.page.max(1) - 1) * self.k,
            cheap: false,
        }
    }

    /// Its own parameters; the filter fields but `exclude` are accepted too.
    pub const PARAMS: &'static [&'static str] = &[
        "q",
        "rating_min",
        "sort",
        "facets",
        "page",
        "k",
        "user_id",
        "anonymous_id",
        "user_token",
        "session",
        "intents",
    ];

    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let mut allowed = FilterSpec::with_params(Self::PARAMS);
        allowed.retain(|p| *p != "exclude");
        let q = Query::new(pairs, &allowed)?;
        let text = q.get("q").unwrap_or_default().trim().to_owned();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::invalid_param(
                "q",
                &format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(ApiError::invalid_param(
                "q",
                "must not contain control characters",
            ));
        }
        let sort = match q.get("sort") {
            None => Sort::Relevance,
            Some(s) => Sort::parse(s).ok_or_else(|| {
                ApiError::invalid_param(
                    "sort",
                    "must be relevance, price_asc, price_desc, popularity or newest",
                )
            })?,
        };
        let facets = match q.get("facets") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| {
                    Facet::parse(f).ok_or_else(|| {
                        ApiError::invalid_param(
                            "facets",
                            &format!("has unknown facet `{f}` (brand, category, price)"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let spec = q.filter()?;
        let rating_min = match q.get("rating_min") {
            None => None,
            Some(v) => Some(
                v.parse::<f32>()
                    .ok()
                    .filter(|r| (0.0..=5.0).contains(r))
                    .ok_or_else(|| {
                        ApiError::invalid_param("rating_min", "must be a number from 0 to 5")
                    })?,
            ),
        };
        Ok(Self {
            q: text,
            filter: SearchFilter {
                category: spec.category,
                brands: q.id_list("brand", 50)?,
                min_price: spec.min_price,
                max_price: spec.max_price,
                in_stock: spec.in_stock,
                rating_min,
            },
            sort,
            facets,
            page: q.usize_in("page", 1, 1, MAX_PAGE)?,
            k: q.usize_in("k", 20, 1, MAX_K)?,
            user_id: q.id("user_id")?,
            anonymous_id: q.id("anonymous_id")?,
            user_token: q.get("user_token").map(str::to_owned),
            session: crate::carried::CarriedSession::parse_opt(q.get("session"))?,
            intents: match q.get("intents") {
                None | Some("on") => true,
                Some("off") => false,
                Some(_) => return Err(ApiError::invalid_param("intents", "must be on or off")),
            },
        })
    }
}

/// `GET /v1/search/suggest?q=&k=`
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestQuery {
    pub q: String,
    pub k: usize,
}

impl SuggestQuery {
    pub fn parse(pairs: Vec<(String, String)>) -> Result<Self, ApiError> {
        let q = Query::new(pairs, &["q", "k"])?;
        let text = q.get("q").unwrap_or_default().trim().to_owned();
        if text.is_empty() {
            return Err(ApiError::new(
                Code::MissingParameter,
                "parameter `q` is required",
            ));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(ApiError::invalid_param(
                "q",
                &format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        Ok(Self {
            q: text,
            k: q.usize_in("k", 5, 1, 20)?,
        })
    }
}

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub score: f32,
    pub title: String,
    /// The title, HTML-escaped, with matched words in `<em>`.
    pub highlight: String,
    pub category: String,
    pub brand: String,
    pub price: f32,
    pub in_stock: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f32>,
}

/// One facet value and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: String,
    pub count: usize,
}

/// A price filter read from the query's words ("under 800", "cheap"), applied to the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppliedIntent {
    /// The words it was read from, as typed.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_price: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<f32>,
    /// The query to send to remove this filter (its words taken out).
    pub without: String,
}

/// Set when fewer products matched every word than the page holds, so products matching fewer
/// words were let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relaxed {
    /// Words (or synonym phrases) a product had to match…
    pub required: usize,
    /// …of this many in the query.
    pub of: usize,
}

/// `GET /v1/search` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub serve_id: String,
    pub model_version: String,
    pub took_ms: f64,
    pub query: String,
    pub total: usize,
    pub page: usize,
    pub k: usize,
    pub items: Vec<SearchHit>,
    /// Facet name → values, most frequent first; each counted with every other filter applied.
    pub facets: std::collections::BTreeMap<String, Vec<FacetValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<String>,
    /// Price filters read from the words, removable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intents: Vec<AppliedIntent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relaxed: Option<Relaxed>,
}

/// `GET /v1/search/suggest` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuggestResponse {
    pub queries: Vec<String>,
    pub products: Vec<SearchHit>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `title` HTML-escaped with the words that match a query word (in their analysed form:
/// exactly, as a prefix of the last word, or as a typo of it, [`text::typo_of`]) wrapped in `<em>`.
pub fn highlight(title: &str, q: &str) -> String {
    let terms = text::analyse(q);
    title
        .split(' ')
        .map(|word| {
            let norm: String = text::analyse(word).concat();
            let hit = !norm.is_empty()
                && terms.iter().enumerate().any(|(i, t)| {
                    norm == *t
                        || (i + 1 == terms.len() && norm.starts_with(t.as_str()))
                        || text::typo_of(t, &norm)
                });
            if hit {
                format!("<em>{}</em>", escape(word))
            } else {
                escape(word)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
    }

    #[test]
    fn bad_parameters_are_named() {
        let long = "x".repeat(201);
        for (p, needle) in [
            (vec![("q", long.as_str())], "`q`"),
            (vec![("sort", "newest-first")], "`sort`"),
            (vec![("facets", "brand,colour")], "colour"),
            (vec![("min_price", "10"), ("max_price", "5")], "min_price"),
            (vec![("page", "0")], "`page`"),
            (vec![("rating", "4")], "rating"),
            (vec![("rating_min", "6")], "`rating_min`"),
            (vec![("rating_min", "x")], "`rating_min`"),
            (vec![("intents", "maybe")], "`intents`"),
        ] {
            let e = SearchQuery::parse(pairs(&p)).unwrap_err();
            assert_eq!(e.status(), 400, "{p:?}");
            assert!(e.message.contains(needle), "{p:?}: {}", e.message);
        }
        let ok = SearchQuery::parse(pairs(&[
            ("q", " galaxy "),
            ("brand", "samsung,apple"),
            ("facets", "brand,price"),
            ("sort", "newest"),
            ("rating_min", "4.5"),
        ]))
        .unwrap();
        assert_eq!(ok.sort, Sort::Newest);
        assert_eq!(ok.filter.rating_min, Some(4.5));
        assert_eq!(ok.q, "galaxy");
        assert_eq!(ok.filter.brands, ["samsung", "apple"]);
        assert_eq!(ok.facets, [Facet::Brand, Facet::Price]);
        assert_eq!(SuggestQuery::parse(pairs(&[])).unwrap_err().status(), 400);
    }

    #[test]
    fn highlights_escape_and_mark_matches() {
        assert_eq!(
            highlight("Samsung Galaxy <S24>", "samsng gal"),
            "<em>Samsung</em> <em>Galaxy</em> &lt;S24&gt;"
        );
    }
}
