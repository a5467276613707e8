//! Compaction: raw NDJSON under `raw/` becomes the deduplicated, Hive-partitioned Parquet tables
//! under `tables/`.
//!
//! Each `dt` partition is rebuilt from all of its raw files whenever that file set changes, and
//! is skipped otherwise. The partition file is written first and its state record second, so a
//! run killed half-way redoes that partition next time; output depends only on the raw files, so
//! a re-run from scratch gives byte-identical tables.
//!
//! A partition is built by the hand-written path here (parse on all cores, dedup by sorting
//! small keys) or, on a cluster, by a DataFusion plan ([`crate::lake::compact_plan`]); this file
//! owns what both share: which partitions changed, the erasure list, writing the table file,
//! the quarantine and the state record.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::gdpr::ErasureList;
use shared::ingest::Quarantined;
use shared::{Event, lake};

use crate::lake::compact_plan;
use crate::lake::engine::{Engine, EngineUrl};
use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::products::{self, Product};
use crate::lake::store::{Lake, StoreError};
use crate::progress;

/// Compaction failures.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error("building a record batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("a reader task failed: {0}")]
    Task(String),
    #[error("state record `{key}` is not valid JSON: {source}")]
    State {
        key: String,
        source: serde_json::Error,
    },
    #[error("reading the erasure list: {0}")]
    Erasures(String),
    #[error("connecting the compaction's engine: {0}")]
    Plan(String),
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
    /// Raw lines of erased people (older than their erasure) left out.
    pub erased: usize,
    pub partitions_written: usize,
    /// Of those, built by the DataFusion plan ([`Compactor::Plan`]).
    pub partitions_by_plan: usize,
    pub partitions_unchanged: usize,
    pub products: usize,
    pub seconds: f64,
}

fn state_key(dt: &str) -> String {
    lake::events_state_key(dt)
}

const PRODUCTS_STATE: &str = lake::STATE_PRODUCTS;

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

/// How the partitions are built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Compactor {
    /// The hand-written path in this process (the faster one on one machine: `docs/lake.md`).
    #[default]
    Native,
    /// A DataFusion plan on the engine ([`crate::lake::compact_plan`]).
    Plan(EngineUrl),
}

impl Compactor {
    /// What a night on `engine` uses: the hand-written path for the embedded engine, the plan on
    /// a cluster.
    pub fn for_engine(engine: &EngineUrl) -> Self {
        match engine {
            EngineUrl::Local => Self::Native,
            EngineUrl::Ballista(_) => Self::Plan(engine.clone()),
        }
    }
}

/// One partition, built and not yet written.
#[derive(Debug, Default)]
pub struct Built {
    pub batches: Vec<arrow_array::RecordBatch>,
    pub bad: Vec<Quarantined>,
    /// Events kept.
    pub rows: usize,
    pub duplicates: usize,
    /// Lines read that were events or refused (erased and blank lines not counted).
    pub events_in: usize,
    pub erased: usize,
}

/// Runs the hand-written compaction over the whole lake.
pub async fn compact(lake: &Lake) -> Result<CompactReport, CompactError> {
    compact_using(lake, &Compactor::Native).await
}

