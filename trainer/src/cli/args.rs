//! Arguments several commands share (stores, the worker, training knobs) and the helpers every
//! command uses to report.

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use trainer::http::Worker;
use trainer::lake::engine::EngineUrl;
use trainer::lake::store::Lake;
use trainer::model::ials::IalsParams;
use trainer::model::train::{TrainParams, TrainValidParams};
use trainer::pipeline::training::{RunParams, RunValidParams};

#[derive(Args, Clone)]
pub(crate) struct LakeArg {
    /// The lake: a URL (file://, s3://, gs://, az://, memory://) or a local path.
    #[arg(long, env = "VITRINE_LAKE", default_value = "file://./.vitrine/lake")]
    pub(crate) lake: String,
}

#[derive(Args, Clone)]
pub(crate) struct EngineArg {
    /// Where the lake's SQL jobs run: `local` (DataFusion in this process) or
    /// `ballista://host:port` (a `trainer cluster scheduler`).
    #[arg(long, env = "VITRINE_ENGINE", default_value = "local")]
    pub(crate) engine: EngineUrl,
}

#[derive(Args, Clone)]
pub(crate) struct ModelsArg {
    /// The models store: a URL or a local path.
    #[arg(
        long,
        env = "VITRINE_MODELS",
        default_value = "file://./.vitrine/models"
    )]
    pub(crate) models: String,
}

#[derive(Args, Clone)]
pub(crate) struct WorkerArgs {
    /// A running Vitrine worker (e.g. http://127.0.0.1:8787) to publish to / pull from via its admin API.
    #[arg(long)]
    pub(crate) worker: Option<String>,
    /// The worker's admin key.
    #[arg(long, env = "VITRINE_ADMIN_KEY", hide_env_values = true)]
    pub(crate) admin_key: Option<String>,
}

impl WorkerArgs {
    /// The worker, when `--worker` is given (its admin key is then required).
    pub(crate) fn worker(&self) -> Result<Option<Worker>> {
        let Some(url) = &self.worker else {
            return Ok(None);
        };
        let admin_key = self
            .admin_key
            .clone()
            .context("--admin-key (or VITRINE_ADMIN_KEY) is required with --worker")?;
        Ok(Some(Worker {
            url: url.clone(),
            admin_key,
        }))
    }
}

#[derive(Args, Clone)]
pub(crate) struct TrainArgs {
    #[command(flatten)]
    pub(crate) engine: EngineArg,
    /// Half-life of popularity decay, in days.
    #[arg(long, default_value_t = 7.0)]
    pub(crate) half_life_days: f64,
    #[arg(long, default_value_t = 1.0)]
    pub(crate) view_weight: f32,
    #[arg(long, default_value_t = 3.0)]
    pub(crate) cart_weight: f32,
    #[arg(long, default_value_t = 5.0)]
    pub(crate) purchase_weight: f32,
    /// Neighbours kept per item in the co-visitation lists.
    #[arg(long, default_value_t = 50)]
    pub(crate) neighbors: usize,
    /// Embedding dimensions of the iALS model (0: popularity and co-visitation only).
    #[arg(long, default_value_t = 64)]
    pub(crate) factors: usize,
    #[arg(long, default_value_t = 15)]
    pub(crate) iterations: usize,
    #[arg(long, default_value_t = 10.0)]
    pub(crate) alpha: f32,
    #[arg(long, default_value_t = 0.1)]
    pub(crate) regularization: f32,
    /// Seed of the iALS initialisation (same lake + seed → same artifact).
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Catalogs with at least this many items get an IVF candidate index.
    #[arg(long, default_value_t = 50_000)]
    pub(crate) ivf_min_items: usize,
    /// Above this many interactions the embeddings train on a hash sample of shoppers.
    #[arg(long, default_value_t = 30_000_000)]
    pub(crate) max_embedding_interactions: usize,
    /// The session model learns from at most this many of the most recent sessions (0: none).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) session_model_sessions: usize,
    /// Iterations of the final refit, warm-started from the holdout model's item vectors.
    #[arg(long, default_value_t = 4)]
    pub(crate) refit_iterations: usize,
    /// Days at the end of the data held out for evaluation and the quality gate.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) holdout_days: f64,
    /// Most shoppers scored per holdout half.
    #[arg(long, default_value_t = 2000)]
    pub(crate) holdout_shoppers: usize,
    /// Model version (default: UTC time plus a content hash).
    #[arg(long)]
    pub(crate) version: Option<String>,
    /// Train the holdout model even when the live model can stand in for it (it was trained by
    /// this trainer build with the same parameters on exactly the data before the cutoff).
    #[arg(long)]
    pub(crate) fresh_holdout: bool,
}

impl TrainArgs {
    pub(crate) fn params(&self) -> Result<TrainValidParams> {
        let ials = if self.factors == 0 {
            None
        } else {
            Some(
                IalsParams::default()
                    .factors(self.factors)
                    .iterations(self.iterations)
                    .alpha(self.alpha)
                    .regularization(self.regularization)
                    .seed(self.seed)
                    .check()?,
            )
        };
        Ok(TrainParams(TrainValidParams {
            half_life_days: self.half_life_days,
            view_weight: self.view_weight,
            cart_weight: self.cart_weight,
            purchase_weight: self.purchase_weight,
            neighbors: self.neighbors,
            ials,
            ivf_min_items: self.ivf_min_items,
            max_embedding_interactions: self.max_embedding_interactions,
            session_model_sessions: self.session_model_sessions,
            ..TrainParams::default().0
        })
        .check()?)
    }

    pub(crate) fn run_params(&self) -> Result<RunValidParams> {
        Ok(RunParams(RunValidParams {
            holdout_days: self.holdout_days,
            max_cases: self.holdout_shoppers,
            refit_iterations: self.refit_iterations,
            version: self.version.clone(),
            now_ms: now_ms(),
            engine: self.engine.engine.clone(),
            fresh_holdout: self.fresh_holdout,
        })
        .check()?)
    }
}

pub(crate) fn report<T: Serialize>(command: &str, value: &T) -> Result<()> {
    let mut v = serde_json::to_value(value)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("command".into(), command.into());
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn open(url: &str) -> Result<Lake> {
    Ok(Lake::open(url)?)
}
