//! GDPR at the edge, decided here so it is tested natively: erasure requests the worker hands to
//! the trainer, the export document, and the admin audit log.
//!
//! `DELETE /v1/admin/customers/{id}` erases what the edge holds at once (the shopper's session
//! state) and leaves an [`ErasureRequest`] under `gdpr/requests/` in the lake; the next
//! `trainer run` (or `trainer erase --pending`) erases the lake and writes the receipt under
//! `gdpr/receipts/`. Every admin request leaves an [`AuditRecord`] under `audit/`, with customer
//! ids in paths replaced by their pseudonym so the log itself holds no identifiers.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Event;
use crate::ingest::{LakeMessage, Serve};
use crate::privacy::{Pseudonymizer, is_pseudonym};
use crate::route::Route;
use crate::session::SessionState;
use crate::time::date_of;

pub use crate::lake::{AUDIT, GDPR_RECEIPTS as RECEIPTS, GDPR_REQUESTS as REQUESTS};

/// One store's part of an erasure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreState {
    pub store: String,
    /// `removed` (something was found and removed), `not_found` (nothing held about the person)
    /// or `pending` (the trainer's next run carries it out).
    pub status: String,
    /// How much was removed (session stores, lake rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
}

/// An erasure as the edge records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErasureRequest {
    pub job_id: String,
    /// The person's pseudonym (never the raw id).
    pub subject: String,
    pub requested_at: i64,
    /// Every pseudonym the edge knew for the person: their user id, the same id as a device, and
    /// the devices their logins linked. The queue consumer drops these at once; the trainer
    /// widens the set with the golden record when it carries the request out.
    #[serde(default)]
    pub identities: Vec<String>,
    pub stores: Vec<StoreState>,
    /// Everyone: the shop asked for all its customers' data to go (Shopify's `shop/redact`).
    /// `subject` is then the shop's pseudonym and `identities` is empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_shop: bool,
}

impl ErasureRequest {
    /// The request for the customer `id` at `now_ms`, with the session already erased.
    /// `linked`: the devices their logins linked (pseudonymised here).
    pub fn new(id: &str, linked: &[String], p: &Pseudonymizer, now_ms: i64) -> Self {
        let subject = p.pseudonym(id);
        let mut identities: Vec<String> = std::iter::once(subject.clone())
            .chain(linked.iter().map(|d| p.pseudonym(d)))
            .collect();
        identities.sort_unstable();
        identities.dedup();
        let mut h = Sha256::new();
        h.update(subject.as_bytes());
        h.update(now_ms.to_le_bytes());
        let digest = h.finalize();
        let job_id = format!(
            "erase-{}",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Self {
            job_id,
            subject,
            requested_at: now_ms,
            identities,
            stores: vec![
                StoreState {
                    store: "session".into(),
                    status: "removed".into(),
                    removed: None,
                    at: Some(now_ms),
                },
                StoreState {
                    store: "lake".into(),
                    status: "pending".into(),
                    removed: None,
                    at: None,
                },
            ],
            whole_shop: false,
        }
    }

    /// The request to erase every customer of the shop `shop` (its domain), named `job_id` (a
    /// safe key segment). Session stores are not enumerable: each expires after its idle TTL
    /// (`crate::session::TTL_MS`), and the queue and the trainer drop every earlier line at once.
    pub fn whole_shop(job_id: &str, shop: &str, p: &Pseudonymizer, now_ms: i64) -> Self {
        Self {
            job_id: job_id.to_owned(),
            subject: p.pseudonym(&format!("shop:{shop}")),
            requested_at: now_ms,
            identities: Vec::new(),
            stores: vec![
                StoreState {
                    store: "session".into(),
                    status: "expiring".into(),
                    removed: None,
                    at: Some(now_ms + crate::session::TTL_MS),
                },
                StoreState {
                    store: "lake".into(),
                    status: "pending".into(),
                    removed: None,
                    at: None,
                },
            ],
            whole_shop: true,
        }
    }

    /// Records how many session stores held the person's state (`removed`, or `not_found`).
    pub fn session_removed(&mut self, held: usize) {
        if let Some(s) = self.stores.iter_mut().find(|s| s.store == "session") {
            s.status = if held > 0 { "removed" } else { "not_found" }.into();
            s.removed = Some(held);
        }
    }

    /// Where the request is stored.
    pub fn key(&self) -> String {
        crate::lake::gdpr_request_key(&self.job_id)
    }
}

/// One erasure's identities (pseudonyms and the golden id: nothing that names the person).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Erased {
    pub job_id: String,
    pub identities: Vec<String>,
    pub erased_at: i64,
    /// Everyone up to `erased_at` (a whole-shop erasure).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_shop: bool,
}

