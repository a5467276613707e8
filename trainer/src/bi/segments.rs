//! Customer segments: k-means (linfa) on each buyer's recency, frequency and monetary value
//! (RFM), standardised, with k chosen by the silhouette score, and each segment named by how its
//! centroid compares with the average buyer ("Champions": recent, frequent, big spenders; "At
//! risk": frequent or big spenders who stopped buying; …).

use linfa::dataset::DatasetBase;
use linfa::metrics::SilhouetteScore;
use linfa::traits::{Fit, Predict};
use linfa_clustering::KMeans;
use ndarray::{Array1, Array2};

/// Candidate numbers of segments.
pub const K_RANGE: std::ops::RangeInclusive<usize> = 2..=6;
/// Most buyers the silhouette is computed on (it is quadratic); a fixed stride sample.
const SILHOUETTE_SAMPLE: usize = 2_000;

/// One buyer's RFM values.
#[derive(Debug, Clone, PartialEq)]
pub struct Rfm {
    pub shopper: String,
    /// Days since the last purchase, at the end of the data.
    pub recency_days: f64,
    pub orders: f64,
    pub revenue: f64,
}

/// One segment's description.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: usize,
    pub name: String,
    pub shoppers: usize,
    /// Mean RFM values of its buyers.
    pub recency_days: f64,
    pub orders: f64,
    pub revenue: f64,
}

/// The chosen segmentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    pub k: usize,
    pub silhouette: f64,
    /// Segment id per input row.
    pub labels: Vec<usize>,
    pub segments: Vec<Segment>,
}

fn features(rows: &[Rfm]) -> Array2<f64> {
    let raw: Vec<[f64; 3]> = rows
        .iter()
        .map(|r| [r.recency_days, r.orders.ln_1p(), r.revenue.max(0.0).ln_1p()])
        .collect();
    #[expect(clippy::cast_precision_loss, reason = "row counts")]
    let n = raw.len().max(1) as f64;
    let mut out = Array2::zeros((raw.len(), 3));
    for j in 0..3 {
        let mean = raw.iter().map(|r| r[j]).sum::<f64>() / n;
        let sd = (raw.iter().map(|r| (r[j] - mean).powi(2)).sum::<f64>() / n).sqrt();
        for (i, r) in raw.iter().enumerate() {
            out[[i, j]] = if sd > 0.0 { (r[j] - mean) / sd } else { 0.0 };
        }
    }
    out
}

fn silhouette(x: &Array2<f64>, labels: &Array1<usize>) -> f64 {
    let step = x.nrows().div_ceil(SILHOUETTE_SAMPLE).max(1);
    let idx: Vec<usize> = (0..x.nrows()).step_by(step).collect();
    let sample = x.select(ndarray::Axis(0), &idx);
    let targets: Array1<usize> = idx.iter().map(|&i| labels[i]).collect();
    DatasetBase::new(sample, targets)
        .silhouette_score()
        .unwrap_or(-1.0)
}

/// A name from how the centroid compares with the average buyer.
fn name(s: &Segment, all: &Segment) -> &'static str {
    let recent = s.recency_days <= all.recency_days;
    let frequent = s.orders > all.orders;
    let big = s.revenue > all.revenue;
    match (recent, frequent, big) {
        (true, true, true) => "Champions",
        (true, true, false) | (true, false, true) => "Loyal",
        (true, false, false) => "New",
        (false, true, _) | (false, false, true) => "At risk",
        (false, false, false) => "Hibernating",
    }
}

