//! A Genesys Cloud look-alike: the user endpoints gcbulk calls, with the real API's paths, bodies, status codes,
//! `ErrorBody`s, rate-limit headers and OAuth token endpoint, on one local address.
//!
//! It serves the demo (`gcbulk mock-genesys`), the client's contract tests, the end-to-end tests and the
//! benchmarks. What it reproduces and where it deliberately differs is recorded in
//! `docs/decisions/0020-mock-genesys-look-alike.md`.
//!
//! Served on one address (`GENESYS_API_URL` and `GENESYS_LOGIN_URL` may both point at it):
//! `POST /oauth/token`; under `/api/v2`: `GET /users/{userId}`, `GET /users` (`id`, `pageSize`, `pageNumber`,
//! `state`, `expand`), `PATCH /users/{userId}`, `POST /users/search`,
//! `GET /users/externalid/{authorityName}/{externalKey}`, `PATCH /users/bulk`,
//! `GET /users/{userId}/routingskills`, `PATCH`/`PUT /users/{userId}/routingskills/bulk`,
//! `GET /users/{userId}/routinglanguages`, `PATCH /users/{userId}/routinglanguages/bulk`,
//! `GET /routing/skills` and `GET /routing/languages` (`name` = starts with, `id`, paging).
//!
//! - Seeded organisation: [`seed`] (ids, emails and external ids derivable from a user's number).
//! - Budget: fixed windows per OAuth client, `inin-ratelimit-*` headers, 429 `too.many.requests` with
//!   `Retry-After`.
//! - Faults changeable at runtime: [`Faults`] (5xx, dropped connections, latency, forced 429s, version
//!   conflicts, users that refuse writes).
//! - Observation: [`Stats`] and the `/__mock/` admin routes below (also [`MockHandle`]'s methods).
//!
//! Admin routes (no authentication, no budget, not counted; errors are `{"error": "…"}`):
//!
//! | route | what |
//! |---|---|
//! | `GET /__mock/users` | every user's current state: User JSON with `skills`, `languages`, `externalIds` |
//! | `GET /__mock/users/{id}` | one user (404 if unknown) |
//! | `POST /__mock/users/{id}/bump` | raise its version as a concurrent edit would → `{"id", "version"}` |
//! | `GET /__mock/stats` | [`Stats`] as JSON |
//! | `POST /__mock/stats/reset` | start the counters (and the timeline clock) over |
//! | `GET`/`POST /__mock/faults` | [`Faults`] as JSON; POST replaces them (a forced-429 period starts now) |
//! | `GET`/`POST /__mock/limit` | `{"rate_limit": N, "window_secs": S}`; 0 = unlimited; fresh windows |
//! | `GET /__mock/tokens` | every token issued (for leak checks in tests) |
//! | `POST /__mock/tokens/revoke` | invalidate every issued token |
//! | `GET /__mock/config` | `{"users", "seed", "client_id", "external_id_authority", "token_ttl_secs"}` |
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
