//! The shop's existing trackers as senders, through the real worker: Segment (signed webhook),
//! RudderStack (bearer secret) and GA4 (Measurement Protocol `api_secret`). Payloads follow the
//! public specifications. Forged signatures, a public key, a malformed body and unknown events
//! each get the documented answer; what is accepted lands in the lake (pseudonymised), what has no
//! Vitrine event lands in quarantine with the reason, and the next recommendation reflects it.

use std::time::Duration;

use serde_json::{Value, json};
use shared::sources::segment;
use tests::{Worker, now_ms, train_simulated, wait_for};

use crate::common::{code, items_in};

const SEGMENT: &str = "segment-shared-secret-0123456789";
const RUDDER: &str = "rudderstack-secret-0123456789ab";
const GA4: &str = "ga4-api-secret-0123456789abcdef";

fn rfc3339(ms: i64) -> String {
    shared::time::format_rfc3339(ms)
}

#[test]
fn segment_rudderstack_and_ga4_events_reach_the_lake_and_the_next_recommendation() {
    let t = train_simulated(40_000, 600, 300).unwrap();
    let w = Worker::start_with(&[
        ("SEGMENT_SHARED_SECRET", SEGMENT),
        ("RUDDERSTACK_SHARED_SECRET", RUDDER),
        ("GA4_API_SECRET", GA4),
    ])
    .unwrap();
    w.publish(&t).unwrap();
    let cats = t.categories().unwrap();
    let laptop = "computers.notebook";
    let laptops = items_in(&cats, laptop);
    let shopper = tests::anon("segment-shopper");
    let laptop_share = |resp: &Value| {
        resp["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| cats.get(i["id"].as_str().unwrap()).map(String::as_str) == Some(laptop))
            .count()
    };
    let (s, before) = w
        .get(&format!("/v1/recommendations?anonymous_id={shopper}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{before}");

    let now = now_ms();
    let mut batch: Vec<Value> = laptops
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, item)| {
            json!({"type": "track", "event": "Product Viewed", "messageId": format!("seg-view-{i}"),
                   "anonymousId": shopper, "timestamp": rfc3339(now - 3_000 + i as i64 * 1_000),
                   "properties": {"product_id": item, "price": 899, "currency": "EUR"}})
        })
        .collect();
    batch.push(
        json!({"type": "track", "event": "Coupon Entered", "messageId": "seg-coupon",
                      "anonymousId": shopper, "timestamp": rfc3339(now), "properties": {}}),
    );
    batch.push(
        json!({"type": "track", "event": "Product Viewed", "anonymousId": shopper,
                      "timestamp": rfc3339(now), "properties": {"product_id": laptops[0]}}),
    );
    batch.push(
        json!({"type": "track", "event": "Checkout Started", "messageId": "seg-checkout",
        "anonymousId": shopper, "timestamp": rfc3339(now),
        "properties": {"currency": "EUR", "products": [{"product_id": laptops[0], "price": 899}]}}),
    );
    let body = json!({ "batch": batch }).to_string();
    let sig = segment::signature(body.as_bytes(), SEGMENT).unwrap();

    // The attacks: no signature, a signature under another secret, the shop's public key, a
    // signature of another body.
    let forged = segment::signature(body.as_bytes(), "guessed-secret-0123456789abc").unwrap();
    let other = segment::signature(b"{}", SEGMENT).unwrap();
    for headers in [
        vec![],
        vec![("x-signature", forged.as_str())],
        vec![("x-signature", other.as_str())],
        vec![("x-vitrine-key", "pk_test")],
        vec![("authorization", "Bearer pk_test")],
    ] {
        let r = w
            .send("POST", "/v1/sources/segment", &headers, Some(body.clone()))
            .unwrap();
        assert_eq!(
            (r.status, code(&r.body)),
            (401, "unauthorized"),
            "{headers:?}: {}",
            r.body
        );
    }
    // RudderStack's secret does not open Segment's door.
    let r = w
        .send(
            "POST",
            "/v1/sources/segment",
            &[("authorization", &format!("Bearer {RUDDER}"))],
            Some(body.clone()),
        )
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    let (_, still) = w
        .get(&format!("/v1/recommendations?anonymous_id={shopper}&k=10"))
        .unwrap();
    assert_eq!(
        still["items"], before["items"],
        "a refused request changed the session"
    );

    // Signed but malformed: a clear 400.
    let bad = "{\"batch\": [";
    let bad_sig = segment::signature(bad.as_bytes(), SEGMENT).unwrap();
    let r = w
        .send(
            "POST",
            "/v1/sources/segment",
            &[("x-signature", &bad_sig)],
            Some(bad.to_owned()),
        )
        .unwrap();
    assert_eq!(
        (r.status, code(&r.body)),
        (400, "invalid_json"),
        "{}",
        r.body
    );

    let r = w
        .send(
            "POST",
            "/v1/sources/segment",
            &[("x-signature", &sig)],
            Some(body.clone()),
        )
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        (r.body["accepted"].as_u64(), r.body["rejected"].as_u64()),
        (Some(4), Some(2)),
        "{}",
        r.body
    );
    let errors: Vec<(u64, &str, &str)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["field"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "event", "unmapped_event"),
            (4, "messageId", "unmapped_event")
        ]
    );

    // The next request reflects the three laptop views.
    let (s, after) = w
        .get(&format!("/v1/recommendations?anonymous_id={shopper}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{after}");
    assert!(
        laptop_share(&after) >= 5 && laptop_share(&after) > laptop_share(&before),
        "laptops: {} before, {} after: {after}",
        laptop_share(&before),
        laptop_share(&after)
    );

    // RudderStack with its bearer secret; GA4 with its api_secret.
    let rs_shopper = tests::anon("rudder-shopper");
    let rs = json!({"type": "track", "event": "Product Added", "messageId": "rs-1", "anonymousId": rs_shopper,
                    "timestamp": rfc3339(now), "properties": {"product_id": laptops[1], "quantity": 1, "price": 899, "currency": "EUR"}})
        .to_string();
    let r = w
        .send(
            "POST",
            "/v1/sources/rudderstack",
            &[("authorization", &format!("Bearer {RUDDER}"))],
            Some(rs),
        )
        .unwrap();
    assert_eq!(
        (r.status, r.body["accepted"].as_u64()),
        (202, Some(1)),
        "{}",
        r.body
    );

    let client = "1234567890.1712345678";
    let (_, ga_before) = w
        .get(&format!("/v1/recommendations?anonymous_id={client}&k=10"))
        .unwrap();
    let ga = json!({"client_id": client, "timestamp_micros": now * 1000, "events": [
        {"name": "view_item", "params": {"currency": "EUR", "items": [{"item_id": laptops[2], "price": 899}]}},
        {"name": "page_view", "params": {"page_location": "https://shop.example/"}}
    ]})
    .to_string();
    let r = w
        .send(
            "POST",
            "/v1/sources/ga4?measurement_id=G-TEST&api_secret=guess",
            &[],
            Some(ga.clone()),
        )
        .unwrap();
    assert_eq!(
        (r.status, code(&r.body)),
        (401, "unauthorized"),
        "{}",
        r.body
    );
    let path = format!("/v1/sources/ga4?measurement_id=G-TEST&api_secret={GA4}");
    let r = w.send("POST", &path, &[], Some(ga.clone())).unwrap();
    assert_eq!(
        (
            r.status,
            r.body["accepted"].as_u64(),
            r.body["rejected"].as_u64()
        ),
        (202, Some(1), Some(1)),
        "{}",
        r.body
    );
    let (s, ga_after) = w
        .get(&format!("/v1/recommendations?anonymous_id={client}&k=10"))
        .unwrap();
    assert_eq!(s, 200, "{ga_after}");
    assert_ne!(
        ga_after["items"], ga_before["items"],
        "the GA4 view changed nothing"
    );
    // With the right secret but a body that is not JSON: a clear 400.
    let r = w
        .send("POST", &path, &[], Some("{\"events\": [".into()))
        .unwrap();
    assert_eq!(
        (r.status, code(&r.body)),
        (400, "invalid_json"),
        "{}",
        r.body
    );
    // Resent: the same ids, so the lake keeps one copy.
    let r = w.send("POST", &path, &[], Some(ga)).unwrap();
    assert_eq!(r.status, 202, "{}", r.body);

    // The lake: pseudonymised events with the senders' deterministic ids; the quarantine with
    // the reasons.
    let read = |prefix: &str| -> String {
        w.lake_texts(prefix)
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join("")
    };
    let events = wait_for("source events in the lake", Duration::from_secs(30), || {
        let text = read("raw/events/");
        (text.lines().count() >= 7).then_some(text)
    })
    .unwrap();
    let stored: Vec<shared::Event> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: std::collections::BTreeSet<&str> =
        stored.iter().map(|e| e.event_id.as_str()).collect();
    for id in [
        "seg-seg-view-0",
        "seg-seg-view-1",
        "seg-seg-view-2",
        "rs-rs-1",
        "seg-seg-checkout",
    ] {
        assert!(ids.contains(id), "{id} missing: {ids:?}");
    }
    let checkout = stored
        .iter()
        .find(|e| e.event_id == "seg-seg-checkout")
        .unwrap();
    assert_eq!(checkout.event_type, shared::EventType::Checkout);
    assert_eq!(checkout.items(), [(laptops[0].as_str(), 1)]);
    assert_eq!(
        ids.len(),
        6,
        "one GA4 event id however often it is sent: {ids:?}"
    );
    let p = shared::privacy::Pseudonymizer::new(tests::PSEUDONYM_KEY.as_bytes()).unwrap();
    for e in &stored {
        let a = e.anonymous_id.as_deref().unwrap();
        assert!(
            [&shopper, &rs_shopper, client]
                .iter()
                .any(|raw| p.pseudonym(raw) == a),
            "not a pseudonym: {a}"
        );
    }
    let quarantine = wait_for(
        "unmapped messages in quarantine",
        Duration::from_secs(30),
        || {
            let text = read("raw/quarantine/");
            (text.lines().count() >= 3).then_some(text)
        },
    )
    .unwrap();
    assert!(quarantine.contains("Coupon Entered"), "{quarantine}");
    assert!(quarantine.contains("page_view"), "{quarantine}");
    assert!(quarantine.contains("unmapped_event"), "{quarantine}");
}

