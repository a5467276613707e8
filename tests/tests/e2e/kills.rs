//! Processes killed with `SIGKILL` (no chance to clean up) in the middle of the writes that
//! matter. The trainer during publish: `models/latest.json` always names a complete model that
//! verifies. The trainer during compaction: one more run gives tables byte-identical to an
//! uninterrupted run. The worker during ingest: every batch the client resends lands, compaction
//! keeps each event exactly once, and what is lost is only what the local queue simulator held in
//! the killed process's memory (Cloudflare Queues persist a message before `send` returns).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tests::{Worker, file_url, now_ms, run_trainer, train_simulated, trainer, wait_for};

use crate::common::view;

/// Every file under `dir` (relative path → SHA-256), to compare two trees byte for byte.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(
                    rel,
                    hex::encode(Sha256::digest(std::fs::read(&path).unwrap())),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// Sends `SIGKILL` after `after` unless the process finished first; true when it was killed.
fn kill_after(mut child: Child, after: Duration) -> bool {
    let deadline = Instant::now() + after;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if Instant::now() >= deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The live model of a models dir: its manifest's version, after checking that the artifact it
/// names is all there, matches the manifest's size and SHA-256, and loads.
fn live_and_verified(models_dir: &Path) -> String {
    let latest: Value =
        serde_json::from_slice(&std::fs::read(models_dir.join("models/latest.json")).unwrap())
            .unwrap();
    let key = latest["artifact"].as_str().unwrap();
    let bytes = std::fs::read(models_dir.join(key)).unwrap();
    assert_eq!(
        bytes.len() as u64,
        latest["size"].as_u64().unwrap(),
        "{key}"
    );
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        latest["sha256"].as_str().unwrap(),
        "{key}"
    );
    let model = shared::Model::load(bytes).unwrap();
    assert_eq!(model.version(), latest["version"].as_str().unwrap());
    model.version().to_owned()
}

#[test]
fn trainer_killed_during_publish_leaves_latest_on_a_verified_model() {
    let t = train_simulated(20_000, 500, 2_000).unwrap();
    let base = t.dir.path().join("published");
    let base_url = file_url(&base);
    let first = t.artifact.to_string_lossy().into_owned();
    run_trainer(&["publish", "--artifact", &first, "--models", &base_url]).unwrap();
    let old = live_and_verified(&base);
    // A second, different model (fewer factors: another content hash, so another version).
    let second = t.dir.path().join("second.bin");
    run_trainer(&[
        "train",
        "--lake",
        &file_url(&t.lake_dir),
        "--models",
        &t.models,
        "--out",
        &second.to_string_lossy(),
        "--factors",
        "8",
    ])
    .unwrap();
    let second = second.to_string_lossy().into_owned();

    // Each attempt starts from a copy of the store with the old model live and kills the publish
    // of the new one a little later than the one before, until one runs to the end.
    let (mut killed, mut stayed_old, mut went_new) = (0, 0, 0);
    for step in 0..400u64 {
        let store = t.dir.path().join(format!("attempt-{step}"));
        copy_tree(&base, &store);
        let child = trainer(&[
            "publish",
            "--artifact",
            &second,
            "--models",
            &file_url(&store),
            "--force",
        ])
        .unwrap()
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
        let was_killed = kill_after(child, Duration::from_millis(step));
        let live = live_and_verified(&store);
        if live == old {
            stayed_old += 1;
        } else {
            went_new += 1;
        }
        std::fs::remove_dir_all(&store).unwrap();
        if was_killed {
            killed += 1;
        } else {
            assert_ne!(
                live, old,
                "a publish that finished must have flipped latest"
            );
            break;
        }
    }
    eprintln!(
        "publish killed {killed} times: latest stayed on the old model {stayed_old} times, \
         already on the new one {went_new} times; every time it verified"
    );
    assert!(killed > 0 && went_new > 0, "no publish ran to the end");
}

