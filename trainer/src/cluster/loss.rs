//! What the scheduler does when an executor is lost: cancel every running job, so it fails with
//! a clear error and is run again, instead of letting Ballista resume it.
//!
//! Ballista 55 resumes a job after a loss by re-running the lost map tasks, but a stage that was
//! already consuming their output keeps the earlier attempt's partition locations next to the
//! new ones (`StageOutput::add_partition` appends), so a downstream aggregate can read some
//! shuffle output twice. Vitrine's kill test caught it: after one executor was killed
//! mid-`daily_sales`, the job "succeeded" with revenue 24% too high. A lake job must be right or
//! fail, so this wrapper around the cluster state cancels the running jobs the moment an executor
//! is removed, before the scheduler's own loss handling (which runs after `remove_executor`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use ballista_core::JobId;
use ballista_core::error::Result;
use ballista_core::serde::protobuf::ExecutorHeartbeat;
use ballista_core::serde::scheduler::{ExecutorData, ExecutorMetadata};
use ballista_scheduler::cluster::{BoundTask, ClusterState, ClusterStateEventStream, ExecutorSlot};
use ballista_scheduler::config::TaskDistributionPolicy;
use ballista_scheduler::scheduler_server::SchedulerServer;
use ballista_scheduler::state::task_manager::JobInfoCache;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

/// The scheduler the running jobs are cancelled on (set once it exists).
pub type Server = Arc<OnceLock<SchedulerServer<LogicalPlanNode, PhysicalPlanNode>>>;

/// Ballista's cluster state, cancelling running jobs when an executor goes.
pub struct CancelOnLoss {
    pub inner: Arc<dyn ClusterState>,
    pub server: Server,
}

#[async_trait::async_trait]
impl ClusterState for CancelOnLoss {
    async fn init(&self) -> Result<()> {
        self.inner.init().await
    }

    async fn bind_schedulable_tasks(
        &self,
        distribution: TaskDistributionPolicy,
        active_jobs: Arc<HashMap<JobId, JobInfoCache>>,
        executors: Option<HashSet<String>>,
    ) -> Result<Vec<BoundTask>> {
        self.inner
            .bind_schedulable_tasks(distribution, active_jobs, executors)
            .await
    }

    async fn unbind_tasks(&self, executor_slots: Vec<ExecutorSlot>) -> Result<()> {
        self.inner.unbind_tasks(executor_slots).await
    }

    async fn register_executor(
        &self,
        metadata: ExecutorMetadata,
        spec: ExecutorData,
    ) -> Result<()> {
        self.inner.register_executor(metadata, spec).await
    }

    async fn save_executor_metadata(&self, metadata: ExecutorMetadata) -> Result<()> {
        self.inner.save_executor_metadata(metadata).await
    }

    async fn get_executor_metadata(&self, executor_id: &str) -> Result<ExecutorMetadata> {
        self.inner.get_executor_metadata(executor_id).await
    }

    async fn registered_executor_metadata(&self) -> Vec<ExecutorMetadata> {
        self.inner.registered_executor_metadata().await
    }

    async fn save_executor_heartbeat(&self, heartbeat: ExecutorHeartbeat) -> Result<()> {
        self.inner.save_executor_heartbeat(heartbeat).await
    }

    async fn remove_executor(&self, executor_id: &str) -> Result<()> {
        if let Some(server) = self.server.get() {
            let running: Vec<JobId> = server
                .state
                .task_manager
                .get_running_job_cache()
                .keys()
                .cloned()
                .collect();
            for job in running {
                tracing::warn!(
                    %executor_id,
                    job = %job,
                    "executor lost: cancelling the running job (it fails and is run again)"
                );
                if let Err(e) = server.cancel_job(job).await {
                    tracing::error!("cannot cancel a job after losing {executor_id}: {e}");
                }
            }
        }
        self.inner.remove_executor(executor_id).await
    }

    fn executor_heartbeats(&self) -> HashMap<String, ExecutorHeartbeat> {
        self.inner.executor_heartbeats()
    }

    fn get_executor_heartbeat(&self, executor_id: &str) -> Option<ExecutorHeartbeat> {
        self.inner.get_executor_heartbeat(executor_id)
    }

    async fn cluster_state_events(&self) -> Result<ClusterStateEventStream> {
        self.inner.cluster_state_events().await
    }
}
