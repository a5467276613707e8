//! Matrix-factorisation maths that the trainer and the edge must compute identically: folding a
//! shopper's interactions into a user vector (implicit ALS normal equations), and the int8
//! quantisation of item factors that keeps the artifact compact.
//!
//! Fold-in is what makes recommendations real-time: no user matrix ships to the edge; the edge
//! solves the user's vector from the history it has on each request, with the same function the
//! trainer's evaluation uses.

/// Hyperparameters of the implicit-ALS objective that fold-in solves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldIn {
    /// L2 regularisation λ.
    pub regularization: f32,
    /// Confidence scale α: an interaction of weight w has confidence 1 + α·w.
    pub alpha: f32,
}

/// Solves the user vector `x` of the implicit-ALS objective
/// `Σ_i c_i (p_i − xᵀy_i)² + λ‖x‖²`, with `p_i = 1, c_i = 1 + α·w_i` for the items in `history`
/// and `p_i = 0, c_i = 1` for all others, through the normal equations
/// `(YᵀY + Σ_h (c_h − 1) y_h y_hᵀ + λI) x = Σ_h c_h y_h`.
///
/// `gram` is `YᵀY` (k × k, row-major) over all items; `history` yields each interacted item's
/// factor row and its weight (repeat items should be summed by the caller). Returns `None` for an
/// empty history or a system that is not positive definite.
pub fn fold_in<'a>(
    k: usize,
    gram: &[f32],
    history: impl IntoIterator<Item = (&'a [f32], f32)>,
    p: FoldIn,
) -> Option<Vec<f32>> {
    if gram.len() != k * k || k == 0 {
        return None;
    }
    let mut a: Vec<f64> = gram.iter().map(|&g| f64::from(g)).collect();
    let mut b = vec![0.0f64; k];
    let mut any = false;
    for (y, w) in history {
        if y.len() != k || w <= 0.0 || !w.is_finite() {
            continue;
        }
        any = true;
        let c = 1.0 + f64::from(p.alpha) * f64::from(w);
        for r in 0..k {
            let yr = f64::from(y[r]);
            b[r] += c * yr;
            let row = &mut a[r * k..(r + 1) * k];
            for (cell, &ys) in row.iter_mut().zip(y) {
                *cell += (c - 1.0) * yr * f64::from(ys);
            }
        }
    }
    if !any {
        return None;
    }
    for d in 0..k {
        a[d * k + d] += f64::from(p.regularization);
    }
    cholesky_solve(&mut a, &mut b, k)?;
    #[expect(clippy::cast_possible_truncation, reason = "factors are stored as f32")]
    Some(b.into_iter().map(|x| x as f32).collect())
}

