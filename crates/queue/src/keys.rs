//! Names of every Redis key the queue writes (see the key layout in ARCHITECTURE.md for who writes which).
//!
//! All keys of a namespace share the hash tag `{<ns>}`, so every script touches a single Redis
//! Cluster slot. Batch ids are restricted to `[A-Za-z0-9._-]` so they can never break out of it.

/// The consumer group all workers of a namespace share.
pub(crate) const GROUP: &str = "workers";

/// Key names of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

/// Key names of one batch.
#[derive(Debug, Clone)]
pub(crate) struct BatchKeys {
    /// HASH: state, created_at, source, format, items, chunks, chunk_size, counters, …
    pub meta: String,
    /// HASH chunk key → payload (JSON array of items); a field leaves when its job is settled.
    pub chunks: String,
    /// HASH item line → `updated` | `unchanged` | `dead`.
    pub outcomes: String,
    /// HASH item line → dead letter (JSON).
    pub dlq: String,
    /// HASH item line → first time (ms) the item was dead-lettered; survives requeues.
    pub first_failed: String,
}

impl BatchKeys {
    /// The five keys in the order every batch-scoped script expects them.
    pub fn all(&self) -> [&str; 5] {
        [
            &self.meta,
            &self.chunks,
            &self.outcomes,
            &self.dlq,
            &self.first_failed,
        ]
    }
}

impl Keys {
    pub fn new(namespace: &str) -> Self {
        Self {
            prefix: format!("{{{namespace}}}"),
        }
    }

    /// STREAM of chunk jobs (references, not payloads), consumer group [`GROUP`].
    pub fn jobs(&self) -> String {
        format!("{}:jobs", self.prefix)
    }

    /// ZSET of jobs due later: member = encoded job, score = due time (ms, Redis clock).
    pub fn delayed(&self) -> String {
        format!("{}:delayed", self.prefix)
    }

    /// HASH batch id → items currently in the delayed set (kept by the scripts that move them).
    pub fn retrying(&self) -> String {
        format!("{}:retrying", self.prefix)
    }

    /// ZSET of committed batch ids, score = created_at (ms).
    pub fn batches(&self) -> String {
        format!("{}:batches", self.prefix)
    }

    /// STREAM (capped) of jobs given up on: poison chunks and exhausted retries.
    pub fn dead_jobs(&self) -> String {
        format!("{}:dead-jobs", self.prefix)
    }

    pub fn batch(&self, id: &str) -> BatchKeys {
        let base = format!("{}:batch:{id}", self.prefix);
        BatchKeys {
            chunks: format!("{base}:chunks"),
            outcomes: format!("{base}:outcomes"),
            dlq: format!("{base}:dlq"),
            first_failed: format!("{base}:first-failed"),
            meta: base,
        }
    }
}

/// Batch ids travel inside key names and `|`-separated job encodings: keep them tame.
pub(crate) fn valid_batch_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Namespaces are free text but must not contain the hash-tag braces.
pub(crate) fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty() && !ns.contains(['{', '}']) && ns.len() <= 128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_shares_the_hash_tag() {
        let k = Keys::new("ns");
        let b = k.batch("b-1");
        for key in [
            k.jobs(),
            k.delayed(),
            k.retrying(),
            k.batches(),
            k.dead_jobs(),
        ]
        .iter()
        .map(String::as_str)
        .chain(b.all())
        {
            assert!(key.starts_with("{ns}:"), "{key}");
        }
    }

    #[test]
    fn batch_ids() {
        assert!(valid_batch_id("01J8ZK-import_2024.csv"));
        assert!(!valid_batch_id(""));
        assert!(!valid_batch_id("a:b"));
        assert!(!valid_batch_id("a|b"));
        assert!(!valid_batch_id(&"x".repeat(129)));
    }
}
