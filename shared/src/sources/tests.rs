//! The mappings on payloads written from the senders' public specifications (Segment e-commerce
//! spec v2, GA4 Measurement Protocol reference), through the same validation `POST /v1/events`
//! applies.

use serde_json::{Value, json};

use super::{ga4, segment};
use crate::event::{EventType, ValidationPolicy};

const NOW: i64 = 1_793_613_600_000; // 2026-11-02T10:00:00Z
const ANON: &str = "3f1c2b9e-6a5d-4e7f-8c21-0d9b7a6e5f43";

fn track(id: &str, event: &str, properties: Value) -> Value {
    json!({"type": "track", "event": event, "messageId": id, "anonymousId": ANON,
           "timestamp": "2026-11-02T09:59:00Z", "properties": properties})
}

#[test]
fn segment_ecommerce_events_map_to_vitrine_events() {
    let messages = vec![
        track("m1", "Products Searched", json!({"query": "usb c cable"})),
        track(
            "m2",
            "Product Viewed",
            json!({"product_id": "laptop-1", "price": 899}),
        ),
        track(
            "m3",
            "Product Added",
            json!({"product_id": "laptop-1", "quantity": 2, "price": 899, "currency": "EUR"}),
        ),
        track("m4", "Product Removed", json!({"product_id": "laptop-1"})),
        track(
            "m5",
            "Order Completed",
            json!({"order_id": "o-1", "currency": "EUR",
            "products": [{"product_id": "laptop-1", "quantity": 1, "price": 899}, {"sku": "cable-2", "price": 9.5}]}),
        ),
        track(
            "m6",
            "Product Added to Wishlist",
            json!({"product_id": "mouse-3"}),
        ),
        track(
            "m7",
            "Product Clicked",
            json!({"product_id": "mouse-3", "serve_id": "srv-1", "position": 2}),
        ),
        track(
            "m8",
            "Product List Viewed",
            json!({"serve_id": "srv-1", "products": [{"product_id": "mouse-3"}, {"product_id": "pad-4"}]}),
        ),
        json!({"type": "identify", "messageId": "m9", "userId": "u-42", "anonymousId": ANON, "timestamp": "2026-11-02T09:59:30Z"}),
        json!({"type": "alias", "messageId": "m10", "previousId": ANON, "userId": "u-42", "timestamp": "2026-11-02T09:59:40Z"}),
    ];
    let out = segment::map(&messages, "seg").outcome(NOW, &ValidationPolicy::default());
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let types: Vec<EventType> = out.accepted.iter().map(|e| e.event_type).collect();
    use EventType::*;
    assert_eq!(
        types,
        [
            Search,
            View,
            AddToCart,
            RemoveFromCart,
            Purchase,
            View,
            RecClick,
            RecImpression,
            Login,
            Login
        ]
    );
    let e = &out.accepted;
    assert_eq!(e[0].query.as_deref(), Some("usb c cable"));
    assert_eq!(e[1].event_id, "seg-m2");
    assert_eq!(e[1].anonymous_id.as_deref(), Some(ANON));
    assert_eq!(e[1].timestamp, NOW - 60_000);
    assert_eq!(
        (e[2].quantity, e[2].currency.as_deref()),
        (Some(2), Some("EUR"))
    );
    assert_eq!(e[3].quantity, Some(1), "a quantity left out is one");
    assert_eq!(e[4].order_id.as_deref(), Some("o-1"));
    let lines: Vec<(&str, u32, f64, &str)> = e[4]
        .lines
        .iter()
        .map(|l| (l.item_id.as_str(), l.quantity, l.price, l.currency.as_str()))
        .collect();
    assert_eq!(
        lines,
        [("laptop-1", 1, 899.0, "EUR"), ("cable-2", 1, 9.5, "EUR")]
    );
    assert_eq!(
        (e[6].serve_id.as_deref(), e[6].position),
        (Some("srv-1"), Some(2))
    );
    assert_eq!(e[7].results, ["mouse-3", "pad-4"]);
    assert_eq!(
        (e[9].user_id.as_deref(), e[9].anonymous_id.as_deref()),
        (Some("u-42"), Some(ANON))
    );
    // One session per shopper and day when the sender has none.
    assert_eq!(e[0].session_id, e[1].session_id);
}

