//! Delivers the alerts `shared::alerts::on_ingest` raises to the `ALERT_WEBHOOK` after the
//! response (waitUntil): JSON POST, `Idempotency-Key` = the alert id, up to 3 attempts with
//! backoff, and each alert id sent once per isolate (a redelivered batch raises the same ids).

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};

use shared::Event;
use shared::alerts::{Alert, on_ingest};
use worker::{Context, Env, Fetch, Headers, Method, Request, RequestInit};

use crate::settings;

const REMEMBERED: usize = 4_096;
const ATTEMPTS: u32 = 3;

thread_local! {
    static SENT: RefCell<(BTreeSet<String>, VecDeque<String>)> = RefCell::new(Default::default());
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

/// Raises and sends the edge's alerts for an accepted batch.
pub fn after_ingest(env: &Env, ctx: &Context, accepted: &[Event]) {
    let set = settings::get(env);
    let Some(url) = set.alert_webhook.clone() else {
        return;
    };
    let alerts = fresh(on_ingest(&set.alert_rules, accepted));
    if alerts.is_empty() {
        return;
    }
    ctx.wait_until(async move {
        for alert in alerts {
            for attempt in 0..ATTEMPTS {
                if attempt > 0 {
                    worker::Delay::from(std::time::Duration::from_millis(200 << attempt)).await;
                }
                match post(&url, &alert).await {
                    Ok(s) if (200..300).contains(&s) => break,
                    Ok(s) => {
                        worker::console_error!("alert {}: webhook answered {s}", alert.alert_id)
                    }
                    Err(e) => worker::console_error!("alert {}: {e}", alert.alert_id),
                }
            }
        }
    });
}
