//! Personal scoring: a shopper's recent history (known history plus the current session) folded
//! into a user vector and blended with co-visitation and popularity.
//!
//! This one function ranks for the edge on every request and for the trainer's offline
//! evaluation, so the figures in `docs/benchmarks.md` describe what shoppers get.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::factors::fold_in;
use crate::filter::{Allow, FilterSpec};
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

/// Most popular items considered as candidates when the catalog has an IVF index.
const POPULAR_CANDIDATES: usize = 1000;

/// Scores accumulated per item, remembering which items were touched so large catalogs are
/// ranked from their candidates only.
struct Acc {
    score: Vec<f32>,
    touched: Vec<u32>,
}

impl Acc {
    fn new(n: usize) -> Self {
        Self {
            score: vec![0.0; n],
            touched: Vec::new(),
        }
    }

    /// Adds `weight · value / max` for each `(item, value)`.
    fn add(&mut self, weight: f32, values: &[(u32, f32)]) {
        let max = values.iter().map(|v| v.1).fold(0.0f32, f32::max);
        if max <= 0.0 || weight <= 0.0 {
            return;
        }
        for &(i, v) in values {
            let Some(s) = self.score.get_mut(i as usize) else {
                continue;
            };
            if v == 0.0 {
                continue;
            }
            if *s == 0.0 {
                self.touched.push(i);
            }
            *s += weight * v / max;
        }
    }

    fn finish(self) -> Vec<(u32, f32)> {
        let mut touched = self.touched;
        touched.sort_unstable();
        touched.dedup();
        touched
            .into_iter()
            .map(|i| (i, self.score[i as usize]))
            .collect()
    }
}

/// The three signals for one history, before blending: what [`mix`] combines. Computing them
/// once and mixing many blends is how the trainer tunes the blend cheaply.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    pub embedding: Vec<(u32, f32)>,
    pub covisit: Vec<(u32, f32)>,
    pub popularity: Vec<(u32, f32)>,
    n: usize,
}

/// The signals for a history under `blend`'s recency and history length (its weights only
/// decide which signals are computed: a zero weight skips one). `None` when the history names
/// no known item.
///
/// Candidates are every item for small catalogs; with an IVF index, the items of the probed
/// clusters, the history's co-visitation neighbours and the most popular items.
pub fn signals(model: &Model, history: &[Interaction], blend: &Blend) -> Option<Signals> {
    let n = model.n_items();
    let hist = weigh(history, blend, n);
    if hist.is_empty() {
        return None;
    }
    let mut out = Signals {
        n,
        ..Signals::default()
    };
    let mut sparse = false;
    if let Some(f) = model.factors().filter(|_| blend.embedding > 0.0)
        && let Some(x) = fold_weighted(&f, &hist)
    {
        out.embedding = match f.candidates(&x, None) {
            Some(candidates) => {
                sparse = true;
                candidates
                    .into_iter()
                    .map(|i| (i, f.score(&x, i)))
                    .collect()
            }
            None => (0..n as u32).map(|i| (i, f.score(&x, i))).collect(),
        };
    }
    if blend.covisit > 0.0 {
        let mut cov: HashMap<u32, f32> = HashMap::new();
        for &(h, w) in &hist {
            model.each_linked(h, &mut |j, s| *cov.entry(j).or_default() += w * s);
        }
        out.covisit = cov.into_iter().collect();
        out.covisit.sort_unstable_by_key(|c| c.0);
    }
    if blend.popularity > 0.0 {
        out.popularity = if sparse || model.factors().is_some_and(|f| f.ivf_nprobe().is_some()) {
            model
                .popular()
                .take(POPULAR_CANDIDATES)
                .map(|i| (i, model.popularity(i)))
                .collect()
        } else {
            (0..n as u32).map(|i| (i, model.popularity(i))).collect()
        };
    }
    Some(out)
}

fn fold_weighted(f: &crate::artifact::Factors<'_>, hist: &[(u32, f32)]) -> Option<Vec<f32>> {
    let rows: Vec<(Vec<f32>, f32)> = hist.iter().map(|&(i, w)| (f.item_vector(i), w)).collect();
    fold_in(
        f.k(),
        f.gram(),
        rows.iter().map(|(v, w)| (v.as_slice(), *w)),
        f.fold_in_params(),
    )
}

