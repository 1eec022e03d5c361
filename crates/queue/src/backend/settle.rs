//! Settling a job once its handler is done: one script per outcome, retried through Redis hiccups.
//!
//! [`SettleLayer`] is the backend's middleware (apalis puts it outside user middleware), so it
//! sees each job's final result:
//!
//! | handler result | what happens |
//! |---|---|
//! | `Ok` | ack + delete the entry and its payload (only if every item has an outcome) |
//! | [`JobError::RetryAfter`] | ack + delete + delayed set, attempt counted or not |
//! | [`JobError::GiveUp`], apalis `AbortError` | items without outcome dead-lettered, job to dead-jobs |
//! | apalis `RetryAfterError` | like `RetryAfter` counting an attempt |
//! | anything else | backoff with full jitter; dead-lettered once attempts are exhausted |

use std::{
    collections::HashMap,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use apalis_core::{
    error::{AbortError, BoxDynError, RetryAfterError},
    task::Task,
};
use tower::{Layer, Service};

use super::job::{ChunkJob, JobError, JobMeta, backoff_with_full_jitter, item_key, item_line};
use crate::{
    batch::ms,
    error::{QueueError, is_connection_error},
    keys::GROUP,
    outcome::{ErrorInfo, ItemOutcome, NewDeadLetter},
    queue::Queue,
    scripts::{SETTLE_DEAD, SETTLE_OK, SETTLE_RETRY},
};

/// Records kept in the dead-jobs stream (approximate cap).
const DEAD_JOBS_MAXLEN: u64 = 10_000;

/// State shared by the backend, its settling layer and its lease ticker.
pub(crate) struct Shared {
    pub queue: Queue,
    pub consumer: String,
    /// Entry ids this consumer holds (fetched, not yet settled) → failed attempts before this
    /// run. Their leases are renewed; a shutdown hands them back with that count.
    held: Mutex<HashMap<String, u32>>,
}

impl Shared {
    pub fn new(queue: Queue, consumer: String) -> Self {
        Self {
            queue,
            consumer,
            held: Mutex::new(HashMap::new()),
        }
    }

    pub fn hold(&self, id: &str, attempt: u32) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned(), attempt);
    }

    pub fn is_held(&self, id: &str) -> bool {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(id)
    }

    pub fn release(&self, id: &str) {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    pub fn held_ids(&self) -> Vec<String> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    pub fn held(&self) -> Vec<(String, u32)> {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(id, attempt)| (id.clone(), *attempt))
            .collect()
    }

    /// Settles one job according to its handler's result. Never fails: Redis errors are retried
    /// for about one claim idle timeout, after which the job is left to be reclaimed.
    pub async fn settle(&self, meta: &JobMeta, result: Result<(), &BoxDynError>) {
        let config = self.queue.config();
        let verdict = match result {
            Ok(()) => match self.ack_success(meta).await {
                Ok(()) => None,
                Err(missing) => Some(Verdict::Transient(format!(
                    "the handler reported success but {missing} item(s) have no outcome"
                ))),
            },
            Err(e) => Some(classify(e)),
        };
        let Some(verdict) = verdict else {
            self.release(&meta.entry_id);
            return;
        };
        let backoff =
            || backoff_with_full_jitter(meta.attempt, config.retry_base, config.retry_cap);
        let next_attempt = meta.attempt.saturating_add(1);
        let outcome = match verdict {
            Verdict::Retry {
                after,
                counts_as_attempt: false,
            } => {
                self.reschedule(meta, after, meta.attempt, meta.throttled.saturating_add(1))
                    .await
            }
            Verdict::Retry { after, .. } if next_attempt < config.max_attempts => {
                self.reschedule(meta, after, next_attempt, meta.throttled)
                    .await
            }
            Verdict::Transient(_) if next_attempt < config.max_attempts => {
                self.reschedule(meta, backoff(), next_attempt, meta.throttled)
                    .await
            }
            Verdict::Retry { .. } => {
                let reason = ErrorInfo::message(format!(
                    "gave up after {next_attempt} attempts (the last one asked for a retry)"
                ));
                self.give_up(meta, reason, next_attempt).await
            }
            Verdict::Transient(message) => {
                let reason =
                    ErrorInfo::message(format!("gave up after {next_attempt} attempts: {message}"));
                self.give_up(meta, reason, next_attempt).await
            }
            Verdict::GiveUp(reason) => self.give_up(meta, reason, next_attempt).await,
        };
        if let Err(e) = outcome {
            tracing::error!(
                batch = %meta.batch, chunk = %meta.chunk, entry = %meta.entry_id, error = %e,
                "could not settle a job; another worker will take it over after the claim idle timeout"
            );
        }
        self.release(&meta.entry_id);
    }

    /// `Err(n)`: n items lack an outcome, so the job was not settled.
    async fn ack_success(&self, meta: &JobMeta) -> Result<(), u64> {
        let keys = self.queue.keys();
        let batch = keys.batch(&meta.batch);
        let lines = meta.lines();
        let reply = retry_redis(&self.queue, "acknowledging a finished job", || {
            let mut conn = self.queue.conn();
            let mut invocation = SETTLE_OK.prepare_invoke();
            invocation
                .key(keys.jobs())
                .key(&batch.chunks)
                .key(&batch.outcomes)
                .arg(GROUP)
                .arg(&meta.entry_id)
                .arg(&meta.chunk)
                .arg(&lines);
            async move { invocation.invoke_async::<i64>(&mut conn).await }
        })
        .await;
        match reply {
            Ok(n) if n < 0 => Err(n.unsigned_abs()),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::error!(entry = %meta.entry_id, error = %e, "could not acknowledge a finished job");
                Ok(())
            }
        }
    }

    async fn reschedule(
        &self,
        meta: &JobMeta,
        after: Duration,
        attempt: u32,
        throttled: u32,
    ) -> Result<(), QueueError> {
        let keys = self.queue.keys();
        let done: i64 = retry_redis(&self.queue, "rescheduling a job", || {
            let mut conn = self.queue.conn();
            let mut invocation = SETTLE_RETRY.prepare_invoke();
            invocation
                .key(keys.jobs())
                .key(keys.delayed())
                .key(keys.retrying())
                .arg(GROUP)
                .arg(&self.consumer)
                .arg(&meta.entry_id)
                .arg(ms(after))
                .arg(&meta.batch)
                .arg(&meta.chunk)
                .arg(meta.n)
                .arg(attempt)
                .arg(throttled);
            async move { invocation.invoke_async(&mut conn).await }
        })
        .await?;
        if done == 0 {
            tracing::warn!(entry = %meta.entry_id, "job was taken over by another worker before it could be rescheduled");
        } else {
            tracing::debug!(batch = %meta.batch, chunk = %meta.chunk, ?after, attempt, throttled, "job rescheduled");
        }
        Ok(())
    }

    /// Dead-letters every item of the chunk that has no outcome yet, then removes the job and
    /// keeps a record of it in the dead-jobs stream.
    pub async fn give_up(
        &self,
        meta: &JobMeta,
        reason: ErrorInfo,
        attempts: u32,
    ) -> Result<(), QueueError> {
        tracing::warn!(batch = %meta.batch, chunk = %meta.chunk, reason = %reason.message, "giving up on a chunk");
        let mut unrecorded = false;
        let outcomes: Vec<ItemOutcome> = meta
            .items
            .iter()
            .filter_map(|item| {
                let Some(line) = item_line(item) else {
                    unrecorded = true;
                    return None;
                };
                Some(ItemOutcome::Dead {
                    id: line,
                    letter: NewDeadLetter {
                        line,
                        key: item_key(item),
                        item: item.clone(),
                        error: reason.clone(),
                        attempts,
                    },
                })
            })
            .collect();
        if !outcomes.is_empty() {
            let recorded =
                retry_queue(|| self.queue.record_outcomes(&meta.batch, outcomes.clone())).await;
            match recorded {
                Ok(_) => {}
                Err(QueueError::UnknownBatch(_)) => unrecorded = true,
                Err(e) => return Err(e),
            }
        }
        // Keep the payload in the record only when some item could not get its dead letter.
        let payload = if unrecorded {
            serde_json::to_string(&*meta.items).unwrap_or_default()
        } else {
            String::new()
        };
        let keys = self.queue.keys();
        let batch = keys.batch(&meta.batch);
        let _: i64 = retry_redis(&self.queue, "recording a dead job", || {
            let mut conn = self.queue.conn();
            let mut invocation = SETTLE_DEAD.prepare_invoke();
            invocation
                .key(keys.jobs())
                .key(&batch.chunks)
                .key(keys.dead_jobs())
                .arg(GROUP)
                .arg(&self.consumer)
                .arg(&meta.entry_id)
                .arg(&meta.batch)
                .arg(&meta.chunk)
                .arg(meta.n)
                .arg(attempts)
                .arg(&reason.message)
                .arg(&payload)
                .arg(DEAD_JOBS_MAXLEN);
            async move { invocation.invoke_async(&mut conn).await }
        })
        .await?;
        Ok(())
    }
}

