//! Pulling raw events from a running worker's lake bucket into a lake, through the worker's admin
//! API. This is how the local pipeline reads what `wrangler dev` wrote to its local R2; in
//! production the trainer reads R2 directly through its S3 API.

use serde::Serialize;
use shared::api::LakeListing;

use crate::http::{client, send_with_retry};
use crate::lake::store::{Lake, StoreError};

/// Pull failures.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("worker {url}: {message}")]
    Worker { url: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a pull copied.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullReport {
    pub listed: usize,
    pub copied: usize,
    pub bytes: u64,
}

/// Copies every `raw/` object the lake lacks (or holds with another size), and the edge's GDPR
/// erasure requests. Lines of people erased from this lake stay out (see `crate::privacy::erase`).
pub async fn pull(w: &crate::http::Worker, lake: &Lake) -> Result<PullReport, PullError> {
    let (worker, admin_key) = (w.url.as_str(), w.admin_key.as_str());
    let erased = crate::privacy::erase::erasure_list(lake)
        .await
        .map_err(|e| PullError::Worker {
            url: crate::privacy::erase::ERASED.into(),
            message: e.to_string(),
        })?;
    let mut report = PullReport::default();
    for prefix in [shared::lake::RAW, shared::lake::GDPR_REQUESTS] {
        pull_prefix(worker, admin_key, lake, prefix, &erased, &mut report).await?;
    }
    Ok(report)
}

async fn pull_prefix(
    worker: &str,
    admin_key: &str,
    lake: &Lake,
    prefix: &str,
    erased: &shared::gdpr::ErasureList,
    report: &mut PullReport,
) -> Result<(), PullError> {
    let base = worker.trim_end_matches('/');
    let werr = |url: &str, message: String| PullError::Worker {
        url: url.to_owned(),
        message,
    };
    let http = client().map_err(|e| werr(base, e.to_string()))?;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/v1/admin/lake?prefix={prefix}");
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(&url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>());
        }
        let resp = send_with_retry(|| http.get(&url).bearer_auth(admin_key))
            .await
            .map_err(|m| werr(&url, m))?;
        let listing: LakeListing = resp
            .json()
            .await
            .map_err(|e| werr(&url, format!("bad listing: {e}")))?;
        report.listed += listing.objects.len();
        for o in &listing.objects {
            if lake.head(&o.key).await?.is_some_and(|m| m.size == o.size) {
                continue;
            }
            let obj_url = format!("{base}/v1/admin/lake/{}", o.key);
            let resp = send_with_retry(|| http.get(&obj_url).bearer_auth(admin_key))
                .await
                .map_err(|m| werr(&obj_url, m))?;
            let body = resp
                .bytes()
                .await
                .map_err(|e| werr(&obj_url, e.to_string()))?;
            report.bytes += body.len() as u64;
            let kept = if erased.is_empty() || !o.key.ends_with(".ndjson") {
                None
            } else {
                erased
                    .suppress(&String::from_utf8_lossy(&body))
                    .map(|(kept, _)| kept)
            };
            match kept {
                Some(k) => lake.put(&o.key, k).await?,
                None => lake.put(&o.key, body).await?,
            }
            report.copied += 1;
        }
        match listing.cursor {
            Some(c) if !listing.objects.is_empty() => cursor = Some(c),
            _ => break,
        }
    }
    Ok(())
}
