//! A shopper's live history at the edge: the recent events the worker's per-shopper Durable
//! Object keeps, so the very next recommendation reflects what the shopper just did.
//!
//! The Durable Object only stores and loads this value; what is kept (bounded, expired after
//! [`TTL_MS`]), how an anonymous history merges into a logged-in one, and how the history becomes
//! weighted fold-in input are decided here, natively tested and identical in wasm.

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::event::{Event, EventType};
use crate::personal::Interaction;

/// Most events kept per shopper.
pub const MAX_EVENTS: usize = 200;
/// Events older than this (relative to the newest write) are dropped: 30 days.
pub const TTL_MS: i64 = 30 * 86_400_000;
/// A session ends after this long without an event: 30 minutes, the usual web analytics rule.
pub const SESSION_GAP_MS: i64 = 30 * 60_000;

/// One remembered event: what the shopper touched, how and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub item_id: String,
    pub ts: i64,
    #[serde(default = "one")]
    pub quantity: u32,
}

fn one() -> u32 {
    1
}

/// The stored state of one shopper.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    /// Oldest first.
    pub touches: Vec<Touch>,
    /// Purchase ledger for buy-again: kept longer than touches, one line per item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bought: Vec<crate::buy_again::Bought>,
    /// Session keys of the anonymous histories merged into this one by logins (so an erasure
    /// of the user also erases the devices they used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked: Vec<String>,
}

/// Most linked anonymous keys kept per user.
pub const MAX_LINKED: usize = 64;

/// Durable Object key of the shopper an event or request belongs to: the user id when known,
/// else the anonymous id.
pub fn shopper_key(user_id: Option<&str>, anonymous_id: Option<&str>) -> Option<String> {
    match (user_id, anonymous_id) {
        (Some(u), _) if !u.is_empty() => Some(format!("u:{u}")),
        (_, Some(a)) if !a.is_empty() => Some(format!("a:{a}")),
        _ => None,
    }
}

/// The touches an event contributes (purchases: one per line; events about no item: none).
pub fn touches_of(e: &Event) -> Vec<Touch> {
    if !matches!(
        e.event_type,
        EventType::View | EventType::AddToCart | EventType::RecClick | EventType::Purchase
    ) {
        return Vec::new();
    }
    e.items()
        .into_iter()
        .map(|(item, quantity)| Touch {
            event_id: e.event_id.clone(),
            kind: e.event_type,
            item_id: item.to_owned(),
            ts: e.timestamp,
            quantity: quantity.max(1),
        })
        .collect()
}

/// What one accepted batch does to the per-shopper state: touches to add per shopper key (in
/// first-seen order), then anonymous histories to merge into users (login events).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Updates {
    pub touches: Vec<(String, Vec<Touch>)>,
    /// `(from anonymous key, into user key)`.
    pub merges: Vec<(String, String)>,
}

/// Groups a batch's events by shopper.
pub fn updates(events: &[Event]) -> Updates {
    let mut out = Updates::default();
    for e in events {
        let Some(key) = shopper_key(e.user_id.as_deref(), e.anonymous_id.as_deref()) else {
            continue;
        };
        if e.event_type == EventType::Login
            && let Some(anon) = shopper_key(None, e.anonymous_id.as_deref())
            && anon != key
            && !out.merges.contains(&(anon.clone(), key.clone()))
        {
            out.merges.push((anon, key.clone()));
        }
        let touches = touches_of(e);
        if touches.is_empty() {
            continue;
        }
        match out.touches.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.extend(touches),
            None => out.touches.push((key, touches)),
        }
    }
    out
}

impl SessionState {
    /// Adds touches (ignoring ones already held: same event id and item), keeps time order,
    /// drops what expired relative to the newest touch, and keeps the last [`MAX_EVENTS`].
    pub fn add(&mut self, touches: impl IntoIterator<Item = Touch>) {
        for t in touches {
            let held = self
                .touches
                .iter()
                .any(|h| h.event_id == t.event_id && h.item_id == t.item_id);
            if !held {
                if t.kind == EventType::Purchase {
                    crate::buy_again::record(&mut self.bought, &t.item_id, &t.event_id, t.ts);
                }
                self.touches.push(t);
            }
        }
        self.touches.sort_by_key(|t| t.ts);
        if let Some(newest) = self.touches.last().map(|t| t.ts) {
            self.touches.retain(|t| newest - t.ts <= TTL_MS);
        }
        let extra = self.touches.len().saturating_sub(MAX_EVENTS);
        self.touches.drain(..extra);
    }

