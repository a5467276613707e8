//! `trainer replay-dead`: puts the dead letters the edge's dead-letter consumer wrote to
//! `raw/dead/` back where the queue consumer would have written them (events by event date,
//! quarantine, serves), once the cause of the failed writes is fixed. Lines of people erased
//! before their time stay out; the replayed file names derive from the dead-letter file, so a
//! replay that is interrupted and run again writes the same files, and compaction's dedup on
//! (shopper, event id) keeps every event once.

use serde::Serialize;
use shared::ingest::{LakeMessage, lake_files};

use crate::lake::store::{Lake, StoreError};

/// Replay failures.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reading the erasure list: {0}")]
    Erasures(String),
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    pub files: usize,
    pub messages: usize,
    pub events: usize,
    /// Lines that were not lake messages (kept in quarantine, never dropped).
    pub unreadable: usize,
    /// Lines of erased people left out.
    pub erased: usize,
    pub written: Vec<String>,
}

/// Replays every dead-letter file, then removes it.
pub async fn replay(lake: &Lake, now_ms: i64) -> Result<ReplayReport, ReplayError> {
    let erasures = crate::privacy::erase::erasure_list(lake)
        .await
        .map_err(|e| ReplayError::Erasures(e.to_string()))?;
    let mut report = ReplayReport::default();
    for (key, _) in lake.list(shared::lake::RAW_DEAD).await? {
        if !key.ends_with(".ndjson") {
            continue;
        }
        report.files += 1;
        let body = lake.get(&key).await?;
        let text = String::from_utf8_lossy(&body);
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut messages = shared::ingest::decode_messages(lines.iter().copied(), now_ms);
        report.unreadable += messages
            .iter()
            .filter(|m| matches!(m, LakeMessage::Rejected { rejected } if rejected.code == "unreadable_message"))
            .count();
        report.erased += shared::gdpr::drop_erased(&mut messages, &erasures);
        report.messages += messages.len();
        report.events += messages
            .iter()
            .filter(|m| matches!(m, LakeMessage::Event { .. }))
            .count();
        let name = key
            .rsplit('/')
            .next()
            .unwrap_or("dead")
            .trim_end_matches(".ndjson");
        for (file, content) in lake_files(&messages, &format!("replay-{name}")) {
            lake.put(&file, content).await?;
            report.written.push(file);
        }
        lake.delete(&key).await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dead_letters_go_back_once_and_erased_people_stay_out() {
        let lake = Lake::open("memory://").unwrap();
        let event = |id: &str, who: &str, ts: i64| {
            serde_json::json!({"kind": "event", "event": {"event_id": id, "type": "view",
                "anonymous_id": who, "session_id": "s", "timestamp": ts, "item_id": "x"}})
            .to_string()
        };
        let body = format!(
            "{}\n{}\nnot json\n",
            event(
                "e1",
                "p_0000000000000000000000000000aaaa",
                1_790_000_000_000
            ),
            event(
                "e2",
                "p_0000000000000000000000000000bbbb",
                1_790_000_000_000
            )
        );
        lake.put(&shared::lake::dead_letters_key("2026-09-21", "b1"), body)
            .await
            .unwrap();
        let erased = serde_json::json!([{"job_id": "j", "identities":
            ["p_0000000000000000000000000000bbbb"], "erased_at": 1_800_000_000_000i64}]);
        lake.put(shared::lake::GDPR_ERASED, erased.to_string())
            .await
            .unwrap();
        let r = replay(&lake, 1_790_000_000_500).await.unwrap();
        assert_eq!(
            (r.files, r.events, r.erased, r.unreadable),
            (1, 1, 1, 1),
            "{r:?}"
        );
        assert!(lake.list(shared::lake::RAW_DEAD).await.unwrap().is_empty());
        let events = lake.list(shared::lake::RAW_EVENTS).await.unwrap();
        assert_eq!(events.len(), 1);
        let text = String::from_utf8(lake.get(&events[0].0).await.unwrap().to_vec()).unwrap();
        assert!(text.contains("e1") && !text.contains("e2"), "{text}");
        assert_eq!(
            lake.list(shared::lake::RAW_QUARANTINE).await.unwrap().len(),
            1
        );
        // Nothing left: a second replay is a no-op.
        assert_eq!(replay(&lake, 1).await.unwrap().files, 0);
    }
}
