//! Neighbour lists as formats v6 and v7 store them: v4's layout ([`super::Packed`]) made about a
//! third smaller, still read in place, row by row.
//!
//! - Index gaps are Rice-coded with a per-row parameter ([`super::bits`]): about 13 bits per
//!   neighbour in a 100k-item catalog instead of v4's 16.
//! - Scores are `bits`-wide codes into the section's levels ([`super::levels`]): 4 bits, 16
//!   levels learned per list, for every list since v7 (v6 kept v4's 8-bit bytes for co-view and
//!   bought-together). `trainer evaluate` measures quality on exactly these levels: the session
//!   lists through `as_stored`, co-view through the loaded artifact of the shopper fold-in.
//! - Row offsets are a `u32` per block of rows plus a `u16` per row, and a section whose rows are
//!   all scaled to a maximum of 1 (the session lists) stores no maxima.
//!
//! ```text
//! u32 rows · u32 data bytes · u32 flags (bit 0: no maxima, every row's is 1) · u32 block rows
//! u32 score bits · (1 << bits) × f32 levels · (blocks + 1) × u32 block offsets
//! rows × u16 offset from the block's start · [rows × f32 maximum] · data
//! row: varint (count << 5 | rice k) · score codes, `bits` each, LSB first, byte-padded · Rice gaps
//! ```
//!
//! At load the header, levels, offsets and maxima are checked (one pass over the rows, none over
//! the entries); an entry's index is checked when it is read, and a row that decodes badly ends
//! early. Nothing here panics on any input.

use std::ops::Range;

use super::bits::{BitReader, BitWriter, best_rice};
use super::{ListError, get_varint, past_array, put_varint, read_f32, read_u32, sort_row, u32_of};

/// Score bits of the session model's lists.
pub const SESSION_BITS: u32 = 4;
/// Score bits of co-view and bought-together (v6 wrote 8, v4's one byte; the reader takes any
/// width from 1 to 8).
pub const NEIGHBOUR_BITS: u32 = 4;
/// Largest block of rows sharing one `u32` offset.
const MAX_BLOCK: usize = 64;
const NO_MAXIMA: u32 = 1;
const FIXED: usize = 20;

