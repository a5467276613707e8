//! The last step of every widget: merchandising rules (boost, pin) and diversity, then paging.
//!
//! Rankers return their best candidates; when the request asks for diversity or rules reorder,
//! they are asked for a larger pool first, then this module re-ranks it: boosted scores, greedy
//! maximal marginal relevance (MMR) over category and brand so `diversity=1` spreads a list across
//! categories and brands while `diversity=0` keeps the ranker's order, and pinned items placed
//! at their positions.

use crate::artifact::Model;
use crate::recommend::{Reason, Scored};
use crate::rules::Active;

/// How a widget's list is finished.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a, 'm> {
    /// 0 (pure relevance) to 1 (most spread across categories and brands).
    pub diversity: f32,
    pub rules: Option<&'a Active<'m>>,
}

impl Shape<'_, '_> {
    /// No diversity, no rules.
    pub const PLAIN: Shape<'static, 'static> = Shape {
        diversity: 0.0,
        rules: None,
    };

    fn reorders(&self) -> bool {
        self.diversity > 0.0 || self.rules.is_some_and(Active::reorders)
    }

    /// How many candidates to rank for `wanted` results.
    pub fn pool(&self, wanted: usize) -> usize {
        if self.reorders() {
            (wanted * 3).max(wanted + 20)
        } else {
            wanted
        }
    }
}

/// Runs `rank(k, offset)` and finishes its list: the one entry point handlers use.
pub fn shaped(
    model: &Model,
    k: usize,
    offset: usize,
    shape: Shape<'_, '_>,
    rank: impl FnOnce(usize, usize) -> Vec<Scored>,
) -> Vec<Scored> {
    if !shape.reorders() {
        return rank(k, offset);
    }
    let pool = rank(shape.pool(k + offset), 0);
    finish(model, pool, k + offset, shape)
        .into_iter()
        .skip(offset)
        .take(k)
        .collect()
}

/// Similarity of two items for diversity: same category 0.7, same brand 0.3.
fn similarity(model: &Model, a: u32, b: u32) -> f32 {
    let mut s = 0.0;
    if model.item_category(a).is_some() && model.item_category(a) == model.item_category(b) {
        s += 0.7;
    }
    let brand = model.item_brand(a);
    if !brand.is_empty() && brand == model.item_brand(b) {
        s += 0.3;
    }
    s
}

/// Re-ranks a candidate pool (best first) into `n` results.
pub fn finish(model: &Model, mut pool: Vec<Scored>, n: usize, shape: Shape<'_, '_>) -> Vec<Scored> {
    if let Some(rules) = shape.rules {
        for s in &mut pool {
            if let Some((factor, rule)) = rules.boost(s.idx) {
                s.score *= factor;
                s.reason = Reason::Rule {
                    rule: rule.to_owned(),
                };
            }
        }
        pool.sort_by(|a, b| b.score.total_cmp(&a.score));
    }
    // Pinned items the ranker returned (so the widget may show them) leave the pool and are
    // placed afterwards.
    let mut pinned: Vec<(Scored, usize)> = Vec::new();
    if let Some(rules) = shape.rules {
        for (idx, position, rule) in rules.pins() {
            if let Some(at) = pool.iter().position(|s| s.idx == idx) {
                let mut s = pool.remove(at);
                s.reason = Reason::Rule {
                    rule: rule.to_owned(),
                };
                pinned.push((s, position));
            }
        }
    }
    let lambda = shape.diversity.clamp(0.0, 1.0);
    let mut out: Vec<Scored> = if lambda > 0.0 && pool.len() > 1 {
        mmr(model, pool, n, lambda)
    } else {
        pool.truncate(n);
        pool
    };
    for (s, position) in pinned {
        let to = (position - 1).min(out.len());
        out.insert(to, s);
    }
    out.truncate(n);
    out
}

