//! Commands of the BI stage: KPI tables and alerts.

use anyhow::{Context, Result};
use clap::Args;
use trainer::bi::{alerts, dashboard, kpis};

use super::args::*;

/// Compute the BI tables under tables/kpi/ (SQL over the lake tables); re-running a day
/// replaces that day's partitions.
#[derive(Args)]
pub(crate) struct KpisCmd {
    #[command(flatten)]
    lake: LakeArg,
    #[command(flatten)]
    engine: EngineArg,
    /// First day, YYYY-MM-DD (default: the first day with events).
    #[arg(long)]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (default: the last day with events).
    #[arg(long)]
    to: Option<String>,
    /// Also publish the dashboard data to this models store (URL or path).
    #[arg(long)]
    models: Option<String>,
    #[command(flatten)]
    worker: WorkerArgs,
}

impl KpisCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            engine,
            from,
            to,
            models,
            worker,
        } = self;
        let opts = kpis::KpiOptions {
            from,
            to,
            last_days: None,
            now_ms: now_ms(),
            engine: engine.engine,
        };
        let r = kpis::run(&open(&lake.lake)?, &opts).await?;
        let models = models.as_deref().map(open).transpose()?;
        dashboard::publish(&r.dashboard, models.as_ref(), worker.worker()?.as_ref()).await?;
        report("kpis", &r)
    }
}

/// Evaluate the alert rules in config/alerts.json over the lake (out-of-stock views, cart
/// abandonment and quarantine-rate spikes) and POST new alerts to a webhook.
#[derive(Args)]
pub(crate) struct AlertsCmd {
    #[command(flatten)]
    lake: LakeArg,
    /// Where alerts go (JSON POST); without it the alerts are only printed.
    #[arg(long, env = "VITRINE_ALERT_WEBHOOK")]
    webhook: Option<String>,
    /// Evaluate as of this time, RFC 3339 (default: now).
    #[arg(long)]
    at: Option<String>,
}

impl AlertsCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self { lake, webhook, at } = self;
        let now = match at {
            Some(t) => shared::time::parse_rfc3339(&t)
                .with_context(|| format!("--at `{t}` is not an RFC 3339 time"))?,
            None => now_ms(),
        };
        report(
            "alerts",
            &alerts::run(&open(&lake.lake)?, webhook.as_deref(), now).await?,
        )
    }
}
