//! Shared helpers of the integration tests: a real Redis, one random namespace per test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

pub fn redis_url() -> String {
    std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A new connection: one per simulated process.
pub async fn connect() -> ConnectionManager {
    redis::Client::open(redis_url())
        .expect("GCBULK_REDIS_URL is a Redis URL")
        .get_connection_manager()
        .await
        .expect("Redis is reachable at GCBULK_REDIS_URL")
}

/// A namespace no other test uses.
pub fn namespace() -> String {
    format!("fleet-test-{:016x}", rand::random::<u64>())
}

/// Every key of the namespace.
pub async fn keys_of(namespace: &str) -> Vec<String> {
    let mut conn = connect().await;
    let mut keys: Vec<String> = Vec::new();
    let mut iter: redis::AsyncIter<String> =
        conn.scan_match(format!("{{{namespace}}}:*")).await.unwrap();
    while let Some(key) = iter.next_item().await {
        keys.push(key.unwrap());
    }
    keys
}

/// Asserts that every key of the namespace expires on its own, then deletes them all.
pub async fn clean_up(namespace: &str) {
    let mut conn = connect().await;
    for key in keys_of(namespace).await {
        let ttl: i64 = conn.pttl(&key).await.unwrap();
        assert!(ttl > 0, "{key} would stay in Redis forever (PTTL {ttl})");
        let _: () = conn.del(&key).await.unwrap();
    }
}
