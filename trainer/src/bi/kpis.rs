//! `trainer kpis`: the BI tables under `tables/kpi/`, computed with SQL (DataFusion, [`engine`])
//! from the lake's tables ([`queries`]). Daily tables are written one Hive partition per day
//! (`tables/kpi/<table>/dt=YYYY-MM-DD/part-0.parquet`, the `dt` column in the path only), so
//! re-running a day replaces exactly that day's files; a day without events gets zero-row files
//! and a `data_quality` note instead of failing the run. Customer segments and demand forecasts
//! ([`ml`]) are modelled over the whole lake and replace one file each.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMillisecondBuilder};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::NaiveDate;
use datafusion::arrow::compute::{cast, concat_batches};
use serde::Serialize;

use crate::lake::compact::PartitionState;

use crate::lake::store::Lake;

use super::output::write;
pub use super::output::{KpiError, MAX_DAYS};
use super::{dashboard, ml, queries};
use crate::lake::engine::{Engine, EngineUrl};

/// Which days to (re)compute.
#[derive(Debug, Clone, Default)]
pub struct KpiOptions {
    /// First day, `YYYY-MM-DD`; default: the first day with events.
    pub from: Option<String>,
    /// Last day; default: the last day with events.
    pub to: Option<String>,
    /// Without `from`: only this many days ending at `to` (the nightly run recomputes the
    /// attribution window, not the whole history).
    pub last_days: Option<usize>,
    /// When the run happened, epoch ms (recorded in `data_quality`).
    pub now_ms: i64,
    /// Where the SQL runs.
    pub engine: EngineUrl,
}

/// One table's output.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: &'static str,
    pub rows: usize,
    pub files: usize,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    pub from: Option<String>,
    pub to: Option<String>,
    pub days: usize,
    pub tables: Vec<TableReport>,
    /// Data-quality notes (days without events, …).
    pub notes: Vec<String>,
    /// Segments and forecasts.
    pub models: Option<ml::ModelReport>,
    /// Size of the dashboard document (`tables/kpi/dashboard.json`).
    pub dashboard_bytes: usize,
    /// The dashboard document, for publishing.
    #[serde(skip)]
    pub dashboard: Vec<u8>,
    pub seconds: f64,
}

fn day(s: &str) -> Result<NaiveDate, KpiError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| KpiError::BadDay(s.to_owned()))
}

/// Days with an events partition.
async fn event_days(lake: &Lake) -> Result<BTreeSet<String>, KpiError> {
    Ok(lake
        .list(shared::lake::TABLE_EVENTS)
        .await?
        .into_iter()
        .filter_map(|(key, _)| {
            key.split('/')
                .find_map(|p| p.strip_prefix("dt="))
                .map(str::to_owned)
        })
        .collect())
}

/// The run's days, from the options or the events present.
fn run_days(o: &KpiOptions, present: &BTreeSet<String>) -> Result<Vec<String>, KpiError> {
    let from = match (&o.from, present.first()) {
        (Some(f), _) => day(f)?,
        (None, Some(f)) => day(f)?,
        (None, None) => return Ok(Vec::new()),
    };
    let to = match (&o.to, present.last()) {
        (Some(t), _) => day(t)?,
        (None, Some(t)) => day(t)?,
        (None, None) => from,
    };
    let from = match (&o.from, o.last_days) {
        (None, Some(n)) if n > 0 => from.max(to - chrono::Duration::days(n as i64 - 1)),
        _ => from,
    };
    if from > to {
        return Err(KpiError::BadRange {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    let n = usize::try_from((to - from).num_days()).unwrap_or(usize::MAX);
    if n >= MAX_DAYS {
        return Err(KpiError::TooManyDays {
            days: n.saturating_add(1),
        });
    }
    Ok(from
        .iter_days()
        .take(n + 1)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect())
}

/// `batches` (ordered by `dt`) split into one batch per day, without the `dt` column.
fn by_day(
    table: &'static str,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<(SchemaRef, BTreeMap<String, RecordBatch>), KpiError> {
    let arrow = |source| KpiError::Arrow { table, source };
    let all = concat_batches(schema, batches).map_err(arrow)?;
    let dt_at = schema.index_of("dt").map_err(arrow)?;
    let keep: Vec<usize> = (0..schema.fields().len()).filter(|&i| i != dt_at).collect();
    let out_schema = Arc::new(schema.project(&keep).map_err(arrow)?);
    let dt = cast(all.column(dt_at), &DataType::Utf8).map_err(arrow)?;
    let dt = dt
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| arrow(arrow_schema::ArrowError::CastError("dt is not text".into())))?;
    let body = all.project(&keep).map_err(arrow)?;
    let mut out = BTreeMap::new();
    let mut start = 0;
    for row in 1..=body.num_rows() {
        if row == body.num_rows() || dt.value(row) != dt.value(start) {
            out.insert(dt.value(start).to_owned(), body.slice(start, row - start));
            start = row;
        }
    }
    Ok((out_schema, out))
}

/// The `data_quality` table's columns (besides `dt` in the path).
fn quality_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(
            "run_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("events", DataType::Int64, false),
        Field::new("duplicates_removed", DataType::Int64, false),
        Field::new("quarantined", DataType::Int64, false),
        Field::new("late_events", DataType::Int64, false),
        Field::new("note", DataType::Utf8, false),
    ]))
}

