//! The lake's key layout, in one place, so the edge writes where the trainer reads.
//!
//! ```text
//! raw/events/dt=YYYY-MM-DD/<batch>.ndjson       accepted events, one canonical Event per line
//! raw/quarantine/dt=YYYY-MM-DD/<batch>.ndjson   rejected events with their error
//! raw/products/<source>.ndjson                  catalog records from importers and connectors
//! tables/events/dt=YYYY-MM-DD/part-0.parquet    compacted, deduplicated events (Hive-partitioned)
//! tables/products/part-0.parquet                the current catalog
//! models/<version>/model.bin + manifest.json    published artifacts
//! models/latest.json                            pointer to the live version (a manifest copy)
//! ```

/// Prefix of raw accepted events.
pub const RAW_EVENTS: &str = "raw/events/";
/// Prefix of raw rejected events.
pub const RAW_QUARANTINE: &str = "raw/quarantine/";
/// Prefix of raw catalog records.
pub const RAW_PRODUCTS: &str = "raw/products/";
/// Prefix of the compacted events table.
pub const TABLE_EVENTS: &str = "tables/events/";
/// The compacted catalog table.
pub const TABLE_PRODUCTS: &str = "tables/products/part-0.parquet";
/// The pointer to the live model.
pub const LATEST: &str = "models/latest.json";

/// `raw/events/dt=<dt>/<batch>.ndjson`
pub fn raw_events_key(dt: &str, batch: &str) -> String {
    format!("{RAW_EVENTS}dt={dt}/{batch}.ndjson")
}

/// `raw/serves/dt=<dt>/<batch>.ndjson`: recommendation responses, for attribution.
pub fn raw_serves_key(dt: &str, batch: &str) -> String {
    format!("raw/serves/dt={dt}/{batch}.ndjson")
}

/// `raw/quarantine/dt=<dt>/<batch>.ndjson`
pub fn quarantine_key(dt: &str, batch: &str) -> String {
    format!("{RAW_QUARANTINE}dt={dt}/{batch}.ndjson")
}

/// `tables/events/dt=<dt>/part-0.parquet`
pub fn events_partition_key(dt: &str) -> String {
    format!("{TABLE_EVENTS}dt={dt}/part-0.parquet")
}

/// `models/<version>/model.bin`
pub fn model_key(version: &str) -> String {
    format!("models/{version}/model.bin")
}

/// `models/<version>/manifest.json`
pub fn manifest_key(version: &str) -> String {
    format!("models/{version}/manifest.json")
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

/// In the models store: the BI dashboard's data, published by `trainer kpis` (`--models` or
/// `--worker`) and served to the dashboard page by `GET /v1/admin/dashboard`.
pub const DASHBOARD_KEY: &str = "models/_dashboard/latest.json";

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
