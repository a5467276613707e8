//! Offline evaluation on benchmark sequences, with baselines computed in the same run.
//!
//! Protocol (ICLRec / S3-Rec): leave-last-out per user, full ranking over all items, the user's
//! training items masked. The blend is chosen on the second-to-last item, then the model is
//! refit on everything but the last item and tested on it. Vitrine's ranking is
//! `shared::personal::personal` on a real artifact — the function the edge serves with.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;
use shared::personal::{Blend, Interaction, personal};
use shared::{ArtifactError, Model};

use crate::evaluation::metrics::{Metrics, MetricsAccumulator, top_k};
use crate::evaluation::sequences::Sequences;
use crate::evaluation::vitrine_model::{
    EvalError, FloatFactors, VitrineParams, build_model, build_model_with_floats, candidate_blends,
    counts, timed,
};
use crate::model::train::cooccurrence;

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
        Benchmark::Sessions { train, test } => crate::evaluation::next_click::next_click(
            &read_sessions(train)?,
            &read_sessions(test)?,
            p,
        ),
    }
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
    /// Artifact bytes per item for the factors: k int8 values + one bf16 scale.
    pub bytes_per_item_factors: usize,
    pub results: Vec<ModelResult>,
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
    let chunk = users.len().div_ceil(crate::parallel::threads()).max(1);
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

fn top_percent(pop: &[f32]) -> HashSet<u32> {
    let k = (pop.len() / 100).max(1);
    top_k(pop, k, &HashSet::new()).into_iter().collect()
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

/// The "similar items" widget offline: the co-view row of the shopper's last item, best first
/// (score, then index, as the artifact's reader orders it), history masked.
fn rank_similar(rows: &[Vec<(u32, f32)>], history: &[u32]) -> Vec<u32> {
    let Some(row) = history.last().and_then(|&i| rows.get(i as usize)) else {
        return Vec::new();
    };
    let mut row = row.clone();
    row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let seen: HashSet<u32> = history.iter().copied().collect();
    row.into_iter()
        .map(|(j, _)| j)
        .filter(|j| !seen.contains(j))
        .take(20)
        .collect()
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

    // What the score width of the co-view list costs the "similar items" widget's order: the
    // same rows with exact scores, at v6's 8 bits and at the width the artifact stores now.
    let co_view = cooccurrence(&train, p.window, n, p.neighbors);
    let stored = |bits| shared::lists::as_stored(&co_view, n, bits).map_err(ArtifactError::from);
    for (name, rows) in [
        (
            "similar items: co-view of the last item, exact scores",
            co_view.clone(),
        ),
        (
            "similar items: co-view, 8-bit scores (format v6)",
            stored(8)?,
        ),
        (
            "similar items: co-view, 4-bit levels (as served)",
            stored(shared::lists::NEIGHBOUR_BITS)?,
        ),
    ] {
        let (m, eval_s) =
            timed(|| run_eval(&train, &test, &popular, n, &|h| rank_similar(&rows, h)));
        results.push(ModelResult {
            model: name.into(),
            metrics: m,
            fit_seconds: 0.0,
            eval_seconds: eval_s,
        });
    }

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
        bytes_per_item_factors: p.ials.factors + shared::artifact::SCALE_BYTES,
        results,
    })
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
        // Each user walks their group in order: the last item's co-view row holds the next one.
        let similar = ndcg("similar items: co-view, 4-bit");
        assert!(similar > ndcg("most popular"), "{r:#?}");
        assert!(
            similar >= ndcg("similar items: co-view, 8-bit") * 0.9,
            "{r:#?}"
        );
    }

    #[test]
    fn similar_ranks_the_last_item_row_best_first_without_history() {
        let rows = vec![vec![(1, 0.5), (2, 0.9), (3, 0.5), (4, 0.1)], vec![(0, 1.0)]];
        assert_eq!(rank_similar(&rows, &[3, 0]), vec![2, 1, 4]);
        assert_eq!(rank_similar(&rows, &[]), Vec::<u32>::new());
        assert_eq!(rank_similar(&rows, &[9]), Vec::<u32>::new());
    }
}