/// Runs compaction over the whole lake, building changed partitions with `how`.
pub async fn compact_using(lake: &Lake, how: &Compactor) -> Result<CompactReport, CompactError> {
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
    // Late data of erased people (a pull, a redelivered batch, a replayed dead letter) never
    // reaches the tables.
    let erasures = crate::privacy::erase::erasure_list(lake)
        .await
        .map_err(|e| CompactError::Erasures(e.to_string()))?;
    let engine = match how {
        Compactor::Native => None,
        Compactor::Plan(url) => Some(
            Engine::connect(lake, url)
                .await
                .map_err(|e| CompactError::Plan(e.to_string()))?,
        ),
    };
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
        let phase = Instant::now();
        let keys: Vec<String> = sources.iter().map(|(k, _)| k.clone()).collect();
        let planned = match &engine {
            None => None,
            Some(engine) => match compact_plan::build(engine, lake, &dt, &erasures).await {
                Ok(b) => Some(b),
                // e.g. a control byte in a broken line that the plan's line reader refuses
                Err(e) => {
                    tracing::warn!(dt, error = %e, "the compaction plan failed; building the partition here");
                    None
                }
            },
        };
        report.partitions_by_plan += usize::from(planned.is_some());
        let built = match planned {
            Some(b) => b,
            None => build_native(lake, &keys, &erasures).await?,
        };
        report.raw_files_read += keys.len();
        crate::lake::quarantine::write(
            lake,
            &lake::quarantine_key(&dt, "compact-unparseable"),
            &built.bad,
        )
        .await?;
        let file = parquet_io::encode(
            crate::lake::events_table::schema(),
            &built.batches,
            &out_key,
        )?;
        lake.put(&out_key, file).await?;
        let state = PartitionState {
            sources,
            rows: built.rows,
            duplicates: built.duplicates,
            quarantined: built.bad.len(),
        };
        let state_json =
            serde_json::to_vec_pretty(&state).map_err(|source| CompactError::State {
                key: state_key(&dt),
                source,
            })?;
        lake.put(&state_key(&dt), state_json).await?;
        tracing::info!(
            dt,
            seconds = phase.elapsed().as_secs_f64(),
            rows = built.rows,
            duplicates = built.duplicates,
            quarantined = built.bad.len(),
            "partition written"
        );
        report.events_in += built.events_in;
        report.events_out += built.rows;
        report.duplicates_removed += built.duplicates;
        report.quarantined += built.bad.len();
        report.erased += built.erased;
        report.partitions_written += 1;
    }
    bar.finish_and_clear();
    report.products = compact_products(lake).await?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// The hand-written path: parse on all cores, dedup by sorting small keys, build row groups.
async fn build_native(
    lake: &Lake,
    keys: &[String],
    erasures: &ErasureList,
) -> Result<Built, CompactError> {
    let mut bodies = read_all(lake, keys).await?;
    let mut erased = 0;
    if !erasures.is_empty() {
        for b in &mut bodies {
            if let Some((kept, n)) = erasures.suppress(&String::from_utf8_lossy(b)) {
                *b = bytes::Bytes::from(kept);
                erased += n;
            }
        }
    }
    let (pieces, bad) = parse(keys, &bodies);
    drop(bodies);
    let parsed: usize = pieces.iter().map(Vec::len).sum();
    let order = dedup_order(&pieces);
    let rows = order.len();
    let batches = to_batches(pieces, &order)?;
    Ok(Built {
        batches,
        rows,
        duplicates: parsed - rows,
        events_in: parsed + bad.len(),
        erased,
        bad,
    })
}

/// Row-group batches of the events table in `order`, built on all cores a few row groups at a
/// time; each event's memory is released as soon as its row group is columnar.
fn to_batches(
    pieces: Vec<Vec<Event>>,
    order: &[(u32, u32)],
) -> Result<Vec<arrow_array::RecordBatch>, CompactError> {
    let threads = crate::parallel::threads();
    let mut slots: Vec<Vec<Option<Event>>> = pieces
        .into_iter()
        .map(|p| p.into_iter().map(Some).collect())
        .collect();
    let mut out = Vec::with_capacity(order.len().div_ceil(parquet_io::ROW_GROUP_ROWS));
    for round in order.chunks(parquet_io::ROW_GROUP_ROWS * threads) {
        let groups: Vec<Vec<Event>> = round
            .chunks(parquet_io::ROW_GROUP_ROWS)
            .map(|g| {
                g.iter()
                    .filter_map(|&(p, o)| slots[p as usize][o as usize].take())
                    .collect()
            })
            .collect();
        let built: Vec<Result<arrow_array::RecordBatch, arrow_schema::ArrowError>> =
            std::thread::scope(|s| {
                let handles: Vec<_> = groups
                    .iter()
                    .map(|g| s.spawn(move || crate::lake::events_table::to_batch(g)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(arrow_schema::ArrowError::ComputeError(
                                "batch builder panicked".into(),
                            ))
                        })
                    })
                    .collect()
            });
        for b in built {
            out.push(b?);
        }
    }
    Ok(out)
}

