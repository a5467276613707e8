//! A trained model as the stages hand it over: the artifact's bytes loaded into a
//! `shared::Model` and described by its `Manifest`, built together so they always agree. The
//! training run makes one (encoded once, loaded once); publishing and the quality gate take it as
//! it is, without writing it out and reading it back.

use std::path::{Path, PathBuf};

use shared::manifest::VerifyError;
use shared::{Manifest, Model};

/// Why an artifact cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactFileError {
    #[error("artifact is not loadable: {0}")]
    Load(#[from] shared::ArtifactError),
    #[error("artifact does not match its manifest: {0}")]
    Mismatch(#[from] VerifyError),
    #[error("manifest {path}: {source}")]
    Manifest {
        path: String,
        source: shared::manifest::ManifestError,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// An artifact whose bytes, decoded model and manifest agree.
pub struct Artifact {
    pub manifest: Manifest,
    pub model: Model,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Artifact")
            .field("manifest", &self.manifest)
            .finish_non_exhaustive()
    }
}

impl Artifact {
    /// Loads freshly encoded bytes and describes them.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ArtifactFileError> {
        let model = Model::load(bytes)?;
        let manifest = Manifest::describe(model.bytes(), &model);
        Ok(Self { manifest, model })
    }

    /// Checks bytes against the manifest that claims to describe them.
    pub fn verified(bytes: Vec<u8>, manifest: Manifest) -> Result<Self, ArtifactFileError> {
        let model = manifest.verify(bytes)?;
        Ok(Self { manifest, model })
    }

    /// The artifact's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.model.bytes()
    }

    /// Where the manifest of an artifact file lives: `<artifact>.manifest.json`.
    pub fn manifest_path(artifact: &Path) -> PathBuf {
        let mut s = artifact.as_os_str().to_owned();
        s.push(".manifest.json");
        PathBuf::from(s)
    }

    /// Writes the artifact and its manifest next to it (creating the folder).
    pub fn write_file(&self, path: &Path) -> Result<(), ArtifactFileError> {
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| ArtifactFileError::Io { path, source }
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(path, self.bytes()).map_err(io(path))?;
        let mpath = Self::manifest_path(path);
        std::fs::write(&mpath, self.manifest.to_json()).map_err(io(&mpath))
    }

    /// Reads an artifact file and its manifest, verified.
    pub fn read_file(path: &Path) -> Result<Self, ArtifactFileError> {
        let io = |p: &Path| {
            let path = p.display().to_string();
            move |source| ArtifactFileError::Io { path, source }
        };
        let bytes = std::fs::read(path).map_err(io(path))?;
        let mpath = Self::manifest_path(path);
        let text = std::fs::read(&mpath).map_err(io(&mpath))?;
        let manifest = Manifest::parse(&text).map_err(|source| ArtifactFileError::Manifest {
            path: mpath.display().to_string(),
            source,
        })?;
        Self::verified(bytes, manifest)
    }
}
