//! The session model: what an anonymous shopper clicks next, from the clicks of their session.
//!
//! Three per-item neighbour lists learned from past sessions, each row scaled to a maximum of 1:
//! *knn* (session-kNN in the V-STAN form distilled into item → item: recent, short neighbour
//! sessions count most), *covisit* (items clicked within 20 steps after — and, at half weight,
//! before — the item, the item itself included), *rules* (sequential rules: what follows the item
//! within 10 steps). A request's prefix (its clicks, oldest first, repeats kept) reaches
//! candidates through the lists; each candidate gets [`N_FEATURES`] features — the three list
//! scores and ranks, whether and how often and how recently it is in the session (shoppers go
//! back to products: about a third of next clicks are repeats), popularity overall and lately,
//! a *two-hop* score (the neighbours of the best-reached items: a short session's lists alone
//! miss about a third of next clicks), and the list and two-hop scores again on a log scale (so
//! the linear score can multiply the lists' evidence instead of adding it) — and a linear score
//! whose weights the trainer learns each night on its most recent sessions (a softmax over each
//! case's candidates). The same code ranks in `trainer evaluate`, in the lake holdout and in the
//! worker.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Features per candidate.
pub const N_FEATURES: usize = 20;
/// Features of the weights stored before the two-hop feature: such weights still score (as the
/// model was measured when it was trained), without the two-hop candidates.
pub const N_FEATURES_ONE_HOP: usize = 15;
/// Features of the weights stored before the log-scaled list scores: such weights still score
/// with their 16 features (the two-hop candidates included).
pub const N_FEATURES_TWO_HOP: usize = 16;
/// How the log-scaled features spread a list score `x` in 0..=1: `ln(1 + c·x) / ln(1 + c)`.
/// Chosen on the validation split (the last tenth of the YooChoose and RetailRocket training
/// files): 20, 100 and 1,000 were tried, 100 won on both.
pub const LOG_SCALE: f32 = 100.0;
/// Feature names, in order (the trainer's logs and the artifact's meta use them).
pub const FEATURES: [&str; N_FEATURES] = [
    "knn",
    "knn_rank",
    "covisit",
    "covisit_rank",
    "rules",
    "in_session",
    "repeat_decay",
    "count_share",
    "is_last",
    "popularity",
    "popularity_recent",
    "in_session_per_length",
    "knn_x_in_session",
    "covisit_x_in_session",
    "last_seen_inverse",
    "two_hop",
    "log_knn",
    "log_covisit",
    "log_rules",
    "log_two_hop",
];
/// The index of the two-hop feature in [`FEATURES`].
const TWO_HOP: usize = 15;
/// Items whose own knn and co-visitation neighbours are reached in the second hop: the best
/// of the first hop by their normalised knn + co-visitation score.
pub const TWO_HOP_SEEDS: usize = 10;
/// Clicks of the prefix considered (the most recent).
pub const MAX_PREFIX: usize = 50;
/// Candidates taken from each list (by that list's score).
pub const PER_LIST: usize = 50;

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Knn,
    Covisit,
    Rules,
}

/// Where the lists and popularity come from: the loaded artifact at the edge, the trainer's
/// in-memory lists while it learns the weights.
pub trait Lists {
    fn n_items(&self) -> usize;
    /// Calls `f(neighbour, value)` for each entry of `item`'s row of `list` (values in 0..=1).
    fn each(&self, list: List, item: u32, f: &mut dyn FnMut(u32, f32));
    /// Popularity overall and lately, each in 0..=1.
    fn popularity(&self, item: u32) -> (f32, f32);
}

/// The scorer's settings and learned weights, stored in the artifact's meta under
/// `"session_model"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Weights {
    /// One weight per feature, in [`FEATURES`] order.
    pub w: Vec<f32>,
    /// Decay of the knn sum per step back in the prefix (`exp(−steps / knn_decay)`).
    pub knn_decay: f32,
    /// The same for the covisit sum.
    pub covisit_decay: f32,
}

