//! The dead-letter queue: items that failed for good, with their reason, until requeued or purged.
//!
//! Entries live per batch (`{ns}:batch:<id>:dlq`, item line → letter) and expire with their
//! batch after the retention period. An entry's id is `<batch>:<line>`, stable across requeues.
//!
//! ```no_run
//! # async fn demo(queue: gcbulk_queue::Queue) -> Result<(), gcbulk_queue::QueueError> {
//! use gcbulk_queue::{DlqFilter, DlqSelection};
//!
//! for letter in queue.dlq_list(DlqFilter { batch: Some("b1".into()), limit: Some(20) }).await? {
//!     println!("{} line {}: {}", letter.id, letter.line, letter.error.message);
//! }
//! let requeued = queue.dlq_requeue(DlqSelection::All { batch: Some("b1".into()) }).await?;
//! # let _ = requeued; Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    error::QueueError,
    keys::valid_batch_id,
    outcome::{ErrorInfo, StoredLetter},
    queue::Queue,
    scripts::REQUEUE,
    status::rfc3339_ms,
};

/// A dead-lettered item, with the contract's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// `<batch>:<line>`.
    pub id: String,
    /// The batch the item belongs to.
    pub batch: String,
    /// Input line number.
    pub line: u64,
    /// Which user the row meant, e.g. `email:a@b.com`.
    pub key: String,
    /// The requested change, whole.
    pub item: serde_json::Value,
    /// Why it failed (the last failure).
    pub error: ErrorInfo,
    /// Attempts made.
    pub attempts: u32,
    /// First time the item was dead-lettered (kept across requeues), RFC 3339.
    pub first_failed_at: String,
    /// Latest time it was dead-lettered, RFC 3339.
    pub last_failed_at: String,
}

/// Which entries [`Queue::dlq_list`] returns.
#[derive(Debug, Clone, Default)]
pub struct DlqFilter {
    /// Only this batch.
    pub batch: Option<String>,
    /// At most this many (batches oldest first, lines ascending).
    pub limit: Option<usize>,
}

/// Which entries to requeue or purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DlqSelection {
    /// These entry ids (`<batch>:<line>`); unknown ids are skipped.
    Ids(Vec<String>),
    /// Every entry, or every entry of one batch.
    All {
        /// Only this batch.
        batch: Option<String>,
    },
}

/// Lines read and requeued per script call.
const REQUEUE_SLICE: usize = 1000;
/// Re-reads after a concurrent requeue/purge took some of the selected entries.
const REQUEUE_RETRIES: usize = 5;

impl Queue {
    /// Dead letters, batches oldest first, lines ascending.
    pub async fn dlq_list(&self, filter: DlqFilter) -> Result<Vec<DeadLetter>, QueueError> {
        let mut limit = filter.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        for batch in self.dlq_batches(filter.batch).await? {
            if limit == 0 {
                break;
            }
            let mut lines = self.dlq_lines(&batch).await?;
            lines.truncate(limit);
            for slice in lines.chunks(REQUEUE_SLICE) {
                let letters = self.read_letters(&batch, slice).await?;
                limit -= letters.len().min(limit);
                out.extend(letters);
            }
        }
        Ok(out)
    }

    /// One entry by id (`<batch>:<line>`).
    pub async fn dlq_get(&self, id: &str) -> Result<Option<DeadLetter>, QueueError> {
        let Some((batch, line)) = parse_id(id) else {
            return Ok(None);
        };
        Ok(self.read_letters(batch, &[line]).await?.into_iter().next())
    }

    /// Puts the selected items back as new chunk jobs of their batch (at most the batch's chunk
    /// size per job). Their entries leave the DLQ; their outcome and the batch's dead counter are
    /// reset in the same step so they can end again. Returns how many items were requeued.
    pub async fn dlq_requeue(&self, sel: DlqSelection) -> Result<u64, QueueError> {
        let mut total = 0;
        for (batch, lines) in self.select(sel).await? {
            let chunk_size = self.chunk_size(&batch).await?;
            for slice in lines.chunks(REQUEUE_SLICE) {
                total += self.requeue_slice(&batch, slice, chunk_size).await?;
            }
        }
        Ok(total)
    }

    /// Deletes the selected entries (the items stay counted as dead). Returns how many went.
    pub async fn dlq_purge(&self, sel: DlqSelection) -> Result<u64, QueueError> {
        let mut total = 0;
        for (batch, lines) in self.select(sel).await? {
            let key = self.keys().batch(&batch).dlq;
            for slice in lines.chunks(REQUEUE_SLICE) {
                let n: u64 = redis::cmd("HDEL")
                    .arg(&key)
                    .arg(slice)
                    .query_async(&mut self.conn())
                    .await
                    .map_err(QueueError::redis("purging dead letters"))?;
                total += n;
            }
        }
        Ok(total)
    }

