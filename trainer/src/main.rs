//! `trainer`: Vitrine's nightly batch CLI. Each subcommand is one pipeline step; `run` is the
//! whole nightly job. Reports go to stdout as JSON, logs to stderr.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use shared::{Manifest, Model};
use trainer::store::Lake;
use trainer::{compact, import, publish, pull, simulate, train};

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

#[derive(Args, Clone)]
struct LakeArg {
    /// The lake: a URL (file://, s3://, gs://, az://, memory://) or a local path.
    #[arg(long, env = "VITRINE_LAKE", default_value = "file://./.vitrine/lake")]
    lake: String,
}

#[derive(Args, Clone)]
struct ModelsArg {
    /// The models store: a URL or a local path.
    #[arg(
        long,
        env = "VITRINE_MODELS",
        default_value = "file://./.vitrine/models"
    )]
    models: String,
}

#[derive(Args, Clone)]
struct WorkerArgs {
    /// A running Vitrine worker (e.g. http://127.0.0.1:8787) to publish to / pull from via its admin API.
    #[arg(long)]
    worker: Option<String>,
    /// The worker's admin key.
    #[arg(long, env = "VITRINE_ADMIN_KEY", hide_env_values = true)]
    admin_key: Option<String>,
}

impl WorkerArgs {
    fn key(&self) -> Result<&str> {
        self.admin_key
            .as_deref()
            .context("--admin-key (or VITRINE_ADMIN_KEY) is required with --worker")
    }
}

