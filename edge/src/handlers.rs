//! Public endpoints: health, model status, event ingest and recommendations.

use serde_json::json;
use shared::api::{CartRequest, RecommendQuery, RecommendResponse, SimilarQuery, TrendingQuery};
use shared::event::ValidationPolicy;
use shared::ingest::{MAX_BATCH_BYTES, parse_batch, send_chunks};
use shared::{ApiError, Code, Model, ab, batch, personal, recommend, session};
use worker::{Env, Request};

use crate::http::{HandlerResult, json, now_ms, query_pairs, storage_error};
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

pub async fn model(env: &Env) -> HandlerResult {
    json(200, &model_cache::status(env).await)
}

/// `POST /v1/events`: validate, then forward every event (accepted or quarantined) to the queue.
pub async fn events(mut req: Request, env: &Env) -> HandlerResult {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BATCH_BYTES) {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("batch is larger than {MAX_BATCH_BYTES} bytes"),
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

async fn require_model(env: &Env) -> Result<std::rc::Rc<Model>, ApiError> {
    model_cache::current(env).await.ok_or_else(|| {
        ApiError::new(
            Code::ModelUnavailable,
            "no model is loaded yet; publish one with `trainer publish`",
        )
    })
}

fn respond(model: &Model, items: Vec<recommend::Scored>, started: i64) -> HandlerResult {
    respond_as(model, items, started, ab::DEFAULT_VARIANT.to_owned())
}

fn respond_as(
    model: &Model,
    items: Vec<recommend::Scored>,
    started: i64,
    variant: String,
) -> HandlerResult {
    let body = RecommendResponse {
        serve_id: serve_id(),
        model_version: model.version().to_owned(),
        variant,
        #[expect(clippy::cast_precision_loss, reason = "milliseconds fit f64 exactly")]
        took_ms: (now_ms() - started) as f64,
        items: recommend::describe(model, items),
    };
    json(200, &body)
}

/// The running A/B test (`AB_TEST`); a malformed setting is logged and no test runs, so a
/// configuration slip never takes recommendations down.
fn ab_test(env: &Env) -> Option<ab::AbTest> {
    let raw = env.var("AB_TEST").ok()?.to_string();
    match ab::AbTest::parse(&raw) {
        Ok(t) => t,
        Err(e) => {
            worker::console_error!("AB_TEST ignored: {e}");
            None
        }
    }
}

/// `GET /v1/recommendations`
pub async fn recommendations(req: &Request, env: &Env, started: i64) -> HandlerResult {
    let q = RecommendQuery::parse(query_pairs(req))?;
    let model = require_model(env).await?;
    let key = session::shopper_key(q.user_id.as_deref(), q.anonymous_id.as_deref());
    let state = match &key {
        Some(key) => sessions::load(env, key).await?,
        None => session::SessionState::default(),
    };
    let (variant, strategy) = ab::variant_for(ab_test(env).as_ref(), key.as_deref());
    let blend = strategy.blend(&model);
    let items = personal::for_you_with(&model, &q, &state, blend.as_ref());
    respond_as(&model, items, started, variant)
}

fn item_index(model: &Model, item_id: &str) -> Result<u32, ApiError> {
    model.item_index(item_id).ok_or_else(|| {
        ApiError::new(
            Code::ItemNotFound,
            format!("item `{item_id}` is not in the catalog"),
        )
    })
}

/// `GET /v1/items/{id}/bought-together`
pub async fn bought_together(
    req: &Request,
    env: &Env,
    item_id: &str,
    started: i64,
) -> HandlerResult {
    let q = SimilarQuery::parse(query_pairs(req))?;
    let model = require_model(env).await?;
    let idx = item_index(&model, item_id)?;
    let items = recommend::bought_together(&model, idx, q.k, &q.filter.resolve(&model));
    respond(&model, items, started)
}

/// `GET /v1/trending`
pub async fn trending(req: &Request, env: &Env, started: i64) -> HandlerResult {
    let q = TrendingQuery::parse(query_pairs(req))?;
    let model = require_model(env).await?;
    let filter = q.filter.resolve(&model);
    let items = recommend::popular(&model, q.filter.category.as_deref(), q.k, q.offset, &filter);
    respond(&model, items, started)
}

/// `POST /v1/cart/recommendations`: complete the cart.
pub async fn cart(mut req: Request, env: &Env, started: i64) -> HandlerResult {
    let body = req
        .bytes()
        .await
        .map_err(|_| ApiError::new(Code::InvalidJson, "could not read the request body"))?;
    if body.len() > MAX_BATCH_BYTES {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            "cart request is too large",
        ));
    }
    let r = CartRequest::parse(&body)?;
    let model = require_model(env).await?;
    let state = match session::shopper_key(r.user_id.as_deref(), r.anonymous_id.as_deref()) {
        Some(key) => sessions::load(env, &key).await?,
        None => session::SessionState::default(),
    };
    let cart: Vec<u32> = r
        .items
        .iter()
        .filter_map(|id| model.item_index(id))
        .collect();
    let filter = r.filter().resolve(&model);
    let k = r.k.unwrap_or(shared::api::DEFAULT_K);
    let blend = personal::Blend::of(&model);
    let items = batch::complete_cart(&model, &cart, &state, k, &filter, &blend);
    respond(&model, items, started)
}

/// `GET /v1/items/{id}/similar`
pub async fn similar(req: &Request, env: &Env, item_id: &str, started: i64) -> HandlerResult {
    let q = SimilarQuery::parse(query_pairs(req))?;
    let model = require_model(env).await?;
    let idx = item_index(&model, item_id)?;
    let items = recommend::similar(&model, idx, q.k, &q.filter.resolve(&model));
    respond(&model, items, started)
}

/// A unique id for one response, carried by later impression/click events for attribution.
fn serve_id() -> String {
    let r = worker::js_sys::Math::random();
    let rand = (r * 4_294_967_296.0) as u64;
    format!("srv-{:x}-{rand:08x}", now_ms())
}

/// `POST /v1/recommendations/batch`: every widget of a page in one call.
pub async fn batch(mut req: Request, env: &Env, started: i64) -> HandlerResult {
    let body = req
        .bytes()
        .await
        .map_err(|_| ApiError::new(Code::InvalidJson, "could not read the request body"))?;
    if body.len() > MAX_BATCH_BYTES {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            "batch request is too large",
        ));
    }
    let r = batch::BatchRequest::parse(&body)?;
    let model = require_model(env).await?;
    let key = r.shopper_key();
    let state = match &key {
        Some(key) => sessions::load(env, key).await?,
        None => session::SessionState::default(),
    };
    let (variant, strategy) = ab::variant_for(ab_test(env).as_ref(), key.as_deref());
    let blend = strategy.blend(&model);
    let widgets = batch::answer(&model, &r, &state, blend.as_ref())?;
    let body = batch::BatchResponse {
        serve_id: serve_id(),
        model_version: model.version().to_owned(),
        variant,
        #[expect(clippy::cast_precision_loss, reason = "milliseconds fit f64 exactly")]
        took_ms: (now_ms() - started) as f64,
        widgets,
    };
    json(200, &body)
}
