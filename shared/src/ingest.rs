//! Batch ingestion: parse a `POST /v1/events` body, validate each event, and lay accepted and
//! rejected events out as lake files.
//!
//! The edge calls [`parse_batch`] in the request and [`lake_files`] in the queue consumer; both are
//! pure, so the whole path is tested here. Nothing is dropped: every event in a parsed batch is
//! either accepted or quarantined with its error.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{ApiError, Code};
use crate::event::{Event, MAX_EVENT_BYTES, ValidationError, ValidationPolicy, validate};
use crate::lake;
use crate::time::date_of;

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 500;
/// Largest batch body in bytes.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// A rejected event as kept in `raw/quarantine/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    /// When the edge received it, epoch milliseconds.
    pub received_at: i64,
    /// Position in its batch.
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub field: String,
    pub code: String,
    pub message: String,
    /// The event as sent (a string cut to a bounded size when it was too large to keep whole).
    pub raw: Value,
}

/// One queue message: an accepted event or a rejected one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LakeMessage {
    Event {
        event: Box<Event>,
    },
    Rejected {
        rejected: Quarantined,
    },
    /// What a recommendation response showed, for attribution (written by the edge itself).
    Serve {
        serve: Box<Serve>,
    },
}

/// One recommendation response as the lake records it: impression, click, cart and purchase
/// events carrying its `serve_id` attribute revenue to its placement, variant and model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Serve {
    pub serve_id: String,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The widget (`for_you`, `similar`, a batch widget's id).
    pub placement: String,
    pub variant: String,
    pub model_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    /// The product the widget was about (similar, bought together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// Shown items, in order.
    pub items: Vec<String>,
    pub took_ms: f64,
    /// The search query (search serves); with `items` empty, a zero-result search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Search serves: how many products matched (0: a zero-result search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
}

/// The outcome of one batch.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub accepted: Vec<Event>,
    pub rejected: Vec<Quarantined>,
    /// The body's `user_token` (the shop's signature of the `user_id` its events name).
    pub user_token: Option<String>,
}

/// Per-event error in the `202` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventError {
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// The `202` answer to `POST /v1/events`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestResponse {
    pub accepted: usize,
    pub rejected: usize,
    pub errors: Vec<EventError>,
}

impl BatchOutcome {
    /// All events as queue messages, accepted first.
    pub fn messages(&self) -> Vec<LakeMessage> {
        let events = self.accepted.iter().map(|e| LakeMessage::Event {
            event: Box::new(e.clone()),
        });
        let rejected = self.rejected.iter().map(|r| LakeMessage::Rejected {
            rejected: r.clone(),
        });
        events.chain(rejected).collect()
    }

    /// The answer body.
    pub fn response(&self) -> IngestResponse {
        IngestResponse {
            accepted: self.accepted.len(),
            rejected: self.rejected.len(),
            errors: self
                .rejected
                .iter()
                .map(|r| EventError {
                    index: r.index,
                    event_id: r.event_id.clone(),
                    field: r.field.clone(),
                    code: r.code.clone(),
                    message: r.message.clone(),
                })
                .collect(),
        }
    }
}

/// Parses a batch body: `{"events":[...]}` or a bare array.
///
/// Whole-batch faults (too large, not JSON, no events) are an [`ApiError`]; single bad events are
/// quarantined and the rest accepted.
pub fn parse_batch(
    body: &[u8],
    now_ms: i64,
    policy: &ValidationPolicy,
) -> Result<BatchOutcome, ApiError> {
    if body.len() > MAX_BATCH_BYTES {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!(
                "batch is {} bytes; the limit is {MAX_BATCH_BYTES}",
                body.len()
            ),
        ));
    }
    let mut token = None;
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(Code::InvalidJson, format!("body is not valid JSON: {e}")))?;
    let events = match doc {
        Value::Array(items) => items,
        Value::Object(mut obj) => match obj.remove("events") {
            Some(Value::Array(items)) if obj.contains_key("user_token") => {
                token = obj
                    .remove("user_token")
                    .and_then(|t| t.as_str().map(str::to_owned));
                items
            }
            Some(Value::Array(items)) => items,
            _ => {
                return Err(ApiError::new(
                    Code::InvalidJson,
                    "body must be {\"events\": [...]} or an array of events",
                ));
            }
        },
        _ => {
            return Err(ApiError::new(
                Code::InvalidJson,
                "body must be {\"events\": [...]} or an array of events",
            ));
        }
    };
    if events.is_empty() {
        return Err(ApiError::new(Code::EmptyBatch, "batch has no events"));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::new(
            Code::TooManyEvents,
            format!(
                "batch has {} events; the limit is {MAX_BATCH_EVENTS}",
                events.len()
            ),
        ));
    }
    let mut out = BatchOutcome {
        user_token: token,
        ..BatchOutcome::default()
    };
    let mut seen = HashSet::new();
    for (index, raw) in events.into_iter().enumerate() {
        let result = validate(&raw, now_ms, policy).and_then(|e| {
            if seen.insert(e.event_id.clone()) {
                Ok(e)
            } else {
                Err(ValidationError {
                    field: "event_id".into(),
                    reason: crate::event::Reason::Duplicate,
                })
            }
        });
        match result {
            Ok(mut event) => {
                event.received_at = Some(now_ms);
                out.accepted.push(event);
            }
            Err(err) => out.rejected.push(quarantine(index, raw, &err, now_ms)),
        }
    }
    Ok(out)
}

