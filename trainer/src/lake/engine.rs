//! DataFusion over the lake: one session with the lake's object store registered under a fixed
//! URL (so `file://`, `memory://` and `s3://` lakes are read the same way) and three tables:
//! `events` (`tables/events`, Hive-partitioned by `dt`), `products` (`tables/products`) and
//! `serves` (the edge's NDJSON serve records under `raw/serves`, partitioned by `dt`). Schemas are
//! given, not inferred, so an empty lake is an empty table rather than an error.
//!
//! Where the plans run is one setting, by URL like the stores ([`EngineUrl`]): `local` is
//! DataFusion inside this process; `ballista://host:port` sends the same plans to a Ballista
//! scheduler whose executors (`trainer cluster executor`) have the same lake registered under the
//! same fixed URL, so a plan names files identically wherever it runs.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{SessionConfig, SessionContext};
use url::Url;

use crate::lake::events_table;
use crate::lake::products;
use crate::lake::store::Lake;

/// The URL the lake's store is registered under (here, on the scheduler and on every executor).
pub const LAKE_URL: &str = "vitrine://lake";

/// Where the lake's SQL plans run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EngineUrl {
    /// Embedded DataFusion in this process: nothing to start.
    #[default]
    Local,
    /// A Ballista scheduler (`ballista://host:port`) and the executors registered with it.
    Ballista(String),
}

/// A setting that names no engine.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an engine: use `local` or `ballista://host:port`")]
pub struct BadEngine(String);

impl std::str::FromStr for EngineUrl {
    type Err = BadEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "local" {
            return Ok(Self::Local);
        }
        let bad = || BadEngine(s.to_owned());
        let url = Url::parse(s).map_err(|_| bad())?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let port = url.port().filter(|&p| p != 0).ok_or_else(bad)?;
        let bare = url.username().is_empty()
            && url.password().is_none()
            && matches!(url.path(), "" | "/")
            && url.query().is_none()
            && url.fragment().is_none();
        if url.scheme() != "ballista" || !bare {
            return Err(bad());
        }
        Ok(Self::Ballista(format!("ballista://{host}:{port}")))
    }
}

impl std::fmt::Display for EngineUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local => f.write_str("local"),
            Self::Ballista(url) => f.write_str(url),
        }
    }
}

/// The lake store's registration key ([`LAKE_URL`] parsed).
pub fn lake_url() -> Result<Url, DataFusionError> {
    Url::parse(LAKE_URL).map_err(|e| DataFusionError::External(Box::new(e)))
}

/// The functions of Vitrine's own that the lake's plans call; registered in every session that
/// plans or runs them (here, the cluster's scheduler and executors).
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![crate::lake::event_udf::udf(), crate::lake::pairs_udf::udf()]
}

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
    /// Times a query cancelled by the cluster (it lost an executor mid-job, `cluster::loss`) is
    /// run again; 0 for the embedded engine.
    retries: usize,
}

/// How often a cluster query cancelled by an executor loss is run again before the job fails.
const CLUSTER_RETRIES: usize = 2;

fn dt() -> Vec<(String, DataType)> {
    vec![("dt".to_owned(), DataType::Utf8)]
}

impl Engine {
    /// Registers the lake's store and tables in a session on `engine`.
    pub async fn connect(lake: &Lake, engine: &EngineUrl) -> Result<Self, DataFusionError> {
        let retries = match engine {
            EngineUrl::Local => 0,
            EngineUrl::Ballista(_) => CLUSTER_RETRIES,
        };
        let ctx = match engine {
            EngineUrl::Local => SessionContext::new_with_config(
                SessionConfig::new()
                    .with_target_partitions(
                        std::thread::available_parallelism().map_or(2, usize::from),
                    )
                    .with_information_schema(false),
            ),
            EngineUrl::Ballista(url) => {
                use ballista::prelude::{SessionConfigExt, SessionContextExt};
                use ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED;
                // The static distributed planner: Ballista's adaptive one re-plans each stage
                // with DataFusion's SanityCheckPlan, which refuses the `daily_sales` merge once
                // an exchange hides that `level` is constant per union branch (the plan is
                // right; the check loses that fact).
                let config = SessionConfig::new_with_ballista()
                    .with_information_schema(false)
                    .set_bool(BALLISTA_ADAPTIVE_PLANNER_ENABLED, false);
                let state = SessionStateBuilder::new()
                    .with_config(config)
                    .with_default_features()
                    .build();
                SessionContext::remote_with_state(url, state).await?
            }
        };
        ctx.register_object_store(&lake_url()?, lake.store());
        for f in functions() {
            ctx.register_udf(f.as_ref().clone());
        }
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
        Ok(Self { ctx, retries })
    }

