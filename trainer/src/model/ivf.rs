//! Builds the IVF candidate index for large catalogs: linfa k-means over item vectors, every item
//! assigned to its nearest centroid, and the probe count tuned on real user vectors until the
//! IVF top 10 recalls ≥ 95% of the exact top 10. Reports that recall and the measured speed-up.

use std::collections::HashSet;
use std::time::Instant;

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::Array2;
use serde::Serialize;
use shared::ivf::IvfData;

use crate::evaluation::metrics::top_k;
use crate::parallel;

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IvfError {
    #[error("k-means failed: {0}")]
    KMeans(String),
    #[error("index shape: {0}")]
    Shape(String),
}

/// What the index achieved, measured on the tuning queries.
#[derive(Debug, Clone, Serialize)]
pub struct IvfReport {
    pub items: usize,
    pub lists: usize,
    pub nprobe: usize,
    pub queries: usize,
    /// Mean |IVF top 10 ∩ exact top 10| / 10.
    pub recall_at_10: f64,
    /// Mean items scored per query with the index.
    pub candidates: f64,
    pub exact_us_per_query: f64,
    pub ivf_us_per_query: f64,
    pub speedup: f64,
    pub build_seconds: f64,
}

/// Recall the probe count is tuned for.
pub const TARGET_RECALL: f64 = 0.95;
/// Items k-means is fitted on (evenly spaced sample); all items are then assigned.
const FIT_SAMPLE: usize = 40_000;

use shared::factors::dot;

fn nearest(centroids: &[f32], k: usize, row: &[f32]) -> usize {
    let mut best = (f32::INFINITY, 0);
    for (c, centroid) in centroids.chunks_exact(k).enumerate() {
        let d: f32 = centroid
            .iter()
            .zip(row)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        if d < best.0 {
            best = (d, c);
        }
    }
    best.1
}

