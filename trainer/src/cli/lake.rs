//! Commands of the lake stage: import, simulate, compact, pull, backup, restore.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use trainer::lake::simulate::{self, SimParams};
use trainer::lake::{backup, compact, feed, pull, rees46};
use trainer::privacy::keys;

use super::args::*;

#[derive(Subcommand)]
pub(crate) enum ImportFormat {
    /// REES46 e-commerce behaviour CSV.
    Rees46 {
        /// The CSV file.
        csv: PathBuf,
        #[command(flatten)]
        lake: LakeArg,
    },
    /// A Google Merchant Center product feed (TSV or RSS/Atom XML) into the catalog.
    Feed {
        /// The feed: an `http(s)://` URL (fetched with retries) or a file.
        source: String,
        #[command(flatten)]
        lake: LakeArg,
    },
}

impl ImportFormat {
    pub(crate) async fn run(self) -> Result<()> {
        match self {
            ImportFormat::Rees46 { csv, lake } => {
                let p = keys::pseudonymizer()?;
                report(
                    "import rees46",
                    &rees46::rees46(&open(&lake.lake)?, &csv, &p, now_ms()).await?,
                )
            }
            ImportFormat::Feed { source, lake } => report(
                "import feed",
                &feed::import(&open(&lake.lake)?, &source, now_ms()).await?,
            ),
        }
    }
}

/// Generate a simulated electronics shop into the lake's raw zone.
#[derive(Args)]
pub(crate) struct SimulateCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[arg(long, default_value_t = 200_000)]
    events: usize,
    #[arg(long, default_value_t = 5_000)]
    users: usize,
    #[arg(long, default_value_t = 2_000)]
    items: usize,
    #[arg(long, default_value_t = 30)]
    days: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Last simulated day, YYYY-MM-DD (default: yesterday, UTC).
    #[arg(long)]
    end_date: Option<String>,
    /// Write only the days from this one on, YYYY-MM-DD: the next night of a shop simulated
    /// before with the same seed and sizes (`--days` one more, `--events` in proportion).
    #[arg(long)]
    from_date: Option<String>,
}

impl SimulateCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            events,
            users,
            items,
            days,
            seed,
            end_date,
            from_date,
        } = self;
        let end_ms = SimParams::end_ms_of(end_date.as_deref(), now_ms())?;
        let first_day_ms = match from_date.as_deref() {
            None => None,
            Some(d) => Some(
                shared::time::parse_date(d)
                    .ok_or_else(|| anyhow::anyhow!("--from-date `{d}` is not YYYY-MM-DD"))?,
            ),
        };
        let p = SimParams {
            events,
            users,
            items,
            days,
            seed,
            end_ms,
        };
        report(
            "simulate",
            &simulate::simulate_from(&open(&lake.lake)?, &p, first_day_ms).await?,
        )
    }
}

/// Compact raw NDJSON into the deduplicated Parquet tables.
#[derive(Args)]
pub(crate) struct CompactCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    engine: EngineArg,
    /// Build partitions with the DataFusion plan also on the embedded engine (a cluster always
    /// uses it; locally the hand-written path is faster).
    #[arg(long)]
    plan: bool,
}

impl CompactCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self { lake, engine, plan } = self;
        let how = if plan {
            compact::Compactor::Plan(engine.engine)
        } else {
            compact::Compactor::for_engine(&engine.engine)
        };
        report(
            "compact",
            &compact::compact_using(&open(&lake.lake)?, &how).await?,
        )
    }
}

/// Copy new raw events from a running worker's lake bucket into the lake.
#[derive(Args)]
pub(crate) struct PullCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    worker: WorkerArgs,
}

impl PullCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self { lake, worker } = self;
        let w = worker.worker()?.context("--worker is required")?;
        report("pull", &pull::pull(&w, &open(&lake.lake)?).await?)
    }
}

/// Back up the lake and the models store into another object store (any URL) as today's dated
/// generation, copying only what changed; yesterday's generation keeps what was there yesterday.
#[derive(Args)]
pub(crate) struct BackupCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    models: ModelsArg,
    /// The backup store: a URL (s3://, gs://, az://, file://) or a local path.
    #[arg(long)]
    to: String,
    /// Days of generations to keep (the newest is always kept).
    #[arg(long, default_value_t = backup::DEFAULT_KEEP_DAYS)]
    keep_days: u32,
}

impl BackupCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let (lake, models, dest) = (
            open(&self.lake.lake)?,
            open(&self.models.models)?,
            open(&self.to)?,
        );
        let r = backup::backup(&lake, Some(&models), &dest, now_ms(), self.keep_days).await?;
        report("backup", &r)
    }
}

/// Rebuild an empty lake and models store from a backup generation, then verify the live model.
#[derive(Args)]
pub(crate) struct RestoreCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    models: ModelsArg,
    /// The backup store.
    #[arg(long)]
    from: String,
    /// Restore the newest generation on or before this day (YYYY-MM-DD; default: the newest).
    #[arg(long)]
    at: Option<String>,
    /// Restore into stores that are not empty (objects with the same keys are overwritten).
    #[arg(long)]
    force: bool,
}

impl RestoreCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let (lake, models, from) = (
            open(&self.lake.lake)?,
            open(&self.models.models)?,
            open(&self.from)?,
        );
        let r =
            backup::restore(&from, &lake, Some(&models), self.at.as_deref(), self.force).await?;
        report("restore", &r)
    }
}

/// Put the dead letters under raw/dead/ (batches the worker could not write within the queue's
/// retries) back into the raw zone, erased people left out; run after the cause is fixed.
#[derive(Args)]
pub(crate) struct ReplayDeadCmd {
    #[command(flatten)]
    lake: LakeArg,
}

impl ReplayDeadCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let r = trainer::lake::dead_letters::replay(&open(&self.lake.lake)?, now_ms()).await?;
        report("replay-dead", &r)
    }
}
