//! The event schema: what browsers and the shop's backend send, and the strict validation that
//! decides what reaches the lake.
//!
//! Input is loose JSON (`serde_json::Value`) so that every rejection can name the field at fault;
//! output is the canonical [`Event`], which is also the line format of `raw/events/*.ndjson`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::{DAY_MS, parse_rfc3339};

/// Largest accepted event, in bytes of its JSON.
pub const MAX_EVENT_BYTES: usize = 16 * 1024;
/// Longest accepted id (event, user, anonymous, session, item, order, serve).
pub const MAX_ID_LEN: usize = 128;
/// Longest accepted search query.
pub const MAX_QUERY_LEN: usize = 512;
/// Most item ids in `results` or purchase `lines`.
pub const MAX_LIST_LEN: usize = 200;
/// Largest quantity on one line.
pub const MAX_QUANTITY: u32 = 10_000;
/// Earliest accepted timestamp: 2000-01-01T00:00:00Z.
pub const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A product page was seen.
    View,
    /// A search was run; `query` and the `results` shown.
    Search,
    /// `quantity` of `item_id` went into the cart.
    AddToCart,
    /// `quantity` of `item_id` left the cart.
    RemoveFromCart,
    /// An order was placed: `order_id` and its `lines`.
    Purchase,
    /// The cart page was seen, with the `lines` in it (none when the cart is empty).
    CartView,
    /// Checkout started with the cart's `lines` (and the `order_id` when the shop has one).
    Checkout,
    /// A recommendation widget (`serve_id`) showed `results`.
    RecImpression,
    /// A recommended `item_id` from `serve_id` was clicked.
    RecClick,
    /// An anonymous shopper logged in as `user_id`.
    Login,
}

impl EventType {
    /// All types, in schema order.
    pub const ALL: [EventType; 10] = [
        EventType::View,
        EventType::Search,
        EventType::AddToCart,
        EventType::RemoveFromCart,
        EventType::Purchase,
        EventType::CartView,
        EventType::Checkout,
        EventType::RecImpression,
        EventType::RecClick,
        EventType::Login,
    ];

    /// The wire name (`add_to_cart`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::View => "view",
            EventType::Search => "search",
            EventType::AddToCart => "add_to_cart",
            EventType::RemoveFromCart => "remove_from_cart",
            EventType::Purchase => "purchase",
            EventType::CartView => "cart_view",
            EventType::Checkout => "checkout",
            EventType::RecImpression => "rec_impression",
            EventType::RecClick => "rec_click",
            EventType::Login => "login",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One line of a purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseLine {
    pub item_id: String,
    pub quantity: u32,
    /// Unit price, in `currency`.
    pub price: f64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
}

/// A validated event: the canonical form stored in the lake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Client-chosen unique id; the lake deduplicates on it.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    pub session_id: String,
    /// When it happened, epoch milliseconds UTC.
    pub timestamp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<PurchaseLine>,
    /// The recommendation or search response this event follows from (attribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serve_id: Option<String>,
    /// The widget or page slot (`home_for_you`, `pdp_similar`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// Free-form context (page, referrer, device); kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Map<String, Value>>,
    /// When the edge accepted it, epoch milliseconds; set by the edge, never by clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<i64>,
}

impl Event {
    /// The shopper this event belongs to: the user id when known, else the anonymous id.
    pub fn shopper(&self) -> &str {
        self.user_id
            .as_deref()
            .or(self.anonymous_id.as_deref())
            .unwrap_or_default()
    }

    /// Items this event is about, with their quantities (purchases, cart views and checkouts
    /// list every line).
    pub fn items(&self) -> Vec<(&str, u32)> {
        if matches!(
            self.event_type,
            EventType::Purchase | EventType::CartView | EventType::Checkout
        ) {
            return self
                .lines
                .iter()
                .map(|l| (l.item_id.as_str(), l.quantity))
                .collect();
        }
        match &self.item_id {
            Some(id) => vec![(id.as_str(), self.quantity.unwrap_or(1))],
            None => Vec::new(),
        }
    }

