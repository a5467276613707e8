//! Compaction of one `dt` partition as a DataFusion plan, so it runs on whichever engine the
//! night uses (`--engine`, [`crate::lake::engine`]): on a Ballista cluster the executors read the
//! raw files, check every line ([`crate::lake::event_udf`], the same decision as the
//! hand-written path), drop erased people's lines, deduplicate and sort; the trainer encodes the
//! result and writes it with its state record exactly as the hand-written path does
//! ([`crate::lake::compact`] owns the writing and the skipping of unchanged partitions).
//!
//! Differences from the hand-written path, none in the table's rows: among copies of one
//! (shopper, event id) received at the same moment the plan keeps the one whose line hashes
//! lowest (the hand-written path the first read); a quarantined line names its partition, not its file and
//! line number (a plan does not see which file a row came from).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::error::DataFusionError;
use serde_json::Value;
use shared::gdpr::ErasureList;
use shared::ingest::Quarantined;

use crate::lake::compact::Built;
use crate::lake::engine::Engine;
use crate::lake::event_udf::{self, BAD, ERASED, EVENT};
use crate::lake::events_table;
use crate::lake::store::Lake;

/// The registered name of the partition being compacted.
const TABLE: &str = "raw_partition";

/// Bytes that cannot occur in a line of valid NDJSON (JSON escapes control characters), used as
/// the CSV reader's field separator and quote so every line is one text field, read verbatim.
/// A line that does contain them is not an event anyway; if it breaks the reader, the partition
/// is compacted by the hand-written path instead (`compact`).
const NO_DELIMITER: u8 = 0x1e;
const NO_QUOTE: u8 = 0x1f;

/// The raw files of a partition as a one-column table, `line`.
fn raw_lines() -> (ListingOptions, SchemaRef) {
    let format = CsvFormat::default()
        .with_has_header(false)
        .with_delimiter(NO_DELIMITER)
        .with_quote(NO_QUOTE)
        .with_escape(None)
        .with_newlines_in_values(false);
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "line",
        DataType::Utf8,
        true,
    )]));
    (
        ListingOptions::new(Arc::new(format)).with_file_extension(".ndjson"),
        schema,
    )
}

/// The plan: check each line, keep one copy per (shopper, event id) — the earliest received —
/// and every refused line with how many times it occurred, sorted by time then id.
fn sql(erasures: &str) -> String {
    let literal = erasures.replace('\'', "''");
    let columns: Vec<String> = events_table::schema()
        .fields()
        .iter()
        .map(|f| format!("e['{0}'] AS \"{0}\"", f.name()))
        .collect();
    // A refused line is its own group (identical refused lines count together); all events of
    // one (shopper, id) form one group, whose earliest received copy is kept.
    let group = "PARTITION BY e['_kind'], e['_shopper'], e['event_id'], e['_raw']";
    format!(
        "WITH parsed AS (SELECT {udf}(line, '{literal}') AS e FROM {TABLE}), \
         ranked AS (SELECT e, \
           row_number() OVER ({group} ORDER BY e['received_at'] ASC NULLS LAST, e['_tiebreak']) AS rn, \
           count(*) OVER ({group}) AS copies \
           FROM parsed WHERE e['_kind'] <> '{blank}') \
         SELECT {columns}, e['_kind'] AS _kind, e['_shopper'] AS _shopper, \
           e['_error'] AS _error, e['_raw'] AS _raw, copies AS _copies \
         FROM ranked WHERE rn = 1 \
         ORDER BY _kind, \"ts\", \"event_id\", _shopper",
        udf = event_udf::NAME,
        blank = event_udf::BLANK,
        columns = columns.join(", "),
    )
}

/// Runs the plan for partition `dt` on `engine`.
pub async fn build(
    engine: &Engine,
    lake: &Lake,
    dt: &str,
    erasures: &ErasureList,
) -> Result<Built, DataFusionError> {
    let (options, schema) = raw_lines();
    let dir = shared::lake::raw_events_partition(dt);
    engine
        .register(TABLE, &dir, lake, options, Some(schema))
        .await?;
    let json = if erasures.is_empty() {
        String::new()
    } else {
        serde_json::to_string(erasures).map_err(|e| DataFusionError::External(Box::new(e)))?
    };
    let (out_schema, batches) = engine.query(&sql(&json)).await?;
    let all = concat_batches(&out_schema, &batches)?;
    split(&all, &dir)
}

fn strings<'a>(
    b: &'a RecordBatch,
    name: &str,
) -> Result<&'a arrow_array::StringArray, DataFusionError> {
    b.column_by_name(name)
        .and_then(|c| c.as_string_opt::<i32>())
        .ok_or_else(|| DataFusionError::Internal(format!("compaction plan: no text column {name}")))
}

/// The plan's rows as the events table's batch, the quarantine records and the counts.
fn split(all: &RecordBatch, dir: &str) -> Result<Built, DataFusionError> {
    let kinds = strings(all, "_kind")?;
    let copies = all
        .column_by_name("_copies")
        .and_then(|c| c.as_primitive_opt::<arrow_array::types::Int64Type>())
        .ok_or_else(|| DataFusionError::Internal("compaction plan: no _copies".into()))?;
    let errors = strings(all, "_error")?;
    let raws = strings(all, "_raw")?;
    let mut built = Built::default();
    let mut keep = Vec::with_capacity(all.num_rows());
    for i in 0..all.num_rows() {
        let n = usize::try_from(copies.value(i)).unwrap_or(0);
        let kind = kinds.value(i);
        keep.push(kind == EVENT);
        match kind {
            EVENT => {
                built.rows += 1;
                built.duplicates += n.saturating_sub(1);
                built.events_in += n;
            }
            ERASED => built.erased += n,
            BAD => {
                built.events_in += n;
                let raw = raws.value(i);
                for _ in 0..n {
                    built.bad.push(Quarantined {
                        received_at: 0,
                        index: 0,
                        event_id: None,
                        field: format!("{dir}/"),
                        code: "unparseable_line".into(),
                        message: format!("a line of {dir}/ is not an event: {}", errors.value(i)),
                        raw: Value::String(raw.chars().take(16 * 1024).collect()),
                    });
                }
            }
            _ => {}
        }
    }
    let events = filter_record_batch(all, &BooleanArray::from(keep))?;
    let schema = events_table::schema();
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| {
            events.column_by_name(f.name()).cloned().ok_or_else(|| {
                DataFusionError::Internal(format!("compaction plan: no {}", f.name()))
            })
        })
        .collect::<Result<_, _>>()?;
    let batch = RecordBatch::try_new(schema, columns)?;
    if batch.num_rows() > 0 {
        built.batches.push(batch);
    }
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_names_every_events_column_once() {
        let sql = sql("");
        for f in events_table::schema().fields() {
            assert_eq!(sql.matches(&format!("AS \"{}\"", f.name())).count(), 1);
        }
        // a quote in the erasure list cannot end the literal
        assert!(super::sql("{\"x\":\"o'brien\"}").contains("'{\"x\":\"o''brien\"}'"));
    }
}
