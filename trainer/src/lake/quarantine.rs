//! Quarantine: what a stage refuses is kept, one JSON line per refused record with the reason,
//! never dropped silently. Every writer of a quarantine file (compaction, importers, connectors)
//! goes through [`write`], so the files have one shape: NDJSON, written whole in one `put`.

use serde::Serialize;

use crate::lake::store::{Lake, StoreError};

/// Writes `rows` as NDJSON to `key`; nothing is written when there are none. Returns how many
/// rows were written.
pub async fn write<T: Serialize>(lake: &Lake, key: &str, rows: &[T]) -> Result<usize, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut body = String::new();
    for row in rows {
        // A row that cannot be serialised is still counted as refused: its line names why.
        match serde_json::to_string(row) {
            Ok(line) => body.push_str(&line),
            Err(e) => {
                body.push_str(&serde_json::json!({ "unserialisable": e.to_string() }).to_string())
            }
        }
        body.push('\n');
    }
    lake.put(key, body).await?;
    Ok(rows.len())
}
