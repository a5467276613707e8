//! Backup and restore: `trainer backup --to <url>` copies the lake (raw events, quarantine,
//! tables, GDPR receipts, audit log, config) and the models store into any other object store,
//! incrementally, as a dated generation; `trainer restore --from <url> [--at <date>]` rebuilds
//! empty stores from the newest generation on or before that day.
//!
//! Layout of the backup store:
//!
//! ```text
//! objects/<side>/<key>@<modified ms>-<size>   every version of every object, never rewritten
//! generations/<YYYY-MM-DD>.json               one day's view: backup key → stored object
//! ```
//!
//! An object unchanged since the newest generation is not copied again; a changed one is stored
//! as a new version beside the old. So a deletion or a corruption in the lake reaches only the
//! generations taken after it: yesterday's backup still holds what was there yesterday. Old
//! generations are pruned after `keep_days` (the newest is always kept), and versions no kept
//! generation names are deleted with them — which is also when an erased person's data leaves the
//! backups (at most `keep_days` after the erasure; docs/security.md). Models are copied before
//! `models/latest.json`, and the generation is written last, so an interrupted backup never names
//! an object it lacks. A restore checks the live model's checksums before it reports success.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::lake::store::{Lake, StoreError};

/// Prefix of the generations in the backup store.
pub const GENERATIONS: &str = "generations/";
/// Prefix of the stored object versions.
pub const OBJECTS: &str = "objects/";
/// Generations kept by default, in days.
pub const DEFAULT_KEEP_DAYS: u32 = 30;

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
    #[error("the backup has no generation{0}: nothing to restore from")]
    NoBackup(String),
    #[error("the restored live model does not verify: {0}")]
    Verify(String),
    #[error("`{0}` is not a day (YYYY-MM-DD)")]
    BadDay(String),
}

/// One day's view of the stores: backup key (`lake/…`, `models/…`) → stored version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Generation {
    written_at: i64,
    objects: BTreeMap<String, String>,
}

/// What a backup or restore did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BackupReport {
    /// The generation written or restored (`YYYY-MM-DD`).
    pub generation: String,
    pub objects: usize,
    pub copied: usize,
    pub unchanged: usize,
    /// Generations pruned (older than `keep_days`) and versions no kept generation names.
    pub generations_pruned: usize,
    pub versions_pruned: usize,
    pub bytes: u64,
    pub live_model: Option<String>,
}

fn generation_key(day: &str) -> String {
    format!("{GENERATIONS}{day}.json")
}

