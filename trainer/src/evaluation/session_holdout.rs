//! Next-click evaluation on the lake, beside the per-shopper holdout: the sessions that began
//! after the cutoff are held out, and at every click of each the models trained before the
//! cutoff rank the next one (full ranking, session items included) — Vitrine's session model
//! (what the edge serves a shopper in an active session), session-kNN fitted on the sessions
//! before the cutoff, co-visitation alone, and the live model on the same clicks. HR@20 and
//! MRR@20 go to the manifest, where the quality gate reads them.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use shared::Model;
use shared::personal::{Blend, Interaction, personal};

use crate::evaluation::next_click::SessionKnn;
use crate::model::interactions::Interactions;

/// Most held-out next clicks scored (taken evenly).
pub const MAX_CASES: usize = 20_000;
/// Most sessions before the cutoff session-kNN is fitted on (the most recent).
pub const MAX_KNN_SESSIONS: usize = 500_000;

/// Sessions on both sides of the cutoff, as item ids in click order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionSplit {
    /// Before the cutoff, in the order they began.
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

/// Groups the interactions into sessions (by session id, in time order) and splits them at
/// `cutoff` by when they began.
pub fn split(ix: &Interactions, cutoff: i64) -> SessionSplit {
    let mut rows: Vec<usize> = (0..ix.len()).collect();
    rows.sort_unstable_by_key(|&r| (ix.session[r], ix.ts[r], r));
    let mut sessions: Vec<(i64, Vec<String>)> = Vec::new();
    for group in rows.chunk_by(|&a, &b| ix.session[a] == ix.session[b]) {
        let began = ix.ts[group[0]];
        let items = group
            .iter()
            .map(|&r| ix.item_id(ix.item[r]).to_owned())
            .collect();
        sessions.push((began, items));
    }
    sessions.sort_by_key(|s| s.0);
    let mut out = SessionSplit::default();
    for (began, items) in sessions {
        if began < cutoff {
            out.before.push(items);
        } else if items.len() >= 2 {
            out.after.push(items);
        }
    }
    out
}

fn indices(model: &Model, ids: &[String]) -> Vec<Option<u32>> {
    ids.iter().map(|id| model.item_index(id)).collect()
}

/// Every held-out next click (at most [`MAX_CASES`], evenly): prefix and target, in `model`'s
/// indices (a click on an item the model does not know cannot be predicted and is skipped).
fn cases(model: &Model, after: &[Vec<String>]) -> Vec<(Vec<u32>, u32)> {
    let mut all = Vec::new();
    for s in after {
        let idx = indices(model, s);
        for cut in 1..idx.len() {
            let Some(target) = idx[cut] else { continue };
            let prefix: Vec<u32> = idx[..cut].iter().flatten().copied().collect();
            if !prefix.is_empty() {
                all.push((prefix, target));
            }
        }
    }
    let step = all.len().div_ceil(MAX_CASES).max(1);
    all.into_iter().step_by(step).collect()
}

fn score(
    name: &str,
    cases: &[(Vec<u32>, u32)],
    mut rank: impl FnMut(&[u32]) -> Vec<u32>,
) -> SessionFigures {
    let (mut hr, mut mrr) = (0.0, 0.0);
    for (prefix, target) in cases {
        if let Some(r) = rank(prefix).iter().take(20).position(|x| x == target) {
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
        Some(lists) => shared::session_model::rank(&lists, prefix, model.session_weights(), 20),
        None => {
            let hist: Vec<Interaction> = prefix
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            personal(model, &hist, 20, 0, &HashSet::new(), &Blend::of(model))
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
        score("session_knn", &cases, |p| knn.rank(p, n, 20)),
        score("covisitation", &cases, |p| {
            let hist: Vec<Interaction> = p
                .iter()
                .rev()
                .map(|&idx| Interaction { idx, weight: 1.0 })
                .collect();
            personal(model, &hist, 20, 0, &HashSet::new(), &covisit_only)
                .into_iter()
                .map(|s| s.idx)
                .collect()
        }),
    ];
    if let Some(live) = live {
        // The live model has its own item indices: map the clicks by id.
        let ids: HashMap<u32, &str> = (0..u32::try_from(n).unwrap_or(0))
            .map(|i| (i, model.item_id(i)))
            .collect();
        let live_cases: Vec<(Vec<u32>, u32)> = cases
            .iter()
            .filter_map(|(p, t)| {
                let target = live.item_index(ids[t])?;
                let prefix: Vec<u32> = p.iter().filter_map(|i| live.item_index(ids[i])).collect();
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
