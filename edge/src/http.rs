//! Response helpers: JSON bodies, the error envelope, CORS and the clock.

use std::cell::RefCell;

use serde::Serialize;
use shared::route::Route;
use shared::{ApiError, Code, access};

use crate::settings;
use worker::{Date, Env, Headers, Request, Response};

pub type HandlerResult = Result<Response, ApiError>;

/// Wall-clock milliseconds (Workers advance it on I/O, not during computation).
pub fn now_ms() -> i64 {
    i64::try_from(Date::now().as_millis()).unwrap_or(i64::MAX)
}

/// Maps a runtime failure (R2, queue) to a 503 without leaking internals.
pub fn storage_error(what: &str, e: &worker::Error) -> ApiError {
    worker::console_error!("{what}: {e}");
    ApiError::new(
        Code::StorageUnavailable,
        format!("{what} is unavailable; retry later"),
    )
}

pub(crate) fn internal(e: &worker::Error) -> ApiError {
    worker::console_error!("response: {e}");
    ApiError::new(Code::Internal, "internal error")
}

/// A JSON response with a status.
pub fn json<T: Serialize>(status: u16, body: &T) -> HandlerResult {
    let text = serde_json::to_vec(body).map_err(|e| {
        worker::console_error!("json: {e}");
        ApiError::new(Code::Internal, "internal error")
    })?;
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(|e| internal(&e))?;
    Ok(Response::builder()
        .with_status(status)
        .with_headers(headers)
        .fixed(text))
}

/// Raw bytes with a content type.
pub fn bytes(body: Vec<u8>, content_type: &str) -> HandlerResult {
    let headers = Headers::new();
    headers
        .set("content-type", content_type)
        .map_err(|e| internal(&e))?;
    Ok(Response::builder().with_headers(headers).fixed(body))
}

/// The error envelope `{"error":{"code","message"}}` with the status from the error table.
pub fn error(e: &ApiError) -> Response {
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    if let Some(s) = e.retry_after_s {
        let _ = headers.set("retry-after", &s.to_string());
    }
    Response::builder()
        .with_status(e.status())
        .with_headers(headers)
        .fixed(e.to_json().into_bytes())
}

/// CORS preflight answer (the origin check happened in [`guard`]).
pub fn preflight() -> HandlerResult {
    Ok(Response::builder().with_status(204).empty())
}

/// Adds CORS headers when the request's origin is on the `CORS_ORIGINS` allow-list.
pub fn with_cors(mut resp: Response, env: &Env, origin: Option<&str>) -> Response {
    // Every answer depends on the Origin (allowed or not), so no cache may reuse one for another.
    let _ = resp.headers_mut().append("vary", "Origin");
    let Some(allowed) = access::cors_origin(origin, &settings::get(env).cors_origins) else {
        return resp;
    };
    let h = resp.headers_mut();
    let _ = h.set("access-control-allow-origin", &allowed);
    let _ = h.set("access-control-allow-methods", "GET, POST, PUT, OPTIONS");
    let _ = h.set(
        "access-control-allow-headers",
        "content-type, authorization, x-vitrine-key, x-vitrine-user-token",
    );
    let _ = h.set("access-control-expose-headers", "retry-after");
    let _ = h.set("access-control-max-age", "86400");
    resp
}

thread_local! {
    static LIMITER: RefCell<access::RateLimiter> = RefCell::new(access::RateLimiter::default());
}

/// Who may call `route`: admin key for admin routes; public key, origin and rate limits for
/// shopper routes; preflights only from allowed origins.
pub fn guard(route: &Route, req: &Request, env: &Env) -> Result<(), ApiError> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let set = settings::get(env);
    if route.requires_admin() {
        access::refuse_public_key_on_admin(header("authorization").as_deref(), &set.public_keys)?;
        return require_admin(req, env);
    }
    if *route == Route::Preflight {
        let origin = header("origin");
        return match access::cors_origin(origin.as_deref(), &set.cors_origins) {
            Some(_) => Ok(()),
            None => Err(ApiError::new(
                Code::Forbidden,
                "this origin is not on the CORS allow-list",
            )),
        };
    }
    if !route.is_public_api() {
        return Ok(());
    }
    // A deployed worker with open defaults serves no shopper (DEV_MODE allows them locally).
    set.deployment().check()?;
    let key = public_key(req);
    access::check_public(key.as_deref(), &set.public_keys)?;
    let ip = header("cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let key = key.filter(|_| !set.public_keys.is_empty());
    LIMITER.with(|l| {
        l.borrow_mut()
            .check(&ip, key.as_deref(), now_ms(), set.limits)
    })
}