    /// Registers (or replaces) a table over the files under a lake key; its schema is inferred
    /// from the files unless given.
    pub async fn register(
        &self,
        name: &str,
        key: &str,
        lake: &Lake,
        options: ListingOptions,
        schema: Option<SchemaRef>,
    ) -> Result<(), DataFusionError> {
        let url = format!("{LAKE_URL}/{}/", lake.path(key));
        self.ctx.deregister_table(name)?;
        self.ctx
            .register_listing_table(name, url, options, schema, None)
            .await
    }

    /// Runs one query; returns its schema (also for zero rows) and batches.
    /// On a cluster, a query the scheduler cancelled because an executor was lost is run again
    /// on the executors that are left (at most [`CLUSTER_RETRIES`] times).
    pub async fn query(&self, sql: &str) -> Result<(SchemaRef, Vec<RecordBatch>), DataFusionError> {
        let mut attempt = 0;
        loop {
            let df = self.ctx.sql(sql).await?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            match df.collect().await {
                Ok(batches) => return Ok((schema, batches)),
                Err(e) if attempt < self.retries && cancelled(&e) => {
                    attempt += 1;
                    tracing::warn!(
                        attempt,
                        "the cluster lost an executor mid-job: running the query again"
                    );
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether a cluster job failed because an executor went away, so running it again on the
/// executors that are left is right: the scheduler cancelled it on the loss (`cluster::loss`;
/// Ballista reports `Job … failed: Cancelled`), or a task could not fetch a lost executor's
/// shuffle output (the scheduler allows one stage attempt, so that fails the job with `Stage …
/// has failed 1 times, most recent failure reason: …`) instead of resuming it.
fn cancelled(e: &DataFusionError) -> bool {
    let text = e.to_string();
    text.contains("failed: Cancelled")
        || (text.contains("has failed 1 times") && text.contains("most recent failure reason"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_urls_parse_or_name_the_mistake() {
        assert_eq!("local".parse::<EngineUrl>().ok(), Some(EngineUrl::Local));
        assert_eq!(
            "ballista://10.0.0.5:50050".parse::<EngineUrl>().ok(),
            Some(EngineUrl::Ballista("ballista://10.0.0.5:50050".into()))
        );
        for bad in [
            "",
            "spark://h:1",
            "ballista://",
            "ballista://h",
            "ballista://h:0",
            "ballista://:1",
            "ballista://h/x:1",
            "ballista://h:1:2",
            "ballista://h:+1",
            "ballista://user@h:1",
            "ballista://h:1/path",
            "ballista://h:1?x=1",
            "ballista://a b:1",
        ] {
            let e = bad.parse::<EngineUrl>().err().map(|e| e.to_string());
            assert!(e.is_some_and(|e| e.contains("not an engine")), "{bad}");
        }
        assert_eq!(EngineUrl::default().to_string(), "local");
    }

    #[test]
    fn only_a_cluster_job_that_lost_an_executor_is_retried() {
        // the shapes Ballista 55 reports (DistributedQueryExec, ExecutionGraph)
        let cancelled_job = DataFusionError::Execution("Job 038J failed: Cancelled".into());
        assert!(cancelled(&cancelled_job));
        let fetch = DataFusionError::Execution(
            "Job 038J failed: Stage 3 has failed 1 times, most recent failure reason: \"fetch\""
                .into(),
        );
        assert!(cancelled(&fetch));
        let plan_error = DataFusionError::Plan("No field named x".into());
        assert!(!cancelled(&plan_error));
    }
}