/// Whose data an erasure covers.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// These identities (pseudonyms, raw ids, golden ids).
    These(&'a BTreeSet<String>),
    /// Every person (a whole-shop erasure).
    Everyone,
}

impl Who<'_> {
    /// Whether the identity value `id` is covered.
    pub fn covers(&self, id: &str) -> bool {
        match self {
            Who::These(ids) => ids.contains(id),
            Who::Everyone => !id.is_empty(),
        }
    }
}

/// Who has been erased, and since when: the trainer's `gdpr/erased.json` plus the requests the
/// edge recorded that the trainer has not carried out yet. Every writer of lake lines (the queue
/// consumer, `trainer pull`, compaction) drops the lines it covers, so late data — a batch still
/// in the queue, a redelivery, a re-driven dead letter — never brings an erased person back.
/// Serialisable so a compaction plan carries it to the executors that run the check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErasureList {
    entries: Vec<(i64, BTreeSet<String>)>,
    /// The latest whole-shop erasure: every line naming a person up to then is covered.
    everyone_until: Option<i64>,
}

impl ErasureList {
    /// The list from `gdpr/erased.json` (if any) and pending requests.
    pub fn new(erased: &[Erased], pending: &[ErasureRequest]) -> Self {
        let everyone_until = erased
            .iter()
            .filter(|e| e.whole_shop)
            .map(|e| e.erased_at)
            .chain(
                pending
                    .iter()
                    .filter(|r| r.whole_shop)
                    .map(|r| r.requested_at),
            )
            .max();
        let done = erased
            .iter()
            .filter(|e| !e.whole_shop)
            .map(|e| (e.erased_at, e.identities.iter().cloned().collect()));
        let waiting = pending.iter().filter(|r| !r.whole_shop).map(|r| {
            let mut ids: BTreeSet<String> = r.identities.iter().cloned().collect();
            ids.insert(r.subject.clone());
            (r.requested_at, ids)
        });
        Self {
            entries: done.chain(waiting).collect(),
            everyone_until,
        }
    }

    /// Nobody erased.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.everyone_until.is_none()
    }

    /// Whether a lake line names an erased person and is from before their erasure (a line with
    /// no time counts as before).
    pub fn covers_line(&self, line: &str) -> bool {
        if let Some(until) = self.everyone_until
            && line_time(line).is_none_or(|t| t <= until)
            && names(line, Who::Everyone)
        {
            return true;
        }
        // Cheap first: a line that contains none of the identities as text names nobody.
        if !self
            .entries
            .iter()
            .any(|(_, ids)| ids.iter().any(|id| line.contains(id.as_str())))
        {
            return false;
        }
        let at = line_time(line);
        self.entries
            .iter()
            .any(|(when, ids)| at.is_none_or(|t| t <= *when) && names_any(line, ids))
    }

    /// A raw NDJSON body without the lines [`Self::covers_line`] covers, and how many went;
    /// `None` when nothing had to go.
    pub fn suppress(&self, body: &str) -> Option<(String, usize)> {
        if !body.lines().any(|l| self.covers_line(l)) {
            return None;
        }
        let mut removed = 0;
        let mut kept = String::with_capacity(body.len());
        for line in body.lines() {
            if self.covers_line(line) {
                removed += 1;
            } else {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        Some((kept, removed))
    }
}

/// The JSON members that identify a person (wherever they are nested: quarantined bodies keep
/// the event under `raw`).
pub const ID_FIELDS: [&str; 8] = [
    "user_id",
    "anonymous_id",
    "customer_key",
    "user_key",
    "shopper",
    "golden_id",
    "email_key",
    "subject",
];

/// When a lake line happened: its `timestamp`, else `received_at`.
fn line_time(line: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| {
            v.get("timestamp")
                .or_else(|| v.get("received_at"))
                .and_then(serde_json::Value::as_i64)
        })
}

