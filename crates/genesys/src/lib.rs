//! A Genesys Cloud Platform API client for the calls gcbulk makes, with one typed outcome per response.
//!
//! - [`GenesysClient`] holds the connection pool (reqwest + rustls), the OAuth client credentials, a
//!   [`TokenStore`] (default [`MemoryTokenStore`]) and a [`RequestGate`] (default [`OpenGate`]).
//! - Tokens are fetched with the client-credentials grant, reused until shortly before they expire, and
//!   refreshed once when the API answers 401.
//! - Every call returns [`ApiResponse`] (the value plus each response's [`ResponseMeta`]: correlation id and
//!   `inin-ratelimit-*` headers) or an [`ApiError`] whose [`ErrorKind`] says what to do: wait and retry
//!   (`RateLimited`, `Transient`), re-read and re-apply (`Conflict`), or give up (`Permanent`, `Auth`,
//!   `InvalidCredentials`, …). See [`error`] for the full table.
//! - The OAuth client secret and access tokens never appear in `Debug`, `Display`, errors or logs.
//!
//! It knows nothing of queues or Redis: a fleet shares tokens and a request budget by implementing
//! [`TokenStore`] and [`RequestGate`].
//!
//! ```no_run
//! use genesys::{ClientConfig, ErrorKind, GenesysClient, SecretString, UpdateUser};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::for_region(
//!     "mypurecloud.ie",
//!     std::env::var("GENESYS_CLIENT_ID")?,
//!     SecretString::from(std::env::var("GENESYS_CLIENT_SECRET")?),
//! )?;
//! let client = GenesysClient::new(config)?;
//!
//! let user = client.get_user("6a9c1c1e-5b5e-4cf1-9a56-3a8b0c3a4f1d").await?.into_value();
//! let update = UpdateUser { department: Some("Support".into()), ..UpdateUser::new(user.version) };
//! match client.patch_user(&user.id, &update).await {
//!     Ok(updated) => println!("updated to version {}", updated.value.version),
//!     Err(err) => match err.kind() {
//!         ErrorKind::Conflict => println!("changed meanwhile: re-read and re-apply"),
//!         ErrorKind::RateLimited { retry_after, .. } => println!("retry in {retry_after:?}"),
//!         kind if kind.is_retryable() => println!("retry later: {err}"),
//!         _ => eprintln!("giving up: {err}"),
//!     },
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Pointing the client at the look-alike server (`gcbulk mock-genesys`) instead:
//!
//! ```no_run
//! # fn demo() -> Result<(), genesys::ConfigError> {
//! use genesys::{ClientConfig, GenesysClient, SecretString};
//!
//! let config =
//!     ClientConfig::for_base_url("http://127.0.0.1:8089", "gcbulk-demo", SecretString::from("gcbulk-demo-secret"))?;
//! let client = GenesysClient::new(config)?;
//! # Ok(())
//! # }
//! ```

pub mod client;
pub mod config;
pub mod error;
pub mod gate;
pub mod meta;
pub mod models;
pub mod routing;
pub mod token;
pub mod users;

pub use async_trait::async_trait;
pub use secrecy::{ExposeSecret, SecretString};

pub use client::{ApiResponse, ClientBuilder, GenesysClient};
pub use config::{
    ClientConfig, ConfigError, DEFAULT_REGION, KNOWN_REGIONS, api_url_for_region,
    login_url_for_region, region_domain,
};
pub use error::{ApiError, ErrorBody, ErrorDetail, ErrorKind, classify_status};
pub use gate::{GateDecision, OpenGate, RequestGate, RequestInfo};
pub use meta::{RateLimitHeaders, ResponseMeta, parse_retry_after};
pub use models::{
    Contact, EntityRef, PatchUser, RoutingLanguage, RoutingSkill, UpdateUser, User,
    UserRoutingLanguage, UserRoutingLanguagePost, UserRoutingSkill, UserRoutingSkillPost,
    UserState,
};
pub use token::{
    AccessToken, MemoryTokenStore, RefreshLease, RefreshPermit, TokenStore, TokenStoreError,
};
