//! A credential cache shared through Redis in which secrets are never stored in clear.
//!
//! Values are sealed with ChaCha20-Poly1305 under a key derived from a passphrase the caller
//! holds and Redis never sees (the worker passes its OAuth client secret, which every worker of
//! the fleet has). Key names are derived from the name *and* the passphrase, so they reveal
//! nothing either (see [`keyring`](crate::keyring) for the derivation).
//!
//! Anything that does not open — written under another passphrase (a rotated secret), or
//! tampered with — reads as absent: the caller fetches a fresh value and overwrites it.
//!
//! The refresh lock ([`SealedCache::try_lock`]) lets one process fetch a new token while the
//! others poll [`SealedCache::get`]:
//!
//! ```no_run
//! # async fn demo(cache: gcbulk_fleet::SealedCache) -> Result<(), gcbulk_fleet::FleetError> {
//! use std::time::Duration;
//! use secrecy::SecretString;
//!
//! let token = loop {
//!     if let Some((token, _ttl_left)) = cache.get("token").await? {
//!         break token;
//!     }
//!     if let Some(lock) = cache.try_lock("token", Duration::from_secs(30)).await? {
//!         let fresh = SecretString::from("… POST /oauth/token …");
//!         cache.put("token", &fresh, Duration::from_secs(23 * 3600)).await?;
//!         lock.release().await?;
//!         break fresh;
//!     }
//!     tokio::time::sleep(Duration::from_millis(200)).await; // another process is fetching
//! };
//! # let _ = token; Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{FleetError, Result};
use crate::keyring::Keyring;
use crate::keys::Keys;

/// A shared cache of secrets, sealed under a passphrase. Cheap to clone.
#[derive(Clone)]
pub struct SealedCache {
    conn: ConnectionManager,
    keys: Keys,
    keyring: Keyring,
    get: Script,
    delete_if_equal: Script,
}

impl fmt::Debug for SealedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedCache")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl SealedCache {
    /// A cache over `conn` with keys under `{namespace}:fleet:`, sealed under `passphrase`.
    pub fn new(
        conn: ConnectionManager,
        namespace: &str,
        passphrase: &SecretString,
    ) -> Result<Self> {
        let keys = Keys::new(namespace)?;
        Ok(Self {
            conn,
            keys,
            keyring: Keyring::new(passphrase, namespace),
            get: Script::new(include_str!("scripts/sealed_get.lua")),
            delete_if_equal: Script::new(include_str!("scripts/delete_if_equal.lua")),
        })
    }

    /// The value stored under `name` and how long it has left, or `None` when there is none or
    /// it does not open under this passphrase.
    pub async fn get(&self, name: &str) -> Result<Option<(SecretString, Duration)>> {
        let key = self.value_key(name)?;
        let Some((stored, ttl_ms)) = self.read(&key).await? else {
            return Ok(None);
        };
        // A value always gets an expiry; one without (-1) was not written by this crate.
        let Ok(ttl_ms) = u64::try_from(ttl_ms) else {
            return Ok(None);
        };
        Ok(self
            .keyring
            .open(name, &key, &stored)
            .map(|value| (value, Duration::from_millis(ttl_ms))))
    }

    /// Stores `value` under `name` for `ttl` (at least 1 ms), replacing what was there.
    pub async fn put(&self, name: &str, value: &SecretString, ttl: Duration) -> Result<()> {
        let ttl_ms = positive_millis(ttl, "the time to live of a cached value")?;
        let key = self.value_key(name)?;
        let sealed = self.keyring.seal(name, &key, value)?;
        let mut conn = self.conn.clone();
        conn.pset_ex::<_, _, ()>(&key, sealed, ttl_ms)
            .await
            .map_err(FleetError::redis("storing a sealed value"))
    }

    /// Deletes `name` only if it still holds `value` (so a 401 discards the token the caller
    /// used, not a fresh one another process stored meanwhile). Returns whether it deleted.
    pub async fn delete_if_equal(&self, name: &str, value: &SecretString) -> Result<bool> {
        let key = self.value_key(name)?;
        let Some((stored, _)) = self.read(&key).await? else {
            return Ok(false);
        };
        let same = self
            .keyring
            .open(name, &key, &stored)
            .is_some_and(|held| held.expose_secret() == value.expose_secret());
        if !same {
            return Ok(false);
        }
        // The ciphertext is what we compared: delete only if nobody replaced it since.
        let mut conn = self.conn.clone();
        let deleted: i64 = self
            .delete_if_equal
            .key(&key)
            .arg(stored)
            .invoke_async(&mut conn)
            .await
            .map_err(FleetError::redis("deleting a sealed value"))?;
        Ok(deleted == 1)
    }

    /// Takes the refresh lock of `name` for at most `ttl` (at least 1 ms), or `None` while another
    /// holder has it. Release it with [`LockGuard::release`]; a guard dropped unreleased is
    /// released in the background, and a crashed holder's lock expires after `ttl`.
    pub async fn try_lock(&self, name: &str, ttl: Duration) -> Result<Option<LockGuard>> {
        let ttl_ms = positive_millis(ttl, "the time to live of a lock")?;
        let key = self.keys.lock(&self.keyring.id(name)?);
        let token: String = rand::random::<[u8; 16]>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut conn = self.conn.clone();
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms)
            .query_async(&mut conn)
            .await
            .map_err(FleetError::redis("taking a refresh lock"))?;
        Ok(taken.map(|_| LockGuard {
            conn,
            key,
            token,
            unlock: self.delete_if_equal.clone(),
            released: false,
        }))
    }

    fn value_key(&self, name: &str) -> Result<String> {
        Ok(self.keys.sealed(&self.keyring.id(name)?))
    }

    async fn read(&self, key: &str) -> Result<Option<(Vec<u8>, i64)>> {
        let mut conn = self.conn.clone();
        self.get
            .key(key)
            .invoke_async(&mut conn)
            .await
            .map_err(FleetError::redis("reading a sealed value"))
    }
}

/// A held refresh lock. Release it with [`release`](Self::release); dropping it releases it in
/// the background (when a Tokio runtime is there), and it expires on its own after its ttl.
pub struct LockGuard {
    conn: ConnectionManager,
    key: String,
    token: String,
    unlock: Script,
    released: bool,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl LockGuard {
    /// Releases the lock if it is still ours; returns false when it had expired (and maybe been
    /// taken by another process, whose lock is left alone).
    pub async fn release(mut self) -> Result<bool> {
        self.released = true;
        let mut conn = self.conn.clone();
        let deleted: i64 = self
            .unlock
            .key(&self.key)
            .arg(&self.token)
            .invoke_async(&mut conn)
            .await
            .map_err(FleetError::redis("releasing a refresh lock"))?;
        Ok(deleted == 1)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime: the lock expires after its ttl
        };
        let mut conn = self.conn.clone();
        let key = std::mem::take(&mut self.key);
        let token = std::mem::take(&mut self.token);
        let unlock = self.unlock.clone();
        runtime.spawn(async move {
            let released: redis::RedisResult<i64> =
                unlock.key(&key).arg(&token).invoke_async(&mut conn).await;
            if let Err(e) = released {
                tracing::debug!(error = %e, "could not release a dropped refresh lock; it expires on its own");
            }
        });
    }
}

fn positive_millis(ttl: Duration, what: &str) -> Result<u64> {
    match u64::try_from(ttl.as_millis()) {
        Ok(0) => Err(FleetError::Config(format!("{what} must be at least 1 ms"))),
        Ok(ms) => Ok(ms),
        Err(_) => Err(FleetError::Config(format!("{what} is too long"))),
    }
}