/// Whether a JSON line names one of `ids` in an identity member (exact match). Unparseable lines
/// are compared as text, so nothing naming the person survives by being malformed.
pub fn names_any(line: &str, ids: &BTreeSet<String>) -> bool {
    names(line, Who::These(ids))
}

/// Whether a JSON line names someone `who` covers in an identity member. Unparseable lines are
/// compared as text (for [`Who::Everyone`]: always covered), so nothing survives by being
/// malformed.
pub fn names(line: &str, who: Who<'_>) -> bool {
    fn walk(v: &serde_json::Value, who: Who<'_>) -> bool {
        match v {
            serde_json::Value::Object(m) => m.iter().any(|(k, v)| match v {
                serde_json::Value::String(s)
                    if ID_FIELDS.contains(&k.as_str()) || (k == "id" && is_pseudonym(s)) =>
                {
                    who.covers(s)
                }
                other => walk(other, who),
            }),
            serde_json::Value::Array(a) => a.iter().any(|v| walk(v, who)),
            _ => false,
        }
    }
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(v) => walk(&v, who),
        Err(_) => match who {
            Who::These(ids) => ids
                .iter()
                .any(|id| is_pseudonym(id) && line.contains(id.as_str())),
            Who::Everyone => !line.trim().is_empty(),
        },
    }
}

/// The messages an erasure covers leave the batch (a redelivered batch or a re-driven dead
/// letter of an erased person must not land). Returns how many went.
pub fn drop_erased(messages: &mut Vec<LakeMessage>, erased: &ErasureList) -> usize {
    if erased.is_empty() {
        return 0;
    }
    let before = messages.len();
    messages.retain(|m| {
        let line = match m {
            LakeMessage::Event { event } => serde_json::to_string(event),
            LakeMessage::Rejected { rejected } => serde_json::to_string(rejected),
            LakeMessage::Serve { serve } => serde_json::to_string(serve),
        };
        !line.is_ok_and(|l| erased.covers_line(&l))
    });
    before - messages.len()
}

/// The Durable Object keys a customer id may have state under.
pub fn session_keys(id: &str) -> [String; 2] {
    [format!("u:{id}"), format!("a:{id}")]
}

/// Everything the edge holds about one person.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub subject: String,
    pub generated_at: i64,
    /// Session state per session key (`u:<id>`, `a:<id>`, and the `a:<device>` keys a login
    /// linked to the user).
    pub sessions: std::collections::BTreeMap<String, SessionState>,
    /// Their events in the lake's raw zone (as stored: pseudonymised).
    pub events: Vec<Event>,
    /// What recommendation and search responses showed them.
    pub serves: Vec<Serve>,
    pub erasure_requests: Vec<ErasureRequest>,
    /// Whether the raw zone had more files than one export reads.
    pub truncated: bool,
    pub notes: Vec<String>,
}

impl Export {
    /// Keeps the lines of a raw NDJSON file that belong to the subject.
    pub fn add_raw(&mut self, key: &str, body: &str) {
        for line in body.lines().filter(|l| l.contains(self.subject.as_str())) {
            if key.starts_with(crate::lake::RAW_EVENTS) {
                if let Ok(e) = serde_json::from_str::<Event>(line) {
                    self.events.push(e);
                }
            } else if let Ok(s) = serde_json::from_str::<Serve>(line) {
                self.serves.push(s);
            }
        }
    }
}

