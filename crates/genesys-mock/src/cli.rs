//! `gcbulk mock-genesys`: the arguments and the serve-until-signal loop the binary calls.
//!
//! ```no_run
//! # async fn demo() -> Result<(), genesys_mock::MockError> {
//! use clap::Parser;
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     mock: genesys_mock::MockArgs,
//! }
//!
//! let cli = Cli::parse_from(["x", "--addr", "127.0.0.1:0", "--users", "100", "--ready-file", "/tmp/mock.addr"]);
//! genesys_mock::run(cli.mock).await // until SIGINT/SIGTERM
//! # }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::config::{
    DEFAULT_CLIENT_ID, DEFAULT_EXTERNAL_ID_AUTHORITY, Faults, Force429, MockConfig,
};
use crate::error::MockError;
use crate::server;

/// How long [`run`] waits for in-flight requests after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Default listening address of `gcbulk mock-genesys`.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8085";

/// Arguments of `gcbulk mock-genesys`.
#[derive(Clone, Debug, clap::Args)]
pub struct MockArgs {
    /// Address to listen on; port 0 picks a free one (see --ready-file).
    #[arg(long, default_value = DEFAULT_ADDR)]
    pub addr: String,
    /// Number of seeded users N (user i: id 00000000-0000-4000-8000-iiiiiiiiiiii, email useri@example.com).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Requests allowed per window per OAuth client; 0 = unlimited.
    #[arg(long, default_value_t = 300)]
    pub rate_limit: u32,
    /// Length of a rate-limit window in seconds (fractions allowed).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub window: f64,
    /// OAuth client id accepted by POST /oauth/token.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// OAuth client secret accepted by POST /oauth/token (default: the demo secret named in the contract;
    /// never printed, not even here).
    #[arg(long, hide_default_value = true, default_value = crate::config::DEFAULT_CLIENT_SECRET)]
    pub client_secret: SecretString,
    /// Lifetime of issued access tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 86_400)]
    pub token_ttl: u64,
    /// Authority of the seeded external ids (user i: ext-i).
    #[arg(long, default_value = DEFAULT_EXTERNAL_ID_AUTHORITY)]
    pub external_id_authority: String,
    /// Seed of the generated names, titles, skills and fault dice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fraction (0-1) of API requests answered with --error-status.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Status of injected errors: 500, 502, 503 or 504.
    #[arg(long, default_value_t = 503)]
    pub error_status: u16,
    /// Fraction (0-1) of API requests whose connection is closed without a response.
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Delay added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this many extra random milliseconds of delay.
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// Fraction (0-1) of user PATCHes that meet a concurrent edit (409 general.conflict).
    #[arg(long, default_value_t = 0.0)]
    pub conflict_rate: f64,
    /// Answer every API request 429 for this many seconds from start.
    #[arg(long, value_name = "SECS")]
    pub force_429_secs: Option<u64>,
    /// Retry-After of those forced 429s, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub force_429_retry_after: u64,
    /// Once listening, write the bound address (e.g. 127.0.0.1:40123, no newline) to this file.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
}

impl MockArgs {
    /// The configuration these arguments describe.
    pub fn config(&self) -> Result<MockConfig, MockError> {
        let window = Duration::try_from_secs_f64(self.window)
            .map_err(|err| MockError::InvalidConfig(format!("--window {}: {err}", self.window)))?;
        let faults = Faults {
            error_rate: self.error_rate,
            error_status: Some(self.error_status),
            drop_rate: self.drop_rate,
            latency_ms: self.latency_ms,
            latency_jitter_ms: self.latency_jitter_ms,
            force_429: self.force_429_secs.map(|for_secs| Force429 {
                for_secs,
                retry_after_secs: self.force_429_retry_after,
            }),
            conflict_rate: self.conflict_rate,
            fail_user_ids: Vec::new(),
            fail_user_status: None,
        };
        let config = MockConfig {
            users: self.users,
            rate_limit: self.rate_limit,
            window,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            token_ttl: Duration::from_secs(self.token_ttl),
            external_id_authority: self.external_id_authority.clone(),
            faults,
            seed: self.seed,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Serves until SIGINT or SIGTERM; prints `mock-genesys listening on http://ADDR` on stderr once listening.
pub async fn run(args: MockArgs) -> Result<(), MockError> {
    let signal = shutdown_signal()?;
    run_until(args, signal).await
}

/// Serves until `shutdown` completes (what [`run`] does with SIGINT/SIGTERM; tests pass their own future).
pub async fn run_until(
    args: MockArgs,
    shutdown: impl Future<Output = ()>,
) -> Result<(), MockError> {
    let config = args.config()?;
    let listener = TcpListener::bind(&args.addr)
        .await
        .map_err(|source| MockError::Bind {
            addr: args.addr.clone(),
            source,
        })?;
    let handle = server::serve(listener, config)?;
    let addr = handle.addr();
    if let Some(path) = &args.ready_file {
        write_ready_file(path, addr)?;
    }
    eprintln!("mock-genesys listening on http://{addr}");
    shutdown.await;
    // In-flight requests get a moment to finish; a client that keeps a request open longer must not keep
    // the process alive (its connection closes when the process exits).
    match tokio::time::timeout(SHUTDOWN_GRACE, handle.shutdown()).await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}

/// Writes the address atomically (temporary file, then rename) so a poller never reads half of it.
fn write_ready_file(path: &Path, addr: SocketAddr) -> Result<(), MockError> {
    let err = |source| MockError::ReadyFile {
        path: path.to_owned(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, addr.to_string()).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Completes on SIGINT or (on Unix) SIGTERM.
fn shutdown_signal() -> Result<impl Future<Output = ()>, MockError> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(MockError::Signal)?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