#[test]
fn trainer_killed_during_compaction_reruns_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean");
    run_trainer(&[
        "simulate",
        "--lake",
        &file_url(&clean),
        "--events",
        "150000",
        "--users",
        "3000",
        "--items",
        "1000",
        "--days",
        "30",
    ])
    .unwrap();
    let killed = dir.path().join("killed");
    copy_tree(&clean, &killed);

    let started = Instant::now();
    run_trainer(&["compact", "--lake", &file_url(&clean)]).unwrap();
    let full = started.elapsed();
    let expected = tree(&clean.join("tables"));
    assert!(expected.keys().any(|k| k.ends_with(".parquet")));

    // Kill runs at 15%, 30%, 45% and 60% of an uninterrupted run's time; each later run starts from
    // whatever the one before left behind.
    let mut partial = Vec::new();
    for share in [15u32, 30, 45, 60] {
        let child = trainer(&["compact", "--lake", &file_url(&killed)])
            .unwrap()
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let was_killed = kill_after(child, full * share / 100);
        partial.push((share, was_killed, tree(&killed.join("tables")).len()));
    }
    eprintln!(
        "uninterrupted compaction {:.2} s, {} files; killed runs (share of time, killed, files \
         left): {partial:?}",
        full.as_secs_f64(),
        expected.len()
    );
    assert!(
        partial.iter().any(|&(_, k, _)| k),
        "no compaction was killed"
    );
    run_trainer(&["compact", "--lake", &file_url(&killed)]).unwrap();
    // A killed write leaves object_store's staging file (`<name>#<n>`) beside the real one: no
    // object_store listing, Hive reader or `*.parquet` glob sees it; count it, compare the rest.
    let (staging, got): (BTreeMap<_, _>, BTreeMap<_, _>) = tree(&killed.join("tables"))
        .into_iter()
        .partition(|(k, _)| k.contains('#'));
    eprintln!("staging files left by killed writes: {}", staging.len());
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    let differ: Vec<_> = expected
        .iter()
        .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
        .map(|(k, _)| k)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && differ.is_empty(),
        "missing {missing:?}, extra {extra:?}, different {differ:?}"
    );
}

/// The ids of every event line under `raw/events/` of a lake dir, duplicates included.
fn raw_event_ids(lake: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let dir = lake.join("raw/events");
    for (rel, _) in tree(&dir) {
        let text = std::fs::read_to_string(dir.join(rel)).unwrap();
        ids.extend(
            text.lines()
                .map(|l| serde_json::from_str::<shared::Event>(l).unwrap().event_id),
        );
    }
    ids
}

/// The body of a client batch of views with these ids, stamped now.
fn body_of(ids: &[String]) -> String {
    let now = now_ms();
    let events: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            view(
                id,
                &tests::anon(&format!("s{}", i % 7)),
                &format!("i{}", i % 13),
                now,
            )
        })
        .collect();
    tests::events_body(&events)
}

/// One client batch of `n` views with ids `<tag>-<i>`.
fn batch(tag: &str, n: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..n).map(|i| format!("{tag}-{i}")).collect();
    let body = body_of(&ids);
    (ids, body)
}

