//! The queue's error type.
//!
//! [`QueueError::is_unreachable`] tells a CLI when to exit with 69 ("service unavailable") rather
//! than 1. No variant ever carries the Redis password.

use redis::RedisError;

/// Errors of the queue API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// Redis could not be reached (connection refused, DNS, TLS, timeout, authentication).
    #[error(
        "Redis at {url} is unreachable: {source}; check that it runs and that the URL is right"
    )]
    Unreachable {
        /// The URL with its password redacted.
        url: String,
        /// What the client library reported.
        #[source]
        source: RedisError,
    },
    /// A Redis command failed.
    #[error("Redis command failed while {context}: {source}")]
    Redis {
        /// What the queue was doing.
        context: &'static str,
        /// What the client library reported.
        #[source]
        source: RedisError,
    },
    /// The configuration cannot work (bad URL, bad namespace, …).
    #[error("invalid queue configuration: {0}")]
    Config(String),
    /// A batch id that is not 1–128 characters of `A-Z a-z 0-9 . _ -`.
    #[error("invalid batch id {0:?}: use 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-'")]
    InvalidBatchId(String),
    /// Another enqueue with the same batch id started over this (uncommitted) batch.
    #[error(
        "batch {0} was started over by another enqueue with the same batch id; nothing of this run was committed"
    )]
    Superseded(String),
    /// No open batch has this id (never committed, or expired after its retention period).
    #[error("no batch {0:?} in this namespace (never committed, or expired)")]
    UnknownBatch(String),
    /// Redis holds something the queue did not write in that shape.
    #[error("unexpected data in Redis at {key}: {reason}")]
    Corrupt {
        /// The key (or key and field) concerned.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A chunk payload that is not a JSON array of objects each with a numeric `line`.
    #[error("invalid chunk payload: {0}")]
    InvalidPayload(String),
}

impl QueueError {
    /// True when the failure is Redis being unreachable (connection level), as opposed to a
    /// command Redis refused. CLIs map this to exit code 69.
    pub fn is_unreachable(&self) -> bool {
        match self {
            QueueError::Unreachable { .. } => true,
            QueueError::Redis { source, .. } => is_connection_error(source),
            _ => false,
        }
    }

    pub(crate) fn redis(context: &'static str) -> impl FnOnce(RedisError) -> QueueError {
        move |source| QueueError::Redis { context, source }
    }
}

/// Errors that say the connection, not the command, failed: worth a reconnect and a retry.
pub(crate) fn is_connection_error(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
        || matches!(
            e.kind(),
            redis::ErrorKind::Server(
                redis::ServerErrorKind::BusyLoading
                    | redis::ServerErrorKind::TryAgain
                    | redis::ServerErrorKind::ClusterDown
                    | redis::ServerErrorKind::MasterDown
                    | redis::ServerErrorKind::ReadOnly
            )
        )
}
