//! One fetch round on the dedicated read connection.
//!
//! 1. move due jobs from the delayed set into the stream (bounded);
//! 2. take over jobs idle longer than the claim idle timeout (crashed or stalled consumers),
//!    reading their delivery counts so a crash counts as a failed attempt;
//! 3. `XREADGROUP … BLOCK`, the block capped at the next delayed job's due time and at the next claim scan
//!    (at most a second away), so a dead worker's jobs are taken over soon after they become claimable;
//! 4. fetch the chunks' payloads (one `HMGET` per batch, pipelined).
//!
//! A round never fails: Redis errors are logged, the connection is dropped and reopened on the
//! next round after a short pause (at most 2 s), and a lost consumer group is recreated.

use std::{collections::HashMap, sync::Arc, time::Duration};

use apalis_core::task::{Task, builder::TaskBuilder, task_id::TaskId};
use redis::{AsyncConnectionConfig, RedisError, Value, aio::MultiplexedConnection};
use tokio::time::Instant;

use super::{
    job::{ChunkJob, JobMeta},
    settle::Shared,
};
use crate::{
    keys::GROUP,
    outcome::ErrorInfo,
    scripts::{CLAIM, PROMOTE, PRUNE},
};

/// Delayed jobs moved into the stream per round, at most.
const PROMOTE_LIMIT: usize = 500;
/// How often a worker looks for consumers of dead workers to forget.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// A consumer with no pending job, silent this long, belonged to a worker that is gone.
const CONSUMER_FORGOTTEN_AFTER: Duration = Duration::from_secs(3600);

pub(crate) struct Fetcher {
    shared: Arc<Shared>,
    conn: Option<MultiplexedConnection>,
    group_ready: bool,
    claim_cursor: String,
    next_claim: Instant,
    next_prune: Instant,
    failures: u32,
}

struct RawEntry {
    id: String,
    fields: HashMap<String, String>,
    deliveries: u64,
}

