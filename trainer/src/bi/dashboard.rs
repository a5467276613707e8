//! The dashboard's data: one JSON document read from the KPI tables just written (so the page
//! shows exactly what the tables hold), compact enough for a browser — per-day rows the page
//! filters by date range and category, the top products and queries per day, segments and
//! forecasts. Written to `tables/kpi/dashboard.json` and published to the models store
//! (`shared::lake::DASHBOARD_KEY`), where `GET /v1/admin/dashboard` serves it.

use std::sync::Arc;

use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use datafusion::arrow::compute::cast;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use serde_json::{Map, Value, json};

use super::output::KpiError;
use crate::lake::engine::Engine;
use crate::lake::store::Lake;

/// Where the document is kept in the lake.
pub const KEY: &str = shared::lake::KPI_DASHBOARD;
/// Products and queries kept per day.
const TOP_PER_DAY: usize = 50;

/// `(name, sql)`: each table of the document.
fn sections() -> Vec<(&'static str, String)> {
    vec![
        (
            "totals",
            "SELECT dt, revenue, orders, units FROM daily_sales WHERE level = 'total' ORDER BY dt"
                .into(),
        ),
        (
            "sales",
            "SELECT dt, category, revenue, orders, units FROM daily_sales
             WHERE level = 'category' ORDER BY dt, category"
                .into(),
        ),
        (
            "funnel",
            "SELECT dt, sessions, view_sessions, cart_sessions, purchase_sessions,
                    cart_purchase_sessions FROM funnel ORDER BY dt"
                .into(),
        ),
        (
            "products",
            format!(
                "SELECT dt, item_id, title, category, views, carts, orders, units, revenue FROM (
                    SELECT *, ROW_NUMBER() OVER (PARTITION BY dt ORDER BY revenue DESC, views DESC,
                                                 item_id) AS r
                    FROM product_performance) WHERE r <= {TOP_PER_DAY} ORDER BY dt, r"
            ),
        ),
        (
            "searches",
            format!(
                "SELECT dt, query, searches, zero_results, clicked_searches, refined_searches, abandoned_searches FROM (
                    SELECT *, ROW_NUMBER() OVER (PARTITION BY dt ORDER BY searches DESC, query) AS r
                    FROM search_analytics) WHERE r <= {TOP_PER_DAY} ORDER BY dt, r"
            ),
        ),
        (
            "recs",
            "SELECT dt, placement, model_version, variant, serves, impressions, clicks,
                    add_to_carts, attributed_revenue
             FROM recommendation_performance ORDER BY dt, placement, model_version, variant"
                .into(),
        ),
        (
            "segments",
            "SELECT segment, shoppers, recency_days, orders, revenue, k, silhouette
             FROM segment_summary ORDER BY segment_id"
                .into(),
        ),
        (
            "forecasts",
            "SELECT category, date, units, method FROM forecasts ORDER BY category, date".into(),
        ),
        (
            "backtest",
            "SELECT category, model_mape, naive_mape, method FROM forecast_backtest
             ORDER BY category"
                .into(),
        ),
    ]
}

/// The KPI tables the sections read, and whether they are partitioned by day.
const TABLES: &[(&str, bool)] = &[
    ("daily_sales", true),
    ("funnel", true),
    ("product_performance", true),
    ("search_analytics", true),
    ("recommendation_performance", true),
    ("segment_summary", false),
    ("forecasts", false),
    ("forecast_backtest", false),
];

/// One value as JSON: numbers as numbers, everything else as text.
fn cell(col: &dyn Array, row: usize) -> Value {
    if col.is_null(row) {
        return Value::Null;
    }
    let dt = col.data_type();
    if dt.is_numeric() {
        let Ok(f) = cast(&col.slice(row, 1), &DataType::Float64) else {
            return Value::Null;
        };
        let v = f
            .as_any()
            .downcast_ref::<arrow_array::Float64Array>()
            .map_or(f64::NAN, |a| a.value(0));
        return serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
    }
    cast(&col.slice(row, 1), &DataType::Utf8)
        .ok()
        .and_then(|a| {
            a.as_any()
                .downcast_ref::<StringArray>()
                .map(|s| Value::from(s.value(0)))
        })
        .unwrap_or(Value::Null)
}

fn rows(batches: &[RecordBatch]) -> Vec<Value> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            out.push(Value::Array(
                b.columns().iter().map(|c| cell(c.as_ref(), r)).collect(),
            ));
        }
    }
    out
}

/// Builds the document from the KPI tables in the lake.
pub async fn build(lake: &Lake, engine: &Engine, generated_at: i64) -> Result<Vec<u8>, KpiError> {
    for (name, daily) in TABLES {
        let mut opts =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        if *daily {
            opts = opts.with_table_partition_cols(vec![("dt".to_owned(), DataType::Utf8)]);
        }
        engine
            .register(
                name,
                &shared::lake::kpi_table_prefix(name),
                lake,
                opts,
                None,
            )
            .await
            .map_err(|source| KpiError::Query {
                table: "dashboard",
                source,
            })?;
    }
    let mut doc = Map::new();
    doc.insert("version".into(), json!(1));
    doc.insert("generated_at".into(), json!(generated_at));
    for (name, sql) in sections() {
        let (schema, batches) = engine.query(&sql).await.map_err(|source| KpiError::Query {
            table: "dashboard",
            source,
        })?;
        let columns: Vec<Value> = schema
            .fields()
            .iter()
            .map(|f| Value::from(f.name().as_str()))
            .collect();
        doc.insert(format!("{name}_columns"), Value::Array(columns));
        doc.insert(name.into(), Value::Array(rows(&batches)));
    }
    let first = |name: &str, i: usize| -> Vec<String> {
        let mut v: Vec<String> = doc
            .get(name)
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.get(i).and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v.dedup();
        v
    };
    let days = first("totals", 0);
    let categories = first("sales", 1);
    doc.insert("days".into(), json!(days));
    doc.insert("categories".into(), json!(categories));
    serde_json::to_vec(&Value::Object(doc)).map_err(|e| KpiError::Query {
        table: "dashboard",
        source: datafusion::error::DataFusionError::External(Box::new(e)),
    })
}

/// Publishes the document where the worker reads it: the models store (production: the R2
/// models bucket by URL) and/or a running worker's admin API (local development).
pub async fn publish(
    doc: &[u8],
    models: Option<&Lake>,
    worker: Option<&crate::http::Worker>,
) -> Result<(), KpiError> {
    if let Some(store) = models {
        store.put(shared::lake::DASHBOARD_KEY, doc.to_vec()).await?;
    }
    if let Some(w) = worker {
        w.put_model_object(shared::lake::DASHBOARD_KEY, doc.to_vec())
            .await
            .map_err(KpiError::Upload)?;
    }
    Ok(())
}
