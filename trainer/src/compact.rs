//! Compaction: raw NDJSON under `raw/` becomes the deduplicated, Hive-partitioned Parquet tables
//! under `tables/`.
//!
//! Each `dt` partition is rebuilt from all of its raw files whenever that file set changes, and
//! is skipped otherwise. The partition file is written first and its state record second, so a
//! run killed half-way redoes that partition next time; output depends only on the raw files, so
//! a re-run from scratch gives byte-identical tables.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::ingest::Quarantined;
use shared::{Event, lake};

use crate::parquet_io::{self, ParquetIoError};
use crate::products::{self, Product};
use crate::progress;
use crate::store::{Lake, StoreError};

/// Compaction failures.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error("building a record batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("state record `{key}` is not valid JSON: {source}")]
    State {
        key: String,
        source: serde_json::Error,
    },
}

/// What a partition was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartitionState {
    pub sources: Vec<(String, u64)>,
    pub rows: usize,
    pub duplicates: usize,
    pub quarantined: usize,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CompactReport {
    pub raw_files_read: usize,
    pub events_in: usize,
    pub events_out: usize,
    pub duplicates_removed: usize,
    pub quarantined: usize,
    pub partitions_written: usize,
    pub partitions_unchanged: usize,
    pub products: usize,
    pub seconds: f64,
}

fn state_key(dt: &str) -> String {
    format!("tables/_state/events/dt={dt}.json")
}

const PRODUCTS_STATE: &str = "tables/_state/products.json";

async fn read_state(lake: &Lake, key: &str) -> Result<Option<PartitionState>, CompactError> {
    match lake.get_opt(key).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|source| CompactError::State {
                key: key.to_owned(),
                source,
            }),
    }
}

/// Reads several objects concurrently, in key order.
async fn read_all(lake: &Lake, keys: &[String]) -> Result<Vec<bytes::Bytes>, StoreError> {
    futures::stream::iter(keys.iter().map(|k| lake.get(k)))
        .buffered(8)
        .try_collect()
        .await
}

