//! Public endpoints besides recommendations: health, model status, the API description and
//! event ingest.

use serde_json::json;
use shared::event::ValidationPolicy;
use shared::ingest::{BatchOutcome, MAX_BATCH_BYTES, parse_batch, send_chunks};
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
/// What failed is named in detail only to the admin key.
pub async fn model(req: &Request, env: &Env) -> HandlerResult {
    let status = model_cache::status(env).await;
    let admin = crate::http::require_admin(req, env).is_ok();
    let status = if admin { status } else { status.public() };
    let mut body = serde_json::to_value(&status)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    if admin && let Some(o) = body.as_object_mut() {
        o.insert(
            "refused_admin_requests".into(),
            json!(crate::http::refused_admin()),
        );
    }
    if let Some(o) = body.as_object_mut() {
        let pages = core::arch::wasm32::memory_size(0);
        o.insert("wasm_memory_bytes".into(), json!(pages * 65_536));
    }
    json(200, &body)
}

/// `POST /v1/events`: validate, then forward every event (accepted or quarantined) to the queue.
pub async fn events(mut req: Request, env: &Env, ctx: &worker::Context) -> HandlerResult {
    require_pseudonymizer(env)?;
    let body = crate::http::read_body(&mut req, MAX_BATCH_BYTES, "batch").await?;
    let outcome = parse_batch(&body, now_ms(), &ValidationPolicy::default())?;
    // Writing into a logged-in shopper's history takes the shop's signature of their id.
    let header = crate::http::user_token_header(&req);
    shared::identity::authorize_users(
        outcome.accepted.iter().filter_map(|e| e.user_id.as_deref()),
        header.as_deref().or(outcome.user_token.as_deref()),
        crate::settings::get(env).signer.as_ref(),
        now_ms(),
    )?;
    store(&outcome, env, ctx).await
}

/// Refuses ingest while ids could not be pseudonymised on their way into the lake.
pub fn require_pseudonymizer(env: &Env) -> Result<(), ApiError> {
    if crate::settings::get(env).pseudonymizer.is_none() {
        return Err(ApiError::new(
            Code::NotConfigured,
            "events cannot be stored: the PSEUDONYM_KEY secret is not set (wrangler secret put PSEUDONYM_KEY)",
        ));
    }
    Ok(())
}

/// Sends a validated batch (accepted and quarantined) to the lake's queue, then applies it to the
/// shoppers' live sessions; answers `202` with the counts. Every ingest path ends here.
pub async fn store(outcome: &BatchOutcome, env: &Env, ctx: &worker::Context) -> HandlerResult {
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
    crate::alerts::after_ingest(env, ctx, &outcome.accepted, now_ms());
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

/// `GET /v1/dev/shopper-token?user_id=&ttl=`: what a shop's backend does on every page for a
/// logged-in shopper, for the demo storefront and local trials. Only under `DEV_MODE`; a deployed
/// worker answers 404, so the signing key never signs for a browser.
pub fn dev_shopper_token(req: &Request, env: &Env) -> HandlerResult {
    let set = crate::settings::get(env);
    let not_here = || ApiError::new(Code::NotFound, "no such route");
    if !set.dev_mode {
        return Err(not_here());
    }
    let q = shared::api::Query::new(crate::http::query_pairs(req), &["user_id", "ttl"])?;
    let user = q
        .id("user_id")?
        .ok_or_else(|| ApiError::new(Code::MissingParameter, "parameter `user_id` is required"))?;
    let ttl = q.usize_in("ttl", 3600, 60, 24 * 3600)?;
    let signer = set.signer.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::NotConfigured,
            "SHOPPER_SIGNING_KEY is not set; there is nothing to sign with",
        )
    })?;
    let ttl = i64::try_from(ttl).unwrap_or(3600);
    json(200, &signer.token(&user, ttl, now_ms())?)
}

/// `GET /v1/openapi.json`: the API description (checked against the router by the tests).
pub fn openapi() -> HandlerResult {
    crate::http::bytes(
        include_bytes!("../openapi.json").to_vec(),
        "application/json",
    )
}
