//! The two modelled BI tables: `customer_segments` (+ `segment_summary`) from RFM k-means, and
//! `forecasts` (+ `forecast_backtest`) from per-category regressions, both over the whole lake.
//! The inputs come from SQL ([`Engine`]); the models are in [`segments`] and [`forecast`].

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use chrono::{Datelike, NaiveDate};
use datafusion::arrow::compute::cast;
use serde::Serialize;

use super::forecast::{self, HORIZON};
use super::output::{KpiError, write};
use super::segments::{self, Rfm};
use crate::lake::engine::Engine;
use crate::lake::store::Lake;

/// Per buyer: days from their last purchase to the end of the data, orders, revenue.
const RFM_SQL: &str = "
    WITH lines AS (
        SELECT COALESCE(user_id, anonymous_id) AS shopper, order_id, ts, unnest(lines) AS line
        FROM events
        WHERE event_type = 'purchase' AND COALESCE(user_id, anonymous_id) IS NOT NULL
    ),
    last_ AS (SELECT MAX(ts) AS end_ts FROM events)
    SELECT shopper,
           CAST(date_part('epoch', (SELECT end_ts FROM last_)) - date_part('epoch', MAX(ts))
                AS DOUBLE) / 86400.0 AS recency_days,
           CAST(COUNT(DISTINCT order_id) AS DOUBLE) AS orders,
           SUM(line['price'] * CAST(line['quantity'] AS DOUBLE)) AS revenue
    FROM lines GROUP BY shopper ORDER BY shopper";

/// Units sold per category and day.
const DEMAND_SQL: &str = "
    WITH lines AS (
        SELECT dt, unnest(lines) AS line FROM events WHERE event_type = 'purchase'
    ), l AS (
        SELECT dt, line['item_id'] AS item_id, line['quantity'] AS quantity FROM lines
    )
    SELECT l.dt, COALESCE(NULLIF(p.category, ''), 'unknown') AS category,
           CAST(SUM(l.quantity) AS DOUBLE) AS units
    FROM l LEFT JOIN products p ON p.id = l.item_id
    GROUP BY l.dt, category ORDER BY l.dt, category";

/// What the models did, for the run report (and the closing note's figures).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ModelReport {
    pub buyers: usize,
    pub segments: usize,
    pub silhouette: Option<f64>,
    pub categories: usize,
    /// Categories forecast by the regression (it beat the baseline in the backtest).
    pub regression_used: usize,
    /// Mean backtest MAPE over categories with both figures: the regression and the baseline.
    pub model_mape: Option<f64>,
    pub naive_mape: Option<f64>,
    /// Mean backtest MAPE of what was used (the better of the two per category).
    pub chosen_mape: Option<f64>,
}

fn text(b: &RecordBatch, name: &str) -> Result<StringArray, KpiError> {
    let arrow = |source| KpiError::Arrow {
        table: "models",
        source,
    };
    let c = b.column_by_name(name).ok_or_else(|| {
        arrow(arrow_schema::ArrowError::SchemaError(format!(
            "missing {name}"
        )))
    })?;
    let c = cast(c, &DataType::Utf8).map_err(arrow)?;
    Ok(c.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::from(Vec::<String>::new())))
}

fn number(b: &RecordBatch, name: &str) -> Result<Float64Array, KpiError> {
    let arrow = |source| KpiError::Arrow {
        table: "models",
        source,
    };
    let c = b.column_by_name(name).ok_or_else(|| {
        arrow(arrow_schema::ArrowError::SchemaError(format!(
            "missing {name}"
        )))
    })?;
    let c = cast(c, &DataType::Float64).map_err(arrow)?;
    Ok(c.as_any()
        .downcast_ref::<Float64Array>()
        .cloned()
        .unwrap_or_else(|| Float64Array::from(Vec::<f64>::new())))
}

async fn query(
    engine: &Engine,
    table: &'static str,
    sql: &str,
) -> Result<Vec<RecordBatch>, KpiError> {
    engine
        .query(sql)
        .await
        .map(|(_, b)| b)
        .map_err(|source| KpiError::Query { table, source })
}

fn batch(
    table: &'static str,
    schema: SchemaRef,
    cols: Vec<ArrayRef>,
) -> Result<RecordBatch, KpiError> {
    RecordBatch::try_new(schema, cols).map_err(|source| KpiError::Arrow { table, source })
}

fn strings<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    let mut b = StringBuilder::new();
    for s in v {
        b.append_value(s);
    }
    Arc::new(b.finish())
}

fn floats(v: impl Iterator<Item = Option<f64>>) -> ArrayRef {
    let mut b = Float64Builder::new();
    for x in v {
        b.append_option(x);
    }
    Arc::new(b.finish())
}