/// The identity check of a shopper-scoped request (decisions in `shared::identity`): an
/// anonymous id must be unguessable, and a `user_id` must come with the shop's signature of it —
/// the `x-vitrine-user-token` header or the request's own `user_token`.
pub fn authorize_shopper(
    req: &Request,
    env: &Env,
    user_id: Option<&str>,
    anonymous_id: Option<&str>,
    user_token: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(a) = anonymous_id {
        shared::identity::check_anonymous_id(a)?;
    }
    let header = user_token_header(req);
    shared::identity::authorize_user(
        user_id,
        header.as_deref().or(user_token),
        settings::get(env).signer.as_ref(),
        now_ms(),
    )
}

/// The `x-vitrine-user-token` header, if sent.
pub fn user_token_header(req: &Request) -> Option<String> {
    req.headers()
        .get("x-vitrine-user-token")
        .ok()
        .flatten()
        .filter(|t| !t.is_empty())
}

thread_local! {
    static REFUSED_ADMIN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts an admin request refused for its key (instead of writing an audit object for it).
pub fn count_refused_admin() {
    REFUSED_ADMIN.with(|c| c.set(c.get().saturating_add(1)));
}

/// Admin requests this isolate refused for their key.
pub fn refused_admin() -> u64 {
    REFUSED_ADMIN.with(std::cell::Cell::get)
}

/// The global rate limits, after the isolate's own (`guard`): Cloudflare's Rate Limiting binding
/// counts per client IP (`RATE_LIMIT_IP`) and per public key (`RATE_LIMIT_KEY`) across every
/// isolate of a location, so spreading requests over isolates does not multiply the budget. The
/// limits are set in `wrangler.toml` (`[[ratelimits]]`). A worker without the bindings keeps only
/// the isolate limits.
pub async fn global_rate_limit(route: &Route, req: &Request, env: &Env) -> Result<(), ApiError> {
    let set = settings::get(env);
    if !route.is_public_api() || !set.global_rate_limits {
        return Ok(());
    }
    let header = |name: &str| req.headers().get(name).ok().flatten();
    let ip = header("cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let key = public_key(req).filter(|_| !set.public_keys.is_empty());
    let checks = [
        ("RATE_LIMIT_IP", Some(format!("ip:{ip}"))),
        ("RATE_LIMIT_KEY", key.map(|k| format!("key:{k}"))),
    ];
    for (binding, subject) in checks {
        let (Some(subject), Ok(limiter)) = (subject, env.rate_limiter(binding)) else {
            continue;
        };
        match limiter.limit(subject).await {
            Ok(outcome) if !outcome.success => {
                return Err(ApiError::new(
                    Code::RateLimited,
                    "too many requests; retry in a minute",
                )
                .retry_after(60));
            }
            Ok(_) => {}
            // The limiter itself failing must not take the API down.
            Err(e) => worker::console_warn!("{binding}: {e}"),
        }
    }
    Ok(())
}

/// Checks the admin key (`ADMIN_KEY` secret or var) against the request's bearer token.
pub fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let header = req.headers().get("authorization").ok().flatten();
    shared::api::check_admin(header.as_deref(), settings::get(env).admin_key.as_deref())
}

/// Query pairs of the request URL, without the public `key` (checked by [`guard`]).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let mut pairs = shared::route::query_pairs(&req.inner().url());
    pairs.retain(|(k, _)| k != "key");
    pairs
}

/// The public key a request presents: the `x-vitrine-key` header, else the `key` parameter.
fn public_key(req: &Request) -> Option<String> {
    let header = req.headers().get("x-vitrine-key").ok().flatten();
    header.or_else(|| {
        shared::route::query_pairs(&req.inner().url())
            .into_iter()
            .find(|(k, _)| k == "key")
            .map(|(_, v)| v)
    })
}
/// Reads a request body of at most `max` bytes. The cap applies to the bytes as they stream in,
/// so a chunked body without `Content-Length` cannot grow past it; a declared length over the cap
/// is refused before reading anything. Over the cap: 413.
pub async fn read_body(req: &mut Request, max: usize, what: &str) -> Result<Vec<u8>, ApiError> {
    use futures::StreamExt;
    check_declared_length(req, max, what)?;
    let too_large = || {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("{what} is larger than {max} bytes"),
        )
    };
    let unreadable = || ApiError::new(Code::InvalidJson, "could not read the request body");
    let mut stream = match req.stream() {
        Ok(s) => s,
        // No body at all.
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| unreadable())?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The request's declared `Content-Length`, if any.
pub fn declared_length(req: &Request) -> Option<usize> {
    req.headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok())
}

/// Refuses a body whose declared `Content-Length` exceeds `max` before reading it.
pub fn check_declared_length(req: &Request, max: usize, what: &str) -> Result<(), ApiError> {
    if declared_length(req).is_some_and(|n| n > max) {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("{what} is larger than {max} bytes"),
        ));
    }
    Ok(())
}
