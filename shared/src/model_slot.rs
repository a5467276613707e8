//! The edge's model cache policy: when to re-read the manifest, when to load a new artifact,
//! keeping the old model when a new one fails, and — for a fresh isolate with nothing to keep —
//! falling back to the last known good model (`models/last-good.json`, which isolates advance
//! after verifying a model) when `latest` cannot be loaded.
//!
//! The worker owns the I/O (Cache API and R2 reads) and the clock; every decision is made here.
//! A copy from the data center's cache is verified like any other, but a bad copy is not held
//! against the version: the worker then reads R2 ([`ModelSlot::install_cached`]).

use std::rc::Rc;

use crate::artifact::Model;
use crate::manifest::Manifest;

fn verify(
    m: &Manifest,
    bytes: Vec<u8>,
    sha256: Option<&str>,
) -> Result<Model, crate::manifest::VerifyError> {
    match sha256 {
        Some(hex) => m.verify_digested(bytes, hex),
        None => m.verify(bytes),
    }
}

/// What to do after reading the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The live model is current (or this version already failed): nothing to fetch.
    Keep,
    /// Fetch and load the artifact at this key.
    Load { key: String },
}

/// The live model and the state of its refresh.
#[derive(Debug)]
pub struct ModelSlot {
    model: Option<Rc<Model>>,
    manifest: Option<Manifest>,
    refresh_ms: i64,
    last_check: Option<i64>,
    loaded_at: Option<i64>,
    failed: Option<(String, String)>,
    last_error: Option<String>,
    /// Where the live model came from.
    source: Option<Source>,
    /// Where its bytes came from.
    fetched: Option<Fetched>,
    /// Whether its bytes are in the data centre's cache (read from it, or put there).
    in_cache: bool,
}

/// Where an artifact's bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched {
    /// The data center's Workers Cache (another isolate here fetched it first).
    Cache,
    /// The R2 models bucket.
    R2,
}

/// Which pointer the live model was loaded through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `models/latest.json`, as published.
    Latest,
    /// `models/last-good.json`: `latest` could not be loaded by this isolate.
    LastGood,
}

/// What `/v1/model` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlotStatus {
    pub loaded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    pub counts: serde_json::Map<String, serde_json::Value>,
    /// Which pointer the model came from: `latest`, or `last_good` when `latest` failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Where this isolate got the artifact's bytes: `cache` or `r2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<Fetched>,
    /// Whether the live model's bytes are in this data centre's Workers Cache for the next
    /// isolate: read from it, or put there after the response that loaded them.
    #[serde(default)]
    pub in_cache: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub refresh_seconds: i64,
}

impl SlotStatus {
    /// What anyone may see: the failure is named without storage keys or internal messages
    /// (the admin key sees the detail).
    pub fn public(mut self) -> Self {
        if self.last_error.is_some() {
            self.last_error = Some(
                "the newest model could not be loaded; the status shows the model being served"
                    .into(),
            );
        }
        self
    }
}

impl ModelSlot {
    pub fn new(refresh_ms: i64) -> Self {
        Self {
            model: None,
            manifest: None,
            refresh_ms: refresh_ms.max(0),
            last_check: None,
            loaded_at: None,
            failed: None,
            last_error: None,
            source: None,
            fetched: None,
            in_cache: false,
        }
    }

    /// The live model.
    pub fn model(&self) -> Option<Rc<Model>> {
        self.model.clone()
    }

    /// Whether the manifest is due for a re-read; marks the check as started when it is.
    pub fn begin_check(&mut self, now_ms: i64) -> bool {
        let due = self
            .last_check
            .is_none_or(|t| now_ms - t >= self.refresh_ms || now_ms < t);
        if due {
            self.last_check = Some(now_ms);
        }
        due
    }

