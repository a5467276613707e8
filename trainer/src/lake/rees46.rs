//! Importers of public event-log formats into the lake's raw zone. `rees46` reads the REES46
//! e-commerce behaviour CSV (`event_time,event_type,product_id,category_id,category_code,brand,
//! price,user_id,user_session`).
//!
//! Every row is validated by the same `shared::event::validate` the edge uses (with the
//! historical time policy); bad rows are quarantined with their row number. Event ids and file
//! names are derived from content, so importing the same file twice changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::ingest::Quarantined;
use shared::privacy::Pseudonymizer;
use shared::{Event, EventType, ValidationPolicy, lake};

use crate::lake::products::Product;
use crate::lake::store::{Lake, StoreError};

/// Import failures (bad rows are not failures: they are quarantined).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: csv::Error },
    #[error("{path} is not a REES46 CSV: missing column `{column}`")]
    Header { path: String, column: &'static str },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Counts of one import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub accepted: usize,
    pub quarantined: usize,
    pub by_type: BTreeMap<String, usize>,
    pub products: usize,
    pub files: usize,
}

const COLUMNS: [&str; 9] = [
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
];

fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..8])
}

fn parse_time(s: &str) -> Option<i64> {
    let t = chrono::NaiveDateTime::parse_from_str(s.trim_end_matches(" UTC"), "%Y-%m-%d %H:%M:%S")
        .ok()?;
    Some(t.and_utc().timestamp_millis())
}

/// Title for a catalog record that has none: "Brand category-leaf id".
fn title(brand: &str, category: &str, id: &str) -> String {
    let leaf = category
        .rsplit('.')
        .next()
        .filter(|l| !l.is_empty())
        .unwrap_or("product")
        .replace('_', " ");
    let mut brand_title: String = brand.chars().take(1).flat_map(char::to_uppercase).collect();
    brand_title.push_str(brand.get(1..).unwrap_or_default());
    if brand_title.is_empty() {
        format!("{leaf} {id}")
    } else {
        format!("{brand_title} {leaf} {id}")
    }
}

/// The event JSON for one row (validated afterwards like any client event).
fn row_event(row: &HashMap<&str, &str>, event_id: &str) -> Value {
    let get = |k: &str| row.get(k).copied().unwrap_or_default();
    let ts = parse_time(get("event_time"))
        .map_or(Value::String(get("event_time").to_owned()), Value::from);
    let price: Value = get("price").parse::<f64>().map_or(Value::Null, Value::from);
    let session = if get("user_session").is_empty() {
        get("user_id")
    } else {
        get("user_session")
    };
    let mut e = json!({
        "event_id": event_id,
        "user_id": get("user_id"),
        "session_id": session,
        "timestamp": ts,
    });
    let item = get("product_id");
    match get("event_type") {
        "view" => {
            e["type"] = "view".into();
            e["item_id"] = item.into();
            e["price"] = price;
            e["currency"] = "USD".into();
        }
        "cart" | "remove_from_cart" => {
            e["type"] = if get("event_type") == "cart" {
                "add_to_cart"
            } else {
                "remove_from_cart"
            }
            .into();
            e["item_id"] = item.into();
            e["quantity"] = 1.into();
            e["price"] = price;
            e["currency"] = "USD".into();
        }
        "purchase" => {
            e["type"] = "purchase".into();
            e["order_id"] = short_hash(&[session, get("event_time"), item]).into();
            e["lines"] =
                json!([{"item_id": item, "quantity": 1, "price": price, "currency": "USD"}]);
        }
        other => e["type"] = other.into(),
    }
    e
}

