//! Next-click evaluation on session benchmark files (RetailRocket, YooChoose): every next click
//! of every test session, full ranking over the training items, no masking (a shopper may click
//! an item of their session again), HR@20, MRR@20, HR@10 and NDCG@10.
//!
//! Vitrine is the session model the edge serves (`shared::session_model` over lists built by
//! `trainer::model::session_lists`, weights learned by `trainer::model::session_weights` on the
//! last 10% of the *training* sessions — never on the test clicks). Beside it, in the same run:
//! session-kNN (Ludewig & Jannach), the model Vitrine served before (session fold-in +
//! co-visitation), most popular, repeat only, and each list alone with the repeat bonus — the
//! methods that lost.

use std::collections::HashSet;
use std::time::Instant;

use serde_json::{Value, json};
use shared::personal::{Blend, Interaction, personal};
use shared::session_model::{self, OwnedLists, Weights};

use crate::evaluation::metrics::top_k;
use crate::evaluation::sequences::Sequences;
use crate::evaluation::vitrine_model::{EvalError, VitrineParams, build_model, candidate_blends};
use crate::model::session_lists::{self, ListParams};
use crate::model::session_weights;

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
        let sessions = session_lists::distinct_items(train);
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

    /// Bytes it holds: sessions' distinct items and the postings, 4 bytes each.
    pub fn bytes(&self) -> usize {
        4 * (self.sessions.iter().map(Vec::len).sum::<usize>()
            + self.by_item.iter().map(Vec::len).sum::<usize>()
            + self.sessions.len()
            + self.by_item.len())
    }
}

/// Running totals of the four metrics.
#[derive(Default)]
struct Tally {
    cases: usize,
    hr20: f64,
    mrr20: f64,
    hr10: f64,
    ndcg10: f64,
}

impl Tally {
    fn add(&mut self, ranked: &[u32], target: u32) {
        self.cases += 1;
        if let Some(r) = ranked.iter().take(20).position(|&i| i == target) {
            #[expect(clippy::cast_precision_loss, reason = "rank < 20")]
            let r = r as f64;
            self.hr20 += 1.0;
            self.mrr20 += 1.0 / (r + 1.0);
            if r < 10.0 {
                self.hr10 += 1.0;
                self.ndcg10 += 1.0 / (r + 2.0).log2();
            }
        }
    }

    fn json(&self) -> Value {
        #[expect(clippy::cast_precision_loss, reason = "counts")]
        let d = self.cases.max(1) as f64;
        json!({"hr@20": self.hr20 / d, "mrr@20": self.mrr20 / d, "hr@10": self.hr10 / d,
               "ndcg@10": self.ndcg10 / d, "predictions": self.cases})
    }
}

/// A fixed-weights scorer: one list (or all) and the repeat bonus.
fn fixed(knn: f32, covisit: f32, rules: f32, repeat: f32) -> Weights {
    let mut w = vec![0.0; session_model::N_FEATURES];
    w[0] = knn;
    w[2] = covisit;
    w[4] = rules;
    w[6] = repeat;
    Weights {
        w,
        ..Weights::default()
    }
}

/// Artifact bytes per item of the session sections: the three lists as the artifact packs them
/// ([`shared::lists`]) and 2 bytes of popularity.
pub fn bytes_per_item(lists: &OwnedLists) -> f64 {
    let n = lists.popularity.len().max(1);
    let packed: usize = [&lists.knn, &lists.covisit, &lists.rules]
        .iter()
        .map(|rows| shared::lists::encoded_len(rows, shared::lists::SESSION_BITS))
        .sum();
    #[expect(clippy::cast_precision_loss, reason = "sizes")]
    let b = (packed + 2 * n) as f64 / n as f64;
    b
}

/// Test sessions with their items mapped into the training dictionary (unknown: `None`).
fn map_test(train: &Sequences, test: &Sequences) -> Vec<Vec<Option<u32>>> {
    let index: std::collections::HashMap<&str, u32> = train
        .item_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    test.seqs
        .iter()
        .map(|s| {
            s.iter()
                .map(|&i| index.get(test.item_ids[i as usize].as_str()).copied())
                .collect()
        })
        .collect()
}

