//! Publishing: a versioned artifact and its manifest go to the models store, are read back and
//! verified, and only then does `models/latest.json` flip to the new version. A crash at any
//! point leaves `latest` on a complete, verified model.

use sha2::{Digest, Sha256};
use shared::{Manifest, Model, lake};

use crate::store::{Lake, StoreError};

/// Publishing failures.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("artifact does not match its manifest: {0}")]
    Mismatch(String),
    #[error("artifact is not loadable: {0}")]
    Artifact(#[from] shared::ArtifactError),
    #[error("manifest: {0}")]
    Manifest(#[from] shared::manifest::ManifestError),
    #[error("version {0} is already published with different content; train a new version")]
    Conflict(String),
    #[error("worker {url}: {message}")]
    Worker { url: String, message: String },
    #[error("quality gate refused version {version}: {reason} (use --force to publish anyway)")]
    Gate { version: String, reason: String },
    #[error("version {0} is not published in this store")]
    UnknownVersion(String),
}

/// Where the gate's decision about a version is recorded.
pub fn gate_key(version: &str) -> String {
    format!("models/{version}/gate.json")
}

/// Applies the quality gate against the live model, records the decision next to the model, and
/// publishes unless refused (or refused but `force`d, which is logged and recorded).
pub async fn publish_gated(
    models: &Lake,
    bytes: &[u8],
    manifest: &Manifest,
    force: bool,
    now_ms: i64,
) -> Result<crate::gate::Verdict, PublishError> {
    verify(bytes, manifest)?;
    let current = live(models).await?;
    let verdict = crate::gate::judge(manifest, current.as_ref());
    let record = serde_json::json!({
        "version": manifest.version,
        "decision": verdict,
        "forced": force && verdict.refused(),
        "live_before": current.as_ref().map(|m| m.version.clone()),
        "at": now_ms,
    });
    models
        .put(
            &gate_key(&manifest.version),
            serde_json::to_vec_pretty(&record).unwrap_or_default(),
        )
        .await?;
    if verdict.refused() {
        if !force {
            return Err(PublishError::Gate {
                version: manifest.version.clone(),
                reason: verdict.reason().to_owned(),
            });
        }
        tracing::warn!(
            version = manifest.version,
            reason = verdict.reason(),
            "quality gate overridden with --force"
        );
    }
    publish(models, bytes, manifest).await?;
    Ok(verdict)
}

/// Flips `latest` back (or forward) to an already published version, after verifying its
/// artifact again. Returns the manifest now live and its bytes.
pub async fn rollback(models: &Lake, version: &str) -> Result<(Manifest, Vec<u8>), PublishError> {
    if !lake::is_safe_segment(version) {
        return Err(PublishError::UnknownVersion(version.to_owned()));
    }
    let Some(text) = models.get_opt(&lake::manifest_key(version)).await? else {
        return Err(PublishError::UnknownVersion(version.to_owned()));
    };
    let manifest = Manifest::parse(&text)?;
    let bytes = models.get(&lake::model_key(version)).await?.to_vec();
    verify(&bytes, &manifest)?;
    models.put(lake::LATEST, manifest.to_json()).await?;
    Ok((manifest, bytes))
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The manifest describing an artifact.
pub fn manifest_for(bytes: &[u8], model: &Model) -> Manifest {
    let counts = model
        .meta()
        .get("counts")
        .and_then(|c| c.as_object())
        .cloned()
        .unwrap_or_default();
    let metrics = model
        .meta()
        .get("metrics")
        .and_then(|c| c.as_object())
        .cloned()
        .unwrap_or_default();
    Manifest {
        version: model.version().to_owned(),
        format_version: model.format_version(),
        artifact: lake::model_key(model.version()),
        size: bytes.len() as u64,
        crc32: crc32fast::hash(bytes),
        sha256: sha256_hex(bytes),
        created_at: model.created_at(),
        counts,
        metrics,
    }
}

/// Checks bytes against a manifest: size, CRC-32, SHA-256, decodability, version.
pub fn verify(bytes: &[u8], m: &Manifest) -> Result<Model, PublishError> {
    if bytes.len() as u64 != m.size {
        return Err(PublishError::Mismatch(format!(
            "size {} ≠ {}",
            bytes.len(),
            m.size
        )));
    }
    if crc32fast::hash(bytes) != m.crc32 || sha256_hex(bytes) != m.sha256 {
        return Err(PublishError::Mismatch("checksum differs".into()));
    }
    let model = Model::load(bytes.to_vec())?;
    if model.version() != m.version {
        return Err(PublishError::Mismatch(format!(
            "artifact is version {}, manifest says {}",
            model.version(),
            m.version
        )));
    }
    Ok(model)
}

/// Publishes to a models store; returns the manifest now live.
pub async fn publish(models: &Lake, bytes: &[u8], manifest: &Manifest) -> Result<(), PublishError> {
    verify(bytes, manifest)?;
    let model_key = lake::model_key(&manifest.version);
    let manifest_key = lake::manifest_key(&manifest.version);
    if let Some(existing) = models.get_opt(&model_key).await? {
        if sha256_hex(&existing) != manifest.sha256 {
            return Err(PublishError::Conflict(manifest.version.clone()));
        }
    } else {
        models.put(&model_key, bytes.to_vec()).await?;
    }
    let json = manifest.to_json();
    models.put(&manifest_key, json.clone()).await?;
    // Read back what the store holds before anyone is pointed at it.
    let stored = models.get(&model_key).await?;
    let stored_manifest = Manifest::parse(&models.get(&manifest_key).await?)?;
    verify(&stored, &stored_manifest)?;
    models.put(lake::LATEST, json).await?;
    Ok(())
}

/// The manifest `latest.json` points at, if any.
pub async fn live(models: &Lake) -> Result<Option<Manifest>, PublishError> {
    match models.get_opt(lake::LATEST).await? {
        None => Ok(None),
        Some(b) => Ok(Some(Manifest::parse(&b)?)),
    }
}

/// Uploads a published model to a running worker's R2 models bucket through its admin API
/// (the local-development path; production publishes to R2 directly).
pub async fn to_worker(
    worker: &str,
    admin_key: &str,
    bytes: &[u8],
    manifest: &Manifest,
) -> Result<(), PublishError> {
    let client = crate::http::client().map_err(|e| PublishError::Worker {
        url: worker.into(),
        message: e.to_string(),
    })?;
    let base = worker.trim_end_matches('/');
    let v = &manifest.version;
    let json = manifest.to_json().into_bytes();
    for (key, body) in [
        (format!("{v}/model.bin"), bytes.to_vec()),
        (format!("{v}/manifest.json"), json.clone()),
        ("latest.json".into(), json),
    ] {
        let url = format!("{base}/v1/admin/models/{key}");
        crate::http::send_with_retry(|| client.put(&url).bearer_auth(admin_key).body(body.clone()))
            .await
            .map_err(|message| PublishError::Worker {
                url: url.clone(),
                message,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{TrainParams, build};

    fn artifact(version: &str) -> (Vec<u8>, Manifest) {
        let e: shared::Event = serde_json::from_value(serde_json::json!({
            "event_id": "1", "type": "view", "anonymous_id": "a", "session_id": "s", "timestamp": 5, "item_id": "x"
        }))
        .unwrap();
        let data = build(
            &crate::interactions::Interactions::from_events(&[e]),
            None,
            &[],
            &TrainParams::default().check().unwrap(),
            version,
            7,
        )
        .unwrap();
        let bytes = data.encode().unwrap();
        let m = manifest_for(&bytes, &Model::load(bytes.clone()).unwrap());
        (bytes, m)
    }

    #[tokio::test]
    async fn publishes_then_flips_latest() {
        let models = Lake::open("memory://").unwrap();
        let (bytes, m) = artifact("v1");
        publish(&models, &bytes, &m).await.unwrap();
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        assert_eq!(
            models.get("models/v1/model.bin").await.unwrap().to_vec(),
            bytes
        );
        // Idempotent for identical content.
        publish(&models, &bytes, &m).await.unwrap();
        let (b2, m2) = artifact("v2");
        publish(&models, &b2, &m2).await.unwrap();
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v2");
    }

    #[tokio::test]
    async fn corrupted_artifacts_never_go_live() {
        let models = Lake::open("memory://").unwrap();
        let (bytes, m) = artifact("v1");
        publish(&models, &bytes, &m).await.unwrap();
        let (mut bad, m2) = artifact("v2");
        let last = bad.len() - 3;
        bad[last] ^= 0xff;
        assert!(matches!(
            publish(&models, &bad, &m2).await,
            Err(PublishError::Mismatch(_))
        ));
        assert!(
            models
                .get_opt("models/v2/model.bin")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
    }

    #[tokio::test]
    async fn rollback_flips_latest_to_a_verified_version() {
        let models = Lake::open("memory://").unwrap();
        let (b1, m1) = artifact("v1");
        let (b2, m2) = artifact("v2");
        publish(&models, &b1, &m1).await.unwrap();
        publish(&models, &b2, &m2).await.unwrap();
        let (m, bytes) = rollback(&models, "v1").await.unwrap();
        assert_eq!((m.version.as_str(), bytes), ("v1", b1));
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        assert!(matches!(
            rollback(&models, "v9").await,
            Err(PublishError::UnknownVersion(_))
        ));
        assert!(matches!(
            rollback(&models, "../x").await,
            Err(PublishError::UnknownVersion(_))
        ));
        // A damaged artifact is never rolled back to.
        models
            .put("models/v2/model.bin", b"garbage".to_vec())
            .await
            .unwrap();
        assert!(rollback(&models, "v2").await.is_err());
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
    }

    #[tokio::test]
    async fn the_gate_refuses_unless_forced_and_records_why() {
        let models = Lake::open("memory://").unwrap();
        let (b1, m1) = artifact("v1");
        publish(&models, &b1, &m1).await.unwrap();
        let (b2, mut m2) = artifact("v2");
        m2.metrics = serde_json::json!({"ndcg@10": 0.01, "baseline_popularity_ndcg@10": 0.02})
            .as_object()
            .cloned()
            .unwrap();
        let err = publish_gated(&models, &b2, &m2, false, 1)
            .await
            .unwrap_err();
        assert!(matches!(err, PublishError::Gate { .. }), "{err}");
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        let record: serde_json::Value =
            serde_json::from_slice(&models.get(&gate_key("v2")).await.unwrap()).unwrap();
        assert_eq!(record["decision"]["verdict"], "refuse");
        assert_eq!(record["forced"], false);
        let v = publish_gated(&models, &b2, &m2, true, 2).await.unwrap();
        assert!(v.refused());
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v2");
        let record: serde_json::Value =
            serde_json::from_slice(&models.get(&gate_key("v2")).await.unwrap()).unwrap();
        assert_eq!(record["forced"], true);
    }

    #[tokio::test]
    async fn a_version_cannot_change_content() {
        let models = Lake::open("memory://").unwrap();
        let (bytes, m) = artifact("v1");
        publish(&models, &bytes, &m).await.unwrap();
        models
            .put("models/v1/model.bin", b"something else".to_vec())
            .await
            .unwrap();
        assert!(matches!(
            publish(&models, &bytes, &m).await,
            Err(PublishError::Conflict(_))
        ));
    }
}
