//! A worker process from start to exit: connect, check credentials, serve health and metrics, consume chunks
//! with apalis on the queue's backend, and stop cleanly on a signal or, if asked, when there is nothing left.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use gcbulk_fleet::{BudgetConfig, RequestBudget, SealedCache};
use gcbulk_queue::{ChunkJob, JobError, Queue, QueueConfig};
use genesys::{ClientConfig, ErrorKind, GenesysClient};
use secrecy::SecretString;
use tokio::sync::watch;

use crate::apply::ChunkApplier;
use crate::error::WorkerError;
use crate::fleet_adapters::{FleetGate, FleetTokenStore};
use crate::{health, metrics};

/// Everything a worker process needs, from the command line and the environment.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Redis URL (may hold a password: never printed as is).
    pub redis_url: String,
    /// Key namespace.
    pub namespace: String,
    /// Chunks processed at once by this process.
    pub concurrency: usize,
    /// Requests per minute for this OAuth client across the whole fleet.
    pub rate_limit_per_minute: u32,
    /// Attempts before a transiently failing item is dead-lettered.
    pub max_attempts: u32,
    /// Exit once nothing is pending, in flight or scheduled for retry.
    pub exit_when_idle: bool,
    /// Where to serve `/metrics`, `/healthz` and `/readyz`.
    pub metrics_addr: Option<SocketAddr>,
    /// How long running chunks may take to finish after SIGINT/SIGTERM.
    pub shutdown_grace: Duration,
    /// Override of the queue's claim idle timeout (how long until a dead worker's jobs are taken over).
    pub claim_idle_timeout: Option<Duration>,
    /// The Genesys Cloud API, credentials included.
    pub genesys: ClientConfig,
    /// Authority of `external_id` keys.
    pub external_id_authority: Option<String>,
}

/// Runs a worker until `stop` resolves (a signal), or until idle when [`WorkerSettings::exit_when_idle`] is set.
pub async fn run(
    settings: WorkerSettings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let mut queue_config = QueueConfig::new(settings.redis_url.clone(), settings.namespace.clone());
    if let Some(idle) = settings.claim_idle_timeout {
        queue_config = queue_config.with_claim_idle_timeout(idle);
    }
    queue_config.fetch_batch_size = settings.concurrency;
    queue_config.max_attempts = settings.max_attempts;
    let redacted_url = queue_config.redacted_url();
    let queue = Queue::connect(queue_config)
        .await
        .map_err(WorkerError::Queue)?;

    let redis = redis::Client::open(settings.redis_url.as_str())
        .map_err(|e| WorkerError::Config(format!("invalid Redis URL {redacted_url}: {e}")))?;
    let manager_config = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(5)));
    let conn = redis
        .get_connection_manager_with_config(manager_config)
        .await
        .map_err(|e| WorkerError::RedisUnreachable(format!("{redacted_url}: {e}")))?;

    let client_id = settings.genesys.client_id.clone();
    let budget = RequestBudget::new(
        conn.clone(),
        &settings.namespace,
        BudgetConfig::per_minute(settings.rate_limit_per_minute),
    )
    .map_err(|e| WorkerError::Config(e.to_string()))?;
    let secret: &SecretString = &settings.genesys.client_secret;
    let tokens = SealedCache::new(conn, &settings.namespace, secret)
        .map_err(|e| WorkerError::Config(e.to_string()))?;
    let client = GenesysClient::builder(settings.genesys.clone())
        .request_gate(Arc::new(FleetGate::new(budget, client_id.clone())))
        .token_store(Arc::new(FleetTokenStore::new(tokens, &client_id)))
        .build()
        .map_err(|e| WorkerError::Config(e.to_string()))?;

    // Fail fast on what no retry can fix: wrong credentials, an unreachable login host.
    preflight(&client).await?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // Set when the worker stops taking jobs: `/readyz` then answers 503 so a rollout stops counting on it.
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let draining_rx = stopping_rx.clone();
    if let Some(addr) = settings.metrics_addr {
        let handle = metrics::install();
        let ready = readiness(queue.clone(), client.clone(), draining_rx.clone());
        let mut rx = shutdown_rx.clone();
        let bound = health::serve(addr, handle, ready, async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        })
        .await
        .map_err(|e| WorkerError::Config(format!("cannot serve metrics on {addr}: {e}")))?;
        tracing::info!(%bound, "serving /metrics, /healthz and /readyz");
    }

    let backend = queue.backend();
    let held = backend.handle();
    let applier = Arc::new(ChunkApplier::new(
        client,
        queue.clone(),
        settings.external_id_authority.clone(),
    ));
    let worker = WorkerBuilder::new(format!("gcbulk-{}", queue.config().consumer))
        .backend(backend)
        .data(applier)
        .concurrency(settings.concurrency)
        .build(handle_chunk);

    // The worker stops taking jobs when `stopping` resolves: on the signal, or once the queue is idle.
    let mut stopping_rx = stopping_rx;
    let idle_watch = settings
        .exit_when_idle
        .then(|| tokio::spawn(wait_until_idle(queue.clone(), stopping_tx.clone())));
    let depth_sampler = tokio::spawn(sample_queue_depth(queue.clone()));
    let signal_watch = tokio::spawn({
        let stopping_tx = stopping_tx.clone();
        async move {
            stop.await;
            tracing::info!(
                "signal received: taking no new jobs, finishing or handing back the rest"
            );
            let _ = stopping_tx.send(true);
        }
    });
    let mut until_stopping = stopping_rx.clone();
    let worker_run = worker.run_until(async move {
        let _ = until_stopping.wait_for(|stopping| *stopping).await;
        Ok::<(), std::io::Error>(())
    });
    tokio::pin!(worker_run);
    tracing::info!(consumer = %queue.config().consumer, concurrency = settings.concurrency,
        rate_limit = settings.rate_limit_per_minute, "worker started");

    let result = tokio::select! {
        result = &mut worker_run => result,
        _ = async {
            let _ = stopping_rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(settings.shutdown_grace).await;
        } => {
            // Handing the chunks back now (no attempt counted) lets another worker start them at once instead of
            // after the claim idle timeout; outcomes are recorded once, so a handler finishing meanwhile is harmless.
            let handed_back = held.hand_back_all().await;
            tracing::warn!(grace_secs = settings.shutdown_grace.as_secs(), handed_back,
                "chunks still running after the grace period were handed back to the queue");
            Ok(())
        }
    };
    let _ = shutdown_tx.send(true);
    signal_watch.abort();
    depth_sampler.abort();
    if let Some(task) = idle_watch {
        task.abort();
    }
    result.map_err(|e| WorkerError::Runtime(e.to_string()))?;
    tracing::info!("worker stopped");
    Ok(())
}

