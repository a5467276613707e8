//! GDPR erasure (`trainer erase`): removes one person from every store in the lake and writes a
//! receipt.
//!
//! The person is named by their shop customer id, email, golden id or pseudonym. Their identity
//! set is every pseudonym the golden record links (shop ids, devices linked by a login, the email
//! key) plus the golden id. Then:
//! - raw NDJSON (events, serves, quarantine, source quarantine): files holding any identity are
//!   rewritten without those lines (pseudonyms are 34-character tokens, so matching is exact);
//! - every Parquet table under `tables/` (events partitions, KPI partitions such as
//!   `customer_segments`, golden records, lineage, shop orders): rows with an identity in any text
//!   column are dropped and the file rewritten; `customer_sources` loses the person's source
//!   records (by lineage) and `shop_order_lines` the lines of their orders;
//! - a receipt `gdpr/receipts/<job>.json` records the job id, the subject as a pseudonym, each
//!   store's files and rows removed, and start and finish times.
//!
//! A whole-shop request (Shopify's `shop/redact`, [`shared::gdpr::ErasureRequest::whole_shop`])
//! runs the same passes for everyone: every raw line and table row naming a person goes, every
//! source record and order line, and the customer exports earlier data requests left as receipts.
//! The catalog, the models (no per-shopper data) and the aggregate KPI tables stay.
//!
//! The next `trainer train` reads the rewritten tables, so the next artifact is built without the
//! person (artifacts hold no per-shopper data; search suggestions need 3 distinct shoppers).
//! A re-run finds nothing left and removes nothing: erasure is idempotent.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch, StringArray, StringViewArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::privacy::{Pseudonymizer, is_pseudonym};

use crate::customers::connector::{self, sources};
use crate::customers::golden::{self, CustomersError, GoldenRow, LineageRow};
use crate::lake::parquet_io::{self, ParquetIoError};
use crate::lake::rows_table::{self, RowsError};
use crate::lake::store::{Lake, StoreError};

pub use shared::lake::{GDPR_RECEIPTS as RECEIPTS, GDPR_REQUESTS as REQUESTS};

/// Identities erased so far, so a later `trainer pull` from a worker's separate lake copy (local
/// development) does not bring their old lines back.
pub const ERASED: &str = shared::lake::GDPR_ERASED;

pub use shared::gdpr::{Erased, ErasureList, ID_FIELDS, Who, names, names_any};

/// Erasure failures.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Parquet(#[from] ParquetIoError),
    #[error(transparent)]
    Rows(#[from] RowsError),
    #[error(transparent)]
    Customers(#[from] CustomersError),
    #[error("{key}: {reason}")]
    Rewrite { key: String, reason: String },
    #[error("the subject is empty")]
    EmptySubject,
}

/// One store's part of the job: what was found there and removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreStatus {
    pub store: String,
    pub files_scanned: usize,
    pub files_rewritten: usize,
    /// Rows (or lines) naming the person that were found, and removed (always all of them).
    pub found: usize,
    pub rows_removed: usize,
    /// `removed` when something was found and removed, `not_found` when the store held nothing
    /// about the person.
    pub status: String,
}

impl StoreStatus {
    /// Sets the status from what was found.
    fn settle(&mut self) {
        self.found = self.rows_removed;
        self.status = if self.rows_removed > 0 {
            "removed"
        } else {
            "not_found"
        }
        .into();
    }
}

/// The receipt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Receipt {
    pub job_id: String,
    /// The subject as a pseudonym (the receipt itself must not identify the person).
    pub subject: String,
    pub golden_id: Option<String>,
    pub identities: usize,
    pub started_at: i64,
    pub finished_at: i64,
    pub stores: Vec<StoreStatus>,
    pub rows_removed: usize,
}