/// Parses NDJSON bodies; lines that are not events are returned as quarantine records.
/// The bodies are cut at line ends into pieces of about [`PIECE_BYTES`] that all cores take in
/// turn; results are put back in file and line order, so output is deterministic.
fn parse(keys: &[String], bodies: &[bytes::Bytes]) -> (Vec<Vec<Event>>, Vec<Quarantined>) {
    let pieces = pieces(bodies);
    let threads = crate::parallel::threads().min(pieces.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let parsed: Vec<Vec<(usize, ParsedPiece)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(p) = pieces.get(i) else { break };
                        out.push((
                            i,
                            parse_piece(
                                &keys[p.file],
                                &bodies[p.file][p.bytes.clone()],
                                p.first_line,
                            ),
                        ));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<(usize, ParsedPiece)> = parsed.into_iter().flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    let mut events = Vec::with_capacity(all.len());
    let mut bad = Vec::new();
    for (_, (e, q)) in all {
        events.push(e);
        bad.extend(q);
    }
    (events, bad)
}

/// Bytes per parse piece.
const PIECE_BYTES: usize = 4 * 1024 * 1024;

type ParsedPiece = (Vec<Event>, Vec<Quarantined>);

/// A run of whole lines of one body.
struct Piece {
    file: usize,
    bytes: std::ops::Range<usize>,
    /// Index of the piece's first line within its file.
    first_line: usize,
}

fn pieces(bodies: &[bytes::Bytes]) -> Vec<Piece> {
    let mut out = Vec::new();
    for (file, body) in bodies.iter().enumerate() {
        let mut start = 0usize;
        let mut line = 0usize;
        while start < body.len() {
            let mut end = (start + PIECE_BYTES).min(body.len());
            while end < body.len() && body[end - 1] != b'\n' {
                end += 1;
            }
            out.push(Piece {
                file,
                bytes: start..end,
                first_line: line,
            });
            line += body[start..end].iter().filter(|&&b| b == b'\n').count();
            start = end;
        }
    }
    out
}

fn parse_piece(key: &str, body: &[u8], first_line: usize) -> ParsedPiece {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    let text = String::from_utf8_lossy(body);
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let index = first_line + n;
        match serde_json::from_str::<Event>(line) {
            Ok(e) => events.push(e),
            Err(e) => bad.push(Quarantined {
                received_at: 0,
                index,
                event_id: None,
                field: key.to_owned(),
                code: "unparseable_line".into(),
                message: format!("line {} of {key} is not an event: {e}", index + 1),
                raw: Value::String(line.chars().take(16 * 1024).collect()),
            }),
        }
    }
    (events, bad)
}

/// The dedup key's hash: an event id counts per shopper, so one shopper cannot knock out
/// another's event by reusing its id.
fn dedup_hash(e: &Event) -> u64 {
    shared::hash::fnv1a(&format!("{}\u{1f}{}", e.shopper(), e.event_id))
}

