//! Bit-level writing and reading for the compact lists (format v6): fixed-width score codes and
//! Rice-coded index gaps, least significant bit first within each byte.
//!
//! A Rice code with parameter `k` writes a gap `g` as `g >> k` one-bits, a zero-bit, then the low
//! `k` bits of `g`. For the sorted neighbour indices of a row, whose gaps are roughly geometric,
//! it costs within a fraction of a bit of their entropy (about 13 bits for 30 neighbours among
//! 100k items, against 16 for a two-byte varint). The reader never reads past its end and never
//! panics: a code that runs past the end reads as `None`.

/// Appends bits to a byte buffer, least significant first.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    bits: u64,
    used: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `v` (`n` ≤ 32).
    pub(crate) fn put(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32);
        let masked = if n == 32 {
            u64::from(v)
        } else {
            u64::from(v) & ((1u64 << n) - 1)
        };
        self.bits |= masked << self.used;
        self.used += n;
        while self.used >= 8 {
            self.bytes.push(self.bits.to_le_bytes()[0]);
            self.bits >>= 8;
            self.used -= 8;
        }
    }

    /// Appends `g` as a Rice code with parameter `k`.
    pub(crate) fn rice(&mut self, g: u32, k: u32) {
        let mut q = g >> k;
        while q >= 32 {
            self.put(u32::MAX, 32);
            q -= 32;
        }
        // q one-bits and the terminating zero.
        self.put((1u32 << q) - 1, q + 1);
        self.put(g, k);
    }

    /// The bytes written, the last one padded with zero bits.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.bytes.push(self.bits.to_le_bytes()[0]);
        }
        self.bytes
    }
}

/// Bits a Rice code with parameter `k` takes for `g`.
pub(crate) fn rice_len(g: u32, k: u32) -> u64 {
    u64::from(g >> k) + 1 + u64::from(k)
}

/// The Rice parameter (0..=24) that codes `gaps` in the fewest bits, and that number of bits.
pub(crate) fn best_rice(gaps: &[u32]) -> (u32, u64) {
    (0..=24u32)
        .map(|k| (k, gaps.iter().map(|&g| rice_len(g, k)).sum::<u64>()))
        .min_by_key(|&(k, bits)| (bits, k))
        .unwrap_or((0, 0))
}

/// Reads bits from `b[start..end]`, least significant first, up to 57 at a time.
pub(crate) struct BitReader<'a> {
    b: &'a [u8],
    /// Position in bits from the start of `b`.
    at: usize,
    end: usize,
}

impl<'a> BitReader<'a> {
    /// A reader over the bytes `start..end` of `b` (clamped to `b`).
    pub(crate) fn new(b: &'a [u8], start: usize, end: usize) -> Self {
        let end = end.min(b.len());
        Self {
            b,
            at: start.min(end).saturating_mul(8),
            end: end.saturating_mul(8),
        }
    }

    /// The next bits from the position (at least 57 when that many remain; no bit past the end)
    /// and how many of them are valid.
    fn peek(&self) -> (u64, usize) {
        let byte = self.at / 8;
        // Bytes past the end may be read (they belong to the buffer) but are masked off below.
        let word = match self.b.get(byte..byte + 8) {
            Some(eight) => eight.try_into().map_or(0, u64::from_le_bytes),
            None => {
                let mut word = [0u8; 8];
                if let Some(src) = self.b.get(byte..) {
                    word[..src.len()].copy_from_slice(src);
                }
                u64::from_le_bytes(word)
            }
        };
        let shift = self.at % 8;
        let valid = (self.end.saturating_sub(self.at)).min(64 - shift);
        let bits = word >> shift;
        let masked = if valid >= 64 {
            bits
        } else {
            bits & ((1u64 << valid) - 1)
        };
        (masked, valid)
    }

    /// The next `n` bits (`n` ≤ 32) as a number.
    pub(crate) fn get(&mut self, n: u32) -> Option<u32> {
        let n_bits = n as usize;
        if n_bits == 0 {
            return Some(0);
        }
        let (word, valid) = self.peek();
        if valid < n_bits {
            return None;
        }
        self.at += n_bits;
        #[expect(clippy::cast_possible_truncation, reason = "at most 32 bits are kept")]
        let v = (word & ((1u64 << n_bits) - 1)) as u32;
        Some(v)
    }

    /// The next Rice code with parameter `k` (≤ 24); `None` past the end or on overflow.
    pub(crate) fn rice(&mut self, k: u32) -> Option<u32> {
        let mut q = 0usize;
        loop {
            let (word, valid) = self.peek();
            if valid == 0 {
                return None;
            }
            let ones = (!word).trailing_zeros() as usize;
            if ones < valid {
                q += ones;
                self.at += ones + 1;
                break;
            }
            q += valid;
            self.at += valid;
            if q > (u32::MAX >> k) as usize {
                return None;
            }
        }
        let q = u32::try_from(q).ok().filter(|&q| q <= u32::MAX >> k)?;
        let low = self.get(k)?;
        Some((q << k) | low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_and_rice_codes_round_trip() {
        let gaps = [0u32, 1, 2, 7, 100, 3_333, 65_535, 1 << 20, 40];
        for k in [0u32, 1, 5, 11, 24] {
            let mut w = BitWriter::default();
            w.put(0b1011, 4);
            for &g in &gaps {
                if u64::from(g >> k) < 200 {
                    w.rice(g, k);
                }
            }
            w.put(u32::MAX, 32);
            let bytes = w.finish();
            let mut r = BitReader::new(&bytes, 0, bytes.len());
            assert_eq!(r.get(4), Some(0b1011));
            for &g in &gaps {
                if u64::from(g >> k) < 200 {
                    assert_eq!(r.rice(k), Some(g), "k {k}");
                }
            }
            assert_eq!(r.get(32), Some(u32::MAX));
        }
    }

    #[test]
    fn the_best_parameter_fits_the_gaps() {
        assert_eq!(best_rice(&[0, 0, 1, 0]).0, 0);
        let (k, bits) = best_rice(&[3_000, 3_500, 2_800, 4_100]);
        assert!((10..=12).contains(&k), "{k}");
        assert!(bits <= 4 * 14, "{bits}");
        assert_eq!(best_rice(&[]), (0, 0));
    }

    #[test]
    fn reading_past_the_end_is_none_not_a_panic() {
        let bytes = [0xffu8, 0xff];
        let mut r = BitReader::new(&bytes, 0, 2);
        assert_eq!(r.rice(0), None, "unary code without its zero");
        let mut r = BitReader::new(&bytes, 1, 9);
        assert_eq!(r.get(8), Some(0xff));
        assert_eq!(r.get(1), None);
        let mut r = BitReader::new(&bytes, 3, 1);
        assert_eq!(r.get(1), None, "start past end");
    }
}
