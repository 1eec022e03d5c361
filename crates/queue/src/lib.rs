//! gcbulk's durable job queue on Redis Streams, and its apalis backend.
//!
//! The queue knows nothing of Genesys. A **batch** is one enqueue run; it is cut into **chunks**
//! (one job each) of opaque JSON **items**. Every item is a JSON object with a numeric `line` (its
//! id: the input line number) and a string `key` (e.g. `email:a@b.com`); the rest is the
//! handler's business. Every item ends in exactly one outcome — `updated`, `unchanged` or `dead`
//! (with a dead letter) — however often its chunk is delivered.
//!
//! | who | what | API |
//! |---|---|---|
//! | producer | stage chunks, commit the batch atomically | [`Queue::begin_batch`], [`BatchWriter`] |
//! | worker | an apalis worker on [`ChunkBackend`]; the handler records outcomes | [`Queue::backend`], [`Queue::record_outcomes`], [`JobError`] |
//! | `status` | per-batch numbers; is anything left to do | [`Queue::batch_status`], [`Queue::list_batches`], [`Queue::is_idle`] |
//! | `dlq` | dead letters | [`Queue::dlq_list`], [`Queue::dlq_get`], [`Queue::dlq_requeue`], [`Queue::dlq_purge`] |
//!
//! Redis keys and who writes them: ARCHITECTURE.md ("Redis key layout"). Design decisions: `docs/decisions/0030`
//! to `0032`.
//!
//! # Example: enqueue a batch, process it, read its status
//!
//! ```no_run
//! use apalis::prelude::*;
//! use gcbulk_queue::{BatchStart, ChunkJob, ItemOutcome, JobError, NewBatch, Queue, QueueConfig};
//!
//! /// The handler: do the work, then record each item's outcome (once; repeats are ignored).
//! async fn handle(job: ChunkJob, queue: Data<Queue>) -> Result<(), JobError> {
//!     let ids: Vec<u64> = job.item_ids().into_iter().flatten().collect();
//!     let done = queue.outcomes(&job.batch, &ids).await.map_err(|_| JobError::RetryAfter {
//!         after: std::time::Duration::from_secs(1),
//!         counts_as_attempt: true,
//!     })?;
//!     let outcomes = ids
//!         .iter()
//!         .zip(done)
//!         .filter(|(_, outcome)| outcome.is_none()) // skip what a previous delivery finished
//!         .map(|(&id, _)| ItemOutcome::Updated { id })
//!         .collect();
//!     queue.record_outcomes(&job.batch, outcomes).await.map_err(|_| JobError::RetryAfter {
//!         after: std::time::Duration::from_secs(1),
//!         counts_as_attempt: true,
//!     })?;
//!     Ok(())
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = QueueConfig::new("redis://127.0.0.1:6379", "gcbulk");
//! config.fetch_batch_size = 4;
//! let queue = Queue::connect(config).await?;
//!
//! // Producer: nothing is visible to workers until commit.
//! if let BatchStart::New(mut writer) = queue
//!     .begin_batch(NewBatch {
//!         id: Some("import-1".into()),
//!         source: "users.csv".into(),
//!         format: "csv".into(),
//!         chunk_size: 50,
//!     })
//!     .await?
//! {
//!     let chunk = serde_json::json!([{"line": 2, "key": "email:a@b.com", "title": "Lead"}]);
//!     writer.push_chunk(1, serde_json::to_vec(&chunk)?).await?;
//!     writer.commit().await?;
//! }
//!
//! // Worker: an apalis worker on our backend, stopped once the queue is idle.
//! let backend = queue.backend();
//! let backend_handle = backend.handle();
//! let worker = WorkerBuilder::new("gcbulk-worker")
//!     .backend(backend)
//!     .data(queue.clone())
//!     .concurrency(4)
//!     .build(handle);
//! let idle = queue.clone();
//! worker
//!     .run_until(async move {
//!         while !idle.is_idle().await.unwrap_or(false) {
//!             tokio::time::sleep(std::time::Duration::from_millis(500)).await;
//!         }
//!         Ok::<(), std::io::Error>(())
//!     })
//!     .await?;
//! assert_eq!(backend_handle.held_jobs(), 0); // everything settled or handed back
//!
//! let status = queue.batch_status("import-1").await?.expect("committed");
//! assert_eq!(status.total, status.updated + status.unchanged + status.dead);
//! # Ok(()) }
//! ```

mod backend;
mod batch;
mod config;
mod dlq;
mod error;
mod keys;
mod outcome;
mod queue;
mod scripts;
mod status;

pub use backend::{
    BackendHandle, ChunkBackend, ChunkJob, JobError, SettleLayer, SettleService,
    backoff_with_full_jitter,
};
pub use batch::{BatchStart, BatchSummary, BatchWriter, NewBatch};
pub use config::QueueConfig;
pub use dlq::{DeadLetter, DlqFilter, DlqSelection};
pub use error::QueueError;
pub use outcome::{ErrorInfo, ItemOutcome, NewDeadLetter, OutcomeKind, RecordReport};
pub use queue::Queue;
pub use status::BatchStatus;
