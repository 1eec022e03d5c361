//! Shared helpers of the queue's integration tests: a unique namespace per test on the real
//! Redis (GCBULK_REDIS_URL), batches of numbered items, and an apalis worker with a scripted handler.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use apalis::prelude::*;
use gcbulk_queue::{
    BackendHandle, BatchStart, BatchSummary, ChunkJob, ErrorInfo, ItemOutcome, JobError, NewBatch,
    NewDeadLetter, Queue, QueueConfig,
};
use serde_json::json;
use tokio::{sync::oneshot, task::JoinHandle};

pub fn redis_url() -> String {
    std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A namespace no other test (or person) uses.
pub fn unique_namespace() -> String {
    format!("gcbulk-test-{}", ulid::Ulid::new())
}

/// Fast timings so tests finish quickly: short block, short backoff, 2 s claim idle timeout.
pub fn fast_config(url: &str, ns: &str) -> QueueConfig {
    let mut c = QueueConfig::new(url, ns).with_claim_idle_timeout(Duration::from_secs(2));
    c.block_time = Duration::from_millis(200);
    c.retry_base = Duration::from_millis(20);
    c.retry_cap = Duration::from_millis(200);
    c.fetch_batch_size = 4;
    c.max_attempts = 4;
    c
}

/// A queue handle per "process": each gets its own consumer name.
pub async fn queue_as(config: &QueueConfig, consumer: &str) -> Queue {
    let mut c = config.clone();
    c.consumer = format!("{consumer}-{}", ulid::Ulid::new());
    Queue::connect(c).await.expect("connect to Redis")
}

/// Deletes every key of the namespace.
pub async fn cleanup(url: &str, ns: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{ns}}}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

pub async fn keys_of(url: &str, ns: &str) -> Vec<String> {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{{{ns}}}:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    keys
}

/// The item on input line `line`.
pub fn item(line: u64) -> serde_json::Value {
    json!({"line": line, "key": format!("id:user-{line}"), "name": format!("User {line}")})
}

/// Enqueues `items` items (lines 2..) in chunks of `chunk_size` and commits.
pub async fn enqueue(queue: &Queue, id: &str, items: u64, chunk_size: usize) -> BatchSummary {
    let start = queue
        .begin_batch(NewBatch {
            id: Some(id.into()),
            source: "test.csv".into(),
            format: "csv".into(),
            chunk_size,
        })
        .await
        .unwrap();
    let BatchStart::New(mut writer) = start else {
        panic!("batch {id} already enqueued")
    };
    let lines: Vec<u64> = (2..items + 2).collect();
    for chunk in lines.chunks(chunk_size) {
        let payload: Vec<serde_json::Value> = chunk.iter().map(|&l| item(l)).collect();
        writer
            .push_chunk(chunk.len(), serde_json::to_vec(&payload).unwrap())
            .await
            .unwrap();
    }
    writer.commit().await.unwrap()
}

/// Polls `check` until it returns true, for at most `secs` seconds.
pub async fn wait_until<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {secs} s waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the scripted handler does with one run of a chunk.
#[derive(Clone, Debug)]
pub enum Action {
    /// Record every item as updated, return Ok.
    Succeed,
    /// Return Ok without recording anything (a buggy handler).
    SucceedSilently,
    /// Record every item as updated, then fail (as if the ack was lost): the chunk runs again.
    RecordThenFail,
    /// A transient error (not a JobError).
    Fail(String),
    /// JobError::RetryAfter.
    RetryAfter {
        after: Duration,
        counts_as_attempt: bool,
    },
    /// Dead-letter every item with this message and return Ok.
    DeadLetter(String),
    /// JobError::GiveUp.
    GiveUp(String),
    /// Sleep, then succeed.
    SlowSucceed(Duration),
    /// Never finish (until the worker is dropped).
    Hang,
}

/// One run of a chunk, as the handler saw it.
#[derive(Clone, Debug)]
pub struct Run {
    pub chunk: String,
    pub attempt: u32,
    pub throttled: u32,
    pub worker: String,
    pub at: tokio::time::Instant,
}

type Script = dyn Fn(&ChunkJob) -> Action + Send + Sync;

/// The handler's state: the queue, the script and a log of runs.
#[derive(Clone)]
pub struct Behaviour {
    pub queue: Queue,
    pub worker: String,
    pub script: Arc<Script>,
    pub runs: Arc<Mutex<Vec<Run>>>,
}

