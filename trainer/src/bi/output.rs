//! What every BI table writer shares: the stage's error and the one function that writes a KPI
//! table file (one Parquet object per put, so a reader never sees half a day).

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use datafusion::error::DataFusionError;

use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::store::{Lake, StoreError};

/// Most days one run may cover.
pub const MAX_DAYS: usize = 3_660;

/// Why a KPI run failed.
#[derive(Debug, thiserror::Error)]
pub enum KpiError {
    #[error("`{0}` is not a day (YYYY-MM-DD)")]
    BadDay(String),
    #[error("--from {from} is after --to {to}")]
    BadRange { from: String, to: String },
    #[error("{days} days requested; at most {MAX_DAYS} per run")]
    TooManyDays { days: usize },
    #[error("query for {table} failed: {source}")]
    Query {
        table: &'static str,
        source: DataFusionError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error("shaping {table}: {source}")]
    Arrow {
        table: &'static str,
        source: arrow_schema::ArrowError,
    },
    #[error("opening the lake for SQL: {0}")]
    Engine(DataFusionError),
    #[error("uploading the dashboard data: {0}")]
    Upload(String),
}

/// Writes one KPI table file (zero rows when `batch` is `None`).
pub async fn write(
    lake: &Lake,
    key: &str,
    schema: SchemaRef,
    batch: Option<&RecordBatch>,
) -> Result<(), KpiError> {
    let batches: Vec<RecordBatch> = batch.into_iter().cloned().collect();
    let bytes = parquet_io::encode(schema, &batches, key)?;
    lake.put(key, bytes).await?;
    Ok(())
}
