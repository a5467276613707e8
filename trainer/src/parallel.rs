//! Work split over the machine's cores with scoped threads: one place that knows how many
//! threads to use, how to map chunks of a slice and how to sort a large vector on every core.
//! A panic in a worker is re-raised in the caller, never turned into a missing result.

/// Threads to use: the machine's available parallelism.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `f` over `items` cut into chunks of `chunk_len` (the last may be shorter), one result per
/// chunk in order, the chunks spread over every core. The cut does not depend on the number of
/// cores, so sums folded from the results in order are the same on every machine.
pub fn map_chunks<T: Sync, R: Send>(
    items: &[T],
    chunk_len: usize,
    f: impl Fn(&[T]) -> R + Sync,
) -> Vec<R> {
    let chunks: Vec<&[T]> = items.chunks(chunk_len.max(1)).collect();
    let per_thread = chunks.len().div_ceil(threads()).max(1);
    if chunks.len() <= per_thread {
        return chunks.into_iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .chunks(per_thread)
            .map(|group| s.spawn(move || group.iter().map(|c| f(c)).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Below this many elements a slice is sorted on one core.
const PARALLEL_SORT_MIN: usize = 1 << 16;

/// Sorts `v` (unstable; equal `Copy` keys are indistinguishable) on every core and in place:
/// one pass moves each element into the bucket of `bucket(x)` (an American flag sort pass: no
/// second buffer, so sorting 100M keys costs no extra memory), then the buckets are sorted in
/// parallel. `bucket` must agree with the order: `a < b` implies `bucket(a) <= bucket(b)` (the
/// top byte of a leading hash, say), and the more evenly it spreads, the better the cores share.
pub fn sort_unstable_bucketed<T: Ord + Copy + Send>(v: &mut [T], bucket: impl Fn(&T) -> u8) {
    let t = threads();
    if t < 2 || v.len() < PARALLEL_SORT_MIN {
        v.sort_unstable();
        return;
    }
    let mut ends = [0usize; 256];
    for x in v.iter() {
        ends[usize::from(bucket(x))] += 1;
    }
    let mut next = [0usize; 256];
    let mut total = 0;
    for b in 0..256 {
        next[b] = total;
        total += ends[b];
        ends[b] = total;
    }
    for b in 0..256 {
        while next[b] < ends[b] {
            let target = usize::from(bucket(&v[next[b]]));
            if target == b {
                next[b] += 1;
            } else {
                v.swap(next[b], next[target]);
                next[target] += 1;
            }
        }
    }
    // Contiguous runs of whole buckets of about equal size, one per thread; a run is in order
    // with the next, so sorting each alone sorts all.
    let per_thread = v.len().div_ceil(t);
    let mut runs: Vec<&mut [T]> = Vec::new();
    let mut rest = v;
    let mut taken = 0;
    for (b, &end) in ends.iter().enumerate() {
        if end - taken >= per_thread || (b == 255 && end > taken) {
            let (run, tail) = std::mem::take(&mut rest).split_at_mut(end - taken);
            taken = end;
            runs.push(run);
            rest = tail;
        }
    }
    std::thread::scope(|s| {
        for run in runs {
            s.spawn(move || run.sort_unstable());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    #[test]
    fn sorts_like_the_standard_sort() {
        let mut rng = StdRng::seed_from_u64(7);
        for len in [0, 1, 5, PARALLEL_SORT_MIN - 1, PARALLEL_SORT_MIN, 300_001] {
            // Spread hashes, and keys crowded into a few buckets.
            for spread in [u64::MAX, 3 << 56] {
                let v: Vec<(u64, u32)> = (0..len)
                    .map(|i| (rng.random_range(0..=spread), i as u32))
                    .collect();
                let mut want = v.clone();
                want.sort_unstable();
                let mut got = v;
                sort_unstable_bucketed(&mut got, |x| x.0.to_be_bytes()[0]);
                assert_eq!(got, want, "len {len}");
            }
        }
    }

    #[test]
    fn maps_every_chunk_in_order() {
        let v: Vec<u32> = (0..1001).collect();
        let parts = map_chunks(&v, 100, <[u32]>::to_vec);
        assert_eq!(parts.len(), 11);
        assert_eq!(parts.concat(), v);
        assert!(map_chunks(&[] as &[u32], 10, <[u32]>::len).is_empty());
    }
}
