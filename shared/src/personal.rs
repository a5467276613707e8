//! Personal scoring: a shopper's recent history (known history plus the current session) folded
//! into a user vector and blended with co-visitation and popularity.
//!
//! This one function ranks for the edge on every request and for the trainer's offline
//! evaluation, so the figures in `docs/benchmarks.md` describe what shoppers get.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::factors::fold_in;
use crate::recommend::{Reason, Scored};

/// One past interaction; slices of these are ordered most recent first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    pub idx: u32,
    /// Event weight (view < cart < purchase), times quantity.
    pub weight: f32,
}

/// How the signals are mixed; tuned by the trainer on a validation split and stored in the
/// artifact's meta under `"blend"`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Blend {
    /// Weight of the fold-in embedding score.
    pub embedding: f32,
    /// Weight of the co-visitation score.
    pub covisit: f32,
    /// Weight of (normalised) popularity.
    pub popularity: f32,
    /// Each step back in the history multiplies an interaction's weight by this.
    pub recency: f32,
    /// Most recent interactions considered.
    pub max_history: usize,
}

impl Default for Blend {
    fn default() -> Self {
        Self {
            embedding: 1.0,
            covisit: 1.0,
            popularity: 0.05,
            recency: 0.8,
            max_history: 50,
        }
    }
}

impl Blend {
    /// The blend stored in a model's meta, or the default.
    pub fn of(model: &Model) -> Self {
        model
            .meta()
            .get("blend")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }
}

/// Recency-weighted history: item → weight, keeping the first (most recent) position seen.
pub fn weigh(history: &[Interaction], blend: &Blend, n: usize) -> Vec<(u32, f32)> {
    let mut order: Vec<u32> = Vec::new();
    let mut weights: HashMap<u32, f32> = HashMap::new();
    let mut decay = 1.0f32;
    for h in history.iter().take(blend.max_history) {
        if (h.idx as usize) < n && h.weight > 0.0 && h.weight.is_finite() {
            let w = weights.entry(h.idx).or_insert_with(|| {
                order.push(h.idx);
                0.0
            });
            *w += h.weight * decay;
        }
        decay *= blend.recency;
    }
    order.into_iter().map(|i| (i, weights[&i])).collect()
}

fn normalise(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(0.0f32, f32::max);
    if max > 0.0 {
        for s in scores.iter_mut() {
            *s /= max;
        }
    }
}

/// Scores every item for a history; `None` when the history names no known item.
///
/// Returns the blended scores and, per item, the history item that explains it best and whether
/// co-visitation (rather than the embedding) dominated.
pub fn score_all(model: &Model, history: &[Interaction], blend: &Blend) -> Option<Vec<f32>> {
    let n = model.n_items();
    let hist = weigh(history, blend, n);
    if hist.is_empty() {
        return None;
    }
    let mut total = vec![0.0f32; n];
    if let Some(f) = model.factors().filter(|_| blend.embedding > 0.0) {
        let rows: Vec<(Vec<f32>, f32)> = hist.iter().map(|&(i, w)| (f.item_vector(i), w)).collect();
        let x = fold_in(
            f.k(),
            f.gram(),
            rows.iter().map(|(v, w)| (v.as_slice(), *w)),
            f.fold_in_params(),
        );
        if let Some(x) = x {
            let mut emb = vec![0.0f32; n];
            match f.candidates(&x, None) {
                Some(candidates) => {
                    for i in candidates {
                        emb[i as usize] = f.score(&x, i);
                    }
                }
                None => {
                    for (i, e) in emb.iter_mut().enumerate() {
                        *e = f.score(&x, i as u32);
                    }
                }
            }
            normalise(&mut emb);
            for (t, e) in total.iter_mut().zip(&emb) {
                *t += blend.embedding * e;
            }
        }
    }
    if blend.covisit > 0.0 {
        let mut cov = vec![0.0f32; n];
        for &(h, w) in &hist {
            for (j, s) in model.co_view(h).chain(model.co_buy(h)) {
                cov[j as usize] += w * s;
            }
        }
        normalise(&mut cov);
        for (t, c) in total.iter_mut().zip(&cov) {
            *t += blend.covisit * c;
        }
    }
    if blend.popularity > 0.0 {
        let max = model.popular().next().map_or(0.0, |i| model.popularity(i));
        if max > 0.0 {
            for (i, t) in total.iter_mut().enumerate() {
                *t += blend.popularity * model.popularity(i as u32) / max;
            }
        }
    }
    Some(total)
}

