//! `POST /v1/sources/{segment|rudderstack|ga4|shopify}`: the shop's existing trackers and platform
//! as event senders. The secret checks and the mappings are `shared::sources`; a mapped batch is
//! stored exactly as `POST /v1/events` stores one. A source's secret vouches for the shopper ids
//! it sends (the shop's own pipeline), so no per-shopper signature is asked for. Shopify's
//! webhooks carry more than events (catalog, privacy) and have their own room, `crate::shopify`.

use serde_json::Value;
use shared::event::ValidationPolicy;
use shared::ingest::{MAX_BATCH_BYTES, MAX_BATCH_EVENTS};
use shared::sources::{Source, ga4, segment};
use shared::{ApiError, Code};
use worker::{Env, Request};

use crate::handlers::{require_pseudonymizer, store};
use crate::http::{HandlerResult, now_ms, query_pairs};

/// The secret `source` is checked against, or why the source is off.
pub fn secret(env: &Env, source: Source) -> Result<String, ApiError> {
    crate::settings::get(env)
        .source_secret(source)
        .ok_or_else(|| {
            ApiError::new(
                Code::NotConfigured,
                format!(
                    "the {} source is off: set the {} secret to receive its events",
                    source.name(),
                    source.secret_name()
                ),
            )
        })
}

pub async fn receive(
    mut req: Request,
    env: &Env,
    ctx: &worker::Context,
    source: Source,
) -> HandlerResult {
    if source == Source::Shopify {
        return crate::shopify::receive(req, env, ctx).await;
    }
    let secret = secret(env, source)?;
    require_pseudonymizer(env)?;
    let body = crate::http::read_body(&mut req, MAX_BATCH_BYTES, "body").await?;
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let json = |body: &[u8]| -> Result<Value, ApiError> {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::new(Code::InvalidJson, format!("body is not valid JSON: {e}")))
    };
    let now = now_ms();
    let mapped = if source == Source::Ga4 {
        let pairs = query_pairs(&req);
        let api_secret = pairs
            .iter()
            .find(|(k, _)| k == "api_secret")
            .map(|p| p.1.as_str());
        ga4::verify(api_secret, &secret)?;
        ga4::map(&json(&body)?, now)?
    } else {
        segment::verify(
            &body,
            header("x-signature").as_deref(),
            header("authorization").as_deref(),
            &secret,
        )?;
        let messages = segment::messages(json(&body)?)?;
        if messages.len() > MAX_BATCH_EVENTS {
            return Err(ApiError::new(
                Code::TooManyEvents,
                format!(
                    "{} messages; the limit is {MAX_BATCH_EVENTS}",
                    messages.len()
                ),
            ));
        }
        segment::map(&messages, source.prefix())
    };
    if mapped.events.len() + mapped.unmapped.len() > MAX_BATCH_EVENTS * 4 {
        return Err(ApiError::new(
            Code::TooManyEvents,
            "the request maps to too many events; send fewer items per request",
        ));
    }
    if mapped.events.is_empty() && mapped.unmapped.is_empty() {
        return Err(ApiError::new(Code::EmptyBatch, "the request has no events"));
    }
    let outcome = mapped.outcome(now, &ValidationPolicy::default());
    store(&outcome, env, ctx).await
}