/// The shopper's taste: their weighted history folded into the embedding space (`None` without
/// factors or a known item). Search uses it to lift what this shopper likes.
pub fn taste(model: &Model, history: &[Interaction], blend: &Blend) -> Option<Vec<f32>> {
    let f = model.factors()?;
    let hist = weigh(history, blend, model.n_items());
    if hist.is_empty() {
        return None;
    }
    fold_weighted(&f, &hist)
}

/// Blends signals: each normalised by its maximum over the candidates, weighted, summed.
pub fn mix(s: &Signals, blend: &Blend) -> Vec<(u32, f32)> {
    let mut acc = Acc::new(s.n);
    acc.add(blend.embedding, &s.embedding);
    acc.add(blend.covisit, &s.covisit);
    acc.add(blend.popularity, &s.popularity);
    acc.finish()
}

/// Blended scores of the candidate items for a history; `None` when the history names no
/// known item.
pub fn score_all(model: &Model, history: &[Interaction], blend: &Blend) -> Option<Vec<(u32, f32)>> {
    signals(model, history, blend).map(|s| mix(&s, blend))
}

/// Items of the `top` best positive scores, best first, skipping `exclude`; ties go to the lower
/// index.
pub fn top_k(scores: &[(u32, f32)], top: usize, exclude: &dyn Allow) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = scores
        .iter()
        .copied()
        .filter(|&(i, s)| exclude.allows(i) && s.is_finite() && s > 0.0)
        .collect();
    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if v.len() > top {
        v.select_nth_unstable_by(top, cmp);
        v.truncate(top);
    }
    v.sort_unstable_by(cmp);
    v
}

/// A filter that also refuses items already picked.
struct Taken<'a> {
    inner: &'a dyn Allow,
    taken: HashSet<u32>,
}

impl Allow for Taken<'_> {
    fn allows(&self, idx: u32) -> bool {
        !self.taken.contains(&idx) && self.inner.allows(idx)
    }
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
    exclude: &dyn Allow,
    blend: &Blend,
) -> Vec<Scored> {
    let Some(scores) = score_all(model, history, blend) else {
        return crate::recommend::popular(model, None, k, offset, exclude);
    };
    rank_scores(model, &scores, history, blend, k, offset, exclude)
}

/// Ranks blended scores: the best `k` after `offset`, none from `exclude`, each explained by the
/// history item most related to it, filled up with popular items when short.
pub fn rank_scores(
    model: &Model,
    scores: &[(u32, f32)],
    history: &[Interaction],
    blend: &Blend,
    k: usize,
    offset: usize,
    exclude: &dyn Allow,
) -> Vec<Scored> {
    let hist = weigh(history, blend, model.n_items());
    let ranked = top_k(scores, k + offset, exclude);
    let mut out: Vec<Scored> = ranked
        .into_iter()
        .map(|(idx, score)| {
            let because = explain(model, idx, &hist);
            Scored {
                idx,
                score,
                reason: Reason::Session {
                    item: model.item_id(because).to_owned(),
                },
            }
        })
        .collect();
    if out.len() < k + offset {
        let taken = Taken {
            inner: exclude,
            taken: out.iter().map(|s| s.idx).collect(),
        };
        let fill = crate::recommend::popular(model, None, k + offset - out.len(), 0, &taken);
        out.extend(fill);
    }
    out.into_iter().skip(offset).collect()
}

