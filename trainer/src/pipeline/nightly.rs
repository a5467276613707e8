//! The nightly job (`trainer run`, `scripts/retrain.sh`): pull → pending erasures → compact →
//! KPIs → train → gate → publish. The trained model goes from the training run to the gate and
//! the stores in memory; a copy is written to disk only when asked (`out`), never read back.

use std::path::PathBuf;

use serde::Serialize;
use shared::Manifest;

use crate::bi::kpis::{self, KpiOptions};
use crate::evaluation::gate::Verdict;
use crate::http::Worker;
use crate::lake::compact::{self, CompactReport};
use crate::lake::pull::{self, PullReport};
use crate::lake::store::Lake;
use crate::model::train::TrainValidParams;
use crate::pipeline::training::{self, RunValidParams};
use crate::privacy::erase;
use crate::publish;

/// Days the nightly run recomputes KPI tables for: the 7-day attribution window plus today.
pub const KPI_DAYS: usize = 8;

/// Failures of the nightly job; each names the step.
#[derive(Debug, thiserror::Error)]
pub enum NightlyError {
    #[error("pull: {0}")]
    Pull(#[from] pull::PullError),
    #[error("pending erasures: {0}")]
    Erase(#[from] erase::EraseError),
    #[error("pending erasures: {0}")]
    Keys(#[from] crate::privacy::keys::PrivacyError),
    #[error("compact: {0}")]
    Compact(#[from] compact::CompactError),
    #[error("train: {0}")]
    Train(#[from] training::RunError),
    #[error("writing the artifact copy: {0}")]
    Artifact(#[from] crate::model::artifact::ArtifactFileError),
    #[error("publish: {0}")]
    Publish(#[from] publish::PublishError),
    #[error("store: {0}")]
    Store(#[from] crate::lake::store::StoreError),
}

/// What the nightly job does besides training.
#[derive(Debug, Clone)]
pub struct NightlyParams {
    pub train: TrainValidParams,
    pub run: RunValidParams,
    /// A running worker to pull raw events from and publish to (local development).
    pub worker: Option<Worker>,
    /// Publish even if the quality gate refuses (recorded next to the model).
    pub force: bool,
    /// Where to keep a copy of the artifact (and its manifest), if anywhere.
    pub out: Option<PathBuf>,
}

/// What the nightly job did, step by step.
#[derive(Debug, Serialize)]
pub struct NightlyReport {
    pub pulled: Option<PullReport>,
    pub erasures: usize,
    pub compact: CompactReport,
    /// The KPI tables (a KPI failure is reported here and does not stop training).
    pub kpis: KpiOutcome,
    pub training: training::RunOutput,
    pub gate: Verdict,
    pub published: Manifest,
    pub uploaded_to_worker: bool,
}

/// What the KPI step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KpiOutcome {
    /// Days of tables written.
    pub days: usize,
    /// Why the step failed, when it did.
    pub error: Option<String>,
}

/// Runs the nightly job on `lake`, publishing to `models` (and the worker, when given).
pub async fn run(
    lake: &Lake,
    models: &Lake,
    p: &NightlyParams,
) -> Result<NightlyReport, NightlyError> {
    let now_ms = p.run.now_ms;
    let pulled = match &p.worker {
        Some(w) => {
            let r = pull::pull(w, lake).await?;
            tracing::info!(copied = r.copied, "pulled raw events from the worker");
            Some(r)
        }
        None => None,
    };
    // GDPR erasures the worker recorded go before anything is built from the lake.
    let mut erasures = 0;
    if !lake.list(shared::lake::GDPR_REQUESTS).await?.is_empty() {
        let pseudonyms = crate::privacy::keys::pseudonymizer()?;
        erasures = erase::erase_pending(lake, &pseudonyms, || now_ms)
            .await?
            .len();
        tracing::info!(erasures, "carried out pending erasure requests");
    }
    let compact =
        compact::compact_using(lake, &compact::Compactor::for_engine(&p.run.engine)).await?;
    tracing::info!(
        partitions = compact.partitions_written,
        events = compact.events_out,
        "compacted"
    );
    // The BI tables for the attribution window; a failure is reported, and the model is still
    // trained and published.
    let kpi = KpiOptions {
        last_days: Some(KPI_DAYS),
        now_ms,
        engine: p.run.engine.clone(),
        ..KpiOptions::default()
    };
    let kpis = match kpis::run(lake, &kpi).await {
        Ok(k) => {
            tracing::info!(days = k.days, notes = ?k.notes, seconds = k.seconds, "KPI tables written");
            KpiOutcome {
                days: k.days,
                error: None,
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "KPI tables failed; continuing with training");
            KpiOutcome {
                days: 0,
                error: Some(e.to_string()),
            }
        }
    };
    let training = training::run(lake, Some(models), &p.train, &p.run).await?;
    if let Some(out) = &p.out {
        training.artifact.write_file(out)?;
    }
    let gate = publish::publish_gated(models, &training.artifact, p.force, now_ms).await?;
    tracing::info!(version = training.manifest.version, gate = ?gate, "published");
    let mut uploaded_to_worker = false;
    if let Some(w) = &p.worker {
        publish::to_worker(w, &training.artifact).await?;
        uploaded_to_worker = true;
    }
    Ok(NightlyReport {
        pulled,
        erasures,
        compact,
        kpis,
        published: training.manifest.clone(),
        training,
        gate,
        uploaded_to_worker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lake::models_store;
    use crate::lake::simulate::{SimParams, simulate};
    use crate::model::artifact::Artifact;
    use crate::model::ials::IalsParams;
    use crate::model::train::TrainParams;
    use crate::pipeline::training::RunParams;

    #[tokio::test]
    async fn the_nightly_job_compacts_reports_trains_and_publishes_in_memory() {
        let (lake, models) = (
            Lake::open("memory://").unwrap(),
            Lake::open("memory://").unwrap(),
        );
        let end_ms = 1_790_000_000_000 - 1_790_000_000_000 % shared::time::DAY_MS;
        let sim = SimParams {
            events: 12_000,
            users: 300,
            items: 150,
            days: 10,
            seed: 5,
            end_ms,
        };
        let simulated = simulate(&lake, &sim).await.unwrap();
        let mut train = TrainParams::default();
        train.0.ials = IalsParams::default().factors(8).iterations(3).check().ok();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("model.bin");
        let p = NightlyParams {
            train: train.check().unwrap(),
            run: RunParams(RunValidParams {
                max_cases: 100,
                now_ms: end_ms,
                version: Some("n1".into()),
                ..RunParams::default().0
            })
            .check()
            .unwrap(),
            worker: None,
            force: false,
            out: Some(out.clone()),
        };
        let r = run(&lake, &models, &p).await.unwrap();
        assert_eq!(
            r.compact.events_out,
            simulated.events - r.compact.duplicates_removed
        );
        assert!(
            simulated.searches.clicks > 0,
            "a search log was written too"
        );
        assert_eq!((r.kpis.days, r.kpis.error.as_deref()), (KPI_DAYS, None));
        assert_eq!(r.published.version, "n1");
        assert!(!r.gate.refused(), "{:?}", r.gate);
        // What went live is what was trained, and the copy on disk is the same artifact.
        let live = models_store::live(&models).await.unwrap().unwrap();
        assert_eq!(live, r.training.manifest);
        assert_eq!(Artifact::read_file(&out).unwrap().manifest, live);
        // The next night's run is gated against this one and replaces it.
        let p2 = NightlyParams {
            run: RunValidParams {
                version: Some("n2".into()),
                ..p.run.clone()
            },
            out: None,
            ..p
        };
        let r2 = run(&lake, &models, &p2).await.unwrap();
        assert_eq!(
            r2.compact.partitions_written, 0,
            "unchanged partitions are skipped"
        );
        assert_eq!(
            models_store::live(&models).await.unwrap().unwrap().version,
            "n2"
        );
    }
}
