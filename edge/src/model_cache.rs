//! The isolate's model: loaded once, re-checked at most every `MODEL_REFRESH_SECONDS`, and kept
//! when a newer artifact fails to load; a fresh isolate that cannot load `latest` serves the last
//! known good model instead (policy in `shared::model_slot`).
//!
//! Artifacts are read through the data center's Workers Cache (keyed by key and SHA-256,
//! immutable) and only on a miss from R2, so the bytes cross from R2 once per location and
//! version rather than once per isolate; `/v1/model` says which (`fetched_from`). The Cache API
//! only works on a custom domain: on `*.workers.dev` every miss falls through to R2.
//!
//! The bytes are hashed natively before they enter wasm (`artifact_fetch`); a matching SHA-256
//! stands in for the manifest's CRC-32, and the one pass in wasm is the artifact's own checksum
//! (`Manifest::verify_digested`; xxHash64 from format v5). That pass stays even though the
//! SHA-256 matched: it is what catches bytes damaged before their manifest was written (the
//! regression test `bad_artifacts_never_replace_the_live_model`).
//!
//! What the loading request does not need for its answer — leaving the verified bytes in the
//! cache, advancing `models/last-good.json` — waits until the response is sent
//! ([`after_response`]), so a cold isolate's first answer pays neither the cache write nor the
//! extra R2 round trips.

use std::cell::RefCell;
use std::rc::Rc;

use shared::model_slot::{Decision, ModelSlot, SlotStatus, Source};
use shared::{Manifest, Model, lake};
use worker::wasm_bindgen::JsValue;
use worker::{Cache, Context, Env};

use crate::artifact_fetch;

use crate::http::now_ms;

/// Work a load leaves for after the response.
enum Deferred {
    /// Put verified artifact bytes (a JS buffer) in the data centre's cache under this URL.
    Keep {
        url: String,
        sha256: String,
        buffer: JsValue,
    },
    /// Point `models/last-good.json` at the model just verified through `latest`.
    AdvanceLastGood,
}

thread_local! {
    static SLOT: RefCell<Option<ModelSlot>> = const { RefCell::new(None) };
    static DEFERRED: RefCell<Vec<Deferred>> = const { RefCell::new(Vec::new()) };
}

fn defer(work: Deferred) {
    DEFERRED.with(|d| d.borrow_mut().push(work));
}

/// Runs what loads deferred, after the response (`ctx.wait_until`); called on every request.
pub fn after_response(env: &Env, ctx: &Context) {
    let work = DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    if work.is_empty() {
        return;
    }
    let env = env.clone();
    ctx.wait_until(async move {
        for w in work {
            match w {
                Deferred::Keep {
                    url,
                    sha256,
                    buffer,
                } => {
                    // Only verified bytes are cached; a failure costs the next isolate an R2
                    // read, nothing more.
                    match artifact_fetch::keep(&Cache::default(), &url, &buffer).await {
                        Ok(()) => with_slot(&env, |s| s.mark_in_cache(&sha256)),
                        Err(e) => worker::console_warn!("artifact cache: {e}"),
                    }
                }
                Deferred::AdvanceLastGood => advance_last_good(&env).await,
            }
        }
    });
}

fn with_slot<R>(env: &Env, f: impl FnOnce(&mut ModelSlot) -> R) -> R {
    SLOT.with(|cell| {
        let mut slot = cell.borrow_mut();
        let slot = slot.get_or_insert_with(|| ModelSlot::new(crate::settings::get(env).refresh_ms));
        f(slot)
    })
}

async fn refresh(env: &Env) -> Result<(), String> {
    let Some(bytes) = artifact_fetch::small(env, lake::LATEST).await? else {
        return Err(format!(
            "no model published yet ({} is missing)",
            lake::LATEST
        ));
    };
    let manifest = Manifest::parse(&bytes).map_err(|e| format!("{}: {e}", lake::LATEST))?;
    let decision = with_slot(env, |s| s.decide(&manifest));
    let Decision::Load { .. } = decision else {
        return Ok(());
    };
    load(env, Source::Latest, manifest).await?;
    defer(Deferred::AdvanceLastGood);
    Ok(())
}

