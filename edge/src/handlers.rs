//! Public endpoints besides recommendations: health, model status, the API description and
//! event ingest.

use serde_json::json;
use shared::event::ValidationPolicy;
use shared::ingest::{MAX_BATCH_BYTES, parse_batch, send_chunks};
use shared::{ApiError, Code, session};
use worker::{Env, Request};

use crate::http::{HandlerResult, json, now_ms, storage_error};
use crate::{model_cache, sessions};

pub async fn health(env: &Env) -> HandlerResult {
    let model = model_cache::current(env).await;
    json(
        200,
        &json!({
            "status": "ok",
            "model_loaded": model.is_some(),
            "model_version": model.as_ref().map(|m| m.version().to_owned()),
        }),
    )
}

/// `GET /v1/model`: the slot's status plus this isolate's wasm memory (what the model costs).
pub async fn model(env: &Env) -> HandlerResult {
    let status = model_cache::status(env).await;
    let mut body = serde_json::to_value(&status)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    if let Some(o) = body.as_object_mut() {
        let pages = core::arch::wasm32::memory_size(0);
        o.insert("wasm_memory_bytes".into(), json!(pages * 65_536));
    }
    json(200, &body)
}

/// `POST /v1/events`: validate, then forward every event (accepted or quarantined) to the queue.
pub async fn events(mut req: Request, env: &Env, ctx: &worker::Context) -> HandlerResult {
    crate::http::check_declared_length(&req, MAX_BATCH_BYTES, "batch")?;
    if crate::settings::get(env).pseudonymizer.is_none() {
        return Err(ApiError::new(
            Code::NotConfigured,
            "events cannot be stored: the PSEUDONYM_KEY secret is not set (wrangler secret put PSEUDONYM_KEY)",
        ));
    }
    let body = req
        .bytes()
        .await
        .map_err(|_| ApiError::new(Code::InvalidJson, "could not read the request body"))?;
    let outcome = parse_batch(&body, now_ms(), &ValidationPolicy::default())?;
    let encoded = outcome
        .messages()
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    let queue = env
        .queue("EVENTS")
        .map_err(|e| storage_error("event queue", &e))?;
    for chunk in send_chunks(encoded) {
        queue
            .send_batch(chunk)
            .await
            .map_err(|e| storage_error("event queue", &e))?;
    }
    crate::alerts::after_ingest(env, ctx, &outcome.accepted);
    // The lake has the events; now the live state, so the next request reflects them.
    let updates = session::updates(&outcome.accepted);
    futures::future::try_join_all(
        updates
            .touches
            .iter()
            .map(|(key, touches)| sessions::add(env, key, touches)),
    )
    .await?;
    for (from, into) in &updates.merges {
        sessions::merge(env, from, into).await?;
    }
    json(202, &outcome.response())
}

/// `GET /v1/openapi.json`: the API description (checked against the router by the tests).
pub fn openapi() -> HandlerResult {
    crate::http::bytes(
        include_bytes!("../openapi.json").to_vec(),
        "application/json",
    )
}
