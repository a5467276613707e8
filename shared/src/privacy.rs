//! Keyed pseudonyms: the lake never holds a shopper's own identifier.
//!
//! Every `user_id` and `anonymous_id` is replaced by `p_` + 32 hex digits of HMAC-SHA256 under a
//! secret key (the worker's `PSEUDONYM_KEY` secret, the trainer's `VITRINE_PSEUDONYM_KEY`; the
//! same value on both sides so the trainer can find a customer's events). Without the key a
//! pseudonym cannot be linked back to the person, and the same person gets the same pseudonym
//! everywhere, so BI joins and training still work. Free-text places a client may fill with an
//! email or a phone number (event `context`, search `query`, quarantined raw bodies) are scrubbed:
//! such strings become pseudonyms too.
//!
//! The edge applies [`Pseudonymizer::message`] in its queue consumer, the one place every lake
//! line passes; importers apply [`Pseudonymizer::event`]. Pseudonyms are never pseudonymised
//! again, so re-running either step changes nothing.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::event::Event;
use crate::ingest::{LakeMessage, Serve};

/// Shortest accepted key, in bytes.
pub const MIN_KEY_BYTES: usize = 16;
/// Every pseudonym starts with this.
pub const PREFIX: &str = "p_";
const HEX_DIGITS: usize = 32;

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivacyError {
    #[error("the pseudonym key must be at least {MIN_KEY_BYTES} bytes (got {0})")]
    ShortKey(usize),
}

/// Members of a raw body that name or may name a person: never stored as sent.
const IDENTIFIERS: &[&str] = &[
    "user_id",
    "anonymous_id",
    "session_id",
    "order_id",
    "context",
    "email",
    "phone",
    "customer_id",
];

/// Maps identifiers to keyed pseudonyms.
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(<key>)")
    }
}

impl Pseudonymizer {
    /// A pseudonymizer under `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, PrivacyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(PrivacyError::ShortKey(key.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| PrivacyError::ShortKey(0))?;
        Ok(Self { mac })
    }

    /// The pseudonym of `id` (itself when `id` already is one).
    pub fn pseudonym(&self, id: &str) -> String {
        if is_pseudonym(id) {
            return id.to_owned();
        }
        let mut mac = self.mac.clone();
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("{PREFIX}{}", crate::hash::hex(&digest[..HEX_DIGITS / 2]))
    }

    fn replace(&self, id: &mut Option<String>) {
        if let Some(v) = id.as_mut() {
            *v = self.pseudonym(v);
        }
    }

    /// Pseudonymises an event's identifiers (shopper, session, order) and its free text: the
    /// search query when it looks personal, and every string in `context` (a client may put
    /// anything there; analysts can still group by the pseudonym).
    pub fn event(&self, e: &mut Event) {
        self.replace(&mut e.user_id);
        self.replace(&mut e.anonymous_id);
        e.session_id = self.pseudonym(&e.session_id);
        self.replace(&mut e.order_id);
        if let Some(q) = e.query.as_mut()
            && looks_personal(q)
        {
            *q = self.pseudonym(q);
        }
        if let Some(ctx) = e.context.as_mut() {
            for v in ctx.values_mut() {
                self.pseudonymise_strings(v);
            }
        }
    }

    /// Every string (and number) in `v` becomes a pseudonym.
    fn pseudonymise_strings(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.pseudonym(s),
            Value::Number(n) => *v = Value::String(self.pseudonym(&n.to_string())),
            Value::Array(items) => items.iter_mut().for_each(|i| self.pseudonymise_strings(i)),
            Value::Object(map) => map.values_mut().for_each(|i| self.pseudonymise_strings(i)),
            _ => {}
        }
    }

    /// Pseudonymises a serve record's shopper ids and scrubs its query.
    pub fn serve(&self, s: &mut Serve) {
        self.replace(&mut s.user_id);
        self.replace(&mut s.anonymous_id);
        if let Some(q) = s.query.as_mut()
            && looks_personal(q)
        {
            *q = self.pseudonym(q);
        }
    }

    /// Scrubs arbitrary JSON (a quarantined body): identifier members (whether strings or
    /// numbers), everything under `context`, and every string that looks like an email or a
    /// phone number become pseudonyms.
    pub fn scrub(&self, v: &mut Value) {
        match v {
            Value::String(s) if looks_personal(s) => *s = self.pseudonym(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.scrub(i)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if IDENTIFIERS.contains(&k.as_str()) {
                        self.pseudonymise_strings(v);
                    } else {
                        self.scrub(v);
                    }
                }
            }
            _ => {}
        }
    }

    /// Pseudonymises one lake message in place, whatever its kind.
    pub fn message(&self, m: &mut LakeMessage) {
        match m {
            LakeMessage::Event { event } => self.event(event),
            LakeMessage::Serve { serve } => self.serve(serve),
            LakeMessage::Rejected { rejected } => {
                self.scrub(&mut rejected.raw);
                if let Some(id) = rejected.event_id.as_mut()
                    && looks_personal(id)
                {
                    *id = self.pseudonym(id);
                }
            }
        }
    }
}