/// The identities of `subject` (raw id, email, golden id or pseudonym).
pub fn identities(
    subject: &str,
    golden: &[GoldenRow],
    p: &Pseudonymizer,
) -> (BTreeSet<String>, Option<GoldenRow>) {
    let s = subject.trim();
    let id_key = p.pseudonym(s);
    let email_key = p.pseudonym(&format!("email:{}", s.to_lowercase()));
    let found = golden
        .iter()
        .find(|g| {
            g.golden_id == s
                || g.user_keys.iter().any(|k| k == &id_key)
                || g.anonymous_keys.iter().any(|k| k == &id_key)
                || g.email_key.as_deref() == Some(email_key.as_str())
        })
        .cloned();
    let mut ids = BTreeSet::new();
    if is_pseudonym(s) || !s.contains('@') {
        ids.insert(id_key);
        // Lakes written before pseudonymisation (or by the simulator) hold the id itself; it is
        // only ever compared with identity fields, never searched for as text.
        ids.insert(s.to_owned());
    }
    if let Some(g) = &found {
        ids.insert(g.golden_id.clone());
        ids.extend(g.user_keys.iter().cloned());
        ids.extend(g.anonymous_keys.iter().cloned());
        ids.extend(g.email_key.iter().cloned());
    }
    (ids, found)
}

/// Erases `subject` from the lake.
pub async fn erase(
    lake: &Lake,
    subject: &str,
    p: &Pseudonymizer,
    now_ms: impl Fn() -> i64,
) -> Result<Receipt, EraseError> {
    erase_job(lake, subject, None, p, now_ms).await
}

/// `trainer erase --customer`: erases `subject` and records the action in the audit log (the
/// subject only as its pseudonym).
pub async fn erase_and_audit(
    lake: &Lake,
    subject: &str,
    p: &Pseudonymizer,
    now_ms: impl Fn() -> i64,
) -> Result<Receipt, EraseError> {
    let receipt = erase(lake, subject, p, &now_ms).await?;
    let path = format!("customer/{}", receipt.subject);
    crate::privacy::audit::record(lake, "customer_erase", &path, now_ms()).await?;
    Ok(receipt)
}

/// Carries out every erasure request the edge left under `gdpr/requests/` that has no receipt
/// yet; returns the receipts written.
pub async fn erase_pending(
    lake: &Lake,
    p: &Pseudonymizer,
    now_ms: impl Fn() -> i64 + Copy,
) -> Result<Vec<Receipt>, EraseError> {
    let mut done = Vec::new();
    for (key, _) in lake.list(REQUESTS).await? {
        let body = lake.get(&key).await?;
        let request: shared::gdpr::ErasureRequest =
            serde_json::from_slice(&body).map_err(|e| EraseError::Rewrite {
                key: key.clone(),
                reason: format!("not an erasure request: {e}"),
            })?;
        if lake
            .head(&shared::lake::gdpr_receipt_key(&request.job_id))
            .await?
            .is_some()
        {
            continue;
        }
        if request.whole_shop {
            done.push(erase_shop(lake, &request, now_ms).await?);
        } else {
            done.push(erase_job(lake, &request.subject, Some(request.job_id), p, now_ms).await?);
        }
    }
    Ok(done)
}

/// Who may not come back into the lake: every erasure carried out, plus the requests the edge
/// recorded that are still waiting for this run (`shared::gdpr::ErasureList`).
pub async fn erasure_list(lake: &Lake) -> Result<ErasureList, EraseError> {
    let done = erased(lake).await?;
    let mut pending = Vec::new();
    for (key, _) in lake.list(REQUESTS).await? {
        let body = lake.get(&key).await?;
        if let Ok(r) = serde_json::from_slice::<shared::gdpr::ErasureRequest>(&body) {
            pending.push(r);
        }
    }
    Ok(ErasureList::new(&done, &pending))
}

/// Every erasure so far.
pub async fn erased(lake: &Lake) -> Result<Vec<Erased>, EraseError> {
    match lake.get_opt(ERASED).await? {
        None => Ok(Vec::new()),
        Some(b) => serde_json::from_slice(&b).map_err(|e| EraseError::Rewrite {
            key: ERASED.into(),
            reason: e.to_string(),
        }),
    }
}

