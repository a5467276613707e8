//! Ingest through the real worker: bad batches get the right status and code, and the valid
//! events of a partly bad batch reach the lake while the bad ones reach quarantine.

use std::time::Duration;

use serde_json::{Value, json};
use tests::{Worker, now_ms, wait_for};

use crate::common::{code, view};

#[test]
fn bad_batches_are_refused_with_codes_and_valid_events_are_not_lost() {
    let w = Worker::start().unwrap();
    let now = now_ms();

    let (s, b) = w.post("/v1/events", "{not json").unwrap();
    assert_eq!((s, code(&b)), (400, "invalid_json"));
    let (s, b) = w.post("/v1/events", r#"{"events": []}"#).unwrap();
    assert_eq!((s, code(&b)), (400, "empty_batch"));
    let many: Vec<Value> = (0..501)
        .map(|i| view(&format!("m{i}"), &tests::anon("a"), "i1", now))
        .collect();
    let (s, b) = w
        .post("/v1/events", json!({ "events": many }).to_string())
        .unwrap();
    assert_eq!((s, code(&b)), (413, "too_many_events"));
    let huge = format!(
        r#"{{"events": [{{"context": "{}"}}]}}"#,
        "x".repeat(1_100_000)
    );
    let (s, b) = w.post("/v1/events", huge).unwrap();
    assert_eq!((s, code(&b)), (413, "payload_too_large"));

    let mut negative = view("bad-price", &tests::anon("a"), "i1", now);
    negative["price"] = json!(-1);
    let future = view("bad-time", &tests::anon("a"), "i1", now + 3_600_000);
    let batch = json!({ "events": [
        view("good-1", &tests::anon("a"), "i1", now), negative, view("good-2", &tests::anon("a"), "i2", now),
        future, view("good-3", &tests::anon("b"), "i3", now)
    ]});
    let (s, b) = w.post("/v1/events", batch.to_string()).unwrap();
    assert_eq!(s, 202, "{b}");
    assert_eq!(
        (b["accepted"].as_u64(), b["rejected"].as_u64()),
        (Some(3), Some(2))
    );
    let fields: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["price", "timestamp"]);
    assert_eq!(b["errors"][1]["code"], "timestamp_in_future");

    // The consumer writes both files; read them back through the admin API.
    let read_prefix = |prefix: &str| -> Option<String> {
        let keys = w.lake_keys(prefix).ok()?;
        let mut text = String::new();
        for k in keys {
            let (status, body) = w.admin_get(&format!("/v1/admin/lake/{k}")).ok()?;
            (status == 200).then_some(())?;
            text.push_str(&String::from_utf8_lossy(&body));
        }
        (!text.is_empty()).then_some(text)
    };
    let events = wait_for("events in the lake", Duration::from_secs(30), || {
        read_prefix("raw/events/")
    })
    .unwrap();
    let quarantine = wait_for("quarantine in the lake", Duration::from_secs(30), || {
        read_prefix("raw/quarantine/")
    })
    .unwrap();
    let ids: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<shared::Event>(l).unwrap().event_id)
        .collect();
    assert_eq!(ids.len(), 3, "{events}");
    // The lake holds keyed pseudonyms, never the shopper ids the client sent.
    let p = shared::privacy::Pseudonymizer::new(tests::PSEUDONYM_KEY.as_bytes()).unwrap();
    for l in events.lines() {
        let e: shared::Event = serde_json::from_str(l).unwrap();
        let anon = e.anonymous_id.unwrap();
        assert!(
            anon == p.pseudonym(&tests::anon("a")) || anon == p.pseudonym(&tests::anon("b")),
            "{l}"
        );
    }
    for id in ["good-1", "good-2", "good-3"] {
        assert!(ids.contains(&id.to_owned()), "{id} missing from {ids:?}");
    }
    let rejected: Vec<Value> = quarantine
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut codes: Vec<&str> = rejected
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    assert_eq!(codes, ["negative_value", "timestamp_in_future"]);
}

#[test]
fn errors_use_the_envelope_and_statuses() {
    let w = Worker::start().unwrap();
    let (s, b) = w.get("/v1/events").unwrap();
    assert_eq!((s, code(&b)), (405, "method_not_allowed"));
    let (s, b) = w.get("/v1/nope").unwrap();
    assert_eq!((s, code(&b)), (404, "not_found"));
    let (s, b) = w.get("/v1/recommendations?k=0").unwrap();
    assert_eq!((s, code(&b)), (400, "invalid_parameter"));
    assert!(b["error"]["message"].as_str().unwrap().contains("`k`"));
    let (s, b) = w.get("/v1/recommendations?colour=red").unwrap();
    assert_eq!((s, code(&b)), (400, "unknown_parameter"));
    let (s, b) = w.get("/v1/recommendations").unwrap();
    assert_eq!((s, code(&b)), (503, "model_unavailable"));
    let (s, b) = w.get("/v1/model").unwrap();
    assert_eq!(s, 200);
    assert_eq!(b["loaded"], false);
    // Anyone learns that the newest model could not be loaded; only the admin key learns why.
    assert!(
        !b["last_error"].as_str().unwrap().contains("models/"),
        "{b}"
    );
    let (s, body) = w.admin_get("/v1/model").unwrap();
    let b: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, 200);
    assert!(
        b["last_error"]
            .as_str()
            .unwrap()
            .contains("no model published")
    );
    let (s, _) = w.get("/v1/admin/lake").unwrap();
    assert_eq!(s, 401);
}

#[test]
fn events_are_refused_not_stored_in_the_clear_without_a_pseudonym_key() {
    let w = Worker::start_with(&[("PSEUDONYM_KEY", "")]).unwrap();
    let batch = json!({"events": [view("e-1", &tests::anon("a"), "i1", now_ms())]});
    let (s, b) = w.post("/v1/events", batch.to_string()).unwrap();
    assert_eq!((s, code(&b)), (503, "not_configured"), "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PSEUDONYM_KEY")
    );
}
