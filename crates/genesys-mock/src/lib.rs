//! A Genesys Cloud look-alike: the user endpoints gcbulk calls, with the real API's paths, bodies, status codes,
//! `ErrorBody`s, rate-limit headers and OAuth token endpoint, on one local address.
//!
//! It serves the demo (`gcbulk mock-genesys`), the client's contract tests, the end-to-end tests and the
//! benchmarks. What it reproduces and where it deliberately differs is recorded in
//! `docs/decisions/0020-mock-genesys-look-alike.md`.
//!
//! - Seeded organisation: [`seed`] (ids, emails and external ids derivable from a user's number).
//! - Budget: fixed windows per OAuth client, `inin-ratelimit-*` headers, 429 `too.many.requests` with
//!   `Retry-After`.
//! - Faults changeable at runtime: [`Faults`] (5xx, dropped connections, latency, forced 429s, version
//!   conflicts, users that refuse writes).
//! - Observation: [`Stats`] and the `/__mock/` admin routes (listed in the `admin` module docs, and in
//!   [`MockHandle`]'s methods).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use genesys_mock::{Faults, MockConfig, seed};
//!
//! let mock = genesys_mock::spawn(MockConfig { users: 10, rate_limit: 5, ..MockConfig::default() }).await?;
//! let base = mock.base_url(); // both GENESYS_API_URL and GENESYS_LOGIN_URL
//!
//! // Anything that speaks HTTP works; a client would now POST {base}/oauth/token with Basic
//! // gcbulk-demo:gcbulk-demo-secret and GET {base}/api/v2/users/{id} with the bearer token.
//! assert!(base.starts_with("http://127.0.0.1:"));
//! assert_eq!(mock.user(&seed::user_id(3)).map(|u| u["email"].clone()), Some("user3@example.com".into()));
//!
//! // Change the weather while it runs.
//! mock.set_faults(Faults { error_rate: 0.2, latency_ms: 5, ..Faults::default() })?;
//! mock.set_rate_limit(100, Duration::from_secs(10))?;
//! assert_eq!(mock.stats().api_requests, 0);
//! mock.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod admin;
mod api;
mod cli;
mod config;
mod conn;
mod error;
mod limiter;
mod oauth;
pub mod seed;
mod server;
mod stats;
mod store;
mod tokens;

pub use cli::{DEFAULT_ADDR, MockArgs, run, run_until};
pub use config::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_EXTERNAL_ID_AUTHORITY, Faults, Force429,
    MockConfig,
};
pub use error::MockError;
pub use limiter::RETRY_AFTER_GRACE;
pub use server::{CORRELATION_HEADER, MockHandle, serve, spawn};
pub use stats::{Second, Stats};
