//! Paging through a Shopify-style REST API robustly: per-request timeouts, retries with
//! exponential backoff and full jitter on timeouts, connection errors, 5xx and unparseable bodies,
//! `429` honouring `Retry-After`, and `Link: <…>; rel="next"` pagination with a guard against a
//! server that sends the same page link twice.

use std::collections::BTreeSet;
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

/// Retry and timeout settings, checked.
#[derive(Debug, Clone)]
pub struct FetchParams {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff; doubles per retry up to `max_backoff`, full jitter.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured; a server asking for more fails the run.
    pub max_retry_after: Duration,
    /// Most pages per resource in one run (a loop guard).
    pub max_pages: usize,
}

impl Default for FetchParams {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_retries: 6,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            max_pages: 100_000,
        }
    }
}

impl FetchParams {
    /// The command line's knobs over the defaults, checked: a timeout must be a positive number
    /// of seconds.
    pub fn from_cli(
        timeout_secs: f64,
        max_retries: u32,
        backoff_ms: u64,
    ) -> Result<Self, super::ConnectorError> {
        if !(timeout_secs.is_finite() && timeout_secs > 0.0 && timeout_secs <= 3600.0) {
            return Err(super::ConnectorError::Input(format!(
                "--timeout-secs must be a positive number of seconds (at most 3600), got {timeout_secs}"
            )));
        }
        Ok(Self {
            timeout: Duration::from_secs_f64(timeout_secs),
            max_retries,
            base_backoff: Duration::from_millis(backoff_ms),
            ..Self::default()
        })
    }
}

/// Why a fetch gave up.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: gave up after {attempts} attempts; last: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url}: HTTP {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: the server asked to wait {secs} s (Retry-After), over the {max} s limit")]
    WaitTooLong { url: String, secs: u64, max: u64 },
    #[error("pagination loop: {url} was already fetched in this run")]
    Loop { url: String },
    #[error("more than {0} pages; refusing to continue (raise --max-pages)")]
    TooManyPages(usize),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// What happened while fetching, for the run report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FetchStats {
    pub requests: u32,
    pub pages: u32,
    pub retried_429: u32,
    pub retried_5xx: u32,
    pub retried_timeout: u32,
    pub retried_connection: u32,
    pub retried_bad_body: u32,
    pub waited_ms: u64,
}

/// One page: its JSON body and the next page's URL.
#[derive(Debug)]
pub struct Page {
    pub body: Value,
    pub next: Option<String>,
}

/// A client for one shop.
pub struct Fetcher {
    http: reqwest::Client,
    token: Option<String>,
    params: FetchParams,
    pub stats: FetchStats,
}

impl Fetcher {
    /// A fetcher sending `token` as `X-Shopify-Access-Token`.
    pub fn new(token: Option<String>, params: FetchParams) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .connect_timeout(params.timeout.min(Duration::from_secs(10)))
            .timeout(params.timeout)
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Self {
            http,
            token,
            params,
            stats: FetchStats::default(),
        })
    }

    /// Every page from `first`, following `rel="next"` links; `each` gets every page in order.
    pub async fn pages(
        &mut self,
        first: &str,
        mut each: impl FnMut(Value),
    ) -> Result<(), FetchError> {
        let mut seen = BTreeSet::new();
        let mut url = Some(first.to_owned());
        while let Some(u) = url {
            if !seen.insert(u.clone()) {
                return Err(FetchError::Loop { url: u });
            }
            if seen.len() > self.params.max_pages {
                return Err(FetchError::TooManyPages(self.params.max_pages));
            }
            let page = self.page(&u).await?;
            self.stats.pages += 1;
            each(page.body);
            url = page.next;
        }
        Ok(())
    }

    /// One page, with retries.
    pub async fn page(&mut self, url: &str) -> Result<Page, FetchError> {
        let attempts = self.params.max_retries + 1;
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                let wait = self.backoff(attempt);
                self.stats.waited_ms += millis(wait);
                tokio::time::sleep(wait).await;
            }
            self.stats.requests += 1;
            let mut req = self.http.get(url).header("accept", "application/json");
            if let Some(t) = &self.token {
                req = req.header("x-shopify-access-token", t);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    if e.is_timeout() {
                        self.stats.retried_timeout += 1;
                    } else {
                        self.stats.retried_connection += 1;
                    }
                    last = describe(&e);
                    continue;
                }
            };
            let status = resp.status().as_u16();
            if status == 429 {
                self.stats.retried_429 += 1;
                last = "HTTP 429".into();
                if let Some(wait) = retry_after(&resp) {
                    if wait > self.params.max_retry_after {
                        return Err(FetchError::WaitTooLong {
                            url: url.to_owned(),
                            secs: wait.as_secs(),
                            max: self.params.max_retry_after.as_secs(),
                        });
                    }
                    self.stats.waited_ms += millis(wait);
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            if resp.status().is_server_error() {
                self.stats.retried_5xx += 1;
                last = format!("HTTP {status}");
                continue;
            }
            if !resp.status().is_success() {
                let body = resp.text().await.unwrap_or_default();
                return Err(FetchError::Refused {
                    url: url.to_owned(),
                    status,
                    body: body.chars().take(300).collect(),
                });
            }
            let next = resp
                .headers()
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(next_link);
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    if e.is_timeout() {
                        self.stats.retried_timeout += 1;
                    } else {
                        self.stats.retried_connection += 1;
                    }
                    last = describe(&e);
                    continue;
                }
            };
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(body) if body.is_object() => return Ok(Page { body, next }),
                Ok(_) => {
                    self.stats.retried_bad_body += 1;
                    last = "the body is JSON but not an object".into();
                }
                Err(e) => {
                    self.stats.retried_bad_body += 1;
                    last = format!("unparseable body ({} bytes): {e}", bytes.len());
                }
            }
        }
        Err(FetchError::GaveUp {
            url: url.to_owned(),
            attempts,
            last,
        })
    }

    /// Full-jitter exponential backoff for retry number `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .params
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.params.max_backoff);
        let ms = millis(cap);
        Duration::from_millis(rand::rng().random_range(ms / 2..=ms.max(1)))
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else {
        // The URL is in the outer error; keep the cause short.
        let mut s = e.to_string();
        s.truncate(200);
        s
    }
}

/// `Retry-After` in seconds (integer or decimal, as Shopify sends `2.0`).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?;
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// The `rel="next"` target of one `Link` header value.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_next_links() {
        let h = r#"<https://s.example/admin/api/2024-01/products.json?page_info=a&limit=2>; rel="previous", <https://s.example/admin/api/2024-01/products.json?page_info=b&limit=2>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://s.example/admin/api/2024-01/products.json?page_info=b&limit=2")
        );
        assert_eq!(
            next_link(r#"<https://x/p?page_info=a>; rel="previous""#),
            None
        );
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let f = Fetcher::new(None, FetchParams::default()).unwrap();
        for attempt in 1..20 {
            let d = f.backoff(attempt);
            assert!(d <= Duration::from_secs(30), "{d:?}");
            assert!(d >= Duration::from_millis(250), "{d:?}");
        }
    }
}
