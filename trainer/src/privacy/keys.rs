//! The trainer's secrets and what it does with them: keyed pseudonyms for identifiers (the same
//! `shared::privacy` the edge runs, keyed by `VITRINE_PSEUDONYM_KEY`, which must equal the
//! worker's `PSEUDONYM_KEY`), and AES-256-GCM per-column encryption of direct PII (name, email,
//! phone, address) keyed by `VITRINE_PII_KEY`.
//!
//! Encrypted cells read `v2:` + base64(nonce ‖ ciphertext ‖ tag). The column name and the row's
//! id are the associated data, so a cell copied into another column or another person's row does
//! not decrypt (cells written before rows were bound read `v1:` and bind the column only; they
//! still decrypt, and are rewritten as `v2:` when their table is). Nonces are random: equal values
//! do not give equal cells, so the table leaks nothing about who shares a surname.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use shared::privacy::Pseudonymizer;

/// Environment variable with the pseudonym key (any text of at least 16 bytes).
pub const PSEUDONYM_ENV: &str = "VITRINE_PSEUDONYM_KEY";
/// Environment variable with the PII key: 32 bytes as 64 hex digits or base64.
pub const PII_ENV: &str = "VITRINE_PII_KEY";
const CELL_PREFIX: &str = "v2:";
const LEGACY_PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// Missing or malformed secrets, and cells that do not decrypt.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error("{0} is not set; it is required to store customer identifiers (see docs/security.md)")]
    Missing(&'static str),
    #[error("{name}: {reason}")]
    BadKey { name: &'static str, reason: String },
    #[error(
        "column `{column}`: the cell does not decrypt with this {PII_ENV} (wrong key or damaged)"
    )]
    Decrypt { column: String },
}

/// The pseudonymizer keyed from the environment.
pub fn pseudonymizer() -> Result<Pseudonymizer, PrivacyError> {
    let key = std::env::var(PSEUDONYM_ENV).map_err(|_| PrivacyError::Missing(PSEUDONYM_ENV))?;
    Pseudonymizer::new(key.as_bytes()).map_err(|e| PrivacyError::BadKey {
        name: PSEUDONYM_ENV,
        reason: e.to_string(),
    })
}

/// The signer of shopper ids, keyed like the worker's `SHOPPER_SIGNING_KEY`.
pub fn shopper_signer(key: &str) -> Result<shared::identity::ShopperSigner, PrivacyError> {
    shared::identity::ShopperSigner::new(key.as_bytes()).map_err(|e| PrivacyError::BadKey {
        name: "VITRINE_SHOPPER_SIGNING_KEY",
        reason: e.to_string(),
    })
}

/// Per-column AES-256-GCM for PII cells.
#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiCipher(<key>)")
    }
}

impl PiiCipher {
    /// The cipher keyed from [`PII_ENV`].
    pub fn from_env() -> Result<Self, PrivacyError> {
        let text = std::env::var(PII_ENV).map_err(|_| PrivacyError::Missing(PII_ENV))?;
        Self::from_text(&text)
    }

    /// A cipher from 32 key bytes written as 64 hex digits or base64.
    pub fn from_text(text: &str) -> Result<Self, PrivacyError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(t).ok()
        } else {
            B64.decode(t).ok()
        };
        let bad = |reason: &str| PrivacyError::BadKey {
            name: PII_ENV,
            reason: reason.to_owned(),
        };
        let bytes = bytes.ok_or_else(|| bad("not hex or base64"))?;
        let aead = Aes256Gcm::new_from_slice(&bytes)
            .map_err(|_| bad(&format!("must be 32 bytes, got {}", bytes.len())))?;
        Ok(Self { aead })
    }

    /// Encrypts the cell of `column` in the row `row` (the row's stable id).
    pub fn encrypt(&self, column: &str, row: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad(column, row);
        let payload = Payload {
            msg: plain.as_bytes(),
            aad: &aad,
        };
        // AES-GCM encryption only fails past 64 GiB per message; a cell is never that.
        let sealed = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{CELL_PREFIX}{}", B64.encode(out))
    }

    /// Encrypts an optional cell (`None` stays `None`).
    pub fn seal(&self, column: &str, row: &str, plain: Option<&str>) -> Option<String> {
        plain.map(|p| self.encrypt(column, row, p))
    }

    /// Decrypts the cell of `column` in the row `row`.
    pub fn decrypt(&self, column: &str, row: &str, cell: &str) -> Result<String, PrivacyError> {
        let err = || PrivacyError::Decrypt {
            column: column.to_owned(),
        };
        let (aad, body) = match (
            cell.strip_prefix(CELL_PREFIX),
            cell.strip_prefix(LEGACY_PREFIX),
        ) {
            (Some(b), _) => (aad(column, row), b),
            (None, Some(b)) => (column.as_bytes().to_vec(), b),
            (None, None) => return Err(err()),
        };
        let raw = B64
            .decode(body)
            .ok()
            .filter(|r| r.len() > NONCE_BYTES)
            .ok_or_else(err)?;
        let (nonce, sealed) = raw.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: sealed,
            aad: &aad,
        };
        let plain = self
            .aead
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| err())?;
        String::from_utf8(plain).map_err(|_| err())
    }

    /// Decrypts an optional cell.
    pub fn open(
        &self,
        column: &str,
        row: &str,
        cell: Option<&str>,
    ) -> Result<Option<String>, PrivacyError> {
        cell.map(|c| self.decrypt(column, row, c)).transpose()
    }
}

/// The associated data binding a cell to its column and its row.
fn aad(column: &str, row: &str) -> Vec<u8> {
    format!("{column}\u{1f}{row}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn cells_round_trip_and_are_bound_to_their_column() {
        let c = PiiCipher::from_text(KEY).unwrap();
        let a = c.encrypt("email", "row-1", "jo@example.com");
        let b = c.encrypt("email", "row-1", "jo@example.com");
        assert_ne!(a, b, "random nonces");
        assert!(!a.contains("example"));
        assert_eq!(c.decrypt("email", "row-1", &a).unwrap(), "jo@example.com");
        assert!(c.decrypt("phone", "row-1", &a).is_err(), "column is bound");
        assert!(
            c.decrypt("email", "row-2", &a).is_err(),
            "row is bound: a cell moved into another person's row does not open"
        );
        let other = PiiCipher::from_text(&KEY.replace("00", "ff")).unwrap();
        assert!(other.decrypt("email", "row-1", &a).is_err(), "wrong key");
        let mut damaged: Vec<char> = a.chars().collect();
        damaged[10] = if damaged[10] == 'A' { 'B' } else { 'A' };
        let damaged: String = damaged.into_iter().collect();
        assert!(c.decrypt("email", "row-1", &damaged).is_err());
        assert!(c.decrypt("email", "row-1", "plain").is_err());
    }

    #[test]
    fn keys_are_checked() {
        assert!(PiiCipher::from_text("abcd").is_err());
        assert!(PiiCipher::from_text(&B64.encode([7u8; 32])).is_ok());
        assert!(PiiCipher::from_text(&B64.encode([7u8; 16])).is_err());
    }
}