/// Every generation day in the store, oldest first.
async fn days(dest: &Lake) -> Result<Vec<String>, BackupError> {
    let mut out: Vec<String> = dest
        .list(GENERATIONS)
        .await?
        .into_iter()
        .filter_map(|(k, _)| {
            k.strip_prefix(GENERATIONS)?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .collect();
    out.sort();
    Ok(out)
}

async fn read_generation(dest: &Lake, day: &str) -> Result<Generation, BackupError> {
    let body = dest.get(&generation_key(day)).await?;
    serde_json::from_slice(&body)
        .map_err(|e| BackupError::Manifest(format!("{} is damaged: {e}", generation_key(day))))
}

/// Copies the objects of `source` (backup keys `side/…`) into the generation, storing only
/// versions the previous generation does not already hold.
async fn copy_side(
    source: &Lake,
    side: &str,
    dest: &Lake,
    previous: &Generation,
    next: &mut Generation,
    report: &mut BackupReport,
) -> Result<(), BackupError> {
    let mut objects = source.list("").await?;
    // `models/latest.json` (and any other pointer) after the objects it names.
    objects.sort_by_key(|(k, _)| (k.ends_with("latest.json"), k.clone()));
    for (key, meta) in objects {
        let bkey = format!("{side}/{key}");
        report.objects += 1;
        let version = format!(
            "{OBJECTS}{bkey}@{}-{}",
            meta.last_modified.timestamp_millis(),
            meta.size
        );
        if previous.objects.get(&bkey) == Some(&version) && dest.head(&version).await?.is_some() {
            report.unchanged += 1;
        } else {
            let body = source.get(&key).await?;
            report.bytes += body.len() as u64;
            dest.put(&version, body).await?;
            report.copied += 1;
        }
        next.objects.insert(bkey, version);
    }
    Ok(())
}

/// Backs up the lake and the models store into `dest` as today's generation, then prunes
/// generations older than `keep_days` and the versions only they named.
pub async fn backup(
    lake: &Lake,
    models: Option<&Lake>,
    dest: &Lake,
    now_ms: i64,
    keep_days: u32,
) -> Result<BackupReport, BackupError> {
    let day = shared::time::date_of(now_ms);
    let existing = days(dest).await?;
    let previous = match existing.last() {
        Some(d) => read_generation(dest, d).await?,
        None => Generation::default(),
    };
    let mut next = Generation {
        written_at: now_ms,
        objects: BTreeMap::new(),
    };
    let mut report = BackupReport {
        generation: day.clone(),
        ..BackupReport::default()
    };
    copy_side(lake, "lake", dest, &previous, &mut next, &mut report).await?;
    if let Some(m) = models {
        copy_side(m, "models", dest, &previous, &mut next, &mut report).await?;
        report.live_model = live_version(m).await?;
    }
    let body =
        serde_json::to_vec_pretty(&next).map_err(|e| BackupError::Manifest(e.to_string()))?;
    dest.put(&generation_key(&day), body).await?;
    prune(dest, now_ms, keep_days, &mut report).await?;
    Ok(report)
}

/// Drops generations older than `keep_days` (never the newest) and unreferenced versions.
async fn prune(
    dest: &Lake,
    now_ms: i64,
    keep_days: u32,
    report: &mut BackupReport,
) -> Result<(), BackupError> {
    let cutoff = shared::time::date_of(now_ms - i64::from(keep_days) * shared::time::DAY_MS);
    let all = days(dest).await?;
    let newest = all.last().cloned();
    let mut kept = BTreeSet::new();
    for d in &all {
        if d.as_str() < cutoff.as_str() && Some(d) != newest.as_ref() {
            dest.delete(&generation_key(d)).await?;
            report.generations_pruned += 1;
        } else {
            kept.extend(read_generation(dest, d).await?.objects.into_values());
        }
    }
    for (key, _) in dest.list(OBJECTS).await? {
        if !kept.contains(&key) {
            dest.delete(&key).await?;
            report.versions_pruned += 1;
        }
    }
    Ok(())
}

async fn live_version(models: &Lake) -> Result<Option<String>, BackupError> {
    let live = crate::lake::models_store::live(models)
        .await
        .map_err(|e| BackupError::Verify(e.to_string()))?;
    Ok(live.map(|m| m.version))
}

/// Restores the newest generation on or before `at` (`YYYY-MM-DD`; default: the newest) into
/// the (empty, unless `force`) lake and models store.
pub async fn restore(
    from: &Lake,
    lake: &Lake,
    models: Option<&Lake>,
    at: Option<&str>,
    force: bool,
) -> Result<BackupReport, BackupError> {
    if let Some(d) = at
        && shared::time::parse_date(d).is_none()
    {
        return Err(BackupError::BadDay(d.to_owned()));
    }
    let day = days(from)
        .await?
        .into_iter()
        .rfind(|d| at.is_none_or(|a| d.as_str() <= a))
        .ok_or_else(|| {
            BackupError::NoBackup(at.map(|a| format!(" on or before {a}")).unwrap_or_default())
        })?;
    let generation = read_generation(from, &day).await?;
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
    let mut report = BackupReport {
        generation: day,
        ..BackupReport::default()
    };
    let mut entries: Vec<(&String, &String)> = generation.objects.iter().collect();
    entries.sort_by_key(|(k, _)| (k.ends_with("latest.json"), (*k).clone()));
    for (bkey, version) in entries {
        report.objects += 1;
        let (target, key) = match bkey.split_once('/') {
            Some(("lake", k)) => (Some(lake), k),
            Some(("models", k)) => (models, k),
            _ => (None, bkey.as_str()),
        };
        let Some(target) = target else { continue };
        let body = from.get(version).await?;
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

    const DAY: i64 = shared::time::DAY_MS;
    const T0: i64 = 1_790_000_000_000;

    async fn keys(l: &Lake) -> Vec<String> {
        l.list("")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[tokio::test]
    async fn yesterdays_generation_survives_todays_deletion_and_corruption() {
        let lake = Lake::open("memory://").unwrap();
        let dest = Lake::open("memory://").unwrap();
        lake.put("raw/events/dt=2026-01-01/a.ndjson", "a\n")
            .await
            .unwrap();
        lake.put("tables/t/part-0.parquet", "t").await.unwrap();
        lake.put("raw/events/dt=2026-01-02/b.ndjson", "b\n")
            .await
            .unwrap();
        let first = backup(&lake, None, &dest, T0, 30).await.unwrap();
        assert_eq!((first.objects, first.copied), (3, 3));
        let again = backup(&lake, None, &dest, T0 + 1000, 30).await.unwrap();
        assert_eq!((again.copied, again.unchanged), (0, 3), "incremental");
        // The next day: a file deleted, a table overwritten with garbage.
        lake.delete("raw/events/dt=2026-01-02/b.ndjson")
            .await
            .unwrap();
        lake.put("tables/t/part-0.parquet", "corrupt")
            .await
            .unwrap();
        let second = backup(&lake, None, &dest, T0 + DAY, 30).await.unwrap();
        assert_eq!(second.copied, 1, "{second:?}");

        let yesterday = shared::time::date_of(T0);
        let fresh = Lake::open("memory://").unwrap();
        let r = restore(&dest, &fresh, None, Some(&yesterday), false)
            .await
            .unwrap();
        assert_eq!((r.generation.as_str(), r.copied), (yesterday.as_str(), 3));
        assert_eq!(
            fresh.get("tables/t/part-0.parquet").await.unwrap().as_ref(),
            b"t",
            "yesterday's table, not today's corruption"
        );
        assert!(
            fresh
                .head("raw/events/dt=2026-01-02/b.ndjson")
                .await
                .unwrap()
                .is_some()
        );
        // The newest generation is today's state.
        let today = Lake::open("memory://").unwrap();
        restore(&dest, &today, None, None, false).await.unwrap();
        assert_eq!(keys(&today).await, keys(&lake).await);
        assert!(matches!(
            restore(&dest, &today, None, None, false).await,
            Err(BackupError::NotEmpty { .. })
        ));
        let empty = Lake::open("memory://").unwrap();
        assert!(matches!(
            restore(&empty, &today, None, None, true).await,
            Err(BackupError::NoBackup(_))
        ));
        assert!(matches!(
            restore(&dest, &empty, None, Some("2001-01-01"), false).await,
            Err(BackupError::NoBackup(_))
        ));

        // Forty days on, only generations within the retention (and the newest) remain, and the
        // versions only old generations named are gone.
        let later = backup(&lake, None, &dest, T0 + 40 * DAY, 30).await.unwrap();
        assert_eq!(later.generations_pruned, 2, "{later:?}");
        assert!(later.versions_pruned >= 2, "{later:?}");
        assert_eq!(days(&dest).await.unwrap().len(), 1);
    }
}
