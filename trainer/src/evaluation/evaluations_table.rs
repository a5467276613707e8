//! `tables/model_evaluations`: one Parquet file per trained version, one row per evaluated model
//! (the candidate, its baselines and the live model, on the same holdout), so analysts can chart
//! model quality over time next to the KPI tables.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use crate::evaluation::holdout::Evaluated;
use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::store::{Lake, StoreError};

/// Folder of the table in the lake.
pub const PREFIX: &str = shared::lake::TABLE_MODEL_EVALUATIONS;

/// Writing failures.
#[derive(Debug, thiserror::Error)]
pub enum EvaluationsError {
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The table's schema.
pub fn schema() -> SchemaRef {
    let f = |name: &str, t: DataType| Field::new(name, t, false);
    Arc::new(Schema::new(vec![
        f("model_version", DataType::Utf8),
        f("evaluated_at", DataType::Int64),
        f("split", DataType::Utf8),
        f("cutoff", DataType::Int64),
        f("model", DataType::Utf8),
        f("shoppers", DataType::Int64),
        f("ndcg_at_10", DataType::Float64),
        f("recall_at_10", DataType::Float64),
        f("hit_rate_at_10", DataType::Float64),
        f("hit_rate_at_20", DataType::Float64),
        f("mrr_at_10", DataType::Float64),
        f("coverage", DataType::Float64),
        f("popular_share", DataType::Float64),
    ]))
}

/// The rows of one evaluation run.
pub fn to_batch(
    version: &str,
    evaluated_at: i64,
    cutoff: i64,
    results: &[Evaluated],
) -> Result<RecordBatch, ArrowError> {
    let n = results.len();
    let text = |v: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let int = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
    let float = |f: fn(&Evaluated) -> f64| -> ArrayRef {
        Arc::new(results.iter().map(f).collect::<Float64Array>())
    };
    RecordBatch::try_new(
        schema(),
        vec![
            text(vec![version; n]),
            int(vec![evaluated_at; n]),
            text(vec!["time"; n]),
            int(vec![cutoff; n]),
            text(results.iter().map(|r| r.model.as_str()).collect()),
            int(results
                .iter()
                .map(|r| i64::try_from(r.metrics.users).unwrap_or(i64::MAX))
                .collect()),
            float(|r| r.metrics.ndcg),
            float(|r| r.metrics.recall),
            float(|r| r.metrics.hit_rate),
            float(|r| r.metrics.hit_rate_20),
            float(|r| r.metrics.mrr),
            float(|r| r.metrics.coverage),
            float(|r| r.metrics.popular_share),
        ],
    )
}

/// Writes (or rewrites, idempotently) the version's evaluation file.
pub async fn write(
    lake: &Lake,
    version: &str,
    evaluated_at: i64,
    cutoff: i64,
    results: &[Evaluated],
) -> Result<String, EvaluationsError> {
    let key = shared::lake::model_evaluations_key(version);
    let batch = to_batch(version, evaluated_at, cutoff, results)?;
    let bytes = parquet_io::encode(schema(), &[batch], &key)?;
    lake.put(&key, bytes).await?;
    Ok(key)
}
