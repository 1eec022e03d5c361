//! Why a worker process could not start or keep running. Each variant maps to one exit code of the contract.

/// A worker process failed as a whole (individual items never fail the process: they are dead-lettered).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The queue could not be reached or used.
    #[error(transparent)]
    Queue(#[from] gcbulk_queue::QueueError),
    /// Redis could not be reached for the fleet budget.
    #[error("redis unreachable: {0}")]
    RedisUnreachable(String),
    /// The Genesys token endpoint rejected the client credentials.
    #[error("{0}")]
    Credentials(String),
    /// The Genesys login host could not be reached.
    #[error("{0}")]
    LoginUnreachable(String),
    /// The settings cannot work.
    #[error("configuration: {0}")]
    Config(String),
    /// The worker runtime failed.
    #[error("worker runtime: {0}")]
    Runtime(String),
}

impl WorkerError {
    /// True when a required service (Redis, the Genesys login) is unreachable: exit 69.
    pub fn is_unreachable(&self) -> bool {
        match self {
            WorkerError::Queue(err) => err.is_unreachable(),
            WorkerError::RedisUnreachable(_) | WorkerError::LoginUnreachable(_) => true,
            _ => false,
        }
    }

    /// True when configuration is missing or wrong: exit 78.
    pub fn is_configuration(&self) -> bool {
        matches!(self, WorkerError::Credentials(_) | WorkerError::Config(_))
    }
}
