//! The worker's settings (vars and secrets), read once per isolate: they cannot change while an
//! isolate lives, and reading them through the JS bridge on every request costs latency.

use std::cell::RefCell;
use std::rc::Rc;

use shared::alerts::AlertRules;
use shared::privacy::Pseudonymizer;
use shared::{ab, access};
use worker::Env;

pub struct Settings {
    pub public_keys: Vec<String>,
    pub admin_key: Option<String>,
    pub cors_origins: Vec<String>,
    pub limits: access::Limits,
    pub refresh_ms: i64,
    /// The running A/B test; a malformed `AB_TEST` is logged and no test runs, so a configuration
    /// slip never takes recommendations down.
    pub ab_test: Option<ab::AbTest>,
    /// Keyed pseudonyms for every shopper id written to the lake (`PSEUDONYM_KEY` secret). Unset
    /// or too short: ingest answers 503 `not_configured` rather than store raw ids.
    pub pseudonymizer: Option<Pseudonymizer>,
    /// Alert rules evaluated on ingest (`ALERT_RULES`, JSON; malformed: logged, no rules).
    pub alert_rules: AlertRules,
    /// Where alerts are POSTed (`ALERT_WEBHOOK`); unset: no alerts are sent.
    pub alert_webhook: Option<String>,
}

fn text(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

fn number(env: &Env, name: &str, default: i64) -> i64 {
    text(env, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn load(env: &Env) -> Settings {
    let defaults = access::Limits::default();
    let limit = |name, default: u32| {
        u32::try_from(number(env, name, i64::from(default))).unwrap_or(u32::MAX)
    };
    let ab_test = match ab::AbTest::parse(&text(env, "AB_TEST").unwrap_or_default()) {
        Ok(t) => t,
        Err(e) => {
            worker::console_error!("AB_TEST ignored: {e}");
            None
        }
    };
    Settings {
        public_keys: access::list(&text(env, "PUBLIC_KEYS").unwrap_or_default()),
        admin_key: text(env, "ADMIN_KEY").filter(|k| !k.is_empty()),
        cors_origins: access::list(&text(env, "CORS_ORIGINS").unwrap_or_else(|| "*".into())),
        limits: access::Limits {
            per_ip: limit("RATE_LIMIT_PER_IP", defaults.per_ip),
            per_key: limit("RATE_LIMIT_PER_KEY", defaults.per_key),
        },
        refresh_ms: number(env, "MODEL_REFRESH_SECONDS", 30) * 1000,
        ab_test,
        alert_rules: AlertRules::parse(&text(env, "ALERT_RULES").unwrap_or_default())
            .unwrap_or_else(|e| {
                worker::console_error!("ALERT_RULES ignored: {e}");
                AlertRules::default()
            }),
        alert_webhook: text(env, "ALERT_WEBHOOK").filter(|u| u.starts_with("http")),
        pseudonymizer: text(env, "PSEUDONYM_KEY").and_then(|k| {
            Pseudonymizer::new(k.as_bytes())
                .map_err(|e| worker::console_error!("PSEUDONYM_KEY ignored: {e}"))
                .ok()
        }),
    }
}

thread_local! {
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

/// This isolate's settings.
pub fn get(env: &Env) -> Rc<Settings> {
    SETTINGS.with(|c| Rc::clone(c.borrow_mut().get_or_insert_with(|| Rc::new(load(env)))))
}
