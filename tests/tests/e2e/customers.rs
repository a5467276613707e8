//! Customer data: the shop connector against a local Shopify-style API that injects faults, CRM
//! and newsletter CSV imports, golden records from all of them plus the login links the worker
//! saw, and a scan of every lake file for the fixture's raw emails and phone numbers.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use tests::customer_data::{
    NEWSLETTER, customer, ingest_csv, ingest_shop, shop_state, staged_customers,
};
use tests::shop::{FakeShop, Fault};
use tests::{
    PSEUDONYM_KEY, Worker, file_url, now_ms, output, python, root, run, run_trainer, wait_for,
};

fn resource<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == name)
        .unwrap()
}

fn sum_stat(report: &Value, stat: &str) -> u64 {
    report["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["stats"][stat].as_u64().unwrap())
        .sum()
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn shop_connector_survives_every_injected_fault_and_resyncs_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let shop = FakeShop::start(shop_state()).unwrap();
    shop.state().faults = [
        Some(Fault::TooMany(1.0)),
        Some(Fault::ServerError),
        Some(Fault::Slow(Duration::from_secs(3))),
        Some(Fault::Truncated),
        Some(Fault::DuplicatePage),
        None,
        Some(Fault::ServerError),
    ]
    .into_iter()
    .collect();

    let out = run(&mut ingest_shop(&lake, &shop, &[]).unwrap()).unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Every fault was retried and the run still completed.
    assert_eq!(sum_stat(&r, "retried_429"), 1, "{r:#}");
    assert_eq!(sum_stat(&r, "retried_5xx"), 2, "{r:#}");
    assert_eq!(sum_stat(&r, "retried_timeout"), 1, "{r:#}");
    assert_eq!(sum_stat(&r, "retried_bad_body"), 1, "{r:#}");
    assert!(
        sum_stat(&r, "waited_ms") >= 1000,
        "Retry-After honoured: {r:#}"
    );
    let (p, c, o) = (
        resource(&r, "products"),
        resource(&r, "customers"),
        resource(&r, "orders"),
    );
    // The duplicated page's records were fetched twice and kept once.
    assert_eq!(p["duplicates"], 10, "{p:#}");
    assert_eq!(
        (p["valid"].as_u64(), p["quarantined"].as_u64()),
        (Some(29), Some(1))
    );
    assert_eq!(
        (c["valid"].as_u64(), c["quarantined"].as_u64()),
        (Some(58), Some(2))
    );
    assert_eq!(
        (c["inserted"].as_u64(), c["table_rows"].as_u64()),
        (Some(58), Some(58))
    );
    assert_eq!(
        (o["valid"].as_u64(), o["quarantined"].as_u64()),
        (Some(39), Some(1))
    );
    assert!(c["cursor_after"].as_i64().is_some());

    // Products reach the lake's product zone; quarantined records keep the reason, not the PII.
    let product_files = files_under(&lake_dir.join("raw/products/shop"));
    let lines: usize = product_files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count())
        .sum();
    assert_eq!(lines, 29);
    let quarantine: String = files_under(&lake_dir.join("raw/quarantine_sources"))
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    assert_eq!(quarantine.lines().count(), 4, "{quarantine}");
    for reason in ["variants", "email", "updated_at", "line_items[0].quantity"] {
        assert!(
            quarantine.contains(&format!("\"field\":\"{reason}\"")),
            "{reason}: {quarantine}"
        );
    }
    assert!(!quarantine.contains("not-an-email") && !quarantine.contains("@example.com"));

    // A second run asks only for what changed since the cursor and changes nothing.
    let before = shop.state().requests.len();
    let out = run(&mut ingest_shop(&lake, &shop, &[]).unwrap()).unwrap();
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests: Vec<String> = shop.state().requests[before..].to_vec();
    assert!(
        requests
            .iter()
            .all(|q| q.contains("updated_at_min=") || q.contains("page_info=")),
        "{requests:?}"
    );
    let c2 = resource(&again, "customers");
    assert_eq!(
        (c2["inserted"].as_u64(), c2["updated"].as_u64()),
        (Some(0), Some(0)),
        "{c2:#}"
    );
    assert_eq!(c2["table_rows"], 58);
    assert!(c2["fetched"].as_u64().unwrap() < 60, "incremental: {c2:#}");

    // A changed and a new customer: one update, one insert.
    {
        let mut s = shop.state();
        s.customers[4]["last_name"] = json!("Schmidt-Weber");
        s.customers[4]["updated_at"] = json!("2026-11-20T10:00:00Z");
        s.customers.push(customer(61, 21));
        s.customers[60]["updated_at"] = json!("2026-11-21T10:00:00Z");
    }
    let out = run(&mut ingest_shop(&lake, &shop, &["--resources", "customers"]).unwrap()).unwrap();
    let third: Value = serde_json::from_slice(&out.stdout).unwrap();
    let c3 = resource(&third, "customers");
    assert_eq!(
        (
            c3["inserted"].as_u64(),
            c3["updated"].as_u64(),
            c3["table_rows"].as_u64()
        ),
        (Some(1), Some(1), Some(59)),
        "{c3:#}"
    );

    // A shop that stays down: a clear error, non-zero exit, and the cursor untouched.
    let cursor = lake_dir.join("tables/_state/connector-shop.json");
    let cursor_before = std::fs::read(&cursor).unwrap();
    shop.state().always = Some(Fault::ServerError);
    let out = output(&mut ingest_shop(&lake, &shop, &["--max-retries", "2"]).unwrap()).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("gave up after 3 attempts") && err.contains("HTTP 500"),
        "{err}"
    );
    assert_eq!(std::fs::read(&cursor).unwrap(), cursor_before);
    shop.state().always = None;

    // A wrong token is refused at once (no retries), with the status.
    let mut cmd = ingest_shop(&lake, &shop, &[]).unwrap();
    cmd.env("VITRINE_SHOP_TOKEN", "wrong");
    let out = output(&mut cmd).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("HTTP 401"), "{err}");
    // Without the PII key nothing is ingested.
    let mut cmd = ingest_shop(&lake, &shop, &[]).unwrap();
    cmd.env_remove("VITRINE_PII_KEY");
    let out = output(&mut cmd).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("VITRINE_PII_KEY"),
        "{err}"
    );
}

