//! Who may call what, from where, how often: public vs admin keys, the CORS allow-list and rate
//! limits. The worker only reads headers and keeps the limiter in its isolate; every decision is
//! here.
//!
//! - A **public key** (browser-safe, `x-vitrine-key` header or `key` query parameter) opens the
//!   shopper routes (events, recommendations). With no public keys configured they are open, the
//!   local-development default.
//! - The **admin key** (`Authorization: Bearer`) opens `/v1/admin/*`; a public key there is 403.
//! - **Rate limits** count requests per client IP and per public key in fixed one-minute windows;
//!   over the limit is 429 with `Retry-After`. The counters live in each isolate, so a limit is
//!   per isolate: a first line that needs no round trip (Cloudflare's own rate-limiting rules
//!   sit in front for global limits).

use std::collections::HashMap;

use crate::error::{ApiError, Code};

/// Checks a shopper route's public key. `keys`: the configured public keys (none: open, which a
/// deployed worker refuses through [`Deployment`]). The admin key is never a public key: it would
/// sit in every storefront's page source.
pub fn check_public(given: Option<&str>, keys: &[String]) -> Result<(), ApiError> {
    if keys.is_empty() {
        return Ok(());
    }
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Err(ApiError::new(
            Code::Unauthorized,
            "this API needs a public key: send the `x-vitrine-key` header or the `key` parameter",
        ));
    };
    if keys.iter().any(|k| constant_eq(k, given)) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Unauthorized,
            "the public key is not valid",
        ))
    }
}

/// A public key used as an admin key: 403 (it is valid, just not for this).
pub fn refuse_public_key_on_admin(bearer: Option<&str>, keys: &[String]) -> Result<(), ApiError> {
    let token = bearer
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match token {
        Some(t) if keys.iter().any(|k| constant_eq(k, t)) => Err(ApiError::new(
            Code::Forbidden,
            "a public key cannot call admin routes; use the admin key",
        )),
        _ => Ok(()),
    }
}

/// Comparison whose time does not depend on where the strings differ.
fn constant_eq(a: &str, b: &str) -> bool {
    crate::hash::constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Shortest accepted admin key, characters: it guards the lake and erasures.
pub const MIN_ADMIN_KEY_LEN: usize = 32;

/// What a deployed worker has configured, for the production check.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// `DEV_MODE` set: local development (`scripts/dev.sh`, the tests), where open defaults are
    /// allowed.
    pub dev_mode: bool,
    pub public_keys: &'a [String],
    pub cors_origins: &'a [String],
    pub shopper_signing_key: bool,
    pub pseudonym_key: bool,
}

impl Deployment<'_> {
    /// The settings a production worker lacks before it may serve shoppers (empty: ready).
    pub fn missing(&self) -> Vec<&'static str> {
        if self.dev_mode {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.public_keys.is_empty() {
            out.push("PUBLIC_KEYS (at least one browser key)");
        }
        if self.cors_origins.is_empty() || self.cors_origins.iter().any(|o| o == "*") {
            out.push("CORS_ORIGINS (the shop's origins, not *)");
        }
        if !self.shopper_signing_key {
            out.push("SHOPPER_SIGNING_KEY (secret, at least 32 bytes)");
        }
        if !self.pseudonym_key {
            out.push("PSEUDONYM_KEY (secret, at least 16 bytes)");
        }
        out
    }

    /// 503 `not_configured` naming every missing setting, unless the worker is ready (or in
    /// development mode).
    pub fn check(&self) -> Result<(), ApiError> {
        let missing = self.missing();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            Code::NotConfigured,
            format!(
                "this worker is not configured for production: set {} (or DEV_MODE=1 for local development)",
                missing.join(", ")
            ),
        ))
    }
}

/// Comma-separated list from a setting, trimmed, empty entries dropped.
pub fn list(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The `Access-Control-Allow-Origin` for a request's `Origin` given the allow-list (`*`: any):
/// `None` means the origin is not allowed (no CORS headers; browsers block the response).
pub fn cors_origin(origin: Option<&str>, allowed: &[String]) -> Option<String> {
    if allowed.iter().any(|a| a == "*") {
        return Some("*".into());
    }
    let origin = origin?;
    allowed
        .iter()
        .any(|a| a.eq_ignore_ascii_case(origin))
        .then(|| origin.to_owned())
}

/// Requests per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_ip: u32,
    pub per_key: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_ip: 1200,
            per_key: 100_000,
        }
    }
}

const WINDOW_MS: i64 = 60_000;
/// Counters kept before stale windows are swept.
const MAX_COUNTERS: usize = 50_000;

