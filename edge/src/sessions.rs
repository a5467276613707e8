//! Per-shopper session state in a Durable Object (`SESSIONS` binding, class `Session`).
//!
//! One object per shopper key (`u:<user>` or `a:<anonymous>`), so every request for that shopper
//! sees the same history, strongly consistent, right after the event that changed it. The object
//! stores one [`SessionState`] value; what is kept and how it merges is decided in
//! `shared::session`. The worker talks to it over three internal paths:
//! `GET /` (read), `POST /add` (touches), `POST /merge` (another state), `DELETE /` (erase).
//! Every write re-arms an alarm one idle TTL ahead (`shared::session::TTL_MS`, or
//! `SESSION_IDLE_TTL_SECONDS`); when it fires, the object deletes everything it holds, so an
//! abandoned shopper's history does not outlive the documented retention.

use std::cell::RefCell;

use shared::session::{SessionState, Touch};
use shared::{ApiError, Code};
use worker::{
    DurableObject, Env, Method, Request, RequestInit, Response, Result, State, durable_object,
    wasm_bindgen::JsValue,
};

const KEY: &str = "state";

#[durable_object(alarm)]
pub struct Session {
    state: State,
    /// How long an untouched session lives.
    idle_ttl: std::time::Duration,
    /// The stored value and its JSON, kept in memory while the object lives (it is the only
    /// writer), so a read costs no storage access and no re-encoding.
    cache: RefCell<Option<(SessionState, String)>>,
}

impl Session {
    async fn current(&self) -> Result<SessionState> {
        if let Some((s, _)) = self.cache.borrow().as_ref() {
            return Ok(s.clone());
        }
        let stored: SessionState = self.state.storage().get(KEY).await?.unwrap_or_default();
        Ok(stored)
    }

    async fn save(&self, value: SessionState) -> Result<Response> {
        self.state.storage().put(KEY, &value).await?;
        self.state.storage().set_alarm(self.idle_ttl).await?;
        let text = serde_json::to_string(&value)?;
        *self.cache.borrow_mut() = Some((value, text.clone()));
        json_text(text)
    }
}

fn json_text(text: String) -> Result<Response> {
    let headers = worker::Headers::new();
    headers.set("content-type", "application/json")?;
    Ok(Response::ok(text)?.with_headers(headers))
}

impl DurableObject for Session {
    fn new(state: State, env: Env) -> Self {
        let default_ms = u64::try_from(shared::session::TTL_MS).unwrap_or(u64::MAX);
        let idle_ms = env
            .var("SESSION_IDLE_TTL_SECONDS")
            .ok()
            .and_then(|v| v.to_string().trim().parse::<u64>().ok())
            .map_or(default_ms, |s| s.saturating_mul(1000));
        Self {
            state,
            idle_ttl: std::time::Duration::from_millis(idle_ms),
            cache: RefCell::new(None),
        }
    }

    async fn alarm(&self) -> Result<Response> {
        // Idle for a whole TTL: nothing of this shopper is kept.
        self.state.storage().delete_all().await?;
        *self.cache.borrow_mut() = None;
        Response::empty()
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/") => {
                if let Some((_, text)) = self.cache.borrow().as_ref() {
                    return json_text(text.clone());
                }
                let current = self.current().await?;
                let text = serde_json::to_string(&current)?;
                *self.cache.borrow_mut() = Some((current, text.clone()));
                json_text(text)
            }
            (Method::Post, "/add") => {
                let touches: Vec<Touch> = req.json().await?;
                let mut current = self.current().await?;
                current.add(touches);
                self.save(current).await
            }
            (Method::Post, "/merge") => {
                let other: SessionState = req.json().await?;
                let mut current = self.current().await?;
                current.merge(other);
                self.save(current).await
            }
            (Method::Delete, "/") => {
                self.state.storage().delete_all().await?;
                *self.cache.borrow_mut() = None;
                Response::empty()
            }
            _ => Response::error("not found", 404),
        }
    }
}

fn unavailable(e: &worker::Error) -> ApiError {
    worker::console_error!("session store: {e}");
    ApiError::new(
        Code::StorageUnavailable,
        "session store is unavailable; retry later",
    )
}

async fn call(
    env: &Env,
    key: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<Response> {
    let stub = env
        .durable_object("SESSIONS")?
        .id_from_name(key)?
        .get_stub()?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(b) = body {
        init.with_body(Some(JsValue::from_str(&b)));
    }
    let req = Request::new_with_init(&format!("https://session{path}"), &init)?;
    stub.fetch_with_request(req).await
}

/// The shopper's state (empty when none is held).
pub async fn load(env: &Env, key: &str) -> std::result::Result<SessionState, ApiError> {
    let mut resp = call(env, key, Method::Get, "/", None)
        .await
        .map_err(|e| unavailable(&e))?;
    resp.json().await.map_err(|e| unavailable(&e))
}

/// Adds touches to the shopper's state.
pub async fn add(env: &Env, key: &str, touches: &[Touch]) -> std::result::Result<(), ApiError> {
    let body = serde_json::to_string(touches)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    call(env, key, Method::Post, "/add", Some(body))
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(())
}

/// Erases the shopper's state (GDPR).
pub async fn erase(env: &Env, key: &str) -> std::result::Result<(), ApiError> {
    call(env, key, Method::Delete, "/", None)
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(())
}

/// Login: merges the anonymous shopper's state into the user's.
pub async fn merge(env: &Env, from: &str, into: &str) -> std::result::Result<(), ApiError> {
    let mut state = load(env, from).await?;
    if state.touches.is_empty() && state.bought.is_empty() {
        return Ok(());
    }
    state.linked.push(from.to_owned());
    let body = serde_json::to_string(&state)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    call(env, into, Method::Post, "/merge", Some(body))
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(())
}
