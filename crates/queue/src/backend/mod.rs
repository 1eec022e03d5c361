//! The apalis backend: chunk jobs from the Redis stream, settled by the backend's own middleware.
//!
//! [`ChunkBackend`] implements apalis-core's [`Backend`] and [`BackendConfig`] directly (not
//! through `Persisted` or `CustomBackend`), because only this way does the backend own Redis
//! errors (absorbed, never ending the worker), retry timing and shutdown. See
//! `docs/decisions/0030-own-redis-streams-backend-for-apalis.md`.
//!
//! # Building a worker
//!
//! ```no_run
//! use apalis::prelude::*;
//! use gcbulk_queue::{ChunkJob, JobError, Queue, QueueConfig};
//!
//! async fn handle(job: ChunkJob, queue: Data<Queue>) -> Result<(), JobError> {
//!     // … process job.items, then queue.record_outcomes(&job.batch, …) for each item …
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = QueueConfig::new("redis://127.0.0.1:6379", "gcbulk");
//! let concurrency = 8;
//! config.fetch_batch_size = concurrency; // fetch about what can run at once
//! let queue = Queue::connect(config).await?;
//! let backend = queue.backend();
//! let in_flight = backend.handle(); // usable after the backend moved into the worker
//! let worker = WorkerBuilder::new("gcbulk-worker")
//!     .backend(backend)
//!     .data(queue.clone())
//!     .concurrency(concurrency)
//!     .build(handle);
//! // On the signal the worker stops taking jobs, hands back fetched-but-unstarted ones and
//! // lets running handlers finish and settle. If they outlive the grace period, hand them
//! // back too (no attempt counted) before exiting.
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let run = tokio::spawn(worker.run_until(async move {
//!     let _ = stop_rx.await;
//!     Ok::<(), std::io::Error>(())
//! }));
//! tokio::signal::ctrl_c().await?;
//! let _ = stop_tx.send(());
//! if tokio::time::timeout(std::time::Duration::from_secs(30), run).await.is_err() {
//!     in_flight.hand_back_all().await;
//! }
//! # Ok(()) }
//! ```
//!
//! Handlers should be bounded in time (e.g. `.layer(tower::timeout::TimeoutLayer::new(..))`);
//! a timeout counts as a transient failure. Leases of running jobs are renewed in the
//! background, so a handler may run longer than the claim idle timeout.

mod fetch;
mod job;
mod lease;
mod settle;

use std::{
    collections::VecDeque,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use apalis_core::{
    backend::{Backend, BackendConfig, finalize::Ephemeral},
    task::Task,
    worker::context::WorkerContext,
};
use tokio::task::JoinHandle;

pub use job::{ChunkJob, JobError, backoff_with_full_jitter};
pub use settle::{SettleLayer, SettleService};

use self::{fetch::Fetcher, job::JobMeta, settle::Shared};
use crate::{
    config::QueueConfig,
    keys::GROUP,
    queue::Queue,
    scripts::{HANDBACK, RETIRE},
};

type Round = Pin<Box<dyn Future<Output = (Fetcher, Vec<Task<ChunkJob>>)> + Send>>;
type Closing = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The apalis backend of one worker process (one consumer of the group). Build one with
/// [`Queue::backend`] per worker.
pub struct ChunkBackend {
    shared: Arc<Shared>,
    fetcher: Option<Fetcher>,
    round: Option<Round>,
    buffer: VecDeque<Task<ChunkJob>>,
    closing: Option<Closing>,
    closed: bool,
    lease: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ChunkBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkBackend")
            .field("consumer", &self.shared.consumer)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// A backend consuming this namespace's jobs as consumer [`QueueConfig::consumer`].
    pub fn backend(&self) -> ChunkBackend {
        ChunkBackend::new(self.clone())
    }
}

impl ChunkBackend {
    /// See [`Queue::backend`].
    pub fn new(queue: Queue) -> Self {
        let consumer = queue.config().consumer.clone();
        let shared = Arc::new(Shared::new(queue, consumer));
        Self {
            fetcher: Some(Fetcher::new(shared.clone())),
            shared,
            round: None,
            buffer: VecDeque::new(),
            closing: None,
            closed: false,
            lease: None,
        }
    }

    /// The queue this backend consumes.
    pub fn queue(&self) -> &Queue {
        &self.shared.queue
    }

    /// A handle that stays usable after the backend moved into the worker (see
    /// [`BackendHandle::hand_back_all`]).
    pub fn handle(&self) -> BackendHandle {
        BackendHandle {
            shared: self.shared.clone(),
        }
    }

    fn start_lease_ticker(&mut self) {
        if self.lease.is_none() {
            let every = self.shared.queue.config().lease_renew_interval;
            self.lease = Some(tokio::spawn(lease::renew_leases(
                Arc::downgrade(&self.shared),
                every,
            )));
        }
    }

    /// Drives the fetch round in progress (if any) to completion, buffering what it brought.
    fn poll_round(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(round) = self.round.as_mut() {
            let (fetcher, tasks) = futures::ready!(round.as_mut().poll(cx));
            self.round = None;
            self.fetcher = Some(fetcher);
            self.buffer.extend(tasks);
        }
        Poll::Ready(())
    }
}

impl Drop for ChunkBackend {
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.abort();
        }
    }
}

impl Backend for ChunkBackend {
    type Task = Task<ChunkJob>;
    type Error = crate::QueueError;

    fn poll_ready(
        &mut self,
        _cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Option<Result<Self::Task, Self::Error>>> {
        self.start_lease_ticker();
        loop {
            if let Some(task) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(task)));
            }
            if self.round.is_none() {
                let Some(fetcher) = self.fetcher.take() else {
                    return Poll::Ready(None);
                };
                let want = self.shared.queue.config().fetch_batch_size;
                self.round = Some(Box::pin(fetcher.round(want)));
            }
            // An empty round (block timed out, Redis away) simply starts the next one.
            if self.poll_round(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        if self.closed {
            return Poll::Ready(Ok(()));
        }
        if self.closing.is_none() {
            // Let a blocking read in progress finish rather than lose what it delivers.
            if self.poll_round(cx).is_pending() {
                return Poll::Pending;
            }
            let unstarted: Vec<(String, u32)> = self
                .buffer
                .drain(..)
                .filter_map(|t| t.ctx().data().get::<JobMeta>().cloned())
                .map(|meta| (meta.entry_id, meta.attempt))
                .collect();
            let shared = self.shared.clone();
            self.closing = Some(Box::pin(async move {
                hand_back(&shared, unstarted).await;
                retire(&shared).await;
            }));
        }
        if let Some(closing) = self.closing.as_mut() {
            futures::ready!(closing.as_mut().poll(cx));
        }
        self.closing = None;
        self.closed = true;
        if let Some(lease) = self.lease.take() {
            lease.abort();
        }
        Poll::Ready(Ok(()))
    }
}

/// Re-adds jobs this consumer holds as fresh stream entries with their attempt counts, so the
/// next worker runs them at once and counts no extra attempt.
async fn hand_back(shared: &Shared, jobs: Vec<(String, u32)>) -> u64 {
    if jobs.is_empty() {
        return 0;
    }
    let queue = &shared.queue;
    let result: Result<u64, _> = settle::retry_redis(queue, "handing back jobs", || {
        let mut conn = queue.conn();
        let mut invocation = HANDBACK.prepare_invoke();
        invocation
            .key(queue.keys().jobs())
            .arg(GROUP)
            .arg(&shared.consumer);
        for (id, attempt) in &jobs {
            invocation.arg(id).arg(attempt);
        }
        async move { invocation.invoke_async(&mut conn).await }
    })
    .await;
    for (id, _) in &jobs {
        shared.release(id);
    }
    match result {
        Ok(n) => {
            tracing::info!(jobs = n, "handed back jobs this worker held");
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not hand back jobs; other workers will take them over after the claim idle timeout");
            0
        }
    }
}

/// Leaves the consumer group if this consumer holds nothing any more.
async fn retire(shared: &Shared) {
    let retired: redis::RedisResult<i64> = RETIRE
        .prepare_invoke()
        .key(shared.queue.keys().jobs())
        .arg(GROUP)
        .arg(&shared.consumer)
        .invoke_async(&mut shared.queue.conn())
        .await;
    if let Err(e) = retired {
        tracing::debug!(error = %e, "could not remove this consumer from the group");
    }
}

/// Lets the worker hand back jobs still running when its shutdown grace period runs out.
#[derive(Clone)]
pub struct BackendHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BackendHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendHandle")
            .field("consumer", &self.shared.consumer)
            .finish_non_exhaustive()
    }
}

impl BackendHandle {
    /// Jobs this worker holds right now (fetched or running, not yet settled).
    pub fn held_jobs(&self) -> usize {
        self.shared.held_ids().len()
    }

    /// Hands back every job this worker still holds, running ones included, without counting
    /// an attempt: call it when the shutdown grace period is over, just before exiting. A handler
    /// still running may finish meanwhile; outcomes are recorded once, so the item that both it
    /// and the next worker complete is not counted twice. Returns how many jobs were handed back.
    pub async fn hand_back_all(&self) -> u64 {
        let n = hand_back(&self.shared, self.shared.held()).await;
        retire(&self.shared).await;
        n
    }
}

impl BackendConfig for ChunkBackend {
    type Args = ChunkJob;
    type Id = String;
    type Kind = Ephemeral;
    type Config = QueueConfig;
    type Layer = SettleLayer;

    fn config(&self) -> &Self::Config {
        self.shared.queue.config()
    }

    fn middleware(&mut self, _worker: &mut WorkerContext) -> Self::Layer {
        SettleLayer {
            shared: self.shared.clone(),
        }
    }
}