/// Fixed-window request counters.
#[derive(Debug, Default)]
pub struct RateLimiter {
    counters: HashMap<String, (i64, u32)>,
}

impl RateLimiter {
    /// Counts one request by `ip` (and `key`, when given) at `now`; over a limit is 429 with the
    /// seconds until the window ends.
    pub fn check(
        &mut self,
        ip: &str,
        key: Option<&str>,
        now: i64,
        limits: Limits,
    ) -> Result<(), ApiError> {
        let window = now.div_euclid(WINDOW_MS);
        if self.counters.len() >= MAX_COUNTERS {
            self.counters.retain(|_, (w, _)| *w == window);
            if self.counters.len() >= MAX_COUNTERS {
                self.counters.clear();
            }
        }
        let mut hit = |name: String, limit: u32| {
            let c = self.counters.entry(name).or_insert((window, 0));
            if c.0 != window {
                *c = (window, 0);
            }
            c.1 = c.1.saturating_add(1);
            c.1 <= limit
        };
        let ip_ok = hit(format!("ip:{ip}"), limits.per_ip);
        let key_ok = key.is_none_or(|k| hit(format!("key:{k}"), limits.per_key));
        if ip_ok && key_ok {
            return Ok(());
        }
        let left_ms = (window + 1) * WINDOW_MS - now;
        let retry = u64::try_from((left_ms + 999) / 1000).unwrap_or(60).max(1);
        let who = if ip_ok { "this key" } else { "this client" };
        Err(ApiError::new(
            Code::RateLimited,
            format!("too many requests from {who}; retry in {retry} s"),
        )
        .retry_after(retry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_gate_shopper_routes_only_when_configured() {
        assert!(check_public(None, &[]).is_ok());
        let keys = list("pk_live_1, pk_live_2");
        assert_eq!(check_public(None, &keys).unwrap_err().status(), 401);
        assert_eq!(check_public(Some("nope"), &keys).unwrap_err().status(), 401);
        assert!(check_public(Some("pk_live_2"), &keys).is_ok());
        let e = refuse_public_key_on_admin(Some("Bearer pk_live_1"), &keys).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(refuse_public_key_on_admin(Some("Bearer admin"), &keys).is_ok());
    }

    #[test]
    fn production_refuses_open_defaults_and_names_each_gap() {
        let (none, star, shop) = (Vec::new(), list("*"), list("https://shop.example"));
        let keys = list("pk_live_1");
        let open = Deployment {
            dev_mode: false,
            public_keys: &none,
            cors_origins: &star,
            shopper_signing_key: false,
            pseudonym_key: true,
        };
        let e = open.check().unwrap_err();
        assert_eq!(e.code, Code::NotConfigured);
        for setting in ["PUBLIC_KEYS", "CORS_ORIGINS", "SHOPPER_SIGNING_KEY"] {
            assert!(e.message.contains(setting), "{}", e.message);
        }
        assert!(
            Deployment {
                dev_mode: true,
                ..open
            }
            .check()
            .is_ok()
        );
        let ready = Deployment {
            dev_mode: false,
            public_keys: &keys,
            cors_origins: &shop,
            shopper_signing_key: true,
            pseudonym_key: true,
        };
        assert!(ready.check().is_ok());
    }

    #[test]
    fn cors_reflects_only_listed_origins() {
        let shop = list("https://shop.example, https://www.shop.example");
        assert_eq!(
            cors_origin(Some("https://shop.example"), &shop).as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(cors_origin(Some("https://evil.example"), &shop), None);
        assert_eq!(cors_origin(None, &list("*")).as_deref(), Some("*"));
    }

    #[test]
    fn limits_answer_429_with_retry_after_and_reset_each_window() {
        let mut r = RateLimiter::default();
        let limits = Limits {
            per_ip: 3,
            per_key: 5,
        };
        let t = 120_000 + 15_000;
        for _ in 0..3 {
            r.check("1.2.3.4", Some("pk"), t, limits).unwrap();
        }
        let e = r.check("1.2.3.4", Some("pk"), t, limits).unwrap_err();
        assert_eq!((e.status(), e.retry_after_s), (429, Some(45)));
        // Another client shares the key's budget: 5 per minute in all.
        r.check("5.6.7.8", Some("pk"), t, limits).unwrap();
        let e = r.check("5.6.7.8", Some("pk"), t, limits).unwrap_err();
        assert!(e.message.contains("this key"), "{}", e.message);
        // The next window starts afresh.
        r.check("1.2.3.4", Some("pk"), 180_000, limits).unwrap();
    }
}
