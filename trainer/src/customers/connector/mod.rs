//! Source connectors: `trainer ingest shop` pulls products, customers and orders from a shop's
//! Shopify-style Admin REST API; `trainer ingest csv` reads CRM and newsletter exports.
//!
//! A sync is incremental and idempotent: each resource starts from the cursor stored in the lake
//! (`tables/_state/connector-shop.json`: the newest `updated_at` seen; `since_id=0` the first
//! time), follows `Link` pagination, keeps the newest version of each record, validates every
//! record (bad ones go to `raw/quarantine_sources/`, encrypted, with the reason), upserts the good
//! ones, and only then advances the cursor. A run that fails part-way changes no cursor, so the
//! next run fetches the same records again and the upserts make that harmless.

pub mod client;
pub mod csv_source;
pub mod shopify;
pub mod sources;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::privacy::Pseudonymizer;

use crate::lake::products::Product;
use crate::lake::rows_table::{self, RowsError, schema, text, ts};
use crate::lake::store::{Lake, StoreError};
use crate::privacy::keys::PiiCipher;
use client::{FetchError, FetchParams, FetchStats, Fetcher};
use shopify::{Invalid, OrderLineRow, OrderRow};

/// Where the shop connector keeps its cursors.
pub const CURSOR_KEY: &str = shared::lake::STATE_CONNECTOR_SHOP;
/// Shop orders, pseudonymised.
pub const ORDERS_KEY: &str = shared::lake::TABLE_SHOP_ORDERS;
/// Their lines.
pub const ORDER_LINES_KEY: &str = shared::lake::TABLE_SHOP_ORDER_LINES;

/// Connector failures (bad records are not failures: they are quarantined).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Rows(#[from] RowsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Input(String),
    #[error("the cursor {CURSOR_KEY} is damaged: {0}")]
    Cursor(String),
}

/// Where the shop is and how to talk to it.
#[derive(Debug, Clone)]
pub struct ShopOptions {
    /// e.g. `https://my-shop.myshopify.com` (the API path is added).
    pub base_url: String,
    pub api_version: String,
    pub token: Option<String>,
    pub page_size: u32,
    pub resources: Vec<String>,
    pub fetch: FetchParams,
}

/// One resource's cursor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Newest `updated_at` seen (epoch ms); the next run asks for `updated_at_min` = this.
    pub updated_at: Option<i64>,
    /// Highest id seen.
    pub max_id: u64,
    pub synced_at: i64,
}

/// What one resource's sync did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceReport {
    pub resource: String,
    pub fetched: usize,
    pub duplicates: usize,
    pub valid: usize,
    pub quarantined: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub table_rows: usize,
    pub cursor_before: Option<i64>,
    pub cursor_after: Option<i64>,
    pub stats: FetchStats,
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ShopReport {
    pub resources: Vec<ResourceReport>,
}

/// Secrets a sync needs.
pub struct Keys {
    pub pseudonymizer: Pseudonymizer,
    pub cipher: PiiCipher,
}

impl Keys {
    /// Both keys from the environment (`VITRINE_PSEUDONYM_KEY`, `VITRINE_PII_KEY`).
    pub fn from_env() -> Result<Self, crate::privacy::keys::PrivacyError> {
        Ok(Self {
            pseudonymizer: crate::privacy::keys::pseudonymizer()?,
            cipher: PiiCipher::from_env()?,
        })
    }
}