fn ints(v: impl Iterator<Item = usize>) -> ArrayRef {
    let mut b = Int64Builder::new();
    for x in v {
        b.append_value(i64::try_from(x).unwrap_or(i64::MAX));
    }
    Arc::new(b.finish())
}

fn f(name: &str, t: DataType, nullable: bool) -> Field {
    Field::new(name, t, nullable)
}

/// Writes `customer_segments` and `segment_summary`.
async fn write_segments(lake: &Lake, engine: &Engine, r: &mut ModelReport) -> Result<(), KpiError> {
    let mut rows = Vec::new();
    for b in query(engine, "customer_segments", RFM_SQL).await? {
        let (s, rec, o, m) = (
            text(&b, "shopper")?,
            number(&b, "recency_days")?,
            number(&b, "orders")?,
            number(&b, "revenue")?,
        );
        for i in 0..b.num_rows() {
            rows.push(Rfm {
                shopper: s.value(i).to_owned(),
                recency_days: rec.value(i),
                orders: o.value(i),
                revenue: m.value(i),
            });
        }
    }
    r.buyers = rows.len();
    let seg = segments::segment(&rows);
    let labels: Vec<Option<usize>> = match &seg {
        Some(s) => s.labels.iter().copied().map(Some).collect(),
        None => vec![None; rows.len()],
    };
    let name_of = |l: Option<usize>| {
        l.and_then(|l| seg.as_ref().map(|s| s.segments[l].name.as_str()))
            .unwrap_or("too few buyers")
    };
    let schema = Arc::new(Schema::new(vec![
        f("shopper", DataType::Utf8, false),
        f("recency_days", DataType::Float64, false),
        f("orders", DataType::Float64, false),
        f("revenue", DataType::Float64, false),
        f("segment_id", DataType::Int64, true),
        f("segment", DataType::Utf8, false),
    ]));
    let mut ids = Int64Builder::new();
    for l in &labels {
        ids.append_option(l.and_then(|l| i64::try_from(l).ok()));
    }
    let b = batch(
        "customer_segments",
        Arc::clone(&schema),
        vec![
            strings(rows.iter().map(|r| r.shopper.as_str())),
            floats(rows.iter().map(|r| Some(r.recency_days))),
            floats(rows.iter().map(|r| Some(r.orders))),
            floats(rows.iter().map(|r| Some(r.revenue))),
            Arc::new(ids.finish()),
            strings(labels.iter().map(|&l| name_of(l))),
        ],
    )?;
    write(
        lake,
        &shared::lake::kpi_table_key("customer_segments"),
        schema,
        Some(&b),
    )
    .await?;
    let groups = seg.as_ref().map_or(&[][..], |s| s.segments.as_slice());
    r.segments = groups.len();
    r.silhouette = seg.as_ref().map(|s| s.silhouette);
    let schema = Arc::new(Schema::new(vec![
        f("segment_id", DataType::Int64, false),
        f("segment", DataType::Utf8, false),
        f("shoppers", DataType::Int64, false),
        f("recency_days", DataType::Float64, false),
        f("orders", DataType::Float64, false),
        f("revenue", DataType::Float64, false),
        f("k", DataType::Int64, false),
        f("silhouette", DataType::Float64, false),
    ]));
    let k = groups.len();
    let sil = r.silhouette.unwrap_or(0.0);
    let b = batch(
        "segment_summary",
        Arc::clone(&schema),
        vec![
            ints(groups.iter().map(|g| g.id)),
            strings(groups.iter().map(|g| g.name.as_str())),
            ints(groups.iter().map(|g| g.shoppers)),
            floats(groups.iter().map(|g| Some(g.recency_days))),
            floats(groups.iter().map(|g| Some(g.orders))),
            floats(groups.iter().map(|g| Some(g.revenue))),
            ints(groups.iter().map(|_| k)),
            floats(groups.iter().map(|_| Some(sil))),
        ],
    )?;
    write(
        lake,
        &shared::lake::kpi_table_key("segment_summary"),
        schema,
        Some(&b),
    )
    .await
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = v.collect();
    #[expect(clippy::cast_precision_loss, reason = "category counts")]
    let n = v.len() as f64;
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / n)
}

