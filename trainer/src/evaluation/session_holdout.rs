//! Next-click evaluation on the lake, beside the per-shopper holdout: the sessions that began
//! after the cutoff are held out, and at every click of each the models trained before the
//! cutoff rank the next one (full ranking, session items included, the item on screen left out
//! as the edge does) — Vitrine's session model
//! (what the edge serves a shopper in an active session), session-kNN fitted on the sessions
//! before the cutoff, co-visitation alone, and the live model on the same clicks. HR@20 and
//! MRR@20 go to the manifest, where the quality gate reads them.

use std::collections::HashSet;

use serde::Serialize;
use shared::personal::{Blend, Interaction, personal};
use shared::session_model::MAX_PREFIX;
use shared::time::DAY_MS;
use shared::{EventType, Model};

use crate::evaluation::next_click::SessionKnn;
use crate::model::interactions::Interactions;
use crate::parallel;

/// Most held-out next clicks scored (taken evenly).
pub const MAX_CASES: usize = 20_000;
/// Most sessions before the cutoff session-kNN is fitted on (the most recent).
pub const MAX_KNN_SESSIONS: usize = 500_000;

/// Sessions on both sides of the cutoff, as item ids in click order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionSplit {
    /// Before the cutoff, in the order they began (the most recent [`MAX_KNN_SESSIONS`]).
    pub before: Vec<Vec<String>>,
    /// Begun at or after it.
    pub after: Vec<Vec<String>>,
}

/// One model's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionFigures {
    pub model: String,
    #[serde(rename = "hr@20")]
    pub hr20: f64,
    #[serde(rename = "mrr@20")]
    pub mrr20: f64,
    pub cases: usize,
}

/// Groups the clicks (views, cart adds, recommendation clicks: what the session model learns
/// from and the edge ranks from) into sessions by session id, in time order, and splits them at
/// `cutoff` by when they began; the sessions before keep only their clicks before the cutoff,
/// and only the [`MAX_KNN_SESSIONS`] most recent of them are kept (all session-kNN is fitted
/// on), so ids are copied out for a bounded number of sessions whatever the lake's size.
///
/// Rows in time order (compaction writes them so) are grouped from a window before the cutoff
/// only, widened until it holds enough sessions: a session that began inside the window has all
/// its clicks there, one with clicks before it began earlier and is left out, so the result is
/// the same as grouping every click, for a few days' keys instead of the whole lake's.
pub fn split(ix: &Interactions, cutoff: i64) -> SessionSplit {
    split_keeping(ix, cutoff, MAX_KNN_SESSIONS)
}

/// [`split`], keeping the `keep` most recent sessions before the cutoff.
fn split_keeping(ix: &Interactions, cutoff: i64, keep: usize) -> SessionSplit {
    let sorted = ix.ts.is_sorted();
    if sorted {
        let mut days = 2i64;
        loop {
            let since = cutoff.saturating_sub(days.saturating_mul(DAY_MS));
            let first = ix.ts.partition_point(|&t| t < since);
            if let Some(s) = split_from(ix, cutoff, first, sorted, keep) {
                return s;
            }
            days = days.saturating_mul(2);
        }
    }
    split_from(ix, cutoff, 0, sorted, keep).unwrap_or_default()
}

fn is_click(ix: &Interactions, r: usize) -> bool {
    matches!(
        ix.kind[r],
        EventType::View | EventType::AddToCart | EventType::RecClick
    )
}

