//! The one end-to-end test binary: the real trainer binary on a real lake dir, the real worker in
//! workerd (`wrangler dev`), real HTTP. Helpers live in the `tests` library.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a panic with context is the failure report"
)]

mod access;
mod api;
mod artifacts;
mod attacks;
mod bi;
mod carried;
mod cluster;
mod common;
mod customers;
mod faults;
mod gdpr;
mod ingest;
mod kills;
mod object_stores;
mod pipeline;
mod repository;
mod session;
mod sources;
