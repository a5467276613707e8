//! Per-shopper session state in a Durable Object (`SESSIONS` binding, class `Session`).
//!
//! One object per shopper key (`u:<user>` or `a:<anonymous>`), so every request for that shopper
//! sees the same history, strongly consistent, right after the event that changed it. The object
//! stores one [`SessionState`] value; what is kept and how it merges is decided in
//! `shared::session`. The worker talks to it over three internal paths:
//! `GET /` (read), `POST /add` (touches), `POST /merge` (another state), `DELETE /` (erase).

use shared::session::{SessionState, Touch};
use shared::{ApiError, Code};
use worker::{
    DurableObject, Env, Method, Request, RequestInit, Response, Result, State, durable_object,
    wasm_bindgen::JsValue,
};

const KEY: &str = "state";

#[durable_object(fetch)]
pub struct Session {
    state: State,
}

impl DurableObject for Session {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let storage = self.state.storage();
        let mut current: SessionState = storage.get(KEY).await?.unwrap_or_default();
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/") => Response::from_json(&current),
            (Method::Post, "/add") => {
                let touches: Vec<Touch> = req.json().await?;
                current.add(touches);
                storage.put(KEY, &current).await?;
                Response::from_json(&current)
            }
            (Method::Post, "/merge") => {
                let other: SessionState = req.json().await?;
                current.merge(other);
                storage.put(KEY, &current).await?;
                Response::from_json(&current)
            }
            (Method::Delete, "/") => {
                storage.delete_all().await?;
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

/// Login: merges the anonymous shopper's state into the user's.
pub async fn merge(env: &Env, from: &str, into: &str) -> std::result::Result<(), ApiError> {
    let state = load(env, from).await?;
    if state.touches.is_empty() {
        return Ok(());
    }
    let body = serde_json::to_string(&state)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    call(env, into, Method::Post, "/merge", Some(body))
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(())
}
