//! gcbulk's durable job queue on Redis Streams, and its apalis backend.
//!
//! A job is a CHUNK of opaque JSON items belonging to a BATCH. The producer writes a batch with
//! [`Queue::begin_batch`] and a [`BatchWriter`]; workers consume chunks through an apalis
//! worker; every item ends in exactly one outcome (updated, unchanged or dead).

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