/// Encodes one section with `bits`-wide score codes. Every index must be below `n_targets` and
/// appear once per row.
pub fn encode(rows: &[Vec<(u32, f32)>], n_targets: usize, bits: u32) -> Result<Vec<u8>, ListError> {
    if !(1..=8).contains(&bits) {
        return Err(ListError::Invalid(format!(
            "score bits {bits} not in 1..=8"
        )));
    }
    let maxima: Vec<f32> = rows
        .iter()
        .map(|r| r.iter().map(|e| e.1).fold(0.0f32, f32::max))
        .collect();
    let rel: Vec<f32> = rows
        .iter()
        .zip(&maxima)
        .flat_map(|(r, &m)| r.iter().map(move |e| if m > 0.0 { e.1 / m } else { 0.0 }))
        .collect();
    let levels = super::levels::learn(&rel, bits);
    let mut data = Vec::new();
    let mut starts = Vec::with_capacity(rows.len());
    let mut row: Vec<(u32, f32)> = Vec::new();
    let mut gaps: Vec<u32> = Vec::new();
    for (r, &max) in rows.iter().zip(&maxima) {
        starts.push(data.len());
        sort_row(r, &mut row, n_targets)?;
        gaps.clear();
        let mut next = 0u32;
        for &(idx, _) in &row {
            gaps.push(idx - next);
            next = idx + 1;
        }
        let (k, _) = best_rice(&gaps);
        let count = u32_of(row.len(), "entries")?;
        if count > u32::MAX >> 5 {
            return Err(ListError::Invalid("too many entries in a row".into()));
        }
        put_varint(&mut data, (count << 5) | k);
        let mut codes = BitWriter::default();
        for &(_, s) in &row {
            let rel = if max > 0.0 { s / max } else { 0.0 };
            codes.put(u32::from(super::levels::code(&levels, rel)), bits);
        }
        data.extend(codes.finish());
        let mut rice = BitWriter::default();
        for &g in &gaps {
            rice.rice(g, k);
        }
        data.extend(rice.finish());
    }
    let block = block_rows(&starts);
    let unit = rows
        .iter()
        .zip(&maxima)
        .all(|(r, &m)| r.is_empty() || m == 1.0);
    let mut buf = Vec::with_capacity(data.len() + rows.len() * 6 + 64);
    for v in [
        u32_of(rows.len(), "rows")?,
        u32_of(data.len(), "list bytes")?,
        if unit { NO_MAXIMA } else { 0 },
        u32_of(block, "block rows")?,
        bits,
    ] {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    for l in &levels {
        buf.extend_from_slice(&l.to_le_bytes());
    }
    for b in (0..rows.len()).step_by(block) {
        buf.extend_from_slice(&u32_of(starts[b], "list bytes")?.to_le_bytes());
    }
    buf.extend_from_slice(&u32_of(data.len(), "list bytes")?.to_le_bytes());
    for (r, &s) in starts.iter().enumerate() {
        let from_block = s - starts[r - r % block];
        let v = u16::try_from(from_block)
            .map_err(|_| ListError::Invalid("row offset past its block".into()))?;
        buf.extend_from_slice(&v.to_le_bytes());
    }
    if !unit {
        for m in &maxima {
            buf.extend_from_slice(&m.to_le_bytes());
        }
    }
    buf.extend_from_slice(&data);
    Ok(buf)
}

/// The largest block (a power of two up to [`MAX_BLOCK`]) whose rows all start within a `u16`
/// of the block's first row.
fn block_rows(starts: &[usize]) -> usize {
    let mut block = MAX_BLOCK;
    while block > 1 {
        let fits = starts.chunks(block).all(|c| {
            c.last()
                .zip(c.first())
                .is_none_or(|(l, f)| l - f <= usize::from(u16::MAX))
        });
        if fits {
            return block;
        }
        block /= 2;
    }
    1
}

/// A compact section's positions in the artifact buffer, checked at load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compact {
    pub(crate) rows: usize,
    block: usize,
    bits: u32,
    levels: usize,
    blocks: usize,
    in_block: usize,
    maxima: Option<usize>,
    data: Range<usize>,
    n_targets: usize,
}

impl Compact {
    /// Checks the header, levels, offsets and maxima of section `id` at `r` (not the entries).
    pub(crate) fn load(
        b: &[u8],
        r: Range<usize>,
        id: u32,
        n_targets: usize,
    ) -> Result<Self, ListError> {
        let bad = |why| ListError::Malformed { id, why };
        let word = |i: usize| read_u32(b, r.start + 4 * i).ok_or(bad("header is truncated"));
        let (rows, data_len, flags, block, bits) = (
            word(0)? as usize,
            word(1)? as usize,
            word(2)?,
            word(3)? as usize,
            word(4)?,
        );
        if !(1..=8).contains(&bits) || !(1..=MAX_BLOCK).contains(&block) || flags > NO_MAXIMA {
            return Err(bad("header values out of range"));
        }
        let n_blocks = rows.div_ceil(block);
        let levels = r.start + FIXED;
        let blocks = levels + (4usize << bits);
        let past = || bad("lists run past the section");
        let in_block = n_blocks
            .checked_add(1)
            .and_then(|n| past_array(blocks, n, 4))
            .ok_or_else(past)?;
        let after_offsets = past_array(in_block, rows, 2).ok_or_else(past)?;
        let (maxima, start) = if flags & NO_MAXIMA == 0 {
            let end = past_array(after_offsets, rows, 4).ok_or_else(past)?;
            (Some(after_offsets), end)
        } else {
            (None, after_offsets)
        };
        let end = start.checked_add(data_len).filter(|&e| e <= r.end);
        let Some(end) = end else {
            return Err(past());
        };
        for i in 0..1usize << bits {
            if read_f32(b, levels + 4 * i).is_none_or(|l| !(0.0..=1.0).contains(&l)) {
                return Err(bad("a score level is not in [0, 1]"));
            }
        }
        let c = Self {
            rows,
            block,
            bits,
            levels,
            blocks,
            in_block,
            maxima,
            data: start..end,
            n_targets,
        };
        let mut prev = 0;
        for i in 0..=rows {
            let o = c.start(b, i).ok_or(bad("offset out of bounds"))?;
            if o < prev || o > data_len {
                return Err(bad("row offsets are not increasing"));
            }
            prev = o;
        }
        if read_u32(b, blocks + 4 * n_blocks).is_none_or(|o| o as usize != data_len) {
            return Err(bad("the last block offset is not the data length"));
        }
        if let Some(m) = maxima {
            for i in 0..rows {
                if read_f32(b, m + i * 4).is_none_or(|m| !m.is_finite() || m < 0.0) {
                    return Err(bad("a row maximum is not a finite, non-negative number"));
                }
            }
        }
        Ok(c)
    }

