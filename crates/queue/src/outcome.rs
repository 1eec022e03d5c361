//! Item outcomes: every item of a batch ends exactly once as updated, unchanged or dead.
//!
//! [`Queue::record_outcomes`] is one script per call: an outcome is set only if the item has
//! none yet (HSETNX), the batch counters move with it, and a dead item's letter lands in the
//! dead-letter queue in the same step. A chunk delivered twice (a crashed worker, a lost lease)
//! therefore neither repeats an outcome nor counts it twice; handlers may also ask
//! [`Queue::outcomes`] first and skip items already done.
//!
//! ```no_run
//! # async fn demo(queue: gcbulk_queue::Queue) -> Result<(), gcbulk_queue::QueueError> {
//! use gcbulk_queue::{ErrorInfo, ItemOutcome, NewDeadLetter};
//!
//! let report = queue
//!     .record_outcomes(
//!         "batch-1",
//!         vec![
//!             ItemOutcome::Updated { id: 2 },
//!             ItemOutcome::Dead {
//!                 id: 3,
//!                 letter: NewDeadLetter {
//!                     line: 3,
//!                     key: "email:x@example.com".into(),
//!                     item: serde_json::json!({"line": 3, "key": "email:x@example.com"}),
//!                     error: ErrorInfo::message("user not found"),
//!                     attempts: 1,
//!                 },
//!             },
//!         ],
//!     )
//!     .await?;
//! assert!(report.recorded <= 2);
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};

use crate::{batch::ms, error::QueueError, queue::Queue, scripts::RECORD};

/// How an item ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// A change was applied.
    Updated,
    /// The user already matched; no write was sent.
    Unchanged,
    /// A permanent failure or exhausted retries; its reason is in the DLQ.
    Dead,
}

impl OutcomeKind {
    /// The word stored in Redis and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Updated => "updated",
            OutcomeKind::Unchanged => "unchanged",
            OutcomeKind::Dead => "dead",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "updated" => Some(OutcomeKind::Updated),
            "unchanged" => Some(OutcomeKind::Unchanged),
            "dead" => Some(OutcomeKind::Dead),
            _ => None,
        }
    }
}

/// One item's outcome to record. `id` is the item's `line`.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// A change was applied.
    Updated {
        /// The item's line number.
        id: u64,
    },
    /// No write was needed.
    Unchanged {
        /// The item's line number.
        id: u64,
    },
    /// The item failed for good.
    Dead {
        /// The item's line number.
        id: u64,
        /// What goes into the dead-letter queue.
        letter: NewDeadLetter,
    },
}

impl ItemOutcome {
    /// The item's line number.
    pub fn id(&self) -> u64 {
        match self {
            ItemOutcome::Updated { id }
            | ItemOutcome::Unchanged { id }
            | ItemOutcome::Dead { id, .. } => *id,
        }
    }

    /// Which outcome this is.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            ItemOutcome::Updated { .. } => OutcomeKind::Updated,
            ItemOutcome::Unchanged { .. } => OutcomeKind::Unchanged,
            ItemOutcome::Dead { .. } => OutcomeKind::Dead,
        }
    }
}

/// A dead letter as the worker reports it; the queue adds id, batch and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDeadLetter {
    /// Input line number (the item id).
    pub line: u64,
    /// Which user the row meant, e.g. `email:a@b.com`.
    pub key: String,
    /// The whole item as queued; a requeue puts exactly this back.
    pub item: serde_json::Value,
    /// Why it failed.
    pub error: ErrorInfo,
    /// Attempts made on it.
    pub attempts: u32,
}

/// The reason an item failed, as the contract's DLQ entry shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// HTTP status, when the failure was an HTTP answer.
    pub status: Option<u16>,
    /// The API's error code, if any.
    pub code: Option<String>,
    /// A human-readable reason.
    pub message: String,
    /// The API's correlation id, for support cases.
    pub correlation_id: Option<String>,
}

impl ErrorInfo {
    /// An error that is only a message (no HTTP exchange behind it).
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            status: None,
            code: None,
            message: message.into(),
            correlation_id: None,
        }
    }
}

/// What [`Queue::record_outcomes`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordReport {
    /// Outcomes newly recorded.
    pub recorded: u64,
    /// Items that already had an outcome (left as they were).
    pub already_recorded: u64,
    /// Every item of the batch now has an outcome.
    pub batch_done: bool,
}

/// What a dead letter looks like inside Redis (the timestamps live beside it).
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredLetter {
    pub line: u64,
    pub key: String,
    pub item: serde_json::Value,
    pub error: ErrorInfo,
    pub attempts: u32,
}

/// Outcomes per script call: bounds the script's run time and argument size.
const RECORD_SLICE: usize = 500;

impl Queue {
    /// The recorded outcome of each item id (same order; `None` = no outcome yet).
    pub async fn outcomes(
        &self,
        batch: &str,
        item_ids: &[u64],
    ) -> Result<Vec<Option<OutcomeKind>>, QueueError> {
        if item_ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = self.keys().batch(batch);
        let raw: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(&keys.outcomes)
            .arg(item_ids)
            .query_async(&mut self.conn())
            .await
            .map_err(QueueError::redis("reading item outcomes"))?;
        Ok(raw
            .iter()
            .map(|o| o.as_deref().and_then(OutcomeKind::parse))
            .collect())
    }

    /// Records outcomes; an item that already has one keeps it (reported in
    /// [`RecordReport::already_recorded`]). Fails with [`QueueError::UnknownBatch`] if the
    /// batch is not open (never committed, or expired).
    pub async fn record_outcomes(
        &self,
        batch: &str,
        outcomes: Vec<ItemOutcome>,
    ) -> Result<RecordReport, QueueError> {
        let keys = self.keys().batch(batch);
        let mut report = RecordReport::default();
        let mut outcomes = outcomes.into_iter().peekable();
        while outcomes.peek().is_some() {
            let mut invocation = RECORD.prepare_invoke();
            for key in keys.all() {
                invocation.key(key);
            }
            invocation.arg(ms(self.config().retention));
            for outcome in outcomes.by_ref().take(RECORD_SLICE) {
                invocation.arg(outcome.id()).arg(outcome.kind().as_str());
                match outcome {
                    ItemOutcome::Dead { id, letter } => {
                        let stored = StoredLetter {
                            line: id,
                            key: letter.key,
                            item: letter.item,
                            error: letter.error,
                            attempts: letter.attempts,
                        };
                        let json = serde_json::to_string(&stored)
                            .map_err(|e| QueueError::InvalidPayload(e.to_string()))?;
                        invocation.arg(json);
                    }
                    _ => {
                        invocation.arg("");
                    }
                }
            }
            let reply: Vec<i64> = invocation
                .invoke_async(&mut self.conn())
                .await
                .map_err(QueueError::redis("recording item outcomes"))?;
            match reply.as_slice() {
                [recorded, duplicates, finished] => {
                    report.recorded += u64::try_from(*recorded).unwrap_or(0);
                    report.already_recorded += u64::try_from(*duplicates).unwrap_or(0);
                    report.batch_done = *finished == 1;
                }
                _ => return Err(QueueError::UnknownBatch(batch.to_owned())),
            }
        }
        Ok(report)
    }
}
