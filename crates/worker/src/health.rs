//! The worker's small HTTP surface: `/metrics` (Prometheus text), `/healthz` (the process is alive) and `/readyz`
//! (Redis answers and a token can be had), for Kubernetes probes and scrapers.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;

/// Answers whether this worker can do useful work right now; the error says why not.
pub type ReadinessCheck = Arc<
    dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync + 'static,
>;

#[derive(Clone)]
struct Surface {
    metrics: Option<PrometheusHandle>,
    ready: ReadinessCheck,
}

/// Binds `addr` and serves the surface until `shutdown` resolves.
pub async fn serve(
    addr: SocketAddr,
    metrics: Option<PrometheusHandle>,
    ready: ReadinessCheck,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readiness))
        .with_state(Surface { metrics, ready });
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %err, "metrics server stopped");
        }
    });
    Ok(bound)
}

async fn render_metrics(State(surface): State<Surface>) -> (StatusCode, String) {
    match &surface.metrics {
        Some(handle) => (StatusCode::OK, handle.render()),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed\n".into(),
        ),
    }
}

async fn readiness(State(surface): State<Surface>) -> (StatusCode, String) {
    match (surface.ready)().await {
        Ok(()) => (StatusCode::OK, "ready\n".into()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}