    /// Merges another shopper's history into this one (login: anonymous → user).
    pub fn merge(&mut self, other: SessionState) {
        let bought = std::mem::take(&mut self.bought);
        self.add(other.touches);
        // `add` recorded the other side's recent purchases; its ledger is the full account.
        self.bought = bought;
        crate::buy_again::merge(&mut self.bought, other.bought);
        for key in other.linked {
            if !self.linked.contains(&key) {
                self.linked.push(key);
            }
        }
        let extra = self.linked.len().saturating_sub(MAX_LINKED);
        self.linked.drain(..extra);
    }

    /// Removes everything (erasure).
    pub fn clear(&mut self) {
        self.touches.clear();
        self.bought.clear();
        self.linked.clear();
    }

    /// Fold-in input, most recent first: view 1, cart 3, purchase 5 (× quantity), click 2.
    pub fn history(&self, model: &Model) -> Vec<Interaction> {
        self.touches
            .iter()
            .rev()
            .filter_map(|t| {
                let idx = model.item_index(&t.item_id)?;
                #[expect(clippy::cast_precision_loss, reason = "quantities are small")]
                let weight = weight(t.kind) * (t.quantity.min(100) as f32);
                Some(Interaction { idx, weight })
            })
            .collect()
    }

    /// Where the active session starts in `touches`: after the last gap of more than
    /// [`SESSION_GAP_MS`], if the latest touch is no older than that at `now`.
    fn session_start(&self, now: i64) -> Option<usize> {
        let last = self.touches.last()?;
        if now - last.ts > SESSION_GAP_MS {
            return None;
        }
        let mut start = self.touches.len() - 1;
        while start > 0 && self.touches[start].ts - self.touches[start - 1].ts <= SESSION_GAP_MS {
            start -= 1;
        }
        Some(start)
    }

    /// The active session's clicks (views, cart adds, recommendation clicks: what the trainer
    /// learns sessions from), oldest first, repeats kept; empty when the shopper has no active
    /// session. Unknown items are left out.
    pub fn current_session(&self, model: &Model, now: i64) -> Vec<u32> {
        self.session_touches(model, now, |k| {
            matches!(
                k,
                EventType::View | EventType::AddToCart | EventType::RecClick
            )
        })
    }

    /// Items bought in the active session: the session model does not offer them again.
    pub fn bought_in_session(&self, model: &Model, now: i64) -> Vec<u32> {
        self.session_touches(model, now, |k| k == EventType::Purchase)
    }

    fn session_touches(
        &self,
        model: &Model,
        now: i64,
        keep: impl Fn(EventType) -> bool,
    ) -> Vec<u32> {
        let Some(start) = self.session_start(now) else {
            return Vec::new();
        };
        self.touches[start..]
            .iter()
            .filter(|t| keep(t.kind))
            .filter_map(|t| model.item_index(&t.item_id))
            .collect()
    }

    /// Items bought, for `exclude_purchased`.
    pub fn purchased(&self) -> impl Iterator<Item = &str> {
        self.touches
            .iter()
            .filter(|t| t.kind == EventType::Purchase)
            .map(|t| t.item_id.as_str())
    }
}

