//! The queue consumer: writes each delivered batch to the R2 lake bucket as NDJSON files.
//!
//! A failed write retries the whole batch through the queue's own retry; file names derive from
//! the message ids, so a redelivered batch rewrites its own files rather than adding copies.

use shared::ingest::{LakeMessage, batch_id, decode_messages, lake_files};
use worker::{Env, MessageBatch, MessageExt, Result};

use crate::http::now_ms;

pub async fn write_batch(batch: &MessageBatch<String>, env: &Env) -> Result<()> {
    let messages = batch.messages()?;
    let now = now_ms();
    let mut decoded = decode_messages(messages.iter().map(|m| m.body().as_str()), now);
    // Raw shopper ids never reach the lake: without the key the batch waits in the queue (and
    // ends in the dead-letter queue after its retries), it is never written in the clear.
    let Some(pseudonymizer) = crate::settings::get(env).pseudonymizer.clone() else {
        worker::console_error!("PSEUDONYM_KEY is not set: lake writes wait");
        batch.retry_all();
        return Ok(());
    };
    decoded.iter_mut().for_each(|m| pseudonymizer.message(m));
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
    let batch_name = batch_id(first, &id_refs);
    let bucket = env.bucket("LAKE")?;
    for (key, body) in lake_files(&decoded, &batch_name) {
        if let Err(e) = bucket.put(key.as_str(), body).execute().await {
            worker::console_error!("lake write {key} failed, retrying batch: {e}");
            batch.retry_all();
            return Ok(());
        }
    }
    batch.ack_all();
    Ok(())
}
