//! GDPR and alerts end to end: erasure through the worker's admin API and the trainer (every lake
//! file rewritten, a receipt, nothing back after a later pull), access exports on both sides, the
//! audit log, and alerts delivered to a local webhook with retries and without duplicates.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tests::webhook::Webhook;
use tests::{
    ADMIN_KEY, PSEUDONYM_KEY, Worker, file_url, now_ms, python, root, run, run_trainer, wait_for,
};

use tests::customer_data::staged_customers;

fn admin(w: &Worker, method: &str, path: &str) -> (u16, Value) {
    let r = w
        .send(
            method,
            path,
            &[("authorization", &format!("Bearer {ADMIN_KEY}"))],
            None,
        )
        .unwrap();
    (r.status, r.body)
}

/// Needles found under `roots` (pii_scan.py over every file).
fn scan(dir: &Path, needles: &[String], roots: &[&Path]) -> Value {
    let file = dir.join("needles.json");
    std::fs::write(&file, serde_json::to_string(needles).unwrap()).unwrap();
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/bi/pii_scan.py")).arg(&file);
    for r in roots {
        cmd.arg(r);
    }
    let out = run(&mut cmd).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn erasure_removes_a_customer_from_every_store_and_leaves_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let (_shop, _) = staged_customers(dir.path(), &lake).unwrap();

    // Customers 1 and 2 shop through the worker; 1 on a device first.
    let w = Worker::start().unwrap();
    let t = now_ms() - 120_000;
    // One batch per customer: a batch speaks for one signed user.
    for (who, label) in [("1", "device-1"), ("2", "device-2")] {
        let device = tests::anon(label);
        let mut events = Vec::new();
        events.push(
            json!({"event_id": format!("v-{who}"), "type": "view", "anonymous_id": device,
            "session_id": format!("s-{who}"), "timestamp": t, "item_id": "500"}),
        );
        events.push(
            json!({"event_id": format!("l-{who}"), "type": "login", "user_id": who,
            "anonymous_id": device, "session_id": format!("s-{who}"), "timestamp": t + 1}),
        );
        events.push(
            json!({"event_id": format!("p-{who}"), "type": "purchase", "user_id": who,
            "session_id": format!("s-{who}"), "timestamp": t + 2, "order_id": format!("o-{who}"),
            "lines": [{"item_id": "500", "quantity": 1, "price": 29.9, "currency": "EUR"}]}),
        );
        let (s, b) = w.post("/v1/events", tests::events_body(&events)).unwrap();
        assert_eq!((s, b["accepted"].as_u64()), (202, Some(3)), "{b}");
    }
    wait_for(
        "events in the worker's lake",
        Duration::from_secs(30),
        || {
            let n: usize = w.lake_keys("raw/events/").ok()?.len();
            (n > 0).then_some(())
        },
    )
    .unwrap();
    // The edge's export holds their session and raw events.
    let (s, before) = admin(&w, "GET", "/v1/admin/customers/1/export");
    assert_eq!(s, 200, "{before}");
    assert!(
        before["sessions"]["u:1"]["touches"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{before:#}"
    );
    // The device the login linked is theirs too.
    assert!(
        before["sessions"][format!("a:{}", tests::anon("device-1"))].is_object(),
        "{before:#}"
    );
    assert!(
        !before["events"].as_array().unwrap().is_empty(),
        "{before:#}"
    );

    tests::pull(&w.url, &lake).unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    run_trainer(&["customers", "--lake", &lake]).unwrap();
    run_trainer(&["kpis", "--lake", &lake]).unwrap();
    let p = shared::privacy::Pseudonymizer::new(PSEUDONYM_KEY.as_bytes()).unwrap();
    let needles: Vec<String> = ["1".to_owned(), tests::anon("device-1")]
        .iter()
        .map(|id| p.pseudonym(id))
        .collect();
    let tables = lake_dir.join("tables");
    let raw = lake_dir.join("raw");
    let found = scan(dir.path(), &needles, &[&tables, &raw]);
    assert!(
        found["hits"].as_array().unwrap().len() >= 4,
        "the fixture is there first: {found}"
    );

    // Erase at the edge: the session goes at once, the lake erasure is recorded.
    let (s, req) = admin(&w, "DELETE", "/v1/admin/customers/1");
    assert_eq!(s, 202, "{req}");
    let job = req["job_id"].as_str().unwrap().to_owned();
    assert_eq!(req["subject"], p.pseudonym("1"));
    assert_eq!(
        req["stores"][0],
        json!({"store": "session", "status": "removed", "removed": 2, "at": req["requested_at"]})
    );
    let (_, after) = admin(&w, "GET", "/v1/admin/customers/1/export");
    assert_eq!(after["sessions"], json!({}), "{after:#}");
    assert_eq!(after["erasure_requests"][0]["job_id"], job.as_str());
    let (s, b) = admin(&w, "GET", "/v1/admin/customers/1");
    assert_eq!(s, 405, "{b}");

    // The trainer carries it out on its next pull.
    tests::pull(&w.url, &lake).unwrap();
    let out: Value =
        serde_json::from_str(&run_trainer(&["erase", "--pending", "--lake", &lake]).unwrap())
            .unwrap();
    let receipt = &out["receipts"][0];
    assert_eq!(receipt["job_id"], job.as_str(), "{out:#}");
    assert!(
        receipt["rows_removed"].as_u64().unwrap() >= 6,
        "{receipt:#}"
    );
    assert!(
        receipt["stores"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "removed" || s["status"] == "not_found"),
        "{receipt:#}"
    );
    let took = receipt["finished_at"].as_i64().unwrap() - receipt["started_at"].as_i64().unwrap();
    eprintln!(
        "erasure of one customer took {took} ms ({} rows)",
        receipt["rows_removed"]
    );
    assert!(lake_dir.join(format!("gdpr/receipts/{job}.json")).exists());
    let golden_id = receipt["golden_id"].as_str().unwrap().to_owned();
    let mut gone = needles.clone();
    gone.push(golden_id.clone());
    let found = scan(dir.path(), &gone, &[&tables, &raw]);
    assert_eq!(found["hits"], json!([]), "{found:#}");

    // Pulling again does not bring the erased lines back; a second run has nothing to do.
    tests::pull(&w.url, &lake).unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    let found = scan(dir.path(), &gone, &[&tables, &raw]);
    assert_eq!(found["hits"], json!([]), "{found:#}");
    let again: Value =
        serde_json::from_str(&run_trainer(&["erase", "--pending", "--lake", &lake]).unwrap())
            .unwrap();
    assert_eq!(again["receipts"], json!([]));

    // Customer 2 is untouched, and the trainer's export shows their decrypted profile.
    let x: Value = serde_json::from_str(
        &run_trainer(&["export", "--customer", "2", "--lake", &lake]).unwrap(),
    )
    .unwrap();
    assert_eq!(x["profile"]["email"], "shopper2@example.com", "{x:#}");
    assert_eq!(x["profile"]["last_name"], "Schmidt");
    assert!(x["events"].as_array().unwrap().len() >= 3, "{x:#}");
    assert!(
        x["source_records"].as_array().unwrap().len() >= 2,
        "shop + crm: {x:#}"
    );
    let x: Value = serde_json::from_str(
        &run_trainer(&[
            "export",
            "--customer",
            "shopper1@example.com",
            "--lake",
            &lake,
        ])
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (x["profile"].clone(), x["events"].as_array().map(Vec::len)),
        (Value::Null, Some(0)),
        "{x:#}"
    );

    // Every admin action is in the audit log, with customer ids only as pseudonyms.
    let audit: String = w
        .lake_keys("audit/")
        .unwrap()
        .iter()
        .map(|k| {
            String::from_utf8_lossy(&w.admin_get(&format!("/v1/admin/lake/{k}")).unwrap().1)
                .into_owned()
        })
        .collect();
    for action in ["customer_erase", "customer_export", "lake_list"] {
        assert!(
            audit.contains(&format!("\"action\":\"{action}\"")),
            "{action}: {audit}"
        );
    }
    assert!(
        !audit.contains("/customers/1/") && !audit.contains("/customers/1\""),
        "{audit}"
    );
    let trainer_audit: String = std::fs::read_dir(lake_dir.join("audit"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| std::fs::read_to_string(f.path()).unwrap())
        .collect();
    assert!(trainer_audit.contains("customer_export"), "{trainer_audit}");
    // Bad input: no subject is a clear CLI error.
    let out = tests::output(&mut tests::trainer(&["erase", "--lake", &lake]).unwrap()).unwrap();
    assert!(!out.status.success());
}

#[test]
fn alerts_reach_the_webhook_with_retries_and_never_twice() {
    // Edge: a big order raises an alert on ingest; the first delivery fails and is retried.
    let hook = Webhook::start(1).unwrap();
    let w = Worker::start_with(&[
        ("ALERT_WEBHOOK", &hook.url),
        ("ALERT_RULES", r#"{"order_value_above": 500}"#),
    ])
    .unwrap();
    let t = now_ms() - 10_000;
    let order = |id: &str, price: f64| {
        tests::events_body(&[
            json!({"event_id": id, "type": "purchase", "user_id": "big-spender",
            "session_id": "s", "timestamp": t, "order_id": format!("o-{id}"),
            "lines": [{"item_id": "tv", "quantity": 2, "price": price, "currency": "EUR"}]}),
        ])
    };
    assert_eq!(w.post("/v1/events", order("big", 450.0)).unwrap().0, 202);
    assert_eq!(w.post("/v1/events", order("small", 20.0)).unwrap().0, 202);
    let got = wait_for("the order alert", Duration::from_secs(20), || {
        let a = hook.accepted();
        (!a.is_empty()).then_some(a)
    })
    .unwrap();
    assert_eq!(got[0]["rule"], "order_value_above");
    assert_eq!(got[0]["subject"], "o-big");
    assert_eq!(got[0]["value"], 900.0);
    // The same batch again (a client retry): no second alert.
    assert_eq!(w.post("/v1/events", order("big", 450.0)).unwrap().0, 202);
    std::thread::sleep(Duration::from_secs(2));
    let all = hook.deliveries();
    assert_eq!(hook.accepted().len(), 1, "{all:?}");
    assert_eq!(all.len(), 2, "one failed attempt, one accepted: {all:?}");
    assert!(
        all.iter()
            .all(|d| d.idempotency_key.as_deref() == Some("order_value_above:o-big"))
    );

    // Trainer: an out-of-stock product viewed 4 times in 5 minutes, the webhook failing twice.
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let day = "2026-11-20";
    let at = |m: i64| 1_795_176_000_000 + m * 60_000; // 2026-11-20T12:00Z + m minutes
    std::fs::create_dir_all(lake_dir.join("raw/products")).unwrap();
    std::fs::write(
        lake_dir.join("raw/products/p.ndjson"),
        "{\"id\":\"gone\",\"title\":\"Sold-out TV\",\"in_stock\":false}\n{\"id\":\"here\",\"title\":\"TV\"}\n",
    )
    .unwrap();
    let views: String = [0, 1, 3, 5, 0, 1, 2]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let item = if i < 4 { "gone" } else { "here" };
            format!(
                "{}\n",
                json!({"event_id": format!("v{i}"), "type": "view", "anonymous_id": "p_x",
                "session_id": "s", "timestamp": at(*m), "item_id": item})
            )
        })
        .collect();
    std::fs::create_dir_all(lake_dir.join(format!("raw/events/dt={day}"))).unwrap();
    std::fs::write(
        lake_dir.join(format!("raw/events/dt={day}/b.ndjson")),
        views,
    )
    .unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    std::fs::create_dir_all(lake_dir.join("config")).unwrap();
    std::fs::write(
        lake_dir.join("config/alerts.json"),
        r#"{"out_of_stock_views": {"views": 3, "minutes": 10}, "quarantine_rate_spike": {"factor": 2.0}}"#,
    )
    .unwrap();
    let hook = Webhook::start(2).unwrap();
    let args = [
        "alerts",
        "--lake",
        &lake,
        "--webhook",
        &hook.url,
        "--at",
        "2026-11-20T13:00:00Z",
    ];
    let r: Value = serde_json::from_str(&run_trainer(&args).unwrap()).unwrap();
    assert_eq!(r["sent"], 1, "{r:#}");
    assert_eq!(
        r["raised"][0]["alert_id"],
        "out_of_stock_views:gone:1795176000000"
    );
    assert_eq!(hook.accepted().len(), 1);
    assert_eq!(hook.deliveries().len(), 3, "two failures, then accepted");
    let r: Value = serde_json::from_str(&run_trainer(&args).unwrap()).unwrap();
    assert_eq!(
        (r["sent"].as_u64(), r["already_sent"].as_u64()),
        (Some(0), Some(1)),
        "{r:#}"
    );
    assert_eq!(hook.deliveries().len(), 3, "nothing sent twice");
    // A malformed rules file is a clear error.
    std::fs::write(
        lake_dir.join("config/alerts.json"),
        r#"{"order_value_above": -5}"#,
    )
    .unwrap();
    let out = tests::output(&mut tests::trainer(&args).unwrap()).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("order_value_above"),
        "{err}"
    );
}
