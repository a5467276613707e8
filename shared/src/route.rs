//! Routing: which endpoint a method and path name, decided natively so it is unit-tested here and
//! the worker's `lib.rs` only dispatches.

use crate::error::{ApiError, Code};

/// Every endpoint of the edge API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /v1/health`
    Health,
    /// `GET /v1/model`
    Model,
    /// `POST /v1/events`
    Events,
    /// `POST /v1/sources/{segment|rudderstack|ga4|shopify}`: another tracker's events, authenticated by
    /// that source's secret rather than a public key.
    Source { source: crate::sources::Source },
    /// `GET /v1/recommendations`
    Recommendations,
    /// `GET /v1/items/{id}/similar`
    Similar { item_id: String },
    /// `GET /v1/items/{id}/bought-together`
    BoughtTogether { item_id: String },
    /// `POST /v1/cart/recommendations`
    Cart,
    /// `POST /v1/recommendations/batch`
    Batch,
    /// `GET /v1/trending`
    Trending,
    /// `GET /v1/recommendations/buy-again`
    BuyAgain,
    /// `GET /v1/items/{id}`: the product's fields.
    Item { item_id: String },
    /// `GET /v1/openapi.json`
    OpenApi,
    /// `GET /v1/search`
    Search,
    /// `GET /v1/search/suggest`
    SearchSuggest,
    /// `GET /v1/admin/rules`: the merchandising rules in force (admin).
    AdminRulesGet,
    /// `PUT /v1/admin/rules`: replace the merchandising rules (admin).
    AdminRulesPut,
    /// `GET /v1/admin/lake?prefix=&cursor=`: list lake objects (admin).
    AdminLakeList,
    /// `GET /v1/admin/lake/{key}`: read one lake object (admin).
    AdminLakeGet { key: String },
    /// `PUT /v1/admin/models/{key}`: write one object to the models store (admin).
    AdminModelPut { key: String },
    /// `GET /v1/admin/dashboard`: the BI dashboard's data, as `trainer kpis` published it (admin).
    AdminDashboard,
    /// `DELETE /v1/admin/customers/{id}`: GDPR erasure (admin).
    AdminCustomerErase { id: String },
    /// `GET /v1/admin/customers/{id}/export`: everything the edge holds about a person (admin).
    AdminCustomerExport { id: String },
    /// `GET /v1/dev/shopper-token?user_id=`: a signed shopper token, only under `DEV_MODE` (the
    /// demo storefront's stand-in for the shop's backend; 404 in production).
    DevShopperToken,
    /// `OPTIONS` on any route: CORS preflight.
    Preflight,
    /// `GET` a static file of the storefront (`shared::assets`).
    Asset(crate::assets::Asset),
    /// `GET` a folder page without its trailing slash: redirect to the page.
    AddSlash(crate::assets::Asset),
}

impl Route {
    /// Whether the route needs the admin key.
    pub fn requires_admin(&self) -> bool {
        matches!(
            self,
            Route::AdminLakeList
                | Route::AdminLakeGet { .. }
                | Route::AdminModelPut { .. }
                | Route::AdminDashboard
                | Route::AdminRulesGet
                | Route::AdminRulesPut
                | Route::AdminCustomerErase { .. }
                | Route::AdminCustomerExport { .. }
        )
    }

    /// Whether the route serves shoppers (a public key is enough); health, the API description
    /// and preflights are open to all.
    pub fn is_public_api(&self) -> bool {
        !self.requires_admin()
            && !matches!(
                self,
                Route::Health
                    | Route::OpenApi
                    | Route::Preflight
                    | Route::DevShopperToken
                    | Route::Source { .. }
                    | Route::Asset(_)
                    | Route::AddSlash(_)
            )
    }
}