/// Loads the artifact `manifest` names into the slot: the data center's cached copy when there is
/// one and it verifies, else R2's, which is then left in the cache for the next isolate here.
async fn load(env: &Env, source: Source, manifest: Manifest) -> Result<(), String> {
    let url = manifest.cache_url();
    let cache = Cache::default();
    match artifact_fetch::from_cache(&cache, &url).await {
        Ok(Some(copy)) => {
            let now = now_ms();
            match with_slot(env, |s| {
                s.install_cached(
                    source,
                    manifest.clone(),
                    copy.bytes,
                    copy.sha256.as_deref(),
                    now,
                )
            }) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    worker::console_warn!("{e}; reading R2");
                    if let Err(e) = cache.delete(url.as_str(), false).await {
                        worker::console_warn!("artifact cache: {e}");
                    }
                }
            }
        }
        Ok(None) => {}
        Err(e) => worker::console_warn!("artifact cache: {e}"),
    }
    let Some(artifact) = artifact_fetch::from_r2(env, &manifest.artifact).await? else {
        let pointer = match source {
            Source::Latest => lake::LATEST,
            Source::LastGood => lake::LAST_GOOD,
        };
        return Err(format!(
            "{pointer} points at {}, which is missing",
            manifest.artifact
        ));
    };
    let now = now_ms();
    let artifact_fetch::Fetched {
        bytes,
        sha256,
        buffer,
    } = artifact;
    let digest = manifest.sha256.clone();
    with_slot(env, |s| {
        s.install_from(source, manifest, bytes, sha256.as_deref(), now)
    })?;
    defer(Deferred::Keep {
        url,
        sha256: digest,
        buffer,
    });
    Ok(())
}

/// Points `models/last-good.json` at the model just verified through `latest`, unless it already
/// does. A failure here only costs the fallback its freshness.
async fn advance_last_good(env: &Env) {
    let current = match artifact_fetch::small(env, lake::LAST_GOOD).await {
        Ok(bytes) => bytes.and_then(|b| Manifest::parse(&b).ok()),
        Err(e) => {
            worker::console_warn!("{}: {e}", lake::LAST_GOOD);
            return;
        }
    };
    let Some(json) = with_slot(env, |s| {
        s.advances(current.as_ref())
            .then(|| s.manifest().map(Manifest::to_json))
            .flatten()
    }) else {
        return;
    };
    let written = match env.bucket("MODELS") {
        Ok(b) => b
            .put(lake::LAST_GOOD, json.into_bytes())
            .execute()
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = written {
        worker::console_warn!("{}: {e}", lake::LAST_GOOD);
    }
}

/// A fresh isolate whose `latest` failed: load the last known good model, verified like any.
async fn fall_back(env: &Env) -> Result<(), String> {
    let Some(bytes) = artifact_fetch::small(env, lake::LAST_GOOD).await? else {
        return Err(format!("no {} to fall back to", lake::LAST_GOOD));
    };
    let manifest = Manifest::parse(&bytes).map_err(|e| format!("{}: {e}", lake::LAST_GOOD))?;
    load(env, Source::LastGood, manifest).await
}

/// The live model, refreshing it first when the check is due.
pub async fn current(env: &Env) -> Option<Rc<Model>> {
    let now = now_ms();
    if with_slot(env, |s| s.begin_check(now))
        && let Err(e) = refresh(env).await
    {
        worker::console_warn!("model refresh: {e}");
        with_slot(env, |s| s.record_error(e));
        if with_slot(env, |s| s.wants_fallback())
            && let Err(e) = fall_back(env).await
        {
            worker::console_warn!("model fallback: {e}");
        }
    }
    with_slot(env, |s| s.model())
}

/// What `/v1/model` shows.
pub async fn status(env: &Env) -> SlotStatus {
    let _ = current(env).await;
    with_slot(env, |s| s.status())
}
