//! Progress of batches: what `gcbulk status` shows, and whether the whole queue is idle.
//!
//! Counts are items. `in_flight` are items of chunks delivered to a worker and not settled (the
//! consumer group's pending entries), `retrying` items of chunks waiting in the delayed set,
//! `pending` the rest of what has no outcome yet. The numbers are clamped so that
//! `total = updated + unchanged + dead + pending + in_flight + retrying` always holds.

use std::{collections::HashMap, time::Duration};

use serde::Serialize;

use crate::{
    error::QueueError,
    keys::{GROUP, valid_batch_id},
    queue::Queue,
    scripts::IN_FLIGHT,
};

/// One batch's progress, serialised with the contract's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchStatus {
    /// Batch id.
    pub batch: String,
    /// Items in the batch.
    pub total: u64,
    /// Items whose change was applied.
    pub updated: u64,
    /// Items that already matched.
    pub unchanged: u64,
    /// Items dead-lettered.
    pub dead: u64,
    /// Items waiting for a worker.
    pub pending: u64,
    /// Items a worker is on right now.
    pub in_flight: u64,
    /// Items waiting for a retry (backoff or rate-limit cooldown).
    pub retrying: u64,
    /// Every item has an outcome.
    pub done: bool,
    /// When the batch was committed, RFC 3339 (UTC).
    pub created_at: String,
    /// Where the items came from (the producer's `source`); not part of the JSON contract.
    #[serde(skip)]
    pub source: String,
    /// Input format (`csv` / `jsonl`); not part of the JSON contract.
    #[serde(skip)]
    pub format: String,
}

/// PEL entries looked at when summing in-flight items (the PEL holds about the fleet's concurrency).
const PEL_SCAN_LIMIT: u64 = 100_000;

impl Queue {
    /// One batch's progress; `None` if no such batch is committed (or it expired).
    pub async fn batch_status(&self, batch: &str) -> Result<Option<BatchStatus>, QueueError> {
        if !valid_batch_id(batch) {
            return Ok(None);
        }
        let in_flight = self.in_flight_by_batch().await?;
        let retrying = self.retrying_by_batch().await?;
        self.one_status(batch, &in_flight, &retrying).await
    }

    /// Every committed batch still retained, oldest first. Forgets expired batches on the way.
    pub async fn list_batches(&self) -> Result<Vec<BatchStatus>, QueueError> {
        let mut conn = self.conn();
        let ids: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.keys().batches())
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await
            .map_err(QueueError::redis("listing batches"))?;
        let in_flight = self.in_flight_by_batch().await?;
        let retrying = self.retrying_by_batch().await?;
        let mut out = Vec::with_capacity(ids.len());
        let mut gone = Vec::new();
        for id in ids {
            match self.one_status(&id, &in_flight, &retrying).await? {
                Some(status) => out.push(status),
                None => gone.push(id),
            }
        }
        if !gone.is_empty() {
            // Their keys expired after the retention period; drop them from the index too.
            let _: i64 = redis::cmd("ZREM")
                .arg(self.keys().batches())
                .arg(&gone)
                .query_async(&mut conn)
                .await
                .map_err(QueueError::redis("forgetting expired batches"))?;
        }
        Ok(out)
    }

    /// True when no job is waiting, delivered-but-unsettled or scheduled for a retry, in any batch.
    pub async fn is_idle(&self) -> Result<bool, QueueError> {
        // Settled jobs are deleted from the stream, so its length counts waiting and in-flight jobs.
        let (jobs, delayed): (u64, u64) = redis::pipe()
            .cmd("XLEN")
            .arg(self.keys().jobs())
            .cmd("ZCARD")
            .arg(self.keys().delayed())
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("checking whether the queue is idle"))?;
        Ok(jobs == 0 && delayed == 0)
    }

    async fn one_status(
        &self,
        batch: &str,
        in_flight: &HashMap<String, u64>,
        retrying: &HashMap<String, u64>,
    ) -> Result<Option<BatchStatus>, QueueError> {
        let keys = self.keys().batch(batch);
        let h: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&keys.meta)
            .arg(&[
                "state",
                "items",
                "updated",
                "unchanged",
                "dead",
                "created_at",
                "source",
                "format",
            ])
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("reading batch status"))?;
        let field = |i: usize| h.get(i).cloned().flatten();
        if field(0).as_deref() != Some("open") {
            return Ok(None);
        }
        let num = |i: usize| {
            field(i)
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(0, |v| u64::try_from(v).unwrap_or(0))
        };
        let total = num(1);
        let (updated, unchanged, dead) = (num(2), num(3), num(4));
        let mut left = total.saturating_sub(updated + unchanged + dead);
        let in_flight = in_flight.get(batch).copied().unwrap_or(0).min(left);
        left -= in_flight;
        let retrying = retrying.get(batch).copied().unwrap_or(0).min(left);
        left -= retrying;
        Ok(Some(BatchStatus {
            batch: batch.to_owned(),
            total,
            updated,
            unchanged,
            dead,
            pending: left,
            in_flight,
            retrying,
            done: updated + unchanged + dead >= total,
            created_at: rfc3339_ms(num(5)),
            source: field(6).unwrap_or_default(),
            format: field(7).unwrap_or_default(),
        }))
    }

    async fn in_flight_by_batch(&self) -> Result<HashMap<String, u64>, QueueError> {
        let sums: HashMap<String, i64> = IN_FLIGHT
            .prepare_invoke()
            .key(self.keys().jobs())
            .arg(GROUP)
            .arg(PEL_SCAN_LIMIT)
            .invoke_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("counting items in flight"))?;
        Ok(sums
            .into_iter()
            .map(|(k, v)| (k, u64::try_from(v).unwrap_or(0)))
            .collect())
    }

    async fn retrying_by_batch(&self) -> Result<HashMap<String, u64>, QueueError> {
        let raw: HashMap<String, i64> = redis::cmd("HGETALL")
            .arg(self.keys().retrying())
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("counting items waiting for a retry"))?;
        Ok(raw
            .into_iter()
            .map(|(k, v)| (k, u64::try_from(v).unwrap_or(0)))
            .collect())
    }
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds.
pub(crate) fn rfc3339_ms(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}
