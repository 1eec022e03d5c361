//! Starting and stopping the processes an end-to-end test needs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The `gcbulk` binary under test: `GCBULK_BIN`, else the release build, else the debug build.
pub fn gcbulk_bin() -> PathBuf {
    if let Ok(path) = std::env::var("GCBULK_BIN") {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for profile in ["release", "debug"] {
        let candidate = root.join("target").join(profile).join("gcbulk");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("no gcbulk binary: run `cargo build --release -p gcbulk` or set GCBULK_BIN");
}

/// The Redis the tests use (`GCBULK_REDIS_URL`, default `redis://127.0.0.1:6379`).
pub fn redis_url() -> String {
    std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A Redis namespace of one test; its keys are deleted when it drops.
pub struct Namespace {
    /// The namespace name (`GCBULK_NAMESPACE`).
    pub name: String,
    /// The Redis URL it lives on.
    pub redis_url: String,
}

impl Namespace {
    /// A fresh namespace on the tests' Redis.
    pub fn new(prefix: &str) -> Self {
        Self::on(prefix, &redis_url())
    }

    /// A fresh namespace on a given Redis.
    pub fn on(prefix: &str, redis_url: &str) -> Self {
        let unique = format!(
            "{:x}{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % 0xffff_ffff
        );
        Self {
            name: format!("t-{prefix}-{unique}"),
            redis_url: redis_url.to_string(),
        }
    }

    /// Every key of this namespace, with its raw value bytes (for secret scans).
    pub fn dump_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let client = redis::Client::open(self.redis_url.as_str())?;
        let mut conn = client.get_connection()?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{{{}}}*", self.name))
            .query(&mut conn)?;
        let mut out = Vec::new();
        for key in keys {
            let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&key).query(&mut conn)?;
            out.push((key, dump.unwrap_or_default()));
        }
        Ok(out)
    }

    /// How many keys this namespace has.
    pub fn key_count(&self) -> usize {
        self.dump_all().map(|keys| keys.len()).unwrap_or(0)
    }

    /// The environment a `gcbulk` process of this namespace needs.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GCBULK_REDIS_URL".into(), self.redis_url.clone()),
            ("GCBULK_NAMESPACE".into(), self.name.clone()),
        ]
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Ok(client) = redis::Client::open(self.redis_url.as_str())
            && let Ok(mut conn) = client.get_connection()
        {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{{{}}}*", self.name))
                .query(&mut conn)
                .unwrap_or_default();
            for key in keys {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(key).query(&mut conn);
            }
        }
    }
}