/// Event weight of a touch in fold-in (the same order as training: view < click < cart < purchase).
pub fn weight(kind: EventType) -> f32 {
    match kind {
        EventType::View => 1.0,
        EventType::RecClick => 2.0,
        EventType::AddToCart => 3.0,
        EventType::Purchase => 5.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture_v2;

    fn touch(id: &str, kind: EventType, item: &str, ts: i64) -> Touch {
        Touch {
            event_id: id.into(),
            kind,
            item_id: item.into(),
            ts,
            quantity: 1,
        }
    }

    #[test]
    fn a_batch_groups_by_shopper_and_logins_merge() {
        let events: Vec<Event> = serde_json::from_value(serde_json::json!([
            {"event_id": "1", "type": "view", "anonymous_id": "a1", "session_id": "s", "timestamp": 1, "item_id": "x"},
            {"event_id": "2", "type": "search", "anonymous_id": "a1", "session_id": "s", "timestamp": 2, "query": "tv"},
            {"event_id": "3", "type": "login", "user_id": "u1", "anonymous_id": "a1", "session_id": "s", "timestamp": 3},
            {"event_id": "4", "type": "add_to_cart", "user_id": "u1", "anonymous_id": "a1", "session_id": "s", "timestamp": 4, "item_id": "y", "quantity": 2},
            {"event_id": "5", "type": "view", "anonymous_id": "a1", "session_id": "s", "timestamp": 5, "item_id": "z"}
        ]))
        .unwrap();
        let u = updates(&events);
        assert_eq!(u.merges, [("a:a1".to_owned(), "u:u1".to_owned())]);
        let keys: Vec<&str> = u.touches.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a:a1", "u:u1"]);
        assert_eq!(u.touches[0].1.len(), 2);
        assert_eq!(u.touches[1].1[0].quantity, 2);
    }

    #[test]
    fn the_current_session_is_what_follows_the_last_long_pause() {
        let m = Model::load(crate::artifact::tests::fixture().encode().unwrap()).unwrap();
        let items: Vec<String> = (0..3).map(|i| m.item_id(i).to_owned()).collect();
        let min = 60_000;
        let mut s = SessionState::default();
        s.add([
            touch("1", EventType::View, &items[0], 0),
            touch("2", EventType::View, &items[1], 3 * 3_600_000),
            touch("3", EventType::View, &items[2], 3 * 3_600_000 + 10 * min),
            touch("4", EventType::View, &items[1], 3 * 3_600_000 + 20 * min),
            touch(
                "5",
                EventType::View,
                "not-in-the-model",
                3 * 3_600_000 + 21 * min,
            ),
        ]);
        let now = 3 * 3_600_000 + 25 * min;
        assert_eq!(
            s.current_session(&m, now),
            [1, 2, 1],
            "repeats kept, oldest first"
        );
        assert!(
            s.current_session(&m, now + SESSION_GAP_MS).is_empty(),
            "gone idle"
        );
    }

    #[test]
    fn keys_prefer_the_user() {
        assert_eq!(shopper_key(Some("u1"), Some("a1")).as_deref(), Some("u:u1"));
        assert_eq!(shopper_key(None, Some("a1")).as_deref(), Some("a:a1"));
        assert_eq!(shopper_key(Some(""), None), None);
    }

    #[test]
    fn bounded_ordered_deduplicated_and_expiring() {
        let mut s = SessionState::default();
        s.add((0..300).map(|i| touch(&format!("e{i}"), EventType::View, "x", 1_000 + i)));
        assert_eq!(s.touches.len(), MAX_EVENTS);
        assert_eq!(s.touches[0].event_id, "e100");
        s.add([touch("e299", EventType::View, "x", 1_299)]);
        assert_eq!(
            s.touches.len(),
            MAX_EVENTS,
            "a redelivered event is not kept twice"
        );
        s.add([touch("late", EventType::View, "y", 1_000 + TTL_MS + 500)]);
        assert_eq!(
            s.touches.len(),
            1,
            "older than the TTL relative to the newest"
        );
    }

    #[test]
    fn login_merges_anonymous_history_in_time_order() {
        let mut user = SessionState::default();
        user.add([touch("u1", EventType::Purchase, "a", 10)]);
        let mut anon = SessionState::default();
        anon.add([
            touch("a1", EventType::View, "b", 5),
            touch("a2", EventType::View, "c", 20),
        ]);
        anon.linked.push("a:device".into());
        user.merge(anon.clone());
        let items: Vec<&str> = user.touches.iter().map(|t| t.item_id.as_str()).collect();
        assert_eq!(items, ["b", "a", "c"]);
        user.merge(anon);
        assert_eq!(user.linked, ["a:device"], "linked once");
        assert_eq!(user.purchased().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn history_is_most_recent_first_weighted_and_known_items_only() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let mut s = SessionState::default();
        s.add([
            touch("1", EventType::View, "laptop-1", 1),
            touch("2", EventType::AddToCart, "laptop-2", 2),
            touch("3", EventType::View, "no-such-item", 3),
        ]);
        let h = s.history(&m);
        assert_eq!(h.len(), 2);
        assert_eq!(m.item_id(h[0].idx), "laptop-2");
        assert!((h[0].weight - 3.0).abs() < 1e-6);
        assert!((h[1].weight - 1.0).abs() < 1e-6);
    }
}
