//! What a look-alike serves: its seeded organisation, its OAuth client, its rate budget and the faults it
//! injects.
//!
//! [`MockConfig`] is fixed when the server starts, except for the budget and the [`Faults`], which a test or
//! benchmark may change at any time through [`crate::MockHandle`] or the `/__mock/` admin routes.
//!
//! ```
//! use std::time::Duration;
//! use genesys_mock::{Faults, MockConfig};
//!
//! let config = MockConfig {
//!     users: 50,
//!     rate_limit: 10,
//!     window: Duration::from_secs(2),
//!     faults: Faults { error_rate: 0.1, ..Faults::default() },
//!     ..MockConfig::default()
//! };
//! assert_eq!(config.client_id, "gcbulk-demo");
//! ```

use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// Default OAuth client id accepted by the look-alike (also the contract's default).
pub const DEFAULT_CLIENT_ID: &str = "gcbulk-demo";
/// Default OAuth client secret accepted by the look-alike. A demo value, not a secret worth protecting, but
/// kept in a [`SecretString`] like any other secret so that it never shows up in Debug output.
pub const DEFAULT_CLIENT_SECRET: &str = "gcbulk-demo-secret";
/// Default authority name under which every seeded user has an external id.
pub const DEFAULT_EXTERNAL_ID_AUTHORITY: &str = "gcbulk-demo";

/// Everything a look-alike needs to start.
///
/// Build it with struct-update syntax from [`MockConfig::default`].
#[derive(Clone, Debug)]
pub struct MockConfig {
    /// Number of seeded users (see [`crate::seed`] for what each one looks like).
    pub users: usize,
    /// Requests allowed per [`MockConfig::window`] per OAuth client (all its tokens share one budget);
    /// `0` means unlimited (and then no `inin-ratelimit-*` headers are sent).
    pub rate_limit: u32,
    /// Length of one fixed rate-limit window.
    pub window: Duration,
    /// The one OAuth client id accepted by `POST /oauth/token`.
    pub client_id: String,
    /// The secret of that client.
    pub client_secret: SecretString,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_ttl: Duration,
    /// Authority name of the seeded external ids (`GET /api/v2/users/externalid/{authority}/{key}`).
    pub external_id_authority: String,
    /// Faults injected from the start.
    pub faults: Faults,
    /// Seed of the generated data (names, titles, skills, …) and of the fault dice.
    pub seed: u64,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            users: 1000,
            rate_limit: 300,
            window: Duration::from_secs(60),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(DEFAULT_CLIENT_SECRET),
            token_ttl: Duration::from_secs(24 * 60 * 60),
            external_id_authority: DEFAULT_EXTERNAL_ID_AUTHORITY.to_owned(),
            faults: Faults::default(),
            seed: 42,
        }
    }
}

impl MockConfig {
    /// Checks the values a server cannot run with.
    pub(crate) fn validate(&self) -> Result<(), MockError> {
        if self.window.is_zero() {
            return Err(MockError::InvalidConfig(
                "the rate-limit window must be longer than zero".into(),
            ));
        }
        if self.token_ttl < Duration::from_secs(1) {
            return Err(MockError::InvalidConfig(
                "the token lifetime must be at least one second".into(),
            ));
        }
        if self.client_id.is_empty() {
            return Err(MockError::InvalidConfig(
                "the OAuth client id must not be empty".into(),
            ));
        }
        self.faults.validate()
    }
}

/// Faults the look-alike injects into `/api/v2` requests (never into `/oauth/token` or `/__mock/`).
///
/// All of them can be changed at runtime ([`crate::MockHandle::set_faults`], `POST /__mock/faults` with this
/// struct as JSON; missing fields take their defaults, unknown fields are rejected).
///
/// Order in which a request meets them: authentication, rate limit / forced 429, latency, drop, error, then
/// the endpoint (which applies `conflict_rate` and `fail_user_ids`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fraction (0–1) of admitted API requests answered with [`Faults::error_status`] and its ErrorBody,
    /// without being processed.
    pub error_rate: f64,
    /// Status of injected errors: 500, 502, 503 (default) or 504.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<u16>,
    /// Fraction (0–1) of admitted API requests whose connection is closed without any response byte, so the
    /// client sees an incomplete message. The request is not processed.
    pub drop_rate: f64,
    /// Delay added to every admitted API request, in milliseconds.
    pub latency_ms: u64,
    /// Up to this many extra milliseconds of uniformly random delay.
    pub latency_jitter_ms: u64,
    /// Answer every API request with 429 for a while; the period starts when these faults are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_429: Option<Force429>,
    /// Fraction (0–1) of `PATCH /api/v2/users/{userId}` requests for which a concurrent edit bumps the user's
    /// version just before the version check, so the client gets 409 `general.conflict`.
    pub conflict_rate: f64,
    /// Users whose writes (PATCH/PUT on the user, its skills or languages, and any `PATCH /users/bulk` that
    /// names them) are refused with [`Faults::fail_user_status`]. Reads still work.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fail_user_ids: Vec<String>,
    /// Status for [`Faults::fail_user_ids`]: 400 (`bad.request`) or 403 (`missing.permissions`, default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_user_status: Option<u16>,
}

/// A period during which every API request is answered 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Force429 {
    /// How long the period lasts, in seconds from the moment the faults are set.
    pub for_secs: u64,
    /// The `Retry-After` header sent with each of those 429s, in seconds.
    pub retry_after_secs: u64,
}

impl Faults {
    /// Checks rates and statuses; the error names the field to fix.
    pub fn validate(&self) -> Result<(), MockError> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
            ("conflict_rate", self.conflict_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(MockError::InvalidFaults(format!(
                    "{name} must be between 0 and 1, got {rate}"
                )));
            }
        }
        if let Some(status) = self.error_status
            && !matches!(status, 500 | 502 | 503 | 504)
        {
            return Err(MockError::InvalidFaults(format!(
                "error_status must be 500, 502, 503 or 504, got {status}"
            )));
        }
        if let Some(status) = self.fail_user_status
            && !matches!(status, 400 | 403)
        {
            return Err(MockError::InvalidFaults(format!(
                "fail_user_status must be 400 or 403, got {status}"
            )));
        }
        Ok(())
    }
}