/// [`split_keeping`] over the clicks from row `first` on; `None` when `first > 0` and fewer than
/// `keep` sessions began between it and the cutoff (the window is too short).
fn split_from(
    ix: &Interactions,
    cutoff: i64,
    first: usize,
    sorted: bool,
    keep: usize,
) -> Option<SessionSplit> {
    let clicks = (first..ix.len())
        .filter(|&r| is_click(ix, r))
        .filter_map(|r| u32::try_from(r).ok());
    let phase = std::time::Instant::now();
    // (session hash, row), in (session, time) order.
    let keys: Vec<(u64, u32)> = if sorted {
        // Row order is time order: (session, row) is (session, time) order, and the small keys
        // sort on every core, in place.
        let mut keys: Vec<(u64, u32)> = clicks.map(|r| (ix.session[r as usize], r)).collect();
        parallel::sort_unstable_bucketed(&mut keys, |k| k.0.to_be_bytes()[0]);
        keys
    } else {
        let mut rows: Vec<u32> = clicks.collect();
        rows.sort_unstable_by_key(|&r| (ix.session[r as usize], ix.ts[r as usize], r));
        rows.into_iter()
            .map(|r| (ix.session[r as usize], r))
            .collect()
    };
    // (began, first key, end key) per session: cut on the key, not on a column read at random.
    let mut sessions: Vec<(i64, usize, usize)> = Vec::new();
    let mut start = 0;
    for group in keys.chunk_by(|a, b| a.0 == b.0) {
        sessions.push((ix.ts[group[0].1 as usize], start, start + group.len()));
        start += group.len();
    }
    if first > 0 {
        // Sessions with clicks before the window began before it: left out.
        let inside: HashSet<u64> = sessions.iter().map(|s| keys[s.1].0).collect();
        // A 2 MB bitmap of the inside hashes' low bits turns most rows away before the set.
        const BITS: u64 = 1 << 24;
        let slot = |h: u64| {
            let b = h % BITS;
            (usize::try_from(b / 64).unwrap_or(0), b % 64)
        };
        let mut bitmap = vec![0u64; 1 << 18];
        for &h in &inside {
            let (word, bit) = slot(h);
            bitmap[word] |= 1u64 << bit;
        }
        let maybe = |h: u64| {
            let (word, bit) = slot(h);
            bitmap[word] & (1u64 << bit) != 0
        };
        let ranges: Vec<(usize, usize)> = (0..first)
            .step_by(1 << 20)
            .map(|a| (a, (a + (1 << 20)).min(first)))
            .collect();
        let earlier: HashSet<u64> = parallel::map_chunks(&ranges, 1, |part| {
            part.iter()
                .flat_map(|&(a, b)| a..b)
                .filter(|&r| {
                    let h = ix.session[r];
                    maybe(h) && is_click(ix, r) && inside.contains(&h)
                })
                .map(|r| ix.session[r])
                .collect::<Vec<u64>>()
        })
        .into_iter()
        .flatten()
        .collect();
        sessions.retain(|s| !earlier.contains(&keys[s.1].0));
        if sessions.iter().filter(|s| s.0 < cutoff).count() < keep {
            return None;
        }
    }
    tracing::debug!(
        clicks = keys.len(),
        sessions = sessions.len(),
        seconds = phase.elapsed().as_secs_f64(),
        "session holdout: clicks grouped"
    );
    // By when they began; keys are in session-hash order, so ties fall the same way whatever
    // the window.
    sessions.sort_unstable();
    let before = sessions.partition_point(|s| s.0 < cutoff);
    let ids = |&(began, from, to): &(i64, usize, usize)| -> Vec<String> {
        keys[from..to]
            .iter()
            .map(|&(_, r)| r as usize)
            .filter(|&r| began >= cutoff || ix.ts[r] < cutoff)
            .map(|r| ix.item_id(ix.item[r]).to_owned())
            .collect()
    };
    Some(SessionSplit {
        before: sessions[before.saturating_sub(keep)..before]
            .iter()
            .map(ids)
            .collect(),
        after: sessions[before..]
            .iter()
            .filter(|s| s.2 - s.1 >= 2)
            .map(ids)
            .collect(),
    })
}

fn indices(model: &Model, ids: &[String]) -> Vec<Option<u32>> {
    ids.iter().map(|id| model.item_index(id)).collect()
}

/// Every held-out next click (at most [`MAX_CASES`], evenly): prefix (its last
/// [`MAX_PREFIX`] clicks) and target, in `model`'s indices (a click on an item the model does
/// not know cannot be predicted and is skipped). Cases are chosen before prefixes are built, so
/// a very long session costs no more memory than its sampled cases.
fn cases(model: &Model, after: &[Vec<String>]) -> Vec<(Vec<u32>, u32)> {
    let total: usize = after.iter().map(|s| s.len().saturating_sub(1)).sum();
    let step = total.div_ceil(MAX_CASES).max(1);
    let mut all = Vec::new();
    let mut k = 0usize;
    for s in after {
        let mut idx: Option<Vec<Option<u32>>> = None;
        for cut in 1..s.len() {
            k += 1;
            if !(k - 1).is_multiple_of(step) {
                continue;
            }
            let idx = idx.get_or_insert_with(|| indices(model, s));
            let Some(target) = idx[cut] else { continue };
            let known: Vec<u32> = idx[..cut].iter().flatten().copied().collect();
            let prefix = known[known.len().saturating_sub(MAX_PREFIX)..].to_vec();
            if !prefix.is_empty() {
                all.push((prefix, target));
            }
        }
    }
    all
}