/// Runs `rank(prefix)` on every next click of the test sessions.
fn run(test: &[Vec<Option<u32>>], mut rank: impl FnMut(&[u32]) -> Vec<u32>) -> (Tally, f64) {
    let t = Instant::now();
    let mut tally = Tally::default();
    for s in test {
        for cut in 1..s.len() {
            let Some(target) = s[cut] else { continue };
            let prefix: Vec<u32> = s[..cut].iter().flatten().copied().collect();
            if prefix.is_empty() {
                continue;
            }
            tally.add(&rank(&prefix), target);
        }
    }
    (tally, t.elapsed().as_secs_f64())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

/// Next-click prediction over test sessions, every method in one run.
pub fn next_click(
    train: &Sequences,
    test: &Sequences,
    p: &VitrineParams,
) -> Result<Value, EvalError> {
    let test_seqs = map_test(train, test);
    let n = train.n_items();
    let lp = ListParams::default();
    // Vitrine: weights learned on the last tenth of the training sessions, lists on all of them.
    let ((fit, lists), fit_v) = timed(|| {
        let fit = session_weights::learn(&train.seqs, n, &lp, session_weights::FIT_CASES);
        (fit, session_lists::build(&train.seqs, n, &lp))
    });
    let bytes = bytes_per_item(&lists);
    // Ranked on the lists as the artifact stores them (one-byte scores and popularity): the
    // figures are those of what the edge serves.
    let lists = lists.as_stored().map_err(shared::ArtifactError::from)?;
    let (knn, fit_s) = timed(|| SessionKnn::fit(&train.seqs, n));
    let (before, fit_b) = timed(|| {
        let blend = tune_session_blend(train, p)?;
        build_model(&train.seqs, &train.item_ids, p, &blend).map(|m| (m, blend))
    });
    let (before, blend) = before?;
    let mut popular: Vec<(u32, f32)> = lists
        .popularity
        .iter()
        .enumerate()
        .map(|(i, p)| (u32::try_from(i).unwrap_or(u32::MAX), p.0))
        .collect();
    popular.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let popular: Vec<u32> = popular.into_iter().take(20).map(|x| x.0).collect();
    let mut out = Vec::new();
    let mut row = |name: &str, fit_seconds: f64, bytes: Option<f64>, r: (Tally, f64)| {
        let mut v = r.0.json();
        v["model"] = json!(name);
        v["fit_seconds"] = json!(fit_seconds);
        v["eval_seconds"] = json!(r.1);
        v["bytes_per_item"] = json!(bytes);
        out.push(v);
    };
    row(
        "vitrine (session model: item lists + learned weights)",
        fit_v,
        Some(bytes),
        run(&test_seqs, |q| {
            session_model::rank(&lists, q, &fit.weights, 20)
        }),
    );
    // The widget leaves out the product on screen (the last click): the same model, as served.
    row(
        "vitrine as served (the item on screen left out)",
        fit_v,
        Some(bytes),
        run(&test_seqs, |q| {
            let mut r = session_model::rank(&lists, q, &fit.weights, 21);
            r.retain(|&i| Some(&i) != q.last());
            r.truncate(20);
            r
        }),
    );
    #[expect(clippy::cast_precision_loss, reason = "sizes")]
    let knn_bytes = knn.bytes() as f64 / n.max(1) as f64;
    row(
        "session-kNN",
        fit_s,
        Some(knn_bytes),
        run(&test_seqs, |q| knn.rank(q, n, 20)),
    );
    row(
        "session-kNN as served (the item on screen left out)",
        fit_s,
        Some(knn_bytes),
        run(&test_seqs, |q| {
            let mut r = knn.rank(q, n, 21);
            r.retain(|&i| Some(&i) != q.last());
            r.truncate(20);
            r
        }),
    );
    row(
        "before: session fold-in + co-visitation",
        fit_b,
        None,
        run(&test_seqs, |q| {
            let hist: Vec<Interaction> = q
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            personal(&before, &hist, 20, 0, &HashSet::new(), &blend)
                .into_iter()
                .map(|x| x.idx)
                .collect()
        }),
    );
    row(
        "most popular",
        0.0,
        Some(2.0),
        run(&test_seqs, |_| popular.clone()),
    );
    for (name, w) in [
        ("repeat only", fixed(0.0, 0.0, 0.0, 1.0)),
        (
            "knn list + repeat (fixed weights)",
            fixed(1.0, 0.0, 0.0, 1.0),
        ),
        (
            "covisit list + repeat (fixed weights)",
            fixed(0.0, 1.0, 0.0, 1.0),
        ),
        (
            "rules list + repeat (fixed weights)",
            fixed(0.0, 0.0, 1.0, 1.0),
        ),
        ("all lists + repeat (fixed weights)", Weights::default()),
    ] {
        row(
            name,
            fit_v,
            Some(bytes),
            run(&test_seqs, |q| session_model::rank(&lists, q, &w, 20)),
        );
    }
    Ok(json!({
        "train_sessions": train.seqs.len(), "test_sessions": test.seqs.len(), "items": n,
        "session_model": {"weights": fit.weights, "features": session_model::FEATURES,
                          "fit": {"cases": fit.cases, "covered": fit.covered,
                                  "iterations": fit.iterations, "loss": fit.loss,
                                  "learned": fit.learned},
                          "lists": {"knn": lp.knn, "covisit": lp.covisit, "rules": lp.rules},
                          "bytes_per_item": bytes},
        "before_blend": blend,
        "results": out,
    }))
}

/// Chooses the old model's session blend on the training data alone: the last click of (a
/// sample of) the training sessions is held out, a model is fitted on the rest, and the blend
/// with the best MRR@20 on those clicks wins.
fn tune_session_blend(train: &Sequences, p: &VitrineParams) -> Result<Blend, EvalError> {
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
    let mut best = (Blend::default(), f64::MIN);
    for blend in blends {
        let mut mrr = 0.0f64;
        for &u in &sample {
            let Some(target) = last[u] else { continue };
            let hist: Vec<Interaction> = rest[u]
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            let ranked = personal(&model, &hist, 20, 0, &HashSet::new(), &blend);
            if let Some(r) = ranked.iter().position(|x| x.idx == target) {
                #[expect(clippy::cast_precision_loss, reason = "rank < 20")]
                {
                    mrr += 1.0 / (r + 1) as f64;
                }
            }
        }
        if mrr > best.1 {
            best = (blend, mrr);
        }
    }
    Ok(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_knn_finds_co_occurring_items() {
        let train = vec![vec![0, 1, 2], vec![0, 1, 3], vec![4, 5]];
        let knn = SessionKnn::fit(&train, 6);
        let ranked = knn.rank(&[0], 6, 3);
        assert_eq!(ranked[..2], [0, 1]);
        assert!(!ranked.contains(&4));
    }

    #[test]
    fn the_session_model_beats_session_knn_on_sessions_that_go_back() {
        // Shoppers browse a small neighbourhood and go back to what they saw.
        let mut seqs = Vec::new();
        for k in 0..3_000u32 {
            let base = (k * 13) % 200;
            let mut s = vec![base];
            for step in 1..6u32 {
                s.push(if step % 2 == 0 {
                    base
                } else {
                    (base + step + k % 3) % 200
                });
            }
            seqs.push(s);
        }
        let ids: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let train = Sequences {
            seqs: seqs[..2_700].to_vec(),
            item_ids: ids.clone(),
        };
        let test = Sequences {
            seqs: seqs[2_700..].to_vec(),
            item_ids: ids,
        };
        let lp = ListParams::default();
        let fit = session_weights::learn(&train.seqs, 200, &lp, 5_000);
        let lists = session_lists::build(&train.seqs, 200, &lp);
        let mapped = map_test(&train, &test);
        let (ours, _) = run(&mapped, |q| {
            session_model::rank(&lists, q, &fit.weights, 20)
        });
        let knn = SessionKnn::fit(&train.seqs, 200);
        let (theirs, _) = run(&mapped, |q| knn.rank(q, 200, 20));
        assert!(
            ours.mrr20 > theirs.mrr20,
            "{} vs {}",
            ours.mrr20,
            theirs.mrr20
        );
    }
}