impl Default for Weights {
    /// Hand-set weights for a model trained without enough sessions to learn them: list scores,
    /// a repeat bonus and a little popularity.
    fn default() -> Self {
        let mut w = vec![0.0; N_FEATURES];
        w[0] = 1.0;
        w[2] = 1.0;
        w[4] = 0.2;
        w[6] = 0.8;
        w[9] = 0.05;
        w[TWO_HOP] = 0.2;
        Self {
            w,
            knn_decay: 2.0,
            covisit_decay: 1.0,
        }
    }
}

impl Weights {
    /// Whether the weights can score (one per feature, or one per feature of an earlier
    /// version: before the log-scaled scores or before the two-hop feature; all finite, decays
    /// positive).
    pub fn usable(&self) -> bool {
        [N_FEATURES, N_FEATURES_TWO_HOP, N_FEATURES_ONE_HOP].contains(&self.w.len())
            && self.w.iter().all(|w| w.is_finite())
            && self.knn_decay > 0.0
            && self.covisit_decay > 0.0
    }
}

/// One candidate and its features.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub item: u32,
    pub x: [f32; N_FEATURES],
}

/// Per list, each reached item's position when the list's scores are sorted (ties to the lower
/// item), and the top [`PER_LIST`].
fn ranks(scores: &HashMap<u32, f32>) -> (HashMap<u32, usize>, Vec<u32>) {
    let mut v: Vec<(u32, f32)> = scores.iter().map(|(&i, &s)| (i, s)).collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = v.iter().take(PER_LIST).map(|x| x.0).collect();
    (
        v.iter().enumerate().map(|(r, &(i, _))| (i, r)).collect(),
        top,
    )
}

#[expect(clippy::cast_precision_loss, reason = "small counts and positions")]
fn f(x: usize) -> f32 {
    x as f32
}

