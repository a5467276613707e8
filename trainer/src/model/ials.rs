//! Implicit ALS (Hu, Koren & Volinsky 2008) with the conjugate-gradient solver of Takács et al.:
//! the embedding model the edge serves through fold-in.
//!
//! Confidence of an interaction with aggregated weight `w` is `1 + α·w`; both factor matrices are
//! solved alternately, each row with a few warm-started CG steps, rows split across threads.
//! Deterministic for a seed: initialisation comes from a seeded RNG and every row's solve depends
//! only on the other side's factors, whatever the thread split.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::model::csr::Csr;

/// Why hyperparameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IalsError {
    #[error("factors must be between 1 and 1024, got {0}")]
    Factors(usize),
    #[error("regularization must be a finite number ≥ 0, got {0}")]
    Regularization(f32),
    #[error("alpha must be a finite number > 0, got {0}")]
    Alpha(f32),
    #[error("iterations must be between 1 and 1000, got {0}")]
    Iterations(usize),
    #[error("cg_steps must be between 1 and 100, got {0}")]
    CgSteps(usize),
}

/// Checked hyperparameters.
#[derive(Debug, Clone, PartialEq)]
pub struct IalsValidParams {
    pub factors: usize,
    pub regularization: f32,
    pub alpha: f32,
    pub iterations: usize,
    pub cg_steps: usize,
    pub seed: u64,
    /// Worker threads; 0 uses every core.
    pub threads: usize,
    /// Solve the user side once more, tightly, after the last iteration (only needed when the
    /// trained user vectors themselves are used; serving and evaluation fold users in).
    pub refine_users: bool,
}

/// Unchecked hyperparameters with defaults; call [`IalsParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct IalsParams(IalsValidParams);

impl Default for IalsParams {
    fn default() -> Self {
        Self(IalsValidParams {
            factors: 64,
            regularization: 0.1,
            alpha: 10.0,
            iterations: 15,
            cg_steps: 3,
            seed: 42,
            threads: 0,
            refine_users: false,
        })
    }
}

impl IalsParams {
    pub fn factors(mut self, n: usize) -> Self {
        self.0.factors = n;
        self
    }
    pub fn regularization(mut self, r: f32) -> Self {
        self.0.regularization = r;
        self
    }
    pub fn alpha(mut self, a: f32) -> Self {
        self.0.alpha = a;
        self
    }
    pub fn iterations(mut self, n: usize) -> Self {
        self.0.iterations = n;
        self
    }
    pub fn cg_steps(mut self, n: usize) -> Self {
        self.0.cg_steps = n;
        self
    }
    pub fn seed(mut self, s: u64) -> Self {
        self.0.seed = s;
        self
    }
    pub fn threads(mut self, n: usize) -> Self {
        self.0.threads = n;
        self
    }
    pub fn refine_users(mut self, on: bool) -> Self {
        self.0.refine_users = on;
        self
    }

    /// Validates every field.
    pub fn check(self) -> Result<IalsValidParams, IalsError> {
        let p = self.0;
        if !(1..=1024).contains(&p.factors) {
            return Err(IalsError::Factors(p.factors));
        }
        if !p.regularization.is_finite() || p.regularization < 0.0 {
            return Err(IalsError::Regularization(p.regularization));
        }
        if !p.alpha.is_finite() || p.alpha <= 0.0 {
            return Err(IalsError::Alpha(p.alpha));
        }
        if !(1..=1000).contains(&p.iterations) {
            return Err(IalsError::Iterations(p.iterations));
        }
        if !(1..=100).contains(&p.cg_steps) {
            return Err(IalsError::CgSteps(p.cg_steps));
        }
        Ok(p)
    }
}

/// Trained factors.
#[derive(Debug, Clone)]
pub struct IalsModel {
    pub user_factors: Array2<f32>,
    pub item_factors: Array2<f32>,
}