/// Solves `A x = b` in place for symmetric positive definite `A` (n × n, row-major); `b` becomes `x`.
pub fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> Option<()> {
    // Lower-triangular factor L in the lower half of `a`.
    for j in 0..n {
        let mut d = a[j * n + j];
        for t in 0..j {
            d -= a[j * n + t] * a[j * n + t];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for t in 0..j {
                s -= a[i * n + t] * a[j * n + t];
            }
            a[i * n + j] = s / d;
        }
    }
    // L z = b, then Lᵀ x = z.
    for i in 0..n {
        let mut s = b[i];
        for t in 0..i {
            s -= a[i * n + t] * b[t];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for t in i + 1..n {
            s -= a[t * n + i] * b[t];
        }
        b[i] = s / a[i * n + i];
    }
    Some(())
}

/// Quantises one factor row to int8 with a per-row scale: `v ≈ scale · q`. The scale is a
/// bf16 value ([`crate::half::up`]), so the artifact stores it in two bytes exactly.
pub fn quantize(row: &[f32]) -> (f32, Vec<i8>) {
    let max = row.iter().fold(0.0f32, |m, &v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        return (0.0, vec![0; row.len()]);
    }
    let scale = crate::half::up(max / 127.0);
    #[expect(
        clippy::cast_possible_truncation,
        reason = "clamped to the i8 range first"
    )]
    let q = row
        .iter()
        .map(|&v| (v / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (scale, q)
}

/// Restores a quantised row.
pub fn dequantize(scale: f32, q: &[i8]) -> Vec<f32> {
    q.iter().map(|&x| scale * f32::from(x)).collect()
}

/// `xᵀ(scale · q)`: the score of a quantised item for user vector `x`.
pub fn dot_i8(x: &[f32], scale: f32, q: &[i8]) -> f32 {
    // Eight independent accumulators: no serial dependency chain, so it pipelines (and
    // vectorises where the target allows) natively and in wasm.
    let (cx, tx) = x.as_chunks::<8>();
    let (cq, tq) = q.as_chunks::<8>();
    let mut lanes = [0.0f32; 8];
    for (a, b) in cx.iter().zip(cq) {
        for l in 0..8 {
            lanes[l] += a[l] * f32::from(b[l]);
        }
    }
    let tail: f32 = tx.iter().zip(tq).map(|(a, &b)| a * f32::from(b)).sum();
    (lanes.iter().sum::<f32>() + tail) * scale
}

/// `xᵀy` for float rows.
pub fn dot(x: &[f32], y: &[f32]) -> f32 {
    let (cx, tx) = x.as_chunks::<8>();
    let (cy, ty) = y.as_chunks::<8>();
    let mut lanes = [0.0f32; 8];
    for (a, b) in cx.iter().zip(cy) {
        for l in 0..8 {
            lanes[l] += a[l] * b[l];
        }
    }
    let tail: f32 = tx.iter().zip(ty).map(|(a, b)| a * b).sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random factors for tests (no RNG crate in `shared`).
    fn factors(n: usize, k: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..n)
            .map(|_| {
                (0..k)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        #[expect(clippy::cast_precision_loss, reason = "test noise")]
                        let u = (s >> 40) as f32 / (1u64 << 24) as f32;
                        u - 0.5
                    })
                    .collect()
            })
            .collect()
    }

    fn gram(y: &[Vec<f32>], k: usize) -> Vec<f32> {
        let mut g = vec![0.0; k * k];
        for row in y {
            for r in 0..k {
                for c in 0..k {
                    g[r * k + c] += row[r] * row[c];
                }
            }
        }
        g
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 1.0];
        cholesky_solve(&mut a, &mut b, 2).unwrap();
        assert!((b[0] - 0.5).abs() < 1e-12 && b[1].abs() < 1e-12, "{b:?}");
        let mut not_pd = vec![1.0, 2.0, 2.0, 1.0];
        assert!(cholesky_solve(&mut not_pd, &mut [1.0, 1.0], 2).is_none());
    }

    #[test]
    fn fold_in_minimises_the_objective() {
        let (n, k) = (40, 6);
        let y = factors(n, k, 7);
        let g = gram(&y, k);
        let p = FoldIn {
            regularization: 0.1,
            alpha: 10.0,
        };
        let hist = [(3usize, 1.0f32), (8, 2.0), (21, 0.5)];
        let x = fold_in(k, &g, hist.iter().map(|&(i, w)| (y[i].as_slice(), w)), p).unwrap();
        let loss = |x: &[f32]| -> f64 {
            let mut l = 0.0f64;
            for (i, row) in y.iter().enumerate() {
                let (pref, c) = hist.iter().find(|h| h.0 == i).map_or((0.0, 1.0), |h| {
                    (1.0, 1.0 + f64::from(p.alpha) * f64::from(h.1))
                });
                l += c * (pref - f64::from(dot(x, row))).powi(2);
            }
            l + f64::from(p.regularization) * x.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>()
        };
        let best = loss(&x);
        for d in 0..k {
            for eps in [-1e-2f32, 1e-2] {
                let mut z = x.clone();
                z[d] += eps;
                assert!(
                    loss(&z) >= best - 1e-9,
                    "moving dim {d} by {eps} lowered the loss"
                );
            }
        }
        // Interacted items score above the average item.
        let mean: f32 = y.iter().map(|r| dot(&x, r)).sum::<f32>() / 40.0;
        assert!(dot(&x, &y[8]) > mean);
    }

    #[test]
    fn fold_in_rejects_empty_or_bad_input() {
        let p = FoldIn {
            regularization: 0.1,
            alpha: 1.0,
        };
        assert!(fold_in(2, &[1.0, 0.0, 0.0, 1.0], std::iter::empty(), p).is_none());
        assert!(fold_in(2, &[1.0], [([1.0f32, 0.0].as_slice(), 1.0)], p).is_none());
        let zero_weight = [([1.0f32, 0.0].as_slice(), 0.0)];
        assert!(fold_in(2, &[1.0, 0.0, 0.0, 1.0], zero_weight, p).is_none());
    }

    #[test]
    fn quantisation_round_trip_is_bounded() {
        for row in factors(50, 64, 3) {
            let (scale, q) = quantize(&row);
            let back = dequantize(scale, &q);
            let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            // Half a step, the step rounded up to a bf16 (at most 1/128 larger).
            for (a, b) in row.iter().zip(&back) {
                assert!(
                    (a - b).abs() <= max / 254.0 * (1.0 + 1.0 / 128.0) + 1e-6,
                    "{a} vs {b}"
                );
            }
            assert_eq!(
                crate::half::from_bits(crate::half::to_bits(scale)),
                scale,
                "the artifact stores the scale exactly"
            );
            let x = &row;
            assert!((dot_i8(x, scale, &q) - dot(x, &back)).abs() < 1e-4);
        }
        assert_eq!(quantize(&[0.0, 0.0]), (0.0, vec![0, 0]));
    }
}