/// The apalis handler: one chunk.
async fn handle_chunk(job: ChunkJob, applier: Data<Arc<ChunkApplier>>) -> Result<(), JobError> {
    metrics::in_flight(1.0);
    let result = applier.apply(&job).await;
    metrics::in_flight(-1.0);
    result
}

async fn preflight(client: &GenesysClient) -> Result<(), WorkerError> {
    match client.access_token().await {
        Ok(_) => Ok(()),
        Err(err) => match err.kind() {
            ErrorKind::InvalidCredentials => Err(WorkerError::Credentials(err.to_string())),
            ErrorKind::LoginUnreachable => Err(WorkerError::LoginUnreachable(err.to_string())),
            // Anything else (a throttled or failing token endpoint) is worth retrying later, per chunk.
            _ => {
                tracing::warn!(error = %err, "could not get an access token yet; will retry per chunk");
                Ok(())
            }
        },
    }
}

fn readiness(
    queue: Queue,
    client: GenesysClient,
    draining: watch::Receiver<bool>,
) -> health::ReadinessCheck {
    Arc::new(move || {
        let queue = queue.clone();
        let client = client.clone();
        let draining = *draining.borrow();
        Box::pin(async move {
            if draining {
                return Err("draining: taking no new jobs".to_string());
            }
            queue.is_idle().await.map_err(|e| format!("redis: {e}"))?;
            client
                .access_token()
                .await
                .map_err(|e| format!("genesys token: {}", e.kind().as_str()))?;
            Ok(())
        })
    })
}

/// Signals `stopping` once the queue has had nothing pending, in flight or delayed for two looks in a row (one
/// look could fall between a chunk's settlement and its retry being scheduled).
async fn wait_until_idle(queue: Queue, stopping: watch::Sender<bool>) {
    let mut idle_looks = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match queue.is_idle().await {
            Ok(true) => idle_looks += 1,
            Ok(false) => idle_looks = 0,
            Err(err) => {
                tracing::debug!(error = %err, "idle check failed");
                idle_looks = 0;
            }
        }
        if idle_looks >= 2 {
            tracing::info!("queue idle: exiting (--exit-when-idle)");
            let _ = stopping.send(true);
            return;
        }
    }
}

async fn sample_queue_depth(queue: Queue) {
    loop {
        if let Ok(batches) = queue.list_batches().await {
            metrics::queue_depth(
                batches
                    .iter()
                    .map(|b| b.pending + b.in_flight + b.retrying)
                    .sum(),
            );
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}
