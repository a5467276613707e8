//! The score levels of a compact list section (format v6): each entry stores a code of a few bits,
//! and the score it stands for is `levels[code] × row maximum`.
//!
//! Eight-bit sections keep v4's linear levels `code / 255`. Narrower sections learn their levels
//! from the section's own scores (relative to their row's maximum): the top level is exactly 1
//! (every row's best entry stays exact), and the others are one-dimensional k-means centres in
//! log space, so each level is a relative step and small scores keep their order of magnitude.
//! When a section has fewer distinct scores than levels, the levels are those scores (lossless).

/// Lloyd iterations for the learned levels.
const ROUNDS: usize = 30;

/// The `1 << bits` levels (ascending, in `[0, 1]`, the last one exactly 1) for the relative
/// scores `rel` (each `score / row maximum`).
pub(crate) fn learn(rel: &[f32], bits: u32) -> Vec<f32> {
    let n_levels = 1usize << bits;
    if bits >= 8 {
        #[expect(clippy::cast_precision_loss, reason = "at most 255")]
        return (0..n_levels).map(|c| c as f32 / 255.0).collect();
    }
    // Distinct values strictly between 0 and 1 with their counts, ascending, in log space.
    let mut v: Vec<f32> = rel
        .iter()
        .copied()
        .filter(|x| *x > 0.0 && *x < 1.0 && x.is_finite())
        .collect();
    v.sort_unstable_by(f32::total_cmp);
    let mut points: Vec<(f64, f64)> = Vec::new();
    for x in v {
        let lx = f64::from(x).ln();
        match points.last_mut() {
            Some(last) if (last.0 - lx).abs() < 1e-12 => last.1 += 1.0,
            _ => points.push((lx, 1.0)),
        }
    }
    let free = n_levels - 1;
    let mut centres: Vec<f64> = if points.len() <= free {
        points.iter().map(|p| p.0).collect()
    } else {
        let total: f64 = points.iter().map(|p| p.1).sum();
        let mut out = Vec::with_capacity(free);
        let (mut seen, mut next) = (0.0, 0usize);
        for p in &points {
            seen += p.1;
            #[expect(clippy::cast_precision_loss, reason = "at most 127 levels")]
            while next < free && seen >= total * (next as f64 + 0.5) / free as f64 {
                out.push(p.0);
                next += 1;
            }
        }
        out.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
        lloyd(&points, out)
    };
    if centres.is_empty() {
        centres.push(0.5f64.ln());
    }
    let mut levels: Vec<f32> = Vec::with_capacity(n_levels);
    #[expect(clippy::cast_possible_truncation, reason = "in (0, 1)")]
    levels.extend(centres.iter().map(|c| c.exp() as f32));
    while levels.len() < free {
        levels.insert(0, levels[0]);
    }
    levels.push(1.0);
    levels
}

/// One-dimensional k-means on sorted weighted points, starting from sorted `centres`.
fn lloyd(points: &[(f64, f64)], mut centres: Vec<f64>) -> Vec<f64> {
    for _ in 0..ROUNDS {
        let mut sums = vec![(0.0f64, 0.0f64); centres.len()];
        let mut c = 0;
        for p in points {
            while c + 1 < centres.len() && p.0 > (centres[c] + centres[c + 1]) / 2.0 {
                c += 1;
            }
            sums[c].0 += p.0 * p.1;
            sums[c].1 += p.1;
        }
        let mut moved = false;
        for (centre, (s, w)) in centres.iter_mut().zip(sums) {
            if w > 0.0 && (s / w - *centre).abs() > 1e-9 {
                *centre = s / w;
                moved = true;
            }
        }
        centres.sort_by(f64::total_cmp);
        if !moved {
            break;
        }
    }
    centres
}

/// The code of the level nearest `rel` (in log space; 8-bit levels: linear, as v4 rounds).
pub(crate) fn code(levels: &[f32], rel: f32) -> u8 {
    let last = levels.len().saturating_sub(1);
    let c = if levels.len() == 256 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to 0..=255"
        )]
        let q = if rel > 0.0 {
            (rel * 255.0).round().clamp(1.0, 255.0) as usize
        } else {
            0
        };
        q
    } else if rel >= 1.0 || rel.is_nan() {
        last
    } else if rel <= 0.0 {
        0
    } else {
        let l = rel.ln();
        let above = levels.partition_point(|&x| x < rel).min(last);
        let below = above.saturating_sub(1);
        let dist = |i: usize| (levels[i].max(f32::MIN_POSITIVE).ln() - l).abs();
        if dist(below) <= dist(above) {
            below
        } else {
            above
        }
    };
    u8::try_from(c).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bits_are_v4s_linear_bytes() {
        let levels = learn(&[0.3, 0.7], 8);
        assert_eq!(levels.len(), 256);
        assert_eq!(code(&levels, 1.0), 255);
        assert_eq!(code(&levels, 0.5), 128);
        assert_eq!(code(&levels, 1e-6), 1, "a positive score never reads as 0");
        assert_eq!(code(&levels, 0.0), 0);
    }

    #[test]
    fn few_distinct_scores_are_kept_exactly() {
        let rel = [0.5, 0.25, 0.5, 0.125, 1.0];
        let levels = learn(&rel, 4);
        assert_eq!(levels.len(), 16);
        assert_eq!(levels[15], 1.0);
        for x in rel {
            let c = code(&levels, x) as usize;
            assert!((levels[c] - x).abs() < 1e-6, "{x} -> {}", levels[c]);
        }
    }

    #[test]
    fn learned_levels_keep_relative_error_small_and_order() {
        #[expect(clippy::cast_precision_loss, reason = "test data")]
        let rel: Vec<f32> = (1..5000).map(|i| (i as f32 / 5000.0).powi(3)).collect();
        let levels = learn(&rel, 4);
        assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
        let err: Vec<f32> = rel
            .iter()
            .map(|&x| (levels[code(&levels, x) as usize] / x).ln().abs())
            .collect();
        #[expect(clippy::cast_precision_loss, reason = "test data")]
        let mean = err.iter().sum::<f32>() / err.len() as f32;
        // 15 free levels over about 25 natural-log units: k-means keeps the mean error small.
        assert!(mean < 0.25, "mean log error {mean}");
        let top = err[err.len() * 9 / 10..]
            .iter()
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(top < 0.15, "the largest tenth within 15%: {top}");
        assert!(code(&levels, 0.9) >= code(&levels, 0.1));
    }
}