#[test]
fn customers_merge_every_source_and_no_raw_pii_reaches_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let (_shop, r) = staged_customers(dir.path(), &lake).unwrap();
    assert_eq!(
        (r["valid"].as_u64(), r["quarantined"].as_u64()),
        (Some(4), Some(1)),
        "{r:#}"
    );
    ingest_csv(dir.path(), &lake, "newsletter", NEWSLETTER).unwrap();

    // The worker sees customer 1 log in on a device it knew anonymously; it stores pseudonyms.
    let w = Worker::start().unwrap();
    let t = now_ms() - 60_000;
    let device = tests::anon("device-1");
    let events = [
        json!({"event_id": "login-1", "type": "view", "user_id": "1", "anonymous_id": device,
         "session_id": "s-1", "timestamp": t, "item_id": "500",
         "context": {"email": "shopper1@example.com", "page": "/p/500"}}),
        json!({"event_id": "search-1", "type": "search", "anonymous_id": device, "session_id": "s-1",
         "timestamp": t + 1, "query": "+49 151 1000001"}),
    ];
    let (s, b) = w.post("/v1/events", tests::events_body(&events)).unwrap();
    assert_eq!(s, 202, "{b}");
    wait_for(
        "events in the worker's lake",
        Duration::from_secs(30),
        || (!w.lake_keys("raw/events/").ok()?.is_empty()).then_some(()),
    )
    .unwrap();
    tests::pull(&w.url, &lake).unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();

    let r: Value =
        serde_json::from_str(&run_trainer(&["customers", "--lake", &lake]).unwrap()).unwrap();
    // Shop 1..=10 (10 people) + Jonas + Mia; CRM 1, 2, 3 and newsletter 4 join shop records.
    assert_eq!(r["source_records"], 10 + 4 + 3, "{r:#}");
    assert_eq!(r["golden"], 12, "{r:#}");
    assert_eq!(r["login_links"], 1, "{r:#}");

    let p = shared::privacy::Pseudonymizer::new(PSEUDONYM_KEY.as_bytes()).unwrap();
    let golden = duck(
        &lake_dir,
        "SELECT golden_id, user_keys, anonymous_keys, sources, email, last_name, source_records FROM read_parquet('{lake}/tables/customers_golden/*.parquet') ORDER BY golden_id",
    );
    let rows = golden.as_array().unwrap();
    assert_eq!(rows.len(), 12);
    let one = rows
        .iter()
        .find(|g| {
            g["user_keys"]
                .as_array()
                .unwrap()
                .contains(&json!(p.pseudonym("1")))
        })
        .unwrap();
    assert_eq!(one["sources"], json!(["crm", "shop"]), "{one}");
    assert_eq!(
        one["anonymous_keys"],
        json!([p.pseudonym(&tests::anon("device-1"))]),
        "{one}"
    );
    assert!(
        one["email"].as_str().unwrap().starts_with("v2:"),
        "encrypted: {one}"
    );
    let jonas = rows
        .iter()
        .filter(|g| g["sources"] == json!(["crm", "newsletter"]))
        .count();
    assert_eq!(jonas, 1, "{golden:#}");
    let lineage = duck(
        &lake_dir,
        "SELECT rule, count(*) AS n FROM read_parquet('{lake}/tables/customer_lineage/*.parquet') GROUP BY rule ORDER BY rule",
    );
    let rules: Vec<&str> = lineage
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    for rule in ["email", "fuzzy", "login"] {
        assert!(rules.contains(&rule), "{rule}: {lineage:#}");
    }

    // A model trained on this lake (plus the REES46 sample for volume) carries no PII either.
    let csv = tests::fixture("rees46-sample.csv");
    run_trainer(&["import", "rees46", csv.to_str().unwrap(), "--lake", &lake]).unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    let artifact = dir.path().join("model.bin");
    let models = file_url(&dir.path().join("models"));
    run_trainer(&[
        "train",
        "--lake",
        &lake,
        "--models",
        &models,
        "--out",
        artifact.to_str().unwrap(),
    ])
    .unwrap();

    // No raw email or phone of the fixture anywhere in the lake or the artifact, in any form.
    let mut needles: Vec<String> = (1..=10)
        .flat_map(|id| {
            let national = 1_000_000 + id;
            [
                format!("shopper{id}@example.com"),
                format!("151{national}"),
                format!("151 {national}"),
            ]
        })
        .collect();
    needles.extend(
        [
            "jonas.keller@example.org",
            "1715550000",
            "171 5550000",
            "mia.wolf@example.net",
            "device-1",
        ]
        .map(String::from),
    );
    needles.push("hauptstra".into());
    let needles_file = dir.path().join("needles.json");
    std::fs::write(&needles_file, serde_json::to_string(&needles).unwrap()).unwrap();
    let scan = run(Command::new(python())
        .arg(root().join("tests/bi/pii_scan.py"))
        .arg(&needles_file)
        .arg(&lake_dir)
        .arg(&artifact))
    .unwrap();
    let scan: Value = serde_json::from_slice(&scan.stdout).unwrap();
    assert!(scan["parquet"].as_u64().unwrap() >= 5, "{scan}");
    assert!(scan["files"].as_u64().unwrap() >= 20, "{scan}");
    assert_eq!(scan["hits"], json!([]), "raw PII in the lake: {scan:#}");
}

/// Runs one DuckDB query (`{lake}` replaced by the lake dir) and returns its rows as JSON.
pub(crate) fn duck(lake: &Path, sql: &str) -> Value {
    let sql = sql.replace("{lake}", &lake.display().to_string());
    let script = "import duckdb, json, sys\nc = duckdb.connect().execute(sys.argv[1])\nnames = [d[0] for d in c.description]\nprint(json.dumps([dict(zip(names, r)) for r in c.fetchall()], default=str))";
    let out = run(Command::new(python()).args(["-c", script, &sql])).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}
