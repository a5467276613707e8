//! Who a request speaks for. A logged-in shopper is named by `user_id`, and only the shop can say
//! who is logged in: its backend signs the id with a secret it shares with the worker
//! (`SHOPPER_SIGNING_KEY`), the way Algolia's secured API keys and Recombee's signed URLs work.
//! Every request or event that names a `user_id` must carry a valid, unexpired token for exactly
//! that id, else it is refused with 401. Anonymous ids are random strings the snippet makes; they
//! are bearer secrets, so ids short or regular enough to guess are refused.
//!
//! Token: `v1.<expires_at, unix seconds>.<HMAC-SHA256(key, "vitrine-shopper|v1|<user_id>|<expires_at>"), 64 hex>`.
//! A shop backend makes one in a few lines (recipes in `docs/security.md`); `trainer sign-shopper`
//! makes one from the command line.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{ApiError, Code};

/// Shortest accepted signing key, bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Longest validity a token may claim from now (a token is re-signed on every page view; a
/// long-lived one would be a password).
pub const MAX_TTL_SECONDS: i64 = 7 * 24 * 3600;
/// Shortest accepted anonymous id.
pub const MIN_ANONYMOUS_LEN: usize = 16;
/// Fewest distinct characters in an anonymous id.
pub const MIN_ANONYMOUS_DISTINCT: usize = 8;
const VERSION: &str = "v1";

/// Why a signing key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shopper signing key must be at least {MIN_KEY_BYTES} bytes (got {0})")]
pub struct ShortKey(pub usize);

/// Signs and verifies shopper tokens.
#[derive(Clone)]
pub struct ShopperSigner {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for ShopperSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShopperSigner(<key>)")
    }
}

use crate::hash::{constant_time_eq as constant_eq, hex};