/// Indices of the `top` best scores, best first, skipping `exclude`; ties go to the lower index.
pub fn top_k(scores: &[f32], top: usize, exclude: &HashSet<u32>) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..scores.len() as u32)
        .filter(|i| {
            !exclude.contains(i) && scores[*i as usize].is_finite() && scores[*i as usize] > 0.0
        })
        .collect();
    let cmp = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if idx.len() > top {
        idx.select_nth_unstable_by(top, cmp);
        idx.truncate(top);
    }
    idx.sort_unstable_by(cmp);
    idx
}

/// The history item most related to `item`: the strongest co-visitation link, else the most
/// recent interaction.
fn explain(model: &Model, item: u32, hist: &[(u32, f32)]) -> u32 {
    let mut best: Option<(f32, u32)> = None;
    for &(h, w) in hist {
        let link = model
            .co_view(h)
            .chain(model.co_buy(h))
            .find(|&(j, _)| j == item)
            .map(|(_, s)| s * w);
        if let Some(s) = link
            && best.is_none_or(|(b, _)| s > b)
        {
            best = Some((s, h));
        }
    }
    best.map_or_else(|| hist.first().map_or(item, |h| h.0), |(_, h)| h)
}

/// Personal recommendations: `k` items after `offset`, none from `exclude`; falls back to
/// popular items when the history is empty or unknown, and fills up with them when short.
pub fn personal(
    model: &Model,
    history: &[Interaction],
    k: usize,
    offset: usize,
    exclude: &HashSet<u32>,
    blend: &Blend,
) -> Vec<Scored> {
    let Some(scores) = score_all(model, history, blend) else {
        return crate::recommend::popular(model, None, k, offset, exclude);
    };
    let hist = weigh(history, blend, model.n_items());
    let ranked = top_k(&scores, k + offset, exclude);
    let mut out: Vec<Scored> = ranked
        .into_iter()
        .map(|idx| {
            let because = explain(model, idx, &hist);
            Scored {
                idx,
                score: scores[idx as usize],
                reason: Reason::Session {
                    item: model.item_id(because).to_owned(),
                },
            }
        })
        .collect();
    if out.len() < k + offset {
        let mut seen: HashSet<u32> = exclude.iter().copied().collect();
        seen.extend(out.iter().map(|s| s.idx));
        let fill = crate::recommend::popular(model, None, k + offset - out.len(), 0, &seen);
        out.extend(fill);
    }
    out.into_iter().skip(offset).collect()
}

