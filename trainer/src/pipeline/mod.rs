//! The pipeline: the stages chained into what the trainer runs as one job.
//!
//! Owns the training run ([`training`]: holdout, blend tuning, baselines, final fit, all in
//! memory) and the nightly job ([`nightly`]: pull → pending erasures → compact → KPIs → train →
//! gate → publish). The model is handed from stage to stage in memory, encoded once.
//!
//! Must not: implement a stage itself; it only calls them in order and reports.

pub mod nightly;
pub mod stand_in;
pub mod training;
