//! Segment and RudderStack: the e-commerce spec v2 events and `identify` / `alias`, as a webhook
//! destination sends them (one message per request) or as the HTTP tracking API's batch
//! (`{"batch": [...]}`). The request is authentic when its `X-Signature` is the HMAC-SHA1 of the
//! body under the shared secret (Segment's webhook destination), or, for senders that only set
//! headers (RudderStack's webhook destination), when `Authorization: Bearer` carries the secret.
//!
//! | Segment / RudderStack | Vitrine |
//! |---|---|
//! | `Products Searched` | `search` (`query`) |
//! | `Product List Viewed` / `Product List Filtered` with `serve_id` | `rec_impression` (`results` = `products[].product_id`) |
//! | `Product Clicked` with `serve_id` | `rec_click` |
//! | `Product Viewed` | `view` |
//! | `Product Added` / `Product Removed` | `add_to_cart` / `remove_from_cart` |
//! | `Order Completed` | `purchase` (`order_id`, `lines` from `products[]`) |
//! | `Cart Viewed` | `cart_view` (`lines` from `products[]`) |
//! | `Checkout Started` | `checkout` (`lines` from `products[]`, `order_id` when given) |
//! | `Product Added to Wishlist` | `view` (the strongest signal short of the cart) |
//! | `identify` with both ids, `alias` | `login` (merges the anonymous session) |
//! | anything else | quarantined as `unmapped_event`, with the reason |

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha1::Sha1;

use super::{Mapped, day_session, event_id, first_text, quantity, text};
use crate::error::{ApiError, Code};
use crate::hash::{constant_time_eq, hex};
use crate::time::parse_rfc3339;

/// Shortest shared secret accepted: a guessable secret would let anyone write events.
pub const MIN_SECRET_LEN: usize = 16;

/// Checks the request's signature (`x_signature`: hex HMAC-SHA1 of `body`) or bearer secret.
pub fn verify(
    body: &[u8],
    x_signature: Option<&str>,
    authorization: Option<&str>,
    secret: &str,
) -> Result<(), ApiError> {
    let refused = || {
        ApiError::new(
            Code::Unauthorized,
            "the request is not signed with this source's shared secret",
        )
    };
    if let Some(sig) = x_signature {
        let want = signature(body, secret).ok_or_else(refused)?;
        return constant_time_eq(sig.trim().to_ascii_lowercase().as_bytes(), want.as_bytes())
            .then_some(())
            .ok_or_else(refused);
    }
    let bearer = authorization.and_then(|a| a.trim().strip_prefix("Bearer "));
    match bearer {
        Some(b) if constant_time_eq(b.trim().as_bytes(), secret.as_bytes()) => Ok(()),
        _ => Err(refused()),
    }
}

/// What Segment puts in `X-Signature`: the hex HMAC-SHA1 of the body under the shared secret.
/// (`None` only if the HMAC refused the key, which it does for no length.)
pub fn signature(body: &[u8], secret: &str) -> Option<String> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body);
    Some(hex(&mac.finalize().into_bytes()))
}

/// The messages of a body: one message, `{"batch": [...]}`, or an array.
pub fn messages(doc: Value) -> Result<Vec<Value>, ApiError> {
    let bad = || {
        ApiError::new(
            Code::InvalidJson,
            "body must be a Segment message, {\"batch\": [...]} or an array of messages",
        )
    };
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(mut obj) => match obj.remove("batch") {
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(bad()),
            None => Ok(vec![Value::Object(obj)]),
        },
        _ => Err(bad()),
    }
}

/// Maps every message; `prefix` names the sender in event ids (`seg`, `rs`).
pub fn map(messages: &[Value], prefix: &str) -> Mapped {
    let mut out = Mapped::default();
    for (index, raw) in messages.iter().enumerate() {
        map_one(&mut out, index, raw, prefix);
    }
    out
}

