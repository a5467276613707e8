//! Commands of the customer and privacy stages: ingest, customers, erase, export.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use trainer::customers::connector::{self, Keys, ShopOptions, client::FetchParams, csv_source};
use trainer::customers::{golden, matching::MatchParams};
use trainer::privacy::{erase, export, keys};

use super::args::*;

#[derive(Subcommand)]
pub(crate) enum IngestSource {
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

impl IngestSource {
    pub(crate) async fn run(self) -> Result<()> {
        match self {
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
            } => {
                let fetch = FetchParams::from_cli(timeout_secs, max_retries, backoff_ms)?;
                let opts = ShopOptions {
                    base_url: shop_url,
                    api_version,
                    token,
                    page_size,
                    resources,
                    fetch,
                };
                let r =
                    connector::sync_shop(&open(&lake.lake)?, &opts, &Keys::from_env()?, now_ms())
                        .await?;
                report("ingest shop", &r)
            }
            IngestSource::Csv { lake, source, file } => {
                let r = csv_source::import(
                    &open(&lake.lake)?,
                    &source,
                    &file,
                    &Keys::from_env()?,
                    now_ms(),
                )
                .await?;
                report("ingest csv", &r)
            }
        }
    }
}

/// Build one golden record per customer from every staged source and the login links in
/// events: tables/customers_golden + tables/customer_lineage.
#[derive(Args)]
pub(crate) struct CustomersCmd {
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
}

impl CustomersCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            fuzzy_threshold,
            source_priority,
            default_country,
        } = self;
        let keys = Keys::from_env()?;
        let params = MatchParams {
            fuzzy_threshold,
            source_priority,
            default_country,
        };
        let r = golden::run(
            &open(&lake.lake)?,
            params,
            &keys.pseudonymizer,
            &keys.cipher,
        )
        .await?;
        report("customers", &r)
    }
}

/// GDPR erasure: remove one person from every lake table and raw file (rewriting them) and
/// write a receipt under gdpr/receipts/. The next training run builds a model without them.
#[derive(Args)]
pub(crate) struct EraseCmd {
    #[command(flatten)]
    lake: LakeArg,
    /// The person: shop customer id, email, golden id or pseudonym.
    #[arg(long, required_unless_present = "pending", conflicts_with = "pending")]
    customer: Option<String>,
    /// Carry out the erasure requests the worker recorded (DELETE /v1/admin/customers/{id})
    /// that have no receipt yet; `trainer run` does this before compacting.
    #[arg(long)]
    pending: bool,
}

impl EraseCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self {
            lake,
            customer,
            pending,
        } = self;
        let (p, lake) = (keys::pseudonymizer()?, open(&lake.lake)?);
        match customer {
            Some(c) if !pending => report(
                "erase",
                &erase::erase_and_audit(&lake, &c, &p, now_ms).await?,
            ),
            _ => {
                let receipts = erase::erase_pending(&lake, &p, now_ms).await?;
                report("erase", &serde_json::json!({ "receipts": receipts }))
            }
        }
    }
}

/// GDPR access: everything the lake holds about one person (PII decrypted) as JSON.
#[derive(Args)]
pub(crate) struct ExportCmd {
    #[command(flatten)]
    lake: LakeArg,
    /// The person: shop customer id, email, golden id or pseudonym.
    #[arg(long)]
    customer: String,
}

impl ExportCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let Self { lake, customer } = self;
        let keys = Keys::from_env()?;
        let r = export::export_and_audit(
            &open(&lake.lake)?,
            &customer,
            &keys.pseudonymizer,
            &keys.cipher,
            now_ms(),
        )
        .await?;
        report("export", &r)
    }
}

/// Sign a logged-in shopper's id, as the shop's backend does on every page (the token the worker
/// requires with any request or event naming that `user_id`).
#[derive(Args)]
pub(crate) struct SignShopperCmd {
    /// The shop's customer id, exactly as requests and events send it.
    #[arg(long)]
    user_id: String,
    /// Seconds the token stays valid (at most 7 days).
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
    /// The worker's SHOPPER_SIGNING_KEY (at least 32 bytes).
    #[arg(long, env = "VITRINE_SHOPPER_SIGNING_KEY", hide_env_values = true)]
    key: String,
}

impl SignShopperCmd {
    pub(crate) async fn run(self) -> Result<()> {
        let signer = keys::shopper_signer(&self.key)?;
        let token = signer.token(&self.user_id, self.ttl, now_ms())?;
        report("sign-shopper", &token)
    }
}
