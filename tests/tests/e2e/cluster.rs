//! The lake jobs on a real Ballista cluster: a scheduler and two executors (`trainer cluster …`,
//! separate processes on loopback) run the nightly job's SQL; every table it writes equals the
//! embedded engine's row for row, the published model is the same, and with an executor killed
//! mid-job the job still completes with the right tables.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tests::cluster::Cluster;
use tests::{file_url, python, root, run, run_trainer, trainer};

/// Every table a job wrote in lake `a` against lake `b` (`tests/bi/table_rows.py --compare`:
/// row for row, doubles within 1e-9 relative), run times and the version names a run gives its
/// model left out; fails naming the tables that differ, or a table of `with_rows` that is empty.
fn same_tables(a: &Path, b: &Path, with_rows: &[&str]) {
    let out = run(Command::new(python())
        .arg(root().join("tests/bi/table_rows.py"))
        .arg(a)
        .args([
            "--ignore",
            "run_at,evaluated_at,model_version",
            "--inputs",
            "yes",
        ])
        .arg("--compare")
        .arg(b))
    .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    for table in with_rows {
        assert!(
            r[table]["rows"].as_u64().unwrap_or(0) > 0,
            "{table} has rows: {r}"
        );
    }
    let differing: Vec<&String> = r
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["differing"] != 0)
        .map(|(k, _)| k)
        .collect();
    assert!(differing.is_empty(), "tables differ: {differing:?} in {r}");
}

/// The tables a night writes that must not be empty on the simulated shop.
const NIGHT_TABLES: [&str; 5] = [
    "events",
    "kpi/daily_sales",
    "kpi/funnel",
    "kpi/search_analytics",
    "kpi/forecasts",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A simulated shop in two identical lakes under `dir`: `local` compacted by the hand-written
/// path, `cluster` with only its raw files (the cluster compacts it).
fn two_lakes(dir: &Path) -> (String, String) {
    let a = dir.join("local");
    let lake_a = file_url(&a);
    run_trainer(&[
        "simulate", "--lake", &lake_a, "--events", "20000", "--users", "500", "--items", "300",
        "--days", "10",
    ])
    .unwrap();
    copy_dir(&a, &dir.join("cluster"));
    run_trainer(&["compact", "--lake", &lake_a]).unwrap();
    (lake_a, file_url(&dir.join("cluster")))
}

/// Every changed partition of a compaction report was built by the plan on the engine.
fn compacted_by_the_plan(report: &Value) {
    let written = report["partitions_written"].as_u64().unwrap_or(0);
    assert!(written > 0, "{report}");
    assert_eq!(
        report["partitions_by_plan"].as_u64(),
        Some(written),
        "{report}"
    );
}

#[test]
fn nightly_run_on_a_ballista_cluster_writes_the_embedded_engines_tables_and_model() {
    let dir = tempfile::tempdir().unwrap();
    let (lake_a, lake_b) = two_lakes(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let cluster = Cluster::start(&lake_b, 2, &logs).unwrap();
    let nightly = |lake: &str, models: &str, engine: &str| -> Value {
        let out_dir = dir.path().join(format!("out-{}", models.len()));
        let text = run_trainer(&[
            "run",
            "--lake",
            lake,
            "--models",
            models,
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--factors",
            "16",
            "--iterations",
            "5",
            "--engine",
            engine,
        ])
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.logs()));
        serde_json::from_str(&text).unwrap()
    };
    let models_a = file_url(&dir.path().join("models-a"));
    let models_b = file_url(&dir.path().join("models-b-cluster"));
    let local = nightly(&lake_a, &models_a, "local");
    let on_cluster = nightly(&lake_b, &models_b, &cluster.engine);
    assert_eq!(on_cluster["kpis"]["error"], Value::Null, "{on_cluster}");
    // The cluster compacted the raw events (the event check runs on the executors); the events
    // table equals the hand-written path's row for row (`same_tables`).
    compacted_by_the_plan(&on_cluster["compact"]);
    // And counted the co-view pairs (the lists are the in-process ones: same model below).
    assert_eq!(on_cluster["training"]["co_views_on_engine"], true);
    assert_eq!(local["training"]["co_views_on_engine"], false);
    assert_eq!(on_cluster["kpis"]["days"], local["kpis"]["days"]);
    same_tables(
        &dir.path().join("local"),
        &dir.path().join("cluster"),
        &NIGHT_TABLES,
    );
    // Training reads the same tables: the same model (same counts, same holdout metrics; the
    // version and creation time differ, so the checksums do).
    let (ma, mb) = (
        &local["training"]["manifest"],
        &on_cluster["training"]["manifest"],
    );
    assert_eq!(ma["counts"], mb["counts"], "{ma}\n{mb}");
    assert_eq!(ma["size"], mb["size"], "{ma}\n{mb}");
    for (k, v) in ma["metrics"].as_object().unwrap() {
        if !(k.contains("sec") || k.ends_with("_ms") || k.contains("took")) {
            assert_eq!(v, &mb["metrics"][k], "metric {k}");
        }
    }
    // The executors did the work: each logged tasks.
    let logs = cluster.logs();
    assert!(logs.contains("executor-0.log") && logs.contains("executor-1.log"));
}

