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
use shared::{EventType, Model};

use crate::evaluation::next_click::SessionKnn;
use crate::model::interactions::Interactions;

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
pub fn split(ix: &Interactions, cutoff: i64) -> SessionSplit {
    let mut rows: Vec<u32> = (0..ix.len())
        .filter(|&r| {
            matches!(
                ix.kind[r],
                EventType::View | EventType::AddToCart | EventType::RecClick
            )
        })
        .filter_map(|r| u32::try_from(r).ok())
        .collect();
    let key = |r: u32| (ix.session[r as usize], ix.ts[r as usize], r);
    rows.sort_unstable_by_key(|&r| key(r));
    // (began, first row, end row) per session, in `rows`.
    let mut sessions: Vec<(i64, usize, usize)> = Vec::new();
    let mut start = 0;
    for group in rows.chunk_by(|&a, &b| ix.session[a as usize] == ix.session[b as usize]) {
        sessions.push((ix.ts[group[0] as usize], start, start + group.len()));
        start += group.len();
    }
    sessions.sort_by_key(|s| s.0);
    let before = sessions.partition_point(|s| s.0 < cutoff);
    let ids = |&(began, from, to): &(i64, usize, usize)| -> Vec<String> {
        rows[from..to]
            .iter()
            .map(|&r| r as usize)
            .filter(|&r| began >= cutoff || ix.ts[r] < cutoff)
            .map(|r| ix.item_id(ix.item[r]).to_owned())
            .collect()
    };
    SessionSplit {
        before: sessions[before.saturating_sub(MAX_KNN_SESSIONS)..before]
            .iter()
            .map(ids)
            .collect(),
        after: sessions[before..]
            .iter()
            .filter(|s| s.2 - s.1 >= 2)
            .map(ids)
            .collect(),
    }
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

fn score(
    name: &str,
    cases: &[(Vec<u32>, u32)],
    mut rank: impl FnMut(&[u32]) -> Vec<u32>,
) -> SessionFigures {
    let (mut hr, mut mrr) = (0.0, 0.0);
    for (prefix, target) in cases {
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
    let knn = SessionKnn::fit(&train, n);
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
}
