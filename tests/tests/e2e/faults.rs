//! Faults the edge must survive: a bad artifact in R2 — truncated, corrupted, of a future format
//! version — or `latest.json` pointing at an object that is not there. The admin API refuses such
//! a pointer; written behind its back (straight into R2), the worker keeps serving the model it
//! has and says what is wrong on `/v1/model` (in detail to the admin key).

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tests::{ADMIN_KEY, Worker, train_simulated, wait_for};

fn put(w: &Worker, key: &str, body: Vec<u8>) {
    let r = reqwest::blocking::Client::new()
        .put(format!("{}/v1/admin/models/{key}", w.url))
        .bearer_auth(ADMIN_KEY)
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{key}");
}

/// Publishes `bytes` as `version` the way a broken trainer or a bad copy would: a manifest that
/// matches the bytes (so the artifact itself is what is wrong), then `latest.json`.
fn publish_raw(w: &Worker, good: &Value, version: &str, bytes: Option<Vec<u8>>) {
    let mut m = good.clone();
    m["version"] = json!(version);
    m["artifact"] = json!(format!("models/{version}/model.bin"));
    if let Some(b) = bytes {
        m["size"] = json!(b.len());
        m["crc32"] = json!(crc32fast::hash(&b));
        m["sha256"] = json!(hex::encode(Sha256::digest(&b)));
        put(w, &format!("{version}/model.bin"), b);
    }
    let text = m.to_string().into_bytes();
    put(w, &format!("{version}/manifest.json"), text.clone());
    // The admin API verifies a new pointer before taking it...
    assert_eq!(
        w.models_put("latest.json", text.clone()).unwrap(),
        400,
        "{version}"
    );
    // ...so a broken deploy script writes it straight into the bucket.
    w.r2_put("vitrine-models", "models/latest.json", &text)
        .unwrap();
}

#[test]
fn bad_artifacts_never_replace_the_live_model() {
    let t = train_simulated(20_000, 500, 300).unwrap();
    let w = Worker::start().unwrap();
    w.publish(&t).unwrap();
    let good: Value = serde_json::from_slice(
        &std::fs::read(format!("{}.manifest.json", t.artifact.display())).unwrap(),
    )
    .unwrap();
    let live = good["version"].as_str().unwrap().to_owned();
    let bytes = std::fs::read(&t.artifact).unwrap();

    let mut corrupted = bytes.clone();
    let mid = corrupted.len() / 2;
    corrupted[mid] ^= 0xff;
    let mut future = bytes.clone();
    future[8..12].copy_from_slice(&99u32.to_le_bytes());
    let cases: [(&str, Option<Vec<u8>>, &str); 5] = [
        ("bad-truncated", Some(bytes[..40].to_vec()), "truncated"),
        (
            "bad-half",
            Some(bytes[..bytes.len() / 2].to_vec()),
            "checksum",
        ),
        ("bad-corrupted", Some(corrupted), "checksum"),
        ("bad-future", Some(future), "version"),
        ("bad-missing", None, "which is missing"),
    ];
    for (version, body, why) in cases {
        publish_raw(&w, &good, version, body);
        let status = wait_for(
            &format!("the worker to report {version}"),
            Duration::from_secs(30),
            || {
                let (_, body) = w.admin_get("/v1/model").ok()?;
                let s: Value = serde_json::from_slice(&body).ok()?;
                let err = s["last_error"].as_str()?.to_lowercase();
                err.contains(&version.to_lowercase()).then_some(s)
            },
        )
        .unwrap();
        let err = status["last_error"].as_str().unwrap().to_lowercase();
        assert!(err.contains(why), "{version}: {err}");
        assert_eq!(status["version"], live.as_str(), "{version}: {status:#}");
        assert_eq!(status["loaded"], true);
        let (s, recs) = w
            .get(&format!(
                "/v1/recommendations?anonymous_id={}&k=5",
                tests::anon("fault-shopper")
            ))
            .unwrap();
        assert_eq!(s, 200, "{version}: {recs}");
        assert_eq!(recs["model_version"], live.as_str());
        assert!(!recs["items"].as_array().unwrap().is_empty());
    }
}
