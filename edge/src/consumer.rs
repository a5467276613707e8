//! The queue consumers: the events queue's batches become NDJSON files in the R2 lake bucket;
//! the dead-letter queue's batches (those that failed every retry) become `raw/dead/` files for
//! `trainer replay-dead`, with an alert.
//!
//! A failed write retries the whole batch through the queue, after a delay that grows with the
//! batch's age (`shared::ingest::retry_delay_seconds`); file names derive from the message ids, so
//! a redelivered batch rewrites its own files rather than adding copies. Lines of people erased
//! before the lines' time are dropped here, so late data cannot bring them back.

use std::cell::RefCell;

use shared::gdpr::{ErasureList, ErasureRequest, drop_erased};
use shared::ingest::{LakeMessage, batch_id, dead_letter_file, decode_messages, lake_files};
use worker::{Bucket, Env, MessageBatch, MessageExt, QueueRetryOptionsBuilder, Result};

use crate::http::now_ms;
use crate::settings;

/// How long an isolate trusts its copy of the erasure list.
const ERASURES_TTL_MS: i64 = 30_000;

thread_local! {
    static ERASURES: RefCell<Option<(i64, ErasureList)>> = const { RefCell::new(None) };
}

/// Forgets the cached erasure list (an erasure was just recorded in this isolate).
pub fn invalidate_erasures() {
    ERASURES.with(|c| *c.borrow_mut() = None);
}

/// The erasure list: `gdpr/erased.json` and the pending requests, cached for a short while.
async fn erasures(lake: &Bucket, now: i64) -> std::result::Result<ErasureList, String> {
    if let Some(list) = ERASURES.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(at, _)| now - *at < ERASURES_TTL_MS)
            .map(|(_, l)| l.clone())
    }) {
        return Ok(list);
    }
    let text = |b: Option<worker::Object>| async move {
        match b.as_ref().and_then(worker::Object::body) {
            Some(body) => body.text().await.map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    };
    let erased: Vec<shared::gdpr::Erased> = text(
        lake.get(shared::lake::GDPR_ERASED)
            .execute()
            .await
            .map_err(|e| e.to_string())?,
    )
    .await?
    .map(|t| serde_json::from_str(&t).map_err(|e| format!("{}: {e}", shared::lake::GDPR_ERASED)))
    .transpose()?
    .unwrap_or_default();
    let mut pending = Vec::new();
    let listing = lake
        .list()
        .prefix(shared::lake::GDPR_REQUESTS.to_owned())
        .execute()
        .await
        .map_err(|e| e.to_string())?;
    for obj in listing.objects() {
        let got = lake
            .get(obj.key())
            .execute()
            .await
            .map_err(|e| e.to_string())?;
        if let Some(t) = text(got).await?
            && let Ok(r) = serde_json::from_str::<ErasureRequest>(&t)
        {
            pending.push(r);
        }
    }
    let list = ErasureList::new(&erased, &pending);
    ERASURES.with(|c| *c.borrow_mut() = Some((now, list.clone())));
    Ok(list)
}

/// Under `DEV_MODE` only: whether the local reliability tests asked lake writes to fail now.
async fn injected_write_fault(env: &Env, now: i64) -> bool {
    if !settings::get(env).dev_mode {
        return false;
    }
    let Ok(bucket) = env.bucket("MODELS") else {
        return false;
    };
    let Ok(Some(obj)) = bucket.get(shared::lake::DEV_FAULTS).execute().await else {
        return false;
    };
    let Some(body) = obj.body() else { return false };
    let Ok(text) = body.text().await else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["lake_writes_fail_until"].as_i64())
        .is_some_and(|until| now < until)
}

fn retry_later(batch: &MessageBatch<String>, env: &Env, oldest_ms: i64, now: i64, why: &str) {
    // The dead-letter queue is the last stop: it always backs off (at least 1 s × age), so its
    // retries outlast an outage rather than spending themselves at once.
    let base = settings::get(env).retry_base_s;
    let base = if batch.queue().ends_with("-dlq") {
        base.max(1)
    } else {
        base
    };
    let delay = shared::ingest::retry_delay_seconds(now - oldest_ms, base);
    worker::console_error!("lake write failed ({why}); batch retried in {delay} s");
    batch.retry_all_with_options(
        &QueueRetryOptionsBuilder::new()
            .with_delay_seconds(delay)
            .build(),
    );
}