    /// Revenue of a purchase (sum of price × quantity), 0 for other events.
    pub fn revenue(&self) -> f64 {
        if self.event_type != EventType::Purchase {
            return 0.0;
        }
        self.lines
            .iter()
            .map(|l| l.price * f64::from(l.quantity))
            .sum()
    }
}

/// Why an event was rejected; each variant has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    #[error("is required")]
    Missing,
    #[error("is not a field of this event")]
    UnknownField,
    #[error("is not a known event type")]
    UnknownType,
    #[error("must be {0}")]
    WrongType(&'static str),
    #[error("must not be negative")]
    Negative,
    #[error("is longer than {0}")]
    TooLong(usize),
    #[error("is not valid: {0}")]
    Invalid(&'static str),
    #[error("is too far in the future")]
    FutureTimestamp,
    #[error("is too far in the past")]
    TooOld,
    #[error("is larger than {0} bytes")]
    TooLarge(usize),
    #[error("repeats an event id earlier in the same batch")]
    Duplicate,
    #[error("is too short or too regular to be unguessable (at least 16 characters, 8 distinct)")]
    Guessable,
    /// A message from another tracker (`crate::sources`) that has no Vitrine event.
    #[error("has no Vitrine event: {0}")]
    Unmapped(&'static str),
}

impl Reason {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Missing => "missing_field",
            Reason::UnknownField => "unknown_field",
            Reason::UnknownType => "unknown_event_type",
            Reason::WrongType(_) => "wrong_type",
            Reason::Negative => "negative_value",
            Reason::TooLong(_) => "too_long",
            Reason::Invalid(_) => "invalid_value",
            Reason::FutureTimestamp => "timestamp_in_future",
            Reason::TooOld => "timestamp_too_old",
            Reason::TooLarge(_) => "event_too_large",
            Reason::Duplicate => "duplicate_event_id",
            Reason::Guessable => "weak_anonymous_id",
            Reason::Unmapped(_) => "unmapped_event",
        }
    }
}

/// A rejected event: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct ValidationError {
    /// JSON path of the field, e.g. `lines[2].price`; `event` for the whole event.
    pub field: String,
    pub reason: Reason,
}

impl ValidationError {
    fn new(field: impl Into<String>, reason: Reason) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }
}

/// How strict validation is about time; the edge uses the default, historical imports allow any past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationPolicy {
    /// How far ahead of `now` a timestamp may be (clock skew).
    pub max_future_ms: i64,
    /// How far behind `now` a timestamp may be; `None` accepts any time after 2000.
    pub max_past_ms: Option<i64>,
    /// Refuse anonymous ids short or regular enough to guess (`crate::identity`): at the edge,
    /// where an anonymous id is a bearer secret; not for imports of historical logs.
    pub strong_anonymous_ids: bool,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self {
            max_future_ms: 5 * 60 * 1000,
            max_past_ms: Some(30 * DAY_MS),
            strong_anonymous_ids: true,
        }
    }
}

impl ValidationPolicy {
    /// For imports of historical data: any past time is fine.
    pub fn historical() -> Self {
        Self {
            max_past_ms: None,
            strong_anonymous_ids: false,
            ..Self::default()
        }
    }
}

const CLIENT_FIELDS: &[&str] = &[
    "event_id",
    "type",
    "user_id",
    "anonymous_id",
    "session_id",
    "timestamp",
    "item_id",
    "quantity",
    "price",
    "currency",
    "query",
    "results",
    "order_id",
    "lines",
    "serve_id",
    "placement",
    "position",
    "context",
];

const LINE_FIELDS: &[&str] = &["item_id", "quantity", "price", "currency"];