/// Assigns every row to its nearest centroid, on all cores.
fn assign(rows: &[f32], k: usize, centroids: &[f32]) -> Vec<usize> {
    let n = rows.len() / k;
    let chunk = n.div_ceil(parallel::threads()).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = rows
            .chunks(chunk * k)
            .map(|part| {
                s.spawn(move || {
                    part.chunks_exact(k)
                        .map(|r| nearest(centroids, k, r))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn exact_top(rows: &[f32], k: usize, q: &[f32]) -> Vec<u32> {
    let scores: Vec<f32> = rows.chunks_exact(k).map(|r| dot(q, r)).collect();
    top_k(&scores, 10, &HashSet::new())
}

fn ivf_top(rows: &[f32], k: usize, ivf: &IvfData, q: &[f32], nprobe: usize) -> (Vec<u32>, usize) {
    let mut lists: Vec<(f32, usize)> = ivf
        .centroids
        .chunks_exact(k)
        .map(|c| dot(q, c))
        .enumerate()
        .map(|(l, s)| (s, l))
        .collect();
    lists.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut scored: Vec<(f32, u32)> = Vec::new();
    for &(_, l) in lists.iter().take(nprobe) {
        for &i in &ivf.lists[l] {
            let r = &rows[i as usize * k..(i as usize + 1) * k];
            scored.push((dot(q, r), i));
        }
    }
    let seen = scored.len();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    (scored.into_iter().take(10).map(|x| x.1).collect(), seen)
}

/// Builds the index over `rows` (`n × k`) and tunes `nprobe` on `queries` (user vectors).
pub fn build(
    rows: &[f32],
    k: usize,
    queries: &[Vec<f32>],
) -> Result<(IvfData, IvfReport), IvfError> {
    let started = Instant::now();
    if k == 0 || !rows.len().is_multiple_of(k) || rows.is_empty() {
        return Err(IvfError::Shape(format!(
            "{} values for k = {k}",
            rows.len()
        )));
    }
    let n = rows.len() / k;
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "√n of a catalog size"
    )]
    let nlist = ((n as f64).sqrt().round() as usize).clamp(1, n);
    let step = n.div_ceil(FIT_SAMPLE).max(1);
    let sample: Vec<f32> = rows
        .chunks_exact(k)
        .step_by(step)
        .flatten()
        .copied()
        .collect();
    let sample_rows = sample.len() / k;
    let data = Array2::from_shape_vec((sample_rows, k), sample)
        .map_err(|e| IvfError::Shape(e.to_string()))?;
    // Random (seeded) initial centroids: k-means++ seeding costs O(n · lists² · k) in linfa,
    // minutes at 200k items, and buys little for a candidate index.
    let model = KMeans::params(nlist.min(sample_rows))
        .init_method(KMeansInit::Random)
        .n_runs(1)
        .max_n_iterations(20)
        .tolerance(1e-3)
        .fit(&DatasetBase::from(data))
        .map_err(|e| IvfError::KMeans(e.to_string()))?;
    let centroids: Vec<f32> = model.centroids().iter().copied().collect();
    let nlist = centroids.len() / k;
    let mut lists = vec![Vec::new(); nlist];
    for (i, c) in assign(rows, k, &centroids).into_iter().enumerate() {
        lists[c].push(u32::try_from(i).map_err(|_| IvfError::Shape("too many items".into()))?);
    }
    let mut ivf = IvfData {
        nprobe: 1,
        centroids,
        lists,
    };
    // Truth and recall on every core; the timings below run on one, as a request does.
    let exact: Vec<Vec<u32>> = parallel::map_chunks(queries, 16, |qs| {
        qs.iter().map(|q| exact_top(rows, k, q)).collect::<Vec<_>>()
    })
    .concat();
    let cases: Vec<(&Vec<f32>, &Vec<u32>)> = queries.iter().zip(&exact).collect();
    let mut nprobe = 1;
    let recall = loop {
        let hits: usize = parallel::map_chunks(&cases, 16, |part| {
            part.iter()
                .map(|(q, truth)| {
                    let (got, _) = ivf_top(rows, k, &ivf, q, nprobe);
                    got.iter().filter(|i| truth.contains(i)).count()
                })
                .sum::<usize>()
        })
        .into_iter()
        .sum();
        #[expect(clippy::cast_precision_loss, reason = "counts")]
        let recall = if queries.is_empty() {
            1.0
        } else {
            hits as f64 / (queries.len() * 10) as f64
        };
        if recall >= TARGET_RECALL || nprobe >= nlist {
            break recall;
        }
        nprobe = (nprobe * 2).min(nlist);
    };
    ivf.nprobe = u32::try_from(nprobe).map_err(|_| IvfError::Shape("nprobe".into()))?;
    // Timing: exact scan vs probe + candidate scan, same queries, same scorer.
    let t = Instant::now();
    for q in queries {
        std::hint::black_box(exact_top(rows, k, q));
    }
    let exact_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut seen = 0usize;
    for q in queries {
        let (top, s) = ivf_top(rows, k, &ivf, q, nprobe);
        std::hint::black_box(top);
        seen += s;
    }
    let ivf_s = t.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let per = |s: f64| s * 1e6 / queries.len().max(1) as f64;
    #[expect(clippy::cast_precision_loss, reason = "counts")]
    let report = IvfReport {
        items: n,
        lists: nlist,
        nprobe,
        queries: queries.len(),
        recall_at_10: recall,
        candidates: seen as f64 / queries.len().max(1) as f64,
        exact_us_per_query: per(exact_s),
        ivf_us_per_query: per(ivf_s),
        speedup: if ivf_s > 0.0 { exact_s / ivf_s } else { 0.0 },
        build_seconds: started.elapsed().as_secs_f64(),
    };
    Ok((ivf, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn clustered_items_reach_the_recall_target_with_fewer_candidates() {
        // 20 tastes × 250 items around each taste's direction.
        let k = 8;
        let mut rng = StdRng::seed_from_u64(7);
        let centres: Vec<Vec<f32>> = (0..20)
            .map(|_| (0..k).map(|_| rng.random::<f32>() - 0.5).collect())
            .collect();
        let mut rows = Vec::new();
        for i in 0..5000 {
            let c = &centres[i % 20];
            rows.extend(c.iter().map(|v| v + (rng.random::<f32>() - 0.5) * 0.1));
        }
        let queries: Vec<Vec<f32>> = (0..100)
            .map(|q| centres[q % 20].iter().map(|v| v * 2.0).collect())
            .collect();
        let (ivf, r) = build(&rows, k, &queries).unwrap();
        assert!(r.recall_at_10 >= TARGET_RECALL, "{r:?}");
        assert!(r.candidates < 5000.0 / 2.0, "{r:?}");
        assert_eq!(ivf.lists.iter().map(Vec::len).sum::<usize>(), 5000);
        assert_eq!(r.lists, 71);
        // The index is valid for the artifact.
        ivf.encode_lists(5000).unwrap();
        ivf.encode_centroids(k).unwrap();
    }
}