fn map_one(out: &mut Mapped, index: usize, raw: &Value, prefix: &str) {
    let Some(msg) = raw.as_object() else {
        return out.skip(index, raw, "message", "a message must be an object");
    };
    let Some(message_id) = text(msg, "messageId") else {
        return out.skip(index, raw, "messageId", "every message needs its messageId");
    };
    let user_id = text(msg, "userId");
    let anonymous_id = text(msg, "anonymousId");
    let timestamp = msg
        .get("timestamp")
        .or_else(|| msg.get("originalTimestamp"))
        .cloned()
        .unwrap_or(Value::Null);
    let at = timestamp.as_str().and_then(parse_rfc3339);
    let props = msg
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let context = msg.get("context").and_then(Value::as_object);
    let shopper = anonymous_id
        .clone()
        .or_else(|| user_id.clone())
        .unwrap_or_default();
    let session = first_text(&props, &["session_id"])
        .or_else(|| context.and_then(|c| first_text(c, &["session_id", "sessionId"])))
        .unwrap_or_else(|| day_session(prefix, &shopper, at));
    // Fields every event of this message carries.
    let base = |n: usize, kind: &str, name: &str| {
        let mut e = Map::new();
        e.insert("event_id".into(), event_id(prefix, &message_id, n).into());
        e.insert("type".into(), kind.into());
        if let Some(u) = &user_id {
            e.insert("user_id".into(), u.clone().into());
        }
        if let Some(a) = &anonymous_id {
            e.insert("anonymous_id".into(), a.clone().into());
        }
        e.insert("session_id".into(), session.clone().into());
        e.insert("timestamp".into(), timestamp.clone());
        e.insert(
            "context".into(),
            json!({"source": prefix, "source_event": name}),
        );
        e
    };
    let kind = msg.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "identify" => {
            if user_id.is_none() || anonymous_id.is_none() {
                return out.skip(
                    index,
                    raw,
                    "userId",
                    "an identify without both userId and anonymousId merges nothing",
                );
            }
            out.events
                .push((index, Value::Object(base(0, "login", "identify"))));
        }
        "alias" => {
            let (Some(previous), Some(user)) = (text(msg, "previousId"), user_id.clone()) else {
                return out.skip(
                    index,
                    raw,
                    "previousId",
                    "an alias needs previousId and userId",
                );
            };
            let mut e = base(0, "login", "alias");
            e.insert("anonymous_id".into(), previous.into());
            e.insert("user_id".into(), user.into());
            out.events.push((index, Value::Object(e)));
        }
        "track" => {
            let name = msg.get("event").and_then(Value::as_str).unwrap_or("");
            match track(&props, name, &base) {
                Ok(e) => out.events.push((index, Value::Object(e))),
                Err((field, why)) => out.skip(index, raw, field, why),
            }
        }
        "" => out.skip(index, raw, "type", "a message needs its type"),
        _ => out.skip(
            index,
            raw,
            "type",
            "only track, identify and alias messages carry shopping behaviour",
        ),
    }
}

/// A track message's event, or the field at fault and why it maps to none.
fn track(
    props: &Map<String, Value>,
    name: &str,
    base: &dyn Fn(usize, &str, &str) -> Map<String, Value>,
) -> Result<Map<String, Value>, (&'static str, &'static str)> {
    let product = |p: &Map<String, Value>| first_text(p, &["product_id", "sku", "id"]);
    let serve_id = text(props, "serve_id");
    let products: Vec<Map<String, Value>> = props
        .get("products")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).cloned().collect())
        .unwrap_or_default();
    match name {
        "Products Searched" => {
            let mut e = base(0, "search", name);
            e.insert(
                "query".into(),
                props.get("query").cloned().unwrap_or(Value::Null),
            );
            Ok(e)
        }
        "Product List Viewed" | "Product List Filtered" if serve_id.is_some() => {
            let mut e = base(0, "rec_impression", name);
            e.insert("serve_id".into(), serve_id.into());
            let ids: Vec<Value> = products
                .iter()
                .filter_map(product)
                .map(Value::from)
                .collect();
            e.insert("results".into(), ids.into());
            Ok(e)
        }
        "Product Clicked" if serve_id.is_some() => {
            let mut e = base(0, "rec_click", name);
            e.insert("serve_id".into(), serve_id.into());
            e.insert("item_id".into(), product(props).into());
            if let Some(p) = props.get("position") {
                e.insert("position".into(), p.clone());
            }
            Ok(e)
        }
        "Product Viewed" | "Product Added to Wishlist" => {
            let mut e = base(0, "view", name);
            e.insert("item_id".into(), product(props).into());
            Ok(e)
        }
        "Product Added" | "Product Removed" => {
            let kind = if name == "Product Added" {
                "add_to_cart"
            } else {
                "remove_from_cart"
            };
            let mut e = base(0, kind, name);
            e.insert("item_id".into(), product(props).into());
            e.insert("quantity".into(), quantity(props, "quantity"));
            for f in ["price", "currency"] {
                if let Some(v) = props.get(f) {
                    e.insert(f.into(), v.clone());
                }
            }
            Ok(e)
        }
        "Order Completed" | "Checkout Started" | "Cart Viewed" => {
            let currency = props.get("currency").cloned().unwrap_or(Value::Null);
            let lines: Vec<Value> = products
                .iter()
                .map(|p| {
                    json!({
                        "item_id": product(p),
                        "quantity": quantity(p, "quantity"),
                        "price": p.get("price").cloned().unwrap_or(Value::Null),
                        "currency": p.get("currency").cloned().unwrap_or(currency.clone()),
                    })
                })
                .collect();
            let kind = match name {
                "Order Completed" => "purchase",
                "Checkout Started" => "checkout",
                _ => "cart_view",
            };
            let mut e = base(0, kind, name);
            if let Some(order) = text(props, "order_id") {
                e.insert("order_id".into(), order.into());
            } else if kind == "purchase" {
                e.insert("order_id".into(), Value::Null);
            }
            e.insert("lines".into(), lines.into());
            Ok(e)
        }
        "Product List Viewed" | "Product List Filtered" | "Product Clicked" => Err((
            "properties.serve_id",
            "a list or click outside a Vitrine widget (no serve_id); the product page's Product Viewed records the interest",
        )),
        "" => Err(("event", "a track message needs its event name")),
        _ => Err((
            "event",
            "not a shopping event Vitrine learns from (checkout steps after the start, coupons, promotions, refunds)",
        )),
    }
}
