//! Prometheus metrics of a worker process, through the `metrics` facade.
//!
//! Names are stable (dashboards and alerts depend on them); each is documented where it is described, so
//! `/metrics` is self-explanatory. Recording is cheap (atomic adds), so it happens inline on the hot path.

use std::time::Duration;

use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// API requests by `endpoint` (method and path template) and HTTP `status`.
pub const API_REQUESTS: &str = "gcbulk_api_requests_total";
/// API latency in seconds.
pub const API_LATENCY: &str = "gcbulk_api_request_duration_seconds";
/// 429 answers received.
pub const RATE_LIMITED: &str = "gcbulk_api_rate_limited_total";
/// Items finished, by `outcome` (`updated`, `unchanged`, `dead`).
pub const ITEMS: &str = "gcbulk_items_total";
/// Chunks rescheduled, by `reason` (`rate_limited`, `transient`).
pub const RETRIES: &str = "gcbulk_chunk_retries_total";
/// Chunks being processed by this process.
pub const IN_FLIGHT: &str = "gcbulk_chunks_in_flight";
/// Jobs waiting in the queue (pending + retrying chunks), sampled.
pub const QUEUE_DEPTH: &str = "gcbulk_queue_depth_items";

/// Installs the recorder once per process and returns the handle that renders `/metrics`.
pub fn install() -> Option<PrometheusHandle> {
    let buckets = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(API_LATENCY.to_string()),
            &buckets,
        )
        .ok()?
        .install_recorder()
        .ok()?;
    describe_counter!(
        API_REQUESTS,
        "Genesys Cloud API requests sent, by HTTP status"
    );
    describe_histogram!(
        API_LATENCY,
        metrics::Unit::Seconds,
        "Genesys Cloud API request latency"
    );
    describe_counter!(RATE_LIMITED, "429 Too Many Requests answers received");
    describe_counter!(ITEMS, "Items finished, by outcome");
    describe_counter!(RETRIES, "Chunks rescheduled, by reason");
    describe_gauge!(IN_FLIGHT, "Chunks being processed by this worker process");
    describe_gauge!(
        QUEUE_DEPTH,
        "Items waiting or in flight across all batches of the namespace"
    );
    Some(handle)
}

/// Records one API response.
pub fn api_request(endpoint: String, status: u16, latency: Duration) {
    counter!(API_REQUESTS, "endpoint" => endpoint, "status" => status.to_string()).increment(1);
    histogram!(API_LATENCY).record(latency.as_secs_f64());
    if status == 429 {
        counter!(RATE_LIMITED).increment(1);
    }
}

/// Records finished items.
pub fn items(outcome: &'static str, count: u64) {
    if count > 0 {
        counter!(ITEMS, "outcome" => outcome).increment(count);
    }
}

/// Records a rescheduled chunk.
pub fn retry(reason: &'static str) {
    counter!(RETRIES, "reason" => reason).increment(1);
}

/// Moves the in-flight gauge.
pub fn in_flight(delta: f64) {
    gauge!(IN_FLIGHT).increment(delta);
}

/// Sets the sampled queue depth.
pub fn queue_depth(items: u64) {
    gauge!(QUEUE_DEPTH).set(items as f64);
}
