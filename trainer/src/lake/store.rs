//! Object storage by URL: `file://` (and plain paths) locally, `s3://` for R2 and S3, `gs://`,
//! `az://`, `memory://` in tests. Every read and write of the trainer goes through [`Lake`], with
//! keys from `shared::lake`, so switching backends is a string.

use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use url::Url;

/// Storage failures, with the key involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("`{0}` is not a storage URL or path")]
    BadUrl(String),
    #[error("cannot open {url}: {source}")]
    Open {
        url: String,
        source: object_store::Error,
    },
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("`{key}` does not exist")]
    NotFound { key: String },
    #[error("{op} `{key}`: {source}")]
    Io {
        op: &'static str,
        key: String,
        source: object_store::Error,
    },
}

/// Environment variables passed to cloud backends (credentials, endpoint, region).
const ENV_OPTIONS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_KEY",
];

/// A bucket (or directory) plus a prefix inside it.
#[derive(Debug, Clone)]
pub struct Lake {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: String,
}

impl std::fmt::Display for Lake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Turns a URL or a plain path into a URL (plain paths, and relative `file://./dir` URLs like
/// the CLI defaults, become absolute `file://` URLs).
pub fn to_url(spec: &str) -> Result<Url, StoreError> {
    if let Some(rest) = spec.strip_prefix("file://")
        && !rest.starts_with('/')
        && !rest.is_empty()
    {
        return to_url(rest);
    }
    if spec.contains("://") {
        return Url::parse(spec).map_err(|_| StoreError::BadUrl(spec.to_owned()));
    }
    let path = FsPath::new(spec);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|_| StoreError::BadUrl(spec.to_owned()))?
            .join(path)
    };
    Url::from_directory_path(&abs).map_err(|()| StoreError::BadUrl(spec.to_owned()))
}