/// What a for-you list is ranked from: ranking inputs only (the edge turns a request and the
/// shopper's session into these; the trainer builds them from its evaluation cases).
#[derive(Debug, Clone)]
pub struct ForYou<'a> {
    /// Items the shopper is looking at or just saw, most recent first; unknown ids are ignored.
    pub context: &'a [String],
    /// The shopper's live session history, most recent first (`SessionState::history`).
    pub history: Vec<Interaction>,
    /// The shopper's active session, oldest first (`SessionState::current_session`): when the
    /// model has a session model, what it ranks from.
    pub session: Vec<u32>,
    /// Items bought in the active session (`SessionState::bought_in_session`): never offered
    /// again by the session model.
    pub session_bought: Vec<u32>,
    /// Items the shopper bought; left out when `exclude_purchased`.
    pub purchased: Vec<u32>,
    pub filter: &'a FilterSpec,
    pub exclude_purchased: bool,
    pub k: usize,
    pub offset: usize,
    /// The list is a pool for diversity: the session model keeps its last third for popular
    /// items beyond the session's reach, so there are other categories to spread across.
    pub breadth: bool,
}

/// The for-you list the edge serves. A shopper in an active session (or looking at items) gets
/// the session model (`crate::session_model`, when the artifact has one): the session's clicks
/// and the context items rank the next items, session items included (shoppers go back to
/// them), the items on screen left out. Otherwise the history is folded in and blended with the
/// model's tuned weights; popular items (in the filter's category, when given) when there is no
/// usable history.
pub fn for_you(model: &Model, input: &ForYou<'_>) -> Vec<Scored> {
    for_you_with(model, input, Some(&Blend::of(model)), None)
}

/// [`for_you`] ranked with `blend` (an A/B variant's strategy); `None` ranks by popularity alone
/// (the control arm), with the same filters and exclusions; what `hidden` does not allow (the
/// merchandising hide rules) is left out too.
pub fn for_you_with<'m>(
    model: &'m Model,
    input: &ForYou<'_>,
    blend: Option<&Blend>,
    hidden: Option<&'m dyn Allow>,
) -> Vec<Scored> {
    let history: Vec<Interaction> = input
        .context
        .iter()
        .filter_map(|id| model.item_index(id))
        .map(|idx| Interaction { idx, weight: 1.0 })
        .chain(input.history.iter().copied())
        .collect();
    let spec = input.filter;
    let mut filter = spec.resolve(model);
    if let Some(r) = hidden {
        filter.hide(r);
    }
    filter.exclude(history.iter().map(|h| h.idx));
    if input.exclude_purchased {
        filter.exclude(input.purchased.iter().copied());
    }
    if let (Some(b), Some(lists)) = (blend, model.session_lists()) {
        let on_screen: Vec<u32> = input
            .context
            .iter()
            .filter_map(|id| model.item_index(id))
            .collect();
        if !input.session.is_empty() || !on_screen.is_empty() {
            // The session, then the items on screen (oldest first) that are not already its
            // last clicks: the product page being viewed is usually the session's last view.
            let mut prefix = input.session.clone();
            for &i in on_screen.iter().rev() {
                if !prefix[prefix.len().saturating_sub(on_screen.len())..].contains(&i) {
                    prefix.push(i);
                }
            }
            let mut filter = spec.resolve(model);
            if let Some(r) = hidden {
                filter.hide(r);
            }
            filter.exclude(on_screen.iter().copied());
            filter.exclude(input.session_bought.iter().copied());
            if input.exclude_purchased {
                filter.exclude(input.purchased.iter().copied());
            }
            let scores = positive(crate::session_model::scores(
                &lists,
                &prefix,
                model.session_weights(),
            ));
            let want = input.k + input.offset;
            let own = if input.breadth { want - want / 3 } else { want };
            let mut ranked = rank_scores(model, &scores, &history, b, own, 0, &filter);
            ranked.retain(|s| matches!(s.reason, Reason::Session { .. }));
            if ranked.len() < want {
                // The session reaches few items (or few pass the filter): popular ones follow,
                // scored below the last session item, so a page is always full and diversity
                // has other categories to pick from.
                filter.exclude(ranked.iter().map(|s| s.idx));
                let floor = ranked.last().map_or(1.0, |s| s.score) * 0.5;
                let fill = crate::recommend::popular(
                    model,
                    spec.category.as_deref(),
                    want - ranked.len(),
                    0,
                    &filter,
                );
                #[expect(clippy::cast_precision_loss, reason = "page positions")]
                ranked.extend(fill.into_iter().enumerate().map(|(r, mut s)| {
                    s.score = floor / (2 + r) as f32;
                    s
                }));
            }
            return ranked.into_iter().skip(input.offset).collect();
        }
    }
    match blend {
        Some(b) if !history.is_empty() => {
            personal(model, &history, input.k, input.offset, &filter, b)
        }
        _ => crate::recommend::popular(
            model,
            spec.category.as_deref(),
            input.k,
            input.offset,
            &filter,
        ),
    }
}

