//! Item-to-item co-visitation: how often two items occur near each other in the same group
//! (a session, one shopper's basket window), normalised `c_ij / sqrt(n_i · n_j)` where `n_i` is
//! how many groups hold `i`. Groups are flat (items + offsets) and pairs are counted in shards
//! of items, so 100M events count in bounded memory.

/// Groups of item indices, flat: group `g` is `items[offsets[g]..offsets[g + 1]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Groups {
    pub items: Vec<u32>,
    pub offsets: Vec<usize>,
}

impl Groups {
    pub fn new() -> Self {
        Self {
            items: Vec::new(),
            offsets: vec![0],
        }
    }

    /// Closes the current group (empty groups are dropped).
    pub fn close(&mut self) {
        if self.offsets.last().is_some_and(|&o| o < self.items.len()) {
            self.offsets.push(self.items.len());
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        self.offsets.windows(2).map(|w| &self.items[w[0]..w[1]])
    }

    pub fn from_vecs(groups: &[Vec<u32>]) -> Self {
        let mut g = Self::new();
        for v in groups {
            g.items.extend_from_slice(v);
            g.close();
        }
        g
    }
}

/// Most pair entries held at once (8 bytes each): 64M ≈ 512 MB.
const SHARD_PAIRS: usize = 64 << 20;

/// Each item once per group, at its first position.
fn dedup(groups: &Groups, n_items: usize) -> Groups {
    let mut marker = vec![usize::MAX; n_items];
    let mut out = Groups::new();
    for (g, items) in groups.iter().enumerate() {
        for &i in items {
            if let Some(m) = marker.get_mut(i as usize)
                && *m != g
            {
                *m = g;
                out.items.push(i);
            }
        }
        out.close();
    }
    out
}

/// Co-visitation lists: per item, the `keep` best neighbours (best first, ties by index) among
/// items at most `window` positions later in a group.
pub fn cooccurrence(
    groups: &Groups,
    window: usize,
    n_items: usize,
    keep: usize,
) -> Vec<Vec<(u32, f32)>> {
    let groups = dedup(groups, n_items);
    let mut occurrences = vec![0u32; n_items];
    for &i in &groups.items {
        occurrences[i as usize] += 1;
    }
    let pairs_of = |len: usize| -> usize { (0..len).map(|p| window.min(len - 1 - p)).sum() };
    let total: usize = groups.iter().map(|g| 2 * pairs_of(g.len())).sum();
    let shards = total.div_ceil(SHARD_PAIRS).max(1);
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for shard in 0..shards {
        pairs.clear();
        let mine = |i: u32| i as usize % shards == shard;
        for g in groups.iter() {
            for (p, &a) in g.iter().enumerate() {
                for &b in g.iter().skip(p + 1).take(window) {
                    if mine(a) {
                        pairs.push((a, b));
                    }
                    if mine(b) {
                        pairs.push((b, a));
                    }
                }
            }
        }
        pairs.sort_unstable();
        let mut at = 0;
        while at < pairs.len() {
            let a = pairs[at].0;
            let mut row: Vec<(u32, f32)> = Vec::new();
            while at < pairs.len() && pairs[at].0 == a {
                let b = pairs[at].1;
                let run = pairs[at..].iter().take_while(|&&q| q == (a, b)).count();
                at += run;
                let norm = (f64::from(occurrences[a as usize])
                    * f64::from(occurrences[b as usize]))
                .sqrt()
                .max(1.0);
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_precision_loss,
                    reason = "scores are f32"
                )]
                row.push((b, (run as f64 / norm) as f32));
            }
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            row.truncate(keep);
            rows[a as usize] = row;
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pairs_within_the_window_once_per_group() {
        let g = Groups::from_vecs(&[vec![0, 1, 0, 2], vec![0, 1], vec![3]]);
        let rows = cooccurrence(&g, 1, 4, 10);
        // Group 1 dedups to [0, 1, 2]: window 1 pairs (0,1), (1,2); group 2: (0,1).
        // n0 = 2, n1 = 2, n2 = 1: s01 = 2 / 2 = 1, s12 = 1 / sqrt(2).
        assert_eq!(rows[0], vec![(1, 1.0)]);
        assert_eq!(rows[1], vec![(0, 1.0), (2, 1.0 / 2f32.sqrt())]);
        assert_eq!(rows[2], vec![(1, 1.0 / 2f32.sqrt())]);
        assert!(rows[3].is_empty());
        assert_eq!(cooccurrence(&g, 10, 4, 1)[1].len(), 1);
    }

    #[test]
    fn empty_groups_are_dropped() {
        let mut g = Groups::new();
        g.close();
        g.items.push(5);
        g.close();
        assert_eq!(g.len(), 1);
        assert_eq!(g.iter().next(), Some(&[5][..]));
    }
}
