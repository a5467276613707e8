//! Customer data integration, the pure part: normalise source records, match them into persons
//! (deterministic rules first, then fuzzy name + postcode), and merge each person into one golden
//! record by survivorship rules. No I/O here: `crate::customers` reads the staged sources from
//! the lake and writes `customers_golden` + `customer_lineage`.

use serde::{Deserialize, Serialize};

pub mod matching;
pub mod merge;
pub mod normalize;
pub mod synth;

/// One customer record as a source holds it (shop account, CRM row, newsletter sign-up), before
/// normalisation. Strings are as received; `None` or empty means the source does not know.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// `shop`, `crm` or `newsletter` (any name; priorities come from [`matching::MatchParams`]).
    pub source: String,
    /// The record's id in its source; unique per source.
    pub source_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address1: Option<String>,
    pub city: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166-1 alpha-2 when known (`DE`, `US`); phone numbers without a `+` use it.
    pub country: Option<String>,
    /// The shop's customer id as events carry it in `user_id` (shop records only).
    pub user_id: Option<String>,
    pub accepts_marketing: Option<bool>,
    /// Last change in the source, epoch milliseconds.
    pub updated_at: i64,
}