/// Either queue's batch.
pub async fn on_batch(batch: &MessageBatch<String>, env: &Env) -> Result<()> {
    if batch.queue().ends_with("-dlq") {
        dead_letters(batch, env).await
    } else {
        write_batch(batch, env).await
    }
}

/// Decoded, pseudonymised messages of a batch, with what names the files; `None` when the batch
/// must wait (no key to pseudonymise with, or the erasure list is unreadable).
async fn prepare(
    batch: &MessageBatch<String>,
    env: &Env,
    now: i64,
) -> Result<Option<(Vec<LakeMessage>, String, i64)>> {
    let messages = batch.messages()?;
    let oldest = messages
        .iter()
        .map(|m| i64::try_from(m.timestamp().as_millis()).unwrap_or(now))
        .min()
        .unwrap_or(now);
    let mut decoded = decode_messages(messages.iter().map(|m| m.body().as_str()), now);
    // Raw shopper ids never reach the lake: without the key the batch waits in the queue (and
    // ends in the dead-letter queue after its retries), it is never written in the clear.
    let Some(pseudonymizer) = settings::get(env).pseudonymizer.clone() else {
        retry_later(batch, env, oldest, now, "PSEUDONYM_KEY is not set");
        return Ok(None);
    };
    decoded.iter_mut().for_each(|m| pseudonymizer.message(m));
    let lake = env.bucket("LAKE")?;
    match erasures(&lake, now).await {
        Ok(list) => {
            let dropped = drop_erased(&mut decoded, &list);
            if dropped > 0 {
                worker::console_log!("{dropped} line(s) of erased people dropped");
            }
        }
        Err(e) => {
            retry_later(
                batch,
                env,
                oldest,
                now,
                &format!("erasure list unreadable: {e}"),
            );
            return Ok(None);
        }
    }
    let first = decoded
        .iter()
        .map(|m| match m {
            LakeMessage::Event { event } => event.received_at.unwrap_or(now),
            LakeMessage::Rejected { rejected } => rejected.received_at,
            LakeMessage::Serve { serve } => serve.timestamp,
        })
        .min()
        .unwrap_or(now);
    let ids: Vec<String> = messages.iter().map(MessageExt::id).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    Ok(Some((decoded, batch_id(first, &id_refs), oldest)))
}

async fn put_all(
    env: &Env,
    files: Vec<(String, String)>,
    now: i64,
) -> std::result::Result<(), String> {
    if injected_write_fault(env, now).await {
        return Err("injected fault (DEV_MODE)".into());
    }
    let bucket = env.bucket("LAKE").map_err(|e| e.to_string())?;
    for (key, body) in files {
        bucket
            .put(key.as_str(), body)
            .execute()
            .await
            .map_err(|e| format!("{key}: {e}"))?;
    }
    Ok(())
}

/// The events queue: every message of the batch to its lake file.
pub async fn write_batch(batch: &MessageBatch<String>, env: &Env) -> Result<()> {
    let now = now_ms();
    let Some((messages, name, oldest)) = prepare(batch, env, now).await? else {
        return Ok(());
    };
    match put_all(env, lake_files(&messages, &name), now).await {
        Ok(()) => batch.ack_all(),
        Err(e) => retry_later(batch, env, oldest, now, &e),
    }
    Ok(())
}

/// The dead-letter queue: the batch, pseudonymised, to `raw/dead/` for `trainer replay-dead`,
/// and an alert; retried (with backoff) until the lake takes it.
async fn dead_letters(batch: &MessageBatch<String>, env: &Env) -> Result<()> {
    let now = now_ms();
    let Some((messages, name, oldest)) = prepare(batch, env, now).await? else {
        return Ok(());
    };
    let (key, body) = dead_letter_file(&messages, &name, now);
    match put_all(env, vec![(key.clone(), body)], now).await {
        Ok(()) => {
            batch.ack_all();
            crate::alerts::dead_letters(env, messages.len(), &key, now).await;
        }
        Err(e) => retry_later(batch, env, oldest, now, &e),
    }
    Ok(())
}
