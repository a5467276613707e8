//! Neighbour lists packed for the artifact: co-visitation, bought-together and the session
//! model's lists, which together are most of a big catalog's artifact.
//!
//! Formats v6 and v7 write them compact ([`compact`]: Rice-coded index gaps, score codes of a few
//! bits, blocked offsets). This module keeps v4's packed reader ([`Packed`]) for v4 and v5 artifacts:
//! per row the neighbours are sorted by index and stored as LEB128 gaps, followed by one score
//! byte each relative to the row's maximum. Rows are found through byte offsets, so any row is
//! read in place without touching the others. At load only the offsets and maxima are checked
//! (one pass over the rows, none over the entries); an entry's index is checked when it is read,
//! and a row that decodes badly ends early. Nothing here panics on any input.
//!
//! ```text
//! v4: u32 rows · u32 data bytes · (rows + 1) × u32 byte offsets · rows × f32 maximum · data
//! row: varint count · count score bytes · count varint gaps (first index, then index − previous − 1)
//! ```

mod bits;
pub(crate) mod compact;
mod levels;

pub(crate) use compact::Compact;
pub use compact::{NEIGHBOUR_BITS, SESSION_BITS};

use std::ops::Range;

/// Why lists could not be written or read; the artifact reports it as its own error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    #[error("cannot write neighbour lists: {0}")]
    Invalid(String),
    #[error("artifact section {id} is malformed: {why}")]
    Malformed { id: u32, why: &'static str },
}

/// The score byte of `score` in a row whose maximum is `max`: `round(255 · s / max)`, at least 1
/// for any positive score, 0 for none (v4's writer; v6 keeps these bytes as its 8-bit levels).
#[cfg(test)]
fn score_byte(score: f32, max: f32) -> u8 {
    if max > 0.0 && score > 0.0 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "clamped to 1..=255"
        )]
        let q = (score / max * 255.0).round().clamp(1.0, 255.0) as u8;
        q
    } else {
        0
    }
}

fn put_varint(buf: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        #[expect(clippy::cast_possible_truncation, reason = "the low 7 bits")]
        buf.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    #[expect(clippy::cast_possible_truncation, reason = "below 0x80")]
    buf.push(v as u8);
}

