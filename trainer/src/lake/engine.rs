//! DataFusion over the lake: one session with the lake's object store registered under a fixed
//! URL (so `file://`, `memory://` and `s3://` lakes are read the same way) and three tables:
//! `events` (`tables/events`, Hive-partitioned by `dt`), `products` (`tables/products`) and
//! `serves` (the edge's NDJSON serve records under `raw/serves`, partitioned by `dt`). Schemas are
//! given, not inferred, so an empty lake is an empty table rather than an error.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use url::Url;

use crate::lake::events_table;
use crate::lake::products;
use crate::lake::store::Lake;

/// The URL the lake's store is registered under.
const LAKE_URL: &str = "vitrine://lake";

/// The serve records' columns as the edge writes them (`shared::ingest::Serve`).
pub fn serves_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("serve_id", DataType::Utf8, true),
        Field::new("timestamp", DataType::Int64, true),
        Field::new("placement", DataType::Utf8, true),
        Field::new("variant", DataType::Utf8, true),
        Field::new("model_version", DataType::Utf8, true),
        Field::new("user_id", DataType::Utf8, true),
        Field::new("anonymous_id", DataType::Utf8, true),
        Field::new("item_id", DataType::Utf8, true),
        Field::new(
            "items",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            true,
        ),
        Field::new("took_ms", DataType::Float64, true),
        Field::new("query", DataType::Utf8, true),
        Field::new("total", DataType::Int64, true),
    ]))
}

/// A query session over one lake.
pub struct Engine {
    ctx: SessionContext,
}

fn dt() -> Vec<(String, DataType)> {
    vec![("dt".to_owned(), DataType::Utf8)]
}

impl Engine {
    /// Registers the lake's store and tables.
    pub async fn open(lake: &Lake) -> Result<Self, DataFusionError> {
        let config = SessionConfig::new()
            .with_target_partitions(std::thread::available_parallelism().map_or(2, usize::from))
            .with_information_schema(false);
        let ctx = SessionContext::new_with_config(config);
        let base = Url::parse(LAKE_URL).map_err(|e| DataFusionError::External(Box::new(e)))?;
        ctx.register_object_store(&base, lake.store());
        let url = |prefix: &str| format!("{LAKE_URL}/{}/", lake.path(prefix.trim_end_matches('/')));
        let parquet = || {
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet")
        };
        ctx.register_listing_table(
            "events",
            url(shared::lake::TABLE_EVENTS),
            parquet().with_table_partition_cols(dt()),
            Some(events_table::schema()),
            None,
        )
        .await?;
        ctx.register_listing_table(
            "products",
            url(shared::lake::TABLE_PRODUCTS.trim_end_matches("part-0.parquet")),
            parquet(),
            Some(products::schema()),
            None,
        )
        .await?;
        ctx.register_listing_table(
            "serves",
            url(shared::lake::RAW_SERVES),
            ListingOptions::new(Arc::new(JsonFormat::default()))
                .with_file_extension(".ndjson")
                .with_table_partition_cols(dt()),
            Some(serves_schema()),
            None,
        )
        .await?;
        Ok(Self { ctx })
    }

    /// Registers (or replaces) a table over the files under a lake key, schema inferred.
    pub async fn register(
        &self,
        name: &str,
        key: &str,
        lake: &Lake,
        options: ListingOptions,
    ) -> Result<(), DataFusionError> {
        let url = format!("{LAKE_URL}/{}/", lake.path(key));
        self.ctx.deregister_table(name)?;
        self.ctx
            .register_listing_table(name, url, options, None, None)
            .await
    }

    /// Runs one query; returns its schema (also for zero rows) and batches.
    pub async fn query(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>), DataFusionError> {
        let df = self.ctx.sql(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok((schema, batches))
    }
}
