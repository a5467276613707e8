//! The quality gate `publish` applies: a model whose holdout NDCG@10 is below the popularity
//! baseline, or more than 5% below the live model's — or whose next-click MRR@20 on the held-out
//! sessions is below its own co-visitation baseline's, or more than 5% below the live model's on
//! the same sessions — never goes live unless forced (and a forced publish is recorded next to
//! the model). A pure decision over manifests, so it is unit-tested without a store.

use serde::Serialize;
use shared::Manifest;

/// Largest allowed relative drop against the live model.
pub const MAX_DROP_VS_LIVE: f64 = 0.05;

/// What the gate decided, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass {
        reason: String,
    },
    Refuse {
        reason: String,
    },
    /// Nothing to judge by (no holdout evaluation in the manifest: too little data).
    Skipped {
        reason: String,
    },
}

impl Verdict {
    pub fn refused(&self) -> bool {
        matches!(self, Self::Refuse { .. })
    }

    pub fn reason(&self) -> &str {
        match self {
            Self::Pass { reason } | Self::Refuse { reason } | Self::Skipped { reason } => reason,
        }
    }
}

fn metric(m: &Manifest, key: &str) -> Option<f64> {
    m.metrics.get(key).and_then(serde_json::Value::as_f64)
}

/// Judges `candidate` against its own baseline and the `live` model, if any.
///
/// The live comparison prefers the live model scored on the candidate's own holdout (recorded by
/// `train` as `live_ndcg@10` with `live_version`); otherwise it falls back to the NDCG@10 in the
/// live model's manifest, measured on that model's holdout.
pub fn judge(candidate: &Manifest, live: Option<&Manifest>) -> Verdict {
    let shoppers = judge_shoppers(candidate, live);
    if shoppers.refused() {
        return shoppers;
    }
    match judge_sessions(candidate, live) {
        Some(Verdict::Refuse { reason }) => Verdict::Refuse { reason },
        Some(Verdict::Pass { reason }) => match shoppers {
            Verdict::Skipped { .. } => Verdict::Pass { reason },
            Verdict::Pass { reason: r } => Verdict::Pass {
                reason: format!("{r}; {reason}"),
            },
            refused @ Verdict::Refuse { .. } => refused,
        },
        _ => shoppers,
    }
}

/// The next-click part: `None` when the manifest has no session figures.
fn judge_sessions(candidate: &Manifest, live: Option<&Manifest>) -> Option<Verdict> {
    let mrr = metric(candidate, "session_mrr@20")?;
    if let Some(cov) = metric(candidate, "baseline_covisitation_session_mrr@20")
        && mrr < cov
    {
        return Some(Verdict::Refuse {
            reason: format!(
                "next-click MRR@20 {mrr:.4} is below the co-visitation baseline's {cov:.4}"
            ),
        });
    }
    let same = live
        .filter(|l| l.version != candidate.version)
        .is_some_and(|l| {
            candidate
                .metrics
                .get("live_version")
                .and_then(serde_json::Value::as_str)
                == Some(l.version.as_str())
        });
    if same
        && let Some(r) = metric(candidate, "live_session_mrr@20")
        && mrr < r * (1.0 - MAX_DROP_VS_LIVE)
    {
        return Some(Verdict::Refuse {
            reason: format!(
                "next-click MRR@20 {mrr:.4} is more than {:.0}% below the live model's {r:.4} on the same sessions",
                MAX_DROP_VS_LIVE * 100.0
            ),
        });
    }
    Some(Verdict::Pass {
        reason: format!("next-click MRR@20 {mrr:.4}"),
    })
}

