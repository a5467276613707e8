//! `trainer alerts`: the windowed alert rules (`config/alerts.json` in the lake) evaluated over
//! the lake, delivered to a webhook with retries, each alert id at most once (sent ids are kept in
//! `tables/_state/alerts-sent.json` for 30 days).
//!
//! - out-of-stock views: today's and yesterday's raw events (fresh, not yet compacted) against the
//!   products table's `in_stock`;
//! - cart-abandonment and quarantine-rate spikes: the last day of the KPI tables `funnel` and
//!   `data_quality` against the 7 days before (run `trainer kpis` first; `trainer run` does).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use shared::alerts::{Alert, AlertRules, out_of_stock_views, spike};
use shared::time::{DAY_MS, date_of};
use shared::{Event, EventType};

use crate::lake::compact;
use crate::lake::rows_table;
use crate::lake::store::{Lake, StoreError};

/// The rules file.
pub const RULES_KEY: &str = shared::lake::CONFIG_ALERTS;
/// Alert ids already delivered.
pub const SENT_KEY: &str = shared::lake::STATE_ALERTS_SENT;
const KEEP_MS: i64 = 30 * DAY_MS;

/// Failures of an alerts run.
#[derive(Debug, thiserror::Error)]
pub enum AlertsError {
    #[error("{RULES_KEY}: {0}")]
    Rules(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Rows(#[from] rows_table::RowsError),
    #[error(transparent)]
    Compact(#[from] compact::CompactError),
    #[error("webhook {url}: {message}")]
    Webhook { url: String, message: String },
}

/// What a run found and sent.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertsReport {
    pub raised: Vec<Alert>,
    pub sent: usize,
    pub already_sent: usize,
}

#[derive(Deserialize)]
struct FunnelDay {
    cart_sessions: i64,
    cart_abandonment_rate: Option<f64>,
}

#[derive(Deserialize)]
struct QualityDay {
    events: i64,
    quarantined: i64,
}

/// Reads the rules (none when the file is absent).
pub async fn rules(lake: &Lake) -> Result<AlertRules, AlertsError> {
    match lake.get_opt(RULES_KEY).await? {
        None => Ok(AlertRules::default()),
        Some(b) => AlertRules::parse(&String::from_utf8_lossy(&b))
            .map_err(|e| AlertsError::Rules(e.to_string())),
    }
}

/// Rows of one KPI table per day, in date order.
async fn kpi_days<T: for<'de> Deserialize<'de>>(
    lake: &Lake,
    table: &str,
) -> Result<Vec<(String, T)>, AlertsError> {
    let mut out = Vec::new();
    for (key, _) in lake.list(&shared::lake::kpi_table_prefix(table)).await? {
        let Some(dt) = shared::lake::partition_of(&key) else {
            continue;
        };
        let dt = dt.to_owned();
        for row in rows_table::read::<T>(lake, &key).await? {
            out.push((dt.clone(), row));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Evaluates every rule at `now_ms`.
pub async fn evaluate(
    lake: &Lake,
    rules: &AlertRules,
    now_ms: i64,
) -> Result<Vec<Alert>, AlertsError> {
    let mut raised = Vec::new();
    if let Some(rule) = &rules.out_of_stock_views {
        let stock: BTreeMap<String, bool> = compact::read_products(lake)
            .await?
            .into_iter()
            .map(|p| (p.id, p.in_stock))
            .collect();
        let mut seen = BTreeSet::new();
        let mut views = Vec::new();
        for day in [date_of(now_ms - DAY_MS), date_of(now_ms)] {
            for (key, _) in lake
                .list(&format!("{}dt={day}/", shared::lake::RAW_EVENTS))
                .await?
            {
                let body = lake.get(&key).await?;
                for line in String::from_utf8_lossy(&body).lines() {
                    if let Ok(e) = serde_json::from_str::<Event>(line)
                        && e.event_type == EventType::View
                        && seen.insert(e.event_id.clone())
                        && let Some(item) = e.item_id
                    {
                        views.push((item, e.timestamp));
                    }
                }
            }
        }
        raised.extend(out_of_stock_views(rule, views, |i| stock.get(i).copied()));
    }
    if let Some(rule) = &rules.cart_abandonment_spike {
        let days: Vec<(String, f64, u64)> = kpi_days::<FunnelDay>(lake, "funnel")
            .await?
            .into_iter()
            .filter_map(|(d, f)| {
                Some((
                    d,
                    f.cart_abandonment_rate?,
                    u64::try_from(f.cart_sessions).ok()?,
                ))
            })
            .collect();
        raised.extend(spike("cart_abandonment_spike", rule, &days, now_ms));
    }
    if let Some(rule) = &rules.quarantine_rate_spike {
        let days: Vec<(String, f64, u64)> = kpi_days::<QualityDay>(lake, "data_quality")
            .await?
            .into_iter()
            .filter(|(_, q)| q.events + q.quarantined > 0)
            .map(|(d, q)| {
                let total = q.events + q.quarantined;
                (
                    d,
                    q.quarantined as f64 / total as f64,
                    u64::try_from(total).unwrap_or(0),
                )
            })
            .collect();
        raised.extend(spike("quarantine_rate_spike", rule, &days, now_ms));
    }
    Ok(raised)
}

/// Evaluates and delivers: each new alert is POSTed (JSON, `Idempotency-Key`), with retries; ids
/// are recorded as sent only after the webhook accepted them.
pub async fn run(
    lake: &Lake,
    webhook: Option<&str>,
    now_ms: i64,
) -> Result<AlertsReport, AlertsError> {
    let rules = rules(lake).await?;
    let raised = evaluate(lake, &rules, now_ms).await?;
    let mut sent: BTreeMap<String, i64> = match lake.get_opt(SENT_KEY).await? {
        Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
        None => BTreeMap::new(),
    };
    sent.retain(|_, at| now_ms - *at < KEEP_MS);
    let mut report = AlertsReport::default();
    if let Some(url) = webhook {
        let http = crate::http::client().map_err(|e| AlertsError::Webhook {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
        for alert in &raised {
            if sent.contains_key(&alert.alert_id) {
                report.already_sent += 1;
                continue;
            }
            let delivered = crate::http::send_with_retry(|| {
                http.post(url)
                    .header("idempotency-key", &alert.alert_id)
                    .json(alert)
            })
            .await;
            // Record what went out even when a later alert fails, then report the failure.
            if let Err(message) = delivered {
                save_sent(lake, &sent).await?;
                return Err(AlertsError::Webhook {
                    url: url.to_owned(),
                    message,
                });
            }
            sent.insert(alert.alert_id.clone(), now_ms);
            report.sent += 1;
        }
        save_sent(lake, &sent).await?;
    }
    report.raised = raised;
    Ok(report)
}

async fn save_sent(lake: &Lake, sent: &BTreeMap<String, i64>) -> Result<(), AlertsError> {
    let body = serde_json::to_vec_pretty(sent).map_err(|e| AlertsError::Rules(e.to_string()))?;
    lake.put(SENT_KEY, body).await?;
    Ok(())
}