#[test]
fn segment_cart_views_and_checkouts_carry_the_cart_lines() {
    let products = json!([
        {"product_id": "laptop-1", "quantity": 1, "price": 899},
        {"product_id": "cable-2", "price": 9.5}
    ]);
    let messages = vec![
        track(
            "c1",
            "Cart Viewed",
            json!({"cart_id": "cart-1", "currency": "EUR", "products": products}),
        ),
        track(
            "c2",
            "Checkout Started",
            json!({"order_id": "o-9", "currency": "EUR", "products": products}),
        ),
        track("c3", "Cart Viewed", json!({"cart_id": "cart-2"})),
        track("c4", "Checkout Started", json!({"currency": "EUR"})),
    ];
    let out = segment::map(&messages, "seg").outcome(NOW, &ValidationPolicy::default());
    let types: Vec<EventType> = out.accepted.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::CartView,
            EventType::Checkout,
            EventType::CartView
        ]
    );
    let (cart, checkout, empty) = (&out.accepted[0], &out.accepted[1], &out.accepted[2]);
    assert_eq!(cart.items(), [("laptop-1", 1), ("cable-2", 1)]);
    assert_eq!(cart.lines[1].currency, "EUR");
    assert_eq!(checkout.order_id.as_deref(), Some("o-9"));
    assert_eq!(checkout.lines.len(), 2);
    assert_eq!(checkout.revenue(), 0.0, "a checkout is not revenue");
    assert!(empty.lines.is_empty(), "an empty cart is still a cart view");
    // A checkout of nothing is refused, with the field at fault.
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(
        (out.rejected[0].index, out.rejected[0].field.as_str()),
        (3, "lines")
    );
}

#[test]
fn ga4_view_cart_and_begin_checkout_carry_the_items() {
    let body = ga4_body(json!([
        {"name": "view_cart", "params": {"currency": "EUR", "items": [{"item_id": "laptop-1", "price": 899, "quantity": 1}]}},
        {"name": "begin_checkout", "params": {"currency": "EUR", "items": [{"item_id": "laptop-1", "price": 899}, {"item_id": "cable-2", "price": 9.5, "quantity": 2}]}},
    ]));
    let out = ga4::map(&body, NOW)
        .unwrap()
        .outcome(NOW, &ValidationPolicy::default());
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let types: Vec<EventType> = out.accepted.iter().map(|e| e.event_type).collect();
    assert_eq!(types, [EventType::CartView, EventType::Checkout]);
    assert_eq!(out.accepted[1].items(), [("laptop-1", 1), ("cable-2", 2)]);
}

#[test]
fn segment_messages_without_a_vitrine_event_are_quarantined_with_the_reason() {
    let messages = vec![
        track("q1", "Coupon Entered", json!({"coupon_id": "c-1"})),
        track("q2", "Product Clicked", json!({"product_id": "mouse-3"})),
        json!({"type": "page", "messageId": "q3", "anonymousId": ANON, "timestamp": "2026-11-02T09:59:00Z"}),
        json!({"type": "track", "event": "Product Viewed", "anonymousId": ANON}),
        track("q5", "Product Viewed", json!({"price": 5})),
        json!("not an object"),
        json!({"type": "identify", "messageId": "q7", "userId": "u-1", "timestamp": "2026-11-02T09:59:00Z"}),
    ];
    let out = segment::map(&messages, "seg").outcome(NOW, &ValidationPolicy::default());
    assert!(out.accepted.is_empty());
    let got: Vec<(usize, &str, &str)> = out
        .rejected
        .iter()
        .map(|q| (q.index, q.field.as_str(), q.code.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (0, "event", "unmapped_event"),
            (1, "properties.serve_id", "unmapped_event"),
            (2, "type", "unmapped_event"),
            (3, "messageId", "unmapped_event"),
            (4, "item_id", "missing_field"),
            (5, "message", "unmapped_event"),
            (6, "userId", "unmapped_event"),
        ]
    );
    assert!(
        out.rejected[0].message.contains("has no Vitrine event"),
        "{}",
        out.rejected[0].message
    );
    // The quarantine keeps what was sent.
    assert_eq!(out.rejected[0].raw["event"], "Coupon Entered");
}

