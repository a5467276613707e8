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

fn internal(e: &worker::Error) -> ApiError {
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
    let Some(allowed) = access::cors_origin(origin, &settings::get(env).cors_origins) else {
        return resp;
    };
    let h = resp.headers_mut();
    let _ = h.set("access-control-allow-origin", &allowed);
    if allowed != "*" {
        let _ = h.set("vary", "origin");
    }
    let _ = h.set("access-control-allow-methods", "GET, POST, PUT, OPTIONS");
    let _ = h.set(
        "access-control-allow-headers",
        "content-type, authorization, x-vitrine-key",
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
    let key = header("x-vitrine-key").or_else(|| {
        req.url().ok().and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "key")
                .map(|(_, v)| v.into_owned())
        })
    });
    access::check_public(key.as_deref(), &set.public_keys, set.admin_key.as_deref())?;
    let ip = header("cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let key = key.filter(|_| !set.public_keys.is_empty());
    LIMITER.with(|l| {
        l.borrow_mut()
            .check(&ip, key.as_deref(), now_ms(), set.limits)
    })
}

/// Checks the admin key (`ADMIN_KEY` secret or var) against the request's bearer token.
pub fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let header = req.headers().get("authorization").ok().flatten();
    shared::api::check_admin(header.as_deref(), settings::get(env).admin_key.as_deref())
}

/// Query pairs of the request URL, without the public `key` (checked by [`guard`]).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url()
        .map(|u| {
            u.query_pairs()
                .filter(|(k, _)| k != "key")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}
/// Refuses a body whose declared `Content-Length` exceeds `max` before reading it.
pub fn check_declared_length(req: &Request, max: usize, what: &str) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("{what} is larger than {max} bytes"),
        ));
    }
    Ok(())
}
