//! How artifacts reach isolates: through the data center's Workers Cache, keyed by artifact and
//! SHA-256, and from R2 only on a miss — so a location pays one R2 read per version, not one per
//! isolate.

use std::time::Duration;

use serde_json::Value;
use tests::{Worker, train_simulated, wait_for};

fn loaded(w: &Worker) -> Value {
    wait_for("a loaded model", Duration::from_secs(60), || {
        w.get("/v1/model")
            .ok()
            .map(|(_, v)| v)
            .filter(|v| v["loaded"] == true)
    })
    .unwrap()
}

#[test]
fn a_second_isolate_reads_the_artifact_from_the_cache_not_r2() {
    let t = train_simulated(20_000, 300, 150).unwrap();
    let mut w = Worker::start().unwrap();
    w.publish(&t).unwrap();
    let first = loaded(&w);
    assert_eq!(first["fetched_from"], "r2", "{first}");
    // The copy goes into the cache after the loading response, off its path.
    wait_for("the artifact in the cache", Duration::from_secs(30), || {
        w.get("/v1/model")
            .ok()
            .filter(|(_, v)| v["in_cache"] == true)
    })
    .unwrap();

    // A fresh isolate in the same location (workerd restarted on the same state).
    w.kill_and_restart().unwrap();
    let second = loaded(&w);
    assert_eq!(
        (&second["fetched_from"], &second["version"]),
        (&Value::from("cache"), &first["version"]),
        "{second}"
    );
    assert_eq!(second["in_cache"], true, "{second}");
    // It answers from the cached copy.
    let (s, trending) = w.get("/v1/trending?k=3").unwrap();
    assert_eq!(s, 200, "{trending}");
    assert_eq!(trending["model_version"], first["version"]);
    assert_eq!(trending["items"].as_array().map(Vec::len), Some(3));
}

/// Regression: an artifact uploaded through the admin API was read into wasm memory before it
/// went to R2, and wasm memory never shrinks: a 40 MB upload left the receiving isolate 90 MiB
/// larger for good, most of the 128 MB an isolate may use. The upload now streams to R2; the
/// isolate's memory does not grow with it, and what was stored is what was sent (the published
/// model loads and verifies).
#[test]
fn regression_an_admin_upload_does_not_grow_the_isolates_memory() {
    let w = Worker::start().unwrap();
    let memory = || {
        let (status, v) = w.get("/v1/model").unwrap();
        assert_eq!(status, 200, "{v}");
        v["wasm_memory_bytes"].as_u64().unwrap()
    };
    let before = memory();
    let big: Vec<u8> = (0..32u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    assert_eq!(w.models_put("dev/upload-32mib.bin", big).unwrap(), 201);
    let after = memory();
    assert!(
        after < before + (4 << 20),
        "a 32 MiB upload grew wasm memory from {before} to {after} bytes"
    );
    let t = train_simulated(20_000, 300, 150).unwrap();
    w.publish(&t).unwrap();
    let model = loaded(&w);
    assert_eq!(model["loaded"], true, "{model}");
}
