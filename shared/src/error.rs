//! The one table that maps every API error kind to its HTTP status and stable code.
//!
//! Handlers return [`ApiError`]; the edge turns it into `{"error":{"code","message"}}` with the
//! status from [`Code::status`]. Codes are part of the public API: never rename one.

use serde::Serialize;

/// Every error kind the HTTP API can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    InvalidJson,
    InvalidParameter,
    UnknownParameter,
    MissingParameter,
    EmptyBatch,
    PayloadTooLarge,
    TooManyEvents,
    NotFound,
    ItemNotFound,
    MethodNotAllowed,
    Unauthorized,
    /// A request names a `user_id` without its signed token.
    UserTokenRequired,
    /// The user token is not a valid signature for the `user_id` named.
    UserTokenInvalid,
    /// The user token's expiry has passed.
    UserTokenExpired,
    /// An `anonymous_id` short or regular enough to guess.
    WeakAnonymousId,
    Forbidden,
    RateLimited,
    ModelUnavailable,
    StorageUnavailable,
    /// A secret the route needs is not set (e.g. `PSEUDONYM_KEY`).
    NotConfigured,
    Internal,
}

impl Code {
    /// Every kind, in table order (the OpenAPI `ErrorCode` enum follows it: a golden test).
    pub const ALL: [Code; 21] = [
        Code::InvalidJson,
        Code::InvalidParameter,
        Code::UnknownParameter,
        Code::MissingParameter,
        Code::EmptyBatch,
        Code::PayloadTooLarge,
        Code::TooManyEvents,
        Code::NotFound,
        Code::ItemNotFound,
        Code::MethodNotAllowed,
        Code::Unauthorized,
        Code::UserTokenRequired,
        Code::UserTokenInvalid,
        Code::UserTokenExpired,
        Code::WeakAnonymousId,
        Code::Forbidden,
        Code::RateLimited,
        Code::ModelUnavailable,
        Code::StorageUnavailable,
        Code::NotConfigured,
        Code::Internal,
    ];

    /// HTTP status and stable code string.
    const fn describe(self) -> (u16, &'static str) {
        match self {
            Code::InvalidJson => (400, "invalid_json"),
            Code::InvalidParameter => (400, "invalid_parameter"),
            Code::UnknownParameter => (400, "unknown_parameter"),
            Code::MissingParameter => (400, "missing_parameter"),
            Code::EmptyBatch => (400, "empty_batch"),
            Code::PayloadTooLarge => (413, "payload_too_large"),
            Code::TooManyEvents => (413, "too_many_events"),
            Code::NotFound => (404, "not_found"),
            Code::ItemNotFound => (404, "item_not_found"),
            Code::MethodNotAllowed => (405, "method_not_allowed"),
            Code::Unauthorized => (401, "unauthorized"),
            Code::UserTokenRequired => (401, "user_token_required"),
            Code::UserTokenInvalid => (401, "user_token_invalid"),
            Code::UserTokenExpired => (401, "user_token_expired"),
            Code::WeakAnonymousId => (400, "weak_anonymous_id"),
            Code::Forbidden => (403, "forbidden"),
            Code::RateLimited => (429, "rate_limited"),
            Code::ModelUnavailable => (503, "model_unavailable"),
            Code::StorageUnavailable => (503, "storage_unavailable"),
            Code::NotConfigured => (503, "not_configured"),
            Code::Internal => (500, "internal"),
        }
    }

    /// The HTTP status for this kind.
    pub const fn status(self) -> u16 {
        self.describe().0
    }

    /// The stable machine-readable code.
    pub const fn as_str(self) -> &'static str {
        self.describe().1
    }
}

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Seconds after which a retry may succeed (`Retry-After`), for 429 and some 503s.
    pub retry_after_s: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }

    /// The same error with a `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_s = Some(seconds);
        self
    }

    /// A bad value for query parameter `name`; the message names it.
    pub fn invalid_param(name: &str, why: &str) -> Self {
        Self::new(Code::InvalidParameter, format!("parameter `{name}` {why}"))
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// The response body: `{"error":{"code":..,"message":..}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": { "code": self.code.as_str(), "message": self.message } })
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_maps_statuses() {
        assert_eq!(Code::PayloadTooLarge.status(), 413);
        assert_eq!(Code::TooManyEvents.status(), 413);
        assert_eq!(Code::MethodNotAllowed.status(), 405);
        assert_eq!(Code::ModelUnavailable.status(), 503);
        assert_eq!(Code::ItemNotFound.as_str(), "item_not_found");
    }

    #[test]
    fn serde_name_equals_table_code() {
        for code in [
            Code::InvalidJson,
            Code::TooManyEvents,
            Code::ModelUnavailable,
            Code::RateLimited,
        ] {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
        }
    }

    #[test]
    fn body_shape() {
        let e = ApiError::invalid_param("k", "must be between 1 and 100");
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["error"]["code"], "invalid_parameter");
        assert_eq!(
            v["error"]["message"],
            "parameter `k` must be between 1 and 100"
        );
    }
}
