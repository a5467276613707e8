//! The lake's key layout, in one place, so the edge writes where the trainer reads. No other
//! file spells a key or a prefix: they all come from here.
//!
//! ```text
//! raw/events/dt=YYYY-MM-DD/<batch>.ndjson         accepted events, one canonical Event per line
//! raw/quarantine/dt=YYYY-MM-DD/<batch>.ndjson     rejected events with their error
//! raw/serves/dt=YYYY-MM-DD/<batch>.ndjson         what each response showed (attribution)
//! raw/products/<source>.ndjson                    catalog records from importers and connectors
//! raw/products/shopify/<delivery>.ndjson          one catalog record per Shopify products webhook
//! raw/quarantine_sources/<what>/dt=…/<h>.ndjson   refused connector records (encrypted)
//! tables/events/dt=YYYY-MM-DD/part-0.parquet      compacted, deduplicated events (Hive-partitioned)
//! tables/products/part-0.parquet                  the current catalog
//! tables/kpi/<table>/dt=YYYY-MM-DD/part-0.parquet BI tables; tables/kpi/dashboard.json
//! tables/model_evaluations/<version>.parquet      holdout figures of every trained version
//! tables/customer_sources/source=<s>/part-0.parquet, tables/customers_golden/, customer_lineage/,
//! tables/shop_orders/, tables/shop_order_lines/   customer data (PII encrypted)
//! tables/_state/…                                 compaction, connector and alert bookkeeping
//! tables/_state/shopify-deliveries/<id>           Shopify webhook deliveries already processed
//! config/synonyms.json, config/alerts.json        shop configuration read by the trainer
//! gdpr/requests/, gdpr/receipts/, gdpr/erased.json erasure requests, receipts, erased pseudonyms
//! audit/dt=YYYY-MM-DD/<at>-<nonce>.json           admin actions
//! models/<version>/model.bin + manifest.json      published artifacts (+ gate.json)
//! models/latest.json                              pointer to the live version (a manifest copy)
//! models/_dashboard/latest.json                   the dashboard's data (models store)
//! rules/current.json                              merchandising rules (models store)
//! ```

/// The raw zone: everything written as it arrived.
pub const RAW: &str = "raw/";
/// Prefix of raw accepted events.
pub const RAW_EVENTS: &str = "raw/events/";
/// Prefix of raw rejected events.
pub const RAW_QUARANTINE: &str = "raw/quarantine/";
/// Prefix of raw serve records.
pub const RAW_SERVES: &str = "raw/serves/";
/// Prefix of raw catalog records.
pub const RAW_PRODUCTS: &str = "raw/products/";
/// Prefix of dead letters: queue batches the consumer could not write within its retries,
/// written by the dead-letter consumer (pseudonymised) for `trainer replay-dead`.
pub const RAW_DEAD: &str = "raw/dead/";
/// Prefix of refused connector records.
pub const RAW_SOURCE_QUARANTINE: &str = "raw/quarantine_sources/";
/// The tables zone.
pub const TABLES: &str = "tables/";
/// Prefix of the compacted events table.
pub const TABLE_EVENTS: &str = "tables/events/";
/// The compacted catalog table.
pub const TABLE_PRODUCTS: &str = "tables/products/part-0.parquet";
/// Prefix of the BI tables.
pub const TABLE_KPI: &str = "tables/kpi/";
/// The dashboard's data as `trainer kpis` computed it, in the lake.
pub const KPI_DASHBOARD: &str = "tables/kpi/dashboard.json";
/// Prefix of the model evaluations table.
pub const TABLE_MODEL_EVALUATIONS: &str = "tables/model_evaluations/";
/// Prefix of the staged customer sources.
pub const TABLE_CUSTOMER_SOURCES: &str = "tables/customer_sources/";
/// The golden customer records.
pub const TABLE_CUSTOMERS_GOLDEN: &str = "tables/customers_golden/part-0.parquet";
/// Source record → golden id.
pub const TABLE_CUSTOMER_LINEAGE: &str = "tables/customer_lineage/part-0.parquet";
/// Shop orders (pseudonymised).
pub const TABLE_SHOP_ORDERS: &str = "tables/shop_orders/part-0.parquet";
/// Shop order lines.
pub const TABLE_SHOP_ORDER_LINES: &str = "tables/shop_order_lines/part-0.parquet";
/// Prefix of the stages' bookkeeping.
pub const STATE: &str = "tables/_state/";
/// Compaction's record of the catalog's raw files.
pub const STATE_PRODUCTS: &str = "tables/_state/products.json";
/// The shop connector's cursors.
pub const STATE_CONNECTOR_SHOP: &str = "tables/_state/connector-shop.json";
/// Alert ids already sent (30 days).
pub const STATE_ALERTS_SENT: &str = "tables/_state/alerts-sent.json";
/// The shop's search synonyms.
pub const CONFIG_SYNONYMS: &str = "config/synonyms.json";
/// The alert rules.
pub const CONFIG_ALERTS: &str = "config/alerts.json";
/// The GDPR zone.
pub const GDPR: &str = "gdpr/";
/// Pending erasure requests (written by the edge, consumed by the trainer).
pub const GDPR_REQUESTS: &str = "gdpr/requests/";
/// Erasure receipts (written by the trainer).
pub const GDPR_RECEIPTS: &str = "gdpr/receipts/";
/// Pseudonyms erased so far (so late data of an erased person is dropped).
pub const GDPR_ERASED: &str = "gdpr/erased.json";
/// The admin audit log.
pub const AUDIT: &str = "audit/";
/// The models store's prefix.
pub const MODELS: &str = "models/";
/// The pointer to the live model.
pub const LATEST: &str = "models/latest.json";
/// The newest model an edge isolate loaded and verified through `latest`: what a fresh isolate
/// serves when `latest` points at something it cannot load.
pub const LAST_GOOD: &str = "models/last-good.json";
/// In the models store: the BI dashboard's data, published by `trainer kpis` (`--models` or
/// `--worker`) and served to the dashboard page by `GET /v1/admin/dashboard`.
pub const DASHBOARD_KEY: &str = "models/_dashboard/latest.json";
/// In the models store: the merchandising rules.
pub const RULES_KEY: &str = "rules/current.json";
/// In the models store, read only by a worker in `DEV_MODE`: injected faults for the local
/// reliability tests (`{"lake_writes_fail_until": <epoch ms>}`).
pub const DEV_FAULTS: &str = "models/dev/faults.json";
/// The prefixes the admin lake API may list and read.
pub const ADMIN_READABLE: &[&str] = &[RAW, GDPR, AUDIT];