/// The candidates of a prefix (clicked items, oldest first, repeats kept; only the last
/// [`MAX_PREFIX`] count) with their features.
pub fn candidates(lists: &dyn Lists, prefix: &[u32], weights: &Weights) -> Vec<Candidate> {
    let n = lists.n_items();
    let prefix: Vec<u32> = prefix
        .iter()
        .copied()
        .filter(|&i| (i as usize) < n)
        .collect();
    let prefix = &prefix[prefix.len().saturating_sub(MAX_PREFIX)..];
    let Some(&last) = prefix.last() else {
        return Vec::new();
    };
    let len = prefix.len();
    let mut knn: HashMap<u32, f32> = HashMap::new();
    let mut cov: HashMap<u32, f32> = HashMap::new();
    let mut rules: HashMap<u32, f32> = HashMap::new();
    for (p, &x) in prefix.iter().enumerate() {
        let back = f(len - 1 - p);
        let dk = (-back / weights.knn_decay).exp();
        let dc = (-back / weights.covisit_decay).exp();
        lists.each(List::Knn, x, &mut |j, v| {
            *knn.entry(j).or_default() += dk * v
        });
        lists.each(List::Covisit, x, &mut |j, v| {
            *cov.entry(j).or_default() += dc * v
        });
    }
    lists.each(List::Rules, last, &mut |j, v| {
        *rules.entry(j).or_default() += v
    });
    // In-session statistics.
    let mut count: HashMap<u32, (usize, usize, f32)> = HashMap::new();
    for (p, &x) in prefix.iter().enumerate() {
        let e = count.entry(x).or_insert((0, 0, 0.0));
        e.0 += 1;
        e.1 = p;
        e.2 += 0.5f32.powi(i32::try_from(len - 1 - p).unwrap_or(i32::MAX));
    }
    let (rk, top_k) = ranks(&knn);
    let (rc, top_c) = ranks(&cov);
    let (_, top_r) = ranks(&rules);
    let max = |m: &HashMap<u32, f32>| m.values().copied().fold(1e-12f32, f32::max);
    let (mk, mc, mr) = (max(&knn), max(&cov), max(&rules));
    let two = if weights.w.len() > TWO_HOP {
        two_hop(lists, &knn, mk, &cov, mc)
    } else {
        HashMap::new()
    };
    let (_, top_two) = ranks(&two);
    let m2 = max(&two);
    let mut items: Vec<u32> = top_k
        .into_iter()
        .chain(top_c)
        .chain(top_r)
        .chain(top_two)
        .chain(prefix.iter().copied())
        .collect();
    items.sort_unstable();
    items.dedup();
    let inv_len = 1.0 / f(len);
    items
        .into_iter()
        .map(|j| {
            let sk = knn.get(&j).copied().unwrap_or(0.0);
            let sc = cov.get(&j).copied().unwrap_or(0.0);
            let sr = rules.get(&j).copied().unwrap_or(0.0);
            let (cnt, at, rep) = count.get(&j).copied().unwrap_or((0, 0, 0.0));
            let in_s = if cnt > 0 { 1.0 } else { 0.0 };
            let rank = |r: &HashMap<u32, usize>, s: f32| {
                if s > 0.0 {
                    r.get(&j).map_or(0.0, |&r| 1.0 / f(r + 1))
                } else {
                    0.0
                }
            };
            let (pop, recent) = lists.popularity(j);
            let knn_n = sk / mk;
            let cov_n = sc / mc;
            let two_n = two.get(&j).copied().unwrap_or(0.0) / m2;
            Candidate {
                item: j,
                x: [
                    knn_n,
                    rank(&rk, sk),
                    cov_n,
                    rank(&rc, sc),
                    sr / mr,
                    in_s,
                    rep,
                    f(cnt) * inv_len,
                    if j == last { 1.0 } else { 0.0 },
                    pop,
                    recent,
                    in_s * inv_len,
                    knn_n * in_s,
                    cov_n * in_s,
                    if cnt > 0 { 1.0 / f(len - at) } else { 0.0 },
                    two_n,
                    lg(knn_n),
                    lg(cov_n),
                    lg(sr / mr),
                    lg(two_n),
                ],
            }
        })
        .collect()
}

/// A list score (0..=1) on a log scale (0..=1), [`LOG_SCALE`]: a linear score of it is a power
/// of the list score, so small scores are told apart and the lists combine as a product.
fn lg(x: f32) -> f32 {
    (LOG_SCALE * x).ln_1p() / (LOG_SCALE + 1.0).ln()
}

/// The second hop: the knn and co-visitation neighbours of the [`TWO_HOP_SEEDS`] items the first
/// hop reached best, each weighted by its seed's normalised score.
fn two_hop(
    lists: &dyn Lists,
    knn: &HashMap<u32, f32>,
    mk: f32,
    cov: &HashMap<u32, f32>,
    mc: f32,
) -> HashMap<u32, f32> {
    let mut first: HashMap<u32, f32> = HashMap::new();
    for (&j, &v) in knn {
        *first.entry(j).or_default() += v / mk;
    }
    for (&j, &v) in cov {
        *first.entry(j).or_default() += v / mc;
    }
    let mut seeds: Vec<(u32, f32)> = first.into_iter().collect();
    seeds.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut two: HashMap<u32, f32> = HashMap::new();
    for &(j, s) in seeds.iter().take(TWO_HOP_SEEDS) {
        for list in [List::Knn, List::Covisit] {
            lists.each(list, j, &mut |k, v| *two.entry(k).or_default() += s * v);
        }
    }
    two
}

/// A candidate's score under `weights` (weights stored before a feature existed leave it out).
pub fn score(c: &Candidate, weights: &Weights) -> f32 {
    c.x.iter().zip(&weights.w).map(|(x, w)| x * w).sum()
}

/// The scored candidates of a prefix (unsorted): what the edge ranks and filters.
pub fn scores(lists: &dyn Lists, prefix: &[u32], weights: &Weights) -> Vec<(u32, f32)> {
    candidates(lists, prefix, weights)
        .iter()
        .map(|c| (c.item, score(c, weights)))
        .collect()
}