/// Validates one event from its JSON value at time `now_ms`; the first fault found is returned.
pub fn validate(
    value: &Value,
    now_ms: i64,
    policy: &ValidationPolicy,
) -> Result<Event, ValidationError> {
    let obj = value
        .as_object()
        .ok_or_else(|| ValidationError::new("event", Reason::WrongType("an object")))?;
    let size = serde_json::to_string(value).map_or(usize::MAX, |s| s.len());
    if size > MAX_EVENT_BYTES {
        return Err(ValidationError::new(
            "event",
            Reason::TooLarge(MAX_EVENT_BYTES),
        ));
    }
    if let Some(unknown) = obj.keys().find(|k| !CLIENT_FIELDS.contains(&k.as_str())) {
        return Err(ValidationError::new(unknown.as_str(), Reason::UnknownField));
    }
    let event_id = required_id(obj, "event_id")?;
    let type_name = required_str(obj, "type", 64)?;
    let event_type = EventType::parse(&type_name)
        .ok_or_else(|| ValidationError::new("type", Reason::UnknownType))?;
    let user_id = optional_id(obj, "user_id")?;
    let anonymous_id = optional_id(obj, "anonymous_id")?;
    if policy.strong_anonymous_ids
        && anonymous_id
            .as_deref()
            .is_some_and(|a| crate::identity::check_anonymous_id(a).is_err())
    {
        return Err(ValidationError::new("anonymous_id", Reason::Guessable));
    }
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(ValidationError::new("user_id", Reason::Missing));
    }
    let session_id = required_id(obj, "session_id")?;
    let timestamp = timestamp(obj, now_ms, policy)?;
    let item_id = optional_id(obj, "item_id")?;
    let quantity = optional_quantity(obj, "quantity", "quantity")?;
    let price = optional_price(obj.get("price"), "price")?;
    let currency = optional_currency(obj.get("currency"), "currency")?;
    let query = optional_str(obj, "query", MAX_QUERY_LEN)?;
    let results = id_list(obj, "results")?;
    let order_id = optional_id(obj, "order_id")?;
    let lines = purchase_lines(obj)?;
    let serve_id = optional_id(obj, "serve_id")?;
    let placement = optional_id(obj, "placement")?;
    let position = optional_u32(obj, "position")?;
    let context = match obj.get("context") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            return Err(ValidationError::new(
                "context",
                Reason::WrongType("an object"),
            ));
        }
    };
    let event = Event {
        event_id,
        event_type,
        user_id,
        anonymous_id,
        session_id,
        timestamp,
        item_id,
        quantity,
        price,
        currency,
        query,
        results,
        order_id,
        lines,
        serve_id,
        placement,
        position,
        context,
        received_at: None,
    };
    check_type_requirements(&event)?;
    Ok(event)
}

/// The fields each event type needs beyond the common ones.
fn check_type_requirements(e: &Event) -> Result<(), ValidationError> {
    let need = |present: bool, field: &str| {
        if present {
            Ok(())
        } else {
            Err(ValidationError::new(field, Reason::Missing))
        }
    };
    match e.event_type {
        EventType::View | EventType::AddToCart | EventType::RemoveFromCart => {
            need(e.item_id.is_some(), "item_id")
        }
        EventType::Search => need(e.query.is_some(), "query"),
        EventType::Purchase => {
            need(e.order_id.is_some(), "order_id")?;
            need(!e.lines.is_empty(), "lines")
        }
        EventType::CartView => Ok(()),
        EventType::Checkout => need(!e.lines.is_empty(), "lines"),
        EventType::RecImpression => {
            need(e.serve_id.is_some(), "serve_id")?;
            need(!e.results.is_empty(), "results")
        }
        EventType::RecClick => {
            need(e.serve_id.is_some(), "serve_id")?;
            need(e.item_id.is_some(), "item_id")
        }
        EventType::Login => {
            need(e.user_id.is_some(), "user_id")?;
            need(e.anonymous_id.is_some(), "anonymous_id")
        }
    }
}

fn optional_str(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(ValidationError::new(field, Reason::TooLong(max)))
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => Err(ValidationError::new(
            field,
            Reason::Invalid("control characters are not allowed"),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ValidationError::new(field, Reason::WrongType("a string"))),
    }
}

