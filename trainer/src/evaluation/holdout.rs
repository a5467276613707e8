//! Time-split evaluation on the lake, run inside `train`: the last days are held out, a model is
//! trained on what came before, and each shopper active in both periods is asked "what will they
//! touch next?". Shoppers are split by a hash into a validation half (the blend is tuned there)
//! and a test half (the reported figures). Any model can be scored on the same cases, so the
//! candidate, the baselines and the live model are compared on identical ground.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use shared::Model;
use shared::personal::{Blend, Interaction, Signals, mix, personal, rank_scores, signals};
use shared::recommend::popular;
use shared::time::DAY_MS;

use crate::evaluation::metrics::{Metrics, MetricsAccumulator};
use crate::model::interactions::Interactions;
use crate::model::train::TrainValidParams;

/// One shopper's question: their history before the cutoff and what they touched after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// (item id, weight), most recent first.
    pub history: Vec<(String, f32)>,
    /// Items touched after the cutoff that were not in the history.
    pub targets: Vec<String>,
}

/// The split.
#[derive(Debug, Clone, PartialEq)]
pub struct Holdout {
    /// Events at or after this instant (epoch ms) are held out.
    pub cutoff: i64,
    pub validation: Vec<Case>,
    pub test: Vec<Case>,
}

/// Splits the interactions at `t_end − holdout_days`; keeps at most `max_cases` shoppers per
/// half (those with the smallest id hashes, so the choice is stable).
pub fn split(
    ix: &Interactions,
    p: &TrainValidParams,
    holdout_days: f64,
    max_cases: usize,
) -> Holdout {
    split_at(ix, p, nominal_cutoff(ix, holdout_days), max_cases)
}

/// `t_end − holdout_days`.
pub fn nominal_cutoff(ix: &Interactions, holdout_days: f64) -> i64 {
    #[expect(clippy::cast_possible_truncation, reason = "days in ms fit i64")]
    let cutoff = ix.t_end() - (holdout_days * DAY_MS as f64) as i64;
    cutoff
}

/// The cutoff a night uses: just after the live model's last event when that is within a 24th
/// of the holdout of the nominal cutoff (a nightly cadence), so the live model saw nothing of
/// the holdout and can be compared and started from; the nominal cutoff otherwise.
pub fn aligned_cutoff(nominal: i64, holdout_days: f64, t_end: i64, live_until: Option<i64>) -> i64 {
    #[expect(clippy::cast_possible_truncation, reason = "days in ms fit i64")]
    let slack = (holdout_days * DAY_MS as f64 / 24.0) as i64;
    match live_until {
        Some(t) if (t + 1 - nominal).abs() <= slack && t + 1 < t_end => t + 1,
        _ => nominal,
    }
}

/// Splits the interactions at `cutoff`, as [`split`].
pub fn split_at(ix: &Interactions, p: &TrainValidParams, cutoff: i64, max_cases: usize) -> Holdout {
    let weighted = |r: usize| p.weight(ix.kind[r]) > 0.0;
    // 1. Shoppers active on both sides of the cutoff, by half, smallest hashes first.
    let mut before = vec![false; ix.shoppers()];
    let mut after = vec![false; ix.shoppers()];
    for r in (0..ix.len()).filter(|&r| weighted(r)) {
        let s = ix.shopper[r] as usize;
        if ix.ts[r] < cutoff {
            before[s] = true;
        } else {
            after[s] = true;
        }
    }
    let mut halves: [Vec<(u64, u32)>; 2] = [Vec::new(), Vec::new()];
    for s in 0..ix.shoppers() {
        if before[s] && after[s] {
            let h = ix.shopper_hash[s];
            halves[usize::from(h.is_multiple_of(2))].push((h, u32::try_from(s).unwrap_or(0)));
        }
    }
    // Some candidates end with no new item; keep spares.
    let mut chosen: HashMap<u32, usize> = HashMap::new();
    for (half, list) in halves.iter_mut().enumerate() {
        list.sort_unstable();
        for &(_, s) in list.iter().take(max_cases.saturating_mul(2)) {
            chosen.insert(s, half);
        }
    }
    // 2. Their rows, most recent first.
    let mut rows: Vec<u32> = (0..ix.len())
        .filter(|&r| weighted(r) && chosen.contains_key(&ix.shopper[r]))
        .map(|r| u32::try_from(r).unwrap_or(u32::MAX))
        .collect();
    rows.sort_unstable_by_key(|&r| {
        let r = r as usize;
        (ix.shopper[r], std::cmp::Reverse(ix.ts[r]), r)
    });
    let mut cases: [Vec<(u64, Case)>; 2] = [Vec::new(), Vec::new()];
    for group in rows.chunk_by(|a, b| ix.shopper[*a as usize] == ix.shopper[*b as usize]) {
        let s = ix.shopper[group[0] as usize];
        let mut history: Vec<(String, f32)> = Vec::new();
        let mut later: Vec<u32> = Vec::new();
        for &r in group {
            let r = r as usize;
            if ix.ts[r] < cutoff {
                let w = p.weight_of(ix.kind[r], u32::from(ix.quantity[r]));
                history.push((ix.item_id(ix.item[r]).to_owned(), w));
            } else {
                later.push(ix.item[r]);
            }
        }
        let seen: HashSet<&str> = history.iter().map(|h| h.0.as_str()).collect();
        let mut targets: Vec<String> = Vec::new();
        // `later` is most recent first; targets keep time order.
        for &i in later.iter().rev() {
            let id = ix.item_id(i);
            if !seen.contains(id) && !targets.iter().any(|t| t == id) {
                targets.push(id.to_owned());
            }
        }
        if targets.is_empty() {
            continue;
        }
        let half = chosen.get(&s).copied().unwrap_or(0);
        cases[half].push((ix.shopper_hash[s as usize], Case { history, targets }));
    }
    let [validation, test] = cases.map(|mut v| {
        v.sort_by_key(|(h, _)| *h);
        v.truncate(max_cases);
        v.into_iter().map(|(_, c)| c).collect()
    });
    Holdout {
        cutoff,
        validation,
        test,
    }
}