#[test]
fn an_executor_killed_mid_job_gives_the_right_tables_not_double_counted_ones() {
    // Regression: Ballista 55 resumed a job after a lost executor and counted re-run shuffle
    // output twice (daily_sales revenue +24%); the scheduler now cancels the running job on a
    // loss (`trainer::cluster::loss`) and the engine runs the query again.
    let dir = tempfile::tempdir().unwrap();
    let (lake_a, lake_b) = two_lakes(dir.path());
    run_trainer(&["kpis", "--lake", &lake_a]).unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut cluster = Cluster::start(&lake_b, 2, &logs).unwrap();
    let compacted = run_trainer(&["compact", "--lake", &lake_b, "--engine", &cluster.engine])
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.logs()));
    compacted_by_the_plan(&serde_json::from_str(&compacted).unwrap());

    let job = trainer(&["kpis", "--lake", &lake_b, "--engine", &cluster.engine])
        .unwrap()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill it while it works for the job: once it has run a task, later stages read its output.
    tests::wait_for("executor 0 to run a task", Duration::from_secs(60), || {
        cluster
            .executor_log(0)
            .contains("Execute task")
            .then_some(())
    })
    .unwrap();
    cluster.kill_executor(0).unwrap();
    let started = Instant::now();
    let out = job.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the job completes on the executor that is left: {err}\n{}",
        cluster.logs()
    );
    assert!(
        err.contains("running the query again"),
        "the query that lost its executor was run again, not resumed: {err}"
    );
    eprintln!(
        "kill test: completed {:?} after the kill",
        started.elapsed()
    );
    same_tables(
        &dir.path().join("local"),
        &dir.path().join("cluster"),
        &NIGHT_TABLES,
    );
    // And a re-run on what is left of the cluster gives the same tables.
    run_trainer(&["kpis", "--lake", &lake_b, "--engine", &cluster.engine])
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.logs()));
    same_tables(
        &dir.path().join("local"),
        &dir.path().join("cluster"),
        &NIGHT_TABLES,
    );
}

#[test]
fn an_executor_killed_mid_compaction_leaves_the_right_events_table() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lake_b) = two_lakes(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut cluster = Cluster::start(&lake_b, 2, &logs).unwrap();
    let job = trainer(&["compact", "--lake", &lake_b, "--engine", &cluster.engine])
        .unwrap()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tests::wait_for("executor 0 to run a task", Duration::from_secs(60), || {
        cluster
            .executor_log(0)
            .contains("Execute task")
            .then_some(())
    })
    .unwrap();
    cluster.kill_executor(0).unwrap();
    let out = job.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "compaction completes on the executor that is left: {err}\n{}",
        cluster.logs()
    );
    assert!(
        err.contains("running the query again"),
        "the partition that lost its executor was compacted again: {err}"
    );
    // Every partition still went through the plan (none fell back to this process), and
    // nothing was written twice or half: the events table is the hand-written path's.
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    compacted_by_the_plan(&report);
    same_tables(
        &dir.path().join("local"),
        &dir.path().join("cluster"),
        &["events"],
    );
    // A re-run finds nothing to do.
    let again: Value = serde_json::from_str(
        &run_trainer(&["compact", "--lake", &lake_b, "--engine", &cluster.engine]).unwrap(),
    )
    .unwrap();
    assert_eq!(again["partitions_written"], 0, "{again}");
}

#[test]
fn a_bad_engine_setting_is_a_clear_error() {
    for bad in [
        "spark://x:1",
        "ballista://",
        "ballista://host",
        "ballista://h:0",
    ] {
        let out = run(&mut trainer(&["kpis", "--lake", "memory://", "--engine", bad]).unwrap());
        let err = format!("{:?}", out.err().unwrap());
        assert!(err.contains("not an engine"), "{bad}: {err}");
    }
    // Nobody listening: an error naming the scheduler, not a hang.
    let port = tests::free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (lake, _) = two_lakes(dir.path());
    let engine = format!("ballista://127.0.0.1:{port}");
    let out = run(&mut trainer(&["kpis", "--lake", &lake, "--engine", &engine]).unwrap());
    let err = format!("{:?}", out.err().unwrap());
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}
