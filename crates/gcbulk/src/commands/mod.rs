//! One module per subcommand. Each turns parsed arguments into library calls and library errors into
//! [`Failure`](crate::exit::Failure)s; none holds logic worth testing on its own.

pub mod dlq;
pub mod enqueue;
pub mod mock;
pub mod status;
pub mod worker;

use gcbulk_queue::{Queue, QueueConfig};

use crate::cli::GlobalArgs;
use crate::exit::{Failure, queue_failure};

/// Connects to the queue named by the global options.
pub async fn connect(global: &GlobalArgs) -> Result<Queue, Failure> {
    Queue::connect(QueueConfig::new(
        global.redis_url.clone(),
        global.namespace.clone(),
    ))
    .await
    .map_err(queue_failure)
}
