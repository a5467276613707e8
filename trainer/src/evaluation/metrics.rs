//! Ranking metrics for offline evaluation, with one held-out item per user (leave-last-out) or a
//! set of held-out items (time split): Recall@K, NDCG@K (binary gain), HR@K, MRR, catalog
//! coverage and the share of popular items recommended.

use std::collections::HashSet;

use serde::Serialize;

/// Accumulates per-user results into averages.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccumulator {
    k: usize,
    users: usize,
    recall: f64,
    ndcg: f64,
    hits: f64,
    hits20: f64,
    mrr: f64,
    recommended: HashSet<u32>,
    popular_recommended: usize,
    total_recommended: usize,
}

/// Averages over the evaluated users.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub k: usize,
    pub users: usize,
    pub recall: f64,
    pub ndcg: f64,
    pub hit_rate: f64,
    /// HR@20 (always reported, whatever `k`).
    pub hit_rate_20: f64,
    pub mrr: f64,
    /// Share of the catalog that appears in at least one top-K list.
    pub coverage: f64,
    /// Share of recommended slots taken by the top-1% most popular items.
    pub popular_share: f64,
}

impl MetricsAccumulator {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            ..Self::default()
        }
    }

    /// Adds one user: `ranked` is the model's list (best first, at least max(k, 20) long when it
    /// can be), `relevant` the held-out items, `popular` the top-1% popular items.
    pub fn add(&mut self, ranked: &[u32], relevant: &HashSet<u32>, popular: &HashSet<u32>) {
        if relevant.is_empty() {
            return;
        }
        self.users += 1;
        let top = &ranked[..ranked.len().min(self.k)];
        let hits_k = top.iter().filter(|i| relevant.contains(i)).count();
        #[expect(clippy::cast_precision_loss, reason = "small counts")]
        {
            self.recall += hits_k as f64 / relevant.len().min(self.k) as f64;
        }
        let dcg: f64 = top
            .iter()
            .enumerate()
            .filter(|(_, i)| relevant.contains(i))
            .map(|(r, _)| 1.0 / ((r + 2) as f64).log2())
            .sum();
        let ideal: f64 = (0..relevant.len().min(self.k))
            .map(|r| 1.0 / ((r + 2) as f64).log2())
            .sum();
        self.ndcg += dcg / ideal;
        self.hits += f64::from(u8::from(hits_k > 0));
        self.hits20 += f64::from(u8::from(
            ranked.iter().take(20).any(|i| relevant.contains(i)),
        ));
        if let Some(r) = top.iter().position(|i| relevant.contains(i)) {
            #[expect(clippy::cast_precision_loss, reason = "rank < k")]
            {
                self.mrr += 1.0 / (r + 1) as f64;
            }
        }
        self.recommended.extend(top.iter().copied());
        self.popular_recommended += top.iter().filter(|i| popular.contains(i)).count();
        self.total_recommended += top.len();
    }

    /// Adds another accumulator's users (for per-thread accumulation).
    pub fn merge(&mut self, other: Self) {
        self.users += other.users;
        self.recall += other.recall;
        self.ndcg += other.ndcg;
        self.hits += other.hits;
        self.hits20 += other.hits20;
        self.mrr += other.mrr;
        self.recommended.extend(other.recommended);
        self.popular_recommended += other.popular_recommended;
        self.total_recommended += other.total_recommended;
    }

    /// Final averages; `catalog` is the number of items that could be recommended.
    #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    pub fn finish(&self, catalog: usize) -> Metrics {
        let n = self.users.max(1) as f64;
        Metrics {
            k: self.k,
            users: self.users,
            recall: self.recall / n,
            ndcg: self.ndcg / n,
            hit_rate: self.hits / n,
            hit_rate_20: self.hits20 / n,
            mrr: self.mrr / n,
            coverage: self.recommended.len() as f64 / catalog.max(1) as f64,
            popular_share: self.popular_recommended as f64 / self.total_recommended.max(1) as f64,
        }
    }
}

/// Indices of the `top` highest scores, best first, skipping `exclude`; ties go to the lower index.
pub fn top_k(scores: &[f32], top: usize, exclude: &HashSet<u32>) -> Vec<u32> {
    let mut heap: Vec<(f32, u32)> = Vec::with_capacity(top + 1);
    for (i, &s) in scores.iter().enumerate() {
        #[expect(clippy::cast_possible_truncation, reason = "item counts fit u32")]
        let i = i as u32;
        if exclude.contains(&i) || !s.is_finite() {
            continue;
        }
        if heap.len() < top {
            heap.push((s, i));
            if heap.len() == top {
                heap.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            }
        } else if heap.last().is_some_and(|&(ls, _)| s > ls) {
            let at = heap.partition_point(|&(hs, _)| hs >= s);
            heap.insert(at, (s, i));
            heap.pop();
        }
    }
    if heap.len() < top {
        heap.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    heap.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_held_out_item() {
        let mut acc = MetricsAccumulator::new(10);
        let popular = HashSet::from([1]);
        acc.add(&[5, 1, 7], &HashSet::from([1]), &popular);
        acc.add(&[5, 3, 7], &HashSet::from([9]), &popular);
        let m = acc.finish(10);
        assert_eq!(m.users, 2);
        assert!((m.hit_rate - 0.5).abs() < 1e-12);
        assert!((m.recall - 0.5).abs() < 1e-12);
        assert!((m.ndcg - 0.5 * (1.0 / 3f64.log2())).abs() < 1e-12);
        assert!((m.mrr - 0.25).abs() < 1e-12);
        assert!((m.coverage - 0.4).abs() < 1e-12);
        assert!((m.popular_share - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn hit_at_first_rank_has_ndcg_one() {
        let mut acc = MetricsAccumulator::new(5);
        acc.add(&[4, 2], &HashSet::from([4]), &HashSet::new());
        assert!((acc.finish(5).ndcg - 1.0).abs() < 1e-12);
        acc.add(&[], &HashSet::new(), &HashSet::new());
        assert_eq!(acc.finish(5).users, 1);
    }

    #[test]
    fn top_k_orders_and_excludes() {
        let scores = [0.1, 0.9, 0.5, 0.9, f32::NAN, 0.7];
        assert_eq!(top_k(&scores, 3, &HashSet::new()), vec![1, 3, 5]);
        assert_eq!(top_k(&scores, 3, &HashSet::from([1])), vec![3, 5, 2]);
        assert_eq!(top_k(&scores, 10, &HashSet::new()), vec![1, 3, 5, 2, 0]);
        assert!(top_k(&scores, 0, &HashSet::new()).is_empty());
    }
}