impl Fetcher {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            conn: None,
            group_ready: false,
            claim_cursor: "0-0".into(),
            next_claim: Instant::now(),
            next_prune: Instant::now(),
            failures: 0,
        }
    }

    /// Fetches up to `want` jobs; may return none (nothing arrived within the block time, or
    /// Redis is unavailable).
    pub async fn round(mut self, want: usize) -> (Self, Vec<Task<ChunkJob>>) {
        match self.try_round(want.max(1)).await {
            Ok(tasks) => {
                self.failures = 0;
                (self, tasks)
            }
            Err(e) if e.code() == Some("NOGROUP") => {
                tracing::warn!(
                    "the consumer group is gone (Redis restarted without its data?); recreating it"
                );
                self.group_ready = false;
                (self, Vec::new())
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                let pause = Duration::from_millis(100)
                    .saturating_mul(1u32 << self.failures.min(5))
                    .min(Duration::from_secs(2));
                tracing::warn!(error = %e, "fetching jobs failed; reconnecting in {pause:?}");
                self.conn = None;
                self.group_ready = false;
                tokio::time::sleep(pause).await;
                (self, Vec::new())
            }
        }
    }

    async fn connection(&mut self) -> Result<MultiplexedConnection, RedisError> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let config = self.shared.queue.config();
        // Responses to a blocking read legitimately take up to the block time: allow for it.
        let read_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.block_time + config.response_timeout));
        let conn = self
            .shared
            .queue
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&read_config)
            .await?;
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    async fn try_round(&mut self, want: usize) -> Result<Vec<Task<ChunkJob>>, RedisError> {
        let mut conn = self.connection().await?;
        let shared = self.shared.clone();
        let keys = shared.queue.keys();
        let config = shared.queue.config();
        if !self.group_ready {
            let created: Result<(), RedisError> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(keys.jobs())
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut conn)
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.code() == Some("BUSYGROUP") => {}
                Err(e) => return Err(e),
            }
            self.group_ready = true;
        }

        if Instant::now() >= self.next_prune {
            self.next_prune = Instant::now() + PRUNE_EVERY;
            let min_idle = (config.claim_idle_timeout * 10).max(CONSUMER_FORGOTTEN_AFTER);
            let pruned: Result<i64, RedisError> = PRUNE
                .prepare_invoke()
                .key(keys.jobs())
                .arg(GROUP)
                .arg(crate::batch::ms(min_idle))
                .invoke_async(&mut conn)
                .await;
            match pruned {
                Ok(0) => {}
                Ok(n) => tracing::info!(consumers = n, "forgot consumers of workers gone for good"),
                Err(e) => tracing::debug!(error = %e, "could not prune old consumers"),
            }
        }

        let (_moved, wait_ms): (i64, i64) = PROMOTE
            .prepare_invoke()
            .key(keys.delayed())
            .key(keys.jobs())
            .key(keys.retrying())
            .arg(PROMOTE_LIMIT)
            .invoke_async(&mut conn)
            .await?;

        let mut entries = Vec::new();
        if Instant::now() >= self.next_claim {
            let (cursor, claimed) = self.claim(&mut conn, want).await?;
            self.claim_cursor = cursor;
            if self.claim_cursor == "0-0" {
                // A full pass over the pending entries is done; look again soon: a dead worker's jobs should be
                // taken over within about a second of becoming claimable (the scan is cheap when nothing is idle).
                self.next_claim = Instant::now()
                    + (config.claim_idle_timeout / 10)
                        .clamp(Duration::from_millis(100), Duration::from_secs(1));
            }
            // Our own entries come back if a lease renewal was late: we still have them.
            entries.extend(claimed.into_iter().filter(|e| !shared.is_held(&e.id)));
        }

        let remaining = want.saturating_sub(entries.len());
        if remaining > 0 {
            let mut read = redis::cmd("XREADGROUP");
            read.arg("GROUP")
                .arg(GROUP)
                .arg(&shared.consumer)
                .arg("COUNT")
                .arg(remaining);
            if entries.is_empty() {
                // Never block past the next claim scan either, or an idle worker notices a dead one's jobs late.
                let until_claim = self
                    .next_claim
                    .saturating_duration_since(Instant::now())
                    .as_millis();
                let block = config.block_time.as_millis().min(until_claim).max(1);
                let block = match u128::try_from(wait_ms) {
                    Ok(wait) => wait.clamp(1, block),
                    Err(_) => block,
                };
                read.arg("BLOCK").arg(u64::try_from(block).unwrap_or(1));
            }
            read.arg("STREAMS").arg(keys.jobs()).arg(">");
            let reply: Value = read.query_async(&mut conn).await?;
            entries.extend(parse_read_reply(reply));
        }
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.build_tasks(&mut conn, entries).await
    }

    async fn claim(
        &self,
        conn: &mut MultiplexedConnection,
        want: usize,
    ) -> Result<(String, Vec<RawEntry>), RedisError> {
        let config = self.shared.queue.config();
        let reply: Value = CLAIM
            .prepare_invoke()
            .key(self.shared.queue.keys().jobs())
            .arg(GROUP)
            .arg(&self.shared.consumer)
            .arg(crate::batch::ms(config.claim_idle_timeout))
            .arg(&self.claim_cursor)
            .arg(want)
            .invoke_async(conn)
            .await?;
        let Value::Array(mut parts) = reply else {
            return Ok(("0-0".into(), Vec::new()));
        };
        let claimed = if parts.len() > 1 {
            parts.remove(1)
        } else {
            Value::Nil
        };
        let cursor = parts
            .first()
            .and_then(as_string)
            .unwrap_or_else(|| "0-0".into());
        let mut out = Vec::new();
        if let Value::Array(list) = claimed {
            for item in list {
                let Value::Array(triple) = item else { continue };
                let mut it = triple.into_iter();
                let (Some(id), Some(fields), Some(deliveries)) = (it.next(), it.next(), it.next())
                else {
                    continue;
                };
                let Some(id) = as_string(&id) else { continue };
                let deliveries = match deliveries {
                    Value::Int(n) => u64::try_from(n).unwrap_or(1),
                    other => as_string(&other).and_then(|s| s.parse().ok()).unwrap_or(1),
                };
                tracing::info!(entry = %id, deliveries, "took over a job idle longer than the claim idle timeout");
                out.push(RawEntry {
                    id,
                    fields: parse_fields(fields),
                    deliveries,
                });
            }
        }
        Ok((cursor, out))
    }

    async fn build_tasks(
        &self,
        conn: &mut MultiplexedConnection,
        entries: Vec<RawEntry>,
    ) -> Result<Vec<Task<ChunkJob>>, RedisError> {
        let shared = &self.shared;
        let keys = shared.queue.keys();
        let max_attempts = shared.queue.config().max_attempts;

        // One HMGET per batch, all in one round trip.
        let mut by_batch: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let batch = e.fields.get("batch").cloned().unwrap_or_default();
            match by_batch.iter_mut().find(|(b, _)| *b == batch) {
                Some((_, idx)) => idx.push(i),
                None => by_batch.push((batch, vec![i])),
            }
        }
        let mut pipe = redis::pipe();
        for (batch, idx) in &by_batch {
            let chunk_keys: Vec<&str> = idx
                .iter()
                .filter_map(|&i| entries.get(i))
                .map(|e| e.fields.get("chunk").map_or("", String::as_str))
                .collect();
            pipe.cmd("HMGET")
                .arg(keys.batch(batch).chunks)
                .arg(chunk_keys);
        }
        let replies: Vec<Vec<Option<Vec<u8>>>> = pipe.query_async(conn).await?;
        let mut payloads: Vec<Option<Vec<u8>>> = vec![None; entries.len()];
        for ((_, idx), reply) in by_batch.iter().zip(replies) {
            for (&i, payload) in idx.iter().zip(reply) {
                if let Some(slot) = payloads.get_mut(i) {
                    *slot = payload;
                }
            }
        }

        let mut tasks = Vec::with_capacity(entries.len());
        for (entry, payload) in entries.into_iter().zip(payloads) {
            let field = |name: &str| entry.fields.get(name).cloned().unwrap_or_default();
            let number = |name: &str| field(name).parse::<u64>().unwrap_or(0);
            let prior = u32::try_from(number("attempt")).unwrap_or(u32::MAX);
            let lost_runs = u32::try_from(entry.deliveries.saturating_sub(1)).unwrap_or(u32::MAX);
            let mut meta = JobMeta {
                entry_id: entry.id.clone(),
                batch: field("batch"),
                chunk: field("chunk"),
                n: number("n"),
                attempt: prior.saturating_add(lost_runs),
                throttled: u32::try_from(number("throttled")).unwrap_or(u32::MAX),
                items: Arc::new(Vec::new()),
            };
            let items = match payload
                .as_deref()
                .map(serde_json::from_slice::<Vec<serde_json::Value>>)
            {
                Some(Ok(items)) => items,
                Some(Err(e)) => {
                    // Keep the raw payload: give_up stores items without a line in the record.
                    let raw = String::from_utf8_lossy(payload.as_deref().unwrap_or_default())
                        .into_owned();
                    meta.items = Arc::new(vec![serde_json::Value::String(raw)]);
                    self.abandon(
                        &meta,
                        format!("chunk payload is not a JSON array of items: {e}"),
                    )
                    .await;
                    continue;
                }
                None => {
                    tracing::error!(batch = %meta.batch, chunk = %meta.chunk, "job without a payload (settled elsewhere, or its batch expired); dropping it");
                    self.abandon(&meta, "chunk payload missing".into()).await;
                    continue;
                }
            };
            meta.items = Arc::new(items.clone());
            if meta.attempt >= max_attempts {
                let reason = format!(
                    "gave up after {} attempts: the chunk was delivered {} times without being settled (a worker crashed or stalled on it)",
                    meta.attempt, entry.deliveries
                );
                self.abandon(&meta, reason).await;
                continue;
            }
            shared.hold(&meta.entry_id, meta.attempt);
            let job = ChunkJob {
                batch: meta.batch.clone(),
                chunk: meta.chunk.clone(),
                items,
                attempt: meta.attempt,
                throttled: meta.throttled,
                max_attempts,
            };
            let attempt = usize::try_from(meta.attempt).unwrap_or(usize::MAX);
            tasks.push(
                TaskBuilder::new(job)
                    .task_id(TaskId::from_string(meta.entry_id.clone()))
                    .attempt(attempt)
                    .max_attempts(usize::try_from(max_attempts).unwrap_or(usize::MAX))
                    .data(meta)
                    .build(),
            );
        }
        Ok(tasks)
    }

    async fn abandon(&self, meta: &JobMeta, reason: String) {
        let attempts = meta.attempt;
        if let Err(e) = self
            .shared
            .give_up(meta, ErrorInfo::message(reason), attempts)
            .await
        {
            tracing::error!(entry = %meta.entry_id, error = %e, "could not give up on a job; it will be taken over later");
        }
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_fields(v: Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    match v {
        Value::Array(flat) => {
            for pair in flat.chunks(2) {
                if let [k, v] = pair
                    && let (Some(k), Some(v)) = (as_string(k), as_string(v))
                {
                    out.insert(k, v);
                }
            }
        }
        Value::Map(pairs) => {
            for (k, v) in pairs {
                if let (Some(k), Some(v)) = (as_string(&k), as_string(&v)) {
                    out.insert(k, v);
                }
            }
        }
        _ => {}
    }
    out
}

/// `XREADGROUP` reply: `[[stream, [[id, [field, value, …]], …]]]`, or nil on timeout.
fn parse_read_reply(reply: Value) -> Vec<RawEntry> {
    let streams = match reply {
        Value::Array(streams) => streams,
        Value::Map(pairs) => pairs
            .into_iter()
            .map(|(k, v)| Value::Array(vec![k, v]))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for stream in streams {
        let Value::Array(mut parts) = stream else {
            continue;
        };
        if parts.len() < 2 {
            continue;
        }
        let Value::Array(list) = parts.remove(1) else {
            continue;
        };
        for entry in list {
            let Value::Array(mut pair) = entry else {
                continue;
            };
            if pair.len() < 2 {
                continue;
            }
            let fields = pair.remove(1);
            let Some(id) = pair.first().and_then(as_string) else {
                continue;
            };
            out.push(RawEntry {
                id,
                fields: parse_fields(fields),
                deliveries: 1,
            });
        }
    }
    out
}
