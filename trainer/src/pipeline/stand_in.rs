//! Whether the live model can stand in for tonight's holdout model.
//!
//! A nightly run holds out the new day and trains a *holdout model* on everything before it, to
//! measure the training process on clicks it has not seen. Last night's final model was trained
//! on exactly that data, by the same process, if three things hold: the same trainer build, the
//! same training parameters, and the same interactions before the cutoff (no late events, no
//! erasure since). Then training the holdout model again would rebuild the live model (about
//! 40% of a night at 100M events), so the run scores the live model on the holdout instead and
//! says so in the new model's meta (`holdout_model`).
//!
//! Must not: read the lake or train; it only compares what a model recorded with the run's.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::model::interactions::Interactions;
use crate::model::train::TrainValidParams;

/// Key of the model meta naming the trainer build and parameters that trained it.
pub const META_KEY: &str = "trained_by";

/// Key of the model meta naming the live model that stood in for its holdout model, and for how
/// many nights in a row a live model has.
pub const REUSED_KEY: &str = "holdout_model";

/// Most nights in a row a live model stands in: then a holdout model is trained again and the
/// blend tuned again, at least once a week.
pub const MAX_NIGHTS: u64 = 6;

/// For how many nights in a row a live model stood in for the holdout model of the run that
/// built the model with `meta` (0: its holdout model was trained).
pub fn nights(meta: &serde_json::Map<String, Value>) -> u64 {
    meta.get(REUSED_KEY)
        .and_then(|h| h.get("nights"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// What a model whose holdout model `live` stood in for records under [`REUSED_KEY`];
/// `live_nights` is [`nights`] of the live model.
pub fn reused(live: &str, live_nights: u64) -> Value {
    json!({"reused_live": live, "nights": live_nights + 1})
}

/// The running trainer's build: the SHA-256 (16 hex digits) of its executable, so two binaries
/// of different code never pass for one another even at the same crate version. `None` when the
/// executable cannot be read; then no model stands in.
pub fn build() -> Option<&'static str> {
    static BUILD: OnceLock<Option<String>> = OnceLock::new();
    BUILD
        .get_or_init(|| {
            let exe = std::fs::File::open(std::env::current_exe().ok()?).ok()?;
            file_sha256(exe).ok().map(|h| h[..16].to_owned())
        })
        .as_deref()
}

/// SHA-256 (hex) of everything `file` holds, read a MiB at a time: a debug build of the trainer
/// is over a gigabyte, which must be neither held in memory nor hashed unoptimised (the dev
/// profiles build `sha2` optimised).
fn file_sha256(mut file: impl std::io::Read) -> std::io::Result<String> {
    let mut hash = shared::hash::Sha256Pieces::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(hash.finish()),
            Ok(n) => hash.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The parameters' fingerprint: every field, the embeddings' included (their serde form skips
/// them), hashed.
fn params(p: &TrainValidParams) -> String {
    shared::hash::sha256_hex(format!("{p:?}").as_bytes())[..16].to_owned()
}

/// What a model built now records under [`META_KEY`].
pub fn record(p: &TrainValidParams) -> Value {
    json!({"build": build(), "params": params(p)})
}

/// How many interactions, and of how many shoppers, lie before `cutoff`: what a model trained up
/// to it counted (`counts.interactions`, `counts.shoppers`).
pub fn before(ix: &Interactions, cutoff: i64) -> (usize, usize) {
    let mut seen = vec![false; ix.shoppers()];
    let mut rows = 0;
    for (r, _) in ix.ts.iter().enumerate().filter(|(_, t)| **t < cutoff) {
        rows += 1;
        seen[ix.shopper[r] as usize] = true;
    }
    (rows, seen.iter().filter(|&&s| s).count())
}

/// `Ok` when a model with `meta` was trained by this build with `p` on exactly
/// `before_cutoff` = ([`before`]) interactions and shoppers; otherwise why not.
pub fn check(
    meta: &serde_json::Map<String, Value>,
    p: &TrainValidParams,
    before_cutoff: (usize, usize),
) -> Result<(), &'static str> {
    let by = meta
        .get(META_KEY)
        .ok_or("the live model does not say what trained it")?;
    let build = build().ok_or("this trainer cannot read its own executable")?;
    if nights(meta) >= MAX_NIGHTS {
        return Err("live models stood in for the last week of holdout models");
    }
    if by.get("build").and_then(Value::as_str) != Some(build) {
        return Err("another trainer build trained the live model");
    }
    if by.get("params").and_then(Value::as_str) != Some(params(p).as_str()) {
        return Err("the live model was trained with other parameters");
    }
    let counted = |key: &str| {
        meta.get("counts")
            .and_then(|c| c.get(key))
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
    };
    let (rows, shoppers) = before_cutoff;
    if counted("interactions") != Some(rows) || counted("shoppers") != Some(shoppers) {
        return Err("the interactions before the cutoff changed since (late events or erasure)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::train::TrainParams;

    fn meta(p: &TrainValidParams, interactions: usize) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert(META_KEY.into(), record(p));
        m.insert(
            "counts".into(),
            json!({"interactions": interactions, "shoppers": 50}),
        );
        m
    }

    /// A debug trainer (1.27 GB) read itself whole and hashed it unoptimised: 76 s and 1.4 GB
    /// for a 5,000-event train, and the CI ran out of time.
    #[test]
    fn regression_the_build_hash_reads_the_executable_in_pieces() {
        let bytes: Vec<u8> = (0..(3 << 20) + 12_345u32)
            .map(|i| (i % 253) as u8)
            .collect();
        assert_eq!(
            file_sha256(bytes.as_slice()).unwrap(),
            shared::hash::sha256_hex(&bytes)
        );
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(build(), Some(&shared::hash::sha256_hex(&exe)[..16]));
    }

    #[test]
    fn the_same_build_parameters_and_data_stand_in() {
        let p = TrainParams::default().check().unwrap();
        assert!(build().is_some(), "the test binary can read itself");
        assert_eq!(check(&meta(&p, 1000), &p, (1000, 50)), Ok(()));
    }

    #[test]
    fn anything_else_trains_the_holdout_model() {
        let p = TrainParams::default().check().unwrap();
        // A late event or an erasure changed the data before the cutoff.
        assert!(check(&meta(&p, 1000), &p, (1001, 50)).is_err());
        assert!(check(&meta(&p, 1000), &p, (999, 50)).is_err());
        // An erasure and as many late events: the shoppers differ.
        assert!(check(&meta(&p, 1000), &p, (1000, 49)).is_err());
        // Other parameters, the embeddings' included.
        let mut other = TrainParams::default();
        other.0.ials = crate::model::ials::IalsParams::default()
            .factors(8)
            .check()
            .ok();
        let other = other.check().unwrap();
        assert!(check(&meta(&other, 1000), &p, (1000, 50)).is_err());
        let mut m = meta(&p, 1000);
        m.insert(
            "trained_by".into(),
            json!({"build": "0000000000000000", "params": params(&p)}),
        );
        assert_eq!(
            check(&m, &p, (1000, 50)),
            Err("another trainer build trained the live model")
        );
        // A week of stand-ins in a row: the holdout model is trained again.
        let mut week = meta(&p, 1000);
        week.insert(REUSED_KEY.into(), reused("v", MAX_NIGHTS - 1));
        assert_eq!(nights(&week), MAX_NIGHTS);
        assert!(check(&week, &p, (1000, 50)).is_err());
        week.insert(REUSED_KEY.into(), reused("v", MAX_NIGHTS - 2));
        assert_eq!(check(&week, &p, (1000, 50)), Ok(()));
        // A model from before this check (or built by hand) says nothing.
        m.remove(META_KEY);
        assert!(check(&m, &p, (1000, 50)).is_err());
    }
}
