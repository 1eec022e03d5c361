//! The [`Queue`] handle: one Redis connection manager shared by all clones.

use std::sync::Arc;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::{
    config::QueueConfig,
    error::QueueError,
    keys::{Keys, valid_namespace},
};

/// A handle on one namespace of the queue. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct Queue {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: QueueConfig,
    pub(crate) keys: Keys,
    pub(crate) client: redis::Client,
    pub(crate) conn: ConnectionManager,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to Redis and checks it answers.
    ///
    /// Fails with [`QueueError::Unreachable`] when Redis cannot be reached (the CLI's exit 69)
    /// and [`QueueError::Config`] for a malformed URL or namespace.
    pub async fn connect(config: QueueConfig) -> Result<Queue, QueueError> {
        if !valid_namespace(&config.namespace) {
            return Err(QueueError::Config(format!(
                "namespace {:?} must be 1-128 characters without '{{' or '}}'",
                config.namespace
            )));
        }
        let client = redis::Client::open(config.redis_url.as_str()).map_err(|e| {
            QueueError::Config(format!(
                "Redis URL {} is not valid: {}",
                config.redacted_url(),
                e.category()
            ))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(config.response_timeout))
            .set_connection_timeout(Some(config.connect_timeout))
            .set_number_of_retries(2)
            .set_max_delay(std::time::Duration::from_secs(2));
        let unreachable = |source| QueueError::Unreachable {
            url: config.redacted_url(),
            source,
        };
        let mut conn = ConnectionManager::new_with_config(client.clone(), manager_config)
            .await
            .map_err(unreachable)?;
        let _: String = redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(unreachable)?;
        let keys = Keys::new(&config.namespace);
        Ok(Queue {
            inner: Arc::new(Inner {
                config,
                keys,
                client,
                conn,
            }),
        })
    }

    /// The configuration this queue was opened with.
    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    pub(crate) fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }
}
