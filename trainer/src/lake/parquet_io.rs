//! Parquet on object storage: an [`AsyncFileReader`] over `object_store` (the parquet crate's
//! `ParquetObjectReader` is deprecated) that streams row groups, and a writer that produces one
//! zstd-compressed file per put, so a table file is replaced atomically.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowColumnWriter, compute_leaves};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;

use crate::lake::store::{Lake, StoreError};

/// Rows per row group when writing.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Parquet I/O failures.
#[derive(Debug, thiserror::Error)]
pub enum ParquetIoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("parquet `{key}`: {source}")]
    Parquet { key: String, source: ParquetError },
}

/// Reads one Parquet object by byte ranges.
pub struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl ObjectReader {
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, size: u64) -> Self {
        Self { store, path, size }
    }
}

fn to_parquet(e: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(e))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(to_parquet)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(to_parquet)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let meta = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(64 * 1024))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(meta))
        }
        .boxed()
    }
}

/// Reads every batch of a Parquet object, projected to `columns` (all when empty), row group by
/// row group, handing each batch to `each` so memory stays bounded by one batch.
pub async fn for_each_batch(
    lake: &Lake,
    key: &str,
    columns: &[&str],
    mut each: impl FnMut(RecordBatch) -> Result<(), ParquetIoError>,
) -> Result<(), ParquetIoError> {
    let perr = |source| ParquetIoError::Parquet {
        key: key.to_owned(),
        source,
    };
    let Some(meta) = lake.head(key).await? else {
        return Err(StoreError::NotFound {
            key: key.to_owned(),
        }
        .into());
    };
    let reader = ObjectReader::new(lake.store(), lake.path(key), meta.size);
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(perr)?;
    let builder = if columns.is_empty() {
        builder
    } else {
        let schema = builder.parquet_schema();
        let indices: Vec<usize> = (0..schema.num_columns())
            .filter(|&i| {
                let path = schema
                    .column(i)
                    .path()
                    .parts()
                    .first()
                    .cloned()
                    .unwrap_or_default();
                columns.contains(&path.as_str())
            })
            .collect();
        let mask = parquet::arrow::ProjectionMask::roots(schema, roots_of(schema, &indices));
        builder.with_projection(mask)
    };
    let mut stream = builder.with_batch_size(64 * 1024).build().map_err(perr)?;
    while let Some(batch) = stream.next().await {
        each(batch.map_err(perr)?)?;
    }
    Ok(())
}

/// Root field indices for leaf column indices (nested columns have several leaves).
fn roots_of(schema: &parquet::schema::types::SchemaDescriptor, leaves: &[usize]) -> Vec<usize> {
    let mut roots: Vec<usize> = leaves
        .iter()
        .map(|&i| schema.get_column_root_idx(i))
        .collect();
    roots.sort_unstable();
    roots.dedup();
    roots
}

/// Encodes batches as one Parquet file (zstd, row groups of at most [`ROW_GROUP_ROWS`]; no
/// timestamps inside, so equal input gives equal bytes). Row groups are encoded on all cores and
/// appended in order, so the output does not depend on the thread count.
pub fn encode(
    schema: SchemaRef,
    batches: &[RecordBatch],
    key: &str,
) -> Result<Vec<u8>, ParquetIoError> {
    let perr = |source| ParquetIoError::Parquet {
        key: key.to_owned(),
        source,
    };
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(perr)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by("vitrine-trainer".to_owned())
        .build();
    let groups: Vec<RecordBatch> = batches
        .iter()
        .flat_map(|b| {
            (0..b.num_rows())
                .step_by(ROW_GROUP_ROWS)
                .map(|at| b.slice(at, ROW_GROUP_ROWS.min(b.num_rows() - at)))
        })
        .filter(|b| b.num_rows() > 0)
        .collect();
    let mut out = Vec::new();
    let writer = ArrowWriter::try_new(&mut out, Arc::clone(&schema), Some(props)).map_err(perr)?;
    let (mut file, factory) = writer.into_serialized_writer().map_err(perr)?;
    let mut writers = Vec::with_capacity(groups.len());
    for i in 0..groups.len() {
        writers.push(factory.create_column_writers(i).map_err(perr)?);
    }
    let threads = crate::parallel::threads().min(groups.len().max(1));
    let mut jobs: Vec<Vec<(usize, &RecordBatch, Vec<ArrowColumnWriter>)>> =
        (0..threads).map(|_| Vec::new()).collect();
    for (i, (batch, w)) in groups.iter().zip(writers).enumerate() {
        jobs[i % threads].push((i, batch, w));
    }
    let encoded: Vec<parquet::errors::Result<Vec<EncodedGroup>>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| s.spawn(move || encode_groups(job)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(ParquetError::General("row group encoder panicked".into()))
                })
            })
            .collect()
    });
    let mut chunks: Vec<EncodedGroup> = Vec::with_capacity(groups.len());
    for part in encoded {
        chunks.extend(part.map_err(perr)?);
    }
    chunks.sort_by_key(|(i, _)| *i);
    for (_, columns) in chunks {
        let mut group = file.next_row_group().map_err(perr)?;
        for c in columns {
            c.append_to_row_group(&mut group).map_err(perr)?;
        }
        group.close().map_err(perr)?;
    }
    file.close().map_err(perr)?;
    Ok(out)
}

/// A row group's position and its encoded column chunks.
type EncodedGroup = (usize, Vec<ArrowColumnChunk>);

/// Encodes whole row groups, each column's leaves into its own writer.
fn encode_groups(
    job: Vec<(usize, &RecordBatch, Vec<ArrowColumnWriter>)>,
) -> parquet::errors::Result<Vec<EncodedGroup>> {
    let mut out = Vec::with_capacity(job.len());
    for (i, batch, writers) in job {
        let mut writers = writers.into_iter();
        let mut leaves = Vec::new();
        for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
            leaves.extend(compute_leaves(field, array)?);
        }
        let mut chunks = Vec::with_capacity(leaves.len());
        for leaf in &leaves {
            let mut w = writers
                .next()
                .ok_or_else(|| ParquetError::General("schema has fewer leaves".into()))?;
            w.write(leaf)?;
            chunks.push(w.close()?);
        }
        out.push((i, chunks));
    }
    Ok(out)
}