/// The session model's scores moved to positive values in the same order (`exp(s − max)`): its
/// learned weights have no zero point, and [`top_k`] keeps positive scores only.
fn positive(mut scores: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    let max = scores
        .iter()
        .map(|s| s.1)
        .filter(|s| s.is_finite())
        .fold(f32::NEG_INFINITY, f32::max);
    for s in &mut scores {
        s.1 = if s.1.is_finite() {
            (s.1 - max).exp().max(f32::MIN_POSITIVE)
        } else {
            0.0
        };
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::{fixture, fixture_v2};
    use crate::session::SessionState;

    /// A for-you input with no session.
    fn input<'a>(context: &'a [String], filter: &'a FilterSpec, k: usize) -> ForYou<'a> {
        ForYou {
            context,
            history: Vec::new(),
            session: Vec::new(),
            session_bought: Vec::new(),
            purchased: Vec::new(),
            filter,
            exclude_purchased: false,
            k,
            offset: 0,
            breadth: false,
        }
    }

    fn ids(m: &Model, s: &[Scored]) -> Vec<String> {
        s.iter().map(|x| m.item_id(x.idx).to_owned()).collect()
    }

    fn cat(c: &str) -> FilterSpec {
        FilterSpec {
            category: Some(c.into()),
            ..FilterSpec::default()
        }
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

    /// The v2 fixture with session lists (laptop-1 → laptop-2, then mouse-1) and weights under
    /// which every candidate scores below zero.
    fn with_session_model() -> Model {
        use crate::session_model::{N_FEATURES, OwnedLists, Weights};
        let mut data = fixture_v2();
        let mut w = vec![0.0; N_FEATURES];
        w[0] = 1.0;
        w[9] = -5.0;
        data.meta.insert(
            "session_model".into(),
            serde_json::to_value(Weights {
                w,
                ..Weights::default()
            })
            .unwrap(),
        );
        data.session = Some(OwnedLists {
            knn: vec![vec![(1, 1.0), (2, 0.5)], vec![], vec![], vec![], vec![]],
            covisit: vec![vec![]; 5],
            rules: vec![vec![]; 5],
            popularity: vec![(1.0, 1.0); 5],
        });
        Model::load(data.encode().unwrap()).unwrap()
    }

    fn touch(kind: crate::EventType, item: &str, ts: i64) -> crate::session::Touch {
        crate::session::Touch {
            event_id: format!("e{ts}"),
            kind,
            item_id: item.into(),
            ts,
            quantity: 1,
        }
    }

    #[test]
    fn regression_session_scores_below_zero_are_still_served() {
        let m = with_session_model();
        let any = FilterSpec::default();
        let mut i = input(&[], &any, 2);
        i.session = vec![0];
        let r = for_you(&m, &i);
        assert_eq!(ids(&m, &r), ["laptop-2", "mouse-1"]);
        assert!(r.iter().all(|s| s.score > 0.0 && s.score.is_finite()));
    }

    #[test]
    fn regression_an_item_bought_in_the_session_is_not_offered_again() {
        let m = with_session_model();
        let mut state = SessionState::default();
        state.add([
            touch(crate::EventType::View, "laptop-1", 1),
            touch(crate::EventType::View, "laptop-2", 2),
            touch(crate::EventType::Purchase, "laptop-2", 3),
        ]);
        assert_eq!(state.current_session(&m, 4), [0, 1]);
        assert_eq!(state.bought_in_session(&m, 4), [1]);
        let any = FilterSpec::default();
        let mut i = input(&[], &any, 3);
        i.session = state.current_session(&m, 4);
        i.session_bought = state.bought_in_session(&m, 4);
        let r = for_you(&m, &i);
        assert!(!r.is_empty());
        assert!(
            !ids(&m, &r).contains(&"laptop-2".to_owned()),
            "{:?}",
            ids(&m, &r)
        );
    }

    #[test]
    fn regression_a_session_that_reaches_few_items_still_fills_the_page() {
        let m = with_session_model();
        let any = FilterSpec::default();
        let mut i = input(&[], &any, 4);
        i.session = vec![0];
        let r = for_you(&m, &i);
        // laptop-2 and mouse-1 from the session, then popular items below them.
        assert_eq!(ids(&m, &r)[..2], ["laptop-2", "mouse-1"]);
        assert_eq!(r.len(), 4);
        assert!(r.windows(2).all(|w| w[0].score > w[1].score), "{r:?}");
        // A page further on continues the same list.
        i.offset = 2;
        i.k = 2;
        assert_eq!(ids(&m, &for_you(&m, &i)), ids(&m, &r)[2..]);
    }

    #[test]
    fn the_item_on_screen_is_not_counted_twice() {
        let m = with_session_model();
        let any = FilterSpec::default();
        let context = ["laptop-1".to_owned()];
        let mut twice = input(&context, &any, 2);
        twice.session = vec![0];
        let mut once = input(&[], &any, 2);
        once.session = vec![0];
        // Same ranking as the session alone, minus the item on screen.
        assert_eq!(ids(&m, &for_you(&m, &twice)), ids(&m, &for_you(&m, &once)));
    }

    #[test]
    fn for_you_folds_in_the_session_history() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let mut state = SessionState::default();
        state.add([crate::session::Touch {
            event_id: "e1".into(),
            kind: crate::EventType::View,
            item_id: "laptop-1".into(),
            ts: 1,
            quantity: 1,
        }]);
        let any = FilterSpec::default();
        let mut i = input(&[], &any, 2);
        i.history = state.history(&m);
        let r = for_you(&m, &i);
        assert_eq!(ids(&m, &r)[0], "laptop-2");
        assert_eq!(
            r[0].reason,
            Reason::Session {
                item: "laptop-1".into()
            }
        );
    }

    #[test]
    fn the_control_arm_ranks_by_popularity_with_the_same_filters() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let context = ["laptop-1".to_owned()];
        let any = FilterSpec::default();
        let q = input(&context, &any, 2);
        let control = for_you_with(&m, &q, None, None);
        assert_eq!(ids(&m, &control), ["mouse-1", "phone-1"]);
        assert!(control.iter().all(|s| s.reason == Reason::Popular));
        let knn = crate::ab::Strategy::ItemKnn.blend(&m).unwrap();
        let r = for_you_with(&m, &q, Some(&knn), None);
        let neighbours: Vec<u32> = m.co_view(0).chain(m.co_buy(0)).map(|x| x.0).collect();
        assert!(
            neighbours.contains(&r[0].idx),
            "item-kNN ranks a co-visited item first"
        );
        assert!(matches!(r[0].reason, Reason::Session { .. }));
    }

    #[test]
    fn for_you_folds_in_the_context() {
        let m = Model::load(fixture_v2().encode().unwrap()).unwrap();
        let r = for_you(
            &m,
            &input(
                &["laptop-1".into(), "nope".into()],
                &FilterSpec::default(),
                2,
            ),
        );
        assert_eq!(ids(&m, &r)[0], "laptop-2");
        assert!(!ids(&m, &r).contains(&"laptop-1".to_owned()));
        let r = for_you(&m, &input(&["nope".into()], &FilterSpec::default(), 2));
        assert_eq!(ids(&m, &r), ["mouse-1", "phone-1"]);
        // A category request shows only that category, personal or popular.
        let r = for_you(&m, &input(&[], &cat("computers.notebook"), 5));
        assert_eq!(ids(&m, &r), ["laptop-1", "laptop-2"]);
        let r = for_you(
            &m,
            &input(&["mouse-1".into()], &cat("computers.notebook"), 5),
        );
        assert_eq!(ids(&m, &r).len(), 2);
        assert!(ids(&m, &r).iter().all(|id| id.starts_with("laptop")));
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
