//! `trainer customers`: one customer view from every source. Reads the staged sources (shop
//! accounts, CRM, newsletter; decrypted in memory only), matches and merges them with
//! [`crate::customers::records`], joins the login links seen in events (an anonymous id and a user id on the
//! same event are one person), and writes
//! - `tables/customers_golden/part-0.parquet`: one row per person, direct PII encrypted per
//!   column, the person's event pseudonyms (`user_keys`, `anonymous_keys`) and a keyed
//!   `email_key` so BI can count and join people without seeing who they are;
//! - `tables/customer_lineage/part-0.parquet`: every source record and event identity → golden
//!   id, with the rule that put it there and its score.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::{Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use serde::{Deserialize, Serialize};
use shared::privacy::Pseudonymizer;

use crate::customers::connector::sources;
use crate::customers::matching::{self, MatchParams};
use crate::customers::merge;
use crate::customers::records::{Person, SourceRecord};
use crate::lake::parquet_io;
use crate::lake::rows_table::{self, RowsError, schema, text, ts};
use crate::lake::store::{Lake, StoreError};
use crate::privacy::keys::{PiiCipher, PrivacyError};

/// The golden table.
pub const GOLDEN_KEY: &str = shared::lake::TABLE_CUSTOMERS_GOLDEN;
/// The lineage table.
pub const LINEAGE_KEY: &str = shared::lake::TABLE_CUSTOMER_LINEAGE;