    /// Where row `i` starts in the data (row `rows`: the data's end).
    fn start(&self, b: &[u8], i: usize) -> Option<usize> {
        if i >= self.rows {
            return (i == self.rows).then_some(self.data.len());
        }
        let block = read_u32(b, self.blocks + 4 * (i / self.block))? as usize;
        let within = b.get(self.in_block + 2 * i..self.in_block + 2 * i + 2)?;
        Some(block + usize::from(u16::from_le_bytes([within[0], within[1]])))
    }

    /// Calls `f(index, score)` for each entry of row `r`, in index order. Entries whose index is
    /// out of range are skipped; a row that decodes badly ends where it breaks.
    pub(crate) fn for_each(&self, b: &[u8], r: usize, f: &mut dyn FnMut(u32, f32)) {
        if r >= self.rows {
            return;
        }
        let (Some(s), Some(e)) = (self.start(b, r), self.start(b, r + 1)) else {
            return;
        };
        let (mut at, end) = (
            self.data.start + s,
            (self.data.start + e).min(self.data.end),
        );
        let max = match self.maxima {
            Some(m) => read_f32(b, m + r * 4).unwrap_or(0.0),
            None => 1.0,
        };
        let Some(head) = get_varint(b, &mut at, end) else {
            return;
        };
        let (count, k) = (head >> 5, head & 31);
        if k > 24 {
            return;
        }
        let code_bytes = (count as usize)
            .saturating_mul(self.bits as usize)
            .div_ceil(8);
        let Some(gaps_at) = at.checked_add(code_bytes).filter(|&g| g <= end) else {
            return;
        };
        let mut codes = BitReader::new(b, at, gaps_at);
        let mut gaps = BitReader::new(b, gaps_at, end);
        let mut next = 0u32;
        for _ in 0..count {
            let (Some(code), Some(gap)) = (codes.get(self.bits), gaps.rice(k)) else {
                return;
            };
            let Some(idx) = next.checked_add(gap) else {
                return;
            };
            next = idx.saturating_add(1);
            if (idx as usize) < self.n_targets {
                let level = read_f32(b, self.levels + 4 * code as usize).unwrap_or(0.0);
                f(idx, max * level);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{collect, rows, survives_damage};
    use super::*;

    fn read(bytes: &[u8], n: usize) -> Vec<Vec<(u32, f32)>> {
        let p = Compact::load(bytes, 0..bytes.len(), 99, n).unwrap();
        collect(p.rows, |r, f| p.for_each(bytes, r, f))
    }

    #[test]
    fn rows_come_back_in_index_order_at_every_width() {
        let rows = rows();
        for bits in [8, 4, 2] {
            let bytes = encode(&rows, 3_000_000, bits).unwrap();
            let got = read(&bytes, 3_000_000);
            assert_eq!(got.len(), 5, "a row past the end reads empty");
            for (want, got) in rows.iter().zip(&got) {
                let mut want = want.clone();
                want.sort_unstable_by_key(|e| e.0);
                let max = want.iter().map(|e| e.1).fold(0.0, f32::max);
                assert_eq!(
                    want.iter().map(|e| e.0).collect::<Vec<_>>(),
                    got.iter().map(|e| e.0).collect::<Vec<_>>()
                );
                for (w, g) in want.iter().zip(got) {
                    let tol = if bits == 8 { max / 255.0 } else { max * 0.5 };
                    assert!((w.1 - g.1).abs() <= tol + 1e-6, "{bits}: {w:?} {g:?}");
                }
            }
            assert_eq!(got[2], vec![(0, 2.0)], "the maximum is exact");
        }
    }

    #[test]
    fn eight_bits_read_as_v4_does_and_the_layout_is_smaller() {
        let rows = rows();
        let old = super::super::encode_v4(&rows, 3_000_000).unwrap();
        let p = super::super::Packed::load(&old, 0..old.len(), 0, 3_000_000).unwrap();
        let bytes = encode(&rows, 3_000_000, 8).unwrap();
        assert_eq!(
            read(&bytes, 3_000_000),
            collect(p.rows, |r, f| p.for_each(&old, r, f))
        );
        #[expect(clippy::cast_precision_loss, reason = "test data")]
        let big: Vec<Vec<(u32, f32)>> = (0..2000u32)
            .map(|r| {
                (0..30u32)
                    .map(|j| ((r * 7919 + j * 3331) % 100_000, 1.0 / (j as f32 + 1.0)))
                    .collect()
            })
            .collect();
        let v4_len = super::super::v4_len(&big);
        let v6_len = encode(&big, 100_000, 8).unwrap().len();
        let v6_4 = encode(&big, 100_000, 4).unwrap().len();
        assert!(v6_len * 100 < v4_len * 92, "{v6_len} vs {v4_len}");
        assert!(v6_4 * 100 < v4_len * 75, "{v6_4} vs {v4_len}");
    }

    #[test]
    fn unit_rows_store_no_maxima_and_long_rows_shrink_the_block() {
        let unit = vec![vec![(1u32, 1.0f32), (5, 0.5)], vec![], vec![(0, 1.0)]];
        let with = encode(&unit, 10, 4).unwrap();
        let mut scaled = unit.clone();
        scaled[0][0].1 = 2.0;
        assert_eq!(encode(&scaled, 10, 4).unwrap().len(), with.len() + 12);
        assert_eq!(read(&with, 10)[0], vec![(1, 1.0), (5, 0.5)]);
        // Rows of 3000 entries: a block of 64 would overflow the u16 offsets.
        #[expect(clippy::cast_precision_loss, reason = "test data")]
        let long: Vec<Vec<(u32, f32)>> = (0..100u32)
            .map(|r| {
                (0..3000u32)
                    .map(|j| (j * 30 + r % 7, 1.0 + j as f32))
                    .collect()
            })
            .collect();
        let bytes = encode(&long, 100_000, 8).unwrap();
        let got = read(&bytes, 100_000);
        assert_eq!(got[99].len(), 3000);
        assert_eq!(got[99][2999].0, 2999 * 30 + 99 % 7);
    }

    #[test]
    fn the_writer_refuses_what_it_cannot_read_back() {
        assert!(
            encode(&[vec![(5, 1.0)]], 5, 8).is_err(),
            "index out of range"
        );
        assert!(
            encode(&[vec![(1, 1.0), (1, 0.5)]], 5, 4).is_err(),
            "a neighbour twice"
        );
        assert!(encode(&[vec![(1, 1.0)]], 5, 9).is_err(), "nine bits");
    }

    /// Whatever the bytes, loading fails cleanly or every row reads without a panic.
    #[test]
    fn any_damage_loads_as_an_error_or_reads_without_panic() {
        for bits in [8, 4] {
            survives_damage(&encode(&rows(), 3_000_000, bits).unwrap(), |b| {
                let p = Compact::load(b, 0..b.len(), 1, 3_000_000).ok()?;
                Some(collect(p.rows, |r, f| p.for_each(b, r, f)))
            });
        }
    }
}
