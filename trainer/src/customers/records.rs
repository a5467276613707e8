//! A customer record as a source holds it, before normalisation: the input of matching and
//! survivorship. Pure data, no I/O.

use serde::{Deserialize, Serialize};

use crate::privacy::keys::{PiiCipher, PrivacyError};

/// A person's contact fields, one type wherever a person is held: a source record, a staged row,
/// a normalised record, a golden record. `None` or empty means the holder does not know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 when known (`DE`, `US`); phone numbers without a `+` use it.
    pub country: Option<String>,
}

impl Person {
    /// The fields that identify someone directly: stored only encrypted, per column.
    pub const PII_COLUMNS: [&'static str; 7] = [
        "email",
        "phone",
        "first_name",
        "last_name",
        "address1",
        "city",
        "postcode",
    ];

    fn pii_mut(&mut self) -> [(&'static str, &mut Option<String>); 7] {
        [
            ("email", &mut self.email),
            ("phone", &mut self.phone),
            ("first_name", &mut self.first_name),
            ("last_name", &mut self.last_name),
            ("address1", &mut self.address1),
            ("city", &mut self.city),
            ("postcode", &mut self.postcode),
        ]
    }

    /// The same person with every PII column encrypted, each cell bound to its column and to
    /// `row` (the row's stable id); country stays readable for BI.
    pub fn seal(&self, c: &PiiCipher, row: &str) -> Self {
        let mut out = self.clone();
        for (column, v) in out.pii_mut() {
            *v = c.seal(column, row, v.as_deref());
        }
        out
    }

    /// The same person with every PII column of the row `row` decrypted.
    pub fn open(&self, c: &PiiCipher, row: &str) -> Result<Self, PrivacyError> {
        let mut out = self.clone();
        for (column, v) in out.pii_mut() {
            *v = c.open(column, row, v.as_deref())?;
        }
        Ok(out)
    }
}

/// One customer record as a source holds it (shop account, CRM row, newsletter sign-up), before
/// normalisation. Strings are as received; `None` or empty means the source does not know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// `shop`, `crm` or `newsletter` (any name; priorities come from [`super::matching::MatchParams`]).
    pub source: String,
    /// The record's id in its source; unique per source.
    pub source_id: String,
    #[serde(flatten)]
    pub person: Person,
    /// The shop's customer id as events carry it in `user_id` (shop records only).
    pub user_id: Option<String>,
    pub accepts_marketing: Option<bool>,
    /// Last change in the source, epoch milliseconds.
    pub updated_at: i64,
}