/// Imports a REES46 CSV file into the lake's raw zone.
/// Shopper ids (and a session id that falls back to the shopper id) are stored as keyed
/// pseudonyms, like the edge stores them.
pub async fn rees46(
    lake: &Lake,
    csv_path: &Path,
    pseudonymizer: &Pseudonymizer,
    now_ms: i64,
) -> Result<ImportReport, ImportError> {
    let path = csv_path.display().to_string();
    let rerr = |source| ImportError::Read {
        path: path.clone(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .map_err(rerr)?;
    let headers = reader.headers().map_err(rerr)?.clone();
    let index: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    for c in COLUMNS {
        if !index.contains_key(c) {
            return Err(ImportError::Header {
                path: path.clone(),
                column: c,
            });
        }
    }
    let file_tag = short_hash(&[csv_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("rees46")]);
    let policy = ValidationPolicy::historical();
    let mut report = ImportReport::default();
    let mut by_dt: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let mut bad: Vec<Quarantined> = Vec::new();
    let mut catalog: BTreeMap<String, Product> = BTreeMap::new();
    for (n, record) in reader.records().enumerate() {
        report.rows += 1;
        let record = record.map_err(rerr)?;
        let row: HashMap<&str, &str> = COLUMNS
            .iter()
            .map(|&c| (c, record.get(index[c]).unwrap_or_default()))
            .collect();
        let line: Vec<&str> = record.iter().collect();
        let event_id = format!("rees46-{}", short_hash(&line));
        let raw = row_event(&row, &event_id);
        match shared::event::validate(&raw, now_ms, &policy) {
            Ok(mut event) => {
                if row.get("user_session").is_none_or(|s| s.is_empty()) {
                    event.session_id = pseudonymizer.pseudonym(&event.session_id);
                }
                pseudonymizer.event(&mut event);
                if event.event_type != EventType::Search {
                    note_product(&mut catalog, &row, event.timestamp);
                }
                *report
                    .by_type
                    .entry(event.event_type.as_str().to_owned())
                    .or_default() += 1;
                report.accepted += 1;
                by_dt
                    .entry(shared::time::date_of(event.timestamp))
                    .or_default()
                    .push(event);
            }
            Err(e) => bad.push(Quarantined {
                received_at: now_ms,
                index: n + 2,
                event_id: Some(event_id),
                field: e.field.clone(),
                code: e.reason.code().to_owned(),
                message: format!("row {}: {e}", n + 2),
                raw: {
                    let mut raw = raw;
                    pseudonymizer.scrub(&mut raw);
                    raw
                },
            }),
        }
    }
    let batch = format!("import-rees46-{file_tag}");
    for (dt, events) in &by_dt {
        let body: String = events
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|l| l + "\n")
            .collect();
        lake.put(&lake::raw_events_key(dt, &batch), body).await?;
        report.files += 1;
    }
    crate::lake::quarantine::write(
        lake,
        &lake::quarantine_key(&shared::time::date_of(now_ms), &batch),
        &bad,
    )
    .await?;
    report.quarantined = bad.len();
    report.products = catalog.len();
    let body: String = catalog
        .values()
        .filter_map(|p| serde_json::to_string(p).ok())
        .map(|l| l + "\n")
        .collect();
    lake.put(&lake::raw_products_key(&format!("rees46-{file_tag}")), body)
        .await?;
    Ok(report)
}

fn note_product(catalog: &mut BTreeMap<String, Product>, row: &HashMap<&str, &str>, ts: i64) {
    let get = |k: &str| row.get(k).copied().unwrap_or_default();
    let id = get("product_id").to_owned();
    let category = if get("category_code").is_empty() {
        "unknown"
    } else {
        get("category_code")
    };
    let price = get("price").parse::<f64>().unwrap_or(0.0);
    let p = catalog.entry(id.clone()).or_insert_with(|| Product {
        title: title(get("brand"), category, &id),
        id,
        brand: get("brand").to_owned(),
        category: category.to_owned(),
        price,
        currency: "USD".into(),
        in_stock: true,
        rating: None,
        created_at: ts,
        updated_at: ts,
        attributes: BTreeMap::new(),
    });
    if ts >= p.updated_at {
        p.updated_at = ts;
        p.price = price;
    }
    p.created_at = p.created_at.min(ts);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo() -> Pseudonymizer {
        Pseudonymizer::new(b"import-test-key-0123").unwrap()
    }

    fn sample() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/rees46-sample.csv")
    }

    #[tokio::test]
    async fn imports_the_real_sample() {
        let lake = Lake::open("memory://").unwrap();
        let r = rees46(&lake, &sample(), &pseudo(), 1_790_000_000_000)
            .await
            .unwrap();
        assert_eq!(r.rows, 4999);
        assert_eq!(r.accepted + r.quarantined, 4999);
        assert_eq!(r.by_type.get("view"), Some(&4895));
        assert_eq!(r.by_type.get("add_to_cart"), Some(&50));
        assert_eq!(r.by_type.get("purchase"), Some(&54));
        assert!(r.products > 1000);
        let keys: Vec<String> = lake
            .list("raw/events/")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.0)
            .collect();
        assert_eq!(keys.len(), r.files);
        assert!(keys[0].starts_with("raw/events/dt=2019-10-01/import-rees46-"));
        // Shopper ids are stored as keyed pseudonyms only.
        let first = lake.get(&keys[0]).await.unwrap();
        let event: Event =
            serde_json::from_slice(first.split(|&b| b == b'\n').next().unwrap()).unwrap();
        assert!(
            shared::privacy::is_pseudonym(event.user_id.as_deref().unwrap()),
            "{event:?}"
        );
        // Re-import writes the same files: nothing is duplicated.
        let again = rees46(&lake, &sample(), &pseudo(), 1_790_000_000_000)
            .await
            .unwrap();
        assert_eq!(again, r);
        assert_eq!(lake.list("raw/events/").await.unwrap().len(), keys.len());
    }

    #[tokio::test]
    async fn bad_rows_are_quarantined_and_bad_headers_refused() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("x.csv");
        let header = COLUMNS.join(",");
        std::fs::write(
            &csv,
            format!("{header}\n2019-10-01 00:00:00 UTC,view,1,2,a.b,acme,10.0,5,s1\n2019-10-01 00:00:01 UTC,teleport,1,2,a.b,acme,10.0,5,s1\n2019-10-01 00:00:02 UTC,cart,1,2,a.b,acme,-3,5,s1\n"),
        )
        .unwrap();
        let lake = Lake::open("memory://").unwrap();
        let r = rees46(&lake, &csv, &pseudo(), 1_790_000_000_000)
            .await
            .unwrap();
        assert_eq!((r.accepted, r.quarantined), (1, 2));
        let q = lake.list("raw/quarantine/").await.unwrap();
        let body = lake.get(&q[0].0).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("unknown_event_type")
                && text.contains("negative_value")
                && text.contains("row 4")
        );
        std::fs::write(&csv, "a,b\n1,2\n").unwrap();
        assert!(matches!(
            rees46(&lake, &csv, &pseudo(), 0).await,
            Err(ImportError::Header { .. })
        ));
    }

    #[test]
    fn titles_read_well() {
        assert_eq!(
            title("samsung", "electronics.smartphone", "42"),
            "Samsung smartphone 42"
        );
        assert_eq!(title("", "unknown", "7"), "unknown 7");
        assert_eq!(
            title("lg", "appliances.environment.water_heater", "1"),
            "Lg water heater 1"
        );
    }
}
