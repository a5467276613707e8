//! `trainer`: Vitrine's nightly batch CLI. Each subcommand is one pipeline step; `run` is the
//! whole nightly job. This file and `cli/` only parse arguments and call the library; reports go
//! to stdout as JSON, logs to stderr.

mod cli;

use anyhow::Result;
use clap::{Parser, Subcommand};

use cli::bi::{AlertsCmd, KpisCmd};
use cli::cluster::ClusterCmd;
use cli::customers::{CustomersCmd, EraseCmd, ExportCmd, IngestSource, SignShopperCmd};
use cli::lake::{
    BackupCmd, CompactCmd, ImportFormat, PullCmd, ReplayDeadCmd, RestoreCmd, SimulateCmd,
};
use cli::model::{EvaluateCmd, PublishCmd, RollbackCmd, RunCmd, TrainCmd};

/// mimalloc: compaction and training allocate millions of small strings on several threads;
/// it is faster than the system allocator there and hands freed memory back, so peak RSS tracks
/// what is live.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "trainer",
    version,
    about = "Vitrine's batch pipeline: import, compact, train, publish"
)]
struct Cli {
    /// Log filter (error, warn, info, debug, or a tracing directive).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import a public event log into the lake's raw zone.
    Import {
        #[command(subcommand)]
        format: ImportFormat,
    },

    /// Pull customer data into the lake: the shop's Admin API (products, customers, orders) or a
    /// CRM / newsletter CSV export. PII is stored encrypted, shopper ids as pseudonyms.
    Ingest {
        #[command(subcommand)]
        source: IngestSource,
    },

    /// Build one golden record per customer from every staged source and the login links in
    /// events: tables/customers_golden + tables/customer_lineage.
    Customers(CustomersCmd),

    /// GDPR erasure: remove one person from every lake table and raw file (rewriting them) and
    /// write a receipt under gdpr/receipts/. The next training run builds a model without them.
    Erase(EraseCmd),

    /// Evaluate the alert rules in config/alerts.json over the lake (out-of-stock views, cart
    /// abandonment and quarantine-rate spikes) and POST new alerts to a webhook.
    Alerts(AlertsCmd),

    /// Mirror the lake and the models store into another object store (any URL), copying only
    /// what changed since the last backup; objects gone from the source go from the backup.
    Backup(BackupCmd),

    /// Rebuild an empty lake and models store from a backup, then verify the live model.
    Restore(RestoreCmd),

    /// GDPR access: everything the lake holds about one person (PII decrypted) as JSON.
    Export(ExportCmd),
    /// Sign a logged-in shopper's id with the worker's SHOPPER_SIGNING_KEY (what the shop's backend
    /// does on every page; the token goes with every request naming that user_id).
    SignShopper(SignShopperCmd),

    /// Generate a simulated electronics shop into the lake's raw zone.
    Simulate(SimulateCmd),

    /// Compact raw NDJSON into the deduplicated Parquet tables.
    Compact(CompactCmd),

    /// Compute the BI tables under tables/kpi/ (SQL over the lake tables); re-running a day
    /// replaces that day's partitions.
    Kpis(KpisCmd),

    /// Train a model from the lake tables, evaluate it on a time holdout against baselines and the
    /// live model, and write the artifact (+ `<out>.manifest.json`).
    Train(TrainCmd),

    /// Publish an artifact: write, read back, verify, then flip models/latest.json.
    Publish(PublishCmd),

    /// Point models/latest.json back at an already published version (verified first).
    Rollback(RollbackCmd),

    /// Put dead letters (raw/dead/) back into the raw zone once the lake is healthy again.
    ReplayDead(ReplayDeadCmd),
    /// Copy new raw events from a running worker's lake bucket into the lake.
    Pull(PullCmd),

    /// Offline evaluation on benchmark data against baselines computed in the same run.
    Evaluate(EvaluateCmd),

    /// The nightly job: pull (with --worker), pending erasures, compact, KPI tables, train, quality
    /// gate, publish (to the store, and to the worker with --worker).
    Run(RunCmd),

    /// A Ballista cluster for the lake jobs: `cluster scheduler` and `cluster executor` processes
    /// (other commands reach it with `--engine ballista://host:port`).
    Cluster {
        #[command(subcommand)]
        role: ClusterCmd,
    },
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import { format } => format.run().await,
        Command::Ingest { source } => source.run().await,
        Command::Customers(c) => c.run().await,
        Command::Erase(c) => c.run().await,
        Command::Alerts(c) => c.run().await,
        Command::Backup(c) => c.run().await,
        Command::Restore(c) => c.run().await,
        Command::Export(c) => c.run().await,
        Command::SignShopper(c) => c.run().await,
        Command::Simulate(c) => c.run().await,
        Command::Compact(c) => c.run().await,
        Command::Kpis(c) => c.run().await,
        Command::Train(c) => c.run().await,
        Command::Publish(c) => c.run().await,
        Command::Rollback(c) => c.run().await,
        Command::Pull(c) => c.run().await,
        Command::ReplayDead(c) => c.run().await,
        Command::Evaluate(c) => c.run().await,
        Command::Run(c) => c.run().await,
        Command::Cluster { role } => role.run().await,
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    // Large stacks: Ballista decodes and plans nested query plans recursively.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(16 * 1024 * 1024)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