/// The best `k` next items for a prefix, best first, ties to the lower index; only candidates
/// are ranked (fewer than `k` when few are reached).
pub fn rank(lists: &dyn Lists, prefix: &[u32], weights: &Weights, k: usize) -> Vec<u32> {
    let mut s = scores(lists, prefix, weights);
    s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    s.into_iter().take(k).map(|x| x.0).collect()
}

/// Lists held in memory (the trainer, while it learns the weights; tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OwnedLists {
    pub knn: Vec<Vec<(u32, f32)>>,
    pub covisit: Vec<Vec<(u32, f32)>>,
    pub rules: Vec<Vec<(u32, f32)>>,
    /// Per item: popularity overall and lately, 0..=1.
    pub popularity: Vec<(f32, f32)>,
}

/// A popularity in 0..=1 as the artifact stores it: one byte.
pub fn popularity_byte(v: f32) -> u8 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "clamped to 0..=255"
    )]
    let q = (v * 255.0).round().clamp(0.0, 255.0) as u8;
    q
}

/// The popularity a stored byte stands for.
pub fn popularity_of_byte(b: u8) -> f32 {
    f32::from(b) / 255.0
}

impl OwnedLists {
    /// These lists as a loaded artifact reads them (4-bit score levels, one-byte popularity,
    /// index order): what the edge ranks on, so an offline evaluation measures exactly that.
    pub fn as_stored(&self) -> Result<Self, crate::lists::ListError> {
        let n = self.popularity.len();
        let byte = |v: f32| popularity_of_byte(popularity_byte(v));
        Ok(Self {
            knn: crate::lists::as_stored(&self.knn, n, crate::lists::SESSION_BITS)?,
            covisit: crate::lists::as_stored(&self.covisit, n, crate::lists::SESSION_BITS)?,
            rules: crate::lists::as_stored(&self.rules, n, crate::lists::SESSION_BITS)?,
            popularity: self
                .popularity
                .iter()
                .map(|&(a, b)| (byte(a), byte(b)))
                .collect(),
        })
    }
}

impl Lists for OwnedLists {
    fn n_items(&self) -> usize {
        self.popularity.len()
    }

    fn each(&self, list: List, item: u32, f: &mut dyn FnMut(u32, f32)) {
        let rows = match list {
            List::Knn => &self.knn,
            List::Covisit => &self.covisit,
            List::Rules => &self.rules,
        };
        for &(j, v) in rows.get(item as usize).into_iter().flatten() {
            f(j, v);
        }
    }