impl Lake {
    /// Opens a store by URL; `file://` directories are created.
    pub fn open(spec: &str) -> Result<Self, StoreError> {
        let url = to_url(spec)?;
        if url.scheme() == "file" {
            let dir = url
                .to_file_path()
                .map_err(|()| StoreError::BadUrl(spec.to_owned()))?;
            std::fs::create_dir_all(&dir).map_err(|source| StoreError::CreateDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut options: Vec<(String, String)> = ENV_OPTIONS
            .iter()
            .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_ascii_lowercase(), v)))
            .collect();
        if let Some(endpoint) = options
            .iter()
            .find(|(k, _)| k == "aws_endpoint_url")
            .map(|(_, v)| v.clone())
        {
            options.push(("aws_endpoint".into(), endpoint));
        }
        let (store, prefix) =
            object_store::parse_url_opts(&url, options).map_err(|source| StoreError::Open {
                url: url.to_string(),
                source,
            })?;
        Ok(Self {
            store: Arc::from(store),
            prefix,
            url: url.to_string(),
        })
    }

    /// Wraps an existing store (tests share one `memory://` store between steps this way).
    pub fn from_store(store: Arc<dyn ObjectStore>, url: &str) -> Self {
        Self {
            store,
            prefix: Path::default(),
            url: url.to_owned(),
        }
    }

    /// The underlying store.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// The full path of a lake key.
    pub fn path(&self, key: &str) -> Path {
        let mut parts: Vec<String> = self.prefix.parts().map(|p| p.as_ref().to_owned()).collect();
        parts.extend(key.split('/').filter(|s| !s.is_empty()).map(str::to_owned));
        Path::from_iter(parts)
    }

    /// The lake key of a full path.
    pub fn key_of(&self, path: &Path) -> String {
        let skip = self.prefix.parts().count();
        path.parts()
            .skip(skip)
            .map(|p| p.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join("/")
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let result = self
            .store
            .get(&self.path(key))
            .await
            .map_err(|e| self.err("get", key, e))?;
        result.bytes().await.map_err(|e| self.err("get", key, e))
    }

    /// Like [`Lake::get`], but a missing object is `None`.
    pub async fn get_opt(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        match self.get(key).await {
            Err(StoreError::NotFound { .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Writes an object (atomic per object on every backend).
    pub async fn put(&self, key: &str, data: impl Into<Bytes>) -> Result<(), StoreError> {
        let payload = PutPayload::from_bytes(data.into());
        self.store
            .put(&self.path(key), payload)
            .await
            .map_err(|e| self.err("put", key, e))?;
        Ok(())
    }

    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        match self.store.head(&self.path(key)).await {
            Ok(m) => Ok(Some(m)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err("head", key, e)),
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("delete", key, e)),
        }
    }

    /// Every object under a key prefix (a folder like `raw/events/`), sorted by key.
    pub async fn list(&self, prefix: &str) -> Result<Vec<(String, ObjectMeta)>, StoreError> {
        let path = self.path(prefix);
        let mut out: Vec<(String, ObjectMeta)> = self
            .store
            .list(Some(&path))
            .map_ok(|m| (self.key_of(&m.location), m))
            .try_collect()
            .await
            .map_err(|e| self.err("list", prefix, e))?;
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn err(&self, op: &'static str, key: &str, e: object_store::Error) -> StoreError {
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound {
                key: format!("{}{key}", self.url_prefix()),
            },
            source => StoreError::Io {
                op,
                key: format!("{}{key}", self.url_prefix()),
                source,
            },
        }
    }

    fn url_prefix(&self) -> String {
        if self.url.ends_with('/') {
            self.url.clone()
        } else {
            format!("{}/", self.url)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_round_trip_and_listing() {
        let lake = Lake::open("memory://").unwrap();
        lake.put("raw/events/dt=2026-01-02/b.ndjson", "2")
            .await
            .unwrap();
        lake.put("raw/events/dt=2026-01-01/a.ndjson", "1")
            .await
            .unwrap();
        lake.put("tables/x", "3").await.unwrap();
        let keys: Vec<String> = lake
            .list("raw/events/")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.0)
            .collect();
        assert_eq!(
            keys,
            [
                "raw/events/dt=2026-01-01/a.ndjson",
                "raw/events/dt=2026-01-02/b.ndjson"
            ]
        );
        assert_eq!(lake.get("tables/x").await.unwrap(), Bytes::from("3"));
        assert!(lake.get_opt("nope").await.unwrap().is_none());
        assert!(matches!(
            lake.get("nope").await,
            Err(StoreError::NotFound { .. })
        ));
        lake.delete("tables/x").await.unwrap();
        assert!(lake.head("tables/x").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn plain_paths_are_file_urls_with_a_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("lake");
        let lake = Lake::open(sub.to_str().unwrap()).unwrap();
        lake.put("a/b.txt", "x").await.unwrap();
        assert!(sub.join("a/b.txt").exists());
        let keys: Vec<String> = lake
            .list("a/")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.0)
            .collect();
        assert_eq!(keys, ["a/b.txt"]);
        assert!(lake.to_string().starts_with("file://"));
    }

    #[test]
    fn bad_urls_are_refused() {
        assert!(matches!(
            Lake::open("nope://x"),
            Err(StoreError::Open { .. })
        ));
        assert!(matches!(
            to_url("s3://"),
            Ok(_) | Err(StoreError::BadUrl(_))
        ));
    }

    /// Regression: the CLI defaults (`file://./.vitrine/lake`, `file://./.vitrine/models`) were
    /// refused because `.` parsed as a URL host.
    #[test]
    fn relative_file_urls_resolve_against_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let url = to_url("file://./.vitrine/models").unwrap();
        assert_eq!(url.to_file_path().unwrap(), cwd.join("./.vitrine/models"));
        assert_eq!(to_url("file:///abs/dir").unwrap().path(), "/abs/dir");
    }
}
