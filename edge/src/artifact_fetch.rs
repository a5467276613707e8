//! Reads of the models bucket. How an artifact's bytes reach the isolate: from the data centre's Workers Cache when a copy is
//! there, else from R2, and a verified copy goes back into the cache.
//!
//! The body is read into one buffer on the JS heap, hashed there by the runtime's WebCrypto
//! (native SHA-256; a software hash in wasm was most of a cold load) and copied into wasm once.
//! The same buffer, not a wasm copy, is what the cache receives after verification: wasm memory
//! never shrinks, so the isolate keeps exactly one copy of the artifact. (Streaming the body into
//! wasm chunk by chunk through `crypto.DigestStream` avoided the JS buffer but was 2.5× slower.)
//! Where a runtime lacks WebCrypto the hash is left to `Manifest::verify` in wasm.
//!
//! Only I/O here; what is verified and installed is decided in `shared::model_slot`.

use worker::js_sys::{self, Function, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{Cache, Env, Headers, Response, ResponseBody, web_sys};

/// An artifact's bytes, their SHA-256 (lowercase hex) when the runtime computed it, and the
/// JS buffer they were copied from (for the cache).
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub sha256: Option<String>,
    pub buffer: JsValue,
}

fn js_error(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

async fn settle(value: JsValue) -> Result<JsValue, String> {
    let promise: Promise = value.dyn_into().map_err(js_error)?;
    JsFuture::from(promise).await.map_err(js_error)
}

/// `crypto.subtle.digest("SHA-256", buffer)`, or `None` without WebCrypto.
async fn sha256(buffer: &JsValue) -> Option<String> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).ok()?;
    let digest: Function = Reflect::get(&subtle, &"digest".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let pending = digest.call2(&subtle, &"SHA-256".into(), buffer).ok()?;
    let hash = settle(pending).await.ok()?;
    Some(shared::hash::hex(&Uint8Array::new(&hash).to_vec()))
}

/// Reads a response body: hashed on the JS heap, copied into wasm once.
async fn read_all(response: &web_sys::Response) -> Result<Fetched, String> {
    let buffer = settle(response.array_buffer().map_err(js_error)?.into()).await?;
    let sha256 = sha256(&buffer).await;
    // `to_vec` copies into uninitialised capacity: no zeroing pass first.
    let bytes = Uint8Array::new(&buffer).to_vec();
    Ok(Fetched {
        bytes,
        sha256,
        buffer,
    })
}

async fn object(env: &Env, key: &str) -> Result<Option<worker::Object>, String> {
    env.bucket("MODELS")
        .map_err(|e| format!("MODELS bucket: {e}"))?
        .get(key)
        .execute()
        .await
        .map_err(|e| format!("reading {key}: {e}"))
}

/// A small object of the models bucket (a manifest), whole.
pub async fn small(env: &Env, key: &str) -> Result<Option<Vec<u8>>, String> {
    let obj = object(env, key).await?;
    let Some(body) = obj.as_ref().and_then(|o| o.body()) else {
        return Ok(None);
    };
    body.bytes()
        .await
        .map(Some)
        .map_err(|e| format!("reading {key}: {e}"))
}

/// The artifact at `key` in the models bucket.
pub async fn from_r2(env: &Env, key: &str) -> Result<Option<Fetched>, String> {
    let obj = object(env, key).await?;
    let Some(body) = obj.as_ref().and_then(|o| o.body()) else {
        return Ok(None);
    };
    let ResponseBody::Stream(stream) = body
        .response_body()
        .map_err(|e| format!("reading {key}: {e}"))?
    else {
        return Err(format!("reading {key}: the object has no body stream"));
    };
    let response =
        web_sys::Response::new_with_opt_readable_stream(Some(&stream)).map_err(js_error)?;
    read_all(&response)
        .await
        .map(Some)
        .map_err(|e| format!("reading {key}: {e}"))
}

/// The data centre's cached copy at `url`, if any.
pub async fn from_cache(cache: &Cache, url: &str) -> Result<Option<Fetched>, String> {
    let Some(response) = cache.get(url, false).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    read_all(&response.into()).await.map(Some)
}

/// Leaves a verified artifact's buffer in the cache for the next isolate here (immutable: the
/// key names the SHA-256).
pub async fn keep(cache: &Cache, url: &str, buffer: &JsValue) -> Result<(), String> {
    let body: js_sys::Object = buffer.clone().dyn_into().map_err(js_error)?;
    let response = web_sys::Response::new_with_opt_buffer_source(Some(&body)).map_err(js_error)?;
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("cache-control", "public, max-age=31536000, immutable")?;
    set("content-type", "application/octet-stream")?;
    let response = Response::from(response).with_headers(headers);
    cache.put(url, response).await.map_err(|e| e.to_string())
}