    /// Decides from a fresh manifest whether to load.
    pub fn decide(&self, m: &Manifest) -> Decision {
        let live = self
            .manifest
            .as_ref()
            .is_some_and(|cur| cur.version == m.version && cur.sha256 == m.sha256);
        let known_bad = self
            .failed
            .as_ref()
            .is_some_and(|(v, sha)| *v == m.version && *sha == m.sha256);
        if live || known_bad {
            Decision::Keep
        } else {
            Decision::Load {
                key: m.artifact.clone(),
            }
        }
    }

    /// Verifies fetched bytes against the manifest and installs them; on failure the old model stays.
    pub fn install(&mut self, m: Manifest, bytes: Vec<u8>, now_ms: i64) -> Result<(), String> {
        self.install_from(Source::Latest, m, bytes, None, now_ms)
    }

    /// Whether to try the last known good model: nothing is served, and `latest` just failed.
    pub fn wants_fallback(&self) -> bool {
        self.model.is_none() && self.last_error.is_some()
    }

    /// Whether `last_good` should be advanced to the live model: it came from `latest` and the
    /// pointer names another version.
    pub fn advances(&self, last_good: Option<&Manifest>) -> bool {
        self.source == Some(Source::Latest)
            && self.manifest.as_ref().is_some_and(|m| {
                last_good.is_none_or(|g| g.version != m.version || g.sha256 != m.sha256)
            })
    }

    /// The live model's manifest.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// [`Self::install`] through a named pointer, with the bytes' SHA-256 when the platform
    /// computed it (`Manifest::verify_digested`). A model from `last_good` keeps the error that
    /// made it necessary, so `/v1/model` says why.
    pub fn install_from(
        &mut self,
        source: Source,
        m: Manifest,
        bytes: Vec<u8>,
        sha256: Option<&str>,
        now_ms: i64,
    ) -> Result<(), String> {
        let result = verify(&m, bytes, sha256);
        match result {
            Ok(model) => {
                self.put(source, Fetched::R2, m, model, now_ms);
                Ok(())
            }
            Err(e) => {
                let msg = format!("model {} rejected: {e}", m.version);
                self.failed = Some((m.version, m.sha256));
                self.last_error = Some(msg.clone());
                Err(msg)
            }
        }
    }

    /// Installs a copy from the Workers Cache after the same verification. A copy that fails is
    /// only reported: the version is not marked failed, and the caller reads R2 instead.
    pub fn install_cached(
        &mut self,
        source: Source,
        m: Manifest,
        bytes: Vec<u8>,
        sha256: Option<&str>,
        now_ms: i64,
    ) -> Result<(), String> {
        match verify(&m, bytes, sha256) {
            Ok(model) => {
                self.put(source, Fetched::Cache, m, model, now_ms);
                Ok(())
            }
            Err(e) => Err(format!("cached copy of model {} rejected: {e}", m.version)),
        }
    }

    fn put(&mut self, source: Source, fetched: Fetched, m: Manifest, model: Model, now_ms: i64) {
        self.model = Some(Rc::new(model));
        self.manifest = Some(m);
        self.loaded_at = Some(now_ms);
        if source == Source::Latest {
            self.failed = None;
            self.last_error = None;
        }
        self.source = Some(source);
        self.fetched = Some(fetched);
        self.in_cache = fetched == Fetched::Cache;
    }

    /// Records that the artifact with this SHA-256 was put in the data centre's cache; ignored
    /// when another model went live meanwhile.
    pub fn mark_in_cache(&mut self, sha256: &str) {
        if self.manifest.as_ref().is_some_and(|m| m.sha256 == sha256) {
            self.in_cache = true;
        }
    }

    /// Records a failure that happened before verification (manifest or object unreadable).
    pub fn record_error(&mut self, msg: String) {
        self.last_error = Some(msg);
    }