/// Runs compaction over the whole lake.
pub async fn compact(lake: &Lake) -> Result<CompactReport, CompactError> {
    let started = Instant::now();
    let mut report = CompactReport::default();
    let mut partitions: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for (key, meta) in lake.list(lake::RAW_EVENTS).await? {
        match lake::partition_of(&key) {
            Some(dt) if key.ends_with(".ndjson") => partitions
                .entry(dt.to_owned())
                .or_default()
                .push((key, meta.size)),
            _ => tracing::warn!(
                key,
                "not a raw event file (expected raw/events/dt=YYYY-MM-DD/*.ndjson); skipped"
            ),
        }
    }
    let bar = progress::bar(partitions.len() as u64, "compacting partitions");
    for (dt, sources) in partitions {
        bar.inc(1);
        let out_key = lake::events_partition_key(&dt);
        let done = read_state(lake, &state_key(&dt))
            .await?
            .is_some_and(|s| s.sources == sources);
        if done && lake.head(&out_key).await?.is_some() {
            report.partitions_unchanged += 1;
            continue;
        }
        let keys: Vec<String> = sources.iter().map(|(k, _)| k.clone()).collect();
        let bodies = read_all(lake, &keys).await?;
        report.raw_files_read += bodies.len();
        let (events, bad) = parse(&keys, &bodies);
        let n_in = events.len() + bad.len();
        let events = dedup(events);
        let duplicates = n_in - bad.len() - events.len();
        if !bad.is_empty() {
            let body: String = bad
                .iter()
                .filter_map(|q| serde_json::to_string(q).ok())
                .map(|l| l + "\n")
                .collect();
            lake.put(&lake::quarantine_key(&dt, "compact-unparseable"), body)
                .await?;
        }
        let batches = events
            .chunks(parquet_io::ROW_GROUP_ROWS)
            .map(crate::events_table::to_batch)
            .collect::<Result<Vec<_>, _>>()?;
        let file = parquet_io::encode(crate::events_table::schema(), &batches, &out_key)?;
        lake.put(&out_key, file).await?;
        let state = PartitionState {
            sources,
            rows: events.len(),
            duplicates,
            quarantined: bad.len(),
        };
        let state_json =
            serde_json::to_vec_pretty(&state).map_err(|source| CompactError::State {
                key: state_key(&dt),
                source,
            })?;
        lake.put(&state_key(&dt), state_json).await?;
        tracing::info!(
            dt,
            rows = events.len(),
            duplicates,
            quarantined = bad.len(),
            "partition written"
        );
        report.events_in += n_in;
        report.events_out += events.len();
        report.duplicates_removed += duplicates;
        report.quarantined += bad.len();
        report.partitions_written += 1;
    }
    bar.finish_and_clear();
    report.products = compact_products(lake).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Parses NDJSON bodies; lines that are not events are returned as quarantine records.
/// Parses raw files on all cores; results keep file order, so output is deterministic.
fn parse(keys: &[String], bodies: &[bytes::Bytes]) -> (Vec<Event>, Vec<Quarantined>) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per = keys.len().div_ceil(threads).max(1);
    let parts: Vec<(Vec<Event>, Vec<Quarantined>)> = std::thread::scope(|s| {
        let handles: Vec<_> = keys
            .chunks(per)
            .zip(bodies.chunks(per))
            .map(|(k, b)| s.spawn(move || parse_files(k, b)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (e, q) in parts {
        events.extend(e);
        bad.extend(q);
    }
    (events, bad)
}

fn parse_files(keys: &[String], bodies: &[bytes::Bytes]) -> (Vec<Event>, Vec<Quarantined>) {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for (key, body) in keys.iter().zip(bodies) {
        let text = String::from_utf8_lossy(body);
        for (index, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<Event>(line) {
                Ok(e) => events.push(e),
                Err(e) => bad.push(Quarantined {
                    received_at: 0,
                    index,
                    event_id: None,
                    field: key.clone(),
                    code: "unparseable_line".into(),
                    message: format!("line {} of {key} is not an event: {e}", index + 1),
                    raw: Value::String(line.chars().take(16 * 1024).collect()),
                }),
            }
        }
    }
    (events, bad)
}

/// One event per id: the earliest received copy (ties: the first seen); sorted by time, then id.
fn dedup(events: Vec<Event>) -> Vec<Event> {
    let mut best: HashMap<String, Event> = HashMap::with_capacity(events.len());
    for e in events {
        let received = e.received_at.unwrap_or(i64::MAX);
        match best.get(&e.event_id) {
            Some(old) if old.received_at.unwrap_or(i64::MAX) <= received => {}
            _ => {
                best.insert(e.event_id.clone(), e);
            }
        }
    }
    let mut out: Vec<Event> = best.into_values().collect();
    out.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then_with(|| a.event_id.cmp(&b.event_id))
    });
    out
}

async fn compact_products(lake: &Lake) -> Result<usize, CompactError> {
    let sources: Vec<(String, u64)> = lake
        .list(lake::RAW_PRODUCTS)
        .await?
        .into_iter()
        .filter(|(k, _)| k.ends_with(".ndjson"))
        .map(|(k, m)| (k, m.size))
        .collect();
    if sources.is_empty() {
        return Ok(0);
    }
    if let Some(state) = read_state(lake, PRODUCTS_STATE).await?
        && state.sources == sources
        && lake.head(lake::TABLE_PRODUCTS).await?.is_some()
    {
        return Ok(state.rows);
    }
    let keys: Vec<String> = sources.iter().map(|(k, _)| k.clone()).collect();
    let mut records = Vec::new();
    let mut bad = 0usize;
    for (key, body) in keys.iter().zip(read_all(lake, &keys).await?) {
        for line in String::from_utf8_lossy(&body)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            match serde_json::from_str::<Product>(line) {
                Ok(p) if !p.id.is_empty() => records.push(p),
                _ => {
                    bad += 1;
                    tracing::warn!(key, "unreadable product record skipped");
                }
            }
        }
    }
    let merged = products::merge(records);
    let batch = products::to_batch(&merged)?;
    let file = parquet_io::encode(products::schema(), &[batch], lake::TABLE_PRODUCTS)?;
    lake.put(lake::TABLE_PRODUCTS, file).await?;
    let state = PartitionState {
        sources,
        rows: merged.len(),
        duplicates: 0,
        quarantined: bad,
    };
    let json = serde_json::to_vec_pretty(&state).map_err(|source| CompactError::State {
        key: PRODUCTS_STATE.into(),
        source,
    })?;
    lake.put(PRODUCTS_STATE, json).await?;
    Ok(merged.len())
}

/// Reads every event of the events table (all partitions), optionally projected.
pub async fn read_events(lake: &Lake, columns: &[&str]) -> Result<Vec<Event>, CompactError> {
    let mut out = Vec::new();
    for (key, _) in lake.list(lake::TABLE_EVENTS).await? {
        if !key.ends_with(".parquet") {
            continue;
        }
        parquet_io::for_each_batch(lake, &key, columns, |b| {
            let events =
                crate::events_table::from_batch(&b).map_err(|e| ParquetIoError::Parquet {
                    key: key.clone(),
                    source: parquet::errors::ParquetError::General(e.to_string()),
                })?;
            out.extend(events);
            Ok(())
        })
        .await?;
    }
    Ok(out)
}

/// Reads the products table (empty when there is none).
pub async fn read_products(lake: &Lake) -> Result<Vec<Product>, CompactError> {
    if lake.head(lake::TABLE_PRODUCTS).await?.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    parquet_io::for_each_batch(lake, lake::TABLE_PRODUCTS, &[], |b| {
        out.extend(
            products::from_batch(&b).map_err(|e| ParquetIoError::Parquet {
                key: lake::TABLE_PRODUCTS.into(),
                source: parquet::errors::ParquetError::General(e.to_string()),
            })?,
        );
        Ok(())
    })
    .await?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(id: &str, ts: i64, received: i64, item: &str) -> String {
        json!({"event_id": id, "type": "view", "anonymous_id": "a", "session_id": "s", "timestamp": ts,
               "item_id": item, "received_at": received})
        .to_string()
    }

    const DAY1: i64 = 1_790_035_200_000; // 2026-09-22T00:00:00Z

    async fn lake_with_raw() -> Lake {
        let lake = Lake::open("memory://").unwrap();
        let f1 = [
            line("e1", DAY1 + 5, 10, "i1"),
            line("e2", DAY1 + 1, 11, "i2"),
        ]
        .join("\n");
        let f2 = [
            line("e1", DAY1 + 5, 9, "i1-retry"),
            "{broken".to_owned(),
            line("e3", DAY1 + 3, 12, "i3"),
        ]
        .join("\n");
        lake.put("raw/events/dt=2026-09-22/a.ndjson", f1)
            .await
            .unwrap();
        lake.put("raw/events/dt=2026-09-22/b.ndjson", f2)
            .await
            .unwrap();
        lake
    }

    #[tokio::test]
    async fn dedups_quarantines_and_sorts() {
        let lake = lake_with_raw().await;
        let r = compact(&lake).await.unwrap();
        assert_eq!(
            (
                r.events_in,
                r.events_out,
                r.duplicates_removed,
                r.quarantined
            ),
            (5, 3, 1, 1)
        );
        let events = read_events(&lake, &[]).await.unwrap();
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(ids, ["e2", "e3", "e1"]);
        // The earliest received copy of e1 wins.
        assert_eq!(events[2].item_id.as_deref(), Some("i1-retry"));
        let q = lake
            .get("raw/quarantine/dt=2026-09-22/compact-unparseable.ndjson")
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&q).contains("unparseable_line"));
    }

    #[tokio::test]
    async fn rerun_is_a_no_op_and_rebuild_is_identical() {
        let lake = lake_with_raw().await;
        compact(&lake).await.unwrap();
        let first = lake
            .get("tables/events/dt=2026-09-22/part-0.parquet")
            .await
            .unwrap();
        let again = compact(&lake).await.unwrap();
        assert_eq!(
            (again.partitions_written, again.partitions_unchanged),
            (0, 1)
        );
        // Lose the table and its state (a crash before the state was written): rebuilt identically.
        lake.delete("tables/_state/events/dt=2026-09-22.json")
            .await
            .unwrap();
        let rebuilt = compact(&lake).await.unwrap();
        assert_eq!(rebuilt.partitions_written, 1);
        assert_eq!(
            lake.get("tables/events/dt=2026-09-22/part-0.parquet")
                .await
                .unwrap(),
            first
        );
    }

    #[tokio::test]
    async fn a_late_file_rebuilds_only_its_partition() {
        let lake = lake_with_raw().await;
        lake.put(
            "raw/events/dt=2026-09-23/c.ndjson",
            line("e9", DAY1 + 86_400_000, 1, "i9"),
        )
        .await
        .unwrap();
        compact(&lake).await.unwrap();
        lake.put(
            "raw/events/dt=2026-09-22/late.ndjson",
            line("e7", DAY1 + 7, 50, "i7"),
        )
        .await
        .unwrap();
        let r = compact(&lake).await.unwrap();
        assert_eq!((r.partitions_written, r.partitions_unchanged), (1, 1));
        assert_eq!(
            read_events(&lake, &["event_id", "event_type", "ts"])
                .await
                .unwrap()
                .len(),
            5
        );
    }

    #[tokio::test]
    async fn products_are_compacted() {
        let lake = Lake::open("memory://").unwrap();
        let recs = [
            json!({"id": "p1", "title": "Old", "updated_at": 1}),
            json!({"id": "p1", "title": "New", "updated_at": 2}),
            json!({"id": "p2", "title": "Two"}),
        ];
        let body: String = recs.iter().map(|r| format!("{r}\n")).collect();
        lake.put("raw/products/shop.ndjson", body + "not json\n")
            .await
            .unwrap();
        assert_eq!(compact(&lake).await.unwrap().products, 2);
        let p = read_products(&lake).await.unwrap();
        assert_eq!(p[0].title, "New");
    }
}
