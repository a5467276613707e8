//! The worker's settings (vars and secrets), read once per isolate: they cannot change while an
//! isolate lives, and reading them through the JS bridge on every request costs latency.

use std::cell::RefCell;
use std::rc::Rc;

use shared::alerts::AlertRules;
use shared::identity::ShopperSigner;
use shared::privacy::Pseudonymizer;
use shared::sources::Source;
use shared::sources::segment::MIN_SECRET_LEN;
use shared::{ab, access};
use worker::Env;

pub struct Settings {
    /// `DEV_MODE`: local development (`scripts/dev.sh`, the tests). Without it the worker
    /// refuses shopper routes until it is configured for production (`access::Deployment`).
    pub dev_mode: bool,
    pub public_keys: Vec<String>,
    pub admin_key: Option<String>,
    pub cors_origins: Vec<String>,
    pub limits: access::Limits,
    /// Whether the global Rate Limiting bindings are consulted (`GLOBAL_RATE_LIMITS`, default
    /// on; the latency benchmarks turn them off to measure past 1,200 requests a minute).
    pub global_rate_limits: bool,
    pub refresh_ms: i64,
    /// Base of the queue retry backoff, seconds (`QUEUE_RETRY_BASE_SECONDS`, default 2; the
    /// local tests use 0 to exhaust retries quickly).
    pub retry_base_s: u32,
    /// The running A/B test; a malformed `AB_TEST` is logged and no test runs, so a configuration
    /// slip never takes recommendations down.
    pub ab_test: Option<ab::AbTest>,
    /// Keyed pseudonyms for every shopper id written to the lake (`PSEUDONYM_KEY` secret). Unset
    /// or too short: ingest answers 503 `not_configured` rather than store raw ids.
    pub pseudonymizer: Option<Pseudonymizer>,
    /// Verifies the shop's signatures of logged-in shoppers' ids (`SHOPPER_SIGNING_KEY` secret,
    /// at least 32 bytes). Unset: requests naming a `user_id` answer 503 `not_configured`.
    pub signer: Option<ShopperSigner>,
    /// Alert rules evaluated on ingest (`ALERT_RULES`, JSON; malformed: logged, no rules).
    pub alert_rules: AlertRules,
    /// Where alerts are POSTed (`ALERT_WEBHOOK`); unset: no alerts are sent.
    pub alert_webhook: Option<String>,
    /// Each source's secret (`SEGMENT_SHARED_SECRET`, …), in `Source::ALL` order; unset or
    /// shorter than `shared::sources::segment::MIN_SECRET_LEN`: that source is off.
    pub source_secrets: Vec<Option<String>>,
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
        dev_mode: text(env, "DEV_MODE").is_some_and(|v| matches!(v.trim(), "1" | "true")),
        public_keys: access::list(&text(env, "PUBLIC_KEYS").unwrap_or_default()),
        // A short admin key is no key: the admin API stays closed rather than guessable.
        admin_key: text(env, "ADMIN_KEY").filter(|k| {
            let ok = k.chars().count() >= access::MIN_ADMIN_KEY_LEN;
            if !ok && !k.is_empty() {
                worker::console_error!(
                    "ADMIN_KEY ignored: it must be at least {} characters",
                    access::MIN_ADMIN_KEY_LEN
                );
            }
            ok
        }),
        cors_origins: access::list(&text(env, "CORS_ORIGINS").unwrap_or_else(|| "*".into())),
        limits: access::Limits {
            per_ip: limit("RATE_LIMIT_PER_IP", defaults.per_ip),
            per_key: limit("RATE_LIMIT_PER_KEY", defaults.per_key),
        },
        global_rate_limits: !text(env, "GLOBAL_RATE_LIMITS")
            .is_some_and(|v| matches!(v.trim(), "off" | "0" | "false")),
        refresh_ms: number(env, "MODEL_REFRESH_SECONDS", 30) * 1000,
        retry_base_s: u32::try_from(number(env, "QUEUE_RETRY_BASE_SECONDS", 2)).unwrap_or(2),
        ab_test,
        alert_rules: AlertRules::parse(&text(env, "ALERT_RULES").unwrap_or_default())
            .unwrap_or_else(|e| {
                worker::console_error!("ALERT_RULES ignored: {e}");
                AlertRules::default()
            }),
        alert_webhook: text(env, "ALERT_WEBHOOK").filter(|u| u.starts_with("http")),
        signer: text(env, "SHOPPER_SIGNING_KEY").and_then(|k| {
            ShopperSigner::new(k.as_bytes())
                .map_err(|e| worker::console_error!("SHOPPER_SIGNING_KEY ignored: {e}"))
                .ok()
        }),
        source_secrets: Source::ALL
            .iter()
            .map(|s| {
                text(env, s.secret_name()).filter(|k| {
                    let ok = k.len() >= MIN_SECRET_LEN;
                    if !ok && !k.is_empty() {
                        worker::console_error!(
                            "{} ignored: it must be at least {MIN_SECRET_LEN} characters",
                            s.secret_name()
                        );
                    }
                    ok
                })
            })
            .collect(),
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

impl Settings {
    /// The secret `source`'s requests are checked against, when that source is on.
    pub fn source_secret(&self, source: Source) -> Option<String> {
        let at = Source::ALL.iter().position(|s| *s == source)?;
        self.source_secrets.get(at).cloned().flatten()
    }

    /// What the production check sees.
    pub fn deployment(&self) -> access::Deployment<'_> {
        access::Deployment {
            dev_mode: self.dev_mode,
            public_keys: &self.public_keys,
            cors_origins: &self.cors_origins,
            shopper_signing_key: self.signer.is_some(),
            pseudonym_key: self.pseudonymizer.is_some(),
        }
    }
}
