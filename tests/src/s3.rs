//! A real S3-compatible server (s3s-fs: the S3 protocol over a directory) started in-process on a
//! free port, so the trainer's `s3://` path (the one production uses with R2) is exercised over
//! HTTP with SigV4 authentication.

use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

use crate::{HarnessError, Result};

/// Access key the test server accepts.
pub const ACCESS_KEY: &str = "vitrine-test";
/// Secret key the test server accepts.
pub const SECRET_KEY: &str = "vitrine-test-secret";

/// A running S3 server; stops when dropped.
pub struct S3Server {
    pub endpoint: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl S3Server {
    /// Serves `root` (each sub-directory is a bucket) on a free loopback port.
    pub fn start(root: &Path, buckets: &[&str]) -> Result<Self> {
        for b in buckets {
            std::fs::create_dir_all(root.join(b))?;
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let fs = s3s_fs::FileSystem::new(root)
            .map_err(|e| HarnessError::Setup(format!("s3s-fs: {e:?}")))?;
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        runtime.spawn(async move {
            let server = ConnBuilder::new(TokioExecutor::new());
            while let Ok((socket, _)) = listener.accept().await {
                let conn = server
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
        Ok(Self {
            endpoint,
            runtime: Some(runtime),
        })
    }

    /// Environment for `object_store`'s S3 client to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
