//! The session model's lists, built from sessions (each a list of item indices in click order,
//! repeats kept; sessions in chronological order): *knn* (session-kNN in the V-STAN form,
//! distilled per item: the most recent sessions holding the item, weighted by recency and
//! shortness, vote for their items), *covisit* (items within 20 clicks after, and at half weight
//! before, decaying with distance, the item itself included) and *rules* (items within 10 clicks
//! after, weight `1/distance`), plus popularity overall and over the most recent tenth of the
//! sessions. Rows are cut to their best entries and scaled to a maximum of 1
//! (`shared::session_model` reads them that way). Pair counting runs in shards of items so
//! memory stays bounded, the shards and knn on every core.

use std::collections::HashMap;

use shared::session_model::OwnedLists;

use crate::parallel;

/// Sizes and windows of the lists. The defaults were chosen on validation sessions (the last 10%
/// of the RetailRocket and YooChoose training files) among list budgets of at most 80 neighbours
/// per item; see docs/benchmarks.md.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    /// Entries kept per item.
    pub knn: usize,
    pub covisit: usize,
    pub rules: usize,
    /// Most recent sessions holding an item that knn considers.
    pub knn_sample: usize,
    /// Of those, the best this many vote.
    pub knn_neighbours: usize,
    /// How far forward covisit counts; backward pairs count `covisit_back` as much.
    pub covisit_window: usize,
    pub covisit_back: f32,
    pub rules_window: usize,
}

impl Default for ListParams {
    fn default() -> Self {
        Self {
            knn: 30,
            covisit: 30,
            rules: 20,
            knn_sample: 5000,
            knn_neighbours: 400,
            covisit_window: 20,
            covisit_back: 0.5,
            rules_window: 10,
        }
    }
}

/// Most pair contributions held at once per shard (12 bytes each).
const SHARD_PAIRS: usize = 32 << 20;

/// Best `keep` of a row (ties to the lower item), scaled to a maximum of 1.
fn top(mut row: Vec<(u32, f32)>, keep: usize) -> Vec<(u32, f32)> {
    row.retain(|e| e.1 > 0.0 && e.1.is_finite());
    row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    row.truncate(keep);
    if let Some(max) = row.first().map(|e| e.1) {
        for e in &mut row {
            e.1 /= max;
        }
    }
    row
}

/// Pairs `(from, to, weight)` of every session, reduced per `from` to its best `keep`: items in
/// shards of rows so at most [`SHARD_PAIRS`] contributions are held.
fn pair_lists(
    sessions: &[Vec<u32>],
    n: usize,
    keep: usize,
    shard_pairs: usize,
    pairs: impl Fn(&[u32], &mut dyn FnMut(u32, u32, f32)) + Sync,
) -> Vec<Vec<(u32, f32)>> {
    // Contributions per row, to size shards: at least one shard per core, none over the bound.
    let mut per_row = vec![0usize; n];
    for s in sessions {
        pairs(s, &mut |a, _, _| per_row[a as usize] += 1);
    }
    let total: usize = per_row.iter().sum();
    let shard_pairs = shard_pairs.min(total.div_ceil(parallel::threads()).max(1));
    let mut shards: Vec<(usize, usize)> = Vec::new();
    let (mut lo, mut held) = (0usize, 0usize);
    for (i, &c) in per_row.iter().enumerate() {
        if held + c > shard_pairs && i > lo {
            shards.push((lo, i));
            lo = i;
            held = 0;
        }
        held += c;
    }
    shards.push((lo, n));
    let pairs = &pairs;
    // Each shard's rows are computed alone, so the lists do not depend on the cut.
    let shard = |lo: usize, hi: usize| -> Vec<(u32, Vec<(u32, f32)>)> {
        let mut triples: Vec<(u32, u32, f32)> = Vec::new();
        for s in sessions {
            pairs(s, &mut |a, b, w| {
                if (lo..hi).contains(&(a as usize)) {
                    triples.push((a, b, w));
                }
            });
        }
        // Stable: equal pairs are summed in session order, whatever the shard size.
        triples.sort_by_key(|t| (t.0, t.1));
        let mut rows = Vec::new();
        let mut row: Vec<(u32, f32)> = Vec::new();
        let mut at = 0;
        while at < triples.len() {
            let a = triples[at].0;
            row.clear();
            while at < triples.len() && triples[at].0 == a {
                let b = triples[at].1;
                let mut w = 0.0;
                while at < triples.len() && triples[at].0 == a && triples[at].1 == b {
                    w += triples[at].2;
                    at += 1;
                }
                row.push((b, w));
            }
            rows.push((a, top(std::mem::take(&mut row), keep)));
        }
        rows
    };
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    for rows in parallel::map_chunks(&shards, 1, |group| {
        group
            .iter()
            .flat_map(|&(lo, hi)| shard(lo, hi))
            .collect::<Vec<_>>()
    }) {
        for (a, row) in rows {
            out[a as usize] = row;
        }
    }
    out
}

