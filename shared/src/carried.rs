//! The session a storefront carries with a request, so an anonymous shopper's next
//! recommendation reflects the last click without a Durable Object round trip.
//!
//! The snippet remembers the shopper's recent touches and sends them, most recent first, as
//! `session=v.0.sku-9,c.40.sku-3,a.95.sku-3`: per touch its kind (`v` view, `c` recommendation
//! click, `a` add to cart, `p` purchase), how many seconds ago it happened (the client's own
//! clock, so no skew between clocks matters), and the item id (last, so it may contain dots).
//!
//! Trust: the carried session only ever shapes the answer to the request that carries it. It is
//! read instead of the Durable Object for anonymous shoppers only (a request naming someone else's
//! anonymous id with a carried session reads nothing of theirs); a logged-in shopper's state stays
//! in the Durable Object (devices, login merge, the buy-again ledger). Bounded: at most
//! [`MAX_TOUCHES`] touches, each no older than the session TTL.

use crate::error::ApiError;
use crate::event::{EventType, MAX_ID_LEN};
use crate::session::{SessionState, TTL_MS, Touch};

/// Most touches a request may carry.
pub const MAX_TOUCHES: usize = 30;
/// The parameter's name, in queries and batch bodies.
pub const PARAM: &str = "session";

/// One carried touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarriedTouch {
    pub kind: EventType,
    /// Seconds before the request.
    pub age_s: u32,
    pub item_id: String,
}

/// A validated carried session, most recent first. In a JSON body it is the same string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarriedSession(pub Vec<CarriedTouch>);

impl<'de> serde::Deserialize<'de> for CarriedSession {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
    }
}

fn kind_of(code: &str) -> Option<EventType> {
    match code {
        "v" => Some(EventType::View),
        "c" => Some(EventType::RecClick),
        "a" => Some(EventType::AddToCart),
        "p" => Some(EventType::Purchase),
        _ => None,
    }
}

/// The wire letter of a touch kind (the inverse of the parser), for clients and tests.
pub fn code_of(kind: EventType) -> Option<&'static str> {
    match kind {
        EventType::View => Some("v"),
        EventType::RecClick => Some("c"),
        EventType::AddToCart => Some("a"),
        EventType::Purchase => Some("p"),
        _ => None,
    }
}

impl CarriedSession {
    /// Parses `session`; every fault is a `400` naming the parameter.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = |why: String| ApiError::invalid_param(PARAM, &why);
        let entries: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if entries.len() > MAX_TOUCHES {
            return Err(bad(format!("carries at most {MAX_TOUCHES} touches")));
        }
        let max_age = u32::try_from(TTL_MS / 1000).unwrap_or(u32::MAX);
        let mut touches = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let mut parts = entry.splitn(3, '.');
            let (Some(code), Some(age), Some(item)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(format!(
                    "touch {i} must be `kind.seconds_ago.item_id` (e.g. `v.0.sku-9`)"
                )));
            };
            let kind = kind_of(code)
                .ok_or_else(|| bad(format!("touch {i}: kind must be one of v, c, a, p")))?;
            let age_s: u32 = age.parse().map_err(|_| {
                bad(format!(
                    "touch {i}: seconds ago must be a whole number from 0"
                ))
            })?;
            if age_s > max_age {
                return Err(bad(format!("touch {i} is older than the session TTL")));
            }
            if item.is_empty()
                || item.chars().count() > MAX_ID_LEN
                || item.chars().any(char::is_control)
            {
                return Err(bad(format!(
                    "touch {i}: the item id must be 1 to {MAX_ID_LEN} printable characters"
                )));
            }
            touches.push(CarriedTouch {
                kind,
                age_s,
                item_id: item.to_owned(),
            });
        }
        Ok(Self(touches))
    }

    /// Parses an optional parameter.
    pub fn parse_opt(text: Option<&str>) -> Result<Option<Self>, ApiError> {
        text.map(Self::parse).transpose()
    }

    /// The wire form (most recent first), the inverse of [`Self::parse`].
    pub fn to_param(&self) -> String {
        self.0
            .iter()
            .filter_map(|t| Some(format!("{}.{}.{}", code_of(t.kind)?, t.age_s, t.item_id)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The state it stands for at `now_ms`: the same touches a Durable Object would hold.
    pub fn state(&self, now_ms: i64) -> SessionState {
        let mut state = SessionState::default();
        state.add(self.0.iter().enumerate().map(|(i, t)| Touch {
            event_id: format!("carried-{i}"),
            kind: t.kind,
            item_id: t.item_id.clone(),
            ts: now_ms - i64::from(t.age_s) * 1000,
            quantity: 1,
        }));
        state
    }
}

/// Which state a request is answered from: the carried session for an anonymous shopper who
/// sent one, else (`None`) the Durable Object.
pub fn use_carried(
    user_id: Option<&str>,
    carried: Option<CarriedSession>,
) -> Option<CarriedSession> {
    if user_id.is_some() { None } else { carried }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_touches_most_recent_first_and_round_trips() {
        let s = CarriedSession::parse("v.0.sku-9, c.40.sku-3,a.95.sku.with.dots").unwrap();
        assert_eq!(s.0.len(), 3);
        assert_eq!(s.0[1].kind, EventType::RecClick);
        assert_eq!(s.0[2].item_id, "sku.with.dots");
        assert_eq!(s.to_param(), "v.0.sku-9,c.40.sku-3,a.95.sku.with.dots");
        assert_eq!(
            CarriedSession::parse("").unwrap(),
            CarriedSession::default()
        );
    }

    #[test]
    fn bad_sessions_are_refused_with_the_parameter_named() {
        let many = vec!["v.1.x"; MAX_TOUCHES + 1].join(",");
        for bad in [
            "x.0.sku",
            "v.-1.sku",
            "v.0.",
            "v.0",
            "v.99999999999.sku",
            "v.2600000.sku",
            "v.0.a\u{7}b",
            many.as_str(),
        ] {
            let e = CarriedSession::parse(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert!(e.message.contains("`session`"), "{bad}: {}", e.message);
        }
        let long = format!("v.0.{}", "x".repeat(MAX_ID_LEN + 1));
        assert!(CarriedSession::parse(&long).is_err());
    }

    #[test]
    fn the_state_is_what_a_durable_object_would_hold() {
        let now = 1_800_000_000_000;
        let s = CarriedSession::parse("a.10.b,v.20.a,p.3000.c").unwrap();
        let st = s.state(now);
        let order: Vec<(&str, EventType, i64)> = st
            .touches
            .iter()
            .map(|t| (t.item_id.as_str(), t.kind, now - t.ts))
            .collect();
        assert_eq!(
            order,
            [
                ("c", EventType::Purchase, 3_000_000),
                ("a", EventType::View, 20_000),
                ("b", EventType::AddToCart, 10_000)
            ]
        );
        assert_eq!(st.purchased().collect::<Vec<_>>(), ["c"]);
    }

    #[test]
    fn only_anonymous_shoppers_are_answered_from_what_they_carry() {
        let s = CarriedSession::parse("v.0.x").unwrap();
        assert!(use_carried(None, Some(s.clone())).is_some());
        assert!(use_carried(Some("u-1"), Some(s)).is_none());
        assert!(use_carried(None, None).is_none());
    }
}
