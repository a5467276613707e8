//! Learning the session model's weights: the most recent tenth of the sessions is held out, the
//! lists are built from the rest, and every next click of the held-out sessions whose item is
//! among the candidates becomes a case. The weights maximise the likelihood of the clicked item
//! under a softmax over each case's candidates (conditional logit, L2 `1e-3`), fitted by Newton's
//! method on standardised features, then put back on the raw features the edge computes. Convex
//! in 20 parameters: a few iterations, the same answer every run.

use shared::session_model::{self, N_FEATURES, Weights};

use crate::model::session_lists::{self, ListParams};
use crate::parallel;

/// L2 penalty on the standardised weights.
pub const L2: f64 = 1e-3;
/// Fewest cases worth fitting on; below it the default weights ship.
pub const MIN_CASES: usize = 200;
/// Held-out next clicks the weights are fitted on, at most (taken evenly).
pub const FIT_CASES: usize = 40_000;

/// What a fit did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fit {
    pub weights: Weights,
    /// Held-out next clicks, and how many had the clicked item among the candidates.
    pub cases: usize,
    pub covered: usize,
    pub iterations: usize,
    /// Mean negative log-likelihood of the clicked item at the end.
    pub loss: f64,
    /// Whether the weights were learned (else the defaults, with too few cases).
    pub learned: bool,
}

/// One case: candidate features (standardised later) and which one was clicked.
struct Case {
    x: Vec<[f64; N_FEATURES]>,
    target: usize,
}

/// The held-out cases of `validation` against lists built from `fit`, at most `max_cases`
/// (taken evenly), and how many next clicks there were.
fn cases(
    lists: &session_model::OwnedLists,
    validation: &[Vec<u32>],
    max_cases: usize,
) -> (Vec<Case>, usize) {
    let all: Vec<(usize, usize)> = validation
        .iter()
        .enumerate()
        .flat_map(|(s, v)| (1..v.len()).map(move |cut| (s, cut)))
        .collect();
    let step = all.len().div_ceil(max_cases.max(1)).max(1);
    let chosen: Vec<(usize, usize)> = all.into_iter().step_by(step).collect();
    let weights = Weights::default();
    let parts = parallel::map_chunks(&chosen, 512, |part| {
        part.iter()
            .filter_map(|&(s, cut)| {
                let v = &validation[s];
                let cands = session_model::candidates(lists, &v[..cut], &weights);
                let target = cands.iter().position(|c| c.item == v[cut])?;
                Some(Case {
                    x: cands.iter().map(|c| c.x.map(f64::from)).collect(),
                    target,
                })
            })
            .collect::<Vec<Case>>()
    });
    (parts.into_iter().flatten().collect(), chosen.len())
}