fn required_str(
    obj: &Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<String, ValidationError> {
    optional_str(obj, field, max)?.ok_or_else(|| ValidationError::new(field, Reason::Missing))
}

fn check_id(field: &str, s: String) -> Result<String, ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::new(field, Reason::Missing));
    }
    Ok(s)
}

/// Ids may also be sent as JSON integers (many shops number their products).
fn id_value(field: &str, v: &Value) -> Result<Option<String>, ValidationError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Value::String(s) if s.chars().count() > MAX_ID_LEN => {
            Err(ValidationError::new(field, Reason::TooLong(MAX_ID_LEN)))
        }
        Value::String(s) if s.chars().any(char::is_control) => Err(ValidationError::new(
            field,
            Reason::Invalid("control characters are not allowed"),
        )),
        Value::String(s) => check_id(field, s.clone()).map(Some),
        _ => Err(ValidationError::new(field, Reason::WrongType("a string"))),
    }
}

fn optional_id(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ValidationError> {
    obj.get(field).map_or(Ok(None), |v| id_value(field, v))
}

fn required_id(obj: &Map<String, Value>, field: &str) -> Result<String, ValidationError> {
    optional_id(obj, field)?.ok_or_else(|| ValidationError::new(field, Reason::Missing))
}

fn id_list(obj: &Map<String, Value>, field: &str) -> Result<Vec<String>, ValidationError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() > MAX_LIST_LEN => {
            Err(ValidationError::new(field, Reason::TooLong(MAX_LIST_LEN)))
        }
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let path = format!("{field}[{i}]");
                id_value(&path, v)?.ok_or_else(|| ValidationError::new(path, Reason::Missing))
            })
            .collect(),
        Some(_) => Err(ValidationError::new(
            field,
            Reason::WrongType("an array of ids"),
        )),
    }
}

fn timestamp(
    obj: &Map<String, Value>,
    now_ms: i64,
    policy: &ValidationPolicy,
) -> Result<i64, ValidationError> {
    const F: &str = "timestamp";
    let ms = match obj.get(F) {
        None | Some(Value::Null) => return Err(ValidationError::new(F, Reason::Missing)),
        Some(Value::String(s)) => parse_rfc3339(s).ok_or_else(|| {
            ValidationError::new(
                F,
                Reason::Invalid("expected RFC 3339 or epoch milliseconds"),
            )
        })?,
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            ValidationError::new(F, Reason::Invalid("expected integer epoch milliseconds"))
        })?,
        Some(_) => {
            return Err(ValidationError::new(
                F,
                Reason::WrongType("a string or integer"),
            ));
        }
    };
    if ms > now_ms.saturating_add(policy.max_future_ms) {
        return Err(ValidationError::new(F, Reason::FutureTimestamp));
    }
    let too_old = ms < MIN_TIMESTAMP_MS
        || policy
            .max_past_ms
            .is_some_and(|max| ms < now_ms.saturating_sub(max));
    if too_old {
        return Err(ValidationError::new(F, Reason::TooOld));
    }
    Ok(ms)
}

fn number(v: &Value, field: &str) -> Result<f64, ValidationError> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| ValidationError::new(field, Reason::WrongType("a number")))
}

fn optional_price(v: Option<&Value>, field: &str) -> Result<Option<f64>, ValidationError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let x = number(v, field)?;
            if x < 0.0 {
                return Err(ValidationError::new(field, Reason::Negative));
            }
            Ok(Some(x))
        }
    }
}

fn quantity_value(v: &Value, field: &str) -> Result<u32, ValidationError> {
    let x = number(v, field)?;
    if x < 0.0 {
        return Err(ValidationError::new(field, Reason::Negative));
    }
    if x.fract() != 0.0 || x < 1.0 || x > f64::from(MAX_QUANTITY) {
        return Err(ValidationError::new(
            field,
            Reason::Invalid("must be a whole number from 1 to 10000"),
        ));
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "checked to be a whole number in 1..=10000 above"
    )]
    Ok(x as u32)
}