/// Every documented operation as `(method, path template)`: what `/v1/openapi.json` must list,
/// and what the router must answer (checked by a unit test here and an e2e test against the
/// served document).
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("GET", "/v1/health"),
    ("GET", "/v1/model"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/events"),
    ("POST", "/v1/sources/segment"),
    ("POST", "/v1/sources/rudderstack"),
    ("POST", "/v1/sources/ga4"),
    ("POST", "/v1/sources/shopify"),
    ("GET", "/v1/recommendations"),
    ("GET", "/v1/recommendations/buy-again"),
    ("POST", "/v1/recommendations/batch"),
    ("GET", "/v1/items/{id}"),
    ("GET", "/v1/items/{id}/similar"),
    ("GET", "/v1/items/{id}/bought-together"),
    ("POST", "/v1/cart/recommendations"),
    ("GET", "/v1/trending"),
    ("GET", "/v1/search"),
    ("GET", "/v1/search/suggest"),
    ("GET", "/v1/admin/lake"),
    ("GET", "/v1/admin/lake/{key}"),
    ("PUT", "/v1/admin/models/{key}"),
    ("GET", "/v1/admin/dashboard"),
    ("GET", "/v1/admin/rules"),
    ("PUT", "/v1/admin/rules"),
    ("DELETE", "/v1/admin/customers/{id}"),
    ("GET", "/v1/admin/customers/{id}/export"),
    ("GET", "/v1/dev/shopper-token"),
];

fn decode_segment(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(ApiError::new(
                    Code::NotFound,
                    "malformed percent-encoding in path",
                ));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ApiError::new(Code::NotFound, "path is not UTF-8"))
}

/// A lake or models key from the path: no empty, `.` or `..` segments.
fn object_key(rest: &str) -> Result<String, ApiError> {
    let key = decode_segment(rest)?;
    let ok = !key.is_empty()
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(key)
    } else {
        Err(ApiError::new(
            Code::InvalidParameter,
            "object key is not valid",
        ))
    }
}

