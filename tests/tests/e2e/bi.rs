//! BI tables: `trainer kpis` (SQL through DataFusion) on a simulated shop and on the imported
//! REES46 sample, read back by an external client — DuckDB with Hive partitioning — and compared
//! with DuckDB's own count from the events table (and from the raw REES46 CSV).

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use tests::{ADMIN_KEY, Worker, file_url, fixture, python, root, run, run_trainer};

fn duckdb(lake: &Path, csv: Option<&Path>) -> Value {
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/bi/duckdb_check.py")).arg(lake);
    if let Some(csv) = csv {
        cmd.arg(csv);
    }
    let out = run(&mut cmd).unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Two `{day: {field: number}}` maps agree on every day and field (1e-9 relative).
fn agree(what: &str, a: &Value, b: &Value, fields: &[&str]) {
    let (a, b) = (a.as_object().unwrap(), b.as_object().unwrap());
    assert!(!a.is_empty(), "{what}: no rows");
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: days"
    );
    for (day, row) in a {
        for f in fields {
            let (x, y) = (row[f].as_f64().unwrap(), b[day][f].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                "{what} {day} {f}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn kpi_tables_read_by_duckdb_equal_its_own_count_on_the_simulated_shop() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    run_trainer(&[
        "simulate", "--lake", &lake, "--events", "20000", "--users", "500", "--items", "300",
        "--days", "10",
    ])
    .unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    let report: Value =
        serde_json::from_str(&run_trainer(&["kpis", "--lake", &lake]).unwrap()).unwrap();
    assert_eq!(report["days"], 10, "{report}");
    let d = duckdb(&lake_dir, None);
    agree(
        "sales",
        &d["kpi_sales"],
        &d["duckdb_sales"],
        &["revenue", "orders", "units"],
    );
    agree(
        "funnel",
        &d["kpi_funnel"],
        &d["duckdb_funnel"],
        &["sessions", "cart_sessions", "purchase_sessions"],
    );
    assert_eq!(d["kpi_sales"].as_object().unwrap().len(), 10);

    // Re-running one day replaces that day only; the figures stay the same.
    let day = d["kpi_sales"]
        .as_object()
        .unwrap()
        .keys()
        .nth(3)
        .unwrap()
        .clone();
    let key = lake_dir.join(format!("tables/kpi/daily_sales/dt={day}/part-0.parquet"));
    let before = std::fs::read(&key).unwrap();
    run_trainer(&["kpis", "--lake", &lake, "--from", &day, "--to", &day]).unwrap();
    assert_eq!(std::fs::read(&key).unwrap(), before);
    let again = duckdb(&lake_dir, None);
    agree(
        "sales again",
        &again["kpi_sales"],
        &d["kpi_sales"],
        &["revenue", "orders", "units"],
    );

    // Bad input: a clear error, nothing written.
    let out = run(&mut tests::trainer(&["kpis", "--lake", &lake, "--from", "2026-02-30"]).unwrap());
    let err = format!("{:?}", out.err().unwrap());
    assert!(err.contains("2026-02-30"), "{err}");
}

#[test]
fn kpis_on_the_imported_rees46_sample_equal_duckdb_on_the_raw_csv() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let csv = fixture("rees46-sample.csv");
    run_trainer(&["import", "rees46", csv.to_str().unwrap(), "--lake", &lake]).unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    run_trainer(&["kpis", "--lake", &lake]).unwrap();
    let d = duckdb(&lake_dir, Some(&csv));
    agree(
        "sales",
        &d["kpi_sales"],
        &d["duckdb_sales"],
        &["revenue", "orders", "units"],
    );
    agree(
        "sales vs csv",
        &d["kpi_sales"],
        &d["csv_sales"],
        &["revenue", "units"],
    );
    agree(
        "funnel",
        &d["kpi_funnel"],
        &d["duckdb_funnel"],
        &["sessions", "cart_sessions", "purchase_sessions"],
    );
}

#[test]
fn dashboard_in_headless_chromium_shows_the_kpi_tables_and_filters_them() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: scripts/setup.sh installs Debian's chromium"
    );
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    run_trainer(&[
        "simulate", "--lake", &lake, "--events", "20000", "--users", "500", "--items", "300",
        "--days", "10",
    ])
    .unwrap();
    run_trainer(&["compact", "--lake", &lake]).unwrap();
    let w = Worker::start().unwrap();
    let (s, _) = w.admin_get("/v1/admin/dashboard").unwrap();
    assert_eq!(s, 404, "no dashboard data before a KPI run");
    run_trainer(&[
        "kpis",
        "--lake",
        &lake,
        "--worker",
        &w.url,
        "--admin-key",
        ADMIN_KEY,
    ])
    .unwrap();
    let (s, body) = w.admin_get("/v1/admin/dashboard").unwrap();
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["days"].as_array().unwrap().len(), 10);
    let (s, _) = w.get("/v1/admin/dashboard").unwrap();
    assert_eq!(s, 401, "the data needs the admin key");

    // What the page must show, from the Parquet tables (read by DuckDB).
    let d = duckdb(&lake_dir, None);
    let (category, category_revenue) = d["kpi_category"]
        .as_object()
        .unwrap()
        .iter()
        .max_by(|a, b| a.1.as_f64().partial_cmp(&b.1.as_f64()).unwrap())
        .map(|(c, r)| (c.clone(), r.clone()))
        .unwrap();
    let sessions: f64 = d["kpi_funnel"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["sessions"].as_f64().unwrap())
        .sum();
    let expected = serde_json::json!({
        "days": d["kpi_sales"],
        "category": category,
        "category_revenue": category_revenue,
        "sessions": sessions,
    });
    let path = dir.path().join("expected.json");
    std::fs::write(&path, expected.to_string()).unwrap();
    let mut cmd = Command::new(tests::node());
    cmd.current_dir(root())
        .arg("tests/browser/dashboard.mjs")
        .env("VITRINE_URL", &w.url)
        .env("VITRINE_ADMIN_KEY", ADMIN_KEY)
        .env("EXPECTED", &path)
        .env("CHROMIUM", &chromium);
    if let Ok(shot) = std::env::var("VITRINE_DASHBOARD_SCREENSHOT") {
        cmd.env("SCREENSHOT", shot);
    }
    let out = tests::output(&mut cmd).unwrap();
    assert!(
        out.status.success(),
        "dashboard test failed\n--- stdout\n{}\n--- stderr\n{}\n--- worker\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        w.log()
    );
}
