//! Delivers the alerts the edge raises (`shared::alerts::on_ingest`, dead letters) to the
//! `ALERT_WEBHOOK` after the response (waitUntil): JSON POST, `Idempotency-Key` = the alert id, up
//! to 3 attempts with backoff, each alert id sent once per isolate (a redelivered batch raises the
//! same ids), and at most `shared::alerts::MAX_ALERTS_PER_MINUTE` a minute, a few per shopper.

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};

use shared::Event;
use shared::alerts::{Alert, AlertLimiter, on_ingest};
use worker::{Context, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::settings;

const REMEMBERED: usize = 4_096;
const ATTEMPTS: u32 = 3;

thread_local! {
    static SENT: RefCell<(BTreeSet<String>, VecDeque<String>)> = RefCell::new(Default::default());
    static LIMIT: RefCell<AlertLimiter> = RefCell::new(AlertLimiter::default());
}

/// Alerts the caps let through now.
fn within_caps(raised: Vec<(String, Alert)>, now: i64) -> Vec<Alert> {
    LIMIT.with(|l| {
        let mut l = l.borrow_mut();
        raised
            .into_iter()
            .filter(|(shopper, _)| l.admit(shopper, now))
            .map(|(_, a)| a)
            .collect()
    })
}

/// Ids not sent before by this isolate (and now marked as sent).
fn fresh(alerts: Vec<Alert>) -> Vec<Alert> {
    SENT.with(|s| {
        let (set, order) = &mut *s.borrow_mut();
        alerts
            .into_iter()
            .filter(|a| {
                if !set.insert(a.alert_id.clone()) {
                    return false;
                }
                order.push_back(a.alert_id.clone());
                if order.len() > REMEMBERED
                    && let Some(old) = order.pop_front()
                {
                    set.remove(&old);
                }
                true
            })
            .collect()
    })
}

async fn post(url: &str, alert: &Alert) -> worker::Result<u16> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("idempotency-key", &alert.alert_id)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(serde_json::to_string(alert)?.into()));
    let req = Request::new_with_init(url, &init)?;
    Ok(Fetch::Request(req).send().await?.status_code())
}

async fn deliver(url: &str, alerts: Vec<Alert>) {
    for alert in alerts {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                worker::Delay::from(std::time::Duration::from_millis(200 << attempt)).await;
            }
            match post(url, &alert).await {
                Ok(s) if (200..300).contains(&s) => break,
                Ok(s) => worker::console_error!("alert {}: webhook answered {s}", alert.alert_id),
                Err(e) => worker::console_error!("alert {}: {e}", alert.alert_id),
            }
        }
    }
}

/// Raises and sends the edge's alerts for an accepted batch.
pub fn after_ingest(env: &Env, ctx: &Context, accepted: &[Event], now: i64) {
    let set = settings::get(env);
    let Some(url) = set.alert_webhook.clone() else {
        return;
    };
    let alerts = fresh(within_caps(on_ingest(&set.alert_rules, accepted), now));
    if alerts.is_empty() {
        return;
    }
    ctx.wait_until(async move { deliver(&url, alerts).await });
}

/// A dead-letter batch reached the lake's `raw/dead/`: the operator should replay it
/// (`trainer replay-dead`) once the cause is fixed.
pub async fn dead_letters(env: &Env, messages: usize, key: &str, now: i64) {
    let Some(url) = settings::get(env).alert_webhook.clone() else {
        return;
    };
    let alert = Alert {
        alert_id: format!("dead_letters:{key}"),
        rule: "dead_letters".into(),
        severity: "warning".into(),
        message: format!(
            "{messages} message(s) could not be written to the lake within the queue's retries; \
             they are in {key}: run `trainer replay-dead` once the lake is healthy"
        ),
        subject: key.to_owned(),
        #[expect(clippy::cast_precision_loss, reason = "a batch holds ≤ 100 messages")]
        value: messages as f64,
        threshold: 0.0,
        at: now,
    };
    let alerts = fresh(within_caps(vec![("dead-letters".into(), alert)], now));
    deliver(&url, alerts).await;
}
