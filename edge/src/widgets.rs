//! Recommendation endpoints: each parses its request into widgets (`shared::batch`), loads what
//! the widgets need (model, the shopper's session, rules), answers them with the shared engine,
//! and records what was shown (`raw/serves/`) after responding, for attribution.

use std::cell::RefCell;
use std::rc::Rc;

use shared::api::{CartRequest, RecommendQuery, RecommendResponse, SimilarQuery, TrendingQuery};
use shared::batch::{BatchRequest, BatchResponse, Context, Widget, WidgetKind, WidgetOut};
use shared::carried::CarriedSession;
use shared::ingest::{LakeMessage, MAX_BATCH_BYTES, Serve};
use shared::{ApiError, Code, Model, ab, session};
use worker::{Env, Request};

use crate::http::{HandlerResult, json, now_ms, query_pairs};
use crate::{model_cache, rules_cache, sessions};

/// One request's runtime: where to send serve records after responding.
pub struct Call<'a> {
    pub env: &'a Env,
    pub ctx: &'a worker::Context,
    pub started: i64,
}

pub async fn require_model(env: &Env) -> Result<Rc<Model>, ApiError> {
    model_cache::current(env).await.ok_or_else(|| {
        ApiError::new(
            Code::ModelUnavailable,
            "no model is loaded yet; publish one with `trainer publish`",
        )
        .retry_after(30)
    })
}

pub fn item_index(model: &Model, item_id: &str) -> Result<u32, ApiError> {
    model.item_index(item_id).ok_or_else(|| {
        ApiError::new(
            Code::ItemNotFound,
            format!("item `{item_id}` is not in the catalog"),
        )
    })
}

/// A unique id for one response, carried by later impression/click events for attribution.
pub fn serve_id() -> String {
    let r = worker::js_sys::Math::random();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "r in [0, 1)"
    )]
    let rand = (r * 4_294_967_296.0) as u64;
    format!("srv-{:x}-{rand:08x}", now_ms())
}

/// Answers the widgets of `req` for its shopper, after checking who the request speaks for.
async fn run(
    call: &Call<'_>,
    http: &Request,
    req: &BatchRequest,
) -> Result<(Rc<Model>, String, Vec<WidgetOut>), ApiError> {
    crate::http::authorize_shopper(
        http,
        call.env,
        req.user_id.as_deref(),
        req.anonymous_id.as_deref(),
        req.user_token.as_deref(),
    )?;
    let model = require_model(call.env).await?;
    let needs_session = req.widgets.iter().any(|w| {
        matches!(
            w.kind,
            WidgetKind::ForYou | WidgetKind::Cart | WidgetKind::BuyAgain
        )
    });
    let key = req.shopper_key();
    let now = now_ms();
    // An anonymous shopper's storefront carries the recent session: no Durable Object read.
    let state = match (&key, needs_session, req.carried()) {
        (Some(_), true, Some(carried)) => carried.state(now),
        (Some(key), true, None) => sessions::load(call.env, key).await?,
        _ => session::SessionState::default(),
    };
    let (variant, strategy) = ab::variant_for(
        crate::settings::get(call.env).ab_test.as_ref(),
        key.as_deref(),
    );
    let blend = strategy.blend(&model);
    let rules = rules_cache::current(call.env).await;
    let active = rules.active(&model, now);
    let ctx = Context {
        state: &state,
        blend: blend.as_ref(),
        rules: Some(&active),
        now,
    };
    let widgets = shared::batch::answer(&model, req, &ctx)?;
    Ok((model, variant, widgets))
}

#[expect(clippy::cast_precision_loss, reason = "milliseconds fit f64 exactly")]
pub fn took(started: i64) -> f64 {
    (now_ms() - started) as f64
}

/// Serve records waiting to be sent, and when the oldest was added.
struct Pending {
    since: i64,
    messages: Vec<String>,
}

thread_local! {
    static PENDING: RefCell<Pending> = const {
        RefCell::new(Pending {
            since: 0,
            messages: Vec::new(),
        })
    };
}

/// Most serve records sent in one queue message batch.
const FLUSH_RECORDS: usize = 50;
/// Longest a serve record waits in the isolate before any request flushes it, ms.
const FLUSH_AFTER_MS: i64 = 1000;

/// Buffers one serve record per widget; they are sent to the queue in batches, after a response
/// (`waitUntil`), so logging costs a request almost nothing.
fn record(
    call: &Call<'_>,
    req: &BatchRequest,
    serve_id: &str,
    variant: &str,
    model: &Model,
    widgets: &[WidgetOut],
    took_ms: f64,
) {
    let messages = req.widgets.iter().zip(widgets).filter_map(|(w, out)| {
        let serve = Serve {
            serve_id: serve_id.to_owned(),
            timestamp: call.started,
            placement: w.id.clone(),
            variant: variant.to_owned(),
            model_version: model.version().to_owned(),
            user_id: req.user_id.clone(),
            anonymous_id: req.anonymous_id.clone(),
            item_id: w.item_id.clone(),
            items: out.items.iter().map(|i| i.id.clone()).collect(),
            took_ms,
            query: None,
            total: None,
        };
        serde_json::to_string(&LakeMessage::Serve {
            serve: Box::new(serve),
        })
        .ok()
    });
    buffer(call, messages);
}

/// Buffers one serve record (search).
pub fn record_serve(call: &Call<'_>, serve: Serve) {
    let message = serde_json::to_string(&LakeMessage::Serve {
        serve: Box::new(serve),
    });
    buffer(call, message.ok());
}

fn buffer(call: &Call<'_>, messages: impl IntoIterator<Item = String>) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.messages.is_empty() {
            p.since = call.started;
        }
        p.messages.extend(messages);
    });
    flush_due(call.env, call.ctx, call.started);
}

