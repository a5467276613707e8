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

/// Checks a shopper route's public key. `keys`: the configured public keys (none: open);
/// `admin`: the admin key, which may call public routes too.
pub fn check_public(
    given: Option<&str>,
    keys: &[String],
    admin: Option<&str>,
) -> Result<(), ApiError> {
    if keys.is_empty() {
        return Ok(());
    }
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Err(ApiError::new(
            Code::Unauthorized,
            "this API needs a public key: send the `x-vitrine-key` header or the `key` parameter",
        ));
    };
    let admin_ok = admin.is_some_and(|a| !a.is_empty() && constant_eq(a, given));
    if admin_ok || keys.iter().any(|k| constant_eq(k, given)) {
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
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
        assert!(check_public(None, &[], None).is_ok());
        let keys = list("pk_live_1, pk_live_2");
        assert_eq!(check_public(None, &keys, None).unwrap_err().status(), 401);
        assert_eq!(
            check_public(Some("nope"), &keys, None)
                .unwrap_err()
                .status(),
            401
        );
        assert!(check_public(Some("pk_live_2"), &keys, None).is_ok());
        assert!(check_public(Some("admin"), &keys, Some("admin")).is_ok());
        let e = refuse_public_key_on_admin(Some("Bearer pk_live_1"), &keys).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(refuse_public_key_on_admin(Some("Bearer admin"), &keys).is_ok());
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
