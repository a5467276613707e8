//! Backup and restore: `trainer backup --to <url>` mirrors the lake (raw events, quarantine,
//! tables, GDPR receipts, audit log, config) and the models store into any other object store,
//! incrementally; `trainer restore --from <url>` rebuilds empty stores from it.
//!
//! The backup keeps `backup-manifest.json`: every object's size and last-modified time at the
//! source when it was copied, so the next run copies only what changed. It is a mirror: an object
//! gone from the source (for example a file an erasure emptied) is deleted from the backup too, so
//! erased people do not live on in backups. Models are copied before `models/latest.json`, and the
//! manifest is written last, so an interrupted backup never points at a model it lacks and simply
//! redoes the rest next time. A restore checks the live model's checksums before it reports
//! success.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lake::store::{Lake, StoreError};

/// The manifest key in the backup store.
pub const MANIFEST: &str = "backup-manifest.json";

/// Backup and restore failures.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Manifest(String),
    #[error(
        "{what} is not empty ({objects} objects); restore only into empty stores (or pass --force)"
    )]
    NotEmpty { what: String, objects: usize },
    #[error("the backup has no {MANIFEST}: nothing to restore from")]
    NoBackup,
    #[error("the restored live model does not verify: {0}")]
    Verify(String),
}

/// One object as last copied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    size: u64,
    modified: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Manifest {
    written_at: i64,
    objects: BTreeMap<String, Entry>,
}

/// What a backup or restore did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BackupReport {
    pub objects: usize,
    pub copied: usize,
    pub unchanged: usize,
    pub deleted: usize,
    pub bytes: u64,
    pub live_model: Option<String>,
}

/// The backup key of a source object.
fn backup_key(side: &str, key: &str) -> String {
    format!("{side}/{key}")
}

/// Copies the objects of `source` into `dest` under `side/`, skipping unchanged ones.
async fn mirror(
    source: &Lake,
    side: &str,
    dest: &Lake,
    manifest: &mut Manifest,
    report: &mut BackupReport,
) -> Result<(), BackupError> {
    let mut objects = source.list("").await?;
    // `models/latest.json` (and any other pointer) after the objects it names.
    objects.sort_by_key(|(k, _)| (k.ends_with("latest.json"), k.clone()));
    let mut present = std::collections::BTreeSet::new();
    for (key, meta) in objects {
        let bkey = backup_key(side, &key);
        present.insert(bkey.clone());
        report.objects += 1;
        let entry = Entry {
            size: meta.size,
            modified: meta.last_modified.timestamp_millis(),
        };
        if manifest.objects.get(&bkey) == Some(&entry) && dest.head(&bkey).await?.is_some() {
            report.unchanged += 1;
            continue;
        }
        let body = source.get(&key).await?;
        report.bytes += body.len() as u64;
        dest.put(&bkey, body).await?;
        manifest.objects.insert(bkey, entry);
        report.copied += 1;
    }
    let prefix = format!("{side}/");
    let gone: Vec<String> = manifest
        .objects
        .keys()
        .filter(|k| k.starts_with(&prefix) && !present.contains(*k))
        .cloned()
        .collect();
    for k in gone {
        dest.delete(&k).await?;
        manifest.objects.remove(&k);
        report.deleted += 1;
    }
    Ok(())
}

/// Backs up the lake and the models store into `dest`.
pub async fn backup(
    lake: &Lake,
    models: Option<&Lake>,
    dest: &Lake,
    now_ms: i64,
) -> Result<BackupReport, BackupError> {
    let mut manifest: Manifest = match dest.get_opt(MANIFEST).await? {
        Some(b) => serde_json::from_slice(&b)
            .map_err(|e| BackupError::Manifest(format!("{MANIFEST} is damaged: {e}")))?,
        None => Manifest::default(),
    };
    let mut report = BackupReport::default();
    mirror(lake, "lake", dest, &mut manifest, &mut report).await?;
    if let Some(m) = models {
        mirror(m, "models", dest, &mut manifest, &mut report).await?;
        report.live_model = live_version(m).await?;
    }
    manifest.written_at = now_ms;
    let body =
        serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Manifest(e.to_string()))?;
    dest.put(MANIFEST, body).await?;
    Ok(report)
}