pub(crate) fn quarantine(
    index: usize,
    raw: Value,
    err: &ValidationError,
    now_ms: i64,
) -> Quarantined {
    let event_id = raw
        .get("event_id")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(128).collect());
    let text = raw.to_string();
    let raw = if text.len() > MAX_EVENT_BYTES {
        withheld(text.as_bytes(), "larger than the event limit")
    } else {
        raw
    };
    Quarantined {
        received_at: now_ms,
        index,
        event_id,
        field: err.field.clone(),
        code: err.reason.code().to_owned(),
        message: err.to_string(),
        raw,
    }
}

/// What the lake keeps of a body it cannot store as it came (too large, unreadable): its SHA-256,
/// its size and why, never the text, which may hold anything a client sent.
pub fn withheld(body: &[u8], reason: &str) -> Value {
    serde_json::json!({
        "withheld": reason,
        "bytes": body.len(),
        "sha256": crate::hash::sha256_hex(body),
    })
}

/// Decodes queue message bodies; a body that is not a [`LakeMessage`] (a producer bug, or a message
/// from an older build) is kept in quarantine with code `unreadable_message`, never dropped.
pub fn decode_messages<'a>(
    bodies: impl IntoIterator<Item = &'a str>,
    now_ms: i64,
) -> Vec<LakeMessage> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(index, body)| {
            serde_json::from_str(body).unwrap_or_else(|e| LakeMessage::Rejected {
                rejected: Quarantined {
                    received_at: now_ms,
                    index,
                    event_id: None,
                    field: "message".into(),
                    code: "unreadable_message".into(),
                    message: format!("queue message is not a lake message: {e}"),
                    raw: withheld(body.as_bytes(), "not a lake message"),
                },
            })
        })
        .collect()
}