/// The decoded `name=value` pairs of a request URL's query, read from the URL as the runtime
/// serialised it (WHATWG: the first `?` starts the query, a `#` ends it). No full URL parse: the
/// worker reads the query on every request, and parsing the host and path each time was a
/// measurable share of a search's time in workerd.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Resolves a request to a route: 404 for unknown paths, 405 for a known path with another method.
pub fn route(method: &str, path: &str) -> Result<Route, ApiError> {
    if method != "OPTIONS"
        && let Some(found) = crate::assets::Asset::at(path)
    {
        let r = match found {
            crate::assets::Lookup::File(a) => Route::Asset(a),
            crate::assets::Lookup::AddSlash(a) => Route::AddSlash(a),
        };
        return if method == "GET" || method == "HEAD" {
            Ok(r)
        } else {
            Err(ApiError::new(
                Code::MethodNotAllowed,
                format!("{method} is not allowed on {path}; use GET"),
            ))
        };
    }
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    let allow = |expected: &str, r: Route| {
        if method == expected || (expected == "GET" && method == "HEAD") {
            Ok(r)
        } else {
            Err(ApiError::new(
                Code::MethodNotAllowed,
                format!("{method} is not allowed on {path}; use {expected}"),
            ))
        }
    };
    match path {
        "/v1/health" => return allow("GET", Route::Health),
        "/v1/model" => return allow("GET", Route::Model),
        "/v1/events" => return allow("POST", Route::Events),
        "/v1/recommendations" => return allow("GET", Route::Recommendations),
        "/v1/cart/recommendations" => return allow("POST", Route::Cart),
        "/v1/recommendations/batch" => return allow("POST", Route::Batch),
        "/v1/trending" => return allow("GET", Route::Trending),
        "/v1/recommendations/buy-again" => return allow("GET", Route::BuyAgain),
        "/v1/openapi.json" => return allow("GET", Route::OpenApi),
        "/v1/search" => return allow("GET", Route::Search),
        "/v1/search/suggest" => return allow("GET", Route::SearchSuggest),
        "/v1/admin/rules" => {
            return match method {
                "PUT" => Ok(Route::AdminRulesPut),
                _ => allow("GET", Route::AdminRulesGet),
            };
        }
        "/v1/admin/lake" => return allow("GET", Route::AdminLakeList),
        "/v1/admin/dashboard" => return allow("GET", Route::AdminDashboard),
        "/v1/dev/shopper-token" => return allow("GET", Route::DevShopperToken),
        _ => {}
    }
    if let Some(source) = path
        .strip_prefix("/v1/sources/")
        .and_then(crate::sources::Source::parse)
    {
        return allow("POST", Route::Source { source });
    }
    let item_route = |suffix: &str| {
        path.strip_prefix("/v1/items/")
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|id| !id.is_empty() && !id.contains('/'))
    };
    if let Some(id) = item_route("/similar") {
        return allow(
            "GET",
            Route::Similar {
                item_id: decode_segment(id)?,
            },
        );
    }
    if let Some(id) = item_route("/bought-together") {
        return allow(
            "GET",
            Route::BoughtTogether {
                item_id: decode_segment(id)?,
            },
        );
    }
    if let Some(id) = path
        .strip_prefix("/v1/items/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
    {
        return allow(
            "GET",
            Route::Item {
                item_id: decode_segment(id)?,
            },
        );
    }
    if let Some(rest) = path.strip_prefix("/v1/admin/customers/") {
        if let Some(id) = rest
            .strip_suffix("/export")
            .filter(|id| !id.is_empty() && !id.contains('/'))
        {
            return allow(
                "GET",
                Route::AdminCustomerExport {
                    id: decode_segment(id)?,
                },
            );
        }
        if !rest.is_empty() && !rest.contains('/') {
            return allow(
                "DELETE",
                Route::AdminCustomerErase {
                    id: decode_segment(rest)?,
                },
            );
        }
    }
    if let Some(rest) = path.strip_prefix("/v1/admin/lake/") {
        return allow(
            "GET",
            Route::AdminLakeGet {
                key: object_key(rest)?,
            },
        );
    }
    if let Some(rest) = path.strip_prefix("/v1/admin/models/") {
        return allow(
            "PUT",
            Route::AdminModelPut {
                key: format!("models/{}", object_key(rest)?),
            },
        );
    }
    Err(ApiError::new(
        Code::NotFound,
        format!("no route for {path}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_read_as_a_full_url_parse_reads_them() {
        for url in [
            "http://127.0.0.1:8787/v1/search?q=samsung%20s24&facets=brand,category&k=10",
            "https://shop.example/v1/search?q=65%22+tv&price_max=800&key=pk_1#top",
            "https://shop.example/v1/recommendations?user_id=u%26x&q=%E2%82%AC500&empty=&flag",
            "https://shop.example/v1/search?q=a&q=b",
            "https://shop.example/v1/health",
            "https://shop.example/v1/health?",
            "http://[::1]:8787/v1/items/sku%3F1/similar?k=5",
        ] {
            let parsed = url::Url::parse(url).unwrap();
            let expected: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(query_pairs(url), expected, "{url}");
        }
    }

    #[test]
    fn every_documented_endpoint_routes() {
        for (method, template) in ENDPOINTS {
            let path = template
                .replace("{id}", "sku-1")
                .replace("{key}", "raw/x.ndjson");
            let r = route(method, &path).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            assert_ne!(r, Route::Preflight);
        }
        assert_eq!(
            route("GET", "/v1/items/sku%201").unwrap(),
            Route::Item {
                item_id: "sku 1".into()
            }
        );
        assert_eq!(
            route("PUT", "/v1/admin/rules").unwrap(),
            Route::AdminRulesPut
        );
        assert_eq!(route("POST", "/v1/admin/rules").unwrap_err().status(), 405);
        assert!(Route::AdminRulesPut.requires_admin());
        assert!(Route::BuyAgain.is_public_api());
        assert!(!Route::OpenApi.is_public_api());
    }

    #[test]
    fn static_files_are_open_get_routes() {
        use crate::assets::Asset;
        assert_eq!(
            route("GET", "/vitrine.js").unwrap(),
            Route::Asset(Asset::Snippet)
        );
        assert_eq!(
            route("HEAD", "/demo/").unwrap(),
            Route::Asset(Asset::DemoPage)
        );
        assert_eq!(
            route("GET", "/demo").unwrap(),
            Route::AddSlash(Asset::DemoPage)
        );
        assert_eq!(route("POST", "/vitrine.js").unwrap_err().status(), 405);
        assert_eq!(route("OPTIONS", "/vitrine.js").unwrap(), Route::Preflight);
        assert_eq!(route("GET", "/").unwrap_err().status(), 404);
        for a in Asset::ALL {
            let r = Route::Asset(a);
            assert!(!r.requires_admin() && !r.is_public_api(), "{a:?}");
        }
    }

    #[test]
    fn known_routes() {
        assert_eq!(route("GET", "/v1/health").unwrap(), Route::Health);
        assert_eq!(route("GET", "/v1/model/").unwrap(), Route::Model);
        assert_eq!(route("POST", "/v1/events").unwrap(), Route::Events);
        assert_eq!(
            route("HEAD", "/v1/recommendations").unwrap(),
            Route::Recommendations
        );
        assert_eq!(
            route("GET", "/v1/items/sku%201/similar").unwrap(),
            Route::Similar {
                item_id: "sku 1".into()
            }
        );
        assert_eq!(
            route("GET", "/v1/admin/lake/raw/events/dt=2026-01-01/b.ndjson").unwrap(),
            Route::AdminLakeGet {
                key: "raw/events/dt=2026-01-01/b.ndjson".into()
            }
        );
        assert_eq!(
            route("PUT", "/v1/admin/models/latest.json").unwrap(),
            Route::AdminModelPut {
                key: "models/latest.json".into()
            }
        );
        assert_eq!(route("OPTIONS", "/v1/events").unwrap(), Route::Preflight);
        assert_eq!(
            route("GET", "/v1/items/x/bought-together").unwrap(),
            Route::BoughtTogether {
                item_id: "x".into()
            }
        );
        assert_eq!(
            route("POST", "/v1/cart/recommendations").unwrap(),
            Route::Cart
        );
        assert_eq!(route("GET", "/v1/trending").unwrap(), Route::Trending);
        assert_eq!(
            route("POST", "/v1/recommendations/batch").unwrap(),
            Route::Batch
        );
        assert_eq!(
            route("GET", "/v1/cart/recommendations")
                .unwrap_err()
                .status(),
            405
        );
    }

    #[test]
    fn wrong_method_is_405_and_unknown_path_404() {
        assert_eq!(route("GET", "/v1/events").unwrap_err().status(), 405);
        assert_eq!(
            route("DELETE", "/v1/recommendations").unwrap_err().status(),
            405
        );
        assert_eq!(
            route("GET", "/v2/recommendations").unwrap_err().status(),
            404
        );
        assert_eq!(
            route("GET", "/v1/items//similar").unwrap_err().status(),
            404
        );
        assert_eq!(route("GET", "/").unwrap_err().status(), 404);
    }

    #[test]
    fn admin_keys_cannot_escape() {
        assert_eq!(
            route("PUT", "/v1/admin/models/../x").unwrap_err().status(),
            400
        );
        assert_eq!(
            route("GET", "/v1/admin/lake/a//b").unwrap_err().status(),
            400
        );
        assert_eq!(
            route("GET", "/v1/admin/lake/%2e%2e/x")
                .unwrap_err()
                .status(),
            400
        );
        assert!(route("GET", "/v1/admin/lake").unwrap().requires_admin());
        assert!(!route("GET", "/v1/model").unwrap().requires_admin());
    }
}
