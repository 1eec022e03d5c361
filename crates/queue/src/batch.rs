//! Producer side: writing a batch of chunks so that it becomes visible to workers all at once.
//!
//! Chunks are staged in the batch's chunk hash (with a TTL, a bounded number per round trip);
//! [`BatchWriter::commit`] is one script that opens the batch and adds one job reference per
//! chunk to the stream. A crashed enqueue therefore leaves nothing workers can see, and its
//! staging keys expire on their own.
//!
//! ```no_run
//! # async fn demo(queue: gcbulk_queue::Queue) -> Result<(), gcbulk_queue::QueueError> {
//! use gcbulk_queue::{BatchStart, NewBatch};
//!
//! let new = NewBatch {
//!     id: Some("import-2024-06".into()),
//!     source: "users.csv".into(),
//!     format: "csv".into(),
//!     chunk_size: 50,
//! };
//! let summary = match queue.begin_batch(new).await? {
//!     // Same --batch-id committed before: nothing to do.
//!     BatchStart::AlreadyEnqueued(summary) => summary,
//!     BatchStart::New(mut writer) => {
//!         let items = br#"[{"line":2,"key":"email:a@b.com","name":"A"}]"#.to_vec();
//!         writer.push_chunk(1, items).await?;
//!         writer.commit().await?
//!     }
//! };
//! println!("{}", summary.id);
//! # Ok(()) }
//! ```

use redis::Value;
use serde::Serialize;

use crate::{
    error::QueueError,
    keys::valid_batch_id,
    queue::Queue,
    scripts::{ABORT, BEGIN, COMMIT, STAGE},
};

/// What the producer asks for.
#[derive(Debug, Clone)]
pub struct NewBatch {
    /// The batch id (`--batch-id`); `None` generates a ULID. 1-128 characters of `A-Za-z0-9._-`.
    pub id: Option<String>,
    /// Where the items came from (a file name, `-`), for status displays.
    pub source: String,
    /// Input format (`csv` / `jsonl`), so dead letters can be exported in it.
    pub format: String,
    /// Items per chunk the producer uses (informational; each chunk says its own count).
    pub chunk_size: usize,
}

/// The result of [`Queue::begin_batch`].
#[derive(Debug)]
pub enum BatchStart {
    /// A batch with this id was committed before; nothing must be written.
    AlreadyEnqueued(BatchSummary),
    /// A fresh (or restarted) staging batch: push chunks, then commit.
    New(BatchWriter),
}

/// Size of a committed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// The batch id.
    pub id: String,
    /// Number of items.
    pub items: u64,
    /// Number of chunks (jobs).
    pub chunks: u64,
}

/// Writes one batch's chunks. Holds at most one pipeline's worth of payloads in memory.
///
/// Dropping it without [`commit`](Self::commit) leaves an invisible staging batch that expires
/// after [`QueueConfig::staging_ttl`](crate::QueueConfig::staging_ttl).
pub struct BatchWriter {
    queue: Queue,
    id: String,
    token: String,
    pending: Vec<(u64, Vec<u8>)>,
    pending_bytes: usize,
    chunks: u64,
    items: u64,
    /// Run-length encoded item counts per chunk: (items in chunk, consecutive chunks).
    runs: Vec<(u64, u64)>,
}

impl std::fmt::Debug for BatchWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("id", &self.id)
            .field("chunks", &self.chunks)
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Starts writing a batch, or reports that a batch with this id is already committed.
    ///
    /// An uncommitted batch with the same id (a crashed or concurrent earlier run) is started
    /// over; a concurrent writer then fails with [`QueueError::Superseded`].
    pub async fn begin_batch(&self, new: NewBatch) -> Result<BatchStart, QueueError> {
        let id = match new.id {
            Some(id) if valid_batch_id(&id) => id,
            Some(id) => return Err(QueueError::InvalidBatchId(id)),
            None => ulid::Ulid::new().to_string(),
        };
        let keys = self.keys().batch(&id);
        let token = ulid::Ulid::new().to_string();
        let mut conn = self.conn();
        let reply: Vec<String> = BEGIN
            .prepare_invoke()
            .key(&keys.meta)
            .key(&keys.chunks)
            .arg(&token)
            .arg(ms(self.config().staging_ttl))
            .arg(&new.source)
            .arg(&new.format)
            .arg(new.chunk_size)
            .invoke_async(&mut conn)
            .await
            .map_err(QueueError::redis("starting a batch"))?;
        match reply.as_slice() {
            [state, items, chunks] if state == "open" => {
                Ok(BatchStart::AlreadyEnqueued(BatchSummary {
                    items: parse_count(&keys.meta, items)?,
                    chunks: parse_count(&keys.meta, chunks)?,
                    id,
                }))
            }
            _ => Ok(BatchStart::New(BatchWriter {
                queue: self.clone(),
                id,
                token,
                pending: Vec::new(),
                pending_bytes: 0,
                chunks: 0,
                items: 0,
                runs: Vec::new(),
            })),
        }
    }
}