/// Syncs the shop's resources into the lake.
pub async fn sync_shop(
    lake: &Lake,
    opts: &ShopOptions,
    keys: &Keys,
    now_ms: i64,
) -> Result<ShopReport, ConnectorError> {
    for r in &opts.resources {
        if !shopify::RESOURCES.contains(&r.as_str()) {
            return Err(ConnectorError::Input(format!(
                "unknown resource `{r}` (one of: {})",
                shopify::RESOURCES.join(", ")
            )));
        }
    }
    if !(1..=250).contains(&opts.page_size) {
        return Err(ConnectorError::Input("--page-size must be 1..=250".into()));
    }
    let base = url::Url::parse(&opts.base_url)
        .map_err(|e| ConnectorError::Input(format!("--shop-url `{}`: {e}", opts.base_url)))?;
    let mut cursors = read_cursors(lake).await?;
    let mut report = ShopReport::default();
    for resource in shopify::RESOURCES {
        if !opts.resources.iter().any(|r| r == resource) {
            continue;
        }
        let before = cursors.get(resource).cloned().unwrap_or_default();
        let url = first_url(&base, opts, resource, &before);
        let mut fetcher = Fetcher::new(opts.token.clone(), opts.fetch.clone())?;
        let mut latest: BTreeMap<u64, (i64, Value)> = BTreeMap::new();
        let mut fetched = 0;
        let mut broken = Vec::new();
        fetcher
            .pages(&url, |body| {
                let records = body.get(resource).and_then(Value::as_array).cloned();
                for rec in records.unwrap_or_default() {
                    fetched += 1;
                    match shopify::id_and_updated(&rec) {
                        Ok((id, updated)) => {
                            if latest.get(&id).is_none_or(|(u, _)| *u <= updated) {
                                latest.insert(id, (updated, rec));
                            }
                        }
                        Err(why) => broken.push((rec, why)),
                    }
                }
            })
            .await?;
        let mut rep = ResourceReport {
            resource: resource.to_owned(),
            fetched,
            duplicates: fetched - broken.len() - latest.len(),
            cursor_before: before.updated_at,
            ..ResourceReport::default()
        };
        let cursor = Cursor {
            updated_at: latest
                .values()
                .map(|(u, _)| *u)
                .max()
                .max(before.updated_at),
            max_id: latest.keys().copied().max().unwrap_or(0).max(before.max_id),
            synced_at: now_ms,
        };
        let records: Vec<Value> = latest.into_values().map(|(_, v)| v).collect();
        store_resource(lake, resource, records, &mut broken, keys, &mut rep).await?;
        rep.quarantined = broken.len();
        quarantine(lake, resource, &broken, keys, now_ms).await?;
        rep.cursor_after = cursor.updated_at;
        rep.stats = fetcher.stats.clone();
        cursors.insert(resource.to_owned(), cursor);
        write_cursors(lake, &cursors).await?;
        report.resources.push(rep);
    }
    Ok(report)
}

fn first_url(base: &url::Url, opts: &ShopOptions, resource: &str, cursor: &Cursor) -> String {
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/admin/api/{}/{resource}.json",
        base.path().trim_end_matches('/'),
        opts.api_version
    ));
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("limit", &opts.page_size.to_string());
        match cursor.updated_at {
            Some(ms) => {
                let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
                q.append_pair(
                    "updated_at_min",
                    &t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                );
            }
            None => {
                q.append_pair("since_id", "0");
            }
        }
        if resource == "orders" {
            q.append_pair("status", "any");
        }
    }
    url.to_string()
}

async fn store_resource(
    lake: &Lake,
    resource: &str,
    records: Vec<Value>,
    broken: &mut Vec<(Value, Invalid)>,
    keys: &Keys,
    rep: &mut ResourceReport,
) -> Result<(), ConnectorError> {
    match resource {
        "products" => {
            let mut products: Vec<Product> = Vec::new();
            for rec in records {
                match shopify::product(&rec) {
                    Ok(p) => products.push(p),
                    Err(why) => broken.push((rec, why)),
                }
            }
            rep.valid = products.len();
            rep.inserted = products.len();
            if !products.is_empty() {
                let mut body = String::new();
                for p in &products {
                    body.push_str(
                        &serde_json::to_string(p)
                            .map_err(|e| ConnectorError::Input(e.to_string()))?,
                    );
                    body.push('\n');
                }
                // Named by content: the same records twice write the same file once.
                let name = hex::encode(&Sha256::digest(body.as_bytes())[..8]);
                lake.put(
                    &shared::lake::raw_products_key(&format!("shop/{name}")),
                    body,
                )
                .await?;
            }
        }
        "customers" => {
            let mut rows = Vec::new();
            for rec in records {
                match shopify::customer(&rec) {
                    Ok(c) => rows.push(sources::seal(&c, &keys.pseudonymizer, &keys.cipher)),
                    Err(why) => broken.push((rec, why)),
                }
            }
            rep.valid = rows.len();
            if !rows.is_empty() {
                let up = sources::upsert(lake, "shop", rows).await?;
                (rep.inserted, rep.updated, rep.unchanged, rep.table_rows) =
                    (up.inserted, up.updated, up.unchanged, up.total);
            }
        }
        _ => {
            let mut orders = Vec::new();
            for rec in records {
                match shopify::order(&rec, |id| keys.pseudonymizer.pseudonym(id)) {
                    Ok(o) => orders.push(o),
                    Err(why) => broken.push((rec, why)),
                }
            }
            rep.valid = orders.len();
            if !orders.is_empty() {
                let (ins, upd, same, total) = upsert_orders(lake, orders).await?;
                (rep.inserted, rep.updated, rep.unchanged, rep.table_rows) =
                    (ins, upd, same, total);
            }
        }
    }
    Ok(())
}