/// Greedy MMR: each step takes the candidate maximising
/// `(1 − λ)·relevance − λ·max similarity to what is already chosen`, relevance min-max scaled.
fn mmr(model: &Model, pool: Vec<Scored>, n: usize, lambda: f32) -> Vec<Scored> {
    let hi = pool.iter().map(|s| s.score).fold(f32::MIN, f32::max);
    let lo = pool.iter().map(|s| s.score).fold(f32::MAX, f32::min);
    let span = (hi - lo).max(f32::EPSILON);
    let mut rest: Vec<(Scored, f32)> = pool
        .into_iter()
        .map(|s| {
            let rel = (s.score - lo) / span;
            (s, rel)
        })
        .collect();
    // Highest similarity of each remaining candidate to the chosen ones.
    let mut penalty = vec![0.0f32; rest.len()];
    let mut out = Vec::with_capacity(n);
    while out.len() < n && !rest.is_empty() {
        let best = (0..rest.len())
            .max_by(|&a, &b| {
                let va = (1.0 - lambda) * rest[a].1 - lambda * penalty[a];
                let vb = (1.0 - lambda) * rest[b].1 - lambda * penalty[b];
                va.total_cmp(&vb).then(b.cmp(&a))
            })
            .unwrap_or(0);
        let (chosen, _) = rest.swap_remove(best);
        penalty.swap_remove(best);
        for (p, (s, _)) in penalty.iter_mut().zip(&rest) {
            *p = p.max(similarity(model, chosen.idx, s.idx));
        }
        out.push(chosen);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::tests::fixture;
    use crate::rules::RuleSet;

    fn model() -> Model {
        Model::load(fixture().encode().unwrap()).unwrap()
    }

    fn scored(items: &[(u32, f32)]) -> Vec<Scored> {
        items
            .iter()
            .map(|&(idx, score)| Scored {
                idx,
                score,
                reason: Reason::Popular,
            })
            .collect()
    }

    fn ids(s: &[Scored]) -> Vec<u32> {
        s.iter().map(|x| x.idx).collect()
    }

    #[test]
    fn diversity_zero_keeps_order_and_one_spreads_categories() {
        let m = model();
        // 0, 1: notebooks; 2, 3: accessories.
        let pool = scored(&[(0, 1.0), (1, 0.95), (2, 0.5), (3, 0.45)]);
        let plain = Shape::PLAIN;
        assert_eq!(ids(&finish(&m, pool.clone(), 3, plain)), vec![0, 1, 2]);
        let spread = Shape {
            diversity: 0.8,
            rules: None,
        };
        let out = finish(&m, pool, 2, spread);
        assert_eq!(
            ids(&out),
            vec![0, 2],
            "the second pick comes from another category"
        );
    }

    #[test]
    fn boosts_reorder_and_pins_place_with_a_rule_reason() {
        let m = model();
        let set = RuleSet::parse(
            br#"{"rules":[
              {"id":"acc","action":"boost","category":"computers.accessories","factor":10},
              {"id":"hero","action":"pin","item":"laptop-2","position":1}
            ]}"#,
        )
        .unwrap();
        let active = set.active(&m, 0);
        let shape = Shape {
            diversity: 0.0,
            rules: Some(&active),
        };
        let out = shaped(&m, 3, 0, shape, |k, offset| {
            assert_eq!((k, offset), (23, 0), "a larger pool is ranked");
            scored(&[(0, 1.0), (1, 0.9), (2, 0.5)])
        });
        assert_eq!(ids(&out), vec![1, 2, 0]);
        assert_eq!(
            out[0].reason,
            Reason::Rule {
                rule: "hero".into()
            }
        );
        assert_eq!(out[1].reason, Reason::Rule { rule: "acc".into() });
        let paged = shaped(&m, 1, 1, shape, |_, _| {
            scored(&[(0, 1.0), (1, 0.9), (2, 0.5)])
        });
        assert_eq!(ids(&paged), vec![2]);
    }
}
