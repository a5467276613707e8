//! The hashes Vitrine computes, each defined once: FNV-1a for stable bucketing (A/B arms, holdout
//! halves, session keys, dedup order), SHA-256 for artifact integrity, and the constant-time
//! comparison every secret check uses. Same values natively and in wasm32, on every run.

use sha2::{Digest, Sha256};

/// FNV-1a, 64 bits: stable across runs and platforms. Not for anything an attacker may choose to
/// collide (use a keyed HMAC there: `crate::privacy`).
pub fn fnv1a(s: &str) -> u64 {
    fnv1a_bytes(s.as_bytes())
}

/// FNV-1a over bytes.
pub fn fnv1a_bytes(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// SHA-256 of bytes that arrive in pieces (a file read a chunk at a time), so a large input is
/// never held whole: [`finish`](Self::finish) gives what [`sha256_hex`] gives of the pieces
/// joined.
#[derive(Default)]
pub struct Sha256Pieces(Sha256);

impl Sha256Pieces {
    /// Adds the next piece.
    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    /// The hash of every piece so far, lowercase hex.
    pub fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// Bytes as lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Equality of secrets (keys, signatures) whose time does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pieces_hash_as_the_joined_bytes() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut h = Sha256Pieces::default();
        for piece in bytes.chunks(777) {
            h.update(piece);
        }
        assert_eq!(h.finish(), sha256_hex(&bytes));
    }
}
