//! Publishing: a versioned artifact and its manifest go to the models store, are read back and
//! checked, and only then does `models/latest.json` flip to the new version. A crash at any point
//! leaves `latest` on a complete, verified model.
//!
//! Owns the quality gate's application (the decision itself is `evaluation::gate`), the write,
//! read-back and flip, rollback, and the upload to a running worker.
//!
//! Must not: train or evaluate; it publishes the [`Artifact`] it is given, as it is.

use shared::{Manifest, lake};

use crate::lake::models_store::{self, ModelsStoreError};
use crate::lake::store::{Lake, StoreError};
use crate::model::artifact::Artifact;

/// Publishing failures.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    ModelsStore(#[from] ModelsStoreError),
    #[error("the models store gave back something else than was written for {0}: {1}")]
    ReadBack(String, String),
    #[error("version {0} is already published with different content; train a new version")]
    Conflict(String),
    #[error("worker {url}: {message}")]
    Worker { url: String, message: String },
    #[error("quality gate refused version {version}: {reason} (use --force to publish anyway)")]
    Gate { version: String, reason: String },
}

/// Applies the quality gate against the live model, records the decision next to the model, and
/// publishes unless refused (or refused but `force`d, which is logged and recorded).
pub async fn publish_gated(
    models: &Lake,
    artifact: &Artifact,
    force: bool,
    now_ms: i64,
) -> Result<crate::evaluation::gate::Verdict, PublishError> {
    let manifest = &artifact.manifest;
    let current = models_store::live(models).await?;
    let verdict = crate::evaluation::gate::judge(manifest, current.as_ref());
    let record = serde_json::json!({
        "version": manifest.version,
        "decision": verdict,
        "forced": force && verdict.refused(),
        "live_before": current.as_ref().map(|m| m.version.clone()),
        "at": now_ms,
    });
    models
        .put(
            &lake::gate_key(&manifest.version),
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
    publish(models, artifact).await?;
    Ok(verdict)
}

/// Flips `latest` back (or forward) to an already published version, after verifying its
/// artifact again. Returns that artifact.
pub async fn rollback(models: &Lake, version: &str) -> Result<Artifact, PublishError> {
    let artifact = models_store::version(models, version).await?;
    models
        .put(lake::LATEST, artifact.manifest.to_json())
        .await?;
    Ok(artifact)
}

/// Publishes to a models store, `latest` last.
pub async fn publish(models: &Lake, artifact: &Artifact) -> Result<(), PublishError> {
    let manifest = &artifact.manifest;
    let model_key = lake::model_key(&manifest.version);
    let manifest_key = lake::manifest_key(&manifest.version);
    if let Some(existing) = models.get_opt(&model_key).await? {
        if shared::hash::sha256_hex(&existing) != manifest.sha256 {
            return Err(PublishError::Conflict(manifest.version.clone()));
        }
    } else {
        models.put(&model_key, artifact.bytes().to_vec()).await?;
    }
    let json = manifest.to_json();
    models.put(&manifest_key, json.clone()).await?;
    // Read back what the store holds before anyone is pointed at it: the same manifest, and bytes
    // of the size and SHA-256 it names (they were decoded and verified before the write).
    let stored_manifest = Manifest::parse(&models.get(&manifest_key).await?)
        .map_err(|e| PublishError::ReadBack(manifest.version.clone(), e.to_string()))?;
    let stored = models.get(&model_key).await?;
    if stored_manifest != *manifest
        || stored.len() as u64 != manifest.size
        || shared::hash::sha256_hex(&stored) != manifest.sha256
    {
        return Err(PublishError::ReadBack(
            manifest.version.clone(),
            "artifact or manifest differs".into(),
        ));
    }
    models.put(lake::LATEST, json).await?;
    Ok(())
}

/// Uploads a published model to a running worker's R2 models bucket through its admin API,
/// `latest` last.
pub async fn to_worker(
    worker: &crate::http::Worker,
    artifact: &Artifact,
) -> Result<(), PublishError> {
    let manifest = &artifact.manifest;
    let json = manifest.to_json().into_bytes();
    for (key, body) in [
        (
            lake::model_key(&manifest.version),
            artifact.bytes().to_vec(),
        ),
        (lake::manifest_key(&manifest.version), json.clone()),
        (lake::LATEST.to_owned(), json),
    ] {
        worker
            .put_model_object(&key, body)
            .await
            .map_err(|message| PublishError::Worker {
                url: worker.url.clone(),
                message,
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::models_store::live;
    use crate::model::train::{TrainParams, build};

    fn artifact(version: &str) -> Artifact {
        let e: shared::Event = serde_json::from_value(serde_json::json!({
            "event_id": "1", "type": "view", "anonymous_id": "a", "session_id": "s", "timestamp": 5, "item_id": "x"
        }))
        .unwrap();
        let data = build(
            &crate::model::interactions::Interactions::from_events(&[e]),
            None,
            &[],
            &TrainParams::default().check().unwrap(),
            version,
            7,
        )
        .unwrap();
        Artifact::from_bytes(data.encode().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn publishes_then_flips_latest() {
        let models = Lake::open("memory://").unwrap();
        let a = artifact("v1");
        publish(&models, &a).await.unwrap();
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        assert_eq!(
            models.get("models/v1/model.bin").await.unwrap().to_vec(),
            a.bytes()
        );
        // Idempotent for identical content.
        publish(&models, &a).await.unwrap();
        publish(&models, &artifact("v2")).await.unwrap();
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v2");
    }

    #[tokio::test]
    async fn corrupted_artifacts_never_go_live() {
        let models = Lake::open("memory://").unwrap();
        publish(&models, &artifact("v1")).await.unwrap();
        // Bytes that do not match their manifest never become an Artifact.
        let good = artifact("v2");
        let mut bad = good.bytes().to_vec();
        let last = bad.len() - 3;
        bad[last] ^= 0xff;
        assert!(Artifact::verified(bad, good.manifest.clone()).is_err());
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
        let a1 = artifact("v1");
        publish(&models, &a1).await.unwrap();
        publish(&models, &artifact("v2")).await.unwrap();
        let back = rollback(&models, "v1").await.unwrap();
        assert_eq!(
            (back.manifest.version.as_str(), back.bytes()),
            ("v1", a1.bytes())
        );
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        for unknown in ["v9", "../x"] {
            assert!(matches!(
                rollback(&models, unknown).await,
                Err(PublishError::ModelsStore(ModelsStoreError::UnknownVersion(
                    _
                )))
            ));
        }
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
        publish(&models, &artifact("v1")).await.unwrap();
        let mut a2 = artifact("v2");
        a2.manifest.metrics =
            serde_json::json!({"ndcg@10": 0.01, "baseline_popularity_ndcg@10": 0.02})
                .as_object()
                .cloned()
                .unwrap();
        let err = publish_gated(&models, &a2, false, 1).await.unwrap_err();
        assert!(matches!(err, PublishError::Gate { .. }), "{err}");
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v1");
        let record: serde_json::Value =
            serde_json::from_slice(&models.get(&lake::gate_key("v2")).await.unwrap()).unwrap();
        assert_eq!(record["decision"]["verdict"], "refuse");
        assert_eq!(record["forced"], false);
        let v = publish_gated(&models, &a2, true, 2).await.unwrap();
        assert!(v.refused());
        assert_eq!(live(&models).await.unwrap().unwrap().version, "v2");
        let record: serde_json::Value =
            serde_json::from_slice(&models.get(&lake::gate_key("v2")).await.unwrap()).unwrap();
        assert_eq!(record["forced"], true);
    }

    #[tokio::test]
    async fn a_version_cannot_change_content() {
        let models = Lake::open("memory://").unwrap();
        let a = artifact("v1");
        publish(&models, &a).await.unwrap();
        models
            .put("models/v1/model.bin", b"something else".to_vec())
            .await
            .unwrap();
        assert!(matches!(
            publish(&models, &a).await,
            Err(PublishError::Conflict(_))
        ));
    }
}
