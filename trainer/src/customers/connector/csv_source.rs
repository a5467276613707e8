//! CRM and newsletter exports as CSV: header names are matched loosely (`E-Mail`, `email_address`,
//! `zip` and `postcode` all work), each row is validated, bad rows are quarantined with their row
//! number, good ones are upserted into the source's staged table (an export is a snapshot, so a
//! re-import of the same file changes nothing).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use super::shopify::Invalid;
use super::{ConnectorError, Keys, quarantine, sources};
use crate::customers::records::SourceRecord;

/// What one CSV import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CsvReport {
    pub source: String,
    pub rows: usize,
    pub valid: usize,
    pub quarantined: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub table_rows: usize,
}

/// Our field for a header, by its loose spelling.
fn field_of(header: &str) -> Option<&'static str> {
    let h: String = header
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    Some(match h.as_str() {
        "id" | "customerid" | "contactid" | "subscriberid" | "crmid" => "source_id",
        "email" | "emailaddress" | "mail" => "email",
        "phone" | "phonenumber" | "mobile" | "telephone" | "tel" => "phone",
        "firstname" | "givenname" | "forename" => "first_name",
        "lastname" | "surname" | "familyname" => "last_name",
        "address" | "address1" | "street" | "streetaddress" => "address1",
        "city" | "town" => "city",
        "zip" | "zipcode" | "postcode" | "postalcode" | "plz" => "postcode",
        "country" | "countrycode" => "country",
        "updatedat" | "lastmodified" | "modified" | "subscribedat" | "signupdate" => "updated_at",
        "acceptsmarketing" | "optin" | "newsletter" | "subscribed" | "consent" => {
            "accepts_marketing"
        }
        _ => return None,
    })
}

fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc().timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "subscribed" | "opt-in" | "optin" => Some(true),
        "0" | "false" | "no" | "n" | "unsubscribed" | "opt-out" | "optout" => Some(false),
        _ => None,
    }
}