#[test]
fn worker_killed_mid_ingest_duplicates_nothing_and_loses_only_the_local_queue_batch() {
    let mut w = Worker::start().unwrap();
    // A client that keeps each batch until the worker answers 202 (as the storefront snippet
    // does) sends batches back to back from another thread; the worker is killed under it.
    let url = w.url.clone();
    let sender = std::thread::spawn(move || {
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let (mut acked, mut failed) = (Vec::new(), Vec::new());
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < Duration::from_secs(8) {
            let (ids, body) = batch(&format!("b{n}"), 20);
            n += 1;
            let sent_at = started.elapsed();
            let r = http
                .post(format!("{url}/v1/events"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send();
            match r {
                Ok(r) if r.status().as_u16() == 202 => acked.push((sent_at, ids)),
                _ => failed.push((ids, body)),
            }
            if failed.len() >= 3 {
                break;
            }
        }
        (acked, failed, started)
    });
    std::thread::sleep(Duration::from_secs(3));
    let killed_at = Instant::now();
    w.kill_and_restart().unwrap();
    let (acked, failed, started) = sender.join().unwrap();
    let kill_offset = killed_at - started;
    assert!(!acked.is_empty(), "nothing was sent before the kill");

    // After the restart: the client resends what was never acknowledged, and (a client that lost
    // responses) the first and the last three acknowledged batches again; then new batches.
    let mut resent = Vec::new();
    for (ids, body) in &failed {
        let (s, b) = w.post("/v1/events", body.clone()).unwrap();
        assert_eq!(s, 202, "{b}");
        resent.extend(ids.iter().cloned());
    }
    let mut again = Vec::new();
    for (_, ids) in acked.iter().take(1).chain(acked.iter().rev().take(3)) {
        let body = body_of(ids);
        let (s, b) = w.post("/v1/events", body).unwrap();
        assert_eq!(s, 202, "{b}");
        again.extend(ids.iter().cloned());
    }
    let mut after = Vec::new();
    for n in 0..10 {
        let (ids, body) = batch(&format!("after{n}"), 20);
        let (s, b) = w.post("/v1/events", body).unwrap();
        assert_eq!(s, 202, "{b}");
        after.extend(ids);
    }

    // Pull the worker's lake bucket until every event sent after the restart is there.
    let dir = tempfile::tempdir().unwrap();
    let lake = file_url(dir.path());
    let must: std::collections::BTreeSet<String> =
        resent.iter().chain(&again).chain(&after).cloned().collect();
    let ids = wait_for(
        "events after the restart in the lake",
        Duration::from_secs(60),
        || {
            tests::pull(&w.url, &lake).ok()?;
            let ids = raw_event_ids(dir.path());
            let have: std::collections::BTreeSet<&String> = ids.iter().collect();
            must.iter().all(|id| have.contains(id)).then_some(ids)
        },
    )
    .unwrap();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    let mut lines: BTreeMap<&String, usize> = BTreeMap::new();
    for id in &ids {
        *lines.entry(id).or_default() += 1;
    }
    // An acknowledged event is missing when the lake has fewer copies than the client's sends
    // (one, or two for the batches sent again after the restart).
    let missing: Vec<(Duration, &String)> = acked
        .iter()
        .flat_map(|(at, ids)| ids.iter().map(move |id| (*at, id)))
        .filter(|(_, id)| {
            let sends = if again.contains(*id) { 2 } else { 1 };
            lines.get(id).copied().unwrap_or(0) < sends
        })
        .collect();
    let sent: std::collections::BTreeSet<String> = acked
        .iter()
        .flat_map(|(_, ids)| ids.iter().cloned())
        .chain(failed.iter().flat_map(|(ids, _)| ids.iter().cloned()))
        .chain(after.iter().cloned())
        .collect();
    assert!(
        distinct.iter().all(|id| sent.contains(*id)),
        "the lake holds events nobody sent"
    );

    let report: Value =
        serde_json::from_str(&run_trainer(&["compact", "--lake", &lake]).unwrap()).unwrap();
    assert_eq!(
        report["events_out"].as_u64().unwrap(),
        distinct.len() as u64,
        "compaction must keep each event exactly once: {report}"
    );
    assert_eq!(
        report["duplicates_removed"].as_u64().unwrap(),
        (ids.len() - distinct.len()) as u64,
        "{report}"
    );
    // The first batch, long since written, was sent twice: both copies reached the lake.
    assert!(ids.len() - distinct.len() >= 20, "{report}");
    eprintln!(
        "killed {:.2} s into the run: {} batches acknowledged before, {} failed and resent, {} \
         raw lines, {} distinct events, {} duplicates removed by compaction; acknowledged but \
         missing (still in the local queue's memory at the kill): {}",
        kill_offset.as_secs_f64(),
        acked.len(),
        failed.len(),
        ids.len(),
        distinct.len(),
        report["duplicates_removed"],
        missing.len()
    );
    // Local Queues (miniflare) hold undelivered messages in the killed process's memory; Cloudflare
    // Queues persist a message before `send` resolves and redeliver it. So locally the only
    // acknowledged events that may be missing are those acknowledged within the queue's batch
    // window before the kill: the batch being written and the one filling (2 × max_batch_size).
    assert!(missing.len() <= 200, "more than two queue batches lost");
    for (at, id) in &missing {
        assert!(
            kill_offset.saturating_sub(*at) < Duration::from_secs(3),
            "{id}, acknowledged {:.2} s before the kill, is missing",
            kill_offset.saturating_sub(*at).as_secs_f64()
        );
    }
}
