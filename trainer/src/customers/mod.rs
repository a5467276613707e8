//! Customers: one clean customer view from several sources.
//!
//! Owns the source connectors ([`connector`]: the shop's Admin API, CRM and newsletter CSV), the
//! pure integration steps ([`records`] → [`normalize`] → [`matching`] → [`merge`]), the golden
//! records and lineage in the lake ([`golden`]) and a generator of test people ([`synth`]).
//!
//! Must not: store PII in the clear (every PII column is encrypted with `privacy::keys`), or
//! erase anyone (the privacy stage does).

pub mod connector;
pub mod golden;
pub mod matching;
pub mod merge;
pub mod normalize;
pub mod records;
pub mod synth;
