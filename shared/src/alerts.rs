//! Real-time alerts: rules, what fires them, and the JSON a webhook receives.
//!
//! Cheap rules are evaluated by the edge on every ingested batch (an order above a value); windowed
//! rules (an out-of-stock product viewed N times within M minutes, a cart-abandonment spike, a
//! quarantine-rate spike) by `trainer alerts` over the lake. Both sides deliver with retries and
//! an `Idempotency-Key` header equal to the alert's `alert_id`, which is derived from the rule and
//! what fired it, so a redelivered batch or a re-run never raises a second, different alert.

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType};

/// The rules in force (`ALERT_RULES` at the edge, `config/alerts.json` in the lake); every rule is
/// optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRules {
    /// A purchase whose total (sum of lines) is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_value_above: Option<f64>,
    /// An out-of-stock product viewed at least `views` times within `minutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_stock_views: Option<WindowRule>,
    /// A day's cart abandonment rate at least `factor` × the mean of the previous 7 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_abandonment_spike: Option<SpikeRule>,
    /// A day's quarantined share of events at least `factor` × the previous 7 days' (and above
    /// `min_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_rate_spike: Option<SpikeRule>,
}

/// N occurrences within M minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRule {
    pub views: u32,
    pub minutes: u32,
}

/// A rate against its trailing mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeRule {
    pub factor: f64,
    /// Ignore days with fewer sessions (abandonment) or events (quarantine) than this.
    #[serde(default = "min_volume")]
    pub min_volume: u64,
    /// Never fire below this rate.
    #[serde(default)]
    pub min_rate: f64,
}

fn min_volume() -> u64 {
    50
}

/// Why a rule set was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    #[error("alert rules are not valid JSON: {0}")]
    Json(String),
    #[error("alert rule `{rule}`: {reason}")]
    Invalid { rule: &'static str, reason: String },
}

impl AlertRules {
    /// Parses and checks rules (empty text: no rules).
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let rules: Self =
            serde_json::from_str(text).map_err(|e| RulesError::Json(e.to_string()))?;
        rules.check()?;
        Ok(rules)
    }

    fn check(&self) -> Result<(), RulesError> {
        let bad = |rule, reason: &str| {
            Err(RulesError::Invalid {
                rule,
                reason: reason.to_owned(),
            })
        };
        if let Some(v) = self.order_value_above
            && !(v.is_finite() && v > 0.0)
        {
            return bad("order_value_above", "must be a positive amount");
        }
        if let Some(w) = &self.out_of_stock_views
            && (w.views == 0 || w.minutes == 0 || w.minutes > 24 * 60)
        {
            return bad("out_of_stock_views", "views ≥ 1 and minutes 1..=1440");
        }
        for (name, s) in [
            ("cart_abandonment_spike", &self.cart_abandonment_spike),
            ("quarantine_rate_spike", &self.quarantine_rate_spike),
        ] {
            if let Some(s) = s
                && !(s.factor.is_finite() && s.factor > 1.0 && (0.0..=1.0).contains(&s.min_rate))
            {
                return bad(name, "factor > 1 and min_rate within 0..=1");
            }
        }
        Ok(())
    }
}

/// One alert as the webhook receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable id (rule + what fired it): the webhook's `Idempotency-Key`.
    pub alert_id: String,
    pub rule: String,
    pub severity: String,
    pub message: String,
    /// What it is about: an order id, an item id, a day.
    pub subject: String,
    pub value: f64,
    pub threshold: f64,
    /// When the condition was seen, epoch milliseconds.
    pub at: i64,
}

/// Most alerts the edge sends per minute (per isolate), in all and about one shopper: a hostile
/// client posting big fake orders cannot flood the webhook.
pub const MAX_ALERTS_PER_MINUTE: u32 = 30;
pub const MAX_ALERTS_PER_SHOPPER_MINUTE: u32 = 3;

/// Counts alerts in one-minute windows; what is over a cap is dropped (and counted).
#[derive(Debug, Default)]
pub struct AlertLimiter {
    window: i64,
    total: u32,
    per_shopper: std::collections::HashMap<String, u32>,
    /// Alerts refused by a cap since the isolate started.
    pub dropped: u64,
}