/// One admin action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at: i64,
    pub action: String,
    pub method: String,
    /// The path with customer ids replaced by pseudonyms.
    pub path: String,
    pub status: u16,
    /// Who: the admin key (the only credential admin routes accept).
    pub actor: String,
    /// The client address, pseudonymised.
    pub client: Option<String>,
}

impl AuditRecord {
    /// The record of `route` answered with `status`.
    pub fn new(
        route: &Route,
        method: &str,
        path: &str,
        status: u16,
        client_ip: Option<&str>,
        p: Option<&Pseudonymizer>,
        now_ms: i64,
    ) -> Self {
        // Rebuilt from the route, not by text replacement: an id like `1` also occurs in `/v1`.
        let who = |id: &str| p.map_or_else(|| "<redacted>".to_owned(), |p| p.pseudonym(id));
        let redacted = match route {
            Route::AdminCustomerErase { id } => format!("/v1/admin/customers/{}", who(id)),
            Route::AdminCustomerExport { id } => {
                format!("/v1/admin/customers/{}/export", who(id))
            }
            _ => path.to_owned(),
        };
        Self {
            at: now_ms,
            action: action(route).into(),
            method: method.into(),
            path: redacted,
            status,
            actor: "admin-key".into(),
            client: client_ip.and_then(|ip| p.map(|p| p.pseudonym(ip))),
        }
    }

    /// Where the record is stored (`nonce` keeps two records of one millisecond apart).
    pub fn key(&self, nonce: &str) -> String {
        crate::lake::audit_key(&date_of(self.at), self.at, nonce)
    }
}

