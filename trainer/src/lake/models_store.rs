//! Reading the models store: which version is live (`models/latest.json`) and its verified
//! artifact. Shared by the training run (to compare against the live model), publishing, the
//! backup's restore check and rollback, so "what is live" is read one way.

use shared::{Manifest, lake};

use crate::lake::store::{Lake, StoreError};
use crate::model::artifact::{Artifact, ArtifactFileError};

/// Failures reading the models store.
#[derive(Debug, thiserror::Error)]
pub enum ModelsStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("manifest: {0}")]
    Manifest(#[from] shared::manifest::ManifestError),
    #[error(transparent)]
    Artifact(#[from] ArtifactFileError),
    #[error("version {0} is not published in this store")]
    UnknownVersion(String),
}

/// The manifest `latest.json` points at, if any.
pub async fn live(models: &Lake) -> Result<Option<Manifest>, ModelsStoreError> {
    match models.get_opt(lake::LATEST).await? {
        None => Ok(None),
        Some(b) => Ok(Some(Manifest::parse(&b)?)),
    }
}

/// The artifact a manifest describes, read and verified.
pub async fn read(models: &Lake, manifest: Manifest) -> Result<Artifact, ModelsStoreError> {
    let bytes = models.get(&manifest.artifact).await?.to_vec();
    Ok(Artifact::verified(bytes, manifest)?)
}

/// A published version's manifest and artifact, verified.
pub async fn version(models: &Lake, version: &str) -> Result<Artifact, ModelsStoreError> {
    if !lake::is_safe_segment(version) {
        return Err(ModelsStoreError::UnknownVersion(version.to_owned()));
    }
    let Some(text) = models.get_opt(&lake::manifest_key(version)).await? else {
        return Err(ModelsStoreError::UnknownVersion(version.to_owned()));
    };
    read(models, Manifest::parse(&text)?).await
}