impl ShopperSigner {
    /// A signer under `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn new(key: &[u8]) -> Result<Self, ShortKey> {
        if key.len() < MIN_KEY_BYTES {
            return Err(ShortKey(key.len()));
        }
        let mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| ShortKey(0))?;
        Ok(Self { mac })
    }

    fn signature(&self, user_id: &str, expires_at: i64) -> String {
        let mut mac = self.mac.clone();
        mac.update(format!("vitrine-shopper|{VERSION}|{user_id}|{expires_at}").as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A token for `user_id` valid until `expires_at` (unix seconds).
    pub fn sign(&self, user_id: &str, expires_at: i64) -> String {
        format!(
            "{VERSION}.{expires_at}.{}",
            self.signature(user_id, expires_at)
        )
    }

    /// A token for `user_id` valid for `ttl_seconds` from `now_ms` (1 s to [`MAX_TTL_SECONDS`]).
    pub fn token(&self, user_id: &str, ttl_seconds: i64, now_ms: i64) -> Result<Token, ApiError> {
        if !(1..=MAX_TTL_SECONDS).contains(&ttl_seconds) {
            return Err(ApiError::invalid_param(
                "ttl",
                &format!("must be from 1 to {MAX_TTL_SECONDS} seconds"),
            ));
        }
        if user_id.is_empty() {
            return Err(ApiError::invalid_param("user_id", "must not be empty"));
        }
        let expires_at = now_ms.div_euclid(1000) + ttl_seconds;
        Ok(Token {
            user_id: user_id.to_owned(),
            user_token: self.sign(user_id, expires_at),
            expires_at,
        })
    }

    /// Checks that `token` speaks for `user_id` at `now_ms`.
    pub fn verify(&self, user_id: &str, token: &str, now_ms: i64) -> Result<(), ApiError> {
        let invalid = || {
            ApiError::new(
                Code::UserTokenInvalid,
                "the user token is not a valid signature for this user_id \
                 (sign `user_id` with SHOPPER_SIGNING_KEY on the shop's backend)",
            )
        };
        let mut parts = token.trim().splitn(3, '.');
        let (Some(VERSION), Some(exp), Some(sig)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        let expires_at: i64 = exp.parse().map_err(|_| invalid())?;
        if !constant_eq(
            self.signature(user_id, expires_at).as_bytes(),
            sig.as_bytes(),
        ) {
            return Err(invalid());
        }
        let now = now_ms.div_euclid(1000);
        if expires_at <= now {
            return Err(ApiError::new(
                Code::UserTokenExpired,
                "the user token has expired; sign a fresh one",
            ));
        }
        if expires_at - now > MAX_TTL_SECONDS {
            return Err(ApiError::new(
                Code::UserTokenInvalid,
                format!("the user token is valid for too long (at most {MAX_TTL_SECONDS} s ahead)"),
            ));
        }
        Ok(())
    }
}

/// A signed shopper identity, as a shop backend hands it to the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub user_id: String,
    pub user_token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// The one check of who a request speaks for: when it names `user_id`, `token` must be a valid,
/// unexpired signature of it. `signer` is `None` when the worker has no signing key: then a
/// request naming a user cannot be trusted at all (503, never served unchecked).
pub fn authorize_user(
    user_id: Option<&str>,
    token: Option<&str>,
    signer: Option<&ShopperSigner>,
    now_ms: i64,
) -> Result<(), ApiError> {
    let Some(user) = user_id else {
        return Ok(());
    };
    let Some(signer) = signer else {
        return Err(ApiError::new(
            Code::NotConfigured,
            "requests naming a user_id need SHOPPER_SIGNING_KEY, which this worker does not have",
        ));
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(ApiError::new(
            Code::UserTokenRequired,
            "a request naming user_id must carry its signed user token \
             (`x-vitrine-user-token` header, `user_token` parameter or body field)",
        ));
    };
    signer.verify(user, token, now_ms)
}

/// The identity check of an event batch: every `user_id` its events name must be the one the
/// token speaks for (a browser sends one shopper's events; a backend sends one batch per user).
pub fn authorize_users<'a>(
    user_ids: impl IntoIterator<Item = &'a str>,
    token: Option<&str>,
    signer: Option<&ShopperSigner>,
    now_ms: i64,
) -> Result<(), ApiError> {
    let mut users: Vec<&str> = user_ids.into_iter().collect();
    users.sort_unstable();
    users.dedup();
    for user in users {
        authorize_user(Some(user), token, signer, now_ms)?;
    }
    Ok(())
}

/// Anonymous ids are bearer secrets: whoever knows one reads and writes that device's session.
/// They must be hard to guess: at least [`MIN_ANONYMOUS_LEN`] characters with at least
/// [`MIN_ANONYMOUS_DISTINCT`] distinct ones (a random UUID or the snippet's 22 base-64 characters
/// pass; `device-1`, `0000000000000000` and `abababababababab` do not).
pub fn check_anonymous_id(id: &str) -> Result<(), ApiError> {
    let mut seen: Vec<char> = id.chars().collect();
    let len = seen.len();
    seen.sort_unstable();
    seen.dedup();
    if len < MIN_ANONYMOUS_LEN || seen.len() < MIN_ANONYMOUS_DISTINCT {
        return Err(ApiError::new(
            Code::WeakAnonymousId,
            format!(
                "anonymous_id must be a random id of at least {MIN_ANONYMOUS_LEN} characters with \
                 at least {MIN_ANONYMOUS_DISTINCT} distinct ones (it is a bearer secret: anyone \
                 who knows it reads that device's session)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW_MS: i64 = 1_790_000_000_000;

    #[test]
    fn a_token_speaks_for_one_user_until_it_expires() {
        let s = ShopperSigner::new(KEY).unwrap();
        let t = s.sign("customer-42", NOW_MS / 1000 + 600);
        assert!(s.verify("customer-42", &t, NOW_MS).is_ok());
        assert_eq!(
            s.verify("customer-43", &t, NOW_MS).unwrap_err().code,
            Code::UserTokenInvalid
        );
        assert_eq!(
            s.verify("customer-42", &t, NOW_MS + 601_000)
                .unwrap_err()
                .code,
            Code::UserTokenExpired
        );
        // Tampering with the expiry breaks the signature.
        let forged = t.replacen(
            &(NOW_MS / 1000 + 600).to_string(),
            &(NOW_MS / 1000 + 6000).to_string(),
            1,
        );
        assert_eq!(
            s.verify("customer-42", &forged, NOW_MS).unwrap_err().code,
            Code::UserTokenInvalid
        );
        // Another key's token is worthless here.
        let other = ShopperSigner::new(b"another key of at least 32 bytes!!").unwrap();
        let t2 = other.sign("customer-42", NOW_MS / 1000 + 600);
        assert!(s.verify("customer-42", &t2, NOW_MS).is_err());
        for junk in ["", "v1", "v1.x.y", "v2.1.abc", "v1.99999999999.zz"] {
            assert!(s.verify("customer-42", junk, NOW_MS).is_err(), "{junk}");
        }
        let forever = s.sign("customer-42", NOW_MS / 1000 + MAX_TTL_SECONDS + 10);
        assert!(s.verify("customer-42", &forever, NOW_MS).is_err());
    }

    #[test]
    fn naming_a_user_needs_a_token_and_a_key() {
        let s = ShopperSigner::new(KEY).unwrap();
        assert!(authorize_user(None, None, None, NOW_MS).is_ok());
        assert_eq!(
            authorize_user(Some("u"), None, Some(&s), NOW_MS)
                .unwrap_err()
                .code,
            Code::UserTokenRequired
        );
        assert_eq!(
            authorize_user(Some("u"), Some("t"), None, NOW_MS)
                .unwrap_err()
                .code,
            Code::NotConfigured
        );
        let t = s.sign("u", NOW_MS / 1000 + 60);
        assert!(authorize_user(Some("u"), Some(&t), Some(&s), NOW_MS).is_ok());
        assert!(ShopperSigner::new(b"short").is_err());
    }

    #[test]
    fn guessable_anonymous_ids_are_refused() {
        for weak in [
            "a1",
            "device-1",
            "shopper-1",
            "0000000000000000",
            "abababababababab",
        ] {
            assert_eq!(
                check_anonymous_id(weak).unwrap_err().code,
                Code::WeakAnonymousId,
                "{weak}"
            );
        }
        for strong in [
            "0f9a6c1e-7b2d-4e3f-9a8b-1c2d3e4f5a6b",
            "kq3V_x8Lp0Zr-2mTbW9yHc",
        ] {
            assert!(check_anonymous_id(strong).is_ok(), "{strong}");
        }
    }
}