#[test]
fn sources_are_off_until_their_secret_is_set() {
    let w = Worker::start().unwrap();
    for source in shared::sources::Source::ALL {
        let path = format!("/v1/sources/{}", source.name());
        let r = w.send("POST", &path, &[], Some("{}".into())).unwrap();
        assert_eq!(
            (r.status, code(&r.body)),
            (503, "not_configured"),
            "{path}: {}",
            r.body
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(source.secret_name()),
            "{}",
            r.body
        );
    }
    let r = w.send("GET", "/v1/sources/segment", &[], None).unwrap();
    assert_eq!(r.status, 405);
    let r = w
        .send("POST", "/v1/sources/mixpanel", &[], Some("{}".into()))
        .unwrap();
    assert_eq!(r.status, 404);
}

const SHOPIFY: &str = "shpss_e2e_0123456789abcdef0123456789";

fn shopify_send(w: &Worker, topic: &str, id: &str, body: &Value, secret: &str) -> tests::Reply {
    let text = body.to_string();
    let sig = shared::sources::shopify::signature(text.as_bytes(), secret).unwrap();
    w.send(
        "POST",
        "/v1/sources/shopify",
        &[
            ("x-shopify-topic", topic),
            ("x-shopify-hmac-sha256", &sig),
            ("x-shopify-webhook-id", id),
            ("x-shopify-shop-domain", "vitrine-e2e.myshopify.com"),
        ],
        Some(text),
    )
    .unwrap()
}