/// One row to a source record.
fn record(
    source: &str,
    cells: &BTreeMap<&str, String>,
    row: usize,
) -> Result<SourceRecord, Invalid> {
    let get = |f: &str| {
        cells
            .get(f)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let bad = |field: &str, reason: &str| Invalid {
        field: field.to_owned(),
        reason: reason.to_owned(),
    };
    let email = get("email");
    if let Some(e) = &email
        && !shared::privacy::looks_like_email(e)
    {
        return Err(bad("email", "not an email address"));
    }
    let phone = get("phone");
    if let Some(p) = &phone
        && p.chars().filter(char::is_ascii_digit).count() < 6
    {
        return Err(bad("phone", "too few digits for a phone number"));
    }
    let updated_at = match get("updated_at") {
        Some(t) => parse_time(&t)
            .ok_or_else(|| bad("updated_at", "not a date (YYYY-MM-DD or RFC 3339)"))?,
        None => 0,
    };
    let accepts_marketing = match get("accepts_marketing") {
        Some(v) => Some(parse_bool(&v).ok_or_else(|| bad("accepts_marketing", "not yes/no"))?),
        None => (source == "newsletter").then_some(true),
    };
    let country = get("country").map(|c| c.to_uppercase());
    if let Some(c) = &country
        && (c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(bad("country", "not an ISO 3166-1 alpha-2 code"));
    }
    let rec = SourceRecord {
        source: source.to_owned(),
        source_id: get("source_id").unwrap_or_else(|| format!("row-{row}")),
        person: crate::customers::records::Person {
            email,
            phone,
            first_name: get("first_name"),
            last_name: get("last_name"),
            address1: get("address1"),
            city: get("city"),
            postcode: get("postcode"),
            country,
        },
        user_id: None,
        accepts_marketing,
        updated_at,
    };
    if rec.person.email.is_none() && rec.person.phone.is_none() && rec.person.last_name.is_none() {
        return Err(bad(
            "record",
            "no email, phone or last name: nothing to match on",
        ));
    }
    Ok(rec)
}

/// Imports one CSV export as `source` (`crm`, `newsletter` or any other name).
pub async fn import(
    lake: &crate::lake::store::Lake,
    source: &str,
    path: &Path,
    keys: &Keys,
    now_ms: i64,
) -> Result<CsvReport, ConnectorError> {
    if !shared::lake::is_safe_segment(source) {
        return Err(ConnectorError::Input(format!(
            "--source `{source}`: use letters, digits, - or _"
        )));
    }
    let fail = |e: csv::Error| ConnectorError::Input(format!("{}: {e}", path.display()));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(fail)?;
    let headers = reader.headers().map_err(fail)?.clone();
    let mapping: Vec<Option<&'static str>> = headers.iter().map(field_of).collect();
    if !mapping
        .iter()
        .any(|m| matches!(m, Some("email" | "phone" | "last_name")))
    {
        return Err(ConnectorError::Input(format!(
            "{}: no email, phone or last-name column among {:?}",
            path.display(),
            headers.iter().collect::<Vec<_>>()
        )));
    }
    let mut report = CsvReport {
        source: source.to_owned(),
        ..CsvReport::default()
    };
    let mut rows = Vec::new();
    let mut broken = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        report.rows += 1;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                broken.push((
                    Value::Null,
                    Invalid {
                        field: "row".into(),
                        reason: format!("line {line}: {e}"),
                    },
                ));
                continue;
            }
        };
        let mut cells = BTreeMap::new();
        for (m, v) in mapping.iter().zip(row.iter()) {
            if let Some(f) = m {
                cells.insert(*f, v.to_owned());
            }
        }
        match record(source, &cells, line) {
            Ok(r) => rows.push(sources::seal(&r, &keys.pseudonymizer, &keys.cipher)),
            Err(mut why) => {
                why.reason = format!("line {line}: {}", why.reason);
                let raw: Map<String, Value> = headers
                    .iter()
                    .zip(row.iter())
                    .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
                    .collect();
                broken.push((Value::Object(raw), why));
            }
        }
    }
    report.valid = rows.len();
    report.quarantined = broken.len();
    let up = sources::upsert(lake, source, rows).await?;
    (
        report.inserted,
        report.updated,
        report.unchanged,
        report.table_rows,
    ) = (up.inserted, up.updated, up.unchanged, up.total);
    quarantine(lake, source, &broken, keys, now_ms).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_matched_loosely() {
        assert_eq!(field_of("E-Mail"), Some("email"));
        assert_eq!(field_of("Email Address"), Some("email"));
        assert_eq!(field_of("ZIP"), Some("postcode"));
        assert_eq!(field_of("First Name"), Some("first_name"));
        assert_eq!(field_of("favourite colour"), None);
    }

    #[test]
    fn rows_are_validated() {
        let cells = |pairs: &[(&'static str, &str)]| -> BTreeMap<&'static str, String> {
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
        };
        let ok = record(
            "newsletter",
            &cells(&[("email", "a@b.de"), ("updated_at", "2026-01-02")]),
            2,
        )
        .unwrap();
        assert_eq!(ok.accepts_marketing, Some(true));
        assert_eq!(ok.source_id, "row-2");
        assert_eq!(ok.updated_at, 1_767_312_000_000);
        assert_eq!(
            record("crm", &cells(&[("email", "nope")]), 3)
                .unwrap_err()
                .field,
            "email"
        );
        assert_eq!(
            record("crm", &cells(&[("first_name", "Jo")]), 4)
                .unwrap_err()
                .field,
            "record"
        );
        assert_eq!(
            record(
                "crm",
                &cells(&[("email", "a@b.de"), ("updated_at", "soon")]),
                5
            )
            .unwrap_err()
            .field,
            "updated_at"
        );
    }
}