enum Verdict {
    Retry {
        after: Duration,
        counts_as_attempt: bool,
    },
    Transient(String),
    GiveUp(ErrorInfo),
}

fn classify(e: &BoxDynError) -> Verdict {
    if let Some(job) = e.downcast_ref::<JobError>() {
        return match job {
            JobError::RetryAfter {
                after,
                counts_as_attempt,
            } => Verdict::Retry {
                after: *after,
                counts_as_attempt: *counts_as_attempt,
            },
            JobError::GiveUp(info) => Verdict::GiveUp(info.clone()),
        };
    }
    if let Some(retry) = e.downcast_ref::<RetryAfterError>() {
        return Verdict::Retry {
            after: retry.get_duration(),
            counts_as_attempt: true,
        };
    }
    if e.downcast_ref::<AbortError>().is_some() {
        return Verdict::GiveUp(ErrorInfo::message(e.to_string()));
    }
    Verdict::Transient(e.to_string())
}

/// Retries a Redis call through connection errors (the connection manager reconnects behind
/// it) for about one claim idle timeout; other errors return at once.
pub(crate) async fn retry_redis<T, F, Fut>(
    queue: &Queue,
    context: &'static str,
    mut call: F,
) -> Result<T, QueueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    let deadline = tokio::time::Instant::now() + queue.config().claim_idle_timeout;
    let mut pause = Duration::from_millis(100);
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if is_connection_error(&e) && tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "Redis unavailable while {context}; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(source) => return Err(QueueError::Redis { context, source }),
        }
    }
}

