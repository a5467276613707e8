//! One training run as `trainer train` performs it: read the lake, hold out the last days, train on
//! the rest, tune the blend on validation shoppers, score the candidate, the baselines and the
//! live model on test shoppers, then train the final model on everything with the tuned blend and
//! the figures in its meta (and so in its manifest), and record them in `tables/model_evaluations`.

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use shared::personal::Blend;
use shared::{Manifest, Model};

use crate::evaluation::evaluations_table;
use crate::evaluation::holdout::{self, Evaluated, Ranker};
use crate::evaluation::session_holdout;
use crate::evaluation::vitrine_model;
use crate::lake::compact;
use crate::lake::engine::{Engine, EngineUrl};
use crate::lake::models_store::{self, ModelsStoreError};
use crate::lake::store::Lake;
use crate::model::artifact::{Artifact, ArtifactFileError};
use crate::model::co_view_plan::{self, CoViews};
use crate::model::interactions::Interactions;
use crate::model::train::{self, Prepared, TrainValidParams};
use crate::pipeline::stand_in;

/// Fewest test (and validation) shoppers for the holdout figures to count.
pub const MIN_CASES: usize = 20;

/// Failures of a training run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("reading the lake: {0}")]
    Read(#[from] compact::CompactError),
    #[error(transparent)]
    Train(#[from] train::TrainError),
    #[error(transparent)]
    Encode(#[from] shared::ArtifactError),
    #[error(transparent)]
    Artifact(#[from] ArtifactFileError),
    #[error("reading the live model: {0}")]
    Live(#[from] ModelsStoreError),
    #[error("writing tables/model_evaluations: {0}")]
    Evaluations(#[from] evaluations_table::EvaluationsError),
    #[error("building the search index: {0}")]
    Search(#[from] crate::model::search_index::SearchBuildError),
    #[error("{0}")]
    Params(String),
}

/// The run's options besides the model's own parameters, unchecked: [`RunParams::check`] turns
/// them into [`RunValidParams`].
#[derive(Debug, Clone)]
pub struct RunParams(pub RunValidParams);

impl Default for RunParams {
    fn default() -> Self {
        Self(RunValidParams {
            holdout_days: 1.0,
            max_cases: 2000,
            refit_iterations: 4,
            version: None,
            now_ms: 0,
            engine: EngineUrl::Local,
            fresh_holdout: false,
        })
    }
}

impl RunParams {
    /// Checks every option; a bad one is named with its allowed range.
    pub fn check(self) -> Result<RunValidParams, RunError> {
        let p = self.0;
        if !(p.holdout_days.is_finite() && p.holdout_days > 0.0) {
            return Err(RunError::Params(format!(
                "--holdout-days must be > 0, got {}",
                p.holdout_days
            )));
        }
        if p.refit_iterations > 1000 {
            return Err(RunError::Params(format!(
                "--refit-iterations must be between 0 (refit from scratch) and 1000, got {}",
                p.refit_iterations
            )));
        }
        if let Some(v) = &p.version
            && (!shared::lake::is_safe_segment(v) || v.len() > 32)
        {
            return Err(RunError::Params(format!(
                "version `{v}` must be at most 32 characters of letters, digits, '-', '_' or '.'"
            )));
        }
        Ok(p)
    }
}

/// Checked options of a run.
#[derive(Debug, Clone)]
pub struct RunValidParams {
    /// Days held out at the end of the data.
    pub holdout_days: f64,
    /// Most shoppers per holdout half.
    pub max_cases: usize,
    /// Iterations of the final fit, warm-started from the holdout model (0: from scratch with
    /// the full iteration count).
    pub refit_iterations: usize,
    /// Model version; default: UTC time plus a content hash.
    pub version: Option<String>,
    pub now_ms: i64,
    /// Where the run's SQL over the lake runs (the KPI tables, the search log).
    pub engine: EngineUrl,
    /// Train the holdout model even when the live model can stand in for it ([`stand_in`]).
    pub fresh_holdout: bool,
}

/// What a run produced.
#[derive(Debug, Serialize)]
pub struct RunOutput {
    /// The model, encoded once and loaded once; publishing takes it from here.
    #[serde(skip)]
    pub artifact: Artifact,
    pub manifest: Manifest,
    pub blend: Blend,
    pub evaluation: Vec<Evaluated>,
    /// Next click within the held-out sessions, Vitrine and the baselines.
    pub sessions: Vec<session_holdout::SessionFigures>,
    pub evaluations_table: Option<String>,
    /// What embedding training reported (dimensions, cold-start fills, IVF recall/speed-up).
    pub factors: Value,
    /// Whether the co-view pairs were counted on the engine (a cluster) rather than here.
    pub co_views_on_engine: bool,
    /// The live model whose item vectors the holdout model started from (a nightly run), if any.
    pub holdout_started_from: Option<String>,
    /// The live model that stood in for the holdout model ([`stand_in`]), if one did.
    pub holdout_model_reused: Option<String>,
    pub seconds: f64,
}

/// The co-view lists counted on the engine, or `None` (counted in process) without one or when
/// the plan failed.
async fn co_views(
    engine: Option<&Engine>,
    until: Option<i64>,
    p: &TrainValidParams,
) -> Option<CoViews> {
    let engine = engine?;
    let phase = Instant::now();
    match co_view_plan::count(engine, until, p.session_window, p.neighbors).await {
        Ok(c) => {
            tracing::info!(
                pairs = c.len(),
                seconds = phase.elapsed().as_secs_f64(),
                "co-views counted on the engine"
            );
            Some(c)
        }
        Err(e) => {
            tracing::warn!(error = %e, "counting co-views on the engine failed; counting them here");
            None
        }
    }
}

/// Trains, evaluates and writes nothing but `tables/model_evaluations`; the caller writes or
/// publishes the artifact.
pub async fn run(
    lake: &Lake,
    models: Option<&Lake>,
    p: &TrainValidParams,
    o: &RunValidParams,
) -> Result<RunOutput, RunError> {
    let started = Instant::now();
    let events = Interactions::read(lake).await?;
    let products = compact::read_products(lake).await?;
    tracing::info!(
        interactions = events.len(),
        shoppers = events.shoppers(),
        products = products.len(),
        seconds = started.elapsed().as_secs_f64(),
        "read the lake"
    );
    // A nightly run holds out from where the live model's data ends, so the live model is
    // compared on the holdout and the holdout model starts from its item vectors.
    let live_manifest = match models {
        Some(m) => models_store::live(m).await?,
        None => None,
    };
    let live_until = live_manifest
        .as_ref()
        .and_then(|m| m.counts.get("trained_until").and_then(Value::as_i64));
    let nominal = holdout::nominal_cutoff(&events, o.holdout_days);
    let cutoff = holdout::aligned_cutoff(nominal, o.holdout_days, events.t_end(), live_until);
    let split = holdout::split_at(&events, p, cutoff, o.max_cases);
    // On a cluster the co-view pairs are counted there, for the holdout model and the final one.
    let engine = match &o.engine {
        EngineUrl::Local => None,
        EngineUrl::Ballista(_) => match Engine::connect(lake, &o.engine).await {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(error = %e, "the engine is unreachable; co-views are counted here");
                None
            }
        },
    };
    let mut co_views_on_engine = engine.is_some();
    let mut blend = Blend::default();
    let mut evaluation = Vec::new();
    let mut warm = None;
    let mut sessions = Vec::new();
    let mut holdout_started_from = None;
    let mut holdout_model_reused = None;
    let mut stands_in_nights = 0;
    let mut session_weights: Option<shared::session_model::Weights> = None;
    let enough = split.test.len() >= MIN_CASES && split.validation.len() >= MIN_CASES;
    if enough {
        let live = live_model(models, live_manifest, split.cutoff).await?;
        stands_in_nights = live.as_ref().map_or(0, |l| stand_in::nights(l.meta()));
        let stands_in = live.as_ref().filter(|l| {
            if o.fresh_holdout {
                return false;
            }
            match stand_in::check(l.meta(), p, stand_in::before(&events, split.cutoff)) {
                Ok(()) => true,
                Err(why) => {
                    tracing::info!(live = l.version(), why, "training the holdout model");
                    false
                }
            }
        });
        let built;
        let pre: &Model = if let Some(live) = stands_in {
            // Last night's final model is tonight's holdout model: same build, parameters and
            // data before the cutoff. It is scored as the holdout model, the final fit starts
            // from its item vectors, and the final model learns its own session weights.
            tracing::info!(
                live = live.version(),
                "the live model stands in for the holdout model"
            );
            holdout_model_reused = Some(live.version().to_owned());
            holdout_started_from = Some(live.version().to_owned());
            if o.refit_iterations > 0 {
                warm = train::Warm::of_model(live, o.refit_iterations);
            }
            live
        } else {
            built = holdout_model(
                &events,
                &products,
                p,
                o,
                &split,
                live.as_ref(),
                engine.as_ref(),
            )
            .await?;
            co_views_on_engine &= built.co_views_on_engine;
            session_weights = built.session_weights;
            holdout_started_from = built.started_from;
            warm = built.warm;
            &built.model
        };
        if let Some(live) = stands_in {
            // Its blend stays: the rows below then measure exactly what is live, and the blend is
            // tuned again whenever a holdout model is trained (at least weekly, `stand_in`).
            blend = Blend::of(live);
        } else {
            let candidates = vitrine_model::candidate_blends();
            let validation = if pre.n_items() > 50_000 {
                &split.validation[..split.validation.len().min(500)]
            } else {
                &split.validation[..]
            };
            let phase = Instant::now();
            let (best, ndcg) = holdout::tune_blend(pre, validation, &candidates);
            blend = best;
            tracing::info!(
                ?blend,
                ndcg,
                seconds = phase.elapsed().as_secs_f64(),
                "blend tuned on validation shoppers"
            );
        }
        let phase = Instant::now();
        for (name, ranker) in [
            ("vitrine", Ranker::Personal(blend)),
            ("popularity", Ranker::Popular),
            ("item_knn", Ranker::ItemKnn),
        ] {
            let metrics = holdout::evaluate(pre, &split.test, ranker);
            evaluation.push(Evaluated {
                model: name.into(),
                metrics,
            });
        }
        if let Some(live) = &live {
            let metrics = holdout::evaluate(live, &split.test, Ranker::Personal(Blend::of(live)));
            evaluation.push(Evaluated {
                model: format!("live:{}", live.version()),
                metrics,
            });
        }
        for e in &evaluation {
            tracing::info!(
                model = e.model,
                ndcg = e.metrics.ndcg,
                recall = e.metrics.recall,
                "holdout"
            );
        }
        tracing::info!(seconds = phase.elapsed().as_secs_f64(), "holdout evaluated");
        let phase = Instant::now();
        let held = session_holdout::split(&events, split.cutoff);
        if holdout_model_reused.is_some() {
            // The live model is the one scored: its figures are the live model's too.
            sessions = session_holdout::evaluate(pre, &held, None);
            if let (Some(live), Some(f)) = (&live, sessions.first().cloned()) {
                sessions.push(session_holdout::SessionFigures {
                    model: format!("live:{}", live.version()),
                    ..f
                });
            }
        } else {
            sessions = session_holdout::evaluate(pre, &held, live.as_ref());
        }
        for f in &sessions {
            tracing::info!(
                model = f.model,
                hr20 = f.hr20,
                mrr20 = f.mrr20,
                cases = f.cases,
                "next-click holdout"
            );
        }
        tracing::info!(
            seconds = phase.elapsed().as_secs_f64(),
            "sessions evaluated"
        );
    } else {
        tracing::warn!(
            test = split.test.len(),
            validation = split.validation.len(),
            "too few shoppers after the cutoff for a holdout evaluation; the gate will skip"
        );
    }
    let phase = Instant::now();
    let counted = co_views(engine.as_ref(), None, p).await;
    co_views_on_engine &= counted.is_some();
    let mut data = train::build_from(
        &events,
        None,
        &products,
        p,
        "probe",
        o.now_ms,
        Prepared {
            warm: warm.as_ref(),
            co_views: counted.as_ref(),
            session_weights: session_weights.as_ref(),
        },
    )?;
    tracing::info!(seconds = phase.elapsed().as_secs_f64(), "final model built");
    let phase = Instant::now();
    let search =
        crate::model::search_index::attach(lake, &mut data, &products, o.now_ms, &o.engine).await?;
    tracing::info!(
        terms = search.terms,
        bytes = search.bytes,
        past_queries = search.past_queries,
        synonyms = search.source_label(),
        seconds = phase.elapsed().as_secs_f64(),
        "search index built"
    );
    data.meta.insert(
        "search".into(),
        serde_json::to_value(&search).unwrap_or(Value::Null),
    );
    data.meta.insert(
        "blend".into(),
        serde_json::to_value(blend).unwrap_or(Value::Null),
    );
    data.meta
        .insert(stand_in::META_KEY.into(), stand_in::record(p));
    if let Some(v) = &holdout_model_reused {
        data.meta.insert(
            stand_in::REUSED_KEY.into(),
            stand_in::reused(v, stands_in_nights),
        );
    }
    if enough {
        let mut metrics = holdout::manifest_metrics(&evaluation, split.cutoff, split.test.len());
        metrics.extend(session_holdout::manifest_metrics(&sessions));
        data.meta.insert("metrics".into(), Value::Object(metrics));
    }
    // Encoded once: the version names a hash of this encoding and is stamped into its header.
    let mut bytes = data.encode()?;
    let version = match &o.version {
        Some(v) => v.clone(),
        None => {
            let hash = shared::hash::sha256_hex(&bytes);
            let stamp = chrono::DateTime::from_timestamp_millis(o.now_ms)
                .unwrap_or_default()
                .format("%Y%m%dT%H%M%SZ");
            format!("{stamp}-{}", &hash[..8])
        }
    };
    shared::artifact::stamp_version(&mut bytes, &version)?;
    let artifact = Artifact::from_bytes(bytes)?;
    let manifest = artifact.manifest.clone();
    let evaluations_table = if enough {
        Some(evaluations_table::write(lake, &version, o.now_ms, split.cutoff, &evaluation).await?)
    } else {
        None
    };
    Ok(RunOutput {
        factors: artifact
            .model
            .meta()
            .get("factors")
            .cloned()
            .unwrap_or(Value::Null),
        artifact,
        manifest,
        blend,
        evaluation,
        sessions,
        co_views_on_engine,
        holdout_started_from,
        holdout_model_reused,
        evaluations_table,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The holdout model a run trained, and what it hands on to the final fit.
struct HoldoutModel {
    model: Model,
    /// Its session weights, when learned (not defaults): the final model ships them.
    session_weights: Option<shared::session_model::Weights>,
    /// Its item vectors, to warm-start the final fit.
    warm: Option<train::Warm>,
    /// The live model its item vectors started from, if they did.
    started_from: Option<String>,
    co_views_on_engine: bool,
}

/// Trains the holdout model on the interactions before the cutoff, starting from the live
/// model's item vectors when there is one.
async fn holdout_model(
    events: &Interactions,
    products: &[crate::lake::products::Product],
    p: &TrainValidParams,
    o: &RunValidParams,
    split: &holdout::Holdout,
    live: Option<&Model>,
    engine: Option<&Engine>,
) -> Result<HoldoutModel, RunError> {
    let from_live = live
        .filter(|_| o.refit_iterations > 0)
        .and_then(|l| train::Warm::of_model(l, o.refit_iterations));
    let phase = Instant::now();
    let counted = co_views(engine, Some(split.cutoff), p).await;
    let pre = train::build_from(
        events,
        Some(split.cutoff),
        products,
        p,
        "holdout",
        o.now_ms,
        Prepared {
            warm: from_live.as_ref(),
            co_views: counted.as_ref(),
            session_weights: None,
        },
    )?;
    drop(from_live);
    // Weights learned on the sessions before the cutoff serve the final model too: one day
    // more barely moves 20 parameters, and the holdout measured these.
    let fit = pre.meta.get("session_model_fit");
    let session_weights = if fit.and_then(|f| f.get("learned")) == Some(&Value::Bool(true)) {
        pre.meta
            .get("session_model")
            .and_then(|w| serde_json::from_value(w.clone()).ok())
    } else {
        None
    };
    // Started from it only when the vectors fitted (same dimensions).
    let warm_started = pre.meta.get("factors").and_then(|f| f.get("warm_started"));
    let started_from = if warm_started == Some(&Value::Bool(true)) {
        live.map(|l| l.version().to_owned())
    } else {
        None
    };
    let warm = if o.refit_iterations > 0 {
        train::Warm::of(&pre, o.refit_iterations)
    } else {
        None
    };
    let model = Model::load(pre.encode()?)?;
    tracing::info!(
        seconds = phase.elapsed().as_secs_f64(),
        "holdout model built"
    );
    Ok(HoldoutModel {
        model,
        session_weights,
        warm,
        started_from,
        co_views_on_engine: counted.is_some(),
    })
}

/// The live model, if there is one and it was trained only on data before `cutoff` (so scoring it
/// on the holdout is fair).
async fn live_model(
    models: Option<&Lake>,
    manifest: Option<Manifest>,
    cutoff: i64,
) -> Result<Option<Model>, RunError> {
    let (Some(models), Some(m)) = (models, manifest) else {
        return Ok(None);
    };
    let trained_until = m.counts.get("trained_until").and_then(Value::as_i64);
    if trained_until.is_none_or(|t| t >= cutoff) {
        tracing::info!(
            live = m.version,
            "live model saw the holdout period; the gate compares manifests instead"
        );
        return Ok(None);
    }
    let version = m.version.clone();
    match models_store::read(models, m).await {
        Ok(live) => Ok(Some(live.model)),
        Err(e) => {
            tracing::warn!(live = version, error = %e, "live model unreadable; not compared");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::train::TrainParams;
    use arrow_array::{Array, StringArray};

    /// Training parameters small enough for a test: 16 factors, 5 iterations.
    fn small_params() -> TrainValidParams {
        let mut params = TrainParams::default();
        params.0.ials = crate::model::ials::IalsParams::default()
            .factors(16)
            .iterations(5)
            .check()
            .ok();
        params.check().unwrap()
    }

    #[tokio::test]
    async fn a_run_evaluates_on_the_holdout_and_records_it() {
        let lake = Lake::open("memory://").unwrap();
        let models = Lake::open("memory://").unwrap();
        let sim = crate::lake::simulate::SimParams {
            events: 15_000,
            users: 400,
            items: 200,
            days: 10,
            seed: 3,
            end_ms: 1_790_000_000_000 - 1_790_000_000_000 % shared::time::DAY_MS,
        };
        crate::lake::simulate::simulate(&lake, &sim).await.unwrap();
        compact::compact(&lake).await.unwrap();
        let p = small_params();
        let o = RunParams(RunValidParams {
            holdout_days: 1.0,
            max_cases: 120,
            refit_iterations: 2,
            version: Some("t1".into()),
            now_ms: 1,
            engine: EngineUrl::Local,
            fresh_holdout: false,
        })
        .check()
        .unwrap();
        let r = run(&lake, Some(&models), &p, &o).await.unwrap();
        let names: Vec<&str> = r.evaluation.iter().map(|e| e.model.as_str()).collect();
        assert_eq!(names, ["vitrine", "popularity", "item_knn"]);
        let m = &r.manifest.metrics;
        assert!(
            m["ndcg@10"].as_f64().unwrap() > m["baseline_popularity_ndcg@10"].as_f64().unwrap()
        );
        assert!(m["test_shoppers"].as_u64().unwrap() >= MIN_CASES as u64);
        // The blend and the figures travel in the artifact.
        let model = &r.artifact.model;
        assert_eq!(model.format_version(), shared::artifact::FORMAT_VERSION);
        assert_eq!(Blend::of(model), r.blend);
        // The final fit started from the holdout model's item vectors.
        assert_eq!(model.meta()["factors"]["warm_started"], true);
        assert_eq!(model.meta()["factors"]["iterations"], 2);
        // ...and ships the session weights learned for the holdout model, not a second fit.
        assert_eq!(model.meta()["session_model_fit"]["reused"], true);
        assert!(model.session_lists().is_some());
        assert_eq!(
            serde_json::to_value(model.session_weights()).unwrap(),
            model.meta()["session_model"]
        );
        // The lake table holds the same rows.
        let key = r.evaluations_table.clone().unwrap();
        assert_eq!(key, "tables/model_evaluations/t1.parquet");
        let mut rows = Vec::new();
        crate::lake::parquet_io::for_each_batch(&lake, &key, &[], |b| {
            let col = b.column_by_name("model").unwrap();
            let names = col.as_any().downcast_ref::<StringArray>().unwrap();
            rows.extend((0..names.len()).map(|i| names.value(i).to_owned()));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(rows, names);
        // A live model trained before the cutoff is scored on the same holdout...
        let ix = Interactions::read(&lake).await.unwrap();
        let products = compact::read_products(&lake).await.unwrap();
        let cutoff = m["cutoff"].as_i64().unwrap();
        let old = train::build(&ix, Some(cutoff), &products, &p, "t0", 0).unwrap();
        // Past the interaction cap, embeddings train on a shopper sample of about that size.
        let capped = TrainValidParams {
            max_embedding_interactions: 2_000,
            ..p.clone()
        };
        let sampled = train::build(&ix, None, &products, &capped, "s", 0).unwrap();
        let f = &sampled.meta["factors"];
        let trained = f["trained_interactions"].as_u64().unwrap();
        assert!((1_000..4_000).contains(&trained), "{f}");
        assert!(f["shopper_sample_share"].as_f64().unwrap() < 0.5, "{f}");
        let old = Artifact::from_bytes(old.encode().unwrap()).unwrap();
        crate::publish::publish(&models, &old).await.unwrap();
        let o2 = RunValidParams {
            version: Some("t2".into()),
            ..o.clone()
        };
        let r2 = run(&lake, Some(&models), &p, &o2).await.unwrap();
        assert_eq!(r2.evaluation.last().unwrap().model, "live:t0");
        assert_eq!(r2.manifest.metrics["live_version"], "t0");
        // ...and the holdout model starts from its item vectors (a first run has none to use).
        assert_eq!(r.holdout_started_from, None);
        assert_eq!(r2.holdout_started_from.as_deref(), Some("t0"));
        // ...one that saw the holdout days is left out rather than flattered.
        crate::publish::publish(&models, &r.artifact).await.unwrap();
        let o3 = RunValidParams {
            version: Some("t3".into()),
            ..o
        };
        let r3 = run(&lake, Some(&models), &p, &o3).await.unwrap();
        assert!(r3.evaluation.iter().all(|e| !e.model.starts_with("live:")));
        assert_eq!(r3.holdout_started_from, None, "nor started from");
    }

    #[tokio::test]
    async fn the_live_model_stands_in_for_the_holdout_model_the_next_night() {
        use crate::lake::simulate::{SimParams, simulate, simulate_from};
        let lake = Lake::open("memory://").unwrap();
        let models = Lake::open("memory://").unwrap();
        let end_ms = 1_790_000_000_000 - 1_790_000_000_000 % shared::time::DAY_MS;
        let sim = SimParams {
            events: 15_000,
            users: 400,
            items: 200,
            days: 10,
            seed: 3,
            end_ms,
        };
        simulate(&lake, &sim).await.unwrap();
        compact::compact(&lake).await.unwrap();
        let p = small_params();
        let o = RunParams(RunValidParams {
            max_cases: 120,
            refit_iterations: 2,
            version: Some("night1".into()),
            now_ms: 1,
            ..RunParams::default().0
        })
        .check()
        .unwrap();
        let first = run(&lake, Some(&models), &p, &o).await.unwrap();
        assert_eq!(first.holdout_model_reused, None, "nothing live yet");
        crate::publish::publish(&models, &first.artifact)
            .await
            .unwrap();
        // The next night: one more day.
        let night = SimParams {
            events: 16_500,
            days: 11,
            end_ms: end_ms + shared::time::DAY_MS,
            ..sim
        };
        simulate_from(&lake, &night, Some(end_ms)).await.unwrap();
        compact::compact(&lake).await.unwrap();
        let o2 = RunValidParams {
            version: Some("night2".into()),
            ..o.clone()
        };
        let second = run(&lake, Some(&models), &p, &o2).await.unwrap();
        assert_eq!(second.holdout_model_reused.as_deref(), Some("night1"));
        let meta = second.artifact.model.meta();
        assert_eq!(meta["holdout_model"]["reused_live"], "night1");
        assert_eq!(meta["holdout_model"]["nights"], 1);
        // ...with its blend, so both rows measure the same ranking and the gate sees no change.
        assert_eq!(second.blend, Blend::of(&first.artifact.model));
        // The final model learned its own session weights and started from the live vectors.
        assert_eq!(meta["session_model_fit"]["reused"], Value::Null);
        assert_eq!(meta["factors"]["warm_started"], true);
        // Scored on the new day: the live model is the holdout model, on the same sessions.
        let m = &second.manifest.metrics;
        assert_eq!(m["live_version"], "night1");
        assert_eq!(m["session_mrr@20"], m["live_session_mrr@20"]);
        assert_eq!(m["ndcg@10"], m["live_ndcg@10"]);
        assert!(m["ndcg@10"].as_f64().unwrap() > 0.0);
        let names: Vec<&str> = second.evaluation.iter().map(|e| e.model.as_str()).collect();
        assert_eq!(names, ["vitrine", "popularity", "item_knn", "live:night1"]);
        assert!(!crate::evaluation::gate::judge(&second.manifest, Some(&first.manifest)).refused());
        // Asked for, the holdout model is trained anyway and the figures come from it.
        let o3 = RunValidParams {
            version: Some("night2b".into()),
            fresh_holdout: true,
            ..o.clone()
        };
        let fresh = run(&lake, Some(&models), &p, &o3).await.unwrap();
        assert_eq!(fresh.holdout_model_reused, None);
        assert_eq!(fresh.holdout_started_from.as_deref(), Some("night1"));
        assert!(fresh.artifact.model.meta().get("holdout_model").is_none());
    }
}
