//! `trainer cluster …`: the processes of a Ballista cluster for the lake jobs (see
//! `trainer::cluster`); jobs reach it with `--engine ballista://host:port`.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use trainer::cluster::{executor, scheduler};

use super::args::open;

#[derive(Subcommand)]
pub(crate) enum ClusterCmd {
    /// The scheduler: plans jobs sent with `--engine ballista://host:port` and hands their tasks
    /// to the executors.
    Scheduler(SchedulerCmd),
    /// One executor: runs tasks against the lake (give it the same --lake and credentials as the
    /// scheduler).
    Executor(ExecutorCmd),
}

impl ClusterCmd {
    pub(crate) async fn run(self) -> Result<()> {
        match self {
            Self::Scheduler(c) => c.run().await,
            Self::Executor(c) => c.run().await,
        }
    }
}

/// The lake, required here: every process of a cluster must name the same one (a default
/// relative path would be another lake on another machine).
#[derive(Args)]
struct ClusterLake {
    /// The lake the jobs read: the same URL (and credentials) as the jobs and every process.
    #[arg(long, env = "VITRINE_LAKE")]
    lake: String,
}

#[derive(Args)]
pub(crate) struct SchedulerCmd {
    #[command(flatten)]
    lake: ClusterLake,
    /// Address to listen on (executors and `--engine` clients connect here).
    #[arg(long, default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    /// An executor without a heartbeat for this long is lost: the jobs running then are
    /// cancelled and their clients run them again on the executors that are left.
    #[arg(long, default_value_t = 30)]
    executor_timeout_seconds: u64,
}

impl SchedulerCmd {
    async fn run(self) -> Result<()> {
        scheduler::run(scheduler::SchedulerOptions {
            bind: self.bind,
            lake: open(&self.lake.lake)?,
            executor_timeout_seconds: self.executor_timeout_seconds,
        })
        .await
        .context("scheduler")
    }
}

#[derive(Args)]
pub(crate) struct ExecutorCmd {
    #[command(flatten)]
    lake: ClusterLake,
    /// The scheduler, host:port.
    #[arg(long, default_value = "127.0.0.1:50050")]
    scheduler: String,
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// The host name the scheduler, other executors and clients reach this executor by
    /// (default: the address the scheduler sees it connect from).
    #[arg(long)]
    external_host: Option<String>,
    /// Arrow Flight port (shuffle data between stages).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// gRPC port.
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// Tasks run at once (0: one per core).
    #[arg(long, default_value_t = 0)]
    concurrency: usize,
    /// Seconds between heartbeats (well below the scheduler's --executor-timeout-seconds).
    #[arg(long, default_value_t = 5)]
    heartbeat_seconds: u64,
    /// Directory for shuffle and spill files (default: a temporary directory removed on exit).
    #[arg(long)]
    work_dir: Option<std::path::PathBuf>,
}

impl ExecutorCmd {
    async fn run(self) -> Result<()> {
        let (host, port) = self
            .scheduler
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
            .with_context(|| format!("--scheduler `{}` is not host:port", self.scheduler))?;
        executor::run(executor::ExecutorOptions {
            scheduler_host: host,
            scheduler_port: port,
            bind_host: self.bind_host,
            external_host: self.external_host,
            port: self.port,
            grpc_port: self.grpc_port,
            concurrency: self.concurrency,
            heartbeat_seconds: self.heartbeat_seconds,
            work_dir: self.work_dir,
            lake: open(&self.lake.lake)?,
        })
        .await
        .context("executor")
    }
}
