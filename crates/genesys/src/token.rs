//! Access tokens and where they are kept between requests.
//!
//! The token endpoint is itself rate limited (300 client-credentials grants per minute per OAuth client by
//! default), so a token is fetched once and reused until shortly before it expires. Where it is kept is a
//! [`TokenStore`]: [`MemoryTokenStore`] for one process; a fleet of workers plugs in a shared store (Redis,
//! encrypted) so that one process refreshes while the others wait for the result.
//!
//! The refresh protocol the client follows with any store:
//!
//! 1. [`TokenStore::load`] — a token that is not yet due for refresh is used as-is.
//! 2. Otherwise [`TokenStore::try_begin_refresh`]. `Some(permit)`: load once more (another holder may have just
//!    saved one), else fetch a token, [`TokenStore::save`] it, and [`RefreshPermit::release`] the permit.
//!    `None`: somebody else is refreshing; sleep briefly and go back to 1. If nobody has saved a token after a
//!    while (the holder died), the client fetches one itself.
//! 3. When the API answers 401 to a token, [`TokenStore::discard`] it (only if it is still the stored one) and go
//!    back to 1, once.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

/// The longest a token is refreshed ahead of its expiry.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The longest lifetime believed from a token response; a larger `expires_in` is treated as this.
pub const MAX_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// A bearer token and when it stops being usable.
///
/// `Debug` shows the expiry, never the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    expires_at: SystemTime,
    refresh_at: SystemTime,
}

impl AccessToken {
    /// A token issued at `issued_at` that lives `lifetime`; it becomes due for refresh
    /// `min(60 s, lifetime / 10)` before it expires, so that no request carries a token about to lapse.
    ///
    /// Lifetimes beyond [`MAX_LIFETIME`] are shortened to it (Genesys issues at most 48 h).
    pub fn issued(secret: SecretString, issued_at: SystemTime, lifetime: Duration) -> Self {
        let lifetime = lifetime.min(MAX_LIFETIME);
        let margin = MAX_REFRESH_MARGIN.min(lifetime / 10);
        let expires_at = issued_at.checked_add(lifetime).unwrap_or(issued_at);
        let refresh_at = expires_at.checked_sub(margin).unwrap_or(expires_at);
        Self {
            secret,
            expires_at,
            refresh_at,
        }
    }

    /// Rebuilds a token from its parts (e.g. read back from a shared store).
    /// `refresh_at` is clamped so it is never after `expires_at`.
    pub fn from_parts(
        secret: SecretString,
        expires_at: SystemTime,
        refresh_at: SystemTime,
    ) -> Self {
        Self {
            secret,
            expires_at,
            refresh_at: refresh_at.min(expires_at),
        }
    }

    /// The token itself. Put it in an `Authorization` header or encrypt it; never log it.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// When the token should be replaced (shortly before [`expires_at`](Self::expires_at)).
    pub fn refresh_at(&self) -> SystemTime {
        self.refresh_at
    }

    /// True when the token may still be used at `now` (it is not yet due for refresh).
    pub fn is_fresh_at(&self, now: SystemTime) -> bool {
        now < self.refresh_at
    }

    /// True when the token may still be used now.
    pub fn is_fresh(&self) -> bool {
        self.is_fresh_at(SystemTime::now())
    }

    /// True when both hold the same token string (a store uses this to discard only the stale token).
    pub fn same_token(&self, other: &AccessToken) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[REDACTED]")
            .field("expires_at", &httpdate::fmt_http_date(self.expires_at))
            .field("refresh_at", &httpdate::fmt_http_date(self.refresh_at))
            .finish()
    }
}

/// A token store failed (e.g. its Redis is unreachable). The message must not contain a token.
#[derive(Debug, thiserror::Error)]
#[error("token store: {message}")]
pub struct TokenStoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TokenStoreError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and its cause.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// The right to refresh the shared token, held by one caller at a time.
///
/// Release it with [`RefreshPermit::release`] once the new token is saved (or the fetch failed). A permit that
/// is merely dropped must also free the right eventually (a shared store gives its lock a TTL).
pub struct RefreshPermit {
    lease: Box<dyn RefreshLease>,
}

impl RefreshPermit {
    /// Wraps a store-specific lease.
    pub fn new(lease: impl RefreshLease + 'static) -> Self {
        Self {
            lease: Box::new(lease),
        }
    }

    /// Gives the right to refresh back.
    pub async fn release(self) {
        self.lease.release().await;
    }
}

impl fmt::Debug for RefreshPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshPermit")
    }
}

/// A store-specific hold on the right to refresh (a semaphore permit, a Redis lock, …).
#[async_trait]
pub trait RefreshLease: Send + Sync {
    /// Frees the right to refresh. Must not fail loudly: a lock that cannot be released expires on its own.
    async fn release(self: Box<Self>);
}