async fn upsert_orders(
    lake: &Lake,
    incoming: Vec<(OrderRow, Vec<OrderLineRow>)>,
) -> Result<(usize, usize, usize, usize), ConnectorError> {
    let mut orders: BTreeMap<String, OrderRow> = rows_table::read::<OrderRow>(lake, ORDERS_KEY)
        .await?
        .into_iter()
        .map(|o| (o.order_id.clone(), o))
        .collect();
    let mut lines: BTreeMap<(String, u32), OrderLineRow> =
        rows_table::read::<OrderLineRow>(lake, ORDER_LINES_KEY)
            .await?
            .into_iter()
            .map(|l| ((l.order_id.clone(), l.line), l))
            .collect();
    let (mut ins, mut upd, mut same) = (0, 0, 0);
    for (o, ls) in incoming {
        match orders.get(&o.order_id) {
            None => ins += 1,
            Some(old) if old.updated_at > o.updated_at => {
                same += 1;
                continue;
            }
            Some(old) if old.updated_at == o.updated_at => same += 1,
            Some(_) => upd += 1,
        }
        lines.retain(|(id, _), _| id != &o.order_id);
        for l in ls {
            lines.insert((l.order_id.clone(), l.line), l);
        }
        orders.insert(o.order_id.clone(), o);
    }
    let orders: Vec<OrderRow> = orders.into_values().collect();
    let lines: Vec<OrderLineRow> = lines.into_values().collect();
    let total = orders.len();
    rows_table::write(lake, ORDER_LINES_KEY, &lines_schema(), &lines).await?;
    rows_table::write(lake, ORDERS_KEY, &orders_schema(), &orders).await?;
    Ok((ins, upd, same, total))
}

fn orders_schema() -> datafusion::arrow::datatypes::SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field};
    schema(vec![
        text("order_id", false),
        text("customer_key", true),
        ts("created_at", false),
        ts("updated_at", false),
        ts("cancelled_at", true),
        text("currency", false),
        Field::new("total_price", DataType::Float64, false),
        text("financial_status", true),
        Field::new("units", DataType::UInt32, false),
        Field::new("lines", DataType::UInt32, false),
    ])
}

fn lines_schema() -> datafusion::arrow::datatypes::SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field};
    schema(vec![
        text("order_id", false),
        Field::new("line", DataType::UInt32, false),
        text("product_id", true),
        text("variant_id", true),
        Field::new("quantity", DataType::UInt32, false),
        Field::new("price", DataType::Float64, false),
    ])
}

/// Writes refused records, the record itself encrypted (it may hold PII), the reason in clear.
pub async fn quarantine(
    lake: &Lake,
    what: &str,
    broken: &[(Value, Invalid)],
    keys: &Keys,
    now_ms: i64,
) -> Result<(), ConnectorError> {
    let mut lines = Vec::with_capacity(broken.len());
    let mut h = Sha256::new();
    for (rec, why) in broken {
        let raw = rec.to_string();
        h.update(raw.as_bytes());
        lines.push(json!({
            "received_at": now_ms,
            "source": what,
            "id": rec.get("id").map(|v| keys.pseudonymizer.pseudonym(&v.to_string())),
            "field": why.field,
            "message": why.reason,
            "record": keys.cipher.encrypt("record", what, &raw),
        }));
    }
    let dt = shared::time::date_of(now_ms);
    let name = hex::encode(&h.finalize()[..8]);
    crate::lake::quarantine::write(
        lake,
        &shared::lake::source_quarantine_key(what, &dt, &name),
        &lines,
    )
    .await?;
    Ok(())
}

async fn read_cursors(lake: &Lake) -> Result<BTreeMap<String, Cursor>, ConnectorError> {
    match lake.get_opt(CURSOR_KEY).await? {
        None => Ok(BTreeMap::new()),
        Some(b) => serde_json::from_slice(&b).map_err(|e| ConnectorError::Cursor(e.to_string())),
    }
}

async fn write_cursors(lake: &Lake, c: &BTreeMap<String, Cursor>) -> Result<(), ConnectorError> {
    let body = serde_json::to_vec_pretty(c).map_err(|e| ConnectorError::Cursor(e.to_string()))?;
    lake.put(CURSOR_KEY, body).await?;
    Ok(())
}