/// Sends buffered serve records when enough are waiting or the oldest has waited long enough;
/// called on every request.
pub fn flush_due(env: &Env, ctx: &worker::Context, now: i64) {
    let batch = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let due = p.messages.len() >= FLUSH_RECORDS
            || (!p.messages.is_empty() && now - p.since >= FLUSH_AFTER_MS);
        if due {
            std::mem::take(&mut p.messages)
        } else {
            Vec::new()
        }
    });
    if batch.is_empty() {
        return;
    }
    let env = env.clone();
    ctx.wait_until(async move {
        let queue = match env.queue("EVENTS") {
            Ok(q) => q,
            Err(e) => {
                worker::console_error!("serve log: {e}");
                return;
            }
        };
        for chunk in shared::ingest::send_chunks(batch) {
            if let Err(e) = queue.send_batch(chunk).await {
                worker::console_error!("serve log: {e}");
            }
        }
    });
}

/// A single-widget endpoint: answer, respond, record.
async fn single(call: &Call<'_>, http: &Request, req: BatchRequest) -> HandlerResult {
    let (model, variant, mut widgets) = run(call, http, &req).await?;
    let serve_id = serve_id();
    let took_ms = took(call.started);
    record(call, &req, &serve_id, &variant, &model, &widgets, took_ms);
    let items = widgets.pop().map(|w| w.items).unwrap_or_default();
    json(
        200,
        &RecommendResponse {
            serve_id,
            model_version: model.version().to_owned(),
            variant,
            took_ms,
            items,
        },
    )
}

/// Who a single-widget request is for: ids, the shop's signature of the user id, and the
/// session the storefront carries.
#[derive(Default)]
struct Shopper {
    user_id: Option<String>,
    anonymous_id: Option<String>,
    user_token: Option<String>,
    session: Option<CarriedSession>,
}

fn one(who: Shopper, context: Vec<String>, w: Widget) -> BatchRequest {
    BatchRequest {
        user_id: who.user_id,
        anonymous_id: who.anonymous_id,
        user_token: who.user_token,
        context,
        session: who.session,
        widgets: vec![w],
    }
}

/// `GET /v1/recommendations` and `GET /v1/recommendations/buy-again`.
pub async fn for_shopper(call: &Call<'_>, req: &Request, kind: WidgetKind) -> HandlerResult {
    let pairs = query_pairs(req);
    let q = match kind {
        WidgetKind::BuyAgain => {
            RecommendQuery::parse_with(pairs, RecommendQuery::BUY_AGAIN_PARAMS)?
        }
        _ => RecommendQuery::parse(pairs)?,
    };
    let mut w = Widget::of(kind, q.k, q.offset, &q.filter, q.diversity);
    w.exclude_purchased = q.exclude_purchased;
    let who = Shopper {
        user_id: q.user_id,
        anonymous_id: q.anonymous_id,
        user_token: q.user_token,
        session: q.session,
    };
    single(call, req, one(who, q.context, w)).await
}

/// `GET /v1/items/{id}/similar` and `/bought-together`.
pub async fn for_item(
    call: &Call<'_>,
    req: &Request,
    item_id: &str,
    kind: WidgetKind,
) -> HandlerResult {
    let q = SimilarQuery::parse(query_pairs(req))?;
    let model = require_model(call.env).await?;
    item_index(&model, item_id)?;
    let mut w = Widget::of(kind, q.k, 0, &q.filter, q.diversity);
    w.item_id = Some(item_id.to_owned());
    single(call, req, one(Shopper::default(), Vec::new(), w)).await
}

/// `GET /v1/trending`
pub async fn trending(call: &Call<'_>, req: &Request) -> HandlerResult {
    let q = TrendingQuery::parse(query_pairs(req))?;
    let w = Widget::of(WidgetKind::Trending, q.k, q.offset, &q.filter, q.diversity);
    single(call, req, one(Shopper::default(), Vec::new(), w)).await
}

async fn body(req: &mut Request, what: &str) -> Result<Vec<u8>, ApiError> {
    crate::http::read_body(req, MAX_BATCH_BYTES, what).await
}

/// `POST /v1/cart/recommendations`: complete the cart.
pub async fn cart(call: &Call<'_>, mut req: Request) -> HandlerResult {
    let r = CartRequest::parse(&body(&mut req, "cart request").await?)?;
    let k = r.k.unwrap_or(shared::api::DEFAULT_K);
    let mut w = Widget::of(WidgetKind::Cart, k, 0, &r.filter(), r.diversity);
    w.items.clone_from(&r.items);
    let who = Shopper {
        user_id: r.user_id,
        anonymous_id: r.anonymous_id,
        user_token: r.user_token,
        session: None,
    };
    single(call, &req, one(who, Vec::new(), w)).await
}

/// `POST /v1/recommendations/batch`: every widget of a page in one call.
pub async fn batch(call: &Call<'_>, mut req: Request) -> HandlerResult {
    let r = BatchRequest::parse(&body(&mut req, "batch request").await?)?;
    let (model, variant, widgets) = run(call, &req, &r).await?;
    let serve_id = serve_id();
    let took_ms = took(call.started);
    record(call, &r, &serve_id, &variant, &model, &widgets, took_ms);
    json(
        200,
        &BatchResponse {
            serve_id,
            model_version: model.version().to_owned(),
            variant,
            took_ms,
            widgets,
        },
    )
}

/// `GET /v1/items/{id}`: the product's fields.
pub async fn item(env: &Env, item_id: &str) -> HandlerResult {
    let model = require_model(env).await?;
    let idx = item_index(&model, item_id)?;
    json(200, &shared::api::Product::of(&model, idx))
}
