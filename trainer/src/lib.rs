//! The trainer library: every step of the nightly pipeline, callable from the `trainer` binary
//! and from tests.

pub mod compact;
pub mod covisit;
pub mod csr;
pub mod embed;
pub mod evaluate;
pub mod evaluations_table;
pub mod events_table;
pub mod gate;
pub mod holdout;
pub mod http;
pub mod ials;
pub mod import;
pub mod interactions;
pub mod ivf;
pub mod kpi;
pub mod metrics;
pub mod parquet_io;
pub mod products;
pub mod progress;
pub mod publish;
pub mod pull;
pub mod repurchase;
pub mod search_build;
pub mod search_eval;
pub mod sequences;
pub mod simulate;
pub mod store;
pub mod train;
pub mod training_run;
