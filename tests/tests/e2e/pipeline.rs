//! The whole loop: REES46 import → compact → train → publish → worker serves it → shoppers'
//! events → lake → the nightly job (`trainer run`) → the worker picks the new model up and the
//! purchased item moved up.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tests::{ADMIN_KEY, Worker, file_url, fixture, now_ms, run_trainer, wait_for};

use crate::common::{item_ids, purchase};

fn manifest_version(artifact: &Path) -> String {
    let path = format!("{}.manifest.json", artifact.display());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    shared::Manifest::parse(text.as_bytes()).unwrap().version
}

fn rees46_products() -> HashSet<String> {
    let text = std::fs::read_to_string(fixture("rees46-sample.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2).map(str::to_owned))
        .collect()
}

fn train_and_publish(lake: &str, models: &str, out: &Path, worker: &Worker) -> String {
    run_trainer(&["compact", "--lake", lake]).unwrap();
    let out_s = out.to_str().unwrap();
    run_trainer(&["train", "--lake", lake, "--models", models, "--out", out_s]).unwrap();
    run_trainer(&[
        "publish",
        "--artifact",
        out_s,
        "--models",
        models,
        "--worker",
        &worker.url,
        "--admin-key",
        ADMIN_KEY,
    ])
    .unwrap();
    manifest_version(out)
}

#[test]
fn loop_from_import_to_serving_to_retraining() {
    let dir = tempfile::tempdir().unwrap();
    let lake = file_url(&dir.path().join("lake"));
    let models = file_url(&dir.path().join("models"));
    let csv = fixture("rees46-sample.csv");
    run_trainer(&["import", "rees46", csv.to_str().unwrap(), "--lake", &lake]).unwrap();

    let w = Worker::start().unwrap();
    let v1 = train_and_publish(&lake, &models, &dir.path().join("model-1.bin"), &w);
    assert!(
        dir.path().join("models/models/latest.json").exists(),
        "publish wrote no latest.json to the store"
    );
    let status = w.wait_for_model(&v1).unwrap();
    assert_eq!(status["loaded"], true);

    let catalog = rees46_products();
    let (s, recs) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={}&k=20",
            tests::anon("shopper-1")
        ))
        .unwrap();
    assert_eq!(s, 200, "{recs}");
    assert_eq!(recs["model_version"], v1.as_str());
    assert!(recs["serve_id"].as_str().is_some_and(|id| !id.is_empty()));
    let before = item_ids(&recs);
    assert_eq!(before.len(), 20, "{recs}");
    for id in &before {
        assert!(
            catalog.contains(id),
            "recommended {id} is not a REES46 product"
        );
    }
    let (s, similar) = w
        .get(&format!("/v1/items/{}/similar?k=5", before[0]))
        .unwrap();
    assert_eq!(s, 200, "{similar}");

    // The live model is the embedding model (the current artifact format), and a request's context items are
    // folded in on the spot: the answer is explained by them and never repeats them.
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("models/models/latest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manifest["format_version"],
        shared::artifact::FORMAT_VERSION,
        "{manifest}"
    );
    let context = [before[3].as_str(), before[1].as_str()];
    let (s, personal) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={}&k=10&context={}",
            tests::anon("shopper-1"),
            context.join(",")
        ))
        .unwrap();
    assert_eq!(s, 200, "{personal}");
    let ids = item_ids(&personal);
    assert_eq!(ids.len(), 10, "{personal}");
    assert!(
        ids.iter().all(|id| !context.contains(&id.as_str())),
        "{personal}"
    );
    assert_eq!(
        personal["items"][0]["reason"]["kind"], "session",
        "{personal}"
    );
    assert!(
        context.contains(&personal["items"][0]["reason"]["item"].as_str().unwrap()),
        "{personal}"
    );
    let (s, bad) = w
        .get(&format!(
            "/v1/recommendations?context={}",
            vec!["x"; 51].join(",")
        ))
        .unwrap();
    assert_eq!(
        (s, bad["error"]["code"].as_str()),
        (400, Some("invalid_parameter"))
    );
    let (s, missing) = w.get("/v1/items/no-such-item/similar").unwrap();
    assert_eq!(
        (s, missing["error"]["code"].as_str()),
        (404, Some("item_not_found"))
    );

    // 50 shoppers buy an item that was not recommended.
    let mut sorted: Vec<&String> = catalog.iter().collect();
    sorted.sort();
    let target = sorted
        .into_iter()
        .find(|id| !before.contains(id))
        .unwrap()
        .clone();
    let now = now_ms();
    let events: Vec<Value> = (0..50)
        .map(|i| {
            purchase(
                &format!("loop-p{i}"),
                &format!("loop-u{i}"),
                &target,
                now - i * 1000,
            )
        })
        .collect();
    // One batch per shopper: a batch speaks for one signed user.
    for e in &events {
        let (s, b) = w
            .post("/v1/events", tests::events_body(std::slice::from_ref(e)))
            .unwrap();
        assert_eq!((s, b["accepted"].as_u64()), (202, Some(1)), "{b}");
    }
    wait_for(
        "the consumer to write the purchases",
        Duration::from_secs(30),
        || w.lake_keys("raw/events/").ok().filter(|k| !k.is_empty()),
    )
    .unwrap();

    // The nightly job, as scripts/retrain.sh runs it: pull → erasures → compact → KPIs → train
    // → gate → publish to the store and the worker, the model handed over in memory.
    let out_dir = dir.path().join("artifacts");
    let report: Value = serde_json::from_str(
        &run_trainer(&[
            "run",
            "--lake",
            &lake,
            "--models",
            &models,
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--worker",
            &w.url,
            "--admin-key",
            ADMIN_KEY,
        ])
        .unwrap(),
    )
    .unwrap();
    assert!(
        report["pulled"]["copied"].as_u64().unwrap() >= 1,
        "{report}"
    );
    assert!(report["kpis"]["days"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["kpis"]["error"].is_null(), "{report}");
    assert_eq!(report["uploaded_to_worker"], true, "{report}");
    let v2 = report["published"]["version"].as_str().unwrap().to_owned();
    assert_eq!(v2, manifest_version(&out_dir.join("model.bin")));
    assert_ne!(v1, v2);
    w.wait_for_model(&v2).unwrap();
    let (s, recs) = w
        .get(&format!(
            "/v1/recommendations?anonymous_id={}&k=20",
            tests::anon("shopper-1")
        ))
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(recs["model_version"], v2.as_str());
    let after = item_ids(&recs);
    assert_eq!(
        after.first(),
        Some(&target),
        "the bought item should now lead: {after:?}"
    );
}
