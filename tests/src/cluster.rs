//! A real Ballista cluster for the lake jobs: `trainer cluster scheduler` and `trainer cluster
//! executor` started as separate processes on free loopback ports with their default timeouts,
//! stopped on drop.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::{Result, free_port, trainer, wait_for};

/// The scheduler and its executors.
pub struct Cluster {
    /// What `--engine` takes to reach it.
    pub engine: String,
    scheduler_port: u16,
    scheduler: Child,
    executors: Vec<Option<Child>>,
    lake: String,
    logs: std::path::PathBuf,
}

fn listening(port: u16) -> Option<()> {
    TcpStream::connect(("127.0.0.1", port)).ok().map(|_| ())
}

impl Cluster {
    /// A scheduler and `executors` executors over `lake`; logs go to files under `logs`.
    pub fn start(lake: &str, executors: usize, logs: &Path) -> Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(logs.join("scheduler.log"))?;
        let scheduler = trainer(&[
            "cluster",
            "scheduler",
            "--lake",
            lake,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])?
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
        let mut cluster = Self {
            engine: format!("ballista://127.0.0.1:{port}"),
            scheduler_port: port,
            scheduler,
            executors: Vec::new(),
            lake: lake.to_owned(),
            logs: logs.to_owned(),
        };
        wait_for("the scheduler", Duration::from_secs(60), || listening(port))?;
        for _ in 0..executors {
            cluster.add_executor()?;
        }
        Ok(cluster)
    }

    /// Starts one more executor and waits until it listens.
    pub fn add_executor(&mut self) -> Result<()> {
        let (flight, grpc) = (free_port()?, free_port()?);
        let n = self.executors.len();
        let log = std::fs::File::create(self.logs.join(format!("executor-{n}.log")))?;
        let child = trainer(&[
            "cluster",
            "executor",
            "--lake",
            &self.lake,
            "--scheduler",
            &format!("127.0.0.1:{}", self.scheduler_port),
            "--port",
            &flight.to_string(),
            "--grpc-port",
            &grpc.to_string(),
            "--concurrency",
            "2",
        ])?
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
        self.executors.push(Some(child));
        wait_for("an executor", Duration::from_secs(60), || listening(flight))?;
        // registered with the scheduler by its first heartbeat
        std::thread::sleep(Duration::from_secs(2));
        Ok(())
    }

    /// What executor `i` logged so far.
    pub fn executor_log(&self, i: usize) -> String {
        std::fs::read_to_string(self.logs.join(format!("executor-{i}.log"))).unwrap_or_default()
    }

    /// Kills executor `i` (SIGKILL: no goodbye to the scheduler).
    pub fn kill_executor(&mut self, i: usize) -> Result<()> {
        if let Some(mut c) = self.executors.get_mut(i).and_then(Option::take) {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// The processes' logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        if let Ok(dir) = std::fs::read_dir(&self.logs) {
            for e in dir.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
                out.push_str(&format!("--- {}\n", e.path().display()));
                for l in tail.into_iter().rev() {
                    out.push_str(l);
                    out.push('\n');
                }
            }
        }
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.executors.iter_mut().filter_map(Option::as_mut) {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.scheduler.kill();
        let _ = self.scheduler.wait();
    }
}
