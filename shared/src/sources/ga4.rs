//! Google Analytics 4, in Measurement Protocol shape: `{client_id, user_id?, timestamp_micros?,
//! events: [{name, params: {items: [...], currency, transaction_id, search_term, session_id}}]}`,
//! authenticated by the `api_secret` query parameter. GA4 events have no id of their own, so each
//! gets one derived from the request (client, time, position, content): a redelivered request
//! maps to the same ids and the lake keeps one copy.
//!
//! | GA4 | Vitrine |
//! |---|---|
//! | `view_item` | `view`, one per item |
//! | `add_to_cart` / `remove_from_cart` | `add_to_cart` / `remove_from_cart`, one per item |
//! | `purchase` | `purchase` (`transaction_id` → `order_id`, `items` → `lines`) |
//! | `view_cart` | `cart_view` (`items` → `lines`) |
//! | `begin_checkout` | `checkout` (`items` → `lines`) |
//! | `search` / `view_search_results` | `search` (`search_term` → `query`) |
//! | `view_item_list` with `serve_id` | `rec_impression` |
//! | `select_item` with `serve_id` | `rec_click` |
//! | `add_to_wishlist` | `view`, one per item |
//! | `login` with `user_id` | `login` (merges the `client_id` session) |
//! | anything else | quarantined as `unmapped_event`, with the reason |

use serde_json::{Map, Value, json};

use super::{Mapped, day_session, event_id, first_text, quantity, text};
use crate::error::{ApiError, Code};
use crate::hash::{constant_time_eq, fnv1a};

/// Checks the request's `api_secret` against the configured one, in constant time.
pub fn verify(api_secret: Option<&str>, secret: &str) -> Result<(), ApiError> {
    match api_secret {
        Some(s) if constant_time_eq(s.as_bytes(), secret.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            Code::Unauthorized,
            "`api_secret` is missing or is not this property's Measurement Protocol secret",
        )),
    }
}