async fn live_version(models: &Lake) -> Result<Option<String>, BackupError> {
    let live = crate::lake::models_store::live(models)
        .await
        .map_err(|e| BackupError::Verify(e.to_string()))?;
    Ok(live.map(|m| m.version))
}

/// Restores `from` into the (empty) lake and models store.
pub async fn restore(
    from: &Lake,
    lake: &Lake,
    models: Option<&Lake>,
    force: bool,
) -> Result<BackupReport, BackupError> {
    let Some(body) = from.get_opt(MANIFEST).await? else {
        return Err(BackupError::NoBackup);
    };
    let manifest: Manifest = serde_json::from_slice(&body)
        .map_err(|e| BackupError::Manifest(format!("{MANIFEST} is damaged: {e}")))?;
    if !force {
        for (what, store) in [("the lake", Some(lake)), ("the models store", models)] {
            if let Some(s) = store {
                let n = s.list("").await?.len();
                if n > 0 {
                    return Err(BackupError::NotEmpty {
                        what: what.into(),
                        objects: n,
                    });
                }
            }
        }
    }
    let mut report = BackupReport::default();
    let mut keys: Vec<&String> = manifest.objects.keys().collect();
    keys.sort_by_key(|k| (k.ends_with("latest.json"), (*k).clone()));
    for bkey in keys {
        report.objects += 1;
        let (target, key) = match bkey.split_once('/') {
            Some(("lake", k)) => (Some(lake), k),
            Some(("models", k)) => (models, k),
            _ => (None, bkey.as_str()),
        };
        let Some(target) = target else { continue };
        let body = from.get(bkey).await?;
        report.bytes += body.len() as u64;
        target.put(key, body).await?;
        report.copied += 1;
    }
    if let Some(m) = models {
        use crate::lake::models_store;
        let verr = |e: models_store::ModelsStoreError| BackupError::Verify(e.to_string());
        if let Some(manifest) = models_store::live(m).await.map_err(verr)? {
            let live = models_store::read(m, manifest).await.map_err(verr)?;
            report.live_model = Some(live.manifest.version);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn keys(l: &Lake) -> Vec<String> {
        l.list("")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[tokio::test]
    async fn backups_are_incremental_mirrors_and_restores_need_empty_stores() {
        let lake = Lake::open("memory://").unwrap();
        let dest = Lake::open("memory://").unwrap();
        lake.put("raw/events/dt=2026-01-01/a.ndjson", "a\n")
            .await
            .unwrap();
        lake.put("tables/t/part-0.parquet", "t").await.unwrap();
        lake.put("raw/events/dt=2026-01-02/b.ndjson", "b\n")
            .await
            .unwrap();
        let first = backup(&lake, None, &dest, 1).await.unwrap();
        assert_eq!((first.objects, first.copied), (3, 3));
        let again = backup(&lake, None, &dest, 2).await.unwrap();
        assert_eq!((again.copied, again.unchanged), (0, 3));
        // An erasure emptied a file: the mirror loses it too; a rewritten file is copied again.
        lake.delete("raw/events/dt=2026-01-02/b.ndjson")
            .await
            .unwrap();
        lake.put("tables/t/part-0.parquet", "t2").await.unwrap();
        let third = backup(&lake, None, &dest, 3).await.unwrap();
        assert_eq!((third.copied, third.deleted), (1, 1), "{third:?}");
        assert!(
            dest.head("lake/raw/events/dt=2026-01-02/b.ndjson")
                .await
                .unwrap()
                .is_none()
        );

        let fresh = Lake::open("memory://").unwrap();
        let r = restore(&dest, &fresh, None, false).await.unwrap();
        assert_eq!(r.copied, 2);
        assert_eq!(keys(&fresh).await, keys(&lake).await);
        assert_eq!(
            fresh.get("tables/t/part-0.parquet").await.unwrap().as_ref(),
            b"t2"
        );
        assert!(matches!(
            restore(&dest, &fresh, None, false).await,
            Err(BackupError::NotEmpty { .. })
        ));
        let empty = Lake::open("memory://").unwrap();
        assert!(matches!(
            restore(&empty, &fresh, None, true).await,
            Err(BackupError::NoBackup)
        ));
    }
}
