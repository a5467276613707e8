//! GDPR routes and the admin audit log (decisions in `shared::gdpr`; here only R2 and Durable
//! Object I/O).

use shared::gdpr::{AuditRecord, ErasureRequest, Export, REQUESTS, session_keys};
use shared::privacy::Pseudonymizer;
use shared::route::Route;
use shared::{ApiError, Code, lake};
use worker::{Bucket, Env};

use crate::http::{HandlerResult, json, now_ms, storage_error};
use crate::{sessions, settings};

/// Most raw files one export reads (the rest is reported as `truncated`).
const EXPORT_MAX_FILES: usize = 2_000;

fn pseudonymizer(env: &Env) -> Result<Pseudonymizer, ApiError> {
    settings::get(env).pseudonymizer.clone().ok_or_else(|| {
        ApiError::new(
            Code::NotConfigured,
            "the PSEUDONYM_KEY secret is not set: customers cannot be found in the lake",
        )
    })
}

fn lake_bucket(env: &Env) -> Result<Bucket, ApiError> {
    env.bucket("LAKE")
        .map_err(|e| storage_error("lake bucket", &e))
}

/// `DELETE /v1/admin/customers/{id}`: erases the session state now, records the lake erasure for
/// the next trainer run, answers `202` with the request (its job id and each store's status).
pub async fn erase(env: &Env, id: &str) -> HandlerResult {
    let p = pseudonymizer(env)?;
    let [user, anonymous] = session_keys(id);
    // The devices this user logged in from go too.
    let linked = sessions::load(env, &user).await?.linked;
    let mut held = 0;
    for key in linked.iter().chain([&user, &anonymous]) {
        let state = sessions::load(env, key).await?;
        if !(state.touches.is_empty() && state.bought.is_empty()) {
            held += 1;
        }
        sessions::erase(env, key).await?;
    }
    let devices: Vec<String> = linked
        .iter()
        .filter_map(|k| k.strip_prefix("a:").map(str::to_owned))
        .collect();
    let mut request = ErasureRequest::new(id, &devices, &p, now_ms());
    request.session_removed(held);
    record(env, &request).await
}

/// Stores an erasure request for the trainer and answers `202` with it.
async fn record(env: &Env, request: &ErasureRequest) -> HandlerResult {
    let body = serde_json::to_string(request)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    lake_bucket(env)?
        .put(request.key(), body)
        .execute()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    // This isolate's consumer drops the covered queued lines from now on; others within
    // their cache lifetime.
    crate::consumer::invalidate_erasures();
    json(202, request)
}

/// Shopify's `shop/redact`: records the erasure of every customer of `shop` for the next trainer
/// run (job `job_id`), answers `202` with the request. The queue consumer drops every earlier
/// line at once; session stores expire after their idle TTL (they cannot be enumerated).
pub async fn erase_shop(env: &Env, job_id: &str, shop: &str) -> HandlerResult {
    let p = pseudonymizer(env)?;
    record(env, &ErasureRequest::whole_shop(job_id, shop, &p, now_ms())).await
}

async fn text_of(bucket: &Bucket, key: &str) -> Result<Option<String>, ApiError> {
    let obj = bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    let Some(obj) = obj else { return Ok(None) };
    match obj.body() {
        Some(b) => Ok(Some(
            b.text()
                .await
                .map_err(|e| storage_error("lake bucket", &e))?,
        )),
        None => Ok(None),
    }
}

async fn keys_under(
    bucket: &Bucket,
    prefix: &str,
    budget: &mut usize,
) -> Result<(Vec<String>, bool), ApiError> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut list = bucket.list().prefix(prefix.to_owned()).limit(1000);
        if let Some(c) = cursor.take() {
            list = list.cursor(c);
        }
        let page = list
            .execute()
            .await
            .map_err(|e| storage_error("lake bucket", &e))?;
        for o in page.objects() {
            if *budget == 0 {
                return Ok((keys, true));
            }
            *budget -= 1;
            keys.push(o.key());
        }
        match (page.truncated(), page.cursor()) {
            (true, Some(c)) => cursor = Some(c),
            _ => return Ok((keys, false)),
        }
    }
}

/// `GET /v1/admin/customers/{id}/export`: session state, raw events and serves, and erasure
/// requests for the person.
pub async fn export(env: &Env, id: &str) -> HandlerResult {
    json(200, &export_of(env, id).await?)
}

/// Everything the edge holds on customer `id` (also what a Shopify data request stores).
pub async fn export_of(env: &Env, id: &str) -> Result<Export, ApiError> {
    let p = pseudonymizer(env)?;
    let mut out = Export {
        subject: p.pseudonym(id),
        generated_at: now_ms(),
        ..Export::default()
    };
    let mut keys: Vec<String> = session_keys(id).into();
    keys.extend(sessions::load(env, &keys[0]).await?.linked);
    for key in keys {
        let state = sessions::load(env, &key).await?;
        if !state.touches.is_empty() || !state.bought.is_empty() {
            out.sessions.insert(key, state);
        }
    }
    let bucket = lake_bucket(env)?;
    let mut budget = EXPORT_MAX_FILES;
    for prefix in [lake::RAW_EVENTS, lake::RAW_SERVES] {
        let (keys, truncated) = keys_under(&bucket, prefix, &mut budget).await?;
        out.truncated |= truncated;
        for key in keys {
            if let Some(text) = text_of(&bucket, &key).await? {
                out.add_raw(&key, &text);
            }
        }
    }
    let mut all = usize::MAX;
    let (keys, _) = keys_under(&bucket, REQUESTS, &mut all).await?;
    for key in keys {
        if let Some(text) = text_of(&bucket, &key).await?
            && let Ok(r) = serde_json::from_str::<ErasureRequest>(&text)
            && r.subject == out.subject
        {
            out.erasure_requests.push(r);
        }
    }
    out.notes.push(
        "Compacted events, orders and the customer profile (name, email, address; encrypted) are \
         in the lake's tables: `trainer export --customer <id>` reads them."
            .into(),
    );
    Ok(out)
}

/// Records an admin request in the audit log (best effort: a failed write is logged, and the
/// answer already given stands).
pub async fn audit(
    env: &Env,
    route: &Route,
    method: &str,
    path: &str,
    status: u16,
    ip: Option<&str>,
) {
    let p = settings::get(env).pseudonymizer.clone();
    let now = now_ms();
    let record = AuditRecord::new(route, method, path, status, ip, p.as_ref(), now);
    let nonce = format!("{:08x}", (js_sys_random() * f64::from(u32::MAX)) as u32);
    let Ok(body) = serde_json::to_string(&record) else {
        return;
    };
    match env.bucket("LAKE") {
        Ok(b) => {
            if let Err(e) = b.put(record.key(&nonce), body).execute().await {
                worker::console_error!("audit log write failed: {e}");
            }
        }
        Err(e) => worker::console_error!("audit log: no lake bucket: {e}"),
    }
}

fn js_sys_random() -> f64 {
    worker::js_sys::Math::random()
}