/// Maps a Measurement Protocol body; `now_ms` stands in when the request has no time.
pub fn map(body: &Value, now_ms: i64) -> Result<Mapped, ApiError> {
    let bad = |m: &str| ApiError::new(Code::InvalidJson, m.to_owned());
    let req = body
        .as_object()
        .ok_or_else(|| bad("body must be a Measurement Protocol object"))?;
    let events = req
        .get("events")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("body must carry `events`: [...]"))?;
    let client = first_text(req, &["client_id", "app_instance_id"]);
    let user = text(req, "user_id");
    let at_ms = req
        .get("timestamp_micros")
        .and_then(|t| t.as_i64().or_else(|| t.as_str()?.parse().ok()))
        .map_or(now_ms, |us| us.div_euclid(1000));
    let mut out = Mapped::default();
    for (index, raw) in events.iter().enumerate() {
        let Some(ev) = raw.as_object() else {
            out.skip(index, raw, "events[]", "an event must be an object");
            continue;
        };
        let name = ev.get("name").and_then(Value::as_str).unwrap_or("");
        let params = ev
            .get("params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let at = ev
            .get("timestamp_micros")
            .and_then(Value::as_i64)
            .map_or(at_ms, |us| us.div_euclid(1000));
        let Some(shopper) = client.clone().or_else(|| user.clone()) else {
            out.skip(
                index,
                raw,
                "client_id",
                "a request needs client_id or user_id",
            );
            continue;
        };
        let session = match text(&params, "session_id") {
            Some(s) => format!("ga4-{:016x}-{s}", fnv1a(&shopper)),
            None => day_session("ga4", &shopper, Some(at)),
        };
        // The id: this request's shopper, time, position and content.
        let source_id = format!("{:016x}", fnv1a(&format!("{shopper}|{at}|{index}|{raw}")));
        let base = |n: usize, kind: &str| {
            let mut e = Map::new();
            e.insert("event_id".into(), event_id("ga4", &source_id, n).into());
            e.insert("type".into(), kind.into());
            if let Some(u) = &user {
                e.insert("user_id".into(), u.clone().into());
            }
            if let Some(c) = &client {
                e.insert("anonymous_id".into(), c.clone().into());
            }
            e.insert("session_id".into(), session.clone().into());
            e.insert("timestamp".into(), at.into());
            e.insert(
                "context".into(),
                json!({"source": "ga4", "source_event": name}),
            );
            e
        };
        let items: Vec<Map<String, Value>> = params
            .get("items")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).cloned().collect())
            .unwrap_or_default();
        let item_id = |i: &Map<String, Value>| first_text(i, &["item_id", "item_name"]);
        let currency = params.get("currency").cloned().unwrap_or(Value::Null);
        let serve_id = text(&params, "serve_id");
        let per_item = |kind: &str, with_cart: bool| -> Vec<Value> {
            items
                .iter()
                .enumerate()
                .map(|(n, i)| {
                    let mut e = base(n, kind);
                    e.insert("item_id".into(), item_id(i).into());
                    if with_cart {
                        e.insert("quantity".into(), quantity(i, "quantity"));
                        if let Some(p) = i.get("price") {
                            e.insert("price".into(), p.clone());
                            e.insert("currency".into(), currency.clone());
                        }
                    }
                    Value::Object(e)
                })
                .collect()
        };
        let mapped: Result<Vec<Value>, (&str, &'static str)> = match name {
            "view_item" | "add_to_wishlist" => Ok(per_item("view", false)),
            "add_to_cart" => Ok(per_item("add_to_cart", true)),
            "remove_from_cart" => Ok(per_item("remove_from_cart", true)),
            "purchase" | "begin_checkout" | "view_cart" => {
                let lines: Vec<Value> = items
                    .iter()
                    .map(|i| {
                        json!({
                            "item_id": item_id(i),
                            "quantity": quantity(i, "quantity"),
                            "price": i.get("price").cloned().unwrap_or(Value::Null),
                            "currency": currency.clone(),
                        })
                    })
                    .collect();
                let kind = match name {
                    "purchase" => "purchase",
                    "begin_checkout" => "checkout",
                    _ => "cart_view",
                };
                let mut e = base(0, kind);
                if kind == "purchase" {
                    e.insert("order_id".into(), text(&params, "transaction_id").into());
                }
                e.insert("lines".into(), lines.into());
                Ok(vec![Value::Object(e)])
            }
            "search" | "view_search_results" => {
                let mut e = base(0, "search");
                e.insert(
                    "query".into(),
                    params.get("search_term").cloned().unwrap_or(Value::Null),
                );
                Ok(vec![Value::Object(e)])
            }
            "view_item_list" if serve_id.is_some() => {
                let mut e = base(0, "rec_impression");
                e.insert("serve_id".into(), serve_id.clone().into());
                let ids: Vec<Value> = items.iter().filter_map(item_id).map(Value::from).collect();
                e.insert("results".into(), ids.into());
                Ok(vec![Value::Object(e)])
            }
            "select_item" if serve_id.is_some() => {
                let mut e = base(0, "rec_click");
                e.insert("serve_id".into(), serve_id.clone().into());
                e.insert("item_id".into(), items.first().and_then(item_id).into());
                Ok(vec![Value::Object(e)])
            }
            "login" if user.is_some() && client.is_some() => {
                Ok(vec![Value::Object(base(0, "login"))])
            }
            "login" => Err(("user_id", "a login needs user_id and client_id to merge")),
            "view_item_list" | "select_item" => Err((
                "params.serve_id",
                "a list or click outside a Vitrine widget (no serve_id); view_item records the interest",
            )),
            "" => Err(("name", "an event needs its name")),
            _ => Err((
                "name",
                "not a shopping event Vitrine learns from (page views, checkout steps after the start, refunds)",
            )),
        };
        match mapped {
            Ok(evs) if evs.is_empty() => {
                out.skip(index, raw, "params.items", "the event names no items");
            }
            Ok(evs) => out.events.extend(evs.into_iter().map(|e| (index, e))),
            Err((field, why)) => out.skip(index, raw, field, why),
        }
    }
    Ok(out)
}
