//! gcbulk's durable job queue on Redis Streams, and its apalis backend.
//!
//! A job is a CHUNK of opaque JSON items belonging to a BATCH. The producer writes a batch with
//! [`Queue::begin_batch`] and a [`BatchWriter`]; workers consume chunks through an apalis
//! worker; every item ends in exactly one outcome (updated, unchanged or dead).

mod batch;
mod config;
mod error;
#[allow(dead_code)] // filled in by the worker side, next commit
mod keys;
#[allow(dead_code)]
mod queue;
mod scripts;

pub use batch::{BatchStart, BatchSummary, BatchWriter, NewBatch};
pub use config::QueueConfig;
pub use error::QueueError;
pub use queue::Queue;
