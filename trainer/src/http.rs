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