/// How a model ranks for a case.
#[derive(Debug, Clone, Copy)]
pub enum Ranker {
    /// The model's personal ranking with this blend (the edge's function).
    Personal(Blend),
    /// Most popular items (baseline).
    Popular,
    /// Co-visitation neighbours of the history only (item-kNN baseline).
    ItemKnn,
}

/// Scores `model` on `cases` at K = 10 (top 20 kept for HR@20).
pub fn evaluate(model: &Model, cases: &[Case], ranker: Ranker) -> Metrics {
    let top_share: HashSet<u32> = model
        .popular()
        .take((model.n_items() / 100).max(1))
        .collect();
    let threads = crate::parallel::threads();
    let chunk = cases.len().div_ceil(threads).max(1);
    let accs: Vec<MetricsAccumulator> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .map(|part| {
                let top_share = &top_share;
                s.spawn(move || {
                    let mut acc = MetricsAccumulator::new(10);
                    for c in part {
                        let (ranked, relevant) = rank_case(model, c, ranker);
                        acc.add(&ranked, &relevant, top_share);
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
    total.finish(model.n_items())
}

/// A case in a model's indices: history, items to exclude, relevant items (targets the model
/// does not know count as misses, never as hits).
fn prepare(model: &Model, c: &Case) -> (Vec<Interaction>, HashSet<u32>, HashSet<u32>) {
    let history: Vec<Interaction> = c
        .history
        .iter()
        .filter_map(|(id, w)| {
            Some(Interaction {
                idx: model.item_index(id)?,
                weight: *w,
            })
        })
        .collect();
    let exclude: HashSet<u32> = history.iter().map(|h| h.idx).collect();
    let relevant: HashSet<u32> = c
        .targets
        .iter()
        .enumerate()
        .map(|(n, id)| {
            model
                .item_index(id)
                .unwrap_or(u32::MAX - u32::try_from(n).unwrap_or(0))
        })
        .collect();
    (history, exclude, relevant)
}

fn rank_case(model: &Model, c: &Case, ranker: Ranker) -> (Vec<u32>, HashSet<u32>) {
    let (history, exclude, relevant) = prepare(model, c);
    let ranked = match ranker {
        Ranker::Personal(blend) => personal(model, &history, 20, 0, &exclude, &blend),
        Ranker::Popular => popular(model, None, 20, 0, &exclude),
        Ranker::ItemKnn => {
            let knn = Blend {
                embedding: 0.0,
                covisit: 1.0,
                popularity: 0.0,
                recency: 1.0,
                max_history: usize::MAX,
            };
            personal(model, &history, 20, 0, &exclude, &knn)
                .into_iter()
                .filter(|s| !matches!(s.reason, shared::recommend::Reason::Popular))
                .collect()
        }
    };
    (ranked.into_iter().map(|s| s.idx).collect(), relevant)
}

/// The blend with the best validation NDCG@10 among `candidates` (first wins ties).
///
/// The signals of a case depend only on the blend's recency and history length, so they are
/// computed once per such group and each blend only re-mixes them.
pub fn tune_blend(model: &Model, validation: &[Case], candidates: &[Blend]) -> (Blend, f64) {
    let mut sorted = candidates.to_vec();
    sorted.sort_by(|a, b| {
        a.recency
            .total_cmp(&b.recency)
            .then(a.max_history.cmp(&b.max_history))
    });
    let candidates = &sorted[..];
    let top_share: HashSet<u32> = model
        .popular()
        .take((model.n_items() / 100).max(1))
        .collect();
    let threads = crate::parallel::threads();
    let chunk = validation.len().div_ceil(threads).max(1);
    let accs: Vec<Vec<MetricsAccumulator>> = std::thread::scope(|s| {
        let handles: Vec<_> = validation
            .chunks(chunk)
            .map(|part| {
                let top_share = &top_share;
                s.spawn(move || {
                    let mut accs = vec![MetricsAccumulator::new(10); candidates.len()];
                    for c in part {
                        let (history, exclude, relevant) = prepare(model, c);
                        let mut cached: Option<(f32, usize, Option<Signals>)> = None;
                        for (b, acc) in candidates.iter().zip(accs.iter_mut()) {
                            if cached
                                .as_ref()
                                .is_none_or(|(r, m, _)| *r != b.recency || *m != b.max_history)
                            {
                                // Every signal, so any weights can be mixed from them.
                                let all = Blend {
                                    embedding: 1.0,
                                    covisit: 1.0,
                                    popularity: 1.0,
                                    ..*b
                                };
                                cached = Some((
                                    b.recency,
                                    b.max_history,
                                    signals(model, &history, &all),
                                ));
                            }
                            let ranked: Vec<u32> = match cached.as_ref().and_then(|c| c.2.as_ref())
                            {
                                Some(sig) => {
                                    let scores = mix(sig, b);
                                    rank_scores(model, &scores, &history, b, 20, 0, &exclude)
                                }
                                None => popular(model, None, 20, 0, &exclude),
                            }
                            .into_iter()
                            .map(|s| s.idx)
                            .collect();
                            acc.add(&ranked, &relevant, top_share);
                        }
                    }
                    accs
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut totals = vec![MetricsAccumulator::new(10); candidates.len()];
    for part in accs {
        for (t, a) in totals.iter_mut().zip(part) {
            t.merge(a);
        }
    }
    let mut best = (Blend::default(), f64::MIN);
    for (b, t) in candidates.iter().zip(&totals) {
        let ndcg = t.finish(model.n_items()).ndcg;
        if ndcg > best.1 {
            best = (*b, ndcg);
        }
    }
    best
}

/// One evaluated model, as recorded in the manifest and `tables/model_evaluations`.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluated {
    /// `vitrine`, `popularity`, `item_knn`, or `live:<version>`.
    pub model: String,
    pub metrics: Metrics,
}

/// Figures keyed for the manifest's `metrics` object.
pub fn manifest_metrics(
    results: &[Evaluated],
    cutoff: i64,
    cases: usize,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("split".into(), "time".into());
    m.insert("cutoff".into(), cutoff.into());
    m.insert("test_shoppers".into(), cases.into());
    let by_name: HashMap<&str, &Metrics> = results
        .iter()
        .map(|r| (r.model.as_str(), &r.metrics))
        .collect();
    if let Some(v) = by_name.get("vitrine") {
        m.insert("ndcg@10".into(), v.ndcg.into());
        m.insert("recall@10".into(), v.recall.into());
        m.insert("hr@10".into(), v.hit_rate.into());
        m.insert("mrr@10".into(), v.mrr.into());
        m.insert("coverage".into(), v.coverage.into());
        m.insert("popular_share".into(), v.popular_share.into());
    }
    if let Some(p) = by_name.get("popularity") {
        m.insert("baseline_popularity_ndcg@10".into(), p.ndcg.into());
    }
    if let Some(p) = by_name.get("item_knn") {
        m.insert("baseline_item_knn_ndcg@10".into(), p.ndcg.into());
    }
    for r in results {
        if let Some(v) = r.model.strip_prefix("live:") {
            m.insert("live_version".into(), v.into());
            m.insert("live_ndcg@10".into(), r.metrics.ndcg.into());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::train::TrainParams;
    use shared::{Event, EventType};

    const T: i64 = 1_790_000_000_000;

    fn view(id: usize, shopper: &str, item: &str, ts: i64) -> Event {
        serde_json::from_value(serde_json::json!({
            "event_id": format!("e{id}"), "type": EventType::View, "anonymous_id": shopper,
            "session_id": "s", "timestamp": ts, "item_id": item
        }))
        .unwrap()
    }

    /// Two tastes, ten days: each shopper views items of their taste, low numbers more often.
    fn shop() -> Vec<Event> {
        let mut events = Vec::new();
        for u in 0..300usize {
            let base = if u % 2 == 0 { 0 } else { 20 };
            for d in 0..10usize {
                let (r, s) = ((u * 31 + d * 17) % 20, (u * 13 + d * 7 + 5) % 20);
                let item = format!("i{}", base + r.min(s));
                let ts = T + i64::try_from(d).unwrap() * DAY_MS;
                events.push(view(events.len(), &format!("u{u}"), &item, ts));
            }
        }
        events
    }

    #[test]
    fn gate_refuses_a_model_with_random_factors() {
        use crate::evaluation::gate::judge;
        use crate::model::train::build;
        use rand::{Rng, SeedableRng};
        let events = shop();
        let p = TrainParams::default().check().unwrap();
        let ix = Interactions::from_events(&events);
        let h = split(&ix, &p, 3.0, 1000);
        assert!(h.test.len() >= 20);
        let data = build(&ix, Some(h.cutoff), &[], &p, "v", 0).unwrap();
        // Embedding plus a little popularity (no co-visitation, so the factors carry the model).
        let emb_only = Blend {
            covisit: 0.0,
            popularity: 0.3,
            ..Blend::default()
        };
        let judged = |data: &shared::ModelData| {
            let m = Model::load(data.encode().unwrap()).unwrap();
            let results = vec![
                Evaluated {
                    model: "vitrine".into(),
                    metrics: evaluate(&m, &h.test, Ranker::Personal(emb_only)),
                },
                Evaluated {
                    model: "popularity".into(),
                    metrics: evaluate(&m, &h.test, Ranker::Popular),
                },
            ];
            let mut manifest = shared::Manifest::describe(&data.encode().unwrap(), &m);
            manifest.metrics = manifest_metrics(&results, h.cutoff, h.test.len());
            judge(&manifest, None)
        };
        assert!(!judged(&data).refused(), "{:?}", judged(&data));
        // Same model, factors replaced by noise.
        let mut broken = data.clone();
        let f = broken.factors.as_mut().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let noise: Vec<f32> = (0..f.scales.len() * f.k)
            .map(|_| rng.random::<f32>() - 0.5)
            .collect();
        *f = shared::artifact::FactorData::quantize(f.k, &noise, f.regularization, f.alpha);
        let v = judged(&broken);
        assert!(v.refused(), "{v:?}");
    }

    #[test]
    fn splits_by_time_and_hash() {
        let mut events = Vec::new();
        for u in 0..40 {
            let s = format!("u{u}");
            events.push(view(events.len(), &s, "a", T));
            events.push(view(events.len(), &s, "b", T + 1));
            events.push(view(events.len(), &s, "c", T + 3 * DAY_MS));
            events.push(view(events.len(), &s, "a", T + 3 * DAY_MS)); // seen before: not a target
        }
        events.push(view(999, "only-after", "c", T + 3 * DAY_MS));
        let p = TrainParams::default().check().unwrap();
        let ix = Interactions::from_events(&events);
        let h = split(&ix, &p, 1.0, 1000);
        assert_eq!(h.cutoff, T + 2 * DAY_MS);
        assert_eq!(h.validation.len() + h.test.len(), 40);
        assert!(!h.validation.is_empty() && !h.test.is_empty());
        let c = &h.test[0];
        assert_eq!(c.targets, ["c"]);
        assert_eq!(c.history[0].0, "b"); // most recent first
        assert_eq!(split(&ix, &p, 1.0, 5).test.len(), 5);
        // Same input, same split.
        assert_eq!(split(&ix, &p, 1.0, 1000), h);
    }

    #[test]
    fn the_cutoff_moves_to_the_live_models_end_only_on_a_nightly_cadence() {
        let (day, hour) = (DAY_MS, DAY_MS / 24);
        let (t_end, nominal) = (10 * day, 9 * day);
        // Trained until a little before or after the nominal cutoff: the holdout starts after it.
        assert_eq!(
            aligned_cutoff(nominal, 1.0, t_end, Some(nominal - 600)),
            nominal - 599
        );
        assert_eq!(
            aligned_cutoff(nominal, 1.0, t_end, Some(nominal + 600)),
            nominal + 601
        );
        // Far from it, or never: the nominal cutoff.
        assert_eq!(
            aligned_cutoff(nominal, 1.0, t_end, Some(nominal - 2 * hour)),
            nominal
        );
        assert_eq!(aligned_cutoff(nominal, 1.0, t_end, Some(t_end)), nominal);
        assert_eq!(aligned_cutoff(nominal, 1.0, t_end, None), nominal);
    }
}
