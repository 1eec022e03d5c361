//! The gcbulk worker: turns queued chunks of user changes into Genesys Cloud API calls.
//!
//! A worker process consumes chunk jobs from the queue ([`gcbulk_queue`]) with apalis, and applies each chunk
//! ([`apply`]) through the Genesys client ([`genesys`]) whose every request is paced by the fleet-wide budget
//! ([`gcbulk_fleet`]). This is the one crate that knows both the Redis side and the Genesys side; the adapters
//! between them are in [`fleet_adapters`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), gcbulk_worker::WorkerError> {
//! use std::time::Duration;
//! use gcbulk_worker::{WorkerSettings, run};
//! use genesys::{ClientConfig, SecretString};
//!
//! let genesys = ClientConfig::for_region("mypurecloud.ie", "client-id", SecretString::from("secret"))
//!     .map_err(|e| gcbulk_worker::WorkerError::Config(e.to_string()))?;
//! let settings = WorkerSettings {
//!     redis_url: "redis://127.0.0.1:6379".into(),
//!     namespace: "gcbulk".into(),
//!     concurrency: 4,
//!     rate_limit_per_minute: 300,
//!     max_attempts: 8,
//!     exit_when_idle: true,
//!     metrics_addr: None,
//!     shutdown_grace: Duration::from_secs(30),
//!     claim_idle_timeout: None,
//!     genesys,
//!     external_id_authority: None,
//! };
//! run(settings, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

pub mod apply;
pub mod error;
pub mod fleet_adapters;
pub mod health;
pub mod metrics;
pub mod plan;
pub mod run;

pub use apply::ChunkApplier;
pub use error::WorkerError;
pub use run::{WorkerSettings, run};