fn describe(rows: &[Rfm], labels: &[usize], k: usize) -> Vec<Segment> {
    let mean = |members: &[&Rfm], id: usize| {
        #[expect(clippy::cast_precision_loss, reason = "row counts")]
        let n = members.len().max(1) as f64;
        Segment {
            id,
            name: String::new(),
            shoppers: members.len(),
            recency_days: members.iter().map(|r| r.recency_days).sum::<f64>() / n,
            orders: members.iter().map(|r| r.orders).sum::<f64>() / n,
            revenue: members.iter().map(|r| r.revenue).sum::<f64>() / n,
        }
    };
    let everyone: Vec<&Rfm> = rows.iter().collect();
    let all = mean(&everyone, 0);
    let mut segments: Vec<Segment> = (0..k)
        .map(|c| {
            let members: Vec<&Rfm> = rows
                .iter()
                .zip(labels)
                .filter(|(_, l)| **l == c)
                .map(|(r, _)| r)
                .collect();
            mean(&members, c)
        })
        .collect();
    // Most valuable first: a name already taken goes to the next tier of the same recency group
    // ("Champions" → "Loyal" → "New"; "At risk" → "Hibernating"), then gets a number.
    let value = |g: &Segment| g.orders.ln_1p() + g.revenue.max(0.0).ln_1p() - g.recency_days / 30.0;
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by(|&a, &b| value(&segments[b]).total_cmp(&value(&segments[a])));
    let mut taken: Vec<String> = Vec::new();
    for i in order {
        let base = name(&segments[i], &all);
        let tiers: &[&str] = if matches!(base, "Champions" | "Loyal" | "New") {
            &["Champions", "Loyal", "New"]
        } else {
            &["At risk", "Hibernating"]
        };
        let start = tiers.iter().position(|t| *t == base).unwrap_or(0);
        let free = tiers[start..]
            .iter()
            .find(|t| !taken.iter().any(|x| x == *t));
        let chosen = match free {
            Some(t) => (*t).to_owned(),
            None => (2..)
                .map(|n| format!("{base} {n}"))
                .find(|c| !taken.contains(c))
                .unwrap_or_else(|| base.to_owned()),
        };
        taken.push(chosen.clone());
        segments[i].name = chosen;
    }
    segments
}

/// Segments `rows` (`None` with fewer than 10 buyers: too few to cluster).
pub fn segment(rows: &[Rfm]) -> Option<Segmentation> {
    if rows.len() < 10 {
        return None;
    }
    let x = features(rows);
    let mut best: Option<(f64, usize, Vec<usize>)> = None;
    for k in K_RANGE.filter(|&k| k < rows.len()) {
        let Ok(model) = KMeans::params(k)
            .n_runs(3)
            .max_n_iterations(100)
            .tolerance(1e-4)
            .fit(&DatasetBase::from(x.clone()))
        else {
            continue;
        };
        let labels: Array1<usize> = model.predict(&x);
        let score = silhouette(&x, &labels);
        if best.as_ref().is_none_or(|b| score > b.0) {
            best = Some((score, k, labels.to_vec()));
        }
    }
    let (silhouette, k, labels) = best?;
    let segments = describe(rows, &labels, k);
    Some(Segmentation {
        k,
        silhouette,
        labels,
        segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_obvious_groups_give_three_named_segments() {
        let mut rows = Vec::new();
        for i in 0..60 {
            let j = f64::from(i % 5);
            let (r, o, m) = match i % 3 {
                0 => (2.0 + j, 12.0 + j, 3_000.0 + 50.0 * j),
                1 => (80.0 + j, 1.0, 40.0 + j),
                _ => (5.0 + j, 1.0, 60.0 + j),
            };
            rows.push(Rfm {
                shopper: format!("s{i}"),
                recency_days: r,
                orders: o,
                revenue: m,
            });
        }
        let s = segment(&rows).unwrap();
        assert_eq!(s.k, 3, "{s:?}");
        assert!(s.silhouette > 0.7, "{}", s.silhouette);
        let name_of = |i: usize| s.segments[s.labels[i]].name.as_str();
        assert_eq!(name_of(0), "Champions");
        assert_eq!(name_of(1), "Hibernating");
        assert_eq!(name_of(2), "New");
        assert_eq!(s.segments.iter().map(|g| g.shoppers).sum::<usize>(), 60);
        assert!(segment(&rows[..5]).is_none());
    }
}