fn optional_quantity(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<u32>, ValidationError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => quantity_value(v, field).map(Some),
    }
}

fn optional_u32(obj: &Map<String, Value>, field: &str) -> Result<Option<u32>, ValidationError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = v
                .as_i64()
                .ok_or_else(|| ValidationError::new(field, Reason::WrongType("an integer")))?;
            if n < 0 {
                return Err(ValidationError::new(field, Reason::Negative));
            }
            u32::try_from(n)
                .map(Some)
                .map_err(|_| ValidationError::new(field, Reason::Invalid("too large")))
        }
    }
}

fn optional_currency(v: Option<&Value>, field: &str) -> Result<Option<String>, ValidationError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) => {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(ValidationError::new(
            field,
            Reason::Invalid("must be an ISO 4217 code such as EUR"),
        )),
    }
}

fn purchase_lines(obj: &Map<String, Value>) -> Result<Vec<PurchaseLine>, ValidationError> {
    let items = match obj.get("lines") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ValidationError::new("lines", Reason::WrongType("an array")));
        }
    };
    if items.len() > MAX_LIST_LEN {
        return Err(ValidationError::new("lines", Reason::TooLong(MAX_LIST_LEN)));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = |f: &str| format!("lines[{i}].{f}");
            let line = v.as_object().ok_or_else(|| {
                ValidationError::new(format!("lines[{i}]"), Reason::WrongType("an object"))
            })?;
            if let Some(unknown) = line.keys().find(|k| !LINE_FIELDS.contains(&k.as_str())) {
                return Err(ValidationError::new(at(unknown), Reason::UnknownField));
            }
            let item_id = line
                .get("item_id")
                .map_or(Ok(None), |v| id_value(&at("item_id"), v))?
                .ok_or_else(|| ValidationError::new(at("item_id"), Reason::Missing))?;
            let quantity = match line.get("quantity") {
                None | Some(Value::Null) => 1,
                Some(v) => quantity_value(v, &at("quantity"))?,
            };
            let price = optional_price(line.get("price"), &at("price"))?
                .ok_or_else(|| ValidationError::new(at("price"), Reason::Missing))?;
            let currency = optional_currency(line.get("currency"), &at("currency"))?
                .ok_or_else(|| ValidationError::new(at("currency"), Reason::Missing))?;
            Ok(PurchaseLine {
                item_id,
                quantity,
                price,
                currency,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_790_000_000_000;

    fn base() -> Value {
        json!({
            "event_id": "e1", "type": "view", "anonymous_id": "anon-7Kq2xP9mZ4wL", "session_id": "s1",
            "timestamp": NOW - 1000, "item_id": "sku-1"
        })
    }

    fn with(mut v: Value, key: &str, val: Value) -> Value {
        v[key] = val;
        v
    }

    fn without(mut v: Value, key: &str) -> Value {
        v.as_object_mut().unwrap().remove(key);
        v
    }

    fn reject(v: Value) -> ValidationError {
        validate(&v, NOW, &ValidationPolicy::default()).unwrap_err()
    }

    fn purchase() -> Value {
        json!({
            "event_id": "p1", "type": "purchase", "user_id": "u1", "session_id": "s1",
            "timestamp": "2026-09-21T10:00:00Z", "order_id": "o1",
            "lines": [{"item_id": "sku-1", "quantity": 2, "price": 19.99, "currency": "EUR"}]
        })
    }

    #[test]
    fn accepts_a_view() {
        let e = validate(&base(), NOW, &ValidationPolicy::default()).unwrap();
        assert_eq!(e.event_type, EventType::View);
        assert_eq!(e.item_id.as_deref(), Some("sku-1"));
        assert_eq!(e.shopper(), "anon-7Kq2xP9mZ4wL");
        assert_eq!(e.items(), vec![("sku-1", 1)]);
    }

    #[test]
    fn accepts_a_purchase_with_lines_and_numeric_ids() {
        let v = with(purchase(), "order_id", json!(12345));
        let e = validate(&v, NOW, &ValidationPolicy::default()).unwrap();
        assert_eq!(e.order_id.as_deref(), Some("12345"));
        assert_eq!(e.lines[0].quantity, 2);
        assert!((e.revenue() - 39.98).abs() < 1e-9);
        assert_eq!(e.items(), vec![("sku-1", 2)]);
    }

    #[test]
    fn canonical_json_round_trips() {
        let e = validate(&purchase(), NOW, &ValidationPolicy::default()).unwrap();
        let text = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(e, back);
        assert!(text.contains("\"type\":\"purchase\""));
    }

    #[test]
    fn rejects_unknown_event_type() {
        let e = reject(with(base(), "type", json!("teleport")));
        assert_eq!(
            (e.field.as_str(), e.reason.code()),
            ("type", "unknown_event_type")
        );
    }

    #[test]
    fn rejects_missing_event_id() {
        let e = reject(without(base(), "event_id"));
        assert_eq!((e.field.as_str(), e.reason), ("event_id", Reason::Missing));
        let e = reject(with(base(), "event_id", json!("  ")));
        assert_eq!(e.field, "event_id");
    }

    #[test]
    fn rejects_missing_shopper_ids() {
        let e = reject(without(base(), "anonymous_id"));
        assert_eq!((e.field.as_str(), e.reason), ("user_id", Reason::Missing));
    }

    #[test]
    fn rejects_missing_session_and_timestamp() {
        assert_eq!(reject(without(base(), "session_id")).field, "session_id");
        assert_eq!(reject(without(base(), "timestamp")).field, "timestamp");
    }

    #[test]
    fn rejects_missing_type_specific_fields() {
        assert_eq!(reject(without(base(), "item_id")).field, "item_id");
        assert_eq!(reject(without(purchase(), "order_id")).field, "order_id");
        assert_eq!(reject(with(purchase(), "lines", json!([]))).field, "lines");
        let search = with(without(base(), "item_id"), "type", json!("search"));
        assert_eq!(reject(search).field, "query");
        let imp = with(base(), "type", json!("rec_impression"));
        assert_eq!(reject(imp).field, "serve_id");
        let login = with(base(), "type", json!("login"));
        assert_eq!(reject(login).field, "user_id");
        let checkout = with(without(purchase(), "order_id"), "type", json!("checkout"));
        assert_eq!(reject(with(checkout, "lines", json!([]))).field, "lines");
    }

    #[test]
    fn cart_views_and_checkouts_list_their_lines_but_are_not_revenue() {
        let checkout = with(without(purchase(), "order_id"), "type", json!("checkout"));
        let e = validate(&checkout, NOW, &ValidationPolicy::default()).unwrap();
        assert_eq!(e.event_type, EventType::Checkout);
        assert_eq!(e.items().len(), e.lines.len());
        assert_eq!(e.revenue(), 0.0);
        let empty = with(without(checkout, "lines"), "type", json!("cart_view"));
        let e = validate(&empty, NOW, &ValidationPolicy::default()).unwrap();
        assert_eq!((e.event_type, e.items().len()), (EventType::CartView, 0));
        assert_eq!(EventType::parse("cart_view"), Some(EventType::CartView));
    }

    #[test]
    fn rejects_negative_price() {
        let e = reject(with(base(), "price", json!(-1.0)));
        assert_eq!((e.field.as_str(), e.reason), ("price", Reason::Negative));
        let mut p = purchase();
        p["lines"][0]["price"] = json!(-5);
        let e = reject(p);
        assert_eq!(
            (e.field.as_str(), e.reason.code()),
            ("lines[0].price", "negative_value")
        );
    }

    #[test]
    fn rejects_bad_quantities_and_currency() {
        let e = reject(with(base(), "quantity", json!(0)));
        assert_eq!(e.reason.code(), "invalid_value");
        let e = reject(with(base(), "quantity", json!(-2)));
        assert_eq!(e.reason, Reason::Negative);
        let e = reject(with(base(), "quantity", json!(1.5)));
        assert_eq!(e.field, "quantity");
        let mut p = purchase();
        p["lines"][0]["currency"] = json!("euro");
        assert_eq!(reject(p).field, "lines[0].currency");
    }

    #[test]
    fn rejects_far_future_timestamp() {
        let e = reject(with(base(), "timestamp", json!(NOW + 10 * 60 * 1000)));
        assert_eq!(
            (e.field.as_str(), e.reason),
            ("timestamp", Reason::FutureTimestamp)
        );
        // Within the allowed clock skew is fine.
        validate(
            &with(base(), "timestamp", json!(NOW + 60_000)),
            NOW,
            &ValidationPolicy::default(),
        )
        .unwrap();
    }

    #[test]
    fn rejects_too_old_unless_historical() {
        let old = with(base(), "timestamp", json!("2019-10-01T00:00:00Z"));
        assert_eq!(reject(old.clone()).reason, Reason::TooOld);
        validate(&old, NOW, &ValidationPolicy::historical()).unwrap();
        let ancient = with(base(), "timestamp", json!(0));
        let e = validate(&ancient, NOW, &ValidationPolicy::historical()).unwrap_err();
        assert_eq!(e.reason, Reason::TooOld);
    }

    #[test]
    fn rejects_unparseable_timestamp() {
        let e = reject(with(base(), "timestamp", json!("last tuesday")));
        assert_eq!(
            (e.field.as_str(), e.reason.code()),
            ("timestamp", "invalid_value")
        );
        assert_eq!(
            reject(with(base(), "timestamp", json!(true))).reason.code(),
            "wrong_type"
        );
    }

    #[test]
    fn rejects_oversized_payload() {
        let big = "x".repeat(MAX_EVENT_BYTES);
        let e = reject(with(base(), "context", json!({ "blob": big })));
        assert_eq!(
            (e.field.as_str(), e.reason.code()),
            ("event", "event_too_large")
        );
    }

    #[test]
    fn rejects_unknown_fields_and_client_received_at() {
        let e = reject(with(base(), "colour", json!("red")));
        assert_eq!(
            (e.field.as_str(), e.reason),
            ("colour", Reason::UnknownField)
        );
        let e = reject(with(base(), "received_at", json!(1)));
        assert_eq!(e.field, "received_at");
        let mut p = purchase();
        p["lines"][0]["discount"] = json!(1);
        assert_eq!(reject(p).field, "lines[0].discount");
    }

    #[test]
    fn rejects_wrong_shapes() {
        assert_eq!(reject(json!([1, 2])).field, "event");
        assert_eq!(
            reject(with(base(), "item_id", json!({"a": 1})))
                .reason
                .code(),
            "wrong_type"
        );
        assert_eq!(
            reject(with(base(), "results", json!("sku"))).field,
            "results"
        );
        assert_eq!(
            reject(with(base(), "results", json!(["a", null]))).field,
            "results[1]"
        );
        assert_eq!(reject(with(base(), "context", json!(3))).field, "context");
        assert_eq!(
            reject(with(base(), "position", json!(-1))).reason,
            Reason::Negative
        );
    }

    #[test]
    fn rejects_overlong_ids_and_queries_and_control_chars() {
        let e = reject(with(base(), "item_id", json!("x".repeat(MAX_ID_LEN + 1))));
        assert_eq!(e.reason, Reason::TooLong(MAX_ID_LEN));
        let q = with(without(base(), "item_id"), "type", json!("search"));
        let e = reject(with(q, "query", json!("q".repeat(MAX_QUERY_LEN + 1))));
        assert_eq!(e.field, "query");
        let e = reject(with(base(), "session_id", json!("a\u{0}b")));
        assert_eq!(e.reason.code(), "invalid_value");
    }

    #[test]
    fn error_message_names_the_field() {
        let e = reject(with(base(), "price", json!(-1)));
        assert_eq!(e.to_string(), "`price` must not be negative");
    }
}