/// Failures of a customers run.
#[derive(Debug, thiserror::Error)]
pub enum CustomersError {
    #[error(transparent)]
    Rows(#[from] RowsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] parquet_io::ParquetIoError),
    #[error(transparent)]
    Privacy(#[from] PrivacyError),
    #[error("{0}")]
    Params(String),
}

/// One golden customer as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenRow {
    pub golden_id: String,
    pub user_keys: Vec<String>,
    pub anonymous_keys: Vec<String>,
    pub email_key: Option<String>,
    /// PII columns encrypted.
    #[serde(flatten)]
    pub person: Person,
    pub accepts_marketing: Option<bool>,
    pub sources: Vec<String>,
    pub source_records: u32,
    pub updated_at: i64,
}

/// One lineage row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRow {
    pub source: String,
    pub source_id: String,
    pub golden_id: String,
    pub rule: String,
    pub score: f64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomersReport {
    pub source_records: usize,
    pub by_source: BTreeMap<String, usize>,
    pub golden: usize,
    pub merged_records: usize,
    pub by_rule: BTreeMap<String, usize>,
    pub login_links: usize,
}

fn list(name: &str) -> Field {
    Field::new(
        name,
        DataType::List(std::sync::Arc::new(Field::new(
            "item",
            DataType::Utf8,
            true,
        ))),
        false,
    )
}

fn golden_schema() -> SchemaRef {
    let mut fields = vec![
        text("golden_id", false),
        list("user_keys"),
        list("anonymous_keys"),
        text("email_key", true),
    ];
    fields.extend(sources::PII_COLUMNS.iter().map(|c| text(c, true)));
    fields.extend([
        text("country", true),
        Field::new("accepts_marketing", DataType::Boolean, true),
        list("sources"),
        Field::new("source_records", DataType::UInt32, false),
        ts("updated_at", false),
    ]);
    schema(fields)
}

fn lineage_schema() -> SchemaRef {
    schema(vec![
        text("source", false),
        text("source_id", false),
        text("golden_id", false),
        text("rule", false),
        Field::new("score", DataType::Float64, false),
    ])
}

/// Login links from the events table: (anonymous pseudonym, user pseudonym) seen on one event.
pub async fn login_links(lake: &Lake) -> Result<BTreeSet<(String, String)>, CustomersError> {
    let mut links = BTreeSet::new();
    for (key, _) in lake.list(shared::lake::TABLE_EVENTS).await? {
        if !key.ends_with(".parquet") {
            continue;
        }
        parquet_io::for_each_batch(lake, &key, &["user_id", "anonymous_id"], |b| {
            let col = |name: &str| {
                b.column_by_name(name)
                    .and_then(|c| c.as_any().downcast_ref::<StringArray>())
                    .cloned()
            };
            if let (Some(users), Some(anons)) = (col("user_id"), col("anonymous_id")) {
                for i in 0..b.num_rows() {
                    if users.is_valid(i) && anons.is_valid(i) {
                        links.insert((anons.value(i).to_owned(), users.value(i).to_owned()));
                    }
                }
            }
            Ok(())
        })
        .await?;
    }
    Ok(links)
}

/// Builds the golden records and lineage from everything staged.
pub async fn run(
    lake: &Lake,
    params: MatchParams,
    pseudonymizer: &Pseudonymizer,
    cipher: &PiiCipher,
) -> Result<CustomersReport, CustomersError> {
    let params = params
        .check()
        .map_err(|e| CustomersError::Params(e.to_string()))?;
    let rows = sources::read_all(lake).await?;
    let records: Vec<SourceRecord> = rows
        .iter()
        .map(|r| sources::open(r, cipher))
        .collect::<Result<_, _>>()?;
    let matching = matching::match_records(&records, &params);
    let golden = merge::merge(&records, &matching, &params);
    let links = login_links(lake).await?;

    let mut report = CustomersReport {
        source_records: records.len(),
        golden: golden.len(),
        merged_records: records.len().saturating_sub(golden.len()),
        ..CustomersReport::default()
    };
    for r in &records {
        *report.by_source.entry(r.source.clone()).or_default() += 1;
    }
    let mut golden_of_record = vec![String::new(); records.len()];
    for g in &golden {
        for &m in &g.members {
            if let Some(slot) = golden_of_record.get_mut(m) {
                slot.clone_from(&g.golden_id);
            }
        }
    }
    let mut lineage: Vec<LineageRow> = matching
        .links
        .iter()
        .filter_map(|l| {
            let r = records.get(l.record)?;
            *report
                .by_rule
                .entry(l.rule.as_str().to_owned())
                .or_default() += 1;
            Some(LineageRow {
                source: r.source.clone(),
                source_id: r.source_id.clone(),
                golden_id: golden_of_record.get(l.record)?.clone(),
                rule: l.rule.as_str().to_owned(),
                score: l.score,
            })
        })
        .collect();

    let mut golden_of_user: BTreeMap<&str, &str> = BTreeMap::new();
    for g in &golden {
        for u in &g.user_ids {
            golden_of_user.insert(u.as_str(), g.golden_id.as_str());
        }
    }
    let mut anonymous_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (anon, user) in &links {
        if let Some(g) = golden_of_user.get(user.as_str()) {
            anonymous_of
                .entry((*g).to_owned())
                .or_default()
                .insert(anon.clone());
            lineage.push(LineageRow {
                source: "events".into(),
                source_id: anon.clone(),
                golden_id: (*g).to_owned(),
                rule: "login".into(),
                score: 1.0,
            });
            report.login_links += 1;
        }
    }
    lineage.sort_by(|a, b| (&a.source, &a.source_id).cmp(&(&b.source, &b.source_id)));

    let out: Vec<GoldenRow> = golden
        .iter()
        .map(|g| GoldenRow {
            golden_id: g.golden_id.clone(),
            user_keys: g.user_ids.clone(),
            anonymous_keys: anonymous_of
                .get(&g.golden_id)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
            email_key: g
                .person
                .email
                .as_deref()
                .map(|e| pseudonymizer.pseudonym(&format!("email:{e}"))),
            person: g.person.seal(cipher, &g.golden_id),
            accepts_marketing: g.accepts_marketing,
            sources: g.sources.clone(),
            source_records: u32::try_from(g.members.len()).unwrap_or(u32::MAX),
            updated_at: g.updated_at,
        })
        .collect();
    rows_table::write(lake, LINEAGE_KEY, &lineage_schema(), &lineage).await?;
    rows_table::write(lake, GOLDEN_KEY, &golden_schema(), &out).await?;
    Ok(report)
}

/// The golden records, decrypted (for export and erasure lookups).
pub async fn read_golden(lake: &Lake) -> Result<Vec<GoldenRow>, CustomersError> {
    Ok(rows_table::read(lake, GOLDEN_KEY).await?)
}