/// Reads a varint at `*at` within `end`, advancing `*at`; `None` when it runs past or overflows.
fn get_varint(b: &[u8], at: &mut usize, end: usize) -> Option<u32> {
    let mut v: u32 = 0;
    for shift in [0u32, 7, 14, 21, 28] {
        if *at >= end {
            return None;
        }
        let byte = *b.get(*at)?;
        *at += 1;
        let part = u32::from(byte & 0x7f);
        if shift == 28 && part > 0x0f {
            return None;
        }
        v |= part << shift;
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn u32_of(n: usize, what: &str) -> Result<u32, ListError> {
    u32::try_from(n).map_err(|_| ListError::Invalid(format!("too many {what}")))
}

/// `r` into `row`, sorted by index; an error when an index is out of range or named twice.
fn sort_row(
    r: &[(u32, f32)],
    row: &mut Vec<(u32, f32)>,
    n_targets: usize,
) -> Result<(), ListError> {
    row.clear();
    row.extend_from_slice(r);
    row.sort_unstable_by_key(|e| e.0);
    if let Some(&(idx, _)) = row.iter().find(|e| e.0 as usize >= n_targets) {
        return Err(ListError::Invalid(format!(
            "index {idx} out of range {n_targets}"
        )));
    }
    if row.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(ListError::Invalid(
            "a list names one neighbour twice".into(),
        ));
    }
    Ok(())
}

/// Encodes one section as v4 did (kept to test the v4 reader). Every index must be below
/// `n_targets` and appear once per row.
#[cfg(test)]
pub(crate) fn encode_v4(rows: &[Vec<(u32, f32)>], n_targets: usize) -> Result<Vec<u8>, ListError> {
    let mut data = Vec::new();
    let mut offsets = Vec::with_capacity(rows.len() + 1);
    let mut maxima = Vec::with_capacity(rows.len());
    let mut row: Vec<(u32, f32)> = Vec::new();
    for r in rows {
        offsets.push(u32_of(data.len(), "list bytes")?);
        let max = r.iter().map(|e| e.1).fold(0.0f32, f32::max);
        maxima.push(max);
        sort_row(r, &mut row, n_targets)?;
        put_varint(&mut data, u32_of(row.len(), "entries")?);
        data.extend(row.iter().map(|e| score_byte(e.1, max)));
        let mut next = 0u32;
        for &(idx, _) in &row {
            put_varint(&mut data, idx - next);
            next = idx + 1;
        }
    }
    offsets.push(u32_of(data.len(), "list bytes")?);
    let mut buf = Vec::with_capacity(8 + offsets.len() * 4 + maxima.len() * 4 + data.len());
    buf.extend_from_slice(&u32_of(rows.len(), "rows")?.to_le_bytes());
    buf.extend_from_slice(&u32_of(data.len(), "list bytes")?.to_le_bytes());
    for o in offsets {
        buf.extend_from_slice(&o.to_le_bytes());
    }
    for m in maxima {
        buf.extend_from_slice(&m.to_le_bytes());
    }
    buf.extend_from_slice(&data);
    Ok(buf)
}

/// Encodes one section as format v6 stores it, with `bits`-wide score codes.
pub(crate) fn encode(
    rows: &[Vec<(u32, f32)>],
    n_targets: usize,
    bits: u32,
) -> Result<Vec<u8>, ListError> {
    compact::encode(rows, n_targets, bits)
}

/// Bytes format v6 takes for `rows` with `bits`-wide scores (what a model's lists cost in the
/// artifact).
pub fn encoded_len(rows: &[Vec<(u32, f32)>], bits: u32) -> usize {
    let n = rows
        .iter()
        .flatten()
        .map(|e| e.0 as usize + 1)
        .max()
        .unwrap_or(0);
    compact::encode(rows, n, bits).map_or(0, |b| b.len())
}

/// Bytes v4 took for `rows`.
#[cfg(test)]
fn v4_len(rows: &[Vec<(u32, f32)>]) -> usize {
    let varint = |v: u32| match v {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    };
    let mut ids: Vec<u32> = Vec::new();
    let data: usize = rows
        .iter()
        .map(|r| {
            ids.clear();
            ids.extend(r.iter().map(|e| e.0));
            ids.sort_unstable();
            let mut next = 0u32;
            let gaps: usize = ids
                .iter()
                .map(|&i| {
                    let g = varint(i.saturating_sub(next));
                    next = i.saturating_add(1);
                    g
                })
                .sum();
            varint(u32::try_from(r.len()).unwrap_or(u32::MAX)) + r.len() + gaps
        })
        .sum();
    8 + (rows.len() + 1) * 4 + rows.len() * 4 + data
}

/// `rows` as a v6 artifact gives them back (index order, `bits`-wide scores): what the edge ranks
/// on, so an offline evaluation can rank on exactly that.
pub fn as_stored(
    rows: &[Vec<(u32, f32)>],
    n_targets: usize,
    bits: u32,
) -> Result<Vec<Vec<(u32, f32)>>, ListError> {
    let bytes = compact::encode(rows, n_targets, bits)?;
    let packed = Compact::load(&bytes, 0..bytes.len(), 0, n_targets)?;
    Ok((0..packed.rows)
        .map(|r| {
            let mut row = Vec::new();
            packed.for_each(&bytes, r, &mut |j, s| row.push((j, s)));
            row
        })
        .collect())
}

/// Where an array of `count` items of `width` bytes starting at `start` ends (`None` on overflow:
/// on wasm32 `usize` is 32 bits, and the counts come from the file).
fn past_array(start: usize, count: usize, width: usize) -> Option<usize> {
    count.checked_mul(width)?.checked_add(start)
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn read_f32(b: &[u8], at: usize) -> Option<f32> {
    read_u32(b, at).map(f32::from_bits)
}

/// The start every list section shares (v3 and v4): a row count, a second count (entries in v3,
/// data bytes in v4), `rows + 1` offsets and `rows` maxima; `after` is where the rest begins.
pub(crate) struct Heads {
    pub(crate) rows: usize,
    pub(crate) count: usize,
    pub(crate) offsets: usize,
    pub(crate) maxima: usize,
    pub(crate) after: usize,
}

impl Heads {
    /// Reads the counts of the section `id` at `r` and where its parts start (overflow-checked:
    /// on wasm32 `usize` is 32 bits, and the counts come from the file).
    pub(crate) fn read(b: &[u8], r: &Range<usize>, id: u32) -> Result<Self, ListError> {
        let bad = |why| ListError::Malformed { id, why };
        let rows = read_u32(b, r.start).ok_or(bad("no row count"))? as usize;
        let count = read_u32(b, r.start + 4).ok_or(bad("no entry count"))? as usize;
        let past = || bad("entries run past the section");
        let offsets = r.start + 8;
        let maxima = rows
            .checked_add(1)
            .and_then(|n| past_array(offsets, n, 4))
            .ok_or_else(past)?;
        let after = past_array(maxima, rows, 4).ok_or_else(past)?;
        if after > r.end {
            return Err(past());
        }
        Ok(Self {
            rows,
            count,
            offsets,
            maxima,
            after,
        })
    }

    /// Offsets increase and stay within `limit`; every maximum is finite and non-negative.
    pub(crate) fn check(&self, b: &[u8], id: u32, limit: usize) -> Result<(), ListError> {
        let bad = |why| ListError::Malformed { id, why };
        let mut prev = 0;
        for i in 0..=self.rows {
            let o = read_u32(b, self.offsets + i * 4).ok_or(bad("offset out of bounds"))? as usize;
            if o < prev || o > limit {
                return Err(bad("row offsets are not increasing"));
            }
            prev = o;
        }
        for i in 0..self.rows {
            if read_f32(b, self.maxima + i * 4).is_none_or(|m| !m.is_finite() || m < 0.0) {
                return Err(bad("a row maximum is not a finite, non-negative number"));
            }
        }
        Ok(())
    }
}

/// A packed section's positions in the artifact buffer, checked at load.
#[derive(Debug, Clone, Default)]
pub(crate) struct Packed {
    pub(crate) rows: usize,
    offsets: usize,
    maxima: usize,
    data: Range<usize>,
    n_targets: usize,
}

impl Packed {
    /// Checks the row count, offsets and maxima of section `id` at `r` (not the entries).
    pub(crate) fn load(
        b: &[u8],
        r: Range<usize>,
        id: u32,
        n_targets: usize,
    ) -> Result<Self, ListError> {
        let h = Heads::read(b, &r, id)?;
        let end = h.after.checked_add(h.count).filter(|&e| e <= r.end);
        let Some(end) = end else {
            return Err(ListError::Malformed {
                id,
                why: "lists run past the section",
            });
        };
        h.check(b, id, h.count)?;
        let Heads {
            rows,
            offsets,
            maxima,
            after: start,
            ..
        } = h;
        Ok(Self {
            rows,
            offsets,
            maxima,
            data: start..end,
            n_targets,
        })
    }

    /// Calls `f(index, score)` for each entry of row `r`, in index order. Entries whose index is
    /// out of range are skipped; a row that decodes badly ends where it breaks.
    pub(crate) fn for_each(&self, b: &[u8], r: usize, f: &mut dyn FnMut(u32, f32)) {
        if r >= self.rows {
            return;
        }
        let at = |i: usize| read_u32(b, self.offsets + i * 4).map(|o| self.data.start + o as usize);
        let (Some(mut at), Some(end)) = (at(r), at(r + 1)) else {
            return;
        };
        let end = end.min(self.data.end);
        let unit = read_f32(b, self.maxima + r * 4).unwrap_or(0.0) / 255.0;
        let Some(count) = get_varint(b, &mut at, end) else {
            return;
        };
        let scores = at;
        let Some(mut gaps) = scores.checked_add(count as usize).filter(|&g| g <= end) else {
            return;
        };
        let mut next = 0u32;
        for k in 0..count as usize {
            let Some(gap) = get_varint(b, &mut gaps, end) else {
                return;
            };
            let Some(idx) = next.checked_add(gap) else {
                return;
            };
            next = idx.saturating_add(1);
            if (idx as usize) < self.n_targets {
                f(
                    idx,
                    unit * f32::from(b.get(scores + k).copied().unwrap_or(0)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows with a zero score, an empty row, a single entry and gaps at the varint widths.
    pub(super) fn rows() -> Vec<Vec<(u32, f32)>> {
        vec![
            vec![(900, 1.0), (3, 0.5), (70_000, 0.25), (128, 0.0)],
            vec![],
            vec![(0, 2.0)],
            vec![(16_383, 0.1), (16_384, 0.3), (2_097_152, 0.2)],
        ]
    }

    /// Rows `0..=rows` (one past the end) as `each(row, f)` calls `f` for their entries.
    pub(super) fn collect(
        rows: usize,
        each: impl Fn(usize, &mut dyn FnMut(u32, f32)),
    ) -> Vec<Vec<(u32, f32)>> {
        (0..=rows)
            .map(|r| {
                let mut row = Vec::new();
                each(r, &mut |i, s| row.push((i, s)));
                row
            })
            .collect()
    }

    fn read(bytes: &[u8], n: usize) -> Vec<Vec<(u32, f32)>> {
        let p = Packed::load(bytes, 0..bytes.len(), 99, n).unwrap();
        collect(p.rows, |r, f| p.for_each(bytes, r, f))
    }

    #[test]
    fn rows_come_back_in_index_order_with_one_byte_scores() {
        let rows = rows();
        let bytes = encode_v4(&rows, 3_000_000).unwrap();
        assert_eq!(bytes.len(), v4_len(&rows));
        let got = read(&bytes, 3_000_000);
        assert_eq!(got.len(), 5, "a row past the end reads empty");
        for (want, got) in rows.iter().zip(&got) {
            let mut want = want.clone();
            want.sort_unstable_by_key(|e| e.0);
            let max = want.iter().map(|e| e.1).fold(0.0, f32::max);
            assert_eq!(want.len(), got.len());
            for (w, g) in want.iter().zip(got) {
                assert_eq!(w.0, g.0);
                assert!((w.1 - g.1).abs() <= max / 255.0 + 1e-6, "{w:?} {g:?}");
            }
        }
        assert_eq!(got[2], vec![(0, 2.0)], "the maximum is exact");
        assert!(got[4].is_empty());
    }

    #[test]
    fn as_stored_is_what_a_loaded_section_reads() {
        let rows = rows();
        let stored = as_stored(&rows, 3_000_000, SESSION_BITS).unwrap();
        let bytes = encode(&rows, 3_000_000, SESSION_BITS).unwrap();
        let c = Compact::load(&bytes, 0..bytes.len(), 0, 3_000_000).unwrap();
        let read = collect(c.rows, |r, f| c.for_each(&bytes, r, f));
        assert_eq!(stored, read[..4]);
        assert_eq!(encoded_len(&rows, SESSION_BITS), bytes.len());
    }

    #[test]
    fn the_writer_refuses_what_it_cannot_read_back() {
        assert!(
            encode_v4(&[vec![(5, 1.0)]], 5).is_err(),
            "index out of range"
        );
        assert!(
            encode_v4(&[vec![(1, 1.0), (1, 0.5)]], 5).is_err(),
            "a neighbour twice"
        );
    }

    #[test]
    fn indices_beyond_the_catalog_are_skipped_when_read() {
        let bytes = encode_v4(&rows(), 3_000_000).unwrap();
        let got = read(&bytes, 1000);
        assert_eq!(
            got[0].iter().map(|e| e.0).collect::<Vec<_>>(),
            [3, 128, 900]
        );
    }

    /// Every flipped byte and every truncation of `bytes` loads as an error or reads without a
    /// panic; `read` loads a section and reads all its rows (`None`: the load failed).
    pub(super) fn survives_damage(
        bytes: &[u8],
        read: impl Fn(&[u8]) -> Option<Vec<Vec<(u32, f32)>>>,
    ) {
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = bytes.to_vec();
                bad[at] ^= flip;
                for &(i, s) in read(&bad).iter().flatten().flatten() {
                    assert!(i < 3_000_000 && s.is_finite());
                }
            }
        }
        for len in 0..bytes.len() {
            let _ = read(&bytes[..len]);
        }
    }

    /// Whatever the bytes, loading fails cleanly or every row reads without a panic.
    #[test]
    fn any_damage_loads_as_an_error_or_reads_without_panic() {
        survives_damage(&encode_v4(&rows(), 3_000_000).unwrap(), |b| {
            let p = Packed::load(b, 0..b.len(), 1, 3_000_000).ok()?;
            Some(collect(p.rows, |r, f| p.for_each(b, r, f)))
        });
    }

    #[test]
    fn varints_round_trip_at_every_width() {
        for v in [
            0,
            1,
            0x7f,
            0x80,
            0x3fff,
            0x4000,
            0x1f_ffff,
            0x20_0000,
            u32::MAX,
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut at = 0;
            assert_eq!(get_varint(&buf, &mut at, buf.len()), Some(v));
            assert_eq!(at, buf.len());
            assert_eq!(get_varint(&buf, &mut 0, buf.len() - 1), None, "cut short");
        }
    }
}
