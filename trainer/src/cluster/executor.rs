//! `trainer cluster executor`: a Ballista executor whose runtime has the lake registered, so the
//! tasks it runs read the lake by the same URL as the planner.

use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;

use super::ClusterError;
use crate::lake::engine::lake_url;
use crate::lake::store::Lake;

/// How to run one executor.
pub struct ExecutorOptions {
    /// The scheduler, `host:port`.
    pub scheduler_host: String,
    pub scheduler_port: u16,
    /// Interface to listen on, and the host the scheduler and other executors reach it by.
    pub bind_host: String,
    pub external_host: Option<String>,
    /// Arrow Flight port (shuffle data) and gRPC port.
    pub port: u16,
    pub grpc_port: u16,
    /// Tasks run at once (0: one per core).
    pub concurrency: usize,
    /// Seconds between heartbeats to the scheduler.
    pub heartbeat_seconds: u64,
    /// Shuffle and spill files go here (created if missing; default: a temporary directory
    /// removed when the executor stops).
    pub work_dir: Option<std::path::PathBuf>,
    /// The lake the tasks read.
    pub lake: Lake,
}

/// The functions a task's plan may name: Ballista's defaults (DataFusion's core scalar, aggregate
/// and window functions) plus what the trainer's SQL also uses: Vitrine's own
/// ([`crate::lake::engine::functions`], the compaction's event check) and DataFusion's
/// nested-type functions (`cardinality`, `unnest` helpers, `array_*`). A function missing here fails the
/// task when the executor decodes it.
fn functions() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    for f in crate::lake::engine::functions() {
        registry
            .scalar_functions
            .insert(f.name().to_owned(), Arc::clone(&f));
    }
    for f in datafusion::functions_nested::all_default_nested_functions() {
        for name in std::iter::once(f.name()).chain(f.aliases().iter().map(String::as_str)) {
            registry
                .scalar_functions
                .insert(name.to_owned(), Arc::clone(&f));
        }
    }
    registry
}

/// Runs the executor until the process is stopped.
pub async fn run(o: ExecutorOptions) -> Result<(), ClusterError> {
    if o.heartbeat_seconds == 0 {
        return Err(ClusterError::Invalid(
            "--heartbeat-seconds must be at least 1".into(),
        ));
    }
    let url = lake_url()?;
    let store = o.lake.store();
    // Shuffle and spill files: the given directory, or one that lives as long as this process.
    let _owned: Option<tempfile::TempDir>;
    let dir = match &o.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            _owned = None;
            d.clone()
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("vitrine-executor-")
                .tempdir()?;
            let path = t.path().to_path_buf();
            _owned = Some(t);
            path
        }
    };
    let work_dir = dir
        .to_str()
        .ok_or_else(|| ClusterError::Invalid(format!("{} is not a UTF-8 path", dir.display())))?
        .to_owned();
    let spill = work_dir.clone();
    let config = ExecutorProcessConfig {
        bind_host: o.bind_host,
        external_host: o.external_host,
        port: o.port,
        grpc_port: o.grpc_port,
        scheduler_host: o.scheduler_host,
        scheduler_port: o.scheduler_port,
        vcores: o.concurrency,
        work_dir: Some(work_dir),
        executor_heartbeat_interval_seconds: o.heartbeat_seconds,
        print_thread_info: false,
        override_function_registry: Some(Arc::new(functions())),
        override_runtime_producer: Some(Arc::new(move |_| {
            let runtime = RuntimeEnvBuilder::new()
                .with_temp_file_path(spill.clone())
                .build()?;
            runtime.register_object_store(&url, Arc::clone(&store));
            Ok(Arc::new(runtime))
        })),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