impl AlertLimiter {
    /// Whether an alert about `shopper` may go at `now_ms`.
    pub fn admit(&mut self, shopper: &str, now_ms: i64) -> bool {
        let window = now_ms.div_euclid(60_000);
        if window != self.window {
            self.window = window;
            self.total = 0;
            self.per_shopper.clear();
        }
        let mine = self.per_shopper.entry(shopper.to_owned()).or_insert(0);
        if self.total >= MAX_ALERTS_PER_MINUTE || *mine >= MAX_ALERTS_PER_SHOPPER_MINUTE {
            self.dropped += 1;
            return false;
        }
        self.total += 1;
        *mine += 1;
        true
    }
}

/// The edge's rules over one accepted batch: purchases above the order-value threshold. Each alert
/// comes with the shopper it is about (for [`AlertLimiter`]; the alert itself names no one).
pub fn on_ingest(rules: &AlertRules, events: &[Event]) -> Vec<(String, Alert)> {
    let Some(limit) = rules.order_value_above else {
        return Vec::new();
    };
    events
        .iter()
        .filter(|e| e.event_type == EventType::Purchase)
        .filter_map(|e| {
            let total: f64 = e
                .lines
                .iter()
                .map(|l| l.price * f64::from(l.quantity))
                .sum();
            let order = e.order_id.clone().unwrap_or_else(|| e.event_id.clone());
            (total > limit).then(|| {
                (
                    e.shopper().to_owned(),
                    Alert {
                        alert_id: format!("order_value_above:{order}"),
                        rule: "order_value_above".into(),
                        severity: "info".into(),
                        message: format!("order {order} totals {total:.2}, above {limit:.2}"),
                        subject: order,
                        value: total,
                        threshold: limit,
                        at: e.timestamp,
                    },
                )
            })
        })
        .collect()
}

/// Out-of-stock views: `views` (item, timestamp) sorted by time; fires once per item and window
/// start (the first view of the first full window).
pub fn out_of_stock_views(
    rule: &WindowRule,
    mut views: Vec<(String, i64)>,
    in_stock: impl Fn(&str) -> Option<bool>,
) -> Vec<Alert> {
    views.retain(|(item, _)| in_stock(item) == Some(false));
    views.sort();
    let window = i64::from(rule.minutes) * 60_000;
    let need = rule.views as usize;
    let mut out = Vec::new();
    let mut i = 0;
    while i < views.len() {
        let item = &views[i].0;
        let end = i + views[i..].iter().take_while(|(x, _)| x == item).count();
        let times: Vec<i64> = views[i..end].iter().map(|(_, t)| *t).collect();
        let mut start = 0;
        let mut fired_until = i64::MIN;
        for (j, &t) in times.iter().enumerate() {
            while t - times[start] >= window {
                start += 1;
            }
            if j + 1 - start >= need && times[start] > fired_until {
                out.push(Alert {
                    alert_id: format!("out_of_stock_views:{item}:{}", times[start]),
                    rule: "out_of_stock_views".into(),
                    severity: "warning".into(),
                    message: format!(
                        "out-of-stock item {item} viewed {} times within {} minutes",
                        j + 1 - start,
                        rule.minutes
                    ),
                    subject: item.clone(),
                    value: (j + 1 - start) as f64,
                    threshold: f64::from(rule.views),
                    at: t,
                });
                fired_until = t + window;
            }
        }
        i = end;
    }
    out
}

