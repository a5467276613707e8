//! Shopify webhooks: `orders/create` (purchases for buy-again and bought-together),
//! `products/create|update|delete` (catalog records for the next artifact and its stock
//! filter) and the mandatory privacy webhooks `customers/data_request`, `customers/redact`,
//! `shop/redact`. Authentic when `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw
//! body under the app's client secret (`SHOPIFY_WEBHOOK_SECRET`), compared in constant time;
//! `X-Shopify-Webhook-Id` names a delivery, so a redelivery is recognised and ignored.
//!
//! | Shopify | Vitrine |
//! |---|---|
//! | `orders/create`: `id`, `created_at`, `currency`, `customer.id`, `line_items[]` (`product_id`, `quantity`, `price`) | `purchase`: `event_id` `shopify-order-<id>`, `user_id` = customer id (else the `vitrine_anonymous_id` note attribute as `anonymous_id`), `lines` |
//! | `products/create`, `products/update`: `id`, `title`, `vendor`, `product_type`, `status`, `variants[].price / inventory_quantity / inventory_policy`, `options[]`, `tags`, `created_at`, `updated_at` | a catalog record in `raw/products/shopify/`: `id`, `title`, `brand`, `category`, `price` (lowest variant), `in_stock`, `attributes`, `deleted` when not `active` |
//! | `products/delete`: `id` | a catalog record with `deleted: true` |
//! | `customers/data_request`, `customers/redact`, `shop/redact` | Vitrine's export and erasure, with receipts in the lake |

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::{Mapped, first_text, text};
use crate::error::{ApiError, Code};
use crate::hash::constant_time_eq;
use crate::time::parse_rfc3339;

/// The webhook topics Vitrine subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    OrdersCreate,
    ProductsCreate,
    ProductsUpdate,
    ProductsDelete,
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
}

impl Topic {
    pub fn parse(header: &str) -> Option<Self> {
        Some(match header.trim() {
            "orders/create" => Topic::OrdersCreate,
            "products/create" => Topic::ProductsCreate,
            "products/update" => Topic::ProductsUpdate,
            "products/delete" => Topic::ProductsDelete,
            "customers/data_request" => Topic::CustomersDataRequest,
            "customers/redact" => Topic::CustomersRedact,
            "shop/redact" => Topic::ShopRedact,
            _ => return None,
        })
    }
}

/// What Shopify puts in `X-Shopify-Hmac-Sha256`: the base64 HMAC-SHA256 of the body.
pub fn signature(body: &[u8], secret: &str) -> Option<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body);
    Some(STANDARD.encode(mac.finalize().into_bytes()))
}

/// Checks a webhook's signature.
pub fn verify(body: &[u8], header: Option<&str>, secret: &str) -> Result<(), ApiError> {
    let refused = || {
        ApiError::new(
            Code::Unauthorized,
            "X-Shopify-Hmac-Sha256 is missing or is not this app's signature of the body",
        )
    };
    let want = signature(body, secret).ok_or_else(refused)?;
    let got = header.ok_or_else(refused)?;
    constant_time_eq(got.trim().as_bytes(), want.as_bytes())
        .then_some(())
        .ok_or_else(refused)
}

/// A delivery id that can name a lake object: Shopify's are UUIDs; anything else is refused.
pub fn webhook_id(header: Option<&str>) -> Result<String, ApiError> {
    let id = header.map(str::trim).unwrap_or_default();
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(ApiError::new(
            Code::InvalidParameter,
            "X-Shopify-Webhook-Id must be the delivery's id (letters, digits, `-`)",
        ))
    }
}