/// A stable name for what an admin route does.
pub fn action(route: &Route) -> &'static str {
    match route {
        Route::AdminLakeList => "lake_list",
        Route::AdminLakeGet { .. } => "lake_read",
        Route::AdminModelPut { .. } => "model_write",
        Route::AdminDashboard => "dashboard_read",
        Route::AdminRulesGet => "rules_read",
        Route::AdminRulesPut => "rules_write",
        Route::AdminCustomerErase { .. } => "customer_erase",
        Route::AdminCustomerExport { .. } => "customer_export",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Pseudonymizer {
        Pseudonymizer::new(b"gdpr-test-key-0123456").unwrap()
    }

    #[test]
    fn requests_name_the_subject_only_by_pseudonym() {
        let r = ErasureRequest::new("cust-42", &["device-9".into()], &p(), 1_790_000_000_000);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("cust-42"), "{text}");
        assert_eq!(r.subject, p().pseudonym("cust-42"));
        assert!(r.key().starts_with("gdpr/requests/erase-"));
        assert_ne!(
            r.job_id,
            ErasureRequest::new("cust-42", &[], &p(), 1_790_000_000_001).job_id
        );
        assert_eq!(session_keys("7"), ["u:7".to_owned(), "a:7".to_owned()]);
    }

    #[test]
    fn audit_records_redact_customer_ids() {
        let route = Route::AdminCustomerErase {
            id: "cust-42".into(),
        };
        let a = AuditRecord::new(
            &route,
            "DELETE",
            "/v1/admin/customers/cust-42",
            202,
            Some("10.0.0.1"),
            Some(&p()),
            1_790_000_000_000,
        );
        let text = serde_json::to_string(&a).unwrap();
        assert!(
            !text.contains("cust-42") && !text.contains("10.0.0.1"),
            "{text}"
        );
        assert_eq!(a.action, "customer_erase");
        assert!(
            a.key("x1")
                .starts_with("audit/dt=2026-09-21/1790000000000-x1")
        );
        // Regression: the id `1` was replaced inside `/v1` instead of the id segment.
        let one = AuditRecord::new(
            &Route::AdminCustomerExport { id: "1".into() },
            "GET",
            "/v1/admin/customers/1/export",
            200,
            None,
            Some(&p()),
            0,
        );
        assert_eq!(
            one.path,
            format!("/v1/admin/customers/{}/export", p().pseudonym("1"))
        );
        let list = AuditRecord::new(
            &Route::AdminLakeList,
            "GET",
            "/v1/admin/lake",
            200,
            None,
            None,
            0,
        );
        assert_eq!(
            (list.action.as_str(), list.path.as_str()),
            ("lake_list", "/v1/admin/lake")
        );
    }

    #[test]
    fn exports_keep_only_the_subjects_lines() {
        let subject = p().pseudonym("7");
        let mut x = Export {
            subject: subject.clone(),
            ..Export::default()
        };
        let mine = format!(
            r#"{{"event_id":"e1","type":"view","user_id":"{subject}","session_id":"s","timestamp":1,"item_id":"i"}}"#
        );
        let other = r#"{"event_id":"e2","type":"view","user_id":"p_other","session_id":"s","timestamp":1,"item_id":"i"}"#;
        x.add_raw(
            "raw/events/dt=2026-01-01/b.ndjson",
            &format!("{mine}\n{other}\n"),
        );
        assert_eq!(x.events.len(), 1);
        assert_eq!(x.events[0].event_id, "e1");
    }

    #[test]
    fn the_erasure_list_drops_late_lines_of_erased_people_only() {
        let p = p();
        let req = ErasureRequest::new("cust-42", &["device-9".into()], &p, 1_000);
        assert!(req.identities.contains(&p.pseudonym("device-9")));
        let list = ErasureList::new(
            &[Erased {
                job_id: "old".into(),
                identities: vec![p.pseudonym("cust-7")],
                erased_at: 500,
                whole_shop: false,
            }],
            &[req],
        );
        let line = |who: &str, field: &str, ts: i64| {
            serde_json::json!({"event_id": "e", "type": "view", field: p.pseudonym(who),
                "session_id": "s", "timestamp": ts})
            .to_string()
        };
        // Before the erasure: gone, whichever id names them; after it: a new relationship.
        assert!(list.covers_line(&line("cust-42", "user_id", 999)));
        assert!(list.covers_line(&line("device-9", "anonymous_id", 999)));
        assert!(!list.covers_line(&line("cust-42", "user_id", 1_001)));
        assert!(list.covers_line(&line("cust-7", "user_id", 400)));
        assert!(!list.covers_line(&line("someone", "user_id", 400)));
        let body = format!(
            "{}\n{}\n",
            line("cust-42", "user_id", 10),
            line("someone", "anonymous_id", 10)
        );
        let (kept, removed) = list.suppress(&body).unwrap();
        assert_eq!(removed, 1);
        assert!(!kept.contains(&p.pseudonym("cust-42")), "{kept}");
        assert!(ErasureList::default().suppress(&body).is_none());
    }

    #[test]
    fn a_whole_shop_erasure_covers_every_earlier_line_naming_a_person() {
        let p = p();
        let req = ErasureRequest::whole_shop("shop-redact-1", "demo.myshopify.com", &p, 1_000);
        assert!(req.whole_shop && req.identities.is_empty());
        let list = ErasureList::new(&[], &[req]);
        assert!(!list.is_empty());
        let line = |who: &str, ts: i64| {
            serde_json::json!({"event_id": "e", "type": "view", "anonymous_id": p.pseudonym(who),
                "session_id": "s", "timestamp": ts})
            .to_string()
        };
        assert!(list.covers_line(&line("anyone", 999)));
        assert!(list.covers_line(&line("someone else", 1_000)));
        assert!(!list.covers_line(&line("anyone", 1_001)), "after: kept");
        // A catalog record names nobody; an unreadable line might, so it goes.
        assert!(!list.covers_line(r#"{"id":"sku-1","title":"Mouse","timestamp":5}"#));
        assert!(list.covers_line("{not json"));
        // Once carried out, the trainer's record keeps covering the same lines.
        let done = ErasureList::new(
            &[Erased {
                job_id: "shop-redact-1".into(),
                identities: Vec::new(),
                erased_at: 1_000,
                whole_shop: true,
            }],
            &[],
        );
        assert!(done.covers_line(&line("anyone", 10)));
        assert!(!done.covers_line(&line("anyone", 2_000)));
    }
}
