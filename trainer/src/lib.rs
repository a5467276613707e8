//! The trainer library: every step of the nightly pipeline, callable from the `trainer` binary
//! and from tests.

pub mod csr;
pub mod events_table;
pub mod ials;
pub mod metrics;
pub mod parquet_io;
pub mod store;