/// Splits encoded messages into queue sends within Cloudflare's limits (100 messages, 256 KB).
pub fn send_chunks(encoded: Vec<String>) -> Vec<Vec<String>> {
    const MAX_MESSAGES: usize = 100;
    const MAX_BYTES: usize = 240 * 1024;
    let mut chunks: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for m in encoded {
        let full = chunks
            .last()
            .is_none_or(|c| c.len() >= MAX_MESSAGES || bytes + m.len() > MAX_BYTES);
        if full {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += m.len();
        if let Some(c) = chunks.last_mut() {
            c.push(m);
        }
    }
    chunks
}

/// A stable id for a consumer batch from its message ids: the same messages always name the same
/// files, so a redelivered batch overwrites its own output instead of adding a copy.
pub fn batch_id(first_received_at: i64, message_ids: &[&str]) -> String {
    let mut ids: Vec<&str> = message_ids.to_vec();
    ids.sort_unstable();
    let mut joined = Vec::new();
    for id in ids {
        joined.extend_from_slice(id.as_bytes());
        joined.push(0);
    }
    let h = crate::hash::fnv1a_bytes(&joined);
    format!("{first_received_at:013}-{h:016x}")
}

/// How long a batch that failed to write waits before its next attempt: it grows with the
/// batch's age (`base` × (1 + age in seconds), at most 15 minutes), so a short outage is retried
/// at once and a long one is not hammered. `base` 0 retries immediately (the local tests).
pub fn retry_delay_seconds(age_ms: i64, base_seconds: u32) -> u32 {
    let age_s = u32::try_from(age_ms.max(0) / 1000).unwrap_or(u32::MAX);
    base_seconds
        .saturating_mul(age_s.saturating_add(1))
        .min(900)
}

/// A dead-letter batch as one lake file under `raw/dead/` (dated by `now_ms`): each line a lake
/// message as the queue carried it, so `trainer replay-dead` can put it back.
pub fn dead_letter_file(messages: &[LakeMessage], batch: &str, now_ms: i64) -> (String, String) {
    let mut body = String::new();
    for m in messages {
        if let Ok(line) = serde_json::to_string(m) {
            body.push_str(&line);
            body.push('\n');
        }
    }
    (lake::dead_letters_key(&date_of(now_ms), batch), body)
}

/// Lays a consumer batch out as lake files: accepted events by event date under `raw/events/`,
/// rejected ones by receive date under `raw/quarantine/`; NDJSON, one record per line.
pub fn lake_files(messages: &[LakeMessage], batch: &str) -> Vec<(String, String)> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for m in messages {
        let (key, line) = match m {
            LakeMessage::Event { event } => (
                lake::raw_events_key(&date_of(event.timestamp), batch),
                serde_json::to_string(event),
            ),
            LakeMessage::Rejected { rejected } => (
                lake::quarantine_key(&date_of(rejected.received_at), batch),
                serde_json::to_string(rejected),
            ),
            LakeMessage::Serve { serve } => (
                lake::raw_serves_key(&date_of(serve.timestamp), batch),
                serde_json::to_string(serve),
            ),
        };
        if let Ok(line) = line {
            let body = files.entry(key).or_default();
            body.push_str(&line);
            body.push('\n');
        }
    }
    files.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_790_000_000_000;

    fn view(id: &str) -> Value {
        json!({"event_id": id, "type": "view", "anonymous_id": "anon-7Kq2xP9mZ4wL", "session_id": "s",
               "timestamp": NOW - 10, "item_id": "i1"})
    }

    fn parse(body: &Value) -> Result<BatchOutcome, ApiError> {
        parse_batch(
            body.to_string().as_bytes(),
            NOW,
            &ValidationPolicy::default(),
        )
    }

    /// Regression (fuzz `event_batch`, crash-cfd8e334): a number in a quarantined event's raw
    /// JSON came out of the queue one ULP off (`…3333e+121` → `…333e+121`); serde_json now parses
    /// floats exactly (`float_roundtrip`), so every message crosses the queue unchanged.
    #[test]
    fn fuzz_event_batch_queue_round_trip_keeps_every_number() {
        let big = format!("-1{}", "3".repeat(121));
        let body = format!(
            r#"{{"events":[{{"event_id":"e10","type":"view","itimestamp":{big},"item_id":"p"}},
                {{"event_id":"e11","type":"add_to_cart","anonymous_id": "anon-7Kq2xP9mZ4wL","session_id":"s",
                  "timestamp":{},"item_id":"i","quantity":1,"price":0.30000000000000004,
                  "currency":"EUR"}}]}}"#,
            NOW - 10
        );
        let out = parse_batch(body.as_bytes(), NOW, &ValidationPolicy::default()).unwrap();
        assert_eq!((out.accepted.len(), out.rejected.len()), (1, 1));
        let encoded: Vec<String> = out
            .messages()
            .iter()
            .map(|m| serde_json::to_string(m).unwrap())
            .collect();
        let decoded = decode_messages(encoded.iter().map(String::as_str), NOW);
        for (before, after) in encoded.iter().zip(&decoded) {
            assert_eq!(before, &serde_json::to_string(after).unwrap());
        }
    }

    #[test]
    fn splits_good_and_bad_events() {
        let mut bad = view("e2");
        bad["price"] = json!(-3);
        let out = parse(&json!({"events": [view("e1"), bad, view("e3")]})).unwrap();
        assert_eq!(out.accepted.len(), 2);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].index, 1);
        assert_eq!(out.rejected[0].field, "price");
        assert_eq!(out.accepted[0].received_at, Some(NOW));
        let resp = out.response();
        assert_eq!((resp.accepted, resp.rejected), (2, 1));
        assert_eq!(resp.errors[0].code, "negative_value");
        assert_eq!(resp.errors[0].event_id.as_deref(), Some("e2"));
        assert_eq!(out.messages().len(), 3);
    }

    #[test]
    fn bare_array_is_accepted() {
        assert_eq!(parse(&json!([view("e1")])).unwrap().accepted.len(), 1);
    }

    #[test]
    fn duplicate_ids_in_one_batch_are_quarantined() {
        let out = parse(&json!([view("e1"), view("e1")])).unwrap();
        assert_eq!(out.accepted.len(), 1);
        assert_eq!(out.rejected[0].code, "duplicate_event_id");
    }

    #[test]
    fn whole_batch_errors() {
        let err = parse_batch(b"{not json", NOW, &ValidationPolicy::default()).unwrap_err();
        assert_eq!(err.code, Code::InvalidJson);
        assert_eq!(
            parse(&json!({"events": []})).unwrap_err().code,
            Code::EmptyBatch
        );
        assert_eq!(
            parse(&json!({"evts": []})).unwrap_err().code,
            Code::InvalidJson
        );
        assert_eq!(parse(&json!(3)).unwrap_err().code, Code::InvalidJson);
        let many: Vec<Value> = (0..=MAX_BATCH_EVENTS)
            .map(|i| view(&format!("e{i}")))
            .collect();
        assert_eq!(parse(&json!(many)).unwrap_err().code, Code::TooManyEvents);
        let huge = vec![b' '; MAX_BATCH_BYTES + 1];
        let err = parse_batch(&huge, NOW, &ValidationPolicy::default()).unwrap_err();
        assert_eq!((err.code, err.status()), (Code::PayloadTooLarge, 413));
    }

    #[test]
    fn oversized_event_is_quarantined_as_a_hash_never_its_text() {
        let mut big = view("big");
        big["context"] = json!({"x": format!("secret {}", "y".repeat(MAX_EVENT_BYTES * 2))});
        let out = parse(&json!([big, view("ok")])).unwrap();
        assert_eq!(out.accepted.len(), 1);
        assert_eq!(out.rejected[0].code, "event_too_large");
        let kept = out.rejected[0].raw.to_string();
        assert!(!kept.contains("secret") && kept.len() < 300, "{kept}");
        assert_eq!(
            out.rejected[0].raw["withheld"],
            "larger than the event limit"
        );
        assert!(out.rejected[0].raw["bytes"].as_u64().unwrap() > MAX_EVENT_BYTES as u64);
    }

    #[test]
    fn lake_files_group_by_date_and_kind() {
        let mut late = view("e0");
        late["timestamp"] = json!(NOW - 2 * 86_400_000);
        let mut bad = view("e9");
        bad["type"] = json!("nope");
        let out = parse(&json!([view("e1"), late, bad, view("e2")])).unwrap();
        let batch = batch_id(NOW, &["m2", "m1"]);
        let files = lake_files(&out.messages(), &batch);
        assert_eq!(files.len(), 3);
        let today = date_of(NOW);
        let (key, body) = files
            .iter()
            .find(|(k, _)| k.contains(&today) && k.starts_with("raw/events"))
            .unwrap();
        assert_eq!(key, &lake::raw_events_key(&today, &batch));
        let lines: Vec<Event> = body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let q = files
            .iter()
            .find(|(k, _)| k.starts_with("raw/quarantine"))
            .unwrap();
        let rec: Quarantined = serde_json::from_str(q.1.trim()).unwrap();
        assert_eq!(rec.code, "unknown_event_type");
    }

    #[test]
    fn batch_id_is_order_independent_and_distinct() {
        assert_eq!(batch_id(5, &["a", "b"]), batch_id(5, &["b", "a"]));
        assert_ne!(batch_id(5, &["a", "b"]), batch_id(5, &["a", "c"]));
        assert_ne!(batch_id(5, &["ab"]), batch_id(5, &["a", "b"]));
        assert!(lake::is_safe_segment(&batch_id(5, &["a"])));
    }

    #[test]
    fn unreadable_messages_are_quarantined() {
        let good =
            serde_json::to_string(&parse(&json!([view("e1")])).unwrap().messages()[0]).unwrap();
        let out = decode_messages([good.as_str(), "garbage"], NOW);
        assert!(matches!(out[0], LakeMessage::Event { .. }));
        let LakeMessage::Rejected { rejected } = &out[1] else {
            panic!("expected quarantine")
        };
        assert_eq!(rejected.code, "unreadable_message");
        assert_eq!(rejected.raw["bytes"], 7, "{}", rejected.raw);
        assert!(!rejected.raw.to_string().contains("garbage"));
    }

    #[test]
    fn send_chunks_respect_limits() {
        let chunks = send_chunks(vec!["x".repeat(10); 250]);
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [100, 100, 50]
        );
        let chunks = send_chunks(vec!["x".repeat(100 * 1024); 5]);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert!(send_chunks(Vec::new()).is_empty());
    }

    #[test]
    fn messages_round_trip_as_json() {
        let out = parse(&json!([view("e1"), 7])).unwrap();
        for m in out.messages() {
            let text = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<LakeMessage>(&text).unwrap(), m);
        }
    }
}