/// HR@20 and MRR@20 of `rank` over `cases`, the cases spread over every core.
fn score(
    name: &str,
    cases: &[(Vec<u32>, u32)],
    rank: impl Fn(&[u32]) -> Vec<u32> + Sync,
) -> SessionFigures {
    let phase = std::time::Instant::now();
    let parts = parallel::map_chunks(cases, 256, |part| {
        let (mut hr, mut mrr) = (0.0, 0.0);
        for (prefix, target) in part {
            // As served: the item on screen (the last click) is not offered again.
            let ranked = rank(prefix);
            let served = ranked.iter().filter(|&x| Some(x) != prefix.last()).take(20);
            if let Some(r) = served.into_iter().position(|x| x == target) {
                hr += 1.0;
                #[expect(clippy::cast_precision_loss, reason = "rank < 20")]
                {
                    mrr += 1.0 / (r + 1) as f64;
                }
            }
        }
        (hr, mrr)
    });
    let (hr, mrr) = parts
        .into_iter()
        .fold((0.0, 0.0), |(h, m), (a, b)| (h + a, m + b));
    tracing::debug!(
        model = name,
        seconds = phase.elapsed().as_secs_f64(),
        "session holdout: scored"
    );
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let d = cases.len().max(1) as f64;
    SessionFigures {
        model: name.to_owned(),
        hr20: hr / d,
        mrr20: mrr / d,
        cases: cases.len(),
    }
}

/// The session model's ranking (or, for a model without one, its fold-in + co-visitation).
fn vitrine(model: &Model, prefix: &[u32]) -> Vec<u32> {
    match model.session_lists() {
        Some(lists) => shared::session_model::rank(&lists, prefix, model.session_weights(), 21),
        None => {
            let hist: Vec<Interaction> = prefix
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            personal(model, &hist, 21, 0, &HashSet::new(), &Blend::of(model))
                .into_iter()
                .map(|s| s.idx)
                .collect()
        }
    }
}

/// Scores the candidate (trained before the cutoff), the baselines and the live model on the
/// held-out sessions' next clicks.
pub fn evaluate(model: &Model, split: &SessionSplit, live: Option<&Model>) -> Vec<SessionFigures> {
    let cases = cases(model, &split.after);
    if cases.is_empty() {
        return Vec::new();
    }
    let n = model.n_items();
    let recent = &split.before[split.before.len().saturating_sub(MAX_KNN_SESSIONS)..];
    let train: Vec<Vec<u32>> = recent
        .iter()
        .map(|s| indices(model, s).into_iter().flatten().collect())
        .collect();
    let phase = std::time::Instant::now();
    let knn = SessionKnn::fit(&train, n);
    tracing::debug!(
        sessions = train.len(),
        seconds = phase.elapsed().as_secs_f64(),
        "session holdout: session-kNN fitted"
    );
    let covisit_only = Blend {
        embedding: 0.0,
        covisit: 1.0,
        popularity: 0.0,
        ..Blend::default()
    };
    let mut out = vec![
        score("vitrine", &cases, |p| vitrine(model, p)),
        score("session_knn", &cases, |p| knn.rank(p, n, 21)),
        score("covisitation", &cases, |p| {
            let hist: Vec<Interaction> = p
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            personal(model, &hist, 21, 0, &HashSet::new(), &covisit_only)
                .into_iter()
                .map(|s| s.idx)
                .collect()
        }),
    ];
    if let Some(live) = live {
        // The live model has its own item indices: map the clicks by id.
        let live_cases: Vec<(Vec<u32>, u32)> = cases
            .iter()
            .filter_map(|(p, t)| {
                let target = live.item_index(model.item_id(*t))?;
                let prefix: Vec<u32> = p
                    .iter()
                    .filter_map(|&i| live.item_index(model.item_id(i)))
                    .collect();
                (!prefix.is_empty()).then_some((prefix, target))
            })
            .collect();
        let mut f = score(&format!("live:{}", live.version()), &live_cases, |p| {
            vitrine(live, p)
        });
        // Clicks the live model cannot see count as misses, so both are on the same cases.
        #[expect(clippy::cast_precision_loss, reason = "counts")]
        let share = live_cases.len() as f64 / cases.len().max(1) as f64;
        f.hr20 *= share;
        f.mrr20 *= share;
        f.cases = cases.len();
        out.push(f);
    }
    out
}