/// Where the client keeps its access token between requests; shared by every clone of a client.
///
/// Implement it on a shared store to let many processes use one token. Implementations must never log the
/// token or put it in an error.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored token, if one is stored and still fresh ([`AccessToken::is_fresh`]).
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError>;

    /// Stores a freshly fetched token, replacing any other.
    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError>;

    /// The API rejected `stale` with a 401: forget it, but only if it is still the stored token (another caller
    /// may already have replaced it with a fresh one).
    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError>;

    /// Asks for the right to fetch a new token. `Some` — fetch it (after one more [`load`](Self::load)) and
    /// release the permit; `None` — another caller is refreshing: poll `load`. A store may also wait here for
    /// the current holder and then return `Some`.
    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError>;
}

/// A [`TokenStore`] for one process: the token in memory, one refresh at a time (others wait for it).
#[derive(Debug, Clone)]
pub struct MemoryTokenStore {
    token: Arc<Mutex<Option<AccessToken>>>,
    refresh: Arc<Semaphore>,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            token: Arc::new(Mutex::new(None)),
            refresh: Arc::new(Semaphore::new(1)),
        }
    }
}

struct SemaphoreLease(#[allow(dead_code)] OwnedSemaphorePermit);

#[async_trait]
impl RefreshLease for SemaphoreLease {
    async fn release(self: Box<Self>) {
        // Dropping the permit frees the semaphore.
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError> {
        Ok(self
            .token
            .lock()
            .await
            .as_ref()
            .filter(|t| t.is_fresh())
            .cloned())
    }

    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError> {
        *self.token.lock().await = Some(token.clone());
        Ok(())
    }

    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError> {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| t.same_token(stale)) {
            *guard = None;
        }
        Ok(())
    }

    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError> {
        // In one process waiting is cheaper than polling: the next holder finds the saved token on its re-load.
        match Arc::clone(&self.refresh).acquire_owned().await {
            Ok(permit) => Ok(Some(RefreshPermit::new(SemaphoreLease(permit)))),
            Err(_) => Err(TokenStoreError::new("refresh semaphore closed")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn token(s: &str, lifetime: Duration) -> AccessToken {
        AccessToken::issued(
            SecretString::from(s.to_owned()),
            SystemTime::now(),
            lifetime,
        )
    }

    #[test]
    fn refresh_margin_is_the_smaller_of_60s_and_a_tenth() {
        let now = SystemTime::now();
        let day = AccessToken::issued(SecretString::from("a"), now, Duration::from_secs(86_400));
        assert_eq!(
            day.expires_at().duration_since(day.refresh_at()).unwrap(),
            Duration::from_secs(60)
        );
        let short = AccessToken::issued(SecretString::from("a"), now, Duration::from_secs(100));
        assert_eq!(
            short
                .expires_at()
                .duration_since(short.refresh_at())
                .unwrap(),
            Duration::from_secs(10)
        );
        assert!(short.is_fresh_at(now + Duration::from_secs(89)));
        assert!(!short.is_fresh_at(now + Duration::from_secs(90)));
    }

    #[test]
    fn debug_hides_the_token() {
        let t = token("super-secret-token-value", Duration::from_secs(60));
        let shown = format!("{t:?}");
        assert!(!shown.contains("super-secret-token-value"), "{shown}");
        assert!(shown.contains("REDACTED"));
    }

    #[tokio::test]
    async fn memory_store_keeps_fresh_tokens_and_discards_only_the_stale_one() {
        let store = MemoryTokenStore::new();
        assert!(store.load().await.unwrap().is_none());
        let old = token("old", Duration::from_secs(3600));
        let new = token("new", Duration::from_secs(3600));
        store.save(&old).await.unwrap();
        assert!(store.load().await.unwrap().unwrap().same_token(&old));
        store.save(&new).await.unwrap();
        // A late 401 for the old token must not throw away the new one.
        store.discard(&old).await.unwrap();
        assert!(store.load().await.unwrap().unwrap().same_token(&new));
        store.discard(&new).await.unwrap();
        assert!(store.load().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn memory_store_does_not_return_tokens_due_for_refresh() {
        let store = MemoryTokenStore::new();
        let expired = AccessToken::issued(
            SecretString::from("x"),
            SystemTime::now() - Duration::from_secs(7200),
            Duration::from_secs(3600),
        );
        store.save(&expired).await.unwrap();
        assert!(store.load().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn memory_store_grants_one_refresh_at_a_time() {
        let store = MemoryTokenStore::new();
        let first = store.try_begin_refresh().await.unwrap().unwrap();
        let store2 = store.clone();
        let waiter =
            tokio::spawn(async move { store2.try_begin_refresh().await.unwrap().is_some() });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        first.release().await;
        assert!(
            tokio::time::timeout(Duration::from_secs(30), waiter)
                .await
                .unwrap()
                .unwrap()
        );
    }
}