/// Writes `forecasts` and `forecast_backtest`.
async fn write_forecasts(
    lake: &Lake,
    engine: &Engine,
    r: &mut ModelReport,
) -> Result<(), KpiError> {
    let mut demand: BTreeMap<String, BTreeMap<NaiveDate, f64>> = BTreeMap::new();
    let (mut first, mut last): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for b in query(engine, "forecasts", DEMAND_SQL).await? {
        let (dt, cat, units) = (text(&b, "dt")?, text(&b, "category")?, number(&b, "units")?);
        for i in 0..b.num_rows() {
            let Ok(d) = NaiveDate::parse_from_str(dt.value(i), "%Y-%m-%d") else {
                continue;
            };
            first = Some(first.map_or(d, |f| f.min(d)));
            last = Some(last.map_or(d, |l| l.max(d)));
            *demand
                .entry(cat.value(i).to_owned())
                .or_default()
                .entry(d)
                .or_default() += units.value(i);
        }
    }
    // The series run over every day of the lake with events, zeros where a category sold nothing.
    let (Some(first), Some(last)) = (first, last) else {
        r.categories = 0;
        return write_forecast_tables(lake, &[], &[]).await;
    };
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let dow0 = first.weekday().num_days_from_monday() as usize;
    let mut rows: Vec<(String, String, f64, &'static str)> = Vec::new();
    let mut tests: Vec<(String, usize, forecast::Forecast)> = Vec::new();
    for (cat, by_day) in &demand {
        let y: Vec<f64> = days
            .iter()
            .map(|d| by_day.get(d).copied().unwrap_or(0.0))
            .collect();
        let fc = forecast::forecast(&y, dow0);
        for (h, units) in fc.units.iter().enumerate() {
            let d = last + chrono::Duration::days(i64::try_from(h).unwrap_or(0) + 1);
            rows.push((
                cat.clone(),
                d.format("%Y-%m-%d").to_string(),
                *units,
                fc.method.as_str(),
            ));
        }
        tests.push((cat.clone(), y.len(), fc));
    }
    r.categories = tests.len();
    r.regression_used = tests
        .iter()
        .filter(|t| t.2.method == forecast::Method::Regression)
        .count();
    let both: Vec<&forecast::Forecast> = tests
        .iter()
        .map(|t| &t.2)
        .filter(|f| f.model_mape.is_some() && f.naive_mape.is_some())
        .collect();
    r.model_mape = mean(both.iter().filter_map(|f| f.model_mape));
    r.naive_mape = mean(both.iter().filter_map(|f| f.naive_mape));
    r.chosen_mape = mean(both.iter().filter_map(|f| match f.method {
        forecast::Method::Regression => f.model_mape,
        forecast::Method::SeasonalNaive => f.naive_mape,
    }));
    write_forecast_tables(lake, &rows, &tests).await
}

async fn write_forecast_tables(
    lake: &Lake,
    rows: &[(String, String, f64, &'static str)],
    tests: &[(String, usize, forecast::Forecast)],
) -> Result<(), KpiError> {
    let schema = Arc::new(Schema::new(vec![
        f("category", DataType::Utf8, false),
        f("date", DataType::Utf8, false),
        f("units", DataType::Float64, false),
        f("method", DataType::Utf8, false),
    ]));
    let b = batch(
        "forecasts",
        Arc::clone(&schema),
        vec![
            strings(rows.iter().map(|r| r.0.as_str())),
            strings(rows.iter().map(|r| r.1.as_str())),
            floats(rows.iter().map(|r| Some(r.2))),
            strings(rows.iter().map(|r| r.3)),
        ],
    )?;
    write(
        lake,
        &shared::lake::kpi_table_key("forecasts"),
        schema,
        Some(&b),
    )
    .await?;
    let schema = Arc::new(Schema::new(vec![
        f("category", DataType::Utf8, false),
        f("history_days", DataType::Int64, false),
        f("horizon_days", DataType::Int64, false),
        f("model_mape", DataType::Float64, true),
        f("naive_mape", DataType::Float64, true),
        f("method", DataType::Utf8, false),
    ]));
    let b = batch(
        "forecast_backtest",
        Arc::clone(&schema),
        vec![
            strings(tests.iter().map(|t| t.0.as_str())),
            ints(tests.iter().map(|t| t.1)),
            ints(tests.iter().map(|_| HORIZON)),
            floats(tests.iter().map(|t| t.2.model_mape)),
            floats(tests.iter().map(|t| t.2.naive_mape)),
            strings(tests.iter().map(|t| t.2.method.as_str())),
        ],
    )?;
    write(
        lake,
        &shared::lake::kpi_table_key("forecast_backtest"),
        schema,
        Some(&b),
    )
    .await
}

/// Computes and writes the modelled tables.
pub async fn run(lake: &Lake, engine: &Engine) -> Result<ModelReport, KpiError> {
    let mut r = ModelReport::default();
    write_segments(lake, engine, &mut r).await?;
    write_forecasts(lake, engine, &mut r).await?;
    Ok(r)
}
