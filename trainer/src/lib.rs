//! The trainer library: every stage of the nightly pipeline, callable from the `trainer` binary
//! and from tests. One folder per stage:
//!
//! - [`lake`]: object storage, Parquet tables, compaction, importers, pull, backup;
//! - [`model`]: training input, iALS, co-visitation, IVF, repurchase, search index → `ModelData`;
//! - [`evaluation`]: offline protocols, lake holdout, metrics, the quality gate;
//! - [`publish`]: versioned, verified artifacts and the `latest` flip;
//! - [`bi`]: KPI tables, segments, forecasts, dashboard data, alerts;
//! - [`customers`]: source connectors, matching, golden records;
//! - [`privacy`]: pseudonyms, PII encryption, GDPR erasure and export, audit log;
//! - [`pipeline`]: the training run and the nightly job that chain the stages;
//! - [`cluster`]: the Ballista scheduler and executor the lake jobs can run on.

pub mod bi;
pub mod cluster;
pub mod customers;
pub mod evaluation;
pub mod http;
pub mod lake;
pub mod model;
pub mod parallel;
pub mod pipeline;
pub mod privacy;
pub mod progress;
pub mod publish;
