//! Admin endpoints (bearer admin key): the lake bridge the trainer uses to pull raw events out of
//! the worker's R2 lake bucket and to publish models into its R2 models bucket.
//!
//! In production the trainer talks to R2 directly through its S3 API; locally (`wrangler dev`)
//! these routes are how the same pipeline reaches the local buckets.

use shared::api::{LakeListQuery, LakeListing, LakeObject};
use shared::{ApiError, Code};
use worker::{Env, Request};

use crate::http::{self, HandlerResult, json, query_pairs, storage_error};

/// `GET /v1/admin/lake?prefix=raw/&cursor=`
pub async fn lake_list(req: &Request, env: &Env) -> HandlerResult {
    let q = LakeListQuery::parse(query_pairs(req))?;
    let bucket = env
        .bucket("LAKE")
        .map_err(|e| storage_error("lake bucket", &e))?;
    let mut list = bucket.list().prefix(q.prefix).limit(1000);
    if let Some(c) = q.cursor {
        list = list.cursor(c);
    }
    let objects = list
        .execute()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    let body = LakeListing {
        objects: objects
            .objects()
            .iter()
            .map(|o| LakeObject {
                key: o.key(),
                size: o.size(),
                etag: o.etag(),
            })
            .collect(),
        cursor: if objects.truncated() {
            objects.cursor()
        } else {
            None
        },
    };
    json(200, &body)
}

/// `GET /v1/admin/lake/{key}`
pub async fn lake_get(env: &Env, key: &str) -> HandlerResult {
    let bucket = env
        .bucket("LAKE")
        .map_err(|e| storage_error("lake bucket", &e))?;
    let obj = bucket
        .get(key)
        .execute()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    let Some(obj) = obj else {
        return Err(ApiError::new(
            Code::NotFound,
            format!("no lake object `{key}`"),
        ));
    };
    let Some(body) = obj.body() else {
        return Err(ApiError::new(
            Code::NotFound,
            format!("no lake object `{key}`"),
        ));
    };
    let data = body
        .bytes()
        .await
        .map_err(|e| storage_error("lake bucket", &e))?;
    http::bytes(data, "application/octet-stream")
}

/// Largest object the admin API takes into the models bucket (local publishing; production
/// writes R2 directly).
const MAX_MODEL_UPLOAD_BYTES: usize = 512 * 1024 * 1024;

/// A new `latest.json` must name an artifact that is already in the bucket and verifies against
/// it (size, CRC-32, SHA-256, decode, version): a bad pointer is refused before any isolate
/// follows it.
async fn check_pointer(env: &Env, data: &[u8]) -> Result<(), ApiError> {
    let manifest = shared::Manifest::parse(data)
        .map_err(|e| ApiError::new(Code::InvalidParameter, format!("latest.json: {e}")))?;
    let bucket = env
        .bucket("MODELS")
        .map_err(|e| storage_error("models bucket", &e))?;
    let object = bucket
        .get(&manifest.artifact)
        .execute()
        .await
        .map_err(|e| storage_error("models bucket", &e))?;
    let Some(body) = object.as_ref().and_then(worker::Object::body) else {
        return Err(ApiError::new(
            Code::InvalidParameter,
            format!(
                "latest.json points at `{}`, which is not in the bucket",
                manifest.artifact
            ),
        ));
    };
    let bytes = body
        .bytes()
        .await
        .map_err(|e| storage_error("models bucket", &e))?;
    manifest.verify(bytes).map(|_| ()).map_err(|e| {
        ApiError::new(
            Code::InvalidParameter,
            format!("latest.json does not match `{}`: {e}", manifest.artifact),
        )
    })
}

/// `PUT /v1/admin/models/{key}`
pub async fn model_put(mut req: Request, env: &Env, key: &str) -> HandlerResult {
    http::check_declared_length(&req, MAX_MODEL_UPLOAD_BYTES, "the upload")?;
    let bucket = env
        .bucket("MODELS")
        .map_err(|e| storage_error("models bucket", &e))?;
    let declared = http::declared_length(&req);
    let size = match (key == shared::lake::LATEST, declared, req.inner().body()) {
        // An artifact of known length goes from the request straight into R2: its bytes never
        // enter wasm memory, which never shrinks (a 40 MB upload held that way left the
        // receiving isolate 90 MiB larger for good). R2 writes the whole object or nothing.
        (false, Some(n), Some(stream)) => {
            bucket
                .put(key, stream)
                .execute()
                .await
                .map_err(|e| storage_error("models bucket", &e))?;
            n
        }
        _ => {
            let data = http::read_body(&mut req, MAX_MODEL_UPLOAD_BYTES, "the upload").await?;
            let size = data.len();
            if key == shared::lake::LATEST {
                check_pointer(env, &data).await?;
            }
            bucket
                .put(key, data)
                .execute()
                .await
                .map_err(|e| storage_error("models bucket", &e))?;
            size
        }
    };
    json(201, &serde_json::json!({ "key": key, "size": size }))
}

/// `GET /v1/admin/dashboard`: the dashboard data `trainer kpis` published to the models store.
pub async fn dashboard(env: &Env) -> HandlerResult {
    let bucket = env
        .bucket("MODELS")
        .map_err(|e| storage_error("models bucket", &e))?;
    let object = bucket
        .get(shared::lake::DASHBOARD_KEY)
        .execute()
        .await
        .map_err(|e| storage_error("models bucket", &e))?;
    let Some(body) = object.as_ref().and_then(worker::Object::body) else {
        return Err(ApiError::new(
            Code::NotFound,
            "no dashboard data yet: run `trainer kpis` with --models or --worker",
        ));
    };
    let bytes = body
        .bytes()
        .await
        .map_err(|e| storage_error("models bucket", &e))?;
    http::bytes(bytes, "application/json")
}

/// `GET /v1/admin/rules`: the merchandising rules document in force.
pub async fn rules_get(env: &Env) -> HandlerResult {
    let rules = crate::rules_cache::current(env).await;
    json(200, &*rules)
}

/// `PUT /v1/admin/rules`: validates and replaces the merchandising rules.
pub async fn rules_put(mut req: Request, env: &Env) -> HandlerResult {
    let data = http::read_body(
        &mut req,
        shared::rules::MAX_RULES_BYTES,
        "the rules document",
    )
    .await?;
    let rules = shared::rules::RuleSet::parse(&data)?;
    let text = serde_json::to_string(&rules)
        .map_err(|_| ApiError::new(Code::Internal, "internal error"))?;
    let bucket = env
        .bucket("MODELS")
        .map_err(|e| storage_error("models bucket", &e))?;
    bucket
        .put(shared::rules::RULES_KEY, text.into_bytes())
        .execute()
        .await
        .map_err(|e| storage_error("models bucket", &e))?;
    crate::rules_cache::install(std::rc::Rc::new(rules.clone()), http::now_ms());
    json(200, &rules)
}