/// `raw/events/dt=<dt>/<batch>.ndjson`
pub fn raw_events_key(dt: &str, batch: &str) -> String {
    format!("{RAW_EVENTS}dt={dt}/{batch}.ndjson")
}

/// `raw/events/dt=<dt>`: the folder of one day's raw event files (compaction reads it whole).
pub fn raw_events_partition(dt: &str) -> String {
    format!("{RAW_EVENTS}dt={dt}")
}

/// `raw/serves/dt=<dt>/<batch>.ndjson`: recommendation responses, for attribution.
pub fn raw_serves_key(dt: &str, batch: &str) -> String {
    format!("{RAW_SERVES}dt={dt}/{batch}.ndjson")
}

/// `raw/quarantine/dt=<dt>/<batch>.ndjson`
pub fn quarantine_key(dt: &str, batch: &str) -> String {
    format!("{RAW_QUARANTINE}dt={dt}/{batch}.ndjson")
}

/// `raw/dead/dt=<dt>/<batch>.ndjson`: one lake message per line, as the queue carried it.
pub fn dead_letters_key(dt: &str, batch: &str) -> String {
    format!("{RAW_DEAD}dt={dt}/{batch}.ndjson")
}

/// `raw/products/<source>.ndjson`
/// The catalog record a Shopify `products/*` webhook delivery wrote.
pub fn shopify_product(delivery: &str) -> String {
    format!("{RAW_PRODUCTS}shopify/{delivery}.ndjson")
}

/// The marker of a processed Shopify webhook delivery (a redelivery finds it and is ignored).
pub fn shopify_delivery(delivery: &str) -> String {
    format!("{STATE}shopify-deliveries/{delivery}")
}

/// A receipt of a Shopify privacy webhook (`data-request`: the export it answered).
pub fn shopify_receipt(kind: &str, delivery: &str) -> String {
    format!("{GDPR_RECEIPTS}shopify-{kind}-{delivery}.json")
}

pub fn raw_products_key(source: &str) -> String {
    format!("{RAW_PRODUCTS}{source}.ndjson")
}