#[test]
fn segment_bodies_come_as_one_message_a_batch_or_an_array() {
    let one = track("a", "Product Viewed", json!({"product_id": "x"}));
    assert_eq!(segment::messages(one.clone()).unwrap().len(), 1);
    assert_eq!(
        segment::messages(json!({"batch": [one.clone(), one.clone()]}))
            .unwrap()
            .len(),
        2
    );
    assert_eq!(segment::messages(json!([one])).unwrap().len(), 1);
    assert!(segment::messages(json!({"batch": 3})).is_err());
    assert!(segment::messages(json!("x")).is_err());
}

#[test]
fn segment_requests_must_be_signed_with_the_shared_secret() {
    let secret = "seg-secret-0123456789abcdef";
    let body = br#"{"type":"track"}"#;
    let sig = segment::signature(body, secret).unwrap();
    // HMAC-SHA1 test vector (RFC 2202, case 2).
    assert_eq!(
        segment::signature(b"what do ya want for nothing?", "Jefe").unwrap(),
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
    assert!(segment::verify(body, Some(&sig), None, secret).is_ok());
    assert!(segment::verify(body, Some(&sig.to_uppercase()), None, secret).is_ok());
    let forged = segment::signature(body, "another-secret-0123456789").unwrap();
    let e = segment::verify(body, Some(&forged), None, secret).unwrap_err();
    assert_eq!(e.status(), 401);
    assert!(segment::verify(br#"{"type":"identify"}"#, Some(&sig), None, secret).is_err());
    assert!(segment::verify(body, Some(""), None, secret).is_err());
    assert!(segment::verify(body, None, None, secret).is_err());
    assert!(segment::verify(body, None, Some(&format!("Bearer {secret}")), secret).is_ok());
    assert!(segment::verify(body, None, Some("Bearer guess"), secret).is_err());
    assert!(segment::verify(body, None, Some(secret), secret).is_err());
}

fn ga4_body(events: Value) -> Value {
    json!({"client_id": "1234567890.1712345678", "timestamp_micros": (NOW - 30_000) * 1000, "events": events})
}

#[test]
fn ga4_ecommerce_events_map_to_vitrine_events() {
    let body = ga4_body(json!([
        {"name": "view_item", "params": {"currency": "EUR", "items": [{"item_id": "laptop-1", "price": 899}, {"item_id": "laptop-2"}]}},
        {"name": "add_to_cart", "params": {"currency": "EUR", "items": [{"item_id": "laptop-1", "price": 899, "quantity": 1}]}},
        {"name": "remove_from_cart", "params": {"items": [{"item_id": "laptop-1"}]}},
        {"name": "purchase", "params": {"transaction_id": "t-1", "currency": "EUR", "items": [{"item_id": "laptop-1", "price": 899, "quantity": 1}]}},
        {"name": "search", "params": {"search_term": "mouse"}},
        {"name": "view_item_list", "params": {"serve_id": "srv-9", "items": [{"item_id": "a"}, {"item_id": "b"}]}},
        {"name": "select_item", "params": {"serve_id": "srv-9", "items": [{"item_id": "b"}]}},
        {"name": "add_to_wishlist", "params": {"items": [{"item_id": "pad-4"}]}},
    ]));
    let out = ga4::map(&body, NOW)
        .unwrap()
        .outcome(NOW, &ValidationPolicy::default());
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    use EventType::*;
    let types: Vec<EventType> = out.accepted.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            View,
            View,
            AddToCart,
            RemoveFromCart,
            Purchase,
            Search,
            RecImpression,
            RecClick,
            View
        ]
    );
    let e = &out.accepted;
    assert_eq!(e[0].anonymous_id.as_deref(), Some("1234567890.1712345678"));
    assert_eq!(e[0].timestamp, NOW - 30_000);
    assert_eq!(e[4].order_id.as_deref(), Some("t-1"));
    assert_eq!(e[4].lines[0].currency, "EUR");
    assert_eq!(e[5].query.as_deref(), Some("mouse"));
    assert_eq!(e[7].item_id.as_deref(), Some("b"));
    // The same request maps to the same ids (a resent request is stored once); items differ.
    let again = ga4::map(&body, NOW + 5_000)
        .unwrap()
        .outcome(NOW, &ValidationPolicy::default());
    let ids = |o: &crate::ingest::BatchOutcome| -> Vec<String> {
        o.accepted.iter().map(|e| e.event_id.clone()).collect()
    };
    assert_eq!(ids(&out), ids(&again));
    assert_ne!(e[0].event_id, e[1].event_id);
}

#[test]
fn ga4_events_without_a_vitrine_event_are_quarantined_and_bad_bodies_refused() {
    let body = ga4_body(json!([
        {"name": "page_view", "params": {}},
        {"name": "add_payment_info", "params": {"items": [{"item_id": "a"}]}},
        {"name": "view_item", "params": {}},
        {"name": "select_item", "params": {"items": [{"item_id": "a"}]}},
        {"name": "login", "params": {}},
        7,
    ]));
    let out = ga4::map(&body, NOW)
        .unwrap()
        .outcome(NOW, &ValidationPolicy::default());
    assert!(out.accepted.is_empty());
    let fields: Vec<&str> = out.rejected.iter().map(|q| q.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "name",
            "name",
            "params.items",
            "params.serve_id",
            "user_id",
            "events[]"
        ]
    );
    assert!(out.rejected.iter().all(|q| q.code == "unmapped_event"));
    assert!(ga4::map(&json!({"client_id": "x"}), NOW).is_err());
    assert!(ga4::map(&json!([1]), NOW).is_err());
    assert!(ga4::verify(Some("s3cr3t-0123456789abcdef"), "s3cr3t-0123456789abcdef").is_ok());
    assert_eq!(
        ga4::verify(Some("guess"), "s3cr3t-0123456789abcdef")
            .unwrap_err()
            .status(),
        401
    );
    assert!(ga4::verify(None, "s3cr3t-0123456789abcdef").is_err());
}

