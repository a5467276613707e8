//! Calendar helpers over epoch milliseconds, so edge and trainer name lake partitions alike.
//!
//! No clock is read here: callers pass the time in.

use chrono::{DateTime, NaiveDate, Utc};

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC date (`YYYY-MM-DD`) of an instant given in epoch milliseconds; the lake's `dt` partition value.
pub fn date_of(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => "1970-01-01".to_owned(),
    }
}

/// Epoch milliseconds of midnight UTC of a `YYYY-MM-DD` date, or `None` when it is not a date.
pub fn parse_date(dt: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(dt, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Parses an RFC 3339 timestamp (`2026-11-23T06:00:00Z`, offsets allowed) to epoch milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let ms = parse_rfc3339("2019-10-01T00:00:00Z").unwrap();
        assert_eq!(date_of(ms), "2019-10-01");
        assert_eq!(date_of(ms + DAY_MS - 1), "2019-10-01");
        assert_eq!(date_of(ms + DAY_MS), "2019-10-02");
        assert_eq!(parse_date("2019-10-01"), Some(ms));
        assert_eq!(parse_date("2019-13-01"), None);
        assert_eq!(format_rfc3339(ms + 5), "2019-10-01T00:00:00.005Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let a = parse_rfc3339("2026-01-01T01:00:00+01:00").unwrap();
        let b = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
