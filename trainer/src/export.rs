//! GDPR access (`trainer export --customer`): everything the lake holds about one person, PII
//! decrypted, as one JSON document: the golden record, each source record, lineage, events
//! (compacted and still raw), serves, shop orders and erasure receipts.

use serde::Serialize;
use serde_json::Value;
use shared::privacy::Pseudonymizer;

use crate::cdi::SourceRecord;
use crate::connector::{self, shopify::OrderRow, sources};
use crate::customers::{self, LineageRow};
use crate::erase::{EraseError, identities};
use crate::events_table;
use crate::parquet_io;
use crate::privacy::PiiCipher;
use crate::rows_table;
use crate::store::Lake;

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

/// Collects everything about `subject` (shop customer id, email, golden id or pseudonym).
pub async fn export(
    lake: &Lake,
    subject: &str,
    p: &Pseudonymizer,
    cipher: &PiiCipher,
) -> Result<CustomerExport, EraseError> {
    let golden = customers::read_golden(lake).await?;
    let (ids, found) = identities(subject, &golden, p);
    let mut out = CustomerExport {
        subject: p.pseudonym(subject.trim()),
        identities: ids.iter().cloned().collect(),
        ..CustomerExport::default()
    };
    if let Some(g) = &found {
        out.golden_id = Some(g.golden_id.clone());
        let open = |c: &str, v: &Option<String>| cipher.open(c, v.as_deref());
        out.profile = Some(SourceRecord {
            source: "golden".into(),
            source_id: g.golden_id.clone(),
            email: open("email", &g.email).map_err(customers::CustomersError::from)?,
            phone: open("phone", &g.phone).map_err(customers::CustomersError::from)?,
            first_name: open("first_name", &g.first_name)
                .map_err(customers::CustomersError::from)?,
            last_name: open("last_name", &g.last_name).map_err(customers::CustomersError::from)?,
            address1: open("address1", &g.address1).map_err(customers::CustomersError::from)?,
            city: open("city", &g.city).map_err(customers::CustomersError::from)?,
            postcode: open("postcode", &g.postcode).map_err(customers::CustomersError::from)?,
            country: g.country.clone(),
            user_id: g.user_keys.first().cloned(),
            accepts_marketing: g.accepts_marketing,
            updated_at: g.updated_at,
        });
        let lineage: Vec<LineageRow> = rows_table::read(lake, customers::LINEAGE_KEY).await?;
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
                    .push(sources::open(&row, cipher).map_err(customers::CustomersError::from)?);
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
    for (key, _) in lake.list("raw/").await? {
        if !key.ends_with(".ndjson") || key.starts_with(connector::QUARANTINE_PREFIX) {
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