/// A child process killed (SIGKILL) when dropped; its stderr goes to a file we can read afterwards.
pub struct Proc {
    /// The child.
    pub child: Child,
    /// What it wrote on stderr.
    pub stderr_path: PathBuf,
    /// What it wrote on stdout.
    pub stdout_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proc {
    /// Starts `gcbulk ARGS` with these environment variables (and nothing of the test's GENESYS_* variables).
    pub fn spawn(args: &[&str], env: &[(String, String)]) -> Result<Proc> {
        let dir = tempfile::tempdir()?;
        let stderr_path = dir.path().join("stderr");
        let stdout_path = dir.path().join("stdout");
        let mut cmd = Command::new(gcbulk_bin());
        cmd.args(args)
            .env_remove("GENESYS_CLIENT_ID")
            .env_remove("GENESYS_CLIENT_SECRET")
            .env_remove("GENESYS_API_URL")
            .env_remove("GENESYS_LOGIN_URL")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout_path)?)
            .stderr(std::fs::File::create(&stderr_path)?);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", gcbulk_bin().display()))?;
        Ok(Proc {
            child,
            stderr_path,
            stdout_path,
            _dir: dir,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `KILL`, `INT`).
    pub fn signal(&self, name: &str) {
        let _ = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status();
    }

    /// Waits up to `limit` for the process to exit; its exit code (`None` if killed by a signal).
    pub fn wait_for_exit(&mut self, limit: Duration) -> Result<Option<i32>> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                bail!(
                    "process {} still running after {:?}; stderr:\n{}",
                    self.pid(),
                    limit,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Everything the process wrote on stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Everything the process wrote on stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `gcbulk ARGS` to completion, feeding `stdin` when given.
pub fn run_gcbulk(args: &[&str], env: &[(String, String)], stdin: Option<&[u8]>) -> Result<Output> {
    use std::io::Write;
    let mut cmd = Command::new(gcbulk_bin());
    cmd.args(args)
        .env_remove("GENESYS_CLIENT_ID")
        .env_remove("GENESYS_CLIENT_SECRET")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    if let Some(bytes) = stdin {
        child.stdin.take().context("stdin")?.write_all(bytes)?;
    }
    Ok(child.wait_with_output()?)
}

/// A running look-alike (`gcbulk mock-genesys`) process.
pub struct Mock {
    /// The process.
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    http: reqwest::Client,
}

/// The demo credentials the look-alike accepts by default.
pub const CLIENT_ID: &str = "gcbulk-demo";
/// The demo secret the look-alike accepts by default.
pub const CLIENT_SECRET: &str = "gcbulk-demo-secret";

impl Mock {
    /// Starts the look-alike with extra flags (e.g. `--users 2000 --rate-limit 300 --window 60`).
    pub async fn start(extra: &[&str]) -> Result<Mock> {
        let dir = tempfile::tempdir()?;
        let ready = dir.path().join("ready");
        let ready_str = ready.to_string_lossy().to_string();
        let mut args = vec![
            "mock-genesys",
            "--addr",
            "127.0.0.1:0",
            "--ready-file",
            ready_str.as_str(),
        ];
        args.extend_from_slice(extra);
        let mut proc = Proc::spawn(&args, &[])?;
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(text) = std::fs::read_to_string(&ready)
                && !text.trim().is_empty()
            {
                break text.trim().to_string();
            }
            if let Some(status) = proc.child.try_wait()? {
                bail!("mock-genesys exited with {status}: {}", proc.stderr());
            }
            if Instant::now() > deadline {
                bail!("mock-genesys not ready after 30 s: {}", proc.stderr());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let base_url = if addr.starts_with("http") {
            addr
        } else {
            format!("http://{addr}")
        };
        Ok(Mock {
            proc,
            base_url,
            http: reqwest::Client::new(),
        })
    }

    /// The environment a worker needs to talk to this look-alike with the demo credentials.
    pub fn worker_env(&self) -> Vec<(String, String)> {
        vec![
            ("GENESYS_API_URL".into(), self.base_url.clone()),
            ("GENESYS_LOGIN_URL".into(), self.base_url.clone()),
            ("GENESYS_CLIENT_ID".into(), CLIENT_ID.into()),
            ("GENESYS_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
        ]
    }

    /// `GET /__mock/stats`.
    pub async fn stats(&self) -> Result<Value> {
        Ok(self
            .http
            .get(format!("{}/__mock/stats", self.base_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// `GET /__mock/users`: every user's current state, by id.
    pub async fn users(&self) -> Result<HashMap<String, Value>> {
        let users: Vec<Value> = self
            .http
            .get(format!("{}/__mock/users", self.base_url))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(users
            .into_iter()
            .filter_map(|u| Some((u.get("id")?.as_str()?.to_string(), u)))
            .collect())
    }

    /// `POST /__mock/faults` with this JSON.
    pub async fn set_faults(&self, faults: Value) -> Result<()> {
        self.http
            .post(format!("{}/__mock/faults", self.base_url))
            .json(&faults)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// `POST /__mock/stats/reset`.
    pub async fn reset_stats(&self) -> Result<()> {
        self.http
            .post(format!("{}/__mock/stats/reset", self.base_url))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// Polls `gcbulk status BATCH --json` until the batch is done or `limit` passes; returns the last status.
pub async fn wait_for_batch(ns: &Namespace, batch: &str, limit: Duration) -> Result<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let out = run_gcbulk(&["status", batch, "--json"], &ns.env(), None)?;
        if out.status.success() {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(line) = text.lines().next() {
                let status: Value = serde_json::from_str(line)?;
                if status["done"].as_bool() == Some(true) {
                    return Ok(status);
                }
                if Instant::now() > deadline {
                    bail!("batch {batch} not done after {limit:?}: {status}");
                }
            }
        } else if Instant::now() > deadline {
            bail!("status failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Polls `gcbulk status BATCH --json` until at least `updated` items are updated (the run is under way), for up
/// to 120 s.
pub async fn wait_until_updated(ns: &Namespace, batch: &str, updated: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = run_gcbulk(&["status", batch, "--json"], &ns.env(), None).unwrap();
        let status: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        if status["updated"].as_u64().unwrap_or(0) >= updated {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "batch {batch} made no progress: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A throwaway `redis-server` on a free port, for tests that restart Redis under running workers.
pub struct OwnRedis {
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts one on a free port.
    pub fn start() -> Result<OwnRedis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut redis = OwnRedis {
            port,
            dir: tempfile::tempdir()?,
            child: None,
        };
        redis.restart()?;
        Ok(redis)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL: like a crash), keeping nothing on disk.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port, with AOF on so data survives a restart.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(client) = redis::Client::open(self.url().as_str())
                && let Ok(mut conn) = client.get_connection()
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("redis-server on port {} did not start", self.port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
