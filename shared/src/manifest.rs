//! The manifest: what `models/latest.json` and `models/<version>/manifest.json` say about an
//! artifact, so a reader can fetch, size-check and checksum it before trusting it.

use serde::{Deserialize, Serialize};

use crate::artifact::Model;
use crate::lake;

/// Describes one published artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The model version, also the folder name under `models/`.
    pub version: String,
    /// Artifact format version.
    pub format_version: u32,
    /// Key of the artifact in the models store.
    pub artifact: String,
    /// Size of the artifact in bytes.
    pub size: u64,
    /// CRC-32 of the whole artifact file.
    pub crc32: u32,
    /// SHA-256 of the whole artifact file, lowercase hex.
    pub sha256: String,
    /// When the model was trained, epoch milliseconds.
    pub created_at: i64,
    /// Counts (items, categories, events trained on, ...), for `/v1/model` and humans.
    #[serde(default)]
    pub counts: serde_json::Map<String, serde_json::Value>,
    /// Evaluation metrics recorded at publish time.
    #[serde(default)]
    pub metrics: serde_json::Map<String, serde_json::Value>,
}

/// Why a manifest can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("manifest is not valid JSON: {0}")]
    Json(String),
    #[error("manifest version `{0}` is not a safe key segment")]
    BadVersion(String),
    #[error("manifest points at `{found}`, expected `{expected}`")]
    BadArtifactKey { found: String, expected: String },
}

/// Why an artifact does not match its manifest. Nothing that fails this check is ever served or
/// published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("size is {found} bytes, manifest says {expected}")]
    Size { found: u64, expected: u64 },
    #[error("crc32 is {found:08x}, manifest says {expected:08x}")]
    Crc32 { found: u32, expected: u32 },
    #[error("sha256 differs from the manifest's")]
    Sha256,
    #[error("artifact does not decode: {0}")]
    Decode(String),
    #[error("artifact is version {found}, manifest says {expected}")]
    Version { found: String, expected: String },
}

impl Manifest {
    /// The manifest describing an artifact and its decoded model: counts and holdout metrics come
    /// from the model's meta.
    pub fn describe(bytes: &[u8], model: &Model) -> Self {
        let meta_object = |key: &str| {
            model
                .meta()
                .get(key)
                .and_then(|c| c.as_object())
                .cloned()
                .unwrap_or_default()
        };
        Manifest {
            version: model.version().to_owned(),
            format_version: model.format_version(),
            artifact: lake::model_key(model.version()),
            size: bytes.len() as u64,
            crc32: crc32fast::hash(bytes),
            sha256: crate::hash::sha256_hex(bytes),
            created_at: model.created_at(),
            counts: meta_object("counts"),
            metrics: meta_object("metrics"),
        }
    }

    /// The artifact's key in the Workers Cache API: its store key and SHA-256, so a cached copy
    /// is immutable (a republished version with other bytes has another key). The host is
    /// never fetched; the cache is local to a data center (one R2 read per location and version).
    pub fn cache_url(&self) -> String {
        format!(
            "https://artifacts.vitrine.invalid/{}?sha256={}",
            self.artifact, self.sha256
        )
    }

    /// The one check of an artifact against its manifest, at the edge and in the trainer: size,
    /// CRC-32, SHA-256, decodability and version. Returns the loaded model.
    pub fn verify(&self, bytes: Vec<u8>) -> Result<Model, VerifyError> {
        self.verify_with(bytes, None)
    }

    /// [`Self::verify`] with the SHA-256 of `bytes` (lowercase hex) computed by the platform:
    /// the worker hashes with the runtime's WebCrypto before the bytes enter wasm, where a
    /// software hash of a 32 MB artifact is most of a cold load. The manifest's CRC-32 is then
    /// skipped (the digest checks the same bytes); the artifact's own checksum is not.
    pub fn verify_digested(&self, bytes: Vec<u8>, sha256_hex: &str) -> Result<Model, VerifyError> {
        self.verify_with(bytes, Some(sha256_hex))
    }

    fn verify_with(&self, bytes: Vec<u8>, sha256_hex: Option<&str>) -> Result<Model, VerifyError> {
        if bytes.len() as u64 != self.size {
            return Err(VerifyError::Size {
                found: bytes.len() as u64,
                expected: self.size,
            });
        }
        let own = match sha256_hex {
            // The platform hashed these very bytes and they match the manifest's SHA-256: its
            // CRC-32, a weaker check of the same bytes, adds nothing. The artifact's own
            // checksum still runs: it catches bytes damaged before the manifest was written.
            Some(hex) if hex.eq_ignore_ascii_case(&self.sha256) => {
                crate::artifact::checksum(&bytes)
            }
            Some(_) => return Err(VerifyError::Sha256),
            None => {
                let (own, crc) = crate::artifact::checksums(&bytes);
                if crc != self.crc32 {
                    return Err(VerifyError::Crc32 {
                        found: crc,
                        expected: self.crc32,
                    });
                }
                if crate::hash::sha256_hex(&bytes) != self.sha256 {
                    return Err(VerifyError::Sha256);
                }
                own
            }
        };
        let model = Model::load_with_checksum(bytes, Some(own))
            .map_err(|e| VerifyError::Decode(e.to_string()))?;
        if model.version() != self.version {
            return Err(VerifyError::Version {
                found: model.version().to_owned(),
                expected: self.version.clone(),
            });
        }
        Ok(model)
    }

    /// Parses and checks a manifest.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let m: Manifest =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
        if !lake::is_safe_segment(&m.version) {
            return Err(ManifestError::BadVersion(m.version));
        }
        let expected = lake::model_key(&m.version);
        if m.artifact != expected {
            return Err(ManifestError::BadArtifactKey {
                found: m.artifact,
                expected,
            });
        }
        Ok(m)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            version: "v1".into(),
            format_version: 1,
            artifact: "models/v1/model.bin".into(),
            size: 10,
            crc32: 7,
            sha256: "00".into(),
            created_at: 1,
            counts: serde_json::Map::new(),
            metrics: serde_json::Map::new(),
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        assert_eq!(Manifest::parse(m.to_json().as_bytes()).unwrap(), m);
    }

    #[test]
    fn rejects_path_escapes_and_mismatched_keys() {
        let mut m = sample();
        m.version = "../x".into();
        assert!(matches!(
            Manifest::parse(m.to_json().as_bytes()),
            Err(ManifestError::BadVersion(_))
        ));
        let mut m = sample();
        m.artifact = "models/other/model.bin".into();
        assert!(matches!(
            Manifest::parse(m.to_json().as_bytes()),
            Err(ManifestError::BadArtifactKey { .. })
        ));
        assert!(matches!(Manifest::parse(b"{"), Err(ManifestError::Json(_))));
    }
}
