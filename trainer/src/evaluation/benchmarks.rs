//! Offline evaluation on benchmark sequences, with baselines computed in the same run.
//!
//! Protocol (ICLRec / S3-Rec): leave-last-out per user, full ranking over all items, the user's
//! training items masked. The blend is chosen on the second-to-last item, then the model is
//! refit on everything but the last item and tested on it. Vitrine's ranking is
//! `shared::personal::personal` on a real artifact — the function the edge serves with.

use std::collections::HashSet;
use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::artifact::{FactorData, ItemRecord, NONE};
use shared::personal::{Blend, Interaction, personal};
use shared::{Model, ModelData};

use crate::evaluation::metrics::{Metrics, MetricsAccumulator, top_k};
use crate::evaluation::sequences::Sequences;
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

/// The benchmark data an evaluation runs on.
#[derive(Debug, Clone)]
pub enum Benchmark {
    /// A `user item item …` file: leave-last-out, full ranking.
    Sequences(std::path::PathBuf),
    /// `SessionId ItemId Time` training and test files: next-click prediction.
    Sessions {
        train: std::path::PathBuf,
        test: std::path::PathBuf,
    },
}

/// `trainer evaluate`: reads the benchmark files and runs their protocol.
pub fn evaluate(b: &Benchmark, p: &VitrineParams, tune_users: usize) -> Result<Value, EvalError> {
    use crate::evaluation::sequences::{read_sessions, read_user_sequences};
    match b {
        Benchmark::Sequences(path) => {
            let report = leave_last_out(&read_user_sequences(path)?, p, tune_users)?;
            Ok(serde_json::to_value(report).unwrap_or(Value::Null))
        }
        Benchmark::Sessions { train, test } => {
            next_click(&read_sessions(train)?, &read_sessions(test)?, p)
        }
    }
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

/// One model's result.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub model: String,
    pub metrics: Metrics,
    pub fit_seconds: f64,
    pub eval_seconds: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub users: usize,
    pub items: usize,
    pub interactions: usize,
    pub blend: Blend,
    /// 1 − NDCG@10(int8 factors) / NDCG@10(float factors), embedding alone.
    pub quantization_ndcg_loss: f64,
    /// Seconds of the final iALS fit alone (the figure comparable to a peer's ALS `fit`).
    pub ials_fit_seconds: f64,
    /// Artifact bytes per item for the factors: k int8 values + one f32 scale.
    pub bytes_per_item_factors: usize,
    pub results: Vec<ModelResult>,
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Evaluates `rank` (history → top-20 list) over every user with a target, on all cores.
fn run_eval(
    train: &[Vec<u32>],
    targets: &[Option<u32>],
    popular: &HashSet<u32>,
    n_items: usize,
    rank: &(dyn Fn(&[u32]) -> Vec<u32> + Sync),
) -> Metrics {
    let users: Vec<usize> = (0..train.len()).filter(|&u| targets[u].is_some()).collect();
    let chunk = users.len().div_ceil(threads()).max(1);
    let accs: Vec<MetricsAccumulator> = std::thread::scope(|s| {
        let handles: Vec<_> = users
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut acc = MetricsAccumulator::new(10);
                    for &u in part {
                        let Some(t) = targets[u] else { continue };
                        acc.add(&rank(&train[u]), &HashSet::from([t]), popular);
                    }
                    acc
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut total = MetricsAccumulator::new(10);
    for a in accs {
        total.merge(a);
    }
    total.finish(n_items)
}

fn counts(train: &[Vec<u32>], n: usize) -> Vec<f32> {
    let mut c = vec![0.0f32; n];
    for s in train {
        for &i in s {
            c[i as usize] += 1.0;
        }
    }
    c
}

fn top_percent(pop: &[f32]) -> HashSet<u32> {
    let k = (pop.len() / 100).max(1);
    top_k(pop, k, &HashSet::new()).into_iter().collect()
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
    };
    Ok((Model::load(data.encode()?)?, floats))
}

/// Embedding-only ranking with float factors (what the int8 artifact approximates), with the
/// same recency weighting as the served ranking.
fn rank_float(
    f: &FloatFactors,
    fold: shared::factors::FoldIn,
    blend: &Blend,
    history: &[u32],
) -> Vec<u32> {
    let k = f.k;
    let hist: Vec<Interaction> = history
        .iter()
        .rev()
        .map(|&idx| Interaction { idx, weight: 1.0 })
        .collect();
    let weights = shared::personal::weigh(&hist, blend, f.rows.len() / k.max(1));
    let rows = weights
        .iter()
        .map(|&(i, w)| (&f.rows[i as usize * k..(i as usize + 1) * k], w));
    let Some(x) = shared::factors::fold_in(k, &f.gram, rows, fold) else {
        return Vec::new();
    };
    let scores: Vec<f32> = f
        .rows
        .chunks_exact(k)
        .map(|r| shared::factors::dot(&x, r))
        .collect();
    top_k(&scores, 20, &history.iter().copied().collect())
}

/// Vitrine's ranking for one training history (oldest first), masking its items.
pub fn rank_vitrine(model: &Model, history: &[u32], blend: &Blend, k: usize) -> Vec<u32> {
    let hist: Vec<Interaction> = history
        .iter()
        .rev()
        .map(|&idx| Interaction { idx, weight: 1.0 })
        .collect();
    let exclude: HashSet<u32> = history.iter().copied().collect();
    personal(model, &hist, k, 0, &exclude, blend)
        .into_iter()
        .map(|s| s.idx)
        .collect()
}

/// Item-kNN baseline: cosine similarity over the whole history, summed over the user's items.
fn rank_item_knn(neighbors: &[Vec<(u32, f32)>], n: usize, history: &[u32]) -> Vec<u32> {
    let mut scores = vec![0.0f32; n];
    for &h in history {
        for &(j, s) in &neighbors[h as usize] {
            scores[j as usize] += s;
        }
    }
    top_k(&scores, 20, &history.iter().copied().collect())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed().as_secs_f64())
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

/// Leave-last-out evaluation of Vitrine against popularity and item-kNN.
pub fn leave_last_out(
    seqs: &Sequences,
    p: &VitrineParams,
    tune_users: usize,
) -> Result<Report, EvalError> {
    let n = seqs.n_items();
    // 1. Choose the blend on the second-to-last item.
    let (train2, valid) = seqs.leave_out(2);
    let model2 = build_model(&train2, &seqs.item_ids, p, &Blend::default())?;
    let sample: Vec<usize> = (0..train2.len())
        .filter(|&u| valid[u].is_some())
        .take(tune_users)
        .collect();
    let sample_train: Vec<Vec<u32>> = sample.iter().map(|&u| train2[u].clone()).collect();
    let sample_valid: Vec<Option<u32>> = sample.iter().map(|&u| valid[u]).collect();
    let pop2 = top_percent(&counts(&train2, n));
    let mut best = (f64::MIN, Blend::default());
    for blend in candidate_blends() {
        let m = run_eval(&sample_train, &sample_valid, &pop2, n, &|h| {
            rank_vitrine(&model2, h, &blend, 20)
        });
        tracing::debug!(?blend, ndcg = m.ndcg, "validation");
        if m.ndcg > best.0 {
            best = (m.ndcg, blend);
        }
    }
    let blend = best.1;
    tracing::info!(
        ?blend,
        ndcg = best.0,
        "blend chosen on the validation split"
    );

    // 2. Refit on all but the last item and test on it.
    let (train, test) = seqs.leave_out(1);
    if test.iter().all(Option::is_none) {
        return Err(EvalError::NoTargets);
    }
    let pop_counts = counts(&train, n);
    let popular = top_percent(&pop_counts);
    let mut results = Vec::new();

    let (ranked_pop, fit_pop) = timed(|| top_k(&pop_counts, 20 + 200, &HashSet::new()));
    let (m, eval_s) = timed(|| {
        run_eval(&train, &test, &popular, n, &|h| {
            let seen: HashSet<u32> = h.iter().copied().collect();
            ranked_pop
                .iter()
                .copied()
                .filter(|i| !seen.contains(i))
                .take(20)
                .collect()
        })
    });
    results.push(ModelResult {
        model: "most popular".into(),
        metrics: m,
        fit_seconds: fit_pop,
        eval_seconds: eval_s,
    });

    let (knn, fit_knn) = timed(|| cooccurrence(&train, usize::MAX, n, 200));
    let (m, eval_s) =
        timed(|| run_eval(&train, &test, &popular, n, &|h| rank_item_knn(&knn, n, h)));
    results.push(ModelResult {
        model: "item-kNN (co-visitation, cosine)".into(),
        metrics: m,
        fit_seconds: fit_knn,
        eval_seconds: eval_s,
    });

    let (built, fit_v) = timed(|| build_model_with_floats(&train, &seqs.item_ids, p, &blend));
    let (model, floats) = built?;
    let (m, eval_s) = timed(|| {
        run_eval(&train, &test, &popular, n, &|h| {
            rank_vitrine(&model, h, &blend, 20)
        })
    });
    results.push(ModelResult {
        model: "vitrine (iALS fold-in + co-visitation)".into(),
        metrics: m,
        fit_seconds: fit_v,
        eval_seconds: eval_s,
    });

    let emb_only = Blend {
        covisit: 0.0,
        popularity: 0.0,
        ..blend
    };
    let (m, eval_s) = timed(|| {
        run_eval(&train, &test, &popular, n, &|h| {
            rank_vitrine(&model, h, &emb_only, 20)
        })
    });
    let quantized_ndcg = m.ndcg;
    results.push(ModelResult {
        model: "vitrine iALS alone (fold-in, int8 factors)".into(),
        metrics: m,
        fit_seconds: fit_v,
        eval_seconds: eval_s,
    });
    let fold = shared::factors::FoldIn {
        regularization: p.ials.regularization,
        alpha: p.ials.alpha,
    };
    let (m, eval_s) = timed(|| {
        run_eval(&train, &test, &popular, n, &|h| {
            rank_float(&floats, fold, &emb_only, h)
        })
    });
    let quantization_ndcg_loss = if m.ndcg > 0.0 {
        1.0 - quantized_ndcg / m.ndcg
    } else {
        0.0
    };
    results.push(ModelResult {
        model: "vitrine iALS alone (fold-in, float32 factors)".into(),
        metrics: m,
        fit_seconds: fit_v,
        eval_seconds: eval_s,
    });

    Ok(Report {
        users: seqs.seqs.len(),
        items: n,
        interactions: seqs.seqs.iter().map(Vec::len).sum(),
        blend,
        quantization_ndcg_loss,
        ials_fit_seconds: floats.fit_seconds,
        bytes_per_item_factors: p.ials.factors + 4,
        results,
    })
}

/// Session-kNN baseline (Ludewig & Jannach): neighbours are training sessions sharing items with
/// the current one, weighted by cosine overlap.
pub struct SessionKnn {
    sessions: Vec<Vec<u32>>,
    by_item: Vec<Vec<u32>>,
    k: usize,
    sample: usize,
}

impl SessionKnn {
    pub fn fit(train: &[Vec<u32>], n: usize) -> Self {
        let sessions: Vec<Vec<u32>> = train
            .iter()
            .map(|s| {
                let mut v = s.clone();
                v.sort_unstable();
                v.dedup();
                v
            })
            .collect();
        let mut by_item = vec![Vec::new(); n];
        for (sid, s) in sessions.iter().enumerate() {
            for &i in s {
                by_item[i as usize].push(u32::try_from(sid).unwrap_or(u32::MAX));
            }
        }
        Self {
            sessions,
            by_item,
            k: 100,
            sample: 500,
        }
    }

    pub fn rank(&self, current: &[u32], n: usize, top: usize) -> Vec<u32> {
        let mut cur: Vec<u32> = current.to_vec();
        cur.sort_unstable();
        cur.dedup();
        let mut candidates: Vec<u32> = Vec::new();
        for &i in &cur {
            // The most recent sessions holding the item (higher ids are later).
            candidates.extend(self.by_item[i as usize].iter().rev().take(self.sample));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut sims: Vec<(f32, u32)> = candidates
            .into_iter()
            .map(|sid| {
                let s = &self.sessions[sid as usize];
                let overlap = cur.iter().filter(|i| s.binary_search(i).is_ok()).count();
                #[expect(clippy::cast_precision_loss, reason = "small counts")]
                let sim = overlap as f32 / ((cur.len() * s.len()) as f32).sqrt();
                (sim, sid)
            })
            .collect();
        sims.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        sims.truncate(self.k);
        let mut scores = vec![0.0f32; n];
        for (sim, sid) in sims {
            for &i in &self.sessions[sid as usize] {
                scores[i as usize] += sim;
            }
        }
        top_k(&scores, top, &HashSet::new())
    }
}

/// Next-click prediction over test sessions: HR@20 and MRR@20 from every prefix.
pub fn next_click(
    train: &Sequences,
    test: &Sequences,
    p: &VitrineParams,
) -> Result<Value, EvalError> {
    // Map test item ids into the training dictionary; unknown items cannot be predicted.
    let index: std::collections::HashMap<&str, u32> = train
        .item_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    let test_seqs: Vec<Vec<Option<u32>>> = test
        .seqs
        .iter()
        .map(|s| {
            s.iter()
                .map(|&i| index.get(test.item_ids[i as usize].as_str()).copied())
                .collect()
        })
        .collect();
    let n = train.n_items();
    let (blend, tuning) = tune_session_blend(train, p)?;
    let (model, fit_v) = timed(|| build_model(&train.seqs, &train.item_ids, p, &blend));
    let model = model?;
    let (knn, fit_s) = timed(|| SessionKnn::fit(&train.seqs, n));
    let mut out = Vec::new();
    for (name, fit_seconds) in [
        ("vitrine (session fold-in + co-visitation)", fit_v),
        ("session-kNN", fit_s),
    ] {
        let t = Instant::now();
        let (mut hits, mut mrr, mut total) = (0.0f64, 0.0f64, 0usize);
        for s in &test_seqs {
            for cut in 1..s.len() {
                let Some(target) = s[cut] else { continue };
                let prefix: Vec<u32> = s[..cut].iter().flatten().copied().collect();
                if prefix.is_empty() {
                    continue;
                }
                total += 1;
                let ranked = if name.starts_with("vitrine") {
                    let hist: Vec<Interaction> = prefix
                        .iter()
                        .rev()
                        .map(|&idx| Interaction { idx, weight: 1.0 })
                        .collect();
                    personal(&model, &hist, 20, 0, &HashSet::new(), &blend)
                        .into_iter()
                        .map(|x| x.idx)
                        .collect()
                } else {
                    knn.rank(&prefix, n, 20)
                };
                if let Some(r) = ranked.iter().position(|&i| i == target) {
                    hits += 1.0;
                    #[expect(clippy::cast_precision_loss, reason = "rank < 20")]
                    {
                        mrr += 1.0 / (r + 1) as f64;
                    }
                }
            }
        }
        #[expect(clippy::cast_precision_loss, reason = "counts")]
        let denom = total.max(1) as f64;
        out.push(json!({"model": name, "hr@20": hits / denom, "mrr@20": mrr / denom, "predictions": total,
                        "fit_seconds": fit_seconds, "eval_seconds": t.elapsed().as_secs_f64()}));
    }
    Ok(
        json!({"train_sessions": train.seqs.len(), "test_sessions": test.seqs.len(), "items": n,
               "blend": blend, "blend_validation": tuning, "results": out}),
    )
}

/// Chooses the session blend on the training data alone: the last click of (a sample of) the
/// training sessions is held out, a model is fitted on the rest, and the blend with the best
/// MRR@20 on those clicks wins. Session blends also try short memories (recency 0.3, 0.1).
fn tune_session_blend(train: &Sequences, p: &VitrineParams) -> Result<(Blend, Value), EvalError> {
    const SAMPLE: usize = 3000;
    let (rest, last) = train.leave_out(1);
    let model = build_model(&rest, &train.item_ids, p, &Blend::default())?;
    let eligible: Vec<usize> = (0..rest.len()).filter(|&u| last[u].is_some()).collect();
    let step = eligible.len().div_ceil(SAMPLE).max(1);
    let sample: Vec<usize> = eligible.into_iter().step_by(step).collect();
    let mut blends = candidate_blends();
    for recency in [0.3, 0.1] {
        for covisit in [0.5, 1.0, 2.0] {
            blends.push(Blend {
                embedding: 1.0,
                covisit,
                popularity: 0.02,
                recency,
                max_history: 50,
            });
        }
    }
    let mut best = (Blend::default(), f64::MIN, 0.0);
    for blend in blends {
        let (mut mrr, mut hits) = (0.0f64, 0.0f64);
        for &u in &sample {
            let Some(target) = last[u] else { continue };
            let hist: Vec<Interaction> = rest[u]
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            let ranked = personal(&model, &hist, 20, 0, &HashSet::new(), &blend);
            if let Some(r) = ranked.iter().position(|x| x.idx == target) {
                hits += 1.0;
                #[expect(clippy::cast_precision_loss, reason = "rank < 20")]
                {
                    mrr += 1.0 / (r + 1) as f64;
                }
            }
        }
        if mrr > best.1 {
            best = (blend, mrr, hits);
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let denom = sample.len().max(1) as f64;
    Ok((
        best.0,
        json!({"sessions": sample.len(), "mrr@20": best.1 / denom, "hr@20": best.2 / denom}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ials::IalsParams;

    /// Two tastes; each user walks through their group in order, so the next item is predictable.
    fn synthetic() -> Sequences {
        let mut seqs = Vec::new();
        for u in 0..120u32 {
            let base = if u % 2 == 0 { 0 } else { 10 };
            let start = u % 7;
            seqs.push((0..6).map(|j| base + (start + j) % 10).collect());
        }
        Sequences {
            seqs,
            item_ids: (0..20).map(|i| format!("i{i}")).collect(),
        }
    }

    fn params() -> VitrineParams {
        VitrineParams {
            ials: IalsParams::default()
                .factors(8)
                .iterations(8)
                .check()
                .unwrap(),
            window: 3,
            neighbors: 20,
        }
    }

    #[test]
    fn vitrine_beats_popularity_on_structured_data() {
        let r = leave_last_out(&synthetic(), &params(), 200).unwrap();
        let ndcg = |name: &str| {
            r.results
                .iter()
                .find(|m| m.model.starts_with(name))
                .unwrap()
                .metrics
                .ndcg
        };
        assert!(ndcg("vitrine (") > ndcg("most popular"), "{r:#?}");
        assert!(ndcg("item-kNN") > ndcg("most popular"));
        assert_eq!(r.results[0].metrics.users, 120);
    }

    #[test]
    fn session_knn_finds_co_occurring_items() {
        let train = synthetic();
        let knn = SessionKnn::fit(&train.seqs, 20);
        let ranked = knn.rank(&[0, 1], 20, 5);
        assert!(ranked.iter().all(|&i| i < 10), "{ranked:?}");
        let v = next_click(&train, &synthetic(), &params()).unwrap();
        assert_eq!(v["results"].as_array().unwrap().len(), 2);
        assert!(v["results"][0]["hr@20"].as_f64().unwrap() > 0.5);
    }
}
