//! Item-to-item co-visitation: how often two items occur near each other in the same group
//! (a session, one shopper's basket window), normalised `c_ij / sqrt(n_i · n_j)` where `n_i` is
//! how many groups hold `i`. Groups are flat (items + offsets); each item's neighbours are
//! counted from an index of where it occurs, on all cores, so 100M events count in bounded memory
//! without materialising the pairs.

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

/// Where each item occurs: `at[first[i]..first[i + 1]]` are the flat positions of item `i`, and
/// `group[p]` is the group of flat position `p`.
struct Occurrences {
    first: Vec<usize>,
    at: Vec<u32>,
    group: Vec<u32>,
}

impl Occurrences {
    fn of(groups: &Groups, n_items: usize) -> Self {
        let mut first = vec![0usize; n_items + 1];
        for &i in &groups.items {
            first[i as usize + 1] += 1;
        }
        for i in 0..n_items {
            first[i + 1] += first[i];
        }
        let mut next = first.clone();
        let mut at = vec![0u32; groups.items.len()];
        let mut group = vec![0u32; groups.items.len()];
        for (g, w) in groups.offsets.windows(2).enumerate() {
            let g = u32::try_from(g).unwrap_or(u32::MAX);
            for (p, (&i, slot)) in groups.items[w[0]..w[1]]
                .iter()
                .zip(&mut group[w[0]..w[1]])
                .enumerate()
            {
                at[next[i as usize]] = u32::try_from(w[0] + p).unwrap_or(u32::MAX);
                next[i as usize] += 1;
                *slot = g;
            }
        }
        Self { first, at, group }
    }

    fn count(&self, i: usize) -> u32 {
        u32::try_from(self.first[i + 1] - self.first[i]).unwrap_or(u32::MAX)
    }
}

/// One thread's counters: a dense count per item and the items touched since the last reset.
struct Counter {
    count: Vec<u32>,
    touched: Vec<u32>,
}

/// Item `a`'s list: every item within `window` positions of an occurrence of `a`, counted once
/// per occurrence, scored `c / max(1, sqrt(n_a · n_b))`, best `keep` first (ties by index).
fn row(
    a: usize,
    groups: &Groups,
    occ: &Occurrences,
    window: usize,
    keep: usize,
    c: &mut Counter,
) -> Vec<(u32, f32)> {
    for &p in &occ.at[occ.first[a]..occ.first[a + 1]] {
        let p = p as usize;
        let g = occ.group[p] as usize;
        let (lo, hi) = (groups.offsets[g], groups.offsets[g + 1]);
        let near =
            p.saturating_sub(window).max(lo)..p.saturating_add(window).saturating_add(1).min(hi);
        for q in near.filter(|&q| q != p) {
            let b = groups.items[q];
            if c.count[b as usize] == 0 {
                c.touched.push(b);
            }
            c.count[b as usize] += 1;
        }
    }
    let n_a = f64::from(occ.count(a));
    let mut out: Vec<(u32, f32)> = c
        .touched
        .drain(..)
        .map(|b| {
            let run = std::mem::take(&mut c.count[b as usize]);
            let norm = (n_a * f64::from(occ.count(b as usize))).sqrt().max(1.0);
            #[expect(clippy::cast_possible_truncation, reason = "scores are f32")]
            (b, (f64::from(run) / norm) as f32)
        })
        .collect();
    let best = |x: &(u32, f32), y: &(u32, f32)| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0));
    if out.len() > keep && keep > 0 {
        out.select_nth_unstable_by(keep - 1, best);
    }
    out.truncate(keep);
    out.sort_by(best);
    out
}

/// An item's index and its list.
type Row = (usize, Vec<(u32, f32)>);

/// Co-visitation lists: per item, the `keep` best neighbours (best first, ties by index) among
/// items at most `window` positions before or after it in a group. Each item counts from an
/// index of where it occurs, so items are independent: they are split across the cores, and
/// memory is the index (8 bytes per occurrence) plus one dense counter per core.
pub fn cooccurrence(
    groups: &Groups,
    window: usize,
    n_items: usize,
    keep: usize,
) -> Vec<Vec<(u32, f32)>> {
    let groups = dedup(groups, n_items);
    let occ = Occurrences::of(&groups, n_items);
    let threads = crate::parallel::threads().min(n_items.max(1));
    let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n_items];
    // Items interleaved across threads in blocks, so popular (low-index) items spread out.
    const BLOCK: usize = 256;
    let (groups, occ) = (&groups, &occ);
    let computed: Vec<Vec<Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut c = Counter {
                        count: vec![0; n_items],
                        touched: Vec::new(),
                    };
                    let mut out = Vec::new();
                    for block in (t * BLOCK..n_items).step_by(threads * BLOCK) {
                        for a in block..(block + BLOCK).min(n_items) {
                            if occ.count(a) > 0 {
                                out.push((a, row(a, groups, occ, window, keep, &mut c)));
                            }
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    for (a, r) in computed.into_iter().flatten() {
        rows[a] = r;
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

    /// The definition, by brute force: every pair of distinct items at most `window` apart in a
    /// deduplicated group, counted once per group.
    fn reference(
        groups: &[Vec<u32>],
        window: usize,
        n: usize,
        keep: usize,
    ) -> Vec<Vec<(u32, f32)>> {
        let mut pairs = std::collections::HashMap::new();
        let mut occurrences = vec![0u32; n];
        for g in groups {
            let mut seen = std::collections::HashSet::new();
            let g: Vec<u32> = g.iter().copied().filter(|i| seen.insert(*i)).collect();
            for (p, &a) in g.iter().enumerate() {
                occurrences[a as usize] += 1;
                for &b in g.iter().skip(p + 1).take(window) {
                    *pairs.entry((a, b)).or_insert(0u32) += 1;
                    *pairs.entry((b, a)).or_insert(0u32) += 1;
                }
            }
        }
        let mut rows = vec![Vec::new(); n];
        for ((a, b), c) in pairs {
            let norm = (f64::from(occurrences[a as usize]) * f64::from(occurrences[b as usize]))
                .sqrt()
                .max(1.0);
            rows[a as usize].push((b, (f64::from(c) / norm) as f32));
        }
        for r in &mut rows {
            r.sort_by(|x: &(u32, f32), y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            r.truncate(keep);
        }
        rows
    }

    #[test]
    fn equals_the_brute_force_definition_on_random_groups() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let n = 700;
        let groups: Vec<Vec<u32>> = (0..3000)
            .map(|_| {
                let len = rng.random_range(1..30);
                // Skewed, so some items have long lists and ties at the cut.
                (0..len)
                    .map(|_| (rng.random_range(0..n) * rng.random_range(0..n) / n) as u32)
                    .collect()
            })
            .collect();
        let flat = Groups::from_vecs(&groups);
        for (window, keep) in [(1, 5), (3, 20), (100, 50), (5, 0), (usize::MAX, 10)] {
            assert_eq!(
                cooccurrence(&flat, window, n as usize, keep),
                reference(&groups, window, n as usize, keep),
                "window {window}, keep {keep}"
            );
        }
    }
}
