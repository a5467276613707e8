//! `trainer`: Vitrine's nightly batch CLI. Each subcommand is one pipeline step; `run` is the
//! whole nightly job. Reports go to stdout as JSON, logs to stderr.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use shared::Manifest;
use trainer::store::Lake;
use trainer::{compact, import, publish, pull, simulate, train, training_run};

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
    /// Embedding dimensions of the iALS model (0: popularity and co-visitation only).
    #[arg(long, default_value_t = 64)]
    factors: usize,
    #[arg(long, default_value_t = 15)]
    iterations: usize,
    #[arg(long, default_value_t = 10.0)]
    alpha: f32,
    #[arg(long, default_value_t = 0.1)]
    regularization: f32,
    /// Seed of the iALS initialisation (same lake + seed → same artifact).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Catalogs with at least this many items get an IVF candidate index.
    #[arg(long, default_value_t = 50_000)]
    ivf_min_items: usize,
    /// Above this many interactions the embeddings train on a hash sample of shoppers.
    #[arg(long, default_value_t = 30_000_000)]
    max_embedding_interactions: usize,
    /// Iterations of the final refit, warm-started from the holdout model's item vectors.
    #[arg(long, default_value_t = 4)]
    refit_iterations: usize,
    /// Days at the end of the data held out for evaluation and the quality gate.
    #[arg(long, default_value_t = 1.0)]
    holdout_days: f64,
    /// Most shoppers scored per holdout half.
    #[arg(long, default_value_t = 2000)]
    holdout_shoppers: usize,
    /// Model version (default: UTC time plus a content hash).
    #[arg(long)]
    version: Option<String>,
}

impl TrainArgs {
    fn params(&self) -> Result<train::TrainValidParams> {
        let ials = if self.factors == 0 {
            None
        } else {
            Some(
                trainer::ials::IalsParams::default()
                    .factors(self.factors)
                    .iterations(self.iterations)
                    .alpha(self.alpha)
                    .regularization(self.regularization)
                    .seed(self.seed)
                    .check()?,
            )
        };
        Ok(train::TrainParams(train::TrainValidParams {
            half_life_days: self.half_life_days,
            view_weight: self.view_weight,
            cart_weight: self.cart_weight,
            purchase_weight: self.purchase_weight,
            neighbors: self.neighbors,
            ials,
            ivf_min_items: self.ivf_min_items,
            max_embedding_interactions: self.max_embedding_interactions,
            ..train::TrainParams::default().0
        })
        .check()?)
    }

    fn options(&self) -> Result<training_run::RunOptions> {
        if !(self.holdout_days.is_finite() && self.holdout_days > 0.0) {
            bail!("--holdout-days must be > 0, got {}", self.holdout_days);
        }
        if self.refit_iterations > 1000 {
            bail!(
                "--refit-iterations must be between 0 (refit from scratch) and 1000, got {}",
                self.refit_iterations
            );
        }
        Ok(training_run::RunOptions {
            holdout_days: self.holdout_days,
            max_cases: self.holdout_shoppers,
            refit_iterations: self.refit_iterations,
            version: self.version.clone(),
            now_ms: now_ms(),
        })
    }
}