/// An `orders/create` body as a purchase (or why it has none).
pub fn order(body: &Value) -> Mapped {
    let mut out = Mapped::default();
    let Some(o) = body.as_object() else {
        out.skip(0, body, "order", "an order must be an object");
        return out;
    };
    let Some(id) = text(o, "id") else {
        out.skip(0, body, "id", "an order needs its id");
        return out;
    };
    let customer = o
        .get("customer")
        .and_then(Value::as_object)
        .and_then(|c| text(c, "id"));
    let anonymous = o
        .get("note_attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .find(|a| a.get("name").and_then(Value::as_str) == Some("vitrine_anonymous_id"))
        .and_then(|a| text(a, "value"));
    if customer.is_none() && anonymous.is_none() {
        out.skip(
            0,
            body,
            "customer",
            "a guest order without the vitrine_anonymous_id note attribute names no shopper",
        );
        return out;
    }
    let currency = o.get("currency").cloned().unwrap_or(Value::Null);
    let lines: Vec<Value> = o
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        // Custom lines (shipping, gift cards) have no product.
        .filter(|l| text(l, "product_id").is_some())
        .map(|l| {
            json!({
                "item_id": text(l, "product_id"),
                "quantity": l.get("quantity").cloned().unwrap_or(Value::from(1)),
                "price": number(l.get("price")),
                "currency": currency,
            })
        })
        .collect();
    if lines.is_empty() {
        out.skip(0, body, "line_items", "the order has no product lines");
        return out;
    }
    let mut e = Map::new();
    e.insert("event_id".into(), format!("shopify-order-{id}").into());
    e.insert("type".into(), "purchase".into());
    if let Some(c) = customer {
        e.insert("user_id".into(), c.into());
    }
    if let Some(a) = anonymous {
        e.insert("anonymous_id".into(), a.into());
    }
    e.insert("session_id".into(), format!("shopify-order-{id}").into());
    e.insert(
        "timestamp".into(),
        o.get("created_at").cloned().unwrap_or(Value::Null),
    );
    e.insert("order_id".into(), first_text(o, &["name", "id"]).into());
    e.insert("lines".into(), lines.into());
    e.insert(
        "context".into(),
        json!({"source": "shopify", "source_event": "orders/create"}),
    );
    out.events.push((0, Value::Object(e)));
    out
}

/// Shopify sends money as strings ("199.00").
fn number(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => s.trim().parse::<f64>().map_or(Value::Null, Value::from),
        Some(n @ Value::Number(_)) => n.clone(),
        _ => Value::Null,
    }
}

/// A `products/*` body as the catalog record the trainer merges into `tables/products` (newest
/// `updated_at` per id wins; `deleted` drops it), or what is wrong with it.
pub fn product(topic: Topic, body: &Value, now_ms: i64) -> Result<Value, ApiError> {
    let bad = |m: &str| ApiError::new(Code::InvalidJson, m.to_owned());
    let p = body
        .as_object()
        .ok_or_else(|| bad("a product must be an object"))?;
    let id = text(p, "id").ok_or_else(|| bad("a product needs its id"))?;
    let updated = p
        .get("updated_at")
        .and_then(Value::as_str)
        .and_then(parse_rfc3339)
        .unwrap_or(now_ms);
    if topic == Topic::ProductsDelete {
        return Ok(json!({"id": id, "deleted": true, "updated_at": updated}));
    }
    let variants: Vec<&Map<String, Value>> = p
        .get("variants")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .collect();
    let price = variants
        .iter()
        .filter_map(|v| number(v.get("price")).as_f64())
        .fold(f64::INFINITY, f64::min);
    let in_stock = variants.iter().any(|v| {
        v.get("inventory_quantity")
            .and_then(Value::as_i64)
            .is_none_or(|q| q > 0)
            || v.get("inventory_policy").and_then(Value::as_str) == Some("continue")
    });
    let mut attributes = Map::new();
    for o in p
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
    {
        let (Some(name), Some(values)) =
            (text(o, "name"), o.get("values").and_then(Value::as_array))
        else {
            continue;
        };
        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
        if name != "Title" && !values.is_empty() {
            attributes.insert(name.to_lowercase(), values.join(" / ").into());
        }
    }
    if let Some(tags) = text(p, "tags") {
        attributes.insert("tags".into(), tags.into());
    }
    let active = p
        .get("status")
        .and_then(Value::as_str)
        .is_none_or(|s| s == "active");
    Ok(json!({
        "id": id,
        "title": text(p, "title").unwrap_or_default(),
        "brand": text(p, "vendor").unwrap_or_default(),
        "category": text(p, "product_type").unwrap_or_default().to_lowercase(),
        "price": if price.is_finite() { price } else { 0.0 },
        "in_stock": in_stock,
        "created_at": p.get("created_at").and_then(Value::as_str).and_then(parse_rfc3339).unwrap_or(updated),
        "updated_at": updated,
        "attributes": attributes,
        "deleted": !active,
    }))
}

/// The customer a privacy webhook names (`customer.id`), for Vitrine's export and erasure.
pub fn privacy_customer(body: &Value) -> Result<String, ApiError> {
    body.get("customer")
        .and_then(Value::as_object)
        .and_then(|c| text(c, "id"))
        .ok_or_else(|| ApiError::new(Code::InvalidJson, "the webhook names no customer.id"))
}