async fn retry_queue<T, F, Fut>(mut call: F) -> Result<T, QueueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, QueueError>>,
{
    let mut pause = Duration::from_millis(100);
    for _ in 0..20 {
        match call().await {
            Err(e) if e.is_unreachable() => {
                tracing::warn!(error = %e, "Redis unavailable; retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            other => return other,
        }
    }
    call().await
}

/// The backend's middleware: runs the job, then settles it (see the module docs).
#[derive(Clone)]
pub struct SettleLayer {
    pub(crate) shared: Arc<Shared>,
}

impl<S> Layer<S> for SettleLayer {
    type Service = SettleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SettleService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`SettleLayer`] wraps around the worker's stack.
#[derive(Clone)]
pub struct SettleService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Task<ChunkJob>> for SettleService<S>
where
    S: Service<Task<ChunkJob>>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Into<BoxDynError>,
{
    type Response = S::Response;
    type Error = BoxDynError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxDynError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, task: Task<ChunkJob>) -> Self::Future {
        let meta = task.ctx().data().get::<JobMeta>().cloned();
        let shared = self.shared.clone();
        let fut = self.inner.call(task);
        Box::pin(async move {
            let result = fut.await.map_err(Into::into);
            match &meta {
                Some(meta) => shared.settle(meta, result.as_ref().map(|_| ())).await,
                None => tracing::error!("a task without queue metadata reached the settling layer"),
            }
            result
        })
    }
}
