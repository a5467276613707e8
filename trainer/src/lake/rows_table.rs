//! Small lake tables of serde rows (customer sources, golden records, lineage, shop orders,
//! receipts): one Parquet object per table, written whole and read back whole.
//!
//! Rows go to Arrow through `arrow-json`'s serde decoder against a declared schema, so the Parquet
//! types are the schema's (timestamps are `Timestamp(ms, UTC)` for BI tools) while the Rust side
//! stays plain structs holding epoch milliseconds. One `put` replaces the object, so a reader sees
//! the old table or the new one, never half of each.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::json::{ArrayWriter, ReaderBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::store::Lake;

/// Failures reading or writing a rows table.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    #[error("{key}: rows do not fit the table schema: {reason}")]
    Schema { key: String, reason: String },
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error(transparent)]
    Store(#[from] crate::lake::store::StoreError),
}

/// A timestamp column (epoch milliseconds in the rows, `Timestamp(ms, UTC)` in Parquet).
pub fn ts(name: &str, nullable: bool) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        nullable,
    )
}

/// A text column.
pub fn text(name: &str, nullable: bool) -> Field {
    Field::new(name, DataType::Utf8, nullable)
}

/// Builds a schema from fields.
pub fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

/// Encodes rows as one Parquet file of `schema`.
pub fn encode<T: Serialize>(
    key: &str,
    schema: &SchemaRef,
    rows: &[T],
) -> Result<Vec<u8>, RowsError> {
    let bad = |reason: String| RowsError::Schema {
        key: key.to_owned(),
        reason,
    };
    let mut decoder = ReaderBuilder::new(Arc::clone(schema))
        .with_batch_size(rows.len().max(1))
        .build_decoder()
        .map_err(|e| bad(e.to_string()))?;
    decoder.serialize(rows).map_err(|e| bad(e.to_string()))?;
    let batch = decoder
        .flush()
        .map_err(|e| bad(e.to_string()))?
        .unwrap_or_else(|| RecordBatch::new_empty(Arc::clone(schema)));
    Ok(parquet_io::encode(Arc::clone(schema), &[batch], key)?)
}

/// Writes rows as the table at `key`, replacing it.
pub async fn write<T: Serialize>(
    lake: &Lake,
    key: &str,
    schema: &SchemaRef,
    rows: &[T],
) -> Result<(), RowsError> {
    let file = encode(key, schema, rows)?;
    lake.put(key, file).await?;
    Ok(())
}

/// Reads the table at `key` (empty when it does not exist).
pub async fn read<T: DeserializeOwned>(lake: &Lake, key: &str) -> Result<Vec<T>, RowsError> {
    if lake.head(key).await?.is_none() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::new();
    let mut failure = None;
    parquet_io::for_each_batch(lake, key, &[], |batch| {
        match decode(&batch) {
            Ok(mut r) => rows.append(&mut r),
            Err(e) => failure = Some(e),
        }
        Ok(())
    })
    .await?;
    match failure {
        Some(reason) => Err(RowsError::Schema {
            key: key.to_owned(),
            reason,
        }),
        None => Ok(rows),
    }
}

/// One batch back to rows: timestamps become epoch milliseconds first, so rows see numbers.
fn decode<T: DeserializeOwned>(batch: &RecordBatch) -> Result<Vec<T>, String> {
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Timestamp(_, _) => cast(c, &DataType::Int64).map_err(|e| e.to_string()),
            _ => Ok(Arc::clone(c)),
        })
        .collect::<Result<_, _>>()?;
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), f.is_nullable()))
        .collect();
    let plain =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| e.to_string())?;
    let mut writer = ArrayWriter::new(Vec::new());
    writer.write(&plain).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Row {
        id: String,
        note: Option<String>,
        at: i64,
        n: u32,
        flag: Option<bool>,
    }

    #[tokio::test]
    async fn rows_round_trip_with_timestamps_and_nulls() {
        let lake = Lake::open("memory://").unwrap();
        let schema = schema(vec![
            text("id", false),
            text("note", true),
            ts("at", false),
            Field::new("n", DataType::UInt32, false),
            Field::new("flag", DataType::Boolean, true),
        ]);
        let rows = vec![
            Row {
                id: "a".into(),
                note: None,
                at: 1_700_000_000_123,
                n: 3,
                flag: Some(true),
            },
            Row {
                id: "b".into(),
                note: Some("x".into()),
                at: 0,
                n: 0,
                flag: None,
            },
        ];
        write(&lake, "tables/t/part-0.parquet", &schema, &rows)
            .await
            .unwrap();
        let back: Vec<Row> = read(&lake, "tables/t/part-0.parquet").await.unwrap();
        assert_eq!(back, rows);
        let none: Vec<Row> = read(&lake, "tables/missing.parquet").await.unwrap();
        assert!(none.is_empty());
        write::<Row>(&lake, "tables/e.parquet", &schema, &[])
            .await
            .unwrap();
        assert!(
            read::<Row>(&lake, "tables/e.parquet")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
