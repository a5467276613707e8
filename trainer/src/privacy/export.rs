//! GDPR access (`trainer export --customer`): everything the lake holds about one person, PII
//! decrypted, as one JSON document: the golden record, each source record, lineage, events
//! (compacted and still raw), serves, shop orders and erasure receipts.

use serde::Serialize;
use serde_json::Value;
use shared::privacy::Pseudonymizer;

use crate::customers::connector::{self, shopify::OrderRow, sources};
use crate::customers::golden::{self, LineageRow};
use crate::customers::records::SourceRecord;
use crate::lake::events_table;
use crate::lake::parquet_io;
use crate::lake::rows_table;
use crate::lake::store::Lake;
use crate::privacy::erase::{EraseError, identities};
use crate::privacy::keys::PiiCipher;

/// The export document.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerExport {
    pub subject: String,
    pub golden_id: Option<String>,
    pub profile: Option<SourceRecord>,
    pub source_records: Vec<SourceRecord>,
    pub lineage: Vec<LineageRow>,
    pub identities: Vec<String>,
    pub events: Vec<shared::Event>,
    pub raw_lines: Vec<Value>,
    pub orders: Vec<OrderRow>,
}

/// `trainer export --customer`: [`export`], recorded in the audit log.
pub async fn export_and_audit(
    lake: &Lake,
    subject: &str,
    p: &Pseudonymizer,
    cipher: &PiiCipher,
    now_ms: i64,
) -> Result<CustomerExport, EraseError> {
    let out = export(lake, subject, p, cipher).await?;
    let path = format!("customer/{}", out.subject);
    crate::privacy::audit::record(lake, "customer_export", &path, now_ms).await?;
    Ok(out)
}

/// Collects everything about `subject` (shop customer id, email, golden id or pseudonym).
pub async fn export(
    lake: &Lake,
    subject: &str,
    p: &Pseudonymizer,
    cipher: &PiiCipher,
) -> Result<CustomerExport, EraseError> {
    let golden = golden::read_golden(lake).await?;
    let (ids, found) = identities(subject, &golden, p);
    let mut out = CustomerExport {
        subject: p.pseudonym(subject.trim()),
        identities: ids.iter().cloned().collect(),
        ..CustomerExport::default()
    };
    if let Some(g) = &found {
        out.golden_id = Some(g.golden_id.clone());
        out.profile = Some(SourceRecord {
            source: "golden".into(),
            source_id: g.golden_id.clone(),
            person: g
                .person
                .open(cipher, &g.golden_id)
                .map_err(golden::CustomersError::from)?,
            user_id: g.user_keys.first().cloned(),
            accepts_marketing: g.accepts_marketing,
            updated_at: g.updated_at,
        });
        let lineage: Vec<LineageRow> = rows_table::read(lake, golden::LINEAGE_KEY).await?;
        out.lineage = lineage
            .into_iter()
            .filter(|l| l.golden_id == g.golden_id)
            .collect();
        for row in sources::read_all(lake).await? {
            if out
                .lineage
                .iter()
                .any(|l| l.source == row.source && l.source_id == row.source_id)
            {
                out.source_records
                    .push(sources::open(&row, cipher).map_err(golden::CustomersError::from)?);
            }
        }
    }
    for (key, _) in lake.list(shared::lake::TABLE_EVENTS).await? {
        if !key.ends_with(".parquet") {
            continue;
        }
        let mut failure = None;
        parquet_io::for_each_batch(lake, &key, &[], |b| {
            match events_table::from_batch(&b) {
                Ok(events) => out.events.extend(events.into_iter().filter(|e| {
                    [&e.user_id, &e.anonymous_id]
                        .into_iter()
                        .flatten()
                        .any(|id| ids.contains(id))
                })),
                Err(e) => failure = Some(e.to_string()),
            }
            Ok(())
        })
        .await?;
        if let Some(reason) = failure {
            return Err(EraseError::Rewrite { key, reason });
        }
    }
    for (key, _) in lake.list(shared::lake::RAW).await? {
        if !key.ends_with(".ndjson") || key.starts_with(shared::lake::RAW_SOURCE_QUARANTINE) {
            continue;
        }
        let body = lake.get(&key).await?;
        let text = String::from_utf8_lossy(&body);
        for line in text.lines() {
            if ids.iter().any(|id| line.contains(id.as_str()))
                && let Ok(v) = serde_json::from_str::<Value>(line)
            {
                out.raw_lines.push(v);
            }
        }
    }
    let orders: Vec<OrderRow> = rows_table::read(lake, connector::ORDERS_KEY).await?;
    out.orders = orders
        .into_iter()
        .filter(|o| o.customer_key.as_ref().is_some_and(|k| ids.contains(k)))
        .collect();
    Ok(out)
}