pub fn init(rows: usize, k: usize, rng: &mut StdRng) -> Array2<f32> {
    #[expect(clippy::cast_precision_loss, reason = "k ≤ 1024")]
    let scale = 0.1 / (k as f32).sqrt();
    Array2::from_shape_fn((rows, k), |_| (rng.random::<f32>() - 0.5) * scale)
}

/// `YᵀY + λI`.
pub fn gram(y: ArrayView2<'_, f32>, regularization: f32) -> Array2<f32> {
    let mut g = y.t().dot(&y);
    for d in 0..g.nrows() {
        g[[d, d]] += regularization;
    }
    g
}

use shared::factors::dot;

fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

/// Rows solved together: their `G·p` products are one matrix product (gemm, which
/// `matrixmultiply` runs with the CPU's best vector instructions, detected at run time).
const BLOCK: usize = 64;

/// Scratch matrices of one block.
struct Block {
    x: Array2<f32>,
    r: Array2<f32>,
    p: Array2<f32>,
    ap: Array2<f32>,
    rs: Vec<f32>,
    active: Vec<bool>,
}

impl Block {
    fn new(k: usize) -> Self {
        let z = || Array2::zeros((BLOCK, k));
        Self {
            x: z(),
            r: z(),
            p: z(),
            ap: z(),
            rs: vec![0.0; BLOCK],
            active: vec![false; BLOCK],
        }
    }
}

/// A few CG steps on the normal equations of rows `first..first + m` of `m` (one block),
/// warm-started from and written back to `target` (the block's rows of the factor matrix).
#[expect(
    clippy::too_many_arguments,
    reason = "the solver's state, passed flat for speed"
)]
fn cg_block(
    target: &mut ArrayViewMut2<'_, f32>,
    first: usize,
    m: &Csr,
    other: &[f32],
    g: &ArrayView2<'_, f32>,
    alpha: f32,
    steps: usize,
    b: &mut Block,
) {
    let rows = target.nrows();
    let k = target.ncols();
    b.x.slice_axis_mut(Axis(0), Slice::from(..rows))
        .assign(target);
    let item = |c: u32| &other[c as usize * k..(c as usize + 1) * k];
    // r = b − A x = Σ (c − (c − 1)·yᵀx) y − G x
    general_mat_mul(
        -1.0,
        &b.x.slice_axis(Axis(0), Slice::from(..rows)),
        g,
        0.0,
        &mut b.r.slice_axis_mut(Axis(0), Slice::from(..rows)),
    );
    for j in 0..rows {
        let (cols, weights) = m.row(first + j);
        b.active[j] = !cols.is_empty();
        let (Some(x), Some(r)) = (b.x.row(j).to_slice(), b.r.row_mut(j).into_slice()) else {
            continue;
        };
        for (&c, &w) in cols.iter().zip(weights) {
            let y = item(c);
            let conf = 1.0 + alpha * w;
            axpy(conf - (conf - 1.0) * dot(y, x), y, r);
        }
    }
    b.p.slice_axis_mut(Axis(0), Slice::from(..rows))
        .assign(&b.r.slice_axis(Axis(0), Slice::from(..rows)));
    for j in 0..rows {
        let r = b.r.row(j);
        b.rs[j] = r.dot(&r);
    }
    for _ in 0..steps {
        general_mat_mul(
            1.0,
            &b.p.slice_axis(Axis(0), Slice::from(..rows)),
            g,
            0.0,
            &mut b.ap.slice_axis_mut(Axis(0), Slice::from(..rows)),
        );
        for j in 0..rows {
            if !b.active[j] || b.rs[j] < 1e-20 {
                continue;
            }
            let (cols, weights) = m.row(first + j);
            let (Some(p), Some(ap)) = (b.p.row(j).to_slice(), b.ap.row_mut(j).into_slice()) else {
                continue;
            };
            for (&c, &w) in cols.iter().zip(weights) {
                let y = item(c);
                axpy(alpha * w * dot(y, p), y, ap);
            }
            let denom = dot(p, ap);
            if denom <= 0.0 || !denom.is_finite() {
                b.active[j] = false;
                continue;
            }
            let step = b.rs[j] / denom;
            let (Some(x), Some(r)) = (b.x.row_mut(j).into_slice(), b.r.row_mut(j).into_slice())
            else {
                continue;
            };
            axpy(step, p, x);
            axpy(-step, ap, r);
            let rs_new = dot(r, r);
            let beta = rs_new / b.rs[j];
            b.rs[j] = rs_new;
            let (Some(p), Some(r)) = (b.p.row_mut(j).into_slice(), b.r.row(j).to_slice()) else {
                continue;
            };
            for (pi, ri) in p.iter_mut().zip(r) {
                *pi = ri + beta * *pi;
            }
        }
    }
    for j in 0..rows {
        if m.row(first + j).0.is_empty() {
            target.row_mut(j).fill(0.0);
        } else {
            target.row_mut(j).assign(&b.x.row(j));
        }
    }
}