impl Behaviour {
    pub fn runs(&self) -> Vec<Run> {
        self.runs.lock().unwrap().clone()
    }
}

pub fn shared_runs() -> Arc<Mutex<Vec<Run>>> {
    Arc::new(Mutex::new(Vec::new()))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn handler(job: ChunkJob, b: Data<Behaviour>) -> Result<(), BoxError> {
    b.runs.lock().unwrap().push(Run {
        chunk: job.chunk.clone(),
        attempt: job.attempt,
        throttled: job.throttled,
        worker: b.worker.clone(),
        at: tokio::time::Instant::now(),
    });
    let all = |kind: &str| -> Vec<ItemOutcome> {
        job.items
            .iter()
            .map(|it| {
                let id = it["line"].as_u64().unwrap();
                match kind {
                    "updated" => ItemOutcome::Updated { id },
                    msg => ItemOutcome::Dead {
                        id,
                        letter: NewDeadLetter {
                            line: id,
                            key: it["key"].as_str().unwrap().into(),
                            item: it.clone(),
                            error: ErrorInfo {
                                status: Some(404),
                                code: Some("not.found".into()),
                                message: msg.into(),
                                correlation_id: Some("corr-1".into()),
                            },
                            attempts: job.attempt + 1,
                        },
                    },
                }
            })
            .collect()
    };
    match (b.script)(&job) {
        Action::Succeed => {
            b.queue.record_outcomes(&job.batch, all("updated")).await?;
            Ok(())
        }
        Action::SucceedSilently => Ok(()),
        Action::RecordThenFail => {
            b.queue.record_outcomes(&job.batch, all("updated")).await?;
            Err(JobError::RetryAfter {
                after: Duration::from_millis(10),
                counts_as_attempt: true,
            }
            .into())
        }
        Action::Fail(msg) => Err(msg.into()),
        Action::RetryAfter {
            after,
            counts_as_attempt,
        } => Err(JobError::RetryAfter {
            after,
            counts_as_attempt,
        }
        .into()),
        Action::DeadLetter(msg) => {
            b.queue.record_outcomes(&job.batch, all(&msg)).await?;
            Ok(())
        }
        Action::GiveUp(msg) => Err(JobError::GiveUp(ErrorInfo::message(msg)).into()),
        Action::SlowSucceed(d) => {
            tokio::time::sleep(d).await;
            b.queue.record_outcomes(&job.batch, all("updated")).await?;
            Ok(())
        }
        Action::Hang => {
            std::future::pending::<()>().await;
            Ok(())
        }
    }
}

/// A running apalis worker built the way the worker crate builds it.
pub struct RunningWorker {
    stop: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), WorkerError>>,
    pub behaviour: Behaviour,
    pub backend: BackendHandle,
}

impl RunningWorker {
    /// Graceful stop: waits for running handlers and the hand-back.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.handle)
            .await
            .expect("worker stops within 30 s")
            .expect("worker task did not panic")
            .expect("worker ends without error");
    }

    /// As if the process died: no hand-back, no settling.
    pub fn kill(self) {
        self.handle.abort();
    }
}

pub fn start_worker(
    queue: Queue,
    name: &str,
    concurrency: usize,
    runs: Arc<Mutex<Vec<Run>>>,
    script: impl Fn(&ChunkJob) -> Action + Send + Sync + 'static,
) -> RunningWorker {
    let behaviour = Behaviour {
        queue: queue.clone(),
        worker: name.to_owned(),
        script: Arc::new(script),
        runs,
    };
    let backend = queue.backend();
    let backend_handle = backend.handle();
    let worker = WorkerBuilder::new(name)
        .backend(backend)
        .data(behaviour.clone())
        .concurrency(concurrency)
        .build(handler);
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(worker.run_until(async move {
        let _ = rx.await;
        Ok::<(), std::io::Error>(())
    }));
    RunningWorker {
        stop: Some(tx),
        handle,
        behaviour,
        backend: backend_handle,
    }
}

/// Runs per chunk.
pub fn runs_by_chunk(runs: &[Run]) -> HashMap<String, Vec<Run>> {
    let mut out: HashMap<String, Vec<Run>> = HashMap::new();
    for r in runs {
        out.entry(r.chunk.clone()).or_default().push(r.clone());
    }
    out
}