/// Covisit: forward within the window (`exp(−(d − 1))`), backward at `back` of that.
pub fn covisit(sessions: &[Vec<u32>], n: usize, p: &ListParams) -> Vec<Vec<(u32, f32)>> {
    let (window, back) = (p.covisit_window, p.covisit_back);
    pair_lists(sessions, n, p.covisit, SHARD_PAIRS, move |s, emit| {
        for d in 1..=window.min(s.len().saturating_sub(1)) {
            #[expect(clippy::cast_precision_loss, reason = "small distances")]
            let w = (-((d - 1) as f32)).exp();
            for q in 0..s.len() - d {
                let (a, b) = (s[q], s[q + d]);
                emit(a, b, w);
                emit(b, a, back * w);
            }
        }
    })
}

/// Rules: forward within the window, `1/d`.
pub fn rules(sessions: &[Vec<u32>], n: usize, p: &ListParams) -> Vec<Vec<(u32, f32)>> {
    let window = p.rules_window;
    pair_lists(sessions, n, p.rules, SHARD_PAIRS, move |s, emit| {
        for d in 1..=window.min(s.len().saturating_sub(1)) {
            #[expect(clippy::cast_precision_loss, reason = "small distances")]
            let w = 1.0 / d as f32;
            for q in 0..s.len() - d {
                emit(s[q], s[q + d], w);
            }
        }
    })
}