    fn popularity(&self, item: u32) -> (f32, f32) {
        self.popularity
            .get(item as usize)
            .copied()
            .unwrap_or((0.0, 0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> OwnedLists {
        // 0 → 1 strongly in every list; 2 is popular; 3 only through rules.
        OwnedLists {
            knn: vec![vec![(1, 1.0), (0, 0.5)], vec![(0, 1.0)], vec![], vec![]],
            covisit: vec![vec![(1, 1.0)], vec![(0, 1.0), (2, 0.2)], vec![], vec![]],
            rules: vec![vec![(3, 1.0), (1, 0.5)], vec![], vec![], vec![]],
            popularity: vec![(0.2, 0.2), (0.3, 0.1), (1.0, 1.0), (0.0, 0.0)],
        }
    }

    fn one_hop() -> Weights {
        let mut w = Weights::default();
        w.w.truncate(N_FEATURES_ONE_HOP);
        w
    }

    #[test]
    fn candidates_come_from_the_lists_and_the_session() {
        let l = lists();
        let c = candidates(&l, &[0], &one_hop());
        let items: Vec<u32> = c.iter().map(|c| c.item).collect();
        assert_eq!(items, [0, 1, 3], "2 is reached by no list of 0");
        let one = &c[1];
        assert_eq!(one.x[0], 1.0, "knn normalised by the best");
        assert_eq!(one.x[1], 1.0, "first in knn");
        assert_eq!(one.x[5], 0.0, "not in the session");
        let zero = &c[0];
        assert_eq!((zero.x[5], zero.x[8], zero.x[14]), (1.0, 1.0, 1.0));
        assert!(candidates(&l, &[], &Weights::default()).is_empty());
        assert!(
            candidates(&l, &[99], &Weights::default()).is_empty(),
            "unknown items"
        );
    }

    #[test]
    fn weights_decide_between_repeats_and_discovery() {
        let l = lists();
        let discover = Weights::default();
        assert_eq!(rank(&l, &[0], &discover, 2), [1, 0]);
        let mut repeat = Weights::default();
        repeat.w[5] = 5.0;
        assert_eq!(rank(&l, &[0], &repeat, 1), [0]);
        let bad = Weights {
            w: vec![1.0; 3],
            ..Weights::default()
        };
        assert!(!bad.usable() && Weights::default().usable());
    }

    #[test]
    fn the_second_hop_reaches_the_neighbours_of_neighbours() {
        let l = lists();
        let c = candidates(&l, &[0], &Weights::default());
        let items: Vec<u32> = c.iter().map(|c| c.item).collect();
        assert_eq!(items, [0, 1, 2, 3], "2 is a co-visitation neighbour of 1");
        let two: Vec<f32> = c.iter().map(|c| c.x[TWO_HOP]).collect();
        // Seeds: 1 (knn 1 + covisit 1) and 0 (knn 0.5). Reached: 0 through both lists of 1 and
        // the knn list of 0 (2·1 + 2·1 + 0.5·0.5), 1 through both lists of 0, 2 through 1's
        // co-visitation list (2·0.2), 3 not at all.
        let best = 4.25;
        assert_eq!(two, [1.0, 1.0 / best, 0.4 / best, 0.0]);
        assert!(
            one_hop().usable(),
            "weights stored before the second hop still score"
        );
        let old = rank(&l, &[0], &one_hop(), 10);
        assert!(!old.contains(&2), "and rank without it: {old:?}");
    }

    #[test]
    fn log_features_spread_small_list_scores_and_older_weights_ignore_them() {
        let l = lists();
        let c = candidates(&l, &[0], &Weights::default());
        for c in &c {
            for (raw, log) in [(0, 16), (2, 17), (4, 18), (TWO_HOP, 19)] {
                let (x, y) = (c.x[raw], c.x[log]);
                assert!((0.0..=1.0).contains(&y) && (x == 0.0) == (y == 0.0) && y >= x);
            }
        }
        assert!((lg(1.0) - 1.0).abs() < 1e-6 && lg(0.0) == 0.0);
        assert!(lg(0.01) > 0.14 && lg(0.01) < 0.16, "{}", lg(0.01));
        // Weights stored with 16 features score as they did, whatever the log features hold.
        let mut sixteen = Weights::default();
        sixteen.w.truncate(N_FEATURES_TWO_HOP);
        assert!(sixteen.usable());
        let mut more = Weights::default();
        more.w[16..].fill(3.0);
        for c in &c {
            let plain: f32 = c.x[..16].iter().zip(&sixteen.w).map(|(x, w)| x * w).sum();
            assert!((score(c, &sixteen) - plain).abs() < 1e-6);
            let logs: f32 = c.x[16..].iter().map(|x| 3.0 * x).sum();
            assert!((score(c, &more) - plain - logs).abs() < 1e-5);
        }
    }

    #[test]
    fn a_long_session_counts_its_last_clicks() {
        let l = lists();
        let mut prefix = vec![2u32; 80];
        prefix.push(0);
        let c = candidates(&l, &prefix, &Weights::default());
        let two = c.iter().find(|c| c.item == 2).unwrap();
        assert!((two.x[7] - 49.0 / 50.0).abs() < 1e-6, "49 of the last 50");
    }
}