mod shopify_webhooks {
    use serde_json::json;

    use super::NOW;
    use crate::event::{EventType, ValidationPolicy};
    use crate::sources::shopify::{self, Topic};

    const SECRET: &str = "shpss_0123456789abcdef0123456789abcdef";

    #[test]
    fn webhooks_must_carry_the_apps_signature() {
        let body = br#"{"id":1}"#;
        let sig = shopify::signature(body, SECRET).unwrap();
        // HMAC-SHA256 test vector (RFC 4231, case 2), base64 as Shopify sends it.
        assert_eq!(
            shopify::signature(b"what do ya want for nothing?", "Jefe").unwrap(),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
        assert!(shopify::verify(body, Some(&sig), SECRET).is_ok());
        assert_eq!(
            shopify::verify(body, None, SECRET).unwrap_err().status(),
            401
        );
        assert!(shopify::verify(br#"{"id":2}"#, Some(&sig), SECRET).is_err());
        let forged = shopify::signature(body, "shpss_guess_0123456789abcdef").unwrap();
        assert!(shopify::verify(body, Some(&forged), SECRET).is_err());
        assert!(shopify::webhook_id(Some("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")).is_ok());
        assert!(shopify::webhook_id(Some("../../models/latest.json")).is_err());
        assert!(shopify::webhook_id(None).is_err());
        assert_eq!(Topic::parse("orders/create"), Some(Topic::OrdersCreate));
        assert_eq!(Topic::parse("carts/update"), None);
    }

    #[test]
    fn an_order_becomes_a_purchase_of_its_product_lines() {
        let order = json!({
            "id": 820982911946154508u64, "name": "#1001", "created_at": "2026-11-02T04:59:00-05:00",
            "currency": "EUR", "customer": {"id": 115310627314723954u64, "email": "x@example.com"},
            "line_items": [
                {"product_id": 632910392, "variant_id": 808950810, "quantity": 2, "price": "199.00", "title": "IPod Nano"},
                {"product_id": null, "quantity": 1, "price": "5.00", "title": "Gift wrap"}
            ]
        });
        let out = shopify::order(&order).outcome(NOW, &ValidationPolicy::default());
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        let e = &out.accepted[0];
        assert_eq!(e.event_type, EventType::Purchase);
        assert_eq!(e.event_id, "shopify-order-820982911946154508");
        assert_eq!(e.user_id.as_deref(), Some("115310627314723954"));
        assert_eq!(e.timestamp, NOW - 60_000);
        assert_eq!(e.order_id.as_deref(), Some("#1001"));
        assert_eq!(e.lines.len(), 1, "the gift wrap has no product");
        assert_eq!(
            (
                e.lines[0].item_id.as_str(),
                e.lines[0].quantity,
                e.lines[0].price
            ),
            ("632910392", 2, 199.0)
        );
        // A guest order names nobody unless the storefront passed Vitrine's id along.
        let mut guest = order.clone();
        guest["customer"] = json!(null);
        let out = shopify::order(&guest).outcome(NOW, &ValidationPolicy::default());
        assert_eq!(out.rejected[0].code, "unmapped_event");
        guest["note_attributes"] = json!([{"name": "vitrine_anonymous_id", "value": "3f1c2b9e-6a5d-4e7f-8c21-0d9b7a6e5f43"}]);
        let out = shopify::order(&guest).outcome(NOW, &ValidationPolicy::default());
        assert_eq!(
            out.accepted[0].anonymous_id.as_deref(),
            Some("3f1c2b9e-6a5d-4e7f-8c21-0d9b7a6e5f43")
        );
    }

    #[test]
    fn products_become_catalog_records_and_deletions_tombstones() {
        let product = json!({
            "id": 632910392, "title": "IPod Nano - 8GB", "vendor": "Apple", "product_type": "Cult Products",
            "status": "active", "tags": "Emotive, Flash Memory",
            "created_at": "2026-10-01T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
            "options": [{"name": "Color", "values": ["Pink", "Red"]}],
            "variants": [{"price": "199.00", "inventory_quantity": 0, "inventory_policy": "deny"},
                         {"price": "189.00", "inventory_quantity": 3}]
        });
        let r = shopify::product(Topic::ProductsUpdate, &product, NOW).unwrap();
        assert_eq!(r["id"], "632910392");
        assert_eq!(r["brand"], "Apple");
        assert_eq!(r["price"], 189.0);
        assert_eq!(r["in_stock"], true);
        assert_eq!(r["attributes"]["color"], "Pink / Red");
        assert_eq!(r["updated_at"], NOW);
        assert_eq!(r["deleted"], false);
        let mut sold_out = product.clone();
        sold_out["variants"] = json!([{"price": "199.00", "inventory_quantity": 0}]);
        assert_eq!(
            shopify::product(Topic::ProductsUpdate, &sold_out, NOW).unwrap()["in_stock"],
            false
        );
        let mut draft = product.clone();
        draft["status"] = json!("draft");
        assert_eq!(
            shopify::product(Topic::ProductsUpdate, &draft, NOW).unwrap()["deleted"],
            true
        );
        let gone = shopify::product(Topic::ProductsDelete, &json!({"id": 632910392}), NOW).unwrap();
        assert_eq!(
            (gone["id"].as_str(), gone["deleted"].as_bool()),
            (Some("632910392"), Some(true))
        );
        assert!(shopify::product(Topic::ProductsUpdate, &json!({"title": "x"}), NOW).is_err());
        assert_eq!(
            shopify::privacy_customer(&json!({"shop_id": 1, "customer": {"id": 207119551}}))
                .unwrap(),
            "207119551"
        );
        assert!(shopify::privacy_customer(&json!({"shop_id": 1})).is_err());
    }
}