/// Whether `s` is a pseudonym this module made.
pub fn is_pseudonym(s: &str) -> bool {
    s.len() == PREFIX.len() + HEX_DIGITS
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether free text looks like an email address or a phone number.
pub fn looks_personal(s: &str) -> bool {
    looks_like_email(s) || looks_like_phone(s)
}

/// `local@domain.tld` somewhere in `s` (a word with one `@` and a dot after it).
pub fn looks_like_email(s: &str) -> bool {
    s.split_whitespace().any(|w| {
        let mut parts = w.split('@');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(local), Some(domain), None) => {
                !local.is_empty()
                    && domain
                        .split_once('.')
                        .is_some_and(|(a, b)| !a.is_empty() && b.len() >= 2)
            }
            _ => false,
        }
    })
}

/// 8–15 digits written with only phone punctuation (`+`, spaces, `-`, `.`, `/`, parentheses).
pub fn looks_like_phone(s: &str) -> bool {
    let t = s.trim();
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    (8..=15).contains(&digits)
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b" +-./()".contains(&b))
        && (t.starts_with('+') || t.starts_with('0') || t.starts_with('('))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(b"0123456789abcdef-test").unwrap()
    }

    #[test]
    fn pseudonyms_are_keyed_stable_and_idempotent() {
        let a = p().pseudonym("alice@example.com");
        assert!(is_pseudonym(&a), "{a}");
        assert_eq!(a, p().pseudonym("alice@example.com"));
        assert_eq!(p().pseudonym(&a), a, "a pseudonym is not hashed again");
        let other = Pseudonymizer::new(b"another-key-of-16+").unwrap();
        assert_ne!(other.pseudonym("alice@example.com"), a);
        assert_ne!(p().pseudonym("bob"), a);
        assert_eq!(
            Pseudonymizer::new(b"short").err(),
            Some(PrivacyError::ShortKey(5))
        );
    }

    #[test]
    fn finds_emails_and_phones_in_free_text() {
        for s in [
            "a@b.de",
            "mail me: Jo.Doe@shop.example",
            "+49 151 2345678",
            "0151-2345678",
        ] {
            assert!(looks_personal(s), "{s}");
        }
        for s in [
            "iphone 15",
            "4k tv",
            "sku-123456789",
            "12345678",
            "a@b",
            "@x.com",
            "usb-c",
        ] {
            assert!(!looks_personal(s), "{s}");
        }
    }

    #[test]
    fn scrubs_every_lake_message_kind() {
        let mut event: Event = serde_json::from_value(json!({
            "event_id": "e1", "type": "search", "user_id": "42", "anonymous_id": "anon-1",
            "session_id": "s", "timestamp": 1, "query": "jo@example.com",
            "context": {"page": "/cart", "email": "jo@example.com", "nested": ["+49 151 2345678"]}
        }))
        .unwrap();
        p().event(&mut event);
        let text = serde_json::to_string(&event).unwrap();
        assert!(
            !text.contains("jo@example.com") && !text.contains("2345678"),
            "{text}"
        );
        assert!(
            !text.contains("anon-1") && !text.contains("\"42\""),
            "{text}"
        );
        // Context is free text a client fills: every value becomes a pseudonym; so do the session
        // and the order.
        assert!(!text.contains("/cart") && !text.contains("\"s\""), "{text}");
        assert_eq!(event.user_id, Some(p().pseudonym("42")));
        assert_eq!(event.session_id, p().pseudonym("s"));

        let mut raw = json!({"user_id": 123456789, "order_id": "o-77", "session_id": 55,
            "x": {"anonymous_id": "a-9", "note": "call 0151 2345678"}, "context": {"ref": "mail"}});
        p().scrub(&mut raw);
        let text = raw.to_string();
        for secret in ["123456789", "o-77", "55", "a-9", "mail"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // Free text with words around a number is not a phone; whole fields are.
        assert!(text.contains("call 0151"), "{text}");
    }
}
