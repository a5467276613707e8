//! The lake jobs' cluster: a Ballista scheduler and executors built into the trainer binary
//! (`trainer cluster scheduler|executor`), so every process of a cluster registers the lake's
//! store under [`crate::lake::engine::LAKE_URL`] and knows what the trainer's plans use.
//!
//! Owns: starting those processes with Vitrine's session setup. Must not: plan or run jobs
//! (jobs connect through [`crate::lake::engine::Engine::connect`]) or write to the lake itself.

pub mod executor;
pub mod loss;
pub mod scheduler;

/// Starting a cluster process failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("ballista: {0}")]
    Ballista(#[from] ballista_core::error::BallistaError),
    #[error("datafusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("work directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Invalid(String),
}