/// `raw/quarantine_sources/<what>/dt=<dt>/<name>.ndjson`
pub fn source_quarantine_key(what: &str, dt: &str, name: &str) -> String {
    format!("{RAW_SOURCE_QUARANTINE}{what}/dt={dt}/{name}.ndjson")
}

/// `tables/events/dt=<dt>/part-0.parquet`
pub fn events_partition_key(dt: &str) -> String {
    format!("{TABLE_EVENTS}dt={dt}/part-0.parquet")
}

/// `tables/_state/events/dt=<dt>.json`: compaction's record of one partition's raw files.
pub fn events_state_key(dt: &str) -> String {
    format!("{STATE}events/dt={dt}.json")
}

/// `tables/kpi/<table>/`
pub fn kpi_table_prefix(table: &str) -> String {
    format!("{TABLE_KPI}{table}/")
}

/// `tables/kpi/<table>/dt=<dt>/part-0.parquet`
pub fn kpi_partition_key(table: &str, dt: &str) -> String {
    format!("{TABLE_KPI}{table}/dt={dt}/part-0.parquet")
}

/// `tables/kpi/<table>/part-0.parquet`: a table replaced whole (segments, forecasts).
pub fn kpi_table_key(table: &str) -> String {
    format!("{TABLE_KPI}{table}/part-0.parquet")
}

/// `tables/model_evaluations/<version>.parquet`
pub fn model_evaluations_key(version: &str) -> String {
    format!("{TABLE_MODEL_EVALUATIONS}{version}.parquet")
}

/// `tables/customer_sources/source=<source>/part-0.parquet`
pub fn customer_source_key(source: &str) -> String {
    format!("{TABLE_CUSTOMER_SOURCES}source={source}/part-0.parquet")
}

/// `gdpr/requests/<job>.json`
pub fn gdpr_request_key(job_id: &str) -> String {
    format!("{GDPR_REQUESTS}{job_id}.json")
}

/// `gdpr/receipts/<job>.json`
pub fn gdpr_receipt_key(job_id: &str) -> String {
    format!("{GDPR_RECEIPTS}{job_id}.json")
}

/// `audit/dt=<dt>/<at>-<nonce>.json`
pub fn audit_key(dt: &str, at: i64, nonce: &str) -> String {
    format!("{AUDIT}dt={dt}/{at}-{nonce}.json")
}

/// `models/<version>/model.bin`
pub fn model_key(version: &str) -> String {
    format!("{MODELS}{version}/model.bin")
}

/// `models/<version>/manifest.json`
pub fn manifest_key(version: &str) -> String {
    format!("{MODELS}{version}/manifest.json")
}

/// `models/<version>/gate.json`: the quality gate's decision for that version.
pub fn gate_key(version: &str) -> String {
    format!("{MODELS}{version}/gate.json")
}

/// The `dt` value of a Hive-partitioned key (`.../dt=2026-11-23/...`), if any.
pub fn partition_of(key: &str) -> Option<&str> {
    let start = key.find("dt=")? + 3;
    let rest = &key[start..];
    let end = rest.find('/').unwrap_or(rest.len());
    let dt = &rest[..end];
    (dt.len() == 10 && crate::time::parse_date(dt).is_some()).then_some(dt)
}

/// Whether `s` is safe as one path segment of a key (model versions, batch ids).
pub fn is_safe_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            raw_events_key("2026-11-23", "b1"),
            "raw/events/dt=2026-11-23/b1.ndjson"
        );
        assert_eq!(
            quarantine_key("2026-11-23", "b1"),
            "raw/quarantine/dt=2026-11-23/b1.ndjson"
        );
        assert_eq!(
            events_partition_key("2026-11-23"),
            "tables/events/dt=2026-11-23/part-0.parquet"
        );
        assert_eq!(model_key("v1"), "models/v1/model.bin");
    }

    #[test]
    fn partitions() {
        assert_eq!(
            partition_of("raw/events/dt=2026-11-23/b1.ndjson"),
            Some("2026-11-23")
        );
        assert_eq!(partition_of("raw/events/dt=2026-13-23/b1.ndjson"), None);
        assert_eq!(partition_of("raw/events/b1.ndjson"), None);
    }

    #[test]
    fn segments() {
        assert!(is_safe_segment("20261123T060000Z-ab12"));
        assert!(!is_safe_segment(".."));
        assert!(!is_safe_segment("a/b"));
        assert!(!is_safe_segment(""));
    }
}