/// Solves every row of `target` against `other` (one half-iteration), rows split across threads
/// and, within a thread, into blocks.
fn solve_side(
    target: &mut Array2<f32>,
    m: &Csr,
    other: &Array2<f32>,
    p: &IalsValidParams,
    steps: usize,
) {
    let k = p.factors;
    let g = gram(other.view(), p.regularization);
    // Borrowed when the matrix is contiguous (it always is here): no copy of the other side.
    let other_flat: std::borrow::Cow<'_, [f32]> = other.as_slice().map_or_else(
        || std::borrow::Cow::Owned(other.iter().copied().collect()),
        std::borrow::Cow::Borrowed,
    );
    let threads = if p.threads == 0 {
        crate::parallel::threads()
    } else {
        p.threads
    };
    let rows = target.nrows();
    let chunk = rows.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (ci, mut part) in target.axis_chunks_iter_mut(Axis(0), chunk).enumerate() {
            let (g, other_flat) = (g.view(), &*other_flat);
            s.spawn(move || {
                let mut b = Block::new(k);
                for (bi, mut block) in part.axis_chunks_iter_mut(Axis(0), BLOCK).enumerate() {
                    let first = ci * chunk + bi * BLOCK;
                    cg_block(&mut block, first, m, other_flat, &g, p.alpha, steps, &mut b);
                }
            });
        }
    });
}

/// Trains on a user × item matrix of aggregated interaction weights.
///
/// With `refine_users`, the user side is solved once more, tightly, against the final item
/// factors, so `user_factors` matches what fold-in computes for the same history.
pub fn fit(p: &IalsValidParams, users_items: &Csr) -> IalsModel {
    fit_from(p, users_items, None)
}