impl BatchWriter {
    /// The batch id (generated or given).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds one chunk: `payload` is a JSON array of `item_count` item objects, each with a
    /// numeric `line` and a string `key` (see the crate docs). Sent to Redis in bounded rounds.
    pub async fn push_chunk(
        &mut self,
        item_count: usize,
        payload: Vec<u8>,
    ) -> Result<(), QueueError> {
        if item_count == 0 {
            return Err(QueueError::InvalidPayload(
                "a chunk must hold at least one item".into(),
            ));
        }
        let n = item_count as u64;
        match self.runs.last_mut() {
            Some((run_n, count)) if *run_n == n => *count += 1,
            _ => self.runs.push((n, 1)),
        }
        self.pending_bytes += payload.len();
        self.pending.push((self.chunks, payload));
        self.chunks += 1;
        self.items += n;
        let config = self.queue.config();
        if self.pending.len() >= config.stage_pipeline_chunks.max(1)
            || self.pending_bytes >= config.stage_pipeline_bytes
        {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), QueueError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let keys = self.queue.keys().batch(&self.id);
        let mut invocation = STAGE.prepare_invoke();
        invocation
            .key(&keys.meta)
            .key(&keys.chunks)
            .arg(&self.token)
            .arg(ms(self.queue.config().staging_ttl));
        for (chunk, payload) in &self.pending {
            invocation.arg(chunk).arg(payload.as_slice());
        }
        let owned: i64 = invocation
            .invoke_async(&mut self.queue.conn())
            .await
            .map_err(QueueError::redis("writing chunks"))?;
        if owned != 1 {
            return Err(QueueError::Superseded(self.id.clone()));
        }
        self.pending.clear();
        self.pending_bytes = 0;
        Ok(())
    }

    /// Makes the batch visible to workers, atomically. Re-running the same enqueue afterwards
    /// finds it committed ([`BatchStart::AlreadyEnqueued`]).
    pub async fn commit(mut self) -> Result<BatchSummary, QueueError> {
        self.flush().await?;
        let keys = self.queue.keys().batch(&self.id);
        let mut invocation = COMMIT.prepare_invoke();
        for key in keys.all() {
            invocation.key(key);
        }
        invocation
            .key(self.queue.keys().jobs())
            .key(self.queue.keys().batches())
            .arg(&self.token)
            .arg(&self.id)
            .arg(self.items)
            .arg(self.chunks)
            .arg(ms(self.queue.config().retention));
        for (n, count) in &self.runs {
            invocation.arg(n).arg(count);
        }
        let reply: Vec<Value> = invocation
            .invoke_async(&mut self.queue.conn())
            .await
            .map_err(QueueError::redis("committing a batch"))?;
        match reply.first() {
            Some(Value::BulkString(state)) if state == b"open" => Ok(BatchSummary {
                id: self.id,
                items: self.items,
                chunks: self.chunks,
            }),
            Some(Value::BulkString(state)) if state == b"mismatch" => Err(QueueError::Corrupt {
                key: keys.chunks,
                reason: format!(
                    "{} chunks were written but the staging hash holds {:?}",
                    self.chunks,
                    reply.get(1)
                ),
            }),
            _ => Err(QueueError::Superseded(self.id)),
        }
    }

    /// Drops everything staged so far. Nothing of the batch stays in Redis.
    pub async fn abort(self) -> Result<(), QueueError> {
        let keys = self.queue.keys().batch(&self.id);
        let _: i64 = ABORT
            .prepare_invoke()
            .key(&keys.meta)
            .key(&keys.chunks)
            .arg(&self.token)
            .invoke_async(&mut self.queue.conn())
            .await
            .map_err(QueueError::redis("aborting a batch"))?;
        Ok(())
    }
}

pub(crate) fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn parse_count(key: &str, raw: &str) -> Result<u64, QueueError> {
    raw.parse().map_err(|_| QueueError::Corrupt {
        key: key.to_owned(),
        reason: format!("expected a count, found {raw:?}"),
    })
}