async fn erase_job(
    lake: &Lake,
    subject: &str,
    job: Option<String>,
    p: &Pseudonymizer,
    now_ms: impl Fn() -> i64,
) -> Result<Receipt, EraseError> {
    if subject.trim().is_empty() {
        return Err(EraseError::EmptySubject);
    }
    let started_at = now_ms();
    let golden = golden::read_golden(lake).await?;
    let (ids, found) = identities(subject, &golden, p);
    let lineage: Vec<LineageRow> = rows_table::read(lake, golden::LINEAGE_KEY).await?;
    let members: BTreeSet<(String, String)> = match &found {
        Some(g) => lineage
            .iter()
            .filter(|l| l.golden_id == g.golden_id)
            .map(|l| (l.source.clone(), l.source_id.clone()))
            .collect(),
        None => BTreeSet::new(),
    };
    let mut stores = vec![raw_files(lake, Who::These(&ids)).await?];
    let orders: Vec<connector::shopify::OrderRow> =
        rows_table::read(lake, connector::ORDERS_KEY).await?;
    let order_ids: BTreeSet<String> = orders
        .iter()
        .filter(|o| o.customer_key.as_ref().is_some_and(|k| ids.contains(k)))
        .map(|o| o.order_id.clone())
        .collect();
    stores.push(source_records(lake, Some(&members)).await?);
    stores.push(parquet_tables(lake, Who::These(&ids), Who::These(&order_ids)).await?);
    let rows_removed = stores.iter().map(|s| s.rows_removed).sum();
    let subject_key = found
        .as_ref()
        .map_or_else(|| p.pseudonym(subject.trim()), |g| g.golden_id.clone());
    let job_id = job.unwrap_or_else(|| {
        let mut h = Sha256::new();
        h.update(subject_key.as_bytes());
        h.update(started_at.to_le_bytes());
        format!("erase-{}", hex::encode(&h.finalize()[..8]))
    });
    let receipt = Receipt {
        job_id: job_id.clone(),
        subject: p.pseudonym(subject.trim()),
        golden_id: found.map(|g| g.golden_id),
        identities: ids.len(),
        started_at,
        finished_at: now_ms(),
        stores,
        rows_removed,
    };
    let record = Erased {
        job_id,
        identities: ids.iter().cloned().collect(),
        erased_at: receipt.finished_at,
        whole_shop: false,
    };
    settle(lake, record, receipt).await
}

/// Records the erasure in `gdpr/erased.json` and writes its receipt.
async fn settle(lake: &Lake, record: Erased, receipt: Receipt) -> Result<Receipt, EraseError> {
    let key = shared::lake::gdpr_receipt_key(&record.job_id);
    let mut all = erased(lake).await?;
    all.push(record);
    let list = serde_json::to_vec_pretty(&all).map_err(|e| EraseError::Rewrite {
        key: ERASED.into(),
        reason: e.to_string(),
    })?;
    lake.put(ERASED, list).await?;
    let body = serde_json::to_vec_pretty(&receipt).map_err(|e| EraseError::Rewrite {
        key: RECEIPTS.into(),
        reason: e.to_string(),
    })?;
    lake.put(&key, body).await?;
    Ok(receipt)
}

/// A whole-shop erasure: every person's data in the lake, up to the request.
async fn erase_shop(
    lake: &Lake,
    request: &shared::gdpr::ErasureRequest,
    now_ms: impl Fn() -> i64,
) -> Result<Receipt, EraseError> {
    let started_at = now_ms();
    let mut stores = vec![
        raw_files(lake, Who::Everyone).await?,
        source_records(lake, None).await?,
        parquet_tables(lake, Who::Everyone, Who::Everyone).await?,
    ];
    // Exports answered to data requests hold the people they were about.
    let mut exports = StoreStatus {
        store: "customer exports (gdpr/receipts)".into(),
        ..StoreStatus::default()
    };
    let prefix = shared::lake::shopify_receipt("data-request", "");
    let prefix = prefix.trim_end_matches(".json");
    for (key, _) in lake.list(RECEIPTS).await? {
        exports.files_scanned += 1;
        if key.starts_with(prefix) {
            lake.delete(&key).await?;
            exports.files_rewritten += 1;
            exports.rows_removed += 1;
        }
    }
    exports.settle();
    stores.push(exports);
    let rows_removed = stores.iter().map(|s| s.rows_removed).sum();
    let receipt = Receipt {
        job_id: request.job_id.clone(),
        subject: request.subject.clone(),
        golden_id: None,
        identities: 0,
        started_at,
        finished_at: now_ms(),
        stores,
        rows_removed,
    };
    let record = Erased {
        job_id: request.job_id.clone(),
        identities: Vec::new(),
        // Everything up to the request: data that arrived since is a new relationship.
        erased_at: request.requested_at.max(started_at),
        whole_shop: true,
    };
    settle(lake, record, receipt).await
}

