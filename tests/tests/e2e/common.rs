//! Event builders and answer readers shared by the end-to-end tests.

use serde_json::{Value, json};

/// A valid view event at `ts` by the anonymous shopper `shopper` (a strong id: `tests::anon`).
pub fn view(id: &str, shopper: &str, item: &str, ts: i64) -> Value {
    json!({"event_id": id, "type": "view", "anonymous_id": shopper, "session_id": format!("s-{shopper}"),
           "timestamp": ts, "item_id": item})
}

/// A valid one-line purchase event at `ts`.
pub fn purchase(id: &str, user: &str, item: &str, ts: i64) -> Value {
    json!({"event_id": id, "type": "purchase", "user_id": user, "session_id": format!("s-{user}"),
           "timestamp": ts, "order_id": format!("o-{id}"),
           "lines": [{"item_id": item, "quantity": 1, "price": 99.0, "currency": "USD"}]})
}

/// Item ids of a recommendation response.
pub fn item_ids(resp: &Value) -> Vec<String> {
    resp["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The stable error code of an error answer (`""` for a success).
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// The ids of `category`'s items in a model's catalog (`Trained::categories`), sorted.
pub fn items_in(cats: &std::collections::HashMap<String, String>, category: &str) -> Vec<String> {
    let mut ids: Vec<String> = cats
        .iter()
        .filter(|(_, c)| *c == category)
        .map(|(id, _)| id.clone())
        .collect();
    ids.sort();
    ids
}
