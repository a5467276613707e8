//! Events from the trackers and platform a shop already runs, mapped to Vitrine's own events:
//! Segment and RudderStack (the e-commerce spec v2, webhook destination), Google Analytics 4
//! (Measurement Protocol) and Shopify's webhooks (orders, products, privacy). What a mapping produces is an ordinary event body, so it takes exactly the path of
//! `POST /v1/events`: the same validation, quarantine, queue, session update and lake.
//!
//! Owns: the field mappings (one table per source, also in `docs/integrations.md`), the
//! senders' signature and secret checks, and deterministic event ids so a redelivered message is
//! deduplicated by the lake. Must not: do I/O, read a clock (callers pass `now_ms`), or trust a
//! body before its signature is checked.

pub mod ga4;
pub mod segment;
pub mod shopify;

use serde_json::{Map, Value};

use crate::event::{Reason, ValidationError, ValidationPolicy, validate};
use crate::hash::fnv1a;
use crate::ingest::{BatchOutcome, quarantine};

/// A sender with its own endpoint, secret and event-id prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `POST /v1/sources/segment`: `SEGMENT_SHARED_SECRET`.
    Segment,
    /// `POST /v1/sources/rudderstack`: `RUDDERSTACK_SHARED_SECRET` (the Segment spec).
    RudderStack,
    /// `POST /v1/sources/ga4`: `GA4_API_SECRET`.
    Ga4,
    /// `POST /v1/sources/shopify`: `SHOPIFY_WEBHOOK_SECRET` (the app's client secret).
    Shopify,
}

impl Source {
    /// Every source, in route order.
    pub const ALL: [Source; 4] = [
        Source::Segment,
        Source::RudderStack,
        Source::Ga4,
        Source::Shopify,
    ];

    /// The path segment after `/v1/sources/`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Segment => "segment",
            Source::RudderStack => "rudderstack",
            Source::Ga4 => "ga4",
            Source::Shopify => "shopify",
        }
    }

    /// The secret the worker checks requests against.
    pub fn secret_name(self) -> &'static str {
        match self {
            Source::Segment => "SEGMENT_SHARED_SECRET",
            Source::RudderStack => "RUDDERSTACK_SHARED_SECRET",
            Source::Ga4 => "GA4_API_SECRET",
            Source::Shopify => "SHOPIFY_WEBHOOK_SECRET",
        }
    }

    /// The prefix of the event ids its messages get.
    pub fn prefix(self) -> &'static str {
        match self {
            Source::Segment => "seg",
            Source::RudderStack => "rs",
            Source::Ga4 => "ga4",
            Source::Shopify => "shopify",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A source message's Vitrine events, and the messages that have none.
#[derive(Debug, Default)]
pub struct Mapped {
    /// `(index of the source message, Vitrine event body)`.
    pub events: Vec<(usize, Value)>,
    /// Messages with no Vitrine equivalent or missing what a mapping needs: quarantined.
    pub unmapped: Vec<Unmapped>,
}

/// A source message that maps to no event, and why.
#[derive(Debug)]
pub struct Unmapped {
    pub index: usize,
    pub raw: Value,
    pub field: String,
    pub why: &'static str,
}

impl Mapped {
    fn skip(&mut self, index: usize, raw: &Value, field: &str, why: &'static str) {
        self.unmapped.push(Unmapped {
            index,
            raw: raw.clone(),
            field: field.to_owned(),
            why,
        });
    }

    /// Validates every mapped event as `POST /v1/events` does and quarantines the rest; errors
    /// name the source message by its index.
    pub fn outcome(self, now_ms: i64, policy: &ValidationPolicy) -> BatchOutcome {
        let mut out = BatchOutcome::default();
        let mut seen = std::collections::HashSet::new();
        for (index, raw) in self.events {
            let checked = validate(&raw, now_ms, policy).and_then(|e| {
                if seen.insert(e.event_id.clone()) {
                    Ok(e)
                } else {
                    Err(ValidationError {
                        field: "event_id".into(),
                        reason: Reason::Duplicate,
                    })
                }
            });
            match checked {
                Ok(mut event) => {
                    event.received_at = Some(now_ms);
                    out.accepted.push(event);
                }
                Err(err) => out.rejected.push(quarantine(index, raw, &err, now_ms)),
            }
        }
        for u in self.unmapped {
            let err = ValidationError {
                field: u.field,
                reason: Reason::Unmapped(u.why),
            };
            out.rejected.push(quarantine(u.index, u.raw, &err, now_ms));
        }
        out.rejected.sort_by_key(|q| q.index);
        out
    }
}

/// An event id from a source's own message id: `prefix-id`, or `prefix-` and its hash when the
/// id is long; `-n` for the n-th event of one message.
fn event_id(prefix: &str, source_id: &str, n: usize) -> String {
    let base = if source_id.len() + prefix.len() + 8 <= crate::event::MAX_ID_LEN {
        format!("{prefix}-{source_id}")
    } else {
        format!("{prefix}-h{:016x}", fnv1a(source_id))
    };
    if n == 0 { base } else { format!("{base}-{n}") }
}

/// A string or number field as text (`product_id: 123` is as good as `"123"`).
fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The first of `keys` present as text.
fn first_text(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text(obj, k))
}

/// A positive whole quantity; absent means 1. Anything else is passed on for validation to
/// refuse with the field named.
fn quantity(obj: &Map<String, Value>, key: &str) -> Value {
    obj.get(key).cloned().unwrap_or(Value::from(1))
}

/// A session for senders without one: the shopper and the UTC day.
fn day_session(prefix: &str, shopper: &str, timestamp_ms: Option<i64>) -> String {
    let day = timestamp_ms.map_or(0, |t| t.div_euclid(crate::time::DAY_MS));
    format!("{prefix}-{:016x}-{day}", fnv1a(shopper))
}

#[cfg(test)]
mod tests;