#[derive(Args, Clone)]
struct TrainArgs {
    /// Half-life of popularity decay, in days.
    #[arg(long, default_value_t = 7.0)]
    half_life_days: f64,
    #[arg(long, default_value_t = 1.0)]
    view_weight: f32,
    #[arg(long, default_value_t = 3.0)]
    cart_weight: f32,
    #[arg(long, default_value_t = 5.0)]
    purchase_weight: f32,
    /// Neighbours kept per item in the co-visitation lists.
    #[arg(long, default_value_t = 50)]
    neighbors: usize,
    /// Model version (default: UTC time plus a content hash).
    #[arg(long)]
    version: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Import a public event log into the lake's raw zone.
    Import {
        #[command(subcommand)]
        format: ImportFormat,
    },
    /// Generate a simulated electronics shop into the lake's raw zone.
    Simulate {
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
    },
    /// Compact raw NDJSON into the deduplicated Parquet tables.
    Compact {
        #[command(flatten)]
        lake: LakeArg,
    },
    /// Train a model from the lake tables and write the artifact (+ `<out>.manifest.json`).
    Train {
        #[command(flatten)]
        lake: LakeArg,
        /// Where to write the artifact.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        params: TrainArgs,
    },
    /// Publish an artifact: write, read back, verify, then flip models/latest.json.
    Publish {
        /// The artifact written by `train` (its manifest is `<artifact>.manifest.json`).
        #[arg(long)]
        artifact: PathBuf,
        #[command(flatten)]
        models: ModelsArg,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Copy new raw events from a running worker's lake bucket into the lake.
    Pull {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Offline evaluation on benchmark data against baselines computed in the same run.
    Evaluate {
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
    },
    /// The nightly job: pull (with --worker), compact, train, publish.
    Run {
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
    },
}

#[derive(Subcommand)]
enum ImportFormat {
    /// REES46 e-commerce behaviour CSV.
    Rees46 {
        /// The CSV file.
        csv: PathBuf,
        #[command(flatten)]
        lake: LakeArg,
    },
}

fn report<T: Serialize>(command: &str, value: &T) -> Result<()> {
    let mut v = serde_json::to_value(value)?;
    if let Some(o) = v.as_object_mut() {
        o.insert("command".into(), command.into());
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn manifest_path(artifact: &Path) -> PathBuf {
    let mut s = artifact.as_os_str().to_owned();
    s.push(".manifest.json");
    PathBuf::from(s)
}

async fn do_train(lake: &Lake, out: &Path, a: &TrainArgs) -> Result<Manifest> {
    let params = train::TrainParams(train::TrainValidParams {
        half_life_days: a.half_life_days,
        view_weight: a.view_weight,
        cart_weight: a.cart_weight,
        purchase_weight: a.purchase_weight,
        neighbors: a.neighbors,
        ..train::TrainParams::default().0
    })
    .check()?;
    let started = std::time::Instant::now();
    let columns = [
        "event_id",
        "event_type",
        "ts",
        "user_id",
        "anonymous_id",
        "session_id",
        "item_id",
        "quantity",
        "order_id",
        "lines",
    ];
    let events = compact::read_events(lake, &columns)
        .await
        .with_context(|| format!("reading events from {lake}"))?;
    let products = compact::read_products(lake).await?;
    tracing::info!(
        events = events.len(),
        products = products.len(),
        "read the lake"
    );
    let created_at = now_ms();
    let version = match &a.version {
        Some(v) => v.clone(),
        None => {
            let probe = train::build(&events, &products, &params, "probe", created_at)?.encode()?;
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            format!("{stamp}-{}", &publish::sha256_hex(&probe)[..8])
        }
    };
    if !shared::lake::is_safe_segment(&version) || version.len() > 32 {
        bail!(
            "version `{version}` must be at most 32 characters of letters, digits, '-', '_' or '.'"
        );
    }
    let bytes = train::build(&events, &products, &params, &version, created_at)?.encode()?;
    let model = Model::load(bytes.clone())?;
    let manifest = publish::manifest_for(&bytes, &model);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    std::fs::write(manifest_path(out), manifest.to_json())
        .with_context(|| format!("writing {}", manifest_path(out).display()))?;
    tracing::info!(
        version,
        items = model.n_items(),
        bytes = bytes.len(),
        seconds = started.elapsed().as_secs_f64(),
        "trained"
    );
    Ok(manifest)
}

async fn do_publish(artifact: &Path, models: &str, worker: &WorkerArgs) -> Result<Manifest> {
    let bytes =
        std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
    let mpath = manifest_path(artifact);
    let text = std::fs::read(&mpath).with_context(|| format!("reading {}", mpath.display()))?;
    let manifest =
        Manifest::parse(&text).with_context(|| format!("parsing {}", mpath.display()))?;
    let store = Lake::open(models)?;
    publish::publish(&store, &bytes, &manifest)
        .await
        .with_context(|| format!("publishing to {store}"))?;
    tracing::info!(version = manifest.version, store = %store, "published");
    if let Some(url) = &worker.worker {
        publish::to_worker(url, worker.key()?, &bytes, &manifest).await?;
        tracing::info!(
            version = manifest.version,
            worker = url,
            "uploaded to the worker"
        );
    }
    Ok(manifest)
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import {
            format: ImportFormat::Rees46 { csv, lake },
        } => {
            let lake = Lake::open(&lake.lake)?;
            let r = import::rees46(&lake, &csv, now_ms()).await?;
            report("import rees46", &r)
        }
        Command::Simulate {
            lake,
            events,
            users,
            items,
            days,
            seed,
            end_date,
        } => {
            let lake = Lake::open(&lake.lake)?;
            let end_ms = match end_date {
                Some(d) => {
                    shared::time::parse_date(&d)
                        .with_context(|| format!("--end-date `{d}` is not YYYY-MM-DD"))?
                        + shared::time::DAY_MS
                }
                None => shared::time::parse_date(&shared::time::date_of(now_ms())).unwrap_or(0),
            };
            let p = simulate::SimParams {
                events,
                users,
                items,
                days,
                seed,
                end_ms,
            };
            let started = std::time::Instant::now();
            let mut r = serde_json::to_value(simulate::simulate(&lake, &p).await?)?;
            r["seconds"] = started.elapsed().as_secs_f64().into();
            report("simulate", &r)
        }
        Command::Compact { lake } => {
            let lake = Lake::open(&lake.lake)?;
            let r = compact::compact(&lake).await?;
            report("compact", &r)
        }
        Command::Train { lake, out, params } => {
            let lake = Lake::open(&lake.lake)?;
            let m = do_train(&lake, &out, &params).await?;
            report("train", &m)
        }
        Command::Publish {
            artifact,
            models,
            worker,
        } => {
            let m = do_publish(&artifact, &models.models, &worker).await?;
            report("publish", &m)
        }
        Command::Pull { lake, worker } => {
            let url = worker.worker.as_deref().context("--worker is required")?;
            let lake = Lake::open(&lake.lake)?;
            let r = pull::pull(url, worker.key()?, &lake).await?;
            report("pull", &r)
        }
        Command::Evaluate {
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
        } => {
            let ials = trainer::ials::IalsParams::default()
                .factors(factors)
                .iterations(iterations)
                .regularization(regularization)
                .alpha(alpha)
                .cg_steps(cg_steps)
                .seed(seed)
                .check()?;
            let p = trainer::evaluate::VitrineParams {
                ials,
                window,
                neighbors: 100,
            };
            if let Some(path) = sequences {
                let seqs = trainer::sequences::read_user_sequences(&path)?;
                let r = trainer::evaluate::leave_last_out(&seqs, &p, tune_users)?;
                report("evaluate", &r)
            } else if let (Some(train_path), Some(test_path)) = (sessions, test) {
                let train = trainer::sequences::read_sessions(&train_path)?;
                let test = trainer::sequences::read_sessions(&test_path)?;
                let r = trainer::evaluate::next_click(&train, &test, &p)?;
                report("evaluate", &r)
            } else {
                bail!("give --sequences FILE, or --sessions TRAIN --test TEST")
            }
        }
        Command::Run {
            lake,
            models,
            out_dir,
            worker,
            params,
        } => {
            let store = Lake::open(&lake.lake)?;
            if let Some(url) = &worker.worker {
                let r = pull::pull(url, worker.key()?, &store).await?;
                tracing::info!(copied = r.copied, "pulled raw events from the worker");
            }
            let c = compact::compact(&store).await?;
            tracing::info!(
                partitions = c.partitions_written,
                events = c.events_out,
                "compacted"
            );
            let out = out_dir.join("model.bin");
            do_train(&store, &out, &params).await?;
            let m = do_publish(&out, &models.models, &worker).await?;
            report("run", &m)
        }
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
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
