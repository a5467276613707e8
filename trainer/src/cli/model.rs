//! Commands of training and publishing: train, publish, rollback, evaluate, and the nightly run.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use trainer::evaluation::benchmarks::{self, Benchmark};
use trainer::evaluation::vitrine_model::{EvalError, VitrineParams};
use trainer::model::artifact::Artifact;
use trainer::model::ials::IalsParams;
use trainer::pipeline::nightly::{self, NightlyParams};
use trainer::pipeline::training::{self};
use trainer::publish;

use super::args::*;

/// Train a model from the lake tables, evaluate it on a time holdout against baselines and the
/// live model, and write the artifact (+ `<out>.manifest.json`).
#[derive(Args)]
pub(crate) struct TrainCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    models: ModelsArg,
    /// Where to write the artifact.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    params: TrainArgs,
}

impl TrainCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            models,
            out,
            params,
        } = self;
        let lake = open(&lake.lake)?;
        let r = training::run(
            &lake,
            Some(&open(&models.models)?),
            &params.params()?,
            &params.run_params()?,
        )
        .await
        .with_context(|| format!("training from {lake}"))?;
        r.artifact.write_file(&out)?;
        report("train", &r)
    }
}

/// Publish an artifact: write, read back, verify, then flip models/latest.json.
#[derive(Args)]
pub(crate) struct PublishCmd {
    /// The artifact written by `train` (its manifest is `<artifact>.manifest.json`).
    #[arg(long)]
    artifact: PathBuf,
    #[command(flatten)]
    models: ModelsArg,
    #[command(flatten)]
    worker: WorkerArgs,
    /// Publish even if the quality gate refuses (recorded in models/<version>/gate.json).
    #[arg(long)]
    force: bool,
}

impl PublishCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            artifact,
            models,
            worker,
            force,
        } = self;
        let (a, models) = (Artifact::read_file(&artifact)?, open(&models.models)?);
        let verdict = publish::publish_gated(&models, &a, force, now_ms())
            .await
            .with_context(|| format!("publishing to {models}"))?;
        tracing::info!(version = a.manifest.version, gate = ?verdict, "published");
        if let Some(w) = worker.worker()? {
            publish::to_worker(&w, &a).await?;
        }
        report("publish", &a.manifest)
    }
}

/// Point models/latest.json back at an already published version (verified first).
#[derive(Args)]
pub(crate) struct RollbackCmd {
    /// The version to make live.
    version: String,
    #[command(flatten)]
    models: ModelsArg,
    #[command(flatten)]
    worker: WorkerArgs,
}

impl RollbackCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            version,
            models,
            worker,
        } = self;
        let models = open(&models.models)?;
        let a = publish::rollback(&models, &version)
            .await
            .with_context(|| format!("rolling back {models} to {version}"))?;
        if let Some(w) = worker.worker()? {
            publish::to_worker(&w, &a).await?;
        }
        report("rollback", &a.manifest)
    }
}

/// Offline evaluation on benchmark data against baselines computed in the same run.
#[derive(Args)]
pub(crate) struct EvaluateCmd {
    /// A `user item item …` sequences file: leave-last-out, full ranking.
    #[arg(long, conflicts_with = "sessions")]
    sequences: Option<PathBuf>,
    /// A `SessionId ItemId Time` training file: next-click prediction on `--test`.
    #[arg(long, requires = "test")]
    sessions: Option<PathBuf>,
    /// Test sessions for `--sessions`.
    #[arg(long)]
    test: Option<PathBuf>,
    #[arg(long, default_value_t = 128)]
    factors: usize,
    #[arg(long, default_value_t = 15)]
    iterations: usize,
    #[arg(long, default_value_t = 0.1)]
    regularization: f32,
    #[arg(long, default_value_t = 10.0)]
    alpha: f32,
    #[arg(long, default_value_t = 3)]
    cg_steps: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Co-visitation window (following items).
    #[arg(long, default_value_t = 3)]
    window: usize,
    /// Validation users used to choose the blend.
    #[arg(long, default_value_t = 5000)]
    tune_users: usize,
}

impl EvaluateCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            sequences,
            sessions,
            test,
            factors,
            iterations,
            regularization,
            alpha,
            cg_steps,
            seed,
            window,
            tune_users,
        } = self;
        let ials = IalsParams::default()
            .factors(factors)
            .iterations(iterations)
            .regularization(regularization)
            .alpha(alpha)
            .cg_steps(cg_steps)
            .seed(seed)
            .check()?;
        let p = VitrineParams {
            ials,
            window,
            neighbors: 100,
        };
        let bench = match (sequences, sessions, test) {
            (Some(path), _, _) => Benchmark::Sequences(path),
            (None, Some(train), Some(test)) => Benchmark::Sessions { train, test },
            _ => return Err(EvalError::NoData.into()),
        };
        report("evaluate", &benchmarks::evaluate(&bench, &p, tune_users)?)
    }
}

/// The nightly job: pull (with --worker), compact, train, publish.
#[derive(Args)]
pub(crate) struct RunCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    models: ModelsArg,
    /// Where to keep the trained artifact.
    #[arg(long, default_value = "./.vitrine/artifacts")]
    out_dir: PathBuf,
    #[command(flatten)]
    worker: WorkerArgs,
    #[command(flatten)]
    params: TrainArgs,
    /// Publish even if the quality gate refuses.
    #[arg(long)]
    force: bool,
}

impl RunCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            models,
            out_dir,
            worker,
            params,
            force,
        } = self;
        let p = NightlyParams {
            train: params.params()?,
            run: params.run_params()?,
            worker: worker.worker()?,
            force,
            out: Some(out_dir.join("model.bin")),
        };
        let r = nightly::run(&open(&lake.lake)?, &open(&models.models)?, &p).await?;
        report("run", &r)
    }
}