/// Days the nightly run recomputes KPI tables for: the 7-day attribution window plus today.
const NIGHTLY_KPI_DAYS: usize = 8;

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
    Customers {
        #[command(flatten)]
        lake: LakeArg,
        /// Jaro-Winkler similarity of names (same postcode) at or above which records merge.
        #[arg(long, default_value_t = 0.92)]
        fuzzy_threshold: f64,
        /// Source priority for survivorship, highest first.
        #[arg(long, default_value = "shop,crm,newsletter", value_delimiter = ',')]
        source_priority: Vec<String>,
        /// Country for phone numbers written without a country code (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "DE")]
        default_country: String,
    },
    /// GDPR erasure: remove one person from every lake table and raw file (rewriting them) and
    /// write a receipt under gdpr/receipts/. The next training run builds a model without them.
    Erase {
        #[command(flatten)]
        lake: LakeArg,
        /// The person: shop customer id, email, golden id or pseudonym.
        #[arg(long, required_unless_present = "pending", conflicts_with = "pending")]
        customer: Option<String>,
        /// Carry out the erasure requests the worker recorded (DELETE /v1/admin/customers/{id})
        /// that have no receipt yet; `trainer run` does this before compacting.
        #[arg(long)]
        pending: bool,
    },
    /// Evaluate the alert rules in config/alerts.json over the lake (out-of-stock views, cart
    /// abandonment and quarantine-rate spikes) and POST new alerts to a webhook.
    Alerts {
        #[command(flatten)]
        lake: LakeArg,
        /// Where alerts go (JSON POST); without it the alerts are only printed.
        #[arg(long, env = "VITRINE_ALERT_WEBHOOK")]
        webhook: Option<String>,
        /// Evaluate as of this time, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
    },
    /// Mirror the lake and the models store into another object store (any URL), copying only
    /// what changed since the last backup; objects gone from the source go from the backup.
    Backup {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        models: ModelsArg,
        /// The backup store: a URL (s3://, gs://, az://, file://) or a local path.
        #[arg(long)]
        to: String,
    },
    /// Rebuild an empty lake and models store from a backup, then verify the live model.
    Restore {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        models: ModelsArg,
        /// The backup store.
        #[arg(long)]
        from: String,
        /// Restore into stores that are not empty (objects with the same keys are overwritten).
        #[arg(long)]
        force: bool,
    },
    /// GDPR access: everything the lake holds about one person (PII decrypted) as JSON.
    Export {
        #[command(flatten)]
        lake: LakeArg,
        /// The person: shop customer id, email, golden id or pseudonym.
        #[arg(long)]
        customer: String,
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
    /// Compute the BI tables under tables/kpi/ (SQL over the lake tables); re-running a day
    /// replaces that day's partitions.
    Kpis {
        #[command(flatten)]
        lake: LakeArg,
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
    },
    /// Train a model from the lake tables, evaluate it on a time holdout against baselines and the
    /// live model, and write the artifact (+ `<out>.manifest.json`).
    Train {
        #[command(flatten)]
        lake: LakeArg,
        #[command(flatten)]
        models: ModelsArg,
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
        /// Publish even if the quality gate refuses (recorded in models/<version>/gate.json).
        #[arg(long)]
        force: bool,
    },
    /// Point models/latest.json back at an already published version (verified first).
    Rollback {
        /// The version to make live.
        version: String,
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
        /// Publish even if the quality gate refuses.
        #[arg(long)]
        force: bool,
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

#[derive(Subcommand)]
enum IngestSource {
    /// A Shopify-style Admin REST API: Link pagination, incremental by updated_at, retries.
    Shop {
        #[command(flatten)]
        lake: LakeArg,
        /// The shop's base URL, e.g. https://my-shop.myshopify.com
        #[arg(long, env = "VITRINE_SHOP_URL")]
        shop_url: String,
        /// Admin API access token (sent as X-Shopify-Access-Token).
        #[arg(long, env = "VITRINE_SHOP_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long, default_value = "2024-01")]
        api_version: String,
        /// Records per page (1..=250).
        #[arg(long, default_value_t = 250)]
        page_size: u32,
        #[arg(
            long,
            default_value = "products,customers,orders",
            value_delimiter = ','
        )]
        resources: Vec<String>,
        /// Per-request timeout in seconds.
        #[arg(long, default_value_t = 30.0)]
        timeout_secs: f64,
        /// Retries per request after the first attempt.
        #[arg(long, default_value_t = 6)]
        max_retries: u32,
        /// First retry backoff in milliseconds (doubles per retry, full jitter).
        #[arg(long, default_value_t = 250)]
        backoff_ms: u64,
    },
    /// A CRM or newsletter export (CSV with a header row; column names matched loosely).
    Csv {
        #[command(flatten)]
        lake: LakeArg,
        /// The source's name: `crm`, `newsletter`, ...
        #[arg(long)]
        source: String,
        file: PathBuf,
    },
}

fn keys() -> Result<trainer::connector::Keys> {
    Ok(trainer::connector::Keys {
        pseudonymizer: trainer::privacy::pseudonymizer()?,
        cipher: trainer::privacy::PiiCipher::from_env()?,
    })
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

async fn do_train(
    lake: &Lake,
    models: &str,
    out: &Path,
    a: &TrainArgs,
) -> Result<training_run::RunOutput> {
    let params = a.params()?;
    let models = Lake::open(models)?;
    let r = training_run::run(lake, Some(&models), &params, &a.options()?)
        .await
        .with_context(|| format!("training from {lake}"))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, &r.bytes).with_context(|| format!("writing {}", out.display()))?;
    std::fs::write(manifest_path(out), r.manifest.to_json())
        .with_context(|| format!("writing {}", manifest_path(out).display()))?;
    tracing::info!(
        version = r.manifest.version,
        items = r
            .manifest
            .counts
            .get("items")
            .and_then(serde_json::Value::as_u64),
        bytes = r.bytes.len(),
        seconds = r.seconds,
        "trained"
    );
    Ok(r)
}

