//! The Vitrine model as the offline protocols build it from plain sequences: the same artifact
//! code the trainer publishes (popularity, co-visitation, iALS factors), the blends tried on a
//! validation split, and the errors an evaluation can end with.
//!
//! Shared by [`super::benchmarks`] (leave-last-out) and [`super::next_click`] (sessions), so
//! neither protocol depends on the other. Must not: read files or score test cases.

use std::collections::HashSet;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};
use shared::artifact::{FactorData, ItemRecord, NONE};
use shared::personal::Blend;
use shared::{Model, ModelData};

use crate::evaluation::metrics::top_k;
use crate::model::csr::Csr;
use crate::model::ials::{IalsValidParams, fit};
use crate::model::train::cooccurrence;

/// Evaluation failures.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("the artifact could not be built: {0}")]
    Artifact(#[from] shared::ArtifactError),
    #[error("no sequence is long enough to hold out an item")]
    NoTargets,
    #[error(transparent)]
    Read(#[from] crate::evaluation::sequences::SequenceError),
    #[error("give --sequences FILE, or --sessions TRAIN --test TEST")]
    NoData,
}

/// How Vitrine's model is built from sequences.
#[derive(Debug, Clone, Serialize)]
pub struct VitrineParams {
    #[serde(skip)]
    pub ials: IalsValidParams,
    /// Co-visitation window (following items in a sequence).
    pub window: usize,
    pub neighbors: usize,
}

/// Float item factors kept beside the artifact, to measure what int8 quantisation costs.
pub struct FloatFactors {
    /// Seconds spent in the iALS fit alone.
    pub fit_seconds: f64,
    pub k: usize,
    pub rows: Vec<f32>,
    pub gram: Vec<f32>,
}

/// Builds a real artifact (popularity, co-visitation, iALS factors) from training sequences.
pub fn build_model(
    train: &[Vec<u32>],
    item_ids: &[String],
    p: &VitrineParams,
    blend: &Blend,
) -> Result<Model, EvalError> {
    build_model_with_floats(train, item_ids, p, blend).map(|(m, _)| m)
}

/// [`build_model`], also returning the float factors.
pub fn build_model_with_floats(
    train: &[Vec<u32>],
    item_ids: &[String],
    p: &VitrineParams,
    blend: &Blend,
) -> Result<(Model, FloatFactors), EvalError> {
    let n = item_ids.len();
    let popularity = counts(train, n);
    let mut popular = top_k(&popularity, 1000, &HashSet::new());
    popular.retain(|&i| popularity[i as usize] > 0.0);
    let co_view = cooccurrence(train, p.window, n, p.neighbors);
    let triples: Vec<(u32, u32, f32)> = train
        .iter()
        .enumerate()
        .flat_map(|(u, s)| {
            s.iter()
                .map(move |&i| (u32::try_from(u).unwrap_or(u32::MAX), i, 1.0))
        })
        .collect();
    let matrix = Csr::from_triples(train.len(), n, triples);
    let (model, ials_seconds) = timed(|| fit(&p.ials, &matrix));
    let flat: Vec<f32> = model.item_factors.iter().copied().collect();
    let factors = FactorData::quantize(p.ials.factors, &flat, p.ials.regularization, p.ials.alpha);
    let floats = FloatFactors {
        fit_seconds: ials_seconds,
        k: p.ials.factors,
        gram: crate::model::ials::gram(model.item_factors.view(), 0.0)
            .iter()
            .copied()
            .collect(),
        rows: flat,
    };
    let mut meta = Map::new();
    meta.insert(
        "blend".into(),
        serde_json::to_value(blend).unwrap_or(Value::Null),
    );
    let data = ModelData {
        version: "eval".into(),
        created_at: 0,
        meta,
        items: item_ids
            .iter()
            .map(|id| ItemRecord {
                id: id.clone(),
                title: String::new(),
                category: NONE,
                brand: NONE,
                price: 0.0,
                in_stock: true,
                ..ItemRecord::default()
            })
            .collect(),
        categories: Vec::new(),
        brands: Vec::new(),
        popularity,
        popular,
        category_popular: Vec::new(),
        co_view,
        co_buy: vec![Vec::new(); n],
        factors: Some(factors),
        repurchase: Vec::new(),
        search: None,
        session: None,
    };
    Ok((Model::load(data.encode()?)?, floats))
}

/// The blends tried on the validation split, pure popularity included (so the tuned blend is
/// never chosen worse than popularity on validation).
pub fn candidate_blends() -> Vec<Blend> {
    let mut out = vec![Blend {
        embedding: 0.0,
        covisit: 0.0,
        popularity: 1.0,
        recency: 1.0,
        max_history: 50,
    }];
    for embedding in [0.0, 0.5, 1.0] {
        for covisit in [0.0, 0.5, 1.0, 2.0] {
            for recency in [0.6, 0.85, 1.0] {
                for popularity in [0.02, 0.3] {
                    if embedding == 0.0 && covisit == 0.0 {
                        continue;
                    }
                    out.push(Blend {
                        embedding,
                        covisit,
                        popularity,
                        recency,
                        max_history: 50,
                    });
                }
            }
        }
    }
    out
}

pub(crate) fn counts(train: &[Vec<u32>], n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; n];
    for s in train {
        for &i in s {
            c[i as usize] += 1.0;
        }
    }
    c
}

pub(crate) fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
}