/// Raw NDJSON under `raw/`: lines naming an identity go.
async fn raw_files(lake: &Lake, who: Who<'_>) -> Result<StoreStatus, EraseError> {
    let mut st = StoreStatus {
        store: "raw (events, serves, quarantine)".into(),
        ..StoreStatus::default()
    };
    for (key, _) in lake.list(shared::lake::RAW).await? {
        if !key.ends_with(".ndjson") {
            continue;
        }
        st.files_scanned += 1;
        let body = lake.get(&key).await?;
        let text = String::from_utf8_lossy(&body);
        if !text.lines().any(|l| names(l, who)) {
            continue;
        }
        let mut kept = String::with_capacity(text.len());
        for line in text.lines() {
            if names(line, who) {
                st.rows_removed += 1;
            } else {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        if kept.is_empty() {
            lake.delete(&key).await?;
        } else {
            lake.put(&key, kept).await?;
        }
        st.files_rewritten += 1;
    }
    st.settle();
    Ok(st)
}

/// The person's staged source records (`None`: everyone's).
async fn source_records(
    lake: &Lake,
    members: Option<&BTreeSet<(String, String)>>,
) -> Result<StoreStatus, EraseError> {
    let mut st = StoreStatus {
        store: "customer_sources".into(),
        ..StoreStatus::default()
    };
    let rows = sources::read_all(lake).await?;
    let mut by_source: std::collections::BTreeMap<String, Vec<sources::SourceRow>> =
        std::collections::BTreeMap::new();
    for r in rows {
        by_source.entry(r.source.clone()).or_default().push(r);
    }
    for (source, rows) in by_source {
        st.files_scanned += 1;
        let before = rows.len();
        let kept: Vec<sources::SourceRow> = rows
            .into_iter()
            .filter(|r| {
                members.is_some_and(|m| !m.contains(&(r.source.clone(), r.source_id.clone())))
            })
            .collect();
        if kept.len() != before {
            st.rows_removed += before - kept.len();
            st.files_rewritten += 1;
            sources::replace(lake, &source, &kept).await?;
        }
    }
    st.settle();
    Ok(st)
}

/// Every other Parquet table under `tables/`.
async fn parquet_tables(
    lake: &Lake,
    who: Who<'_>,
    orders: Who<'_>,
) -> Result<StoreStatus, EraseError> {
    let mut st = StoreStatus {
        store: "tables (events, KPI, golden, lineage, orders)".into(),
        ..StoreStatus::default()
    };
    for (key, _) in lake.list(shared::lake::TABLES).await? {
        if !key.ends_with(".parquet") || key.starts_with(sources::PREFIX) {
            continue;
        }
        st.files_scanned += 1;
        let (needles, columns): (Who<'_>, &[&str]) = if key == connector::ORDER_LINES_KEY {
            (orders, &["order_id"])
        } else {
            (who, &ID_FIELDS)
        };
        let mut schema: Option<SchemaRef> = None;
        let mut batches = Vec::new();
        let mut removed = 0;
        let mut failure = None;
        parquet_io::for_each_batch(lake, &key, &[], |b| {
            schema.get_or_insert_with(|| b.schema());
            match drop_rows(&b, needles, columns) {
                Ok((kept, n)) => {
                    removed += n;
                    batches.push(kept);
                }
                Err(e) => failure = Some(e),
            }
            Ok(())
        })
        .await?;
        if let Some(reason) = failure {
            return Err(EraseError::Rewrite { key, reason });
        }
        if removed == 0 {
            continue;
        }
        let Some(schema) = schema else { continue };
        let file = parquet_io::encode(Arc::clone(&schema), &batches, &key)?;
        lake.put(&key, file).await?;
        st.rows_removed += removed;
        st.files_rewritten += 1;
    }
    st.settle();
    Ok(st)
}

/// Drops rows with a needle in one of the identity `columns`.
fn drop_rows(
    b: &RecordBatch,
    needles: Who<'_>,
    columns: &[&str],
) -> Result<(RecordBatch, usize), String> {
    let mut keep = vec![true; b.num_rows()];
    for (field, col) in b.schema().fields().iter().zip(b.columns()) {
        if !columns.contains(&field.name().as_str()) {
            continue;
        }
        let hit: Box<dyn Fn(usize) -> bool> = match col.data_type() {
            DataType::Utf8 => match col.as_any().downcast_ref::<StringArray>() {
                Some(s) => Box::new(move |i| s.is_valid(i) && needles.covers(s.value(i))),
                None => continue,
            },
            DataType::Utf8View => match col.as_any().downcast_ref::<StringViewArray>() {
                Some(s) => Box::new(move |i| s.is_valid(i) && needles.covers(s.value(i))),
                None => continue,
            },
            _ => continue,
        };
        for (i, k) in keep.iter_mut().enumerate() {
            if hit(i) {
                *k = false;
            }
        }
    }
    let removed = keep.iter().filter(|k| !**k).count();
    if removed == 0 {
        return Ok((b.clone(), 0));
    }
    let mask = BooleanArray::from(keep);
    let kept = filter_record_batch(b, &mask).map_err(|e| e.to_string())?;
    Ok((kept, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_keeps_new_lines_and_other_people() {
        let erased = ErasureList::new(
            &[Erased {
                job_id: "j".into(),
                identities: vec!["p_gone".into()],
                erased_at: 100,
                whole_shop: false,
            }],
            &[],
        );
        let body = "{\"user_id\":\"p_gone\",\"timestamp\":50}\n{\"user_id\":\"p_stay\",\"timestamp\":60}\n{\"user_id\":\"p_gone\",\"timestamp\":150}\n";
        let (kept, removed) = erased.suppress(body).unwrap();
        assert_eq!(
            kept,
            "{\"user_id\":\"p_stay\",\"timestamp\":60}\n{\"user_id\":\"p_gone\",\"timestamp\":150}\n"
        );
        assert_eq!(removed, 1);
        assert_eq!(erased.suppress("{\"user_id\":\"p_stay\"}\n"), None);
        // Regression: a short raw id was matched as text anywhere in a line.
        let short = ErasureList::new(
            &[Erased {
                job_id: "j".into(),
                identities: vec!["1".into()],
                erased_at: 100,
                whole_shop: false,
            }],
            &[],
        );
        let other = "{\"user_id\":\"2\",\"item_id\":\"1\",\"timestamp\":10}\n";
        assert_eq!(short.suppress(other), None);
    }

    #[test]
    fn rows_with_an_identity_in_any_text_column_go() {
        use datafusion::arrow::array::Int64Array;
        use datafusion::arrow::datatypes::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![
            Field::new("user_id", DataType::Utf8, true),
            Field::new("anonymous_id", DataType::Utf8, true),
            Field::new("n", DataType::Int64, false),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("p_a"), None, Some("p_c")])),
                Arc::new(StringArray::from(vec![None, Some("p_gone"), Some("p_d")])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        let ids: BTreeSet<String> = ["p_gone".to_owned(), "p_c".to_owned()].into();
        let (kept, removed) = drop_rows(&b, Who::These(&ids), &ID_FIELDS).unwrap();
        assert_eq!((kept.num_rows(), removed), (1, 2));
    }

    #[tokio::test]
    async fn erasure_rewrites_raw_files_and_is_idempotent() {
        let lake = Lake::open("memory://").unwrap();
        let p = Pseudonymizer::new(b"erase-test-key-0123").unwrap();
        let (gone, stay) = (p.pseudonym("7"), p.pseudonym("8"));
        lake.put(
            "raw/events/dt=2026-01-01/b.ndjson",
            format!("{{\"user_id\":\"{gone}\"}}\n{{\"user_id\":\"{stay}\"}}\n"),
        )
        .await
        .unwrap();
        lake.put(
            "raw/events/dt=2026-01-02/c.ndjson",
            format!("{{\"user_id\":\"{gone}\"}}\n"),
        )
        .await
        .unwrap();
        let r = erase(&lake, "7", &p, || 1_000).await.unwrap();
        assert_eq!(r.rows_removed, 2);
        assert_eq!(r.stores[0].files_rewritten, 2);
        let left = lake.get("raw/events/dt=2026-01-01/b.ndjson").await.unwrap();
        assert_eq!(
            String::from_utf8_lossy(&left),
            format!("{{\"user_id\":\"{stay}\"}}\n")
        );
        assert!(
            lake.head("raw/events/dt=2026-01-02/c.ndjson")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            lake.head(&format!("{RECEIPTS}{}.json", r.job_id))
                .await
                .unwrap()
                .is_some()
        );
        let again = erase(&lake, "7", &p, || 2_000).await.unwrap();
        assert_eq!(again.rows_removed, 0);
        assert_eq!(erased(&lake).await.unwrap().len(), 2);
        assert!(matches!(
            erase(&lake, " ", &p, || 0).await,
            Err(EraseError::EmptySubject)
        ));
    }

    #[tokio::test]
    async fn a_whole_shop_request_erases_everyone_and_keeps_the_catalog() {
        let lake = Lake::open("memory://").unwrap();
        let p = Pseudonymizer::new(b"erase-test-key-0123").unwrap();
        let (a, b) = (p.pseudonym("7"), p.pseudonym("8"));
        lake.put(
            "raw/events/dt=2026-01-01/b.ndjson",
            format!(
                "{{\"anonymous_id\":\"{a}\",\"timestamp\":10}}\n{{\"user_id\":\"{b}\",\"timestamp\":20}}\n"
            ),
        )
        .await
        .unwrap();
        let catalog = "{\"id\":\"sku-1\",\"title\":\"Mouse\"}\n";
        lake.put("raw/products/shopify/d1.ndjson", catalog)
            .await
            .unwrap();
        let export = shared::lake::shopify_receipt("data-request", "d0");
        lake.put(&export, format!("{{\"subject\":\"{a}\"}}"))
            .await
            .unwrap();
        let request = shared::gdpr::ErasureRequest::whole_shop("shop-redact-d2", "demo", &p, 1_000);
        lake.put(&request.key(), serde_json::to_vec(&request).unwrap())
            .await
            .unwrap();

        let done = erase_pending(&lake, &p, || 5_000).await.unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].rows_removed, 3, "{:?}", done[0].stores);
        assert!(
            lake.head("raw/events/dt=2026-01-01/b.ndjson")
                .await
                .unwrap()
                .is_none()
        );
        assert!(lake.head(&export).await.unwrap().is_none());
        let kept = lake.get("raw/products/shopify/d1.ndjson").await.unwrap();
        assert_eq!(String::from_utf8_lossy(&kept), catalog);
        // Recorded: later pulls drop earlier lines of anyone; a re-run does nothing.
        let list = erasure_list(&lake).await.unwrap();
        assert!(list.covers_line(&format!("{{\"user_id\":\"{b}\",\"timestamp\":20}}")));
        assert!(!list.covers_line(&format!("{{\"user_id\":\"{b}\",\"timestamp\":9000}}")));
        assert!(erase_pending(&lake, &p, || 6_000).await.unwrap().is_empty());
    }
}
