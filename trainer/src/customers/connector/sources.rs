//! The staged customer sources: `tables/customer_sources/source=<name>/part-0.parquet`, one table
//! per source (shop, crm, newsletter), upserted by source id (the newest `updated_at` wins), with
//! every PII column encrypted and the shop id only as a pseudonym. `trainer customers` reads them
//! all back (decrypting) to build the golden records.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use serde::{Deserialize, Serialize};
use shared::privacy::Pseudonymizer;

use crate::customers::records::{Person, SourceRecord};
use crate::lake::rows_table::{self, RowsError, schema, text, ts};
use crate::lake::store::Lake;
use crate::privacy::keys::{PiiCipher, PrivacyError};

/// Where the staged sources live.
pub const PREFIX: &str = shared::lake::TABLE_CUSTOMER_SOURCES;

/// The table key of one source.
pub fn key(source: &str) -> String {
    shared::lake::customer_source_key(source)
}

/// The PII columns, encrypted per cell.
pub const PII_COLUMNS: [&str; 7] = Person::PII_COLUMNS;

/// A staged source record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRow {
    pub source: String,
    pub source_id: String,
    /// Pseudonym of the shop customer id (what events carry as `user_id`).
    pub user_key: Option<String>,
    /// PII columns encrypted.
    #[serde(flatten)]
    pub person: Person,
    pub accepts_marketing: Option<bool>,
    pub updated_at: i64,
}

fn table_schema() -> SchemaRef {
    let mut fields = vec![
        text("source", false),
        text("source_id", false),
        text("user_key", true),
    ];
    fields.extend(PII_COLUMNS.iter().map(|c| text(c, true)));
    fields.extend([
        text("country", true),
        Field::new("accepts_marketing", DataType::Boolean, true),
        ts("updated_at", false),
    ]);
    schema(fields)
}

/// The id a staged row's cells are bound to.
fn row_id(source: &str, source_id: &str) -> String {
    format!("{source}/{source_id}")
}

/// Seals a record for storage.
pub fn seal(r: &SourceRecord, p: &Pseudonymizer, c: &PiiCipher) -> SourceRow {
    SourceRow {
        source: r.source.clone(),
        source_id: r.source_id.clone(),
        user_key: r.user_id.as_deref().map(|u| p.pseudonym(u)),
        person: r.person.seal(c, &row_id(&r.source, &r.source_id)),
        accepts_marketing: r.accepts_marketing,
        updated_at: r.updated_at,
    }
}

/// Opens a stored row; `user_id` comes back as the pseudonym (events only know that).
pub fn open(row: &SourceRow, c: &PiiCipher) -> Result<SourceRecord, PrivacyError> {
    Ok(SourceRecord {
        source: row.source.clone(),
        source_id: row.source_id.clone(),
        person: row.person.open(c, &row_id(&row.source, &row.source_id))?,
        user_id: row.user_key.clone(),
        accepts_marketing: row.accepts_marketing,
        updated_at: row.updated_at,
    })
}

/// Counts of one upsert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Upserted {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub total: usize,
}

/// Upserts rows into one source's table: a row replaces the stored one with the same id when it
/// is at least as new. Re-running with the same rows keeps the table's contents.
pub async fn upsert(
    lake: &Lake,
    source: &str,
    rows: Vec<SourceRow>,
) -> Result<Upserted, RowsError> {
    let key = key(source);
    let mut by_id: BTreeMap<String, SourceRow> = rows_table::read::<SourceRow>(lake, &key)
        .await?
        .into_iter()
        .map(|r| (r.source_id.clone(), r))
        .collect();
    let mut counts = Upserted::default();
    for row in rows {
        match by_id.get(&row.source_id) {
            None => counts.inserted += 1,
            Some(old) if old.updated_at > row.updated_at => {
                counts.unchanged += 1;
                continue;
            }
            Some(old) if old.updated_at == row.updated_at => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
        }
        by_id.insert(row.source_id.clone(), row);
    }
    let rows: Vec<SourceRow> = by_id.into_values().collect();
    counts.total = rows.len();
    rows_table::write(lake, &key, &table_schema(), &rows).await?;
    Ok(counts)
}

/// Every staged row of every source.
pub async fn read_all(lake: &Lake) -> Result<Vec<SourceRow>, RowsError> {
    let mut rows = Vec::new();
    for (k, _) in lake.list(PREFIX).await? {
        if k.ends_with(".parquet") {
            rows.extend(rows_table::read::<SourceRow>(lake, &k).await?);
        }
    }
    Ok(rows)
}

/// Replaces one source's table with `rows` (erasure rewrites).
pub async fn replace(lake: &Lake, source: &str, rows: &[SourceRow]) -> Result<(), RowsError> {
    rows_table::write(lake, &key(source), &table_schema(), rows).await
}
