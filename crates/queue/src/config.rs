//! Queue configuration: where Redis is, which namespace, and the timing knobs of the worker side.
//!
//! ```
//! use std::time::Duration;
//! use gcbulk_queue::QueueConfig;
//!
//! let mut config = QueueConfig::new("redis://127.0.0.1:6379", "gcbulk");
//! config.claim_idle_timeout = Duration::from_secs(30);
//! assert_eq!(config.max_attempts, 8);
//! ```

use std::time::Duration;

/// Everything the queue needs to know; build with [`QueueConfig::new`] and adjust the public fields.
#[derive(Clone)]
pub struct QueueConfig {
    /// `redis://` or `rediss://` URL, possibly with user and password. Never printed with its password.
    pub redis_url: String,
    /// Prefix of every key (inside a `{…}` hash tag so one namespace lives in one Cluster slot).
    pub namespace: String,
    /// Name of this consumer in the stream's consumer group. Must be unique per running worker
    /// (default: `<hostname>-<pid>-<random>`).
    pub consumer: String,
    /// A job delivered to a consumer that has neither settled it nor renewed its lease for this
    /// long is taken over by another consumer (and counts one failed attempt). Default 60 s.
    pub claim_idle_timeout: Duration,
    /// How often a worker renews the leases of the jobs it holds. Default: a third of
    /// [`claim_idle_timeout`](Self::claim_idle_timeout).
    pub lease_renew_interval: Duration,
    /// Longest wait of one blocking read for new jobs. Default 2 s.
    pub block_time: Duration,
    /// Jobs fetched per round; keep it close to the worker's concurrency. Default 4.
    pub fetch_batch_size: usize,
    /// Failed attempts after which a job's remaining items are dead-lettered. Default 8.
    pub max_attempts: u32,
    /// First step of the exponential backoff for failed jobs. Default 2 s.
    pub retry_base: Duration,
    /// Largest backoff for failed jobs. Default 5 min.
    pub retry_cap: Duration,
    /// How long a finished batch (and its dead letters) stays readable. Default 7 days.
    pub retention: Duration,
    /// How long an uncommitted (staging) batch survives its writer's last write. Default 1 h.
    pub staging_ttl: Duration,
    /// Chunks the batch writer sends to Redis per round trip. Default 64.
    pub stage_pipeline_chunks: usize,
    /// Bytes of payload after which the batch writer flushes early. Default 1 MiB.
    pub stage_pipeline_bytes: usize,
    /// Response timeout of ordinary commands (scripts on large batches may take a while). Default 10 s.
    pub response_timeout: Duration,
    /// Time allowed to open a connection. Default 5 s.
    pub connect_timeout: Duration,
}

impl QueueConfig {
    /// A configuration with the defaults listed on each field.
    pub fn new(redis_url: impl Into<String>, namespace: impl Into<String>) -> Self {
        let claim_idle_timeout = Duration::from_secs(60);
        Self {
            redis_url: redis_url.into(),
            namespace: namespace.into(),
            consumer: default_consumer_name(),
            claim_idle_timeout,
            lease_renew_interval: claim_idle_timeout / 3,
            block_time: Duration::from_secs(2),
            fetch_batch_size: 4,
            max_attempts: 8,
            retry_base: Duration::from_secs(2),
            retry_cap: Duration::from_secs(300),
            retention: Duration::from_secs(7 * 24 * 3600),
            staging_ttl: Duration::from_secs(3600),
            stage_pipeline_chunks: 64,
            stage_pipeline_bytes: 1 << 20,
            response_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Sets the claim idle timeout and the lease renewal interval with it (a third of it).
    #[must_use]
    pub fn with_claim_idle_timeout(mut self, timeout: Duration) -> Self {
        self.claim_idle_timeout = timeout;
        self.lease_renew_interval = timeout / 3;
        self
    }

    /// The Redis URL with any password replaced by `***`, safe for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.redis_url)
    }
}

impl std::fmt::Debug for QueueConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueConfig")
            .field("redis_url", &self.redacted_url())
            .field("namespace", &self.namespace)
            .field("consumer", &self.consumer)
            .field("claim_idle_timeout", &self.claim_idle_timeout)
            .field("lease_renew_interval", &self.lease_renew_interval)
            .field("block_time", &self.block_time)
            .field("fetch_batch_size", &self.fetch_batch_size)
            .field("max_attempts", &self.max_attempts)
            .field("retry_base", &self.retry_base)
            .field("retry_cap", &self.retry_cap)
            .field("retention", &self.retention)
            .field("staging_ttl", &self.staging_ttl)
            .finish_non_exhaustive()
    }
}

/// Replaces the password of a URL (if any) with `***`. Unparseable input is hidden entirely
/// when it might carry credentials.
pub(crate) fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // set_password only fails for URLs that cannot have credentials at all.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) if raw.contains('@') => "<unparseable URL with credentials>".to_owned(),
        Err(_) => raw.to_owned(),
    }
}

fn default_consumer_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "host".to_owned());
    let suffix: u32 = rand::random();
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shown() {
        let c = QueueConfig::new("redis://user:s3cret@example.com:6380/0", "ns");
        assert!(!c.redacted_url().contains("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.redacted_url().contains("example.com:6380"));
    }
}
