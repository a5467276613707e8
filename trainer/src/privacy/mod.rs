//! Privacy: what the trainer does to protect the people in the lake.
//!
//! Owns the trainer's secrets and their use ([`keys`]: keyed pseudonyms, per-column PII
//! encryption), GDPR erasure ([`erase`]) and access ([`export`]), and the audit log of both
//! ([`audit`]).
//!
//! Must not: keep a decrypted copy of anything, or log identifiers other than pseudonyms.

pub mod audit;
pub mod erase;
pub mod export;
pub mod keys;