    /// Status for `/v1/model`.
    pub fn status(&self) -> SlotStatus {
        let fmt = crate::time::format_rfc3339;
        SlotStatus {
            loaded: self.model.is_some(),
            version: self.model.as_ref().map(|m| m.version().to_owned()),
            format_version: self.model.as_ref().map(|m| m.format_version()),
            created_at: self.model.as_ref().map(|m| fmt(m.created_at())),
            loaded_at: self.loaded_at.map(fmt),
            bytes: self.model.as_ref().map(|m| m.byte_len()),
            counts: self
                .manifest
                .as_ref()
                .map(|m| m.counts.clone())
                .unwrap_or_default(),
            source: self.model.as_ref().and(self.source),
            fetched_from: self.model.as_ref().and(self.fetched),
            in_cache: self.model.is_some() && self.in_cache,
            last_error: self.last_error.clone(),
            refresh_seconds: self.refresh_ms / 1000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture;

    fn manifest_for(bytes: &[u8], version: &str) -> Manifest {
        Manifest {
            version: version.into(),
            format_version: 1,
            artifact: crate::lake::model_key(version),
            size: bytes.len() as u64,
            crc32: crc32fast::hash(bytes),
            sha256: crate::hash::sha256_hex(bytes),
            created_at: 0,
            counts: serde_json::Map::new(),
            metrics: serde_json::Map::new(),
        }
    }

    #[test]
    fn checks_are_throttled() {
        let mut s = ModelSlot::new(30_000);
        assert!(s.begin_check(1_000));
        assert!(!s.begin_check(20_000));
        assert!(s.begin_check(31_000));
    }

    #[test]
    fn loads_then_keeps_same_version() {
        let bytes = fixture().encode().unwrap();
        let m = manifest_for(&bytes, "golden-v1");
        let mut s = ModelSlot::new(1000);
        assert_eq!(
            s.decide(&m),
            Decision::Load {
                key: "models/golden-v1/model.bin".into()
            }
        );
        s.install(m.clone(), bytes, 5).unwrap();
        assert_eq!(s.decide(&m), Decision::Keep);
        let st = s.status();
        assert!(st.loaded);
        assert_eq!(st.version.as_deref(), Some("golden-v1"));
    }

    #[test]
    fn bad_artifact_keeps_old_model_and_is_not_refetched() {
        let good = fixture().encode().unwrap();
        let mut s = ModelSlot::new(1000);
        s.install(manifest_for(&good, "golden-v1"), good.clone(), 5)
            .unwrap();
        // Truncated: size mismatch.
        let mut m2 = manifest_for(&good, "v2");
        let err = s.install(m2.clone(), good[..100].to_vec(), 6).unwrap_err();
        assert!(err.contains("size"), "{err}");
        assert_eq!(s.model().unwrap().version(), "golden-v1");
        assert_eq!(s.decide(&m2), Decision::Keep);
        assert!(s.status().last_error.unwrap().contains("v2"));
        // Version inside differs from the manifest.
        m2.version = "v3".into();
        m2.artifact = crate::lake::model_key("v3");
        let err = s.install(m2, good.clone(), 7).unwrap_err();
        assert!(err.contains("version"), "{err}");
        // Corrupted byte with a manifest that matches it: checksum inside the artifact catches it.
        let mut bad = good.clone();
        let last = bad.len() - 9;
        bad[last] ^= 1;
        let err = s
            .install(manifest_for(&bad, "golden-v1"), bad, 8)
            .unwrap_err();
        assert!(err.contains("checksum"), "{err}");
        assert_eq!(s.model().unwrap().version(), "golden-v1");
    }

    #[test]
    fn one_pass_gives_both_checksums_and_a_platform_digest_is_checked() {
        let good = fixture().encode().unwrap();
        for n in [0, 5, 16, 20, 21, 64, good.len()] {
            let b = &good[..n];
            assert_eq!(
                crate::artifact::checksums(b),
                (crate::artifact::checksum(b), crc32fast::hash(b)),
                "{n} bytes"
            );
        }
        let m = manifest_for(&good, "golden-v1");
        let upper = m.sha256.to_uppercase();
        assert!(m.verify_digested(good.clone(), &upper).is_ok());
        let wrong = crate::hash::sha256_hex(b"other bytes");
        assert!(matches!(
            m.verify_digested(good.clone(), &wrong),
            Err(crate::manifest::VerifyError::Sha256)
        ));
        // A flipped byte is caught by the artifact's own checksum, whatever digest the platform
        // reports (with a digest the manifest's CRC-32 is not computed); without a digest the
        // manifest's CRC-32 catches it first.
        let mut bad = good.clone();
        let at = bad.len() / 2;
        bad[at] ^= 1;
        match m.verify_digested(bad.clone(), &m.sha256) {
            Err(crate::manifest::VerifyError::Decode(e)) => assert!(e.contains("checksum"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            m.verify(bad),
            Err(crate::manifest::VerifyError::Crc32 { .. })
        ));
    }

    #[test]
    fn in_cache_is_said_only_of_the_live_artifacts_bytes() {
        let good = fixture().encode().unwrap();
        let m = manifest_for(&good, "golden-v1");
        let mut s = ModelSlot::new(1000);
        s.install_from(Source::Latest, m.clone(), good.clone(), None, 1)
            .unwrap();
        assert!(!s.status().in_cache);
        s.mark_in_cache("another artifact's digest");
        assert!(!s.status().in_cache);
        s.mark_in_cache(&m.sha256);
        assert!(s.status().in_cache);
        let mut fresh = ModelSlot::new(1000);
        fresh
            .install_cached(Source::Latest, m, good, None, 1)
            .unwrap();
        assert!(fresh.status().in_cache);
    }

    #[test]
    fn a_bad_cached_copy_is_not_held_against_the_version() {
        let good = fixture().encode().unwrap();
        let m = manifest_for(&good, "golden-v1");
        let mut s = ModelSlot::new(1000);
        let err = s
            .install_cached(Source::Latest, m.clone(), good[..100].to_vec(), None, 1)
            .unwrap_err();
        assert!(err.contains("cached copy"), "{err}");
        // Nothing recorded: the same version is still wanted, and R2's copy loads.
        assert!(s.status().last_error.is_none() && !s.wants_fallback());
        assert!(matches!(s.decide(&m), Decision::Load { .. }));
        s.install(m.clone(), good.clone(), 2).unwrap();
        assert_eq!(s.status().fetched_from, Some(Fetched::R2));
        let mut fresh = ModelSlot::new(1000);
        fresh
            .install_cached(Source::Latest, m.clone(), good, None, 3)
            .unwrap();
        assert_eq!(fresh.status().fetched_from, Some(Fetched::Cache));
        // The cache key names the artifact and its digest: other bytes, another key.
        assert!(m.cache_url().contains(&m.sha256) && m.cache_url().contains(&m.artifact));
    }

    #[test]
    fn a_fresh_slot_falls_back_to_the_last_good_model_and_says_why() {
        let good = fixture().encode().unwrap();
        let mut s = ModelSlot::new(1000);
        assert!(!s.wants_fallback());
        // `latest` points at garbage: nothing to keep, so the fallback is wanted.
        let bad = manifest_for(&good, "v2");
        assert!(s.install(bad, good[..50].to_vec(), 1).is_err());
        assert!(s.wants_fallback());
        let last_good = manifest_for(&good, "golden-v1");
        s.install_from(Source::LastGood, last_good.clone(), good.clone(), None, 2)
            .unwrap();
        let st = s.status();
        assert_eq!(
            (st.version.as_deref(), st.source),
            (Some("golden-v1"), Some(Source::LastGood))
        );
        assert!(st.last_error.as_deref().unwrap().contains("v2"));
        // A model from the fallback never advances the pointer; one from `latest` does.
        assert!(!s.advances(Some(&last_good)));
        s.install(last_good.clone(), good.clone(), 3).unwrap();
        assert!(!s.advances(Some(&last_good)));
        assert!(s.advances(None));
        // The public status hides what failed and where.
        let mut bad_again = manifest_for(&good, "v3");
        bad_again.artifact = crate::lake::model_key("v3");
        let _ = s.install(bad_again, Vec::new(), 4);
        let public = s.status().public();
        let msg = public.last_error.unwrap();
        assert!(!msg.contains("models/") && !msg.contains("v3"), "{msg}");
    }
}