/// [`fit`], warm-started from `start` item factors (`items × factors`; ignored when the shape
/// differs): a refit on one more day of data converges in a few iterations.
pub fn fit_from(p: &IalsValidParams, users_items: &Csr, start: Option<Array2<f32>>) -> IalsModel {
    let items_users = users_items.transpose();
    let mut rng = StdRng::seed_from_u64(p.seed);
    let mut user_factors = init(users_items.rows(), p.factors, &mut rng);
    let mut item_factors = match start {
        Some(s) if s.dim() == (users_items.cols(), p.factors) => s,
        _ => init(users_items.cols(), p.factors, &mut rng),
    };
    for it in 0..p.iterations {
        let started = std::time::Instant::now();
        solve_side(&mut user_factors, users_items, &item_factors, p, p.cg_steps);
        solve_side(
            &mut item_factors,
            &items_users,
            &user_factors,
            p,
            p.cg_steps,
        );
        tracing::debug!(
            iteration = it + 1,
            seconds = started.elapsed().as_secs_f64(),
            "iALS iteration"
        );
    }
    if p.refine_users {
        solve_side(
            &mut user_factors,
            users_items,
            &item_factors,
            p,
            p.factors.min(64),
        );
    }
    IalsModel {
        user_factors,
        item_factors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::factors::{FoldIn, fold_in};

    /// Two taste groups: users 0..10 like items 0..5, users 10..20 like items 5..10.
    fn blocks() -> Csr {
        let mut triples = Vec::new();
        for u in 0..20u32 {
            let base = if u < 10 { 0 } else { 5 };
            for j in 0..4u32 {
                let item = base + (u + j) % 5;
                triples.push((u, item, 1.0 + (j % 2) as f32));
            }
        }
        Csr::from_triples(20, 10, triples)
    }

    fn params() -> IalsValidParams {
        IalsParams::default()
            .factors(8)
            .iterations(10)
            .alpha(5.0)
            .regularization(0.05)
            .check()
            .unwrap()
    }

    #[test]
    fn bad_params_are_refused() {
        assert_eq!(
            IalsParams::default().factors(0).check(),
            Err(IalsError::Factors(0))
        );
        assert_eq!(
            IalsParams::default().alpha(0.0).check(),
            Err(IalsError::Alpha(0.0))
        );
        assert!(matches!(
            IalsParams::default().regularization(f32::NAN).check(),
            Err(IalsError::Regularization(_))
        ));
        assert_eq!(
            IalsParams::default().iterations(0).check(),
            Err(IalsError::Iterations(0))
        );
        assert_eq!(
            IalsParams::default().cg_steps(0).check(),
            Err(IalsError::CgSteps(0))
        );
    }

    #[test]
    fn learns_the_block_structure() {
        let data = blocks();
        let m = fit(&params(), &data);
        let score = |u: usize, i: usize| {
            dot(
                m.user_factors.row(u).to_slice().unwrap(),
                m.item_factors.row(i).to_slice().unwrap(),
            )
        };
        for u in [0usize, 3, 12, 19] {
            let other = if u < 10 { 5..10 } else { 0..5 };
            let seen_min = data
                .row(u)
                .0
                .iter()
                .map(|&i| score(u, i as usize))
                .fold(f32::MAX, f32::min);
            let other_max = other.map(|i| score(u, i)).fold(f32::MIN, f32::max);
            assert!(seen_min > other_max, "user {u}: {seen_min} ≤ {other_max}");
        }
    }

    #[test]
    fn deterministic_for_a_seed_whatever_the_threads() {
        let a = fit(&params(), &blocks());
        let b = fit(&IalsParams(params()).threads(1).check().unwrap(), &blocks());
        assert_eq!(a.item_factors, b.item_factors);
        let c = fit(&IalsParams(params()).seed(7).check().unwrap(), &blocks());
        assert_ne!(a.item_factors, c.item_factors);
    }

    #[test]
    fn fold_in_matches_the_trained_user_vector() {
        let p = IalsParams(params()).refine_users(true).check().unwrap();
        let data = blocks();
        let m = fit(&p, &data);
        let k = p.factors;
        let y = &m.item_factors;
        let g = y.t().dot(y);
        let g: Vec<f32> = g.iter().copied().collect();
        for u in [2usize, 15] {
            let (cols, weights) = data.row(u);
            let hist = cols
                .iter()
                .zip(weights)
                .map(|(&c, &w)| (y.row(c as usize).to_slice().unwrap(), w));
            let x = fold_in(
                k,
                &g,
                hist,
                FoldIn {
                    regularization: p.regularization,
                    alpha: p.alpha,
                },
            )
            .unwrap();
            let trained = m.user_factors.row(u);
            let err: f32 = x
                .iter()
                .zip(trained.iter())
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
                .sqrt();
            let norm: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
            assert!(
                err <= 0.02 * norm,
                "user {u}: |fold_in − trained| = {err}, |fold_in| = {norm}"
            );
        }
    }
}