/// The per-shopper part (NDCG@10 against popularity and the live model).
fn judge_shoppers(candidate: &Manifest, live: Option<&Manifest>) -> Verdict {
    let Some(ndcg) = metric(candidate, "ndcg@10") else {
        return Verdict::Skipped {
            reason: "the model has no holdout evaluation (too little data after the cutoff)".into(),
        };
    };
    if let Some(pop) = metric(candidate, "baseline_popularity_ndcg@10")
        && ndcg < pop
    {
        return Verdict::Refuse {
            reason: format!("NDCG@10 {ndcg:.4} is below the popularity baseline's {pop:.4}"),
        };
    }
    let live = live.filter(|l| l.version != candidate.version);
    let Some(live) = live else {
        return Verdict::Pass {
            reason: format!("NDCG@10 {ndcg:.4} beats the popularity baseline; no live model"),
        };
    };
    let same_holdout = candidate
        .metrics
        .get("live_version")
        .and_then(serde_json::Value::as_str)
        == Some(live.version.as_str());
    let (reference, how) = if same_holdout {
        (metric(candidate, "live_ndcg@10"), "on the same holdout")
    } else {
        (metric(live, "ndcg@10"), "on its own holdout")
    };
    match reference {
        Some(r) if ndcg < r * (1.0 - MAX_DROP_VS_LIVE) => Verdict::Refuse {
            reason: format!(
                "NDCG@10 {ndcg:.4} is more than {:.0}% below live model {}'s {r:.4} ({how})",
                MAX_DROP_VS_LIVE * 100.0,
                live.version
            ),
        },
        Some(r) => Verdict::Pass {
            reason: format!(
                "NDCG@10 {ndcg:.4} vs live model {}'s {r:.4} ({how}) and above popularity",
                live.version
            ),
        },
        None => Verdict::Pass {
            reason: format!(
                "NDCG@10 {ndcg:.4} beats popularity; live model {} has no figure to compare",
                live.version
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(version: &str, metrics: serde_json::Value) -> Manifest {
        Manifest {
            version: version.into(),
            format_version: 2,
            artifact: shared::lake::model_key(version),
            size: 1,
            crc32: 0,
            sha256: String::new(),
            created_at: 0,
            counts: serde_json::Map::new(),
            metrics: metrics.as_object().cloned().unwrap_or_default(),
        }
    }

    #[test]
    fn refuses_below_popularity() {
        let c = manifest(
            "v2",
            serde_json::json!({"ndcg@10": 0.01, "baseline_popularity_ndcg@10": 0.02}),
        );
        assert!(judge(&c, None).refused());
    }

    #[test]
    fn compares_with_live_on_the_same_holdout_when_it_can() {
        let live = manifest("v1", serde_json::json!({"ndcg@10": 0.5}));
        // Scored on the same holdout: 0.10 vs 0.104 is within 5%.
        let c = manifest(
            "v2",
            serde_json::json!({"ndcg@10": 0.10, "baseline_popularity_ndcg@10": 0.05,
                               "live_version": "v1", "live_ndcg@10": 0.104}),
        );
        assert!(!judge(&c, Some(&live)).refused());
        let c = manifest(
            "v2",
            serde_json::json!({"ndcg@10": 0.09, "baseline_popularity_ndcg@10": 0.05,
                               "live_version": "v1", "live_ndcg@10": 0.104}),
        );
        let v = judge(&c, Some(&live));
        assert!(v.refused(), "{v:?}");
        assert!(v.reason().contains("same holdout"));
        // Otherwise the live manifest's own figure.
        let c = manifest(
            "v2",
            serde_json::json!({"ndcg@10": 0.10, "baseline_popularity_ndcg@10": 0.05}),
        );
        assert!(judge(&c, Some(&live)).refused());
    }

    #[test]
    fn next_click_figures_are_judged_too() {
        let c = manifest(
            "c",
            json!({"ndcg@10": 0.2, "baseline_popularity_ndcg@10": 0.1,
                   "session_mrr@20": 0.1, "baseline_covisitation_session_mrr@20": 0.2}),
        );
        let v = judge(&c, None);
        assert!(v.refused() && v.reason().contains("co-visitation"), "{v:?}");
        let c = manifest(
            "c",
            json!({"ndcg@10": 0.2, "baseline_popularity_ndcg@10": 0.1, "live_version": "l",
                   "live_ndcg@10": 0.2, "session_mrr@20": 0.25, "live_session_mrr@20": 0.3,
                   "baseline_covisitation_session_mrr@20": 0.2}),
        );
        let live = manifest("l", json!({"ndcg@10": 0.2}));
        let v = judge(&c, Some(&live));
        assert!(v.refused() && v.reason().contains("same sessions"), "{v:?}");
        let c = manifest("c", json!({"session_mrr@20": 0.3}));
        assert!(
            matches!(judge(&c, None), Verdict::Pass { .. }),
            "sessions alone can pass"
        );
    }

    #[test]
    fn skips_without_an_evaluation() {
        let c = manifest("v2", serde_json::json!({}));
        assert!(matches!(judge(&c, None), Verdict::Skipped { .. }));
        // Republishing the live version never compares it with itself.
        let c = manifest(
            "v1",
            serde_json::json!({"ndcg@10": 0.1, "baseline_popularity_ndcg@10": 0.05}),
        );
        assert!(
            !judge(
                &c,
                Some(&manifest("v1", serde_json::json!({"ndcg@10": 0.9})))
            )
            .refused()
        );
    }
}