fn quality_row(
    run_at: i64,
    state: Option<&PartitionState>,
    late: i64,
    note: &str,
) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let int = |v: usize| -> ArrayRef {
        let mut b = Int64Builder::new();
        b.append_value(i64::try_from(v).unwrap_or(i64::MAX));
        Arc::new(b.finish())
    };
    let mut at = TimestampMillisecondBuilder::new().with_timezone("UTC");
    at.append_value(run_at);
    let mut late_b = Int64Builder::new();
    late_b.append_value(late);
    let mut n = StringBuilder::new();
    n.append_value(note);
    RecordBatch::try_new(
        quality_schema(),
        vec![
            Arc::new(at.finish()),
            int(state.map_or(0, |s| s.rows)),
            int(state.map_or(0, |s| s.duplicates)),
            int(state.map_or(0, |s| s.quarantined)),
            Arc::new(late_b.finish()),
            Arc::new(n.finish()),
        ],
    )
}

/// Computes every KPI table for the run's days and writes them.
pub async fn run(lake: &Lake, o: &KpiOptions) -> Result<KpiReport, KpiError> {
    let started = Instant::now();
    let present = event_days(lake).await?;
    let days = run_days(o, &present)?;
    let mut report = KpiReport {
        from: days.first().cloned(),
        to: days.last().cloned(),
        days: days.len(),
        tables: Vec::new(),
        notes: Vec::new(),
        models: None,
        dashboard_bytes: 0,
        dashboard: Vec::new(),
        seconds: 0.0,
    };
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        report
            .notes
            .push("no events in the lake: nothing to compute".into());
        return Ok(report);
    };
    let cond = format!("dt BETWEEN '{first}' AND '{last}'");
    let engine = Engine::connect(lake, &o.engine)
        .await
        .map_err(KpiError::Engine)?;
    for kpi in queries::TABLES {
        let sql = (kpi.sql)().replace("{days}", &cond);
        let (schema, batches) = engine.query(&sql).await.map_err(|source| KpiError::Query {
            table: kpi.name,
            source,
        })?;
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let mut files = 0;
        if kpi.daily {
            let (schema, split) = by_day(kpi.name, &schema, &batches)?;
            for d in &days {
                let key = shared::lake::kpi_partition_key(kpi.name, d);
                write(lake, &key, Arc::clone(&schema), split.get(d)).await?;
                files += 1;
            }
        } else {
            let all = concat_batches(&schema, &batches).map_err(|source| KpiError::Arrow {
                table: kpi.name,
                source,
            })?;
            write(
                lake,
                &shared::lake::kpi_table_key(kpi.name),
                schema,
                Some(&all),
            )
            .await?;
            files = 1;
        }
        report.tables.push(TableReport {
            table: kpi.name,
            rows,
            files,
        });
    }
    // Data quality: what compaction recorded per day, late arrivals, and days without events.
    let sql = queries::late_events().replace("{days}", &cond);
    let (schema, batches) = engine.query(&sql).await.map_err(|source| KpiError::Query {
        table: "data_quality",
        source,
    })?;
    let (_, late) = by_day("data_quality", &schema, &batches)?;
    for d in &days {
        let state_key = shared::lake::events_state_key(d);
        let state: Option<PartitionState> = lake
            .get_opt(&state_key)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok());
        let late_n = late
            .get(d)
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .map(|a| a.value(0))
            })
            .unwrap_or(0);
        let note = if present.contains(d) {
            String::new()
        } else {
            let n = format!("{d}: no events partition; KPI rows for this day are empty");
            report.notes.push(n.clone());
            n
        };
        let row = quality_row(o.now_ms, state.as_ref(), late_n, &note).map_err(|source| {
            KpiError::Arrow {
                table: "data_quality",
                source,
            }
        })?;
        let key = shared::lake::kpi_partition_key("data_quality", d);
        write(lake, &key, quality_schema(), Some(&row)).await?;
    }
    report.tables.push(TableReport {
        table: "data_quality",
        rows: days.len(),
        files: days.len(),
    });
    report.models = Some(ml::run(lake, &engine).await?);
    let doc = dashboard::build(lake, &engine, o.now_ms).await?;
    lake.put(dashboard::KEY, doc.clone()).await?;
    report.dashboard_bytes = doc.len();
    report.dashboard = doc;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

#[cfg(test)]
mod check;
