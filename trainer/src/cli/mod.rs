//! The `trainer` binary's commands, one file per stage: each is a clap `Args` struct whose `run`
//! checks its options into the library's parameter types and calls the library. Part of the
//! binary, not of the library (`lib.rs` does not include it); `anyhow` stops here.

pub(crate) mod args;
pub(crate) mod bi;
pub(crate) mod cluster;
pub(crate) mod customers;
pub(crate) mod lake;
pub(crate) mod model;
