//! `trainer cluster scheduler`: Ballista's scheduler (in-memory cluster state) with a session
//! builder that registers the lake and Vitrine's functions, so it can list the lake's files and
//! decode the plans that call them when it plans a job, and
//! the cluster state wrapped so a lost executor cancels the running jobs ([`super::loss`]).

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::utils::default_session_builder;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service};
use datafusion::execution::FunctionRegistry;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use super::ClusterError;
use super::loss::{CancelOnLoss, Server};
use crate::lake::engine::lake_url;
use crate::lake::store::Lake;

/// How to run the scheduler.
pub struct SchedulerOptions {
    /// Where executors and clients reach it.
    pub bind: SocketAddr,
    /// The lake the jobs read (same URL and credentials as on the executors).
    pub lake: Lake,
    /// An executor silent this long is declared lost and its tasks run elsewhere.
    pub executor_timeout_seconds: u64,
}

/// Runs the scheduler until the process is stopped.
pub async fn run(o: SchedulerOptions) -> Result<(), ClusterError> {
    if o.executor_timeout_seconds == 0 {
        return Err(ClusterError::Invalid(
            "--executor-timeout-seconds must be at least 1".into(),
        ));
    }
    let url = lake_url()?;
    let store = o.lake.store();
    let config = SchedulerConfig {
        bind_host: o.bind.ip().to_string(),
        bind_port: o.bind.port(),
        external_host: o.bind.ip().to_string(),
        executor_timeout_seconds: o.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: o.executor_timeout_seconds.clamp(1, 15),
        no_executors_grace_period_seconds: o.executor_timeout_seconds,
        // A task that cannot fetch a lost executor's shuffle output fails the job (the engine
        // runs it again) rather than resubmitting stages, the path that can count output twice
        // (see `super::loss`).
        stage_max_failures: 1,
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(Arc::new(move |config| {
        let mut state = default_session_builder(config)?;
        for f in crate::lake::engine::functions() {
            state.register_udf(f)?;
        }
        state
            .runtime_env()
            .register_object_store(&url, Arc::clone(&store));
        Ok(state)
    }));
    config.validate()?;
    let memory = BallistaCluster::new_from_config(&config).await?;
    let server: Server = Arc::default();
    let cluster = BallistaCluster::new(
        Arc::new(CancelOnLoss {
            inner: memory.cluster_state(),
            server: Arc::clone(&server),
        }),
        memory.job_state(),
    );
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await?;
    // The cell is empty only until this line; a loss before it has no running job to cancel.
    let _ = server.set(scheduler.clone());
    tracing::info!(bind = %o.bind, "scheduler listening");
    start_grpc_service(o.bind, scheduler).await?;
    Ok(())
}