#[test]
fn shopify_webhooks_are_verified_deduplicated_and_reach_orders_catalog_and_gdpr() {
    let t = train_simulated(30_000, 400, 200).unwrap();
    let w = Worker::start_with(&[("SHOPIFY_WEBHOOK_SECRET", SHOPIFY)]).unwrap();
    w.publish(&t).unwrap();
    let mut items: Vec<String> = t.categories().unwrap().into_keys().collect();
    items.sort();
    let customer = "7390123456789";
    let now = now_ms();
    let order = json!({
        "id": 5123456789u64, "name": "#1042", "created_at": rfc3339(now - 60_000), "currency": "EUR",
        "customer": {"id": 7390123456789u64, "email": "buyer@example.com"},
        "line_items": [{"product_id": items[7], "quantity": 1, "price": "49.90"},
                       {"product_id": null, "quantity": 1, "price": "4.90", "title": "Shipping"}]
    });
    // Forged and missing signatures, and the public key, are refused before anything is read.
    let forged = shopify_send(
        &w,
        "orders/create",
        "d-0001",
        &order,
        "shpss_guess_0123456789abcdef",
    );
    assert_eq!(
        (forged.status, code(&forged.body)),
        (401, "unauthorized"),
        "{}",
        forged.body
    );
    // The most destructive topic, forged: refused, and no erasure is recorded.
    let forged = shopify_send(
        &w,
        "shop/redact",
        "d-0003",
        &json!({"shop_id": 1, "shop_domain": "vitrine-e2e.myshopify.com"}),
        "shpss_guess_0123456789abcdef",
    );
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert!(
        w.lake_texts("gdpr/requests/").unwrap().is_empty(),
        "a forged shop/redact left an erasure request"
    );
    let r = w
        .send(
            "POST",
            "/v1/sources/shopify",
            &[
                ("x-shopify-topic", "orders/create"),
                ("x-vitrine-key", "pk_test"),
            ],
            Some(order.to_string()),
        )
        .unwrap();
    assert_eq!(r.status, 401, "{}", r.body);
    let r = shopify_send(&w, "carts/update", "d-0002", &order, SHOPIFY);
    assert_eq!(
        (r.status, code(&r.body)),
        (400, "invalid_parameter"),
        "{}",
        r.body
    );
    let r = shopify_send(
        &w,
        "orders/create",
        "../models/latest.json",
        &order,
        SHOPIFY,
    );
    assert_eq!(r.status, 400, "{}", r.body);

    let r = shopify_send(&w, "orders/create", "d-1001", &order, SHOPIFY);
    assert_eq!(
        (r.status, r.body["accepted"].as_u64()),
        (202, Some(1)),
        "{}",
        r.body
    );
    // A redelivery (same webhook id) changes nothing.
    let again = shopify_send(&w, "orders/create", "d-1001", &order, SHOPIFY);
    assert_eq!(
        (again.status, again.body["duplicate"].as_bool()),
        (200, Some(true)),
        "{}",
        again.body
    );
    let (s, bought) = w
        .get(&format!(
            "/v1/recommendations/buy-again?{}&k=5",
            tests::as_user(customer)
        ))
        .unwrap();
    assert_eq!(s, 200, "{bought}");
    assert_eq!(
        bought["items"][0]["id"].as_str(),
        Some(items[7].as_str()),
        "{bought}"
    );
    // The purchase reaches the lake once (before the erasure below, which would drop it).
    let events = wait_for(
        "the Shopify order in the lake",
        Duration::from_secs(30),
        || {
            let text: String = w
                .lake_texts("raw/events/")
                .unwrap()
                .into_iter()
                .map(|(_, t)| t)
                .collect();
            (!text.is_empty()).then_some(text)
        },
    )
    .unwrap();
    let lines: Vec<&str> = events
        .lines()
        .filter(|l| l.contains("shopify-order-5123456789"))
        .collect();
    assert_eq!(lines.len(), 1, "{events}");
    assert!(
        !events.contains(customer),
        "the customer id must be pseudonymised: {events}"
    );

    let product = json!({"id": 9988776655u64, "title": "Anker Nano Charger 30W", "vendor": "Anker",
        "product_type": "Chargers", "status": "active", "updated_at": rfc3339(now),
        "variants": [{"price": "19.99", "inventory_quantity": 12}]});
    let r = shopify_send(&w, "products/update", "d-2001", &product, SHOPIFY);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = shopify_send(
        &w,
        "products/delete",
        "d-2002",
        &json!({"id": 1234}),
        SHOPIFY,
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let r = shopify_send(
        &w,
        "customers/data_request",
        "d-3001",
        &json!({"shop_id": 1, "shop_domain": "vitrine-e2e.myshopify.com", "customer": {"id": 7390123456789u64}, "orders_requested": [5123456789u64]}),
        SHOPIFY,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let receipt = r.body["receipt"].as_str().unwrap().to_owned();
    let r = shopify_send(
        &w,
        "customers/redact",
        "d-3002",
        &json!({"shop_id": 1, "customer": {"id": 7390123456789u64}, "orders_to_redact": [5123456789u64]}),
        SHOPIFY,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(
        r.body["job_id"].as_str().unwrap().starts_with("erase-"),
        "{}",
        r.body
    );
    let (_, after) = w
        .get(&format!(
            "/v1/recommendations/buy-again?{}&k=5",
            tests::as_user(customer)
        ))
        .unwrap();
    assert!(
        after["items"]
            .as_array()
            .is_none_or(|a| a.iter().all(|i| i["id"] != items[7].as_str())),
        "erased, yet still bought again: {after}"
    );
    // The trainer's lake copy holds the shop's customers before shop/redact.
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = lake_dir.to_string_lossy().into_owned();
    tests::pull(&w.url, &lake).unwrap();
    assert!(
        !person_lines(&lake_dir).is_empty(),
        "the pulled lake names nobody"
    );
    let r = shopify_send(
        &w,
        "shop/redact",
        "d-3003",
        &json!({"shop_id": 1, "shop_domain": "vitrine-e2e.myshopify.com"}),
        SHOPIFY,
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(
        (r.body["job_id"].as_str(), r.body["whole_shop"].as_bool()),
        (Some("shopify-shop-redact-d-3003"), Some(true)),
        "{}",
        r.body
    );

    let catalog: String = w
        .lake_texts("raw/products/shopify/")
        .unwrap()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert!(
        catalog.contains("Anker Nano Charger 30W") && catalog.contains("\"deleted\":true"),
        "{catalog}"
    );
    assert!(
        !w.lake_texts(&receipt).unwrap().is_empty(),
        "no receipt at {receipt}"
    );

    // shop/redact is carried out by the trainer's next run: every person's lines go, the
    // catalog stays.
    tests::pull(&w.url, &lake).unwrap();
    let out: Value = serde_json::from_str(
        &tests::run_trainer(&["erase", "--pending", "--lake", &lake]).unwrap(),
    )
    .unwrap();
    let receipts = out["receipts"].as_array().unwrap();
    let shop = receipts
        .iter()
        .find(|r| r["job_id"] == "shopify-shop-redact-d-3003")
        .unwrap_or_else(|| panic!("no whole-shop receipt: {out:#}"));
    // (The pull that brought the request already left out every earlier line naming a person;
    // the trainer's pass removes what an earlier pull or the shop's own lake held.)
    assert!(
        shop["stores"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "removed" || s["status"] == "not_found"),
        "{shop:#}"
    );
    assert!(
        lake_dir
            .join("gdpr/receipts/shopify-shop-redact-d-3003.json")
            .exists()
    );
    let left = person_lines(&lake_dir);
    assert!(left.is_empty(), "lines naming a person survived: {left:#?}");
    assert!(
        !lake_dir.join(receipt.trim_start_matches('/')).exists(),
        "the customer export outlived shop/redact"
    );
    let catalog = std::fs::read_dir(lake_dir.join("raw/products/shopify"))
        .unwrap()
        .count();
    assert!(catalog >= 2, "the catalog must stay");
}

/// The raw lines under `lake_dir` that name a person, with their files.
fn person_lines(lake_dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![lake_dir.join("raw")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "ndjson") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.extend(
                    text.lines()
                        .filter(|l| shared::gdpr::names(l, shared::gdpr::Who::Everyone))
                        .map(|l| format!("{}: {l}", path.display())),
                );
            }
        }
    }
    found
}

/// Serves `body` over real HTTP after answering the first request `500`; returns the URL and the
/// request counter.
fn flaky_server(body: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let reply = if n == 0 {
                "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (url, count)
}

#[test]
fn merchant_center_feeds_reach_the_catalog_table_with_quarantine_and_idempotent_reruns() {
    let root = tests::root();
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = format!("file://{}", lake_dir.display());
    let tsv = root.join("tests/fixtures/feeds/electronics.tsv");
    let xml = std::fs::read_to_string(root.join("tests/fixtures/feeds/electronics.xml")).unwrap();
    let (url, requests) = flaky_server(xml);

    let report: Value = serde_json::from_str(
        &tests::run_trainer(&["import", "feed", tsv.to_str().unwrap(), "--lake", &lake]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["products"].as_u64(),
            report["quarantined"].as_u64()
        ),
        (Some(6), Some(4), Some(2)),
        "{report}"
    );
    let report: Value = serde_json::from_str(
        &tests::run_trainer(&["import", "feed", &url, "--lake", &lake]).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (report["products"].as_u64(), report["quarantined"].as_u64()),
        (Some(2), Some(1)),
        "{report}"
    );
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "one 500, then the retry"
    );
    // A re-run of the same feed changes nothing.
    tests::run_trainer(&["import", "feed", tsv.to_str().unwrap(), "--lake", &lake]).unwrap();
    tests::run_trainer(&["compact", "--lake", &lake]).unwrap();
    let rows = crate::customers::duck(
        &lake_dir,
        "SELECT id, title, price, in_stock, category FROM read_parquet('{lake}/tables/products/*.parquet') ORDER BY id",
    );
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "CB-USBC-2M",
            "HP-WH1000",
            "KB-MX-MECH",
            "MS-MXM3S",
            "SSD-990PRO-2TB",
            "TV-65QN90C"
        ]
    );
    let tv = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "TV-65QN90C")
        .unwrap();
    assert_eq!(tv["in_stock"], false, "{tv}");
    let quarantine: String = std::fs::read_dir(lake_dir.join("raw/quarantine_sources/feed"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| std::fs::read_to_string(f.path()).unwrap())
        .collect();
    for why in [
        "\"field\":\"title\"",
        "\"field\":\"availability\"",
        "\"field\":\"id\"",
    ] {
        assert!(quarantine.contains(why), "{why} missing: {quarantine}");
    }
    // A feed that is not one.
    let bogus = dir.path().join("bogus.tsv");
    std::fs::write(&bogus, "sku\tname\n1\tx\n").unwrap();
    let out = tests::trainer(&["import", "feed", bogus.to_str().unwrap(), "--lake", &lake])
        .unwrap()
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither a Merchant Center TSV"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