/// Sums of loss, gradient and Hessian over `cases` (unscaled, no penalty).
fn sums(cases: &[Case], w: &[f64; N_FEATURES]) -> (f64, [f64; N_FEATURES], Vec<f64>) {
    let mut loss = 0.0;
    let mut grad = [0.0; N_FEATURES];
    let mut hess = vec![0.0; N_FEATURES * N_FEATURES];
    for c in cases {
        let z: Vec<f64> =
            c.x.iter()
                .map(|x| x.iter().zip(w).map(|(a, b)| a * b).sum())
                .collect();
        let max = z.iter().copied().fold(f64::MIN, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        loss += max + sum.ln() - z[c.target];
        let mut mu = [0.0; N_FEATURES];
        for (x, ej) in c.x.iter().zip(&e) {
            let p = ej / sum;
            for a in 0..N_FEATURES {
                mu[a] += p * x[a];
                for b in 0..N_FEATURES {
                    hess[a * N_FEATURES + b] += p * x[a] * x[b];
                }
            }
        }
        for a in 0..N_FEATURES {
            grad[a] += mu[a] - c.x[c.target][a];
            for b in 0..N_FEATURES {
                hess[a * N_FEATURES + b] -= mu[a] * mu[b];
            }
        }
    }
    (loss, grad, hess)
}

/// Mean loss, gradient and Hessian of the conditional logit at `w`, the cases summed in fixed
/// chunks on every core and the chunks added in order (the same answer on any machine).
fn objective(cases: &[Case], w: &[f64; N_FEATURES]) -> (f64, [f64; N_FEATURES], Vec<f64>) {
    let mut loss = 0.0;
    let mut grad = [0.0; N_FEATURES];
    let mut hess = vec![0.0; N_FEATURES * N_FEATURES];
    for (l, g, h) in parallel::map_chunks(cases, 1024, |part| sums(part, w)) {
        loss += l;
        for (a, b) in grad.iter_mut().zip(g) {
            *a += b;
        }
        for (a, b) in hess.iter_mut().zip(h) {
            *a += b;
        }
    }
    #[expect(clippy::cast_precision_loss, reason = "case counts")]
    let m = cases.len().max(1) as f64;
    loss /= m;
    for g in &mut grad {
        *g /= m;
    }
    for h in &mut hess {
        *h /= m;
    }
    for a in 0..N_FEATURES {
        loss += L2 * w[a] * w[a];
        grad[a] += 2.0 * L2 * w[a];
        hess[a * N_FEATURES + a] += 2.0 * L2;
    }
    (loss, grad, hess)
}

/// Solves `H d = g` for a symmetric positive definite `H` (Cholesky).
fn solve(h: &[f64], g: &[f64; N_FEATURES]) -> Option<[f64; N_FEATURES]> {
    let n = N_FEATURES;
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = h[i * n + i] - s;
                if d <= 0.0 {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (h[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    let mut y = [0.0; N_FEATURES];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (g[i] - s) / l[i * n + i];
    }
    let mut x = [0.0; N_FEATURES];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i * n + i];
    }
    Some(x)
}

/// Fits weights on the cases of `sessions` (chronological): lists from the first 90%, cases from
/// the last 10%.
pub fn learn(sessions: &[Vec<u32>], n: usize, p: &ListParams, max_cases: usize) -> Fit {
    let split = sessions.len() - sessions.len() / 10;
    let lists = session_lists::build(&sessions[..split], n, p);
    let (mut cases, total) = cases(&lists, &sessions[split..], max_cases);
    let fallback = |covered| Fit {
        weights: Weights::default(),
        cases: total,
        covered,
        iterations: 0,
        loss: f64::NAN,
        learned: false,
    };
    if cases.len() < MIN_CASES {
        return fallback(cases.len());
    }
    // Standardise over every candidate row.
    let rows: f64 = cases.iter().map(|c| c.x.len()).sum::<usize>() as f64;
    let mut mean = [0.0; N_FEATURES];
    let mut sd = [0.0; N_FEATURES];
    for x in cases.iter().flat_map(|c| &c.x) {
        for a in 0..N_FEATURES {
            mean[a] += x[a] / rows;
        }
    }
    for x in cases.iter().flat_map(|c| &c.x) {
        for a in 0..N_FEATURES {
            sd[a] += (x[a] - mean[a]).powi(2) / rows;
        }
    }
    for s in &mut sd {
        *s = if *s > 1e-12 { s.sqrt() } else { 1.0 };
    }
    for c in &mut cases {
        for x in &mut c.x {
            for a in 0..N_FEATURES {
                x[a] = (x[a] - mean[a]) / sd[a];
            }
        }
    }
    let mut w = [0.0; N_FEATURES];
    let (mut loss, mut grad, mut hess) = objective(&cases, &w);
    let mut iterations = 0;
    for _ in 0..50 {
        iterations += 1;
        let Some(step) = solve(&hess, &grad) else {
            break;
        };
        let mut t = 1.0;
        let mut moved = false;
        for _ in 0..30 {
            let mut next = w;
            for a in 0..N_FEATURES {
                next[a] -= t * step[a];
            }
            let (l, g, h) = objective(&cases, &next);
            if l < loss {
                let done = loss - l < 1e-9;
                (w, loss, grad, hess) = (next, l, g, h);
                moved = !done;
                break;
            }
            t *= 0.5;
        }
        if !moved {
            break;
        }
    }
    #[expect(clippy::cast_possible_truncation, reason = "weights are small")]
    let raw: Vec<f32> = w.iter().zip(&sd).map(|(w, s)| (w / s) as f32).collect();
    let weights = Weights {
        w: raw,
        ..Weights::default()
    };
    if !weights.usable() {
        return fallback(cases.len());
    }
    Fit {
        weights,
        cases: total,
        covered: cases.len(),
        iterations,
        loss,
        learned: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_that_shoppers_go_back() {
        // Sessions wander 0..40 but every third click returns to the session's first item.
        let mut sessions = Vec::new();
        for k in 0..2_000u32 {
            let first = k % 40;
            let mut s = vec![first];
            for step in 1..8u32 {
                s.push(if step % 3 == 0 {
                    first
                } else {
                    (first + step * 7 + k) % 40
                });
            }
            sessions.push(s);
        }
        let fit = learn(&sessions, 40, &ListParams::default(), 5_000);
        assert!(fit.learned, "{fit:?}");
        assert!(fit.covered * 10 >= fit.cases * 8, "{fit:?}");
        assert!(
            fit.weights.w[5] > 0.0 || fit.weights.w[6] > 0.0,
            "in-session items are lifted: {:?}",
            fit.weights.w
        );
        let few = learn(&sessions[..20], 40, &ListParams::default(), 5_000);
        assert!(!few.learned && few.weights == Weights::default());
    }

    #[test]
    fn newton_solves_a_known_system() {
        let mut h = vec![0.0; N_FEATURES * N_FEATURES];
        let mut g = [0.0; N_FEATURES];
        for i in 0..N_FEATURES {
            h[i * N_FEATURES + i] = 2.0;
            g[i] = 4.0;
        }
        let x = solve(&h, &g).unwrap();
        assert!(x.iter().all(|v| (v - 2.0).abs() < 1e-9), "{x:?}");
    }
}
