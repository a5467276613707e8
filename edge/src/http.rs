//! Response helpers: JSON bodies, the error envelope, CORS and the clock.

use serde::Serialize;
use shared::{ApiError, Code};
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
    Response::builder()
        .with_status(e.status())
        .with_headers(headers)
        .fixed(e.to_json().into_bytes())
}

/// CORS preflight answer.
pub fn preflight() -> HandlerResult {
    Ok(Response::builder().with_status(204).empty())
}

/// Adds CORS headers; origins come from the `CORS_ORIGINS` var (comma-separated, `*` by default).
pub fn with_cors(mut resp: Response, env: &Env) -> Response {
    let origins = env
        .var("CORS_ORIGINS")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "*".into());
    let h = resp.headers_mut();
    let _ = h.set(
        "access-control-allow-origin",
        origins.split(',').next().unwrap_or("*").trim(),
    );
    let _ = h.set("access-control-allow-methods", "GET, POST, PUT, OPTIONS");
    let _ = h.set(
        "access-control-allow-headers",
        "content-type, authorization",
    );
    let _ = h.set("access-control-max-age", "86400");
    resp
}

/// Checks the admin key (`ADMIN_KEY` secret or var) against the request's bearer token.
pub fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let configured = env
        .secret("ADMIN_KEY")
        .map(|s| s.to_string())
        .or_else(|_| env.var("ADMIN_KEY").map(|v| v.to_string()))
        .ok();
    let header = req.headers().get("authorization").ok().flatten();
    shared::api::check_admin(header.as_deref(), configured.as_deref())
}

/// Query pairs of the request URL.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    req.url()
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A var as a number, or a default.
pub fn var_i64(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name)
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(default)
}
