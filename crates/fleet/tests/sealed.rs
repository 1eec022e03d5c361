//! The shared credential cache against a real Redis: what it stores, who can read it, and the
//! refresh lock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use gcbulk_fleet::SealedCache;
use redis::AsyncCommands;
use secrecy::{ExposeSecret, SecretString};

fn random_secret() -> String {
    (0..48)
        .map(|_| {
            let chars = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            chars[rand::random_range(0..chars.len())] as char
        })
        .collect()
}

async fn cache(namespace: &str, passphrase: &str) -> SealedCache {
    SealedCache::new(
        common::connect().await,
        namespace,
        &SecretString::from(passphrase.to_owned()),
    )
    .unwrap()
}

/// The raw bytes of every key of the namespace (its name, and its DUMP).
async fn raw_contents(namespace: &str) -> Vec<Vec<u8>> {
    let mut conn = common::connect().await;
    let mut contents = Vec::new();
    for key in common::keys_of(namespace).await {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        contents.push(key.into_bytes());
        contents.push(dump);
    }
    contents
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_value_comes_back_but_redis_never_holds_it_or_the_passphrase_in_clear() {
    let ns = common::namespace();
    let passphrase = random_secret();
    let token = random_secret();
    let cache = cache(&ns, &passphrase).await;

    cache
        .put(
            "token",
            &SecretString::from(token.clone()),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let lock = cache
        .try_lock("token", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(lock.is_some());

    let (value, ttl) = cache
        .get("token")
        .await
        .unwrap()
        .expect("the value is there");
    assert_eq!(value.expose_secret(), token);
    assert!(
        ttl > Duration::from_secs(50) && ttl <= Duration::from_secs(60),
        "{ttl:?}"
    );

    let contents = raw_contents(&ns).await;
    assert_eq!(contents.len(), 4, "one value and one lock");
    for secret in [&token, &passphrase] {
        for piece in secret.as_bytes().windows(8) {
            for raw in &contents {
                assert!(
                    !contains(raw, piece),
                    "Redis holds 8 characters of a secret in clear"
                );
            }
        }
    }
    assert!(!format!("{cache:?} {lock:?}").contains(&passphrase));
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_value_sealed_under_another_passphrase_reads_as_absent() {
    let ns = common::namespace();
    let old = cache(&ns, "the-old-client-secret").await;
    let rotated = cache(&ns, "the-new-client-secret").await;
    old.put(
        "token",
        &SecretString::from("t-old"),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert!(rotated.get("token").await.unwrap().is_none());

    // Each passphrase has its own entry: the rotated process does not evict the old one's.
    rotated
        .put(
            "token",
            &SecretString::from("t-new"),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let (value, _) = old.get("token").await.unwrap().unwrap();
    assert_eq!(value.expose_secret(), "t-old");
    let (value, _) = rotated.get("token").await.unwrap().unwrap();
    assert_eq!(value.expose_secret(), "t-new");
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn a_tampered_or_moved_value_reads_as_absent() {
    let ns = common::namespace();
    let cache = cache(&ns, "passphrase").await;
    cache
        .put("a", &SecretString::from("value-a"), Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .put("b", &SecretString::from("value-b"), Duration::from_secs(60))
        .await
        .unwrap();
    let keys = common::keys_of(&ns).await;
    assert_eq!(keys.len(), 2);
    let mut conn = common::connect().await;
    let first: Vec<u8> = conn.get(&keys[0]).await.unwrap();
    let second: Vec<u8> = conn.get(&keys[1]).await.unwrap();
    // Swap the two values: each is now under the other's key.
    let _: () = conn.pset_ex(&keys[0], &second, 60_000).await.unwrap();
    let _: () = conn.pset_ex(&keys[1], &first, 60_000).await.unwrap();
    assert!(cache.get("a").await.unwrap().is_none());
    assert!(cache.get("b").await.unwrap().is_none());

    let _: () = conn
        .pset_ex(&keys[0], "v1.not-a-sealed-value", 60_000)
        .await
        .unwrap();
    let _: () = conn.pset_ex(&keys[1], "plain text", 60_000).await.unwrap();
    assert!(cache.get("a").await.unwrap().is_none());
    assert!(cache.get("b").await.unwrap().is_none());
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn delete_if_equal_discards_only_the_value_the_caller_saw() {
    let ns = common::namespace();
    let cache = cache(&ns, "passphrase").await;
    let stale = SecretString::from("token-that-got-a-401");
    let fresh = SecretString::from("token-another-process-stored");

    cache
        .put("token", &fresh, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(!cache.delete_if_equal("token", &stale).await.unwrap());
    let (value, _) = cache.get("token").await.unwrap().expect("still there");
    assert_eq!(value.expose_secret(), fresh.expose_secret());

    assert!(cache.delete_if_equal("token", &fresh).await.unwrap());
    assert!(cache.get("token").await.unwrap().is_none());
    assert!(!cache.delete_if_equal("token", &fresh).await.unwrap());
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn the_refresh_lock_has_one_holder_at_a_time_and_is_released() {
    let ns = common::namespace();
    let first = cache(&ns, "passphrase").await;
    let second = cache(&ns, "passphrase").await;
    let ttl = Duration::from_secs(30);

    let held = first.try_lock("token", ttl).await.unwrap().expect("free");
    assert!(second.try_lock("token", ttl).await.unwrap().is_none());
    assert!(first.try_lock("token", ttl).await.unwrap().is_none());
    // Another name has its own lock.
    let other = second.try_lock("other", ttl).await.unwrap().expect("free");
    assert!(other.release().await.unwrap());

    assert!(held.release().await.unwrap());
    let held = second
        .try_lock("token", ttl)
        .await
        .unwrap()
        .expect("released");

    // A guard dropped without release frees the lock in the background.
    drop(held);
    let held = poll_until_free(&first, "token").await;
    assert!(held.release().await.unwrap());

    // A holder that vanished (its guard never released) loses the lock after the ttl.
    let crashed = first
        .try_lock("token", Duration::from_millis(300))
        .await
        .unwrap()
        .expect("free");
    std::mem::forget(crashed);
    let held = poll_until_free(&second, "token").await;
    assert!(held.release().await.unwrap());
    common::clean_up(&ns).await;
}

#[tokio::test]
async fn an_expired_lock_taken_over_by_another_is_not_released_by_its_old_holder() {
    let ns = common::namespace();
    let first = cache(&ns, "passphrase").await;
    let second = cache(&ns, "passphrase").await;
    let old = first
        .try_lock("token", Duration::from_millis(200))
        .await
        .unwrap()
        .expect("free");
    let new = poll_until_free(&second, "token").await;
    assert!(
        !old.release().await.unwrap(),
        "the old holder released another's lock"
    );
    assert!(
        first
            .try_lock("token", Duration::from_secs(5))
            .await
            .unwrap()
            .is_none()
    );
    assert!(new.release().await.unwrap());
    common::clean_up(&ns).await;
}

async fn poll_until_free(cache: &SealedCache, name: &str) -> gcbulk_fleet::LockGuard {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(guard) = cache.try_lock(name, Duration::from_secs(30)).await.unwrap() {
            return guard;
        }
        assert!(Instant::now() < deadline, "the lock was never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
