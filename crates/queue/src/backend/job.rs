//! What a handler receives ([`ChunkJob`]) and the typed errors that steer its retry ([`JobError`]).

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};

use crate::outcome::ErrorInfo;

/// One chunk of a batch, as the handler sees it.
///
/// Every item is a JSON object with a numeric `line` (the item id, its input line number) and a
/// string `key` (e.g. `email:a@b.com`); everything else in it is the handler's business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkJob {
    /// The batch this chunk belongs to.
    pub batch: String,
    /// The chunk's key within its batch.
    pub chunk: String,
    /// The items, in input order.
    pub items: Vec<serde_json::Value>,
    /// Failed attempts so far, including runs lost to a crashed or stalled worker.
    pub attempt: u32,
    /// Times the chunk was put back because of rate limiting (these are not attempts).
    pub throttled: u32,
    /// Failed attempts after which the queue gives up on the chunk.
    pub max_attempts: u32,
}

impl ChunkJob {
    /// True when a failure of this run exhausts the chunk's attempts: the handler should then
    /// dead-letter the items it could not finish itself (with the best reason it has), rather
    /// than leave them to the queue's generic fallback.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt.saturating_add(1) >= self.max_attempts
    }

    /// Each item's `line`, in order (`None` for an item without a numeric `line`).
    pub fn item_ids(&self) -> Vec<Option<u64>> {
        self.items.iter().map(item_line).collect()
    }
}

pub(crate) fn item_line(item: &serde_json::Value) -> Option<u64> {
    item.get("line").and_then(serde_json::Value::as_u64)
}

pub(crate) fn item_key(item: &serde_json::Value) -> String {
    item.get("key")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Errors a handler returns to steer what happens to its chunk. Any other error is treated as a
/// transient failure: retried with exponential backoff and full jitter, one attempt counted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Run the chunk again after `after`. A rate-limit reschedule passes
    /// `counts_as_attempt: false`; a transient fault with the handler's own backoff passes `true`.
    #[error("retry requested in {after:?} (counts as attempt: {counts_as_attempt})")]
    RetryAfter {
        /// How long to wait before the chunk may run again.
        after: Duration,
        /// Whether this run counts against the chunk's attempts.
        counts_as_attempt: bool,
    },
    /// Do not retry: every item of the chunk without an outcome is dead-lettered with this reason.
    #[error("chunk given up: {}", .0.message)]
    GiveUp(ErrorInfo),
}

/// A random delay in `[0, min(cap, base * 2^attempt)]` ("full jitter"), which spreads retries of
/// many clients evenly instead of letting them return in waves.
pub fn backoff_with_full_jitter(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base
        .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
        .unwrap_or(cap)
        .min(cap);
    let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::random_range(0..=ceiling_ms))
}

/// What the backend attaches to each task so the settling layer needs no lookup.
#[derive(Debug, Clone)]
pub(crate) struct JobMeta {
    pub entry_id: String,
    pub batch: String,
    pub chunk: String,
    pub n: u64,
    /// Failed attempts before this run.
    pub attempt: u32,
    pub throttled: u32,
    /// The chunk's items (shared with nothing mutable; cheap to clone).
    pub items: Arc<Vec<serde_json::Value>>,
}

impl JobMeta {
    pub fn lines(&self) -> Vec<u64> {
        self.items.iter().filter_map(item_line).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        for attempt in 0..40 {
            let d = backoff_with_full_jitter(attempt, base, cap);
            let ceiling = base.saturating_mul(2u32.saturating_pow(attempt)).min(cap);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
    }

    #[test]
    fn last_attempt() {
        let job = ChunkJob {
            batch: "b".into(),
            chunk: "0".into(),
            items: vec![serde_json::json!({"line": 2, "key": "id:x"})],
            attempt: 7,
            throttled: 0,
            max_attempts: 8,
        };
        assert!(job.is_last_attempt());
        assert_eq!(job.item_ids(), vec![Some(2)]);
    }
}