/// A spike of a daily rate: `days` as (day, rate, volume) in date order; the last day is
/// compared with the mean of the up to 7 before it.
pub fn spike(
    name: &str,
    rule: &SpikeRule,
    days: &[(String, f64, u64)],
    day_ms: i64,
) -> Option<Alert> {
    let (last, before) = days.split_last()?;
    let prior: Vec<f64> = before
        .iter()
        .rev()
        .take(7)
        .filter(|(_, _, v)| *v >= rule.min_volume)
        .map(|(_, r, _)| *r)
        .collect();
    if prior.is_empty() || last.2 < rule.min_volume {
        return None;
    }
    let mean = prior.iter().sum::<f64>() / prior.len() as f64;
    let threshold = (mean * rule.factor).max(rule.min_rate);
    (last.1 >= threshold && last.1 > 0.0).then(|| Alert {
        alert_id: format!("{name}:{}", last.0),
        rule: name.to_owned(),
        severity: "warning".into(),
        message: format!(
            "{name}: {:.1}% on {} against a 7-day mean of {:.1}%",
            last.1 * 100.0,
            last.0,
            mean * 100.0
        ),
        subject: last.0.clone(),
        value: last.1,
        threshold,
        at: day_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_parse_and_are_checked() {
        let r = AlertRules::parse(
            r#"{"order_value_above": 500, "out_of_stock_views": {"views": 3, "minutes": 10}}"#,
        )
        .unwrap();
        assert_eq!(r.order_value_above, Some(500.0));
        assert_eq!(AlertRules::parse("").unwrap(), AlertRules::default());
        assert!(matches!(
            AlertRules::parse(r#"{"order_value_above": -1}"#),
            Err(RulesError::Invalid {
                rule: "order_value_above",
                ..
            })
        ));
        assert!(matches!(
            AlertRules::parse(r#"{"colour": 1}"#),
            Err(RulesError::Json(_))
        ));
        assert!(AlertRules::parse(r#"{"quarantine_rate_spike": {"factor": 0.5}}"#).is_err());
    }

    #[test]
    fn big_orders_fire_once_per_order() {
        let e: Event =
            serde_json::from_value(json!({"event_id": "e1", "type": "purchase", "user_id": "u",
            "session_id": "s", "timestamp": 5, "order_id": "o-9",
            "lines": [{"item_id": "tv", "quantity": 2, "price": 400.0, "currency": "EUR"}]}))
            .unwrap();
        let rules = AlertRules {
            order_value_above: Some(500.0),
            ..AlertRules::default()
        };
        let a = on_ingest(&rules, &[e.clone(), e.clone()]);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].1.alert_id, a[1].1.alert_id,
            "a redelivery has the same id"
        );
        assert_eq!((a[0].1.value, a[0].1.subject.as_str()), (800.0, "o-9"));
        assert_eq!(a[0].0, "u");
        let high = AlertRules {
            order_value_above: Some(900.0),
            ..AlertRules::default()
        };
        assert!(on_ingest(&high, &[e]).is_empty());
    }

    #[test]
    fn alert_floods_are_capped_per_minute_and_per_shopper() {
        let mut l = AlertLimiter::default();
        let t = 60_000 * 100;
        for _ in 0..MAX_ALERTS_PER_SHOPPER_MINUTE {
            assert!(l.admit("attacker", t));
        }
        assert!(!l.admit("attacker", t + 1));
        let mut admitted = MAX_ALERTS_PER_SHOPPER_MINUTE;
        for i in 0..100 {
            if l.admit(&format!("s{i}"), t + 2) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, MAX_ALERTS_PER_MINUTE);
        assert!(l.dropped > 0);
        assert!(
            l.admit("attacker", t + 60_000),
            "the next minute starts afresh"
        );
    }

    #[test]
    fn out_of_stock_views_need_enough_views_inside_the_window() {
        let rule = WindowRule {
            views: 3,
            minutes: 10,
        };
        let m = 60_000;
        let views = vec![
            ("gone".to_owned(), 0),
            ("gone".to_owned(), 2 * m),
            ("gone".to_owned(), 9 * m),
            ("gone".to_owned(), 30 * m),
            ("gone".to_owned(), 50 * m),
            ("here".to_owned(), 0),
            ("here".to_owned(), m),
            ("here".to_owned(), 2 * m),
        ];
        let a = out_of_stock_views(&rule, views, |i| Some(i != "gone"));
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].alert_id, "out_of_stock_views:gone:0");
        assert_eq!(a[0].value, 3.0);
    }

    #[test]
    fn spikes_compare_with_the_trailing_mean() {
        let rule = SpikeRule {
            factor: 2.0,
            min_volume: 10,
            min_rate: 0.05,
        };
        let mut days: Vec<(String, f64, u64)> = (1..=7)
            .map(|d| (format!("2026-01-0{d}"), 0.10, 100))
            .collect();
        days.push(("2026-01-08".into(), 0.25, 100));
        let a = spike("cart_abandonment_spike", &rule, &days, 0).unwrap();
        assert_eq!(a.alert_id, "cart_abandonment_spike:2026-01-08");
        days.last_mut().unwrap().1 = 0.15;
        assert!(spike("x", &rule, &days, 0).is_none());
        days.last_mut().unwrap().2 = 3;
        days.last_mut().unwrap().1 = 0.9;
        assert!(spike("x", &rule, &days, 0).is_none(), "too little volume");
    }
}