/// Each session's distinct items, sorted.
pub fn distinct_items(sessions: &[Vec<u32>]) -> Vec<Vec<u32>> {
    sessions
        .iter()
        .map(|s| {
            let mut v = s.clone();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect()
}

/// Knn (V-STAN distilled): for item `i`, the last `knn_sample` sessions holding it, each weighted
/// `exp(−(N − n)/N) / sqrt(|S_n|)` (recent and short first); the best `knn_neighbours` vote for
/// their items, each vote times `1 + 0.5 · ln(N / clicks_j)`.
pub fn knn(
    sessions: &[Vec<u32>],
    n: usize,
    clicks: &[f32],
    p: &ListParams,
) -> Vec<Vec<(u32, f32)>> {
    let distinct = distinct_items(sessions);
    #[expect(clippy::cast_precision_loss, reason = "session counts")]
    let total = distinct.len().max(1) as f32;
    let sim: Vec<f32> = distinct
        .iter()
        .enumerate()
        .map(|(i, s)| {
            #[expect(clippy::cast_precision_loss, reason = "session counts")]
            let age = (total - i as f32) / total;
            (-age).exp() / (s.len().max(1) as f32).sqrt()
        })
        .collect();
    let idf: Vec<f32> = clicks
        .iter()
        .map(|&c| 1.0 + 0.5 * (total / c.max(1.0)).ln().max(0.0))
        .collect();
    let mut holding: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (sid, s) in distinct.iter().enumerate() {
        for &i in s {
            holding[i as usize].push(u32::try_from(sid).unwrap_or(u32::MAX));
        }
    }
    let chunk = n.div_ceil(parallel::threads()).max(1);
    let mut out: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
    std::thread::scope(|scope| {
        let handles: Vec<_> = out
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, rows)| {
                let (distinct, sim, idf, holding) = (&distinct, &sim, &idf, &holding);
                scope.spawn(move || {
                    let mut acc: HashMap<u32, f32> = HashMap::new();
                    for (r, row) in rows.iter_mut().enumerate() {
                        let item = c * chunk + r;
                        let sessions = &holding[item];
                        let recent = &sessions[sessions.len().saturating_sub(p.knn_sample)..];
                        let mut nbrs: Vec<(f32, u32)> =
                            recent.iter().map(|&sid| (sim[sid as usize], sid)).collect();
                        let by_sim = |a: &(f32, u32), b: &(f32, u32)| {
                            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
                        };
                        if nbrs.len() > p.knn_neighbours {
                            nbrs.select_nth_unstable_by(p.knn_neighbours, by_sim);
                            nbrs.truncate(p.knn_neighbours);
                        }
                        acc.clear();
                        for (s, sid) in nbrs {
                            for &j in &distinct[sid as usize] {
                                *acc.entry(j).or_default() += s;
                            }
                        }
                        let scored = acc
                            .iter()
                            .map(|(&j, &v)| (j, v * idf[j as usize]))
                            .collect();
                        *row = top(scored, p.knn);
                    }
                })
            })
            .collect();
        for h in handles {
            if let Err(panic) = h.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    out
}

/// `ln(1 + c) / ln(1 + max c)` per item.
fn scaled_log(counts: &[f32]) -> Vec<f32> {
    let max = counts
        .iter()
        .copied()
        .fold(0.0f32, f32::max)
        .ln_1p()
        .max(1e-9);
    counts.iter().map(|c| c.ln_1p() / max).collect()
}

/// Every list and popularity, from `sessions` (chronological) over `n` items.
pub fn build(sessions: &[Vec<u32>], n: usize, p: &ListParams) -> OwnedLists {
    let mut clicks = vec![0.0f32; n];
    let mut recent = vec![0.0f32; n];
    let from = sessions.len() - sessions.len() / 10;
    for (k, s) in sessions.iter().enumerate() {
        for &i in s {
            if let Some(c) = clicks.get_mut(i as usize) {
                *c += 1.0;
                if k >= from {
                    recent[i as usize] += 1.0;
                }
            }
        }
    }
    let sessions: Vec<Vec<u32>> = sessions
        .iter()
        .map(|s| s.iter().copied().filter(|&i| (i as usize) < n).collect())
        .collect();
    OwnedLists {
        knn: knn(&sessions, n, &clicks, p),
        covisit: covisit(&sessions, n, p),
        rules: rules(&sessions, n, p),
        popularity: scaled_log(&clicks)
            .into_iter()
            .zip(scaled_log(&recent))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_follow_the_sessions() {
        // 0 → 1 → 2 over and over; 3 is bought alone; 4 only ever follows 3 once.
        let mut sessions: Vec<Vec<u32>> = (0..20).map(|_| vec![0, 1, 2]).collect();
        sessions.push(vec![3, 4]);
        sessions.push(vec![3]);
        let l = build(&sessions, 5, &ListParams::default());
        assert_eq!(l.rules[0][0], (1, 1.0), "1 follows 0 right away");
        assert_eq!(l.rules[0][1].0, 2);
        assert!(
            (l.rules[0][1].1 - 0.5).abs() < 1e-6,
            "2 follows at distance 2"
        );
        assert!(l.rules[2].is_empty(), "nothing follows 2");
        assert_eq!(l.covisit[2][0].0, 1, "backward pairs count too");
        assert!(l.knn[0].iter().any(|e| e.0 == 2) && l.knn[0].iter().all(|e| e.0 != 4));
        assert_eq!(l.knn[3].iter().map(|e| e.0).collect::<Vec<_>>().len(), 2);
        assert_eq!(l.popularity[0].0, 1.0);
        assert!(l.popularity[4].0 < l.popularity[0].0);
        for row in l.knn.iter().chain(&l.covisit).chain(&l.rules) {
            assert!(row.first().is_none_or(|e| e.1 == 1.0), "rows scaled to 1");
        }
    }

    #[test]
    fn shards_give_the_same_lists() {
        let sessions: Vec<Vec<u32>> = (0..200u32)
            .map(|k| vec![k % 7, (k * 3) % 11, k % 5])
            .collect();
        let p = ListParams::default();
        let whole = covisit(&sessions, 11, &p);
        // A few contributions per shard: many shards.
        let tiny = pair_lists(&sessions, 11, p.covisit, 3, |s, emit| {
            for d in 1..s.len() {
                #[expect(clippy::cast_precision_loss, reason = "test")]
                let w = (-((d - 1) as f32)).exp();
                for q in 0..s.len() - d {
                    emit(s[q], s[q + d], w);
                    emit(s[q + d], s[q], 0.5 * w);
                }
            }
        });
        // Sums in another order: the same neighbours, weights equal up to rounding.
        assert_eq!(whole.len(), tiny.len());
        for (a, b) in whole.iter().zip(&tiny) {
            let mut a = a.clone();
            let mut b = b.clone();
            a.sort_by_key(|e| e.0);
            b.sort_by_key(|e| e.0);
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.0, y.0);
                assert!((x.1 - y.1).abs() < 1e-5, "{x:?} {y:?}");
            }
        }
    }
}
