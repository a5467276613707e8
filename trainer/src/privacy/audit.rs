//! The trainer's entries in the admin audit log (`audit/dt=…/`, the same records the worker
//! writes for admin API calls): GDPR erasures and exports, who ran them and when. Subjects appear
//! only as pseudonyms.

use shared::gdpr::AuditRecord;

use crate::lake::store::{Lake, StoreError};

/// Appends one record: `action` on `path` (e.g. `erase customer/<pseudonym>`).
pub async fn record(lake: &Lake, action: &str, path: &str, now_ms: i64) -> Result<(), StoreError> {
    let actor = std::env::var("VITRINE_ACTOR")
        .or_else(|_| std::env::var("USER"))
        .map_or_else(|_| "trainer".to_owned(), |u| format!("trainer:{u}"));
    let record = AuditRecord {
        at: now_ms,
        action: action.to_owned(),
        method: "CLI".into(),
        path: path.to_owned(),
        status: 0,
        actor,
        client: None,
    };
    let nonce = format!("trainer-{:08x}", rand::random::<u32>());
    let body = serde_json::to_vec(&record).unwrap_or_default();
    lake.put(&record.key(&nonce), body).await
}
