//! The crate's error type.
//!
//! No variant ever carries secret material: values, passphrases, derived keys and lock tokens stay
//! out of every message, and Redis errors come from commands whose arguments are either public
//! (client ids, numbers) or ciphertext.

use redis::RedisError;

/// Errors of the fleet API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// A Redis command or script failed (connection lost, timeout, server error).
    #[error("Redis command failed while {context}: {source}")]
    Redis {
        /// What the fleet crate was doing.
        context: &'static str,
        /// What the client library reported.
        #[source]
        source: RedisError,
    },
    /// Redis answered, but not in the shape the script promises (a key was overwritten by
    /// something else, or the server is not Redis-compatible enough).
    #[error(
        "Redis gave an unexpected answer while {context}; is another program writing keys of this namespace?"
    )]
    UnexpectedReply {
        /// What the fleet crate was doing.
        context: &'static str,
    },
    /// The configuration cannot work.
    #[error("invalid fleet configuration: {0}")]
    Config(String),
    /// Encrypting a value failed (this does not happen with valid keys; reported rather than
    /// storing anything in clear).
    #[error("could not encrypt the value for the shared cache")]
    Seal,
}

impl FleetError {
    /// True when Redis could not be reached at all (refused, dropped, timed out), as opposed to a
    /// command that Redis rejected: a CLI exits 69 ("service unavailable") for these.
    pub fn is_unreachable(&self) -> bool {
        match self {
            FleetError::Redis { source, .. } => {
                source.is_connection_refusal()
                    || source.is_connection_dropped()
                    || source.is_timeout()
                    || source.is_io_error()
            }
            _ => false,
        }
    }

    pub(crate) fn redis(context: &'static str) -> impl FnOnce(RedisError) -> FleetError {
        move |source| FleetError::Redis { context, source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = FleetError> = std::result::Result<T, E>;