/// Which events to keep and in what order: one per (shopper, id), the earliest received copy (ties: the
/// first seen), sorted by time, then id. Returns `(piece, offset)` positions.
///
/// Sorts small keys (id hash, received time, position) rather than the events themselves, so
/// a partition of millions of events is never moved as a whole.
fn dedup_order(pieces: &[Vec<Event>]) -> Vec<(u32, u32)> {
    let at = |(p, o): (u32, u32)| &pieces[p as usize][o as usize];
    let mut keys: Vec<(u64, i64, u32, u32)> = Vec::with_capacity(pieces.iter().map(Vec::len).sum());
    for (p, piece) in (0u32..).zip(pieces) {
        for (o, e) in (0u32..).zip(piece) {
            keys.push((dedup_hash(e), e.received_at.unwrap_or(i64::MAX), p, o));
        }
    }
    keys.sort_unstable();
    let mut kept: Vec<(i64, u32, u32)> = Vec::with_capacity(keys.len());
    let mut run = 0usize;
    while run < keys.len() {
        let hash = keys[run].0;
        let end = keys[run..]
            .iter()
            .position(|k| k.0 != hash)
            .map_or(keys.len(), |n| run + n);
        // Within one hash (almost always one id), the first key of each distinct (shopper, id)
        // wins: keys are ordered by received time, then position.
        let mut ids: Vec<(&str, &str)> = Vec::new();
        for &(_, _, p, o) in &keys[run..end] {
            let e = at((p, o));
            let id = (e.shopper(), e.event_id.as_str());
            if !ids.contains(&id) {
                ids.push(id);
                kept.push((e.timestamp, p, o));
            }
        }
        run = end;
    }
    drop(keys);
    kept.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| at((a.1, a.2)).event_id.cmp(&at((b.1, b.2)).event_id))
    });
    kept.into_iter().map(|(_, p, o)| (p, o)).collect()
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
            match serde_json::from_str::<products::Record>(line) {
                Ok(r) if !r.product.id.is_empty() => records.push(r),
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
                crate::lake::events_table::from_batch(&b).map_err(|e| ParquetIoError::Parquet {
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

    #[test]
    fn parsing_in_pieces_keeps_line_order_and_numbers() {
        let mut lines: Vec<String> = (0..120_000)
            .map(|i| line(&format!("e{i}"), DAY1 + i, 1, "item"))
            .collect();
        lines[90_000] = "{broken".into();
        let body = bytes::Bytes::from(lines.join("\r\n"));
        assert!(body.len() > 2 * PIECE_BYTES);
        let (pieces, bad) = parse(&["raw/x.ndjson".to_owned()], &[body]);
        assert!(pieces.len() > 2);
        let events: Vec<Event> = pieces.into_iter().flatten().collect();
        assert_eq!(events.len(), 119_999);
        assert_eq!(events[89_999].event_id, "e89999");
        assert_eq!(events[90_000].event_id, "e90001");
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].index, 90_000);
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
    async fn the_plan_builds_the_same_table_as_the_hand_written_path() {
        let mut lakes = Vec::new();
        for _ in 0..2 {
            let lake = lake_with_raw().await;
            let more = [
                String::new(),
                "{broken".to_owned(),
                "   ".to_owned(),
                json!({"event_id": "g1", "type": "view", "user_id": "gone", "session_id": "s",
                       "timestamp": DAY1 + 8, "item_id": "i8"})
                .to_string(),
                line("e4", DAY1 + 2, 13, "i4"),
                line("e4", DAY1 + 2, 13, "i4"),
            ]
            .join("\n");
            lake.put("raw/events/dt=2026-09-22/c.ndjson", more)
                .await
                .unwrap();
            let erased = json!([{"job_id": "j", "identities": ["gone"],
                                 "erased_at": DAY1 + 1_000, "whole_shop": false}]);
            lake.put(lake::GDPR_ERASED, erased.to_string())
                .await
                .unwrap();
            lakes.push(lake);
        }
        let native = compact(&lakes[0]).await.unwrap();
        let planned = compact_using(&lakes[1], &Compactor::Plan(EngineUrl::Local))
            .await
            .unwrap();
        assert_eq!(planned.partitions_by_plan, 1);
        let counts = |r: &CompactReport| {
            (
                r.events_in,
                r.events_out,
                r.duplicates_removed,
                r.quarantined,
                r.erased,
            )
        };
        assert_eq!(counts(&native), (8, 4, 2, 2, 1));
        assert_eq!(counts(&planned), counts(&native));
        // The same rows in the same order, hence the same file, byte for byte.
        let key = "tables/events/dt=2026-09-22/part-0.parquet";
        assert_eq!(
            lakes[1].get(key).await.unwrap(),
            lakes[0].get(key).await.unwrap()
        );
        let q = lakes[1]
            .get("raw/quarantine/dt=2026-09-22/compact-unparseable.ndjson")
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&q)
                .matches("unparseable_line")
                .count(),
            2
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