/// The figures keyed for the manifest's `metrics`.
pub fn manifest_metrics(figures: &[SessionFigures]) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for f in figures {
        let (hr, mrr) = match f.model.as_str() {
            "vitrine" => {
                m.insert("session_cases".into(), f.cases.into());
                ("session_hr@20".to_owned(), "session_mrr@20".to_owned())
            }
            "session_knn" | "covisitation" => (
                format!("baseline_{}_session_hr@20", f.model),
                format!("baseline_{}_session_mrr@20", f.model),
            ),
            _ if f.model.starts_with("live:") => (
                "live_session_hr@20".to_owned(),
                "live_session_mrr@20".to_owned(),
            ),
            _ => continue,
        };
        m.insert(hr, f.hr20.into());
        m.insert(mrr, f.mrr20.into());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows `(ts, kind, session, item)` as interactions.
    fn interactions(rows: &[(i64, EventType, u64, u32)]) -> Interactions {
        let mut ix = Interactions::default();
        ix.items = ["a", "b", "c", "d"].map(str::to_owned).to_vec();
        for &(ts, kind, session, item) in rows {
            ix.ts.push(ts);
            ix.kind.push(kind);
            ix.shopper.push(0);
            ix.session.push(session);
            ix.item.push(item);
            ix.quantity.push(1);
        }
        ix
    }

    #[test]
    fn regression_a_purchase_is_not_a_next_click_and_nothing_after_the_cutoff_trains() {
        use EventType::{AddToCart, Purchase, View};
        let ix = interactions(&[
            (1, View, 1, 0),
            (2, View, 1, 1),
            // Session 1 goes on past the cutoff (100): that click is not training data.
            (150, View, 1, 3),
            (200, View, 2, 2),
            (201, AddToCart, 2, 2),
            (202, Purchase, 2, 2),
            (203, View, 2, 3),
        ]);
        let s = split(&ix, 100);
        assert_eq!(s.before, [["a", "b"]]);
        assert_eq!(s.after, [["c", "c", "d"]]);
    }

    #[test]
    fn a_window_before_the_cutoff_splits_as_all_clicks_do() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        // 20 days of clicks in time order; most sessions last minutes, some run for days (they
        // began before any short window and must not be taken as recent).
        let mut rng = StdRng::seed_from_u64(11);
        let mut rows = Vec::new();
        for session in 0..4_000u64 {
            let began = rng.random_range(0..20 * DAY_MS);
            let long = session % 50 == 0;
            for _ in 0..rng.random_range(1..6) {
                let after = if long {
                    rng.random_range(0..6 * DAY_MS)
                } else {
                    rng.random_range(0..1_800_000)
                };
                let kind = if rng.random_range(0..10) == 0 {
                    EventType::Purchase
                } else {
                    EventType::View
                };
                rows.push((began + after, kind, session * 7_919, rng.random_range(0..4)));
            }
        }
        rows.sort_by_key(|r| r.0);
        let ix = interactions(&rows);
        let cutoff = 19 * DAY_MS;
        for keep in [10, 100, 1_000, 100_000] {
            let all = split_from(&ix, cutoff, 0, true, keep).unwrap();
            assert_eq!(split_keeping(&ix, cutoff, keep), all, "keep {keep}");
            if keep <= 1_000 {
                assert_eq!(all.before.len(), keep);
            }
        }
        assert!(!split(&ix, cutoff).after.is_empty());
    }
}
