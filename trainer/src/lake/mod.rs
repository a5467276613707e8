//! The lake: everything that reads or writes it.
//!
//! Owns the object store by URL ([`store`]), Parquet on object storage ([`parquet_io`]), the lake's
//! tables and their readers ([`events_table`], [`products`], [`rows_table`]), quarantine
//! ([`quarantine`]), compaction of raw NDJSON into the tables ([`compact`], hand-written or as a
//! DataFusion plan with the event check as a function: [`compact_plan`], [`event_udf`]), the importers that
//! fill the raw zone ([`rees46`], the simulated shop in [`simulate`]), copying raw events from a
//! running worker ([`pull`]), backups ([`backup`]) and SQL over the lake's tables through
//! DataFusion ([`engine`], with Vitrine's own functions [`event_udf`] and [`pairs_udf`]), which
//! the BI tables, the search learning and the co-view counts query.
//!
//! Must not: train or score models, decide what a model is worth, or hold PII in the clear
//! (identifiers arrive pseudonymised; the customer stage encrypts what it stores). Keys come from
//! `shared::lake`, never from literals here.

pub mod backup;
pub mod compact;
pub mod compact_plan;
pub mod dead_letters;
pub mod engine;
pub mod event_udf;
pub mod events_table;
pub mod feed;
pub mod models_store;
pub mod pairs_udf;
pub mod parquet_io;
pub mod products;
pub mod pull;
pub mod quarantine;
pub mod rees46;
pub mod rows_table;
pub mod simulate;
pub mod store;
