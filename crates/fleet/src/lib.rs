//! Fleet-wide coordination in Redis for any number of worker processes on any number of hosts.
//!
//! It knows nothing of Genesys or of the job queue: it speaks of *clients* (a budget key, such
//! as an OAuth client id) and *secrets*.
//!
//! - [`RequestBudget`]: one request budget per client for the whole fleet — GCRA on the Redis
//!   clock, one round trip per request, with fleet-wide cooldowns (after a 429) and a cap that
//!   follows the limit the server reports ([`Observation`]). See [`budget`] for the model.
//! - [`SealedCache`]: a shared credential cache whose values are encrypted under a key derived
//!   from a passphrase Redis never sees, with a refresh lock. See [`sealed`].
//!
//! Every key lives under the hash tag `{<namespace>}:fleet:` (see [`keys`]), and every script
//! receives its keys as `KEYS`, so it all works on Redis Cluster too. Nothing here logs, stores
//! in clear or prints (`Debug`, errors) a secret.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use gcbulk_fleet::{BudgetConfig, Observation, RequestBudget, Turn};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = redis::Client::open("redis://127.0.0.1:6379")?;
//! let budget = RequestBudget::new(
//!     redis.get_connection_manager().await?,
//!     "gcbulk",
//!     BudgetConfig::per_minute(300),
//! )?;
//!
//! let client = "my-oauth-client-id";
//! match budget.wait_turn(client).await? {
//!     Turn::Go => {
//!         // … send the request, then tell the fleet what the headers said:
//!         budget
//!             .observe(client, Observation {
//!                 allowed: Some(300),
//!                 count: Some(17),
//!                 reset: Some(Duration::from_secs(42)),
//!                 ..Observation::default()
//!             })
//!             .await?;
//!         // … and after a 429 with Retry-After: 7
//!         budget.set_cooldown(client, Duration::from_secs(7)).await?;
//!     }
//!     Turn::CoolingDown { until } => {
//!         // reschedule the work for `until` instead of sending
//!         let _ = until;
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod budget;
mod error;
pub mod keyring;
pub mod keys;
mod observation;
pub mod sealed;

pub use budget::{Acquire, BudgetConfig, RequestBudget, Turn};
pub use error::{FleetError, Result};
pub use observation::Observation;
pub use sealed::{LockGuard, SealedCache};