    async fn requeue_slice(
        &self,
        batch: &str,
        lines: &[u64],
        chunk_size: usize,
    ) -> Result<u64, QueueError> {
        let keys = self.keys().batch(batch);
        for _ in 0..REQUEUE_RETRIES {
            let letters = self.read_letters(batch, lines).await?;
            if letters.is_empty() {
                return Ok(0);
            }
            let mut invocation = REQUEUE.prepare_invoke();
            for key in keys.all() {
                invocation.key(key);
            }
            invocation
                .key(self.keys().jobs())
                .arg(batch)
                .arg(letters.len());
            for letter in &letters {
                invocation.arg(letter.line);
            }
            for chunk in letters.chunks(chunk_size.max(1)) {
                let items: Vec<&serde_json::Value> = chunk.iter().map(|l| &l.item).collect();
                let payload = serde_json::to_vec(&items)
                    .map_err(|e| QueueError::InvalidPayload(e.to_string()))?;
                invocation.arg(chunk.len()).arg(payload);
            }
            let reply: Vec<i64> = invocation
                .invoke_async(&mut self.conn())
                .await
                .map_err(QueueError::redis("requeueing dead letters"))?;
            match reply.as_slice() {
                [n] if *n >= 0 => return Ok(u64::try_from(*n).unwrap_or(0)),
                [-1] => return Err(QueueError::UnknownBatch(batch.to_owned())),
                // An entry went meanwhile (a concurrent requeue or purge): read again.
                _ => continue,
            }
        }
        Err(QueueError::Corrupt {
            key: keys.dlq,
            reason: "entries kept changing during the requeue; try again".into(),
        })
    }

    /// The selection as batch → lines (ascending); unknown ids are dropped.
    async fn select(&self, sel: DlqSelection) -> Result<BTreeMap<String, Vec<u64>>, QueueError> {
        let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        match sel {
            DlqSelection::Ids(ids) => {
                for id in &ids {
                    if let Some((batch, line)) = parse_id(id) {
                        out.entry(batch.to_owned()).or_default().push(line);
                    }
                }
                for lines in out.values_mut() {
                    lines.sort_unstable();
                    lines.dedup();
                }
            }
            DlqSelection::All { batch } => {
                for batch in self.dlq_batches(batch).await? {
                    let lines = self.dlq_lines(&batch).await?;
                    if !lines.is_empty() {
                        out.insert(batch, lines);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn dlq_batches(&self, batch: Option<String>) -> Result<Vec<String>, QueueError> {
        match batch {
            Some(b) if valid_batch_id(&b) => Ok(vec![b]),
            Some(_) => Ok(Vec::new()),
            None => redis::cmd("ZRANGE")
                .arg(self.keys().batches())
                .arg(0)
                .arg(-1)
                .query_async(&mut self.conn())
                .await
                .map_err(QueueError::redis("listing batches")),
        }
    }

    async fn dlq_lines(&self, batch: &str) -> Result<Vec<u64>, QueueError> {
        let raw: Vec<String> = redis::cmd("HKEYS")
            .arg(self.keys().batch(batch).dlq)
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("listing dead letters"))?;
        let mut lines: Vec<u64> = raw.iter().filter_map(|l| l.parse().ok()).collect();
        lines.sort_unstable();
        Ok(lines)
    }

    async fn chunk_size(&self, batch: &str) -> Result<usize, QueueError> {
        let raw: Option<String> = redis::cmd("HGET")
            .arg(self.keys().batch(batch).meta)
            .arg("chunk_size")
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("reading a batch's chunk size"))?;
        Ok(raw
            .and_then(|s| s.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(50))
    }

    /// The letters of these lines that exist, in the order given.
    async fn read_letters(
        &self,
        batch: &str,
        lines: &[u64],
    ) -> Result<Vec<DeadLetter>, QueueError> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.keys().batch(batch);
        let (letters, firsts): (Vec<Option<String>>, Vec<Option<u64>>) = redis::pipe()
            .cmd("HMGET")
            .arg(&keys.dlq)
            .arg(lines)
            .cmd("HMGET")
            .arg(&keys.first_failed)
            .arg(lines)
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("reading dead letters"))?;
        let mut out = Vec::with_capacity(lines.len());
        for (i, raw) in letters.iter().enumerate() {
            let Some(raw) = raw else { continue };
            let corrupt = |reason: String| QueueError::Corrupt {
                key: format!("{} field {}", keys.dlq, lines.get(i).copied().unwrap_or(0)),
                reason,
            };
            let (last_ms, json) = raw
                .split_once('|')
                .ok_or_else(|| corrupt("no timestamp".into()))?;
            let last_ms: u64 = last_ms
                .parse()
                .map_err(|_| corrupt("bad timestamp".into()))?;
            let stored: StoredLetter =
                serde_json::from_str(json).map_err(|e| corrupt(e.to_string()))?;
            let first_ms = firsts.get(i).copied().flatten().unwrap_or(last_ms);
            out.push(DeadLetter {
                id: format!("{batch}:{}", stored.line),
                batch: batch.to_owned(),
                line: stored.line,
                key: stored.key,
                item: stored.item,
                error: stored.error,
                attempts: stored.attempts,
                first_failed_at: rfc3339_ms(first_ms.min(last_ms)),
                last_failed_at: rfc3339_ms(last_ms),
            });
        }
        Ok(out)
    }
}

fn parse_id(id: &str) -> Option<(&str, u64)> {
    let (batch, line) = id.rsplit_once(':')?;
    if !valid_batch_id(batch) {
        return None;
    }
    Some((batch, line.parse().ok()?))
}