async fn do_publish(
    artifact: &Path,
    models: &str,
    worker: &WorkerArgs,
    force: bool,
) -> Result<Manifest> {
    let bytes =
        std::fs::read(artifact).with_context(|| format!("reading {}", artifact.display()))?;
    let mpath = manifest_path(artifact);
    let text = std::fs::read(&mpath).with_context(|| format!("reading {}", mpath.display()))?;
    let manifest =
        Manifest::parse(&text).with_context(|| format!("parsing {}", mpath.display()))?;
    let store = Lake::open(models)?;
    let verdict = publish::publish_gated(&store, &bytes, &manifest, force, now_ms())
        .await
        .with_context(|| format!("publishing to {store}"))?;
    tracing::info!(version = manifest.version, store = %store, gate = ?verdict, "published");
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
            let p = trainer::privacy::pseudonymizer()?;
            let r = import::rees46(&lake, &csv, &p, now_ms()).await?;
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
        Command::Ingest {
            source:
                IngestSource::Shop {
                    lake,
                    shop_url,
                    token,
                    api_version,
                    page_size,
                    resources,
                    timeout_secs,
                    max_retries,
                    backoff_ms,
                },
        } => {
            if !(timeout_secs.is_finite() && timeout_secs > 0.0) {
                bail!("--timeout-secs must be a positive number of seconds");
            }
            let keys = keys()?;
            let lake = Lake::open(&lake.lake)?;
            let opts = trainer::connector::ShopOptions {
                base_url: shop_url,
                api_version,
                token,
                page_size,
                resources,
                fetch: trainer::connector::client::FetchParams {
                    timeout: std::time::Duration::from_secs_f64(timeout_secs),
                    max_retries,
                    base_backoff: std::time::Duration::from_millis(backoff_ms),
                    ..Default::default()
                },
            };
            let r = trainer::connector::sync_shop(&lake, &opts, &keys, now_ms()).await?;
            report("ingest shop", &r)
        }
        Command::Ingest {
            source: IngestSource::Csv { lake, source, file },
        } => {
            let keys = keys()?;
            let lake = Lake::open(&lake.lake)?;
            let r = trainer::connector::csv_source::import(&lake, &source, &file, &keys, now_ms())
                .await?;
            report("ingest csv", &r)
        }
        Command::Customers {
            lake,
            fuzzy_threshold,
            source_priority,
            default_country,
        } => {
            let keys = keys()?;
            let lake = Lake::open(&lake.lake)?;
            let params = trainer::cdi::matching::MatchParams {
                fuzzy_threshold,
                source_priority,
                default_country,
            };
            let r =
                trainer::customers::run(&lake, params, &keys.pseudonymizer, &keys.cipher).await?;
            report("customers", &r)
        }
        Command::Erase {
            lake,
            customer,
            pending,
        } => {
            let p = trainer::privacy::pseudonymizer()?;
            let lake = Lake::open(&lake.lake)?;
            match customer {
                Some(c) if !pending => {
                    let r = trainer::erase::erase(&lake, &c, &p, now_ms).await?;
                    trainer::audit::record(
                        &lake,
                        "customer_erase",
                        &format!("customer/{}", r.subject),
                        now_ms(),
                    )
                    .await?;
                    report("erase", &r)
                }
                _ => {
                    let receipts = trainer::erase::erase_pending(&lake, &p, now_ms).await?;
                    report("erase", &serde_json::json!({ "receipts": receipts }))
                }
            }
        }
        Command::Alerts { lake, webhook, at } => {
            let lake = Lake::open(&lake.lake)?;
            let now = match at {
                Some(t) => chrono::DateTime::parse_from_rfc3339(&t)
                    .with_context(|| format!("--at `{t}` is not an RFC 3339 time"))?
                    .timestamp_millis(),
                None => now_ms(),
            };
            let r = trainer::alerts::run(&lake, webhook.as_deref(), now).await?;
            report("alerts", &r)
        }
        Command::Backup { lake, models, to } => {
            let (lake, models, dest) = (
                Lake::open(&lake.lake)?,
                Lake::open(&models.models)?,
                Lake::open(&to)?,
            );
            let r = trainer::backup::backup(&lake, Some(&models), &dest, now_ms()).await?;
            report("backup", &r)
        }
        Command::Restore {
            lake,
            models,
            from,
            force,
        } => {
            let (lake, models, from) = (
                Lake::open(&lake.lake)?,
                Lake::open(&models.models)?,
                Lake::open(&from)?,
            );
            let r = trainer::backup::restore(&from, &lake, Some(&models), force).await?;
            report("restore", &r)
        }
        Command::Export { lake, customer } => {
            let keys = keys()?;
            let lake = Lake::open(&lake.lake)?;
            let r = trainer::export::export(&lake, &customer, &keys.pseudonymizer, &keys.cipher)
                .await?;
            trainer::audit::record(
                &lake,
                "customer_export",
                &format!("customer/{}", r.subject),
                now_ms(),
            )
            .await?;
            report("export", &r)
        }
        Command::Compact { lake } => {
            let lake = Lake::open(&lake.lake)?;
            let r = compact::compact(&lake).await?;
            report("compact", &r)
        }
        Command::Kpis {
            lake,
            from,
            to,
            models,
            worker,
        } => {
            let lake = Lake::open(&lake.lake)?;
            let r = trainer::kpi::run(
                &lake,
                &trainer::kpi::KpiOptions {
                    from,
                    to,
                    last_days: None,
                    now_ms: now_ms(),
                },
            )
            .await?;
            let models = models.as_deref().map(Lake::open).transpose()?;
            let target = match &worker.worker {
                Some(url) => Some((url.as_str(), worker.key()?)),
                None => None,
            };
            trainer::kpi::dashboard::publish(&r.dashboard, models.as_ref(), target).await?;
            report("kpis", &r)
        }
        Command::Train {
            lake,
            models,
            out,
            params,
        } => {
            let lake = Lake::open(&lake.lake)?;
            let r = do_train(&lake, &models.models, &out, &params).await?;
            report("train", &r)
        }
        Command::Publish {
            artifact,
            models,
            worker,
            force,
        } => {
            let m = do_publish(&artifact, &models.models, &worker, force).await?;
            report("publish", &m)
        }
        Command::Rollback {
            version,
            models,
            worker,
        } => {
            let store = Lake::open(&models.models)?;
            let (m, bytes) = publish::rollback(&store, &version)
                .await
                .with_context(|| format!("rolling back {store} to {version}"))?;
            tracing::warn!(version = m.version, store = %store, "rolled back");
            if let Some(url) = &worker.worker {
                publish::to_worker(url, worker.key()?, &bytes, &m).await?;
            }
            report("rollback", &m)
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
            force,
        } => {
            let store = Lake::open(&lake.lake)?;
            if let Some(url) = &worker.worker {
                let r = pull::pull(url, worker.key()?, &store).await?;
                tracing::info!(copied = r.copied, "pulled raw events from the worker");
            }
            // GDPR erasures the worker recorded go before anything is built from the lake.
            if !store.list(trainer::erase::REQUESTS).await?.is_empty() {
                let p = trainer::privacy::pseudonymizer()
                    .context("erasure requests are pending in the lake")?;
                let done = trainer::erase::erase_pending(&store, &p, now_ms).await?;
                tracing::info!(
                    erasures = done.len(),
                    "carried out pending erasure requests"
                );
            }
            let c = compact::compact(&store).await?;
            tracing::info!(
                partitions = c.partitions_written,
                events = c.events_out,
                "compacted"
            );
            // The BI tables for the attribution window; a failure here is reported, and the model
            // is still trained and published.
            let kpi = trainer::kpi::KpiOptions {
                last_days: Some(NIGHTLY_KPI_DAYS),
                now_ms: now_ms(),
                ..trainer::kpi::KpiOptions::default()
            };
            match trainer::kpi::run(&store, &kpi).await {
                Ok(k) => {
                    tracing::info!(days = k.days, notes = ?k.notes, seconds = k.seconds, "KPI tables written")
                }
                Err(e) => {
                    tracing::error!(error = %e, "KPI tables failed; continuing with training")
                }
            }
            let out = out_dir.join("model.bin");
            do_train(&store, &models.models, &out, &params).await?;
            let m = do_publish(&out, &models.models, &worker, force).await?;
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
