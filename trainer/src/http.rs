//! HTTP client for source APIs and the worker's admin API: timeouts, and retries with
//! exponential backoff and jitter on connection errors, timeouts, 429 and 5xx.

use std::time::Duration;

use rand::Rng;

/// A client with connect and request timeouts.
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
}

/// Sends a request built by `make` up to 5 times; returns the successful response or why not.
pub async fn send_with_retry(
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, String> {
    let mut delay = Duration::from_millis(200);
    let mut last = String::new();
    for attempt in 0..5 {
        if attempt > 0 {
            let jitter = rand::rng().random_range(0..=delay.as_millis() as u64 / 2);
            tokio::time::sleep(delay + Duration::from_millis(jitter)).await;
            delay *= 2;
        }
        match make().send().await {
            Ok(r) if r.status().is_success() => return Ok(r),
            Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                last = format!("HTTP {}", r.status());
            }
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                return Err(format!(
                    "HTTP {status}: {}",
                    body.chars().take(500).collect::<String>()
                ));
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("gave up after 5 attempts: {last}"))
}

/// A running worker reached through its admin API: the local-development path for publishing,
/// the dashboard's data and pulling raw events (production reads and writes R2 directly).
#[derive(Debug, Clone)]
pub struct Worker {
    /// Base URL, e.g. `http://127.0.0.1:8787`.
    pub url: String,
    pub admin_key: String,
}

impl Worker {
    /// Writes one object of the worker's models bucket (`key` as the models store names it,
    /// `models/...` or `rules/...`).
    pub async fn put_model_object(&self, key: &str, body: Vec<u8>) -> Result<(), String> {
        let client = client().map_err(|e| e.to_string())?;
        // The admin route writes under `models/` itself.
        let object = key.strip_prefix(shared::lake::MODELS).unwrap_or(key);
        let url = format!(
            "{}/v1/admin/models/{object}",
            self.url.trim_end_matches('/')
        );
        send_with_retry(|| {
            client
                .put(&url)
                .bearer_auth(&self.admin_key)
                .body(body.clone())
        })
        .await
        .map(|_| ())
        .map_err(|e| format!("{url}: {e}"))
    }
}