/// The for-you list the edge serves: the context items (most recent first, unknown ids ignored)
/// folded in and blended with the model's tuned weights; popular items (in `category`, when
/// given) when there is no usable context.
pub fn for_you(
    model: &Model,
    context: &[String],
    category: Option<&str>,
    k: usize,
    offset: usize,
) -> Vec<Scored> {
    let history: Vec<Interaction> = context
        .iter()
        .filter_map(|id| model.item_index(id))
        .map(|idx| Interaction { idx, weight: 1.0 })
        .collect();
    if history.is_empty() || category.is_some() {
        let exclude = history.iter().map(|h| h.idx).collect();
        return crate::recommend::popular(model, category, k, offset, &exclude);
    }
    let exclude: HashSet<u32> = history.iter().map(|h| h.idx).collect();
    personal(model, &history, k, offset, &exclude, &Blend::of(model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::{fixture, fixture_v2};

    fn ids(m: &Model, s: &[Scored]) -> Vec<String> {
        s.iter().map(|x| m.item_id(x.idx).to_owned()).collect()
    }

    fn hist(items: &[u32]) -> Vec<Interaction> {
        items
            .iter()
            .map(|&idx| Interaction { idx, weight: 1.0 })
            .collect()
    }

    #[test]
    fn empty_history_falls_back_to_popular() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let r = personal(&m, &[], 3, 0, &HashSet::new(), &Blend::default());
        assert_eq!(ids(&m, &r), ["mouse-1", "phone-1", "laptop-1"]);
        assert_eq!(r[0].reason, Reason::Popular);
    }

    #[test]
    fn a_laptop_history_ranks_the_other_laptop_first() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let exclude = HashSet::from([0]);
        let r = personal(&m, &hist(&[0]), 2, 0, &exclude, &Blend::default());
        assert_eq!(ids(&m, &r)[0], "laptop-2");
        assert_eq!(
            r[0].reason,
            Reason::Session {
                item: "laptop-1".into()
            }
        );
        // Embedding alone agrees (the factors put the laptops together).
        let emb_only = Blend {
            covisit: 0.0,
            popularity: 0.0,
            ..Blend::default()
        };
        let r = personal(&m, &hist(&[0]), 1, 0, &exclude, &emb_only);
        assert_eq!(ids(&m, &r), ["laptop-2"]);
    }

    #[test]
    fn recent_items_weigh_more() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let emb_only = Blend {
            covisit: 0.0,
            popularity: 0.0,
            recency: 0.1,
            ..Blend::default()
        };
        let exclude = HashSet::from([0, 2]);
        // Most recent: mouse (accessories) → the cable beats the gaming laptop.
        let r = personal(&m, &hist(&[2, 0]), 1, 0, &exclude, &emb_only);
        assert_eq!(ids(&m, &r), ["cable-1"]);
        let r = personal(&m, &hist(&[0, 2]), 1, 0, &exclude, &emb_only);
        assert_eq!(ids(&m, &r), ["laptop-2"]);
    }

    #[test]
    fn v1_models_use_covisitation_and_fill_with_popular() {
        let m = Model::load(fixture().encode().unwrap()).unwrap();
        let r = personal(
            &m,
            &hist(&[3]),
            4,
            0,
            &HashSet::from([3]),
            &Blend::default(),
        );
        assert_eq!(ids(&m, &r)[0], "mouse-1");
        assert_eq!(r.len(), 4);
        let r2 = personal(
            &m,
            &hist(&[3]),
            2,
            2,
            &HashSet::from([3]),
            &Blend::default(),
        );
        assert_eq!(ids(&m, &r2), ids(&m, &r)[2..]);
    }

    #[test]
    fn for_you_folds_in_the_context() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let r = for_you(&m, &["laptop-1".into(), "nope".into()], None, 2, 0);
        assert_eq!(ids(&m, &r)[0], "laptop-2");
        assert!(!ids(&m, &r).contains(&"laptop-1".to_owned()));
        let r = for_you(&m, &["nope".into()], None, 2, 0);
        assert_eq!(ids(&m, &r), ["mouse-1", "phone-1"]);
        // A category request starts with the category, then fills up with popular items.
        let r = for_you(&m, &[], Some("computers.notebook"), 5, 0);
        assert_eq!(ids(&m, &r)[..2], ["laptop-1", "laptop-2"]);
    }

    #[test]
    fn unknown_items_are_ignored() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        assert!(score_all(&m, &hist(&[99]), &Blend::default()).is_none());
    }

    #[test]
    fn blend_reads_from_meta() {
        let mut d = fixture_v2();
        d.meta
            .insert("blend".into(), serde_json::json!({"covisit": 0.25}));
        let m = Model::load(d.encode().unwrap()).unwrap();
        let b = Blend::of(&m);
        assert!((b.covisit - 0.25).abs() < f32::EPSILON);
        assert!((b.embedding - 1.0).abs() < f32::EPSILON);
    }
}
