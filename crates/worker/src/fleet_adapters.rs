//! Where the Genesys client meets the fleet: the client's [`RequestGate`] on the fleet-wide
//! [`RequestBudget`], and its [`TokenStore`] on the encrypted [`SealedCache`].
//!
//! The client knows nothing of Redis and the fleet crate knows nothing of Genesys; these two small adapters are
//! the only code that knows both.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use gcbulk_fleet::{LockGuard, Observation, RequestBudget, SealedCache, Turn};
use genesys::{
    AccessToken, GateDecision, RefreshLease, RefreshPermit, RequestGate, RequestInfo, ResponseMeta,
    TokenStore, TokenStoreError, async_trait,
};

use crate::metrics;

/// How long to hold requests when the budget itself cannot be asked (Redis unreachable): sending without a
/// budget could trip the org's limit for every integration sharing it, so the work is rescheduled instead.
const BUDGET_UNAVAILABLE_PAUSE: Duration = Duration::from_secs(1);

/// A [`RequestGate`] that spends one fleet-wide budget per OAuth client and tells the fleet about 429s.
pub struct FleetGate {
    budget: RequestBudget,
    client_id: String,
    /// The newest rate-limit headers, folded into the next `acquire` (no extra round trip).
    pending: Mutex<Option<Observation>>,
    /// When each request was let through, for the latency histogram (keyed by path; good enough for a
    /// histogram even when two requests share a path).
    started: Mutex<std::collections::HashMap<String, Instant>>,
}

impl FleetGate {
    /// A gate for `client_id` on `budget`.
    pub fn new(budget: RequestBudget, client_id: impl Into<String>) -> Self {
        Self {
            budget,
            client_id: client_id.into(),
            pending: Mutex::new(None),
            started: Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn mark_start(&self, request: &RequestInfo) {
        if let Ok(mut started) = self.started.lock() {
            started.insert(request.path.clone(), Instant::now());
        }
    }
}

#[async_trait]
impl RequestGate for FleetGate {
    async fn before_request(&self, request: &RequestInfo) -> GateDecision {
        if let Some(observation) = self.pending.lock().ok().and_then(|mut p| p.take())
            && let Err(err) = self.budget.observe(&self.client_id, observation).await
        {
            tracing::debug!(error = %err, "could not record rate-limit headers");
        }
        // `wait_turn` sleeps for this process' reserved slot itself and re-checks for a cooldown learnt meanwhile,
        // so a 429 seen by one task stops its siblings' sends too.
        match self.budget.wait_turn(&self.client_id).await {
            Ok(Turn::Go) => {
                self.mark_start(request);
                GateDecision::Go
            }
            Ok(Turn::CoolingDown { until }) => {
                let left = until.saturating_duration_since(Instant::now());
                GateDecision::ThrottledUntil(SystemTime::now() + left)
            }
            Err(err) => {
                tracing::warn!(error = %err, "the fleet request budget is unavailable; holding requests");
                GateDecision::ThrottledUntil(SystemTime::now() + BUDGET_UNAVAILABLE_PAUSE)
            }
        }
    }

    async fn after_response(&self, request: &RequestInfo, meta: &ResponseMeta) {
        let latency = self
            .started
            .lock()
            .ok()
            .and_then(|mut started| started.remove(&request.path))
            .map(|t| t.elapsed())
            .unwrap_or_default();
        metrics::api_request(
            format!("{} {}", request.method, request.endpoint),
            meta.status,
            latency,
        );
        let observation = Observation {
            allowed: meta.rate_limit.allowed.and_then(|v| u32::try_from(v).ok()),
            count: meta.rate_limit.count.and_then(|v| u32::try_from(v).ok()),
            reset: meta.rate_limit.reset.map(window_end_estimate),
            window: None,
        };
        if meta.status == 429 {
            // The whole fleet holds this client's requests until Retry-After has passed (3 s when absent, as
            // Genesys' own SDKs do).
            let retry_after = meta.retry_after.unwrap_or(Duration::from_secs(3));
            tracing::info!(retry_after_ms = retry_after.as_millis() as u64, correlation_id = ?meta.correlation_id,
                "429 from the API; the fleet cools down");
            if let Err(err) = self.budget.set_cooldown(&self.client_id, retry_after).await {
                tracing::warn!(error = %err, "could not share the 429 cooldown with the fleet");
            }
        }
        if observation.is_empty() {
            return;
        }
        if let Err(err) = self.budget.observe(&self.client_id, observation).await {
            tracing::debug!(error = %err, "could not record rate-limit headers");
            if let Ok(mut pending) = self.pending.lock() {
                *pending = Some(observation);
            }
        }
    }
}

/// `inin-ratelimit-reset` counts whole seconds, rounded up, so `1` only says "the window ends within the next
/// second". A fleet paced just under the limit fills a window only at its very end, so a spent window with a reset
/// of 1 almost always ends within one request spacing; waiting the whole second would idle the fleet for nearly a
/// window at every such boundary (measured: utilisation 0.5 at 50 per 1-second window). Wait a moment instead —
/// should the window not have ended yet, the 429 that answers carries the exact `Retry-After` and the fleet cools
/// down for it. Longer resets are taken as they are: a window spent seconds before its end means someone else is
/// spending the budget too.
fn window_end_estimate(reset: Duration) -> Duration {
    const WITHIN_THE_SECOND: Duration = Duration::from_millis(50);
    if reset <= Duration::from_secs(1) {
        reset.min(WITHIN_THE_SECOND)
    } else {
        reset
    }
}

/// A [`TokenStore`] shared by the fleet: one access token per OAuth client, encrypted in Redis under a key
/// derived from the client secret, refreshed by one process under a lock while the others wait.
pub struct FleetTokenStore {
    cache: SealedCache,
    name: String,
    lock_name: String,
    /// The token this process last loaded or saved: every API request needs one, and asking Redis (and decrypting)
    /// each time would double the Redis round trips per request. Redis is asked again when it is due for refresh
    /// or after a 401 discarded it.
    local: Mutex<Option<AccessToken>>,
}

impl FleetTokenStore {
    /// The store of `client_id`'s token in `cache`.
    pub fn new(cache: SealedCache, client_id: &str) -> Self {
        Self {
            cache,
            name: format!("token:{client_id}"),
            lock_name: format!("token-refresh:{client_id}"),
            local: Mutex::new(None),
        }
    }
}

fn store_error(what: &'static str) -> impl FnOnce(gcbulk_fleet::FleetError) -> TokenStoreError {
    move |err| TokenStoreError::with_source(what, err)
}

struct FleetLease(LockGuard);

#[async_trait]
impl RefreshLease for FleetLease {
    async fn release(self: Box<Self>) {
        if let Err(err) = self.0.release().await {
            tracing::debug!(error = %err, "token refresh lock not released; it expires on its own");
        }
    }
}

#[async_trait]
impl TokenStore for FleetTokenStore {
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError> {
        if let Some(token) = self
            .local
            .lock()
            .ok()
            .and_then(|t| t.clone())
            .filter(AccessToken::is_fresh)
        {
            return Ok(Some(token));
        }
        let Some((token, ttl)) = self
            .cache
            .get(&self.name)
            .await
            .map_err(store_error("reading the shared token"))?
        else {
            return Ok(None);
        };
        // The entry lives exactly until the token is due for refresh.
        let refresh_at = SystemTime::now() + ttl;
        let token = Some(AccessToken::from_parts(token, refresh_at, refresh_at))
            .filter(AccessToken::is_fresh);
        if let Ok(mut local) = self.local.lock() {
            local.clone_from(&token);
        }
        Ok(token)
    }

    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError> {
        if let Ok(mut local) = self.local.lock() {
            *local = Some(token.clone());
        }
        let Ok(ttl) = token.refresh_at().duration_since(SystemTime::now()) else {
            return Ok(());
        };
        if ttl.is_zero() {
            return Ok(());
        }
        self.cache
            .put(&self.name, token.secret(), ttl)
            .await
            .map_err(store_error("saving the shared token"))
    }

    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError> {
        if let Ok(mut local) = self.local.lock()
            && local.as_ref().is_some_and(|t| t.same_token(stale))
        {
            *local = None;
        }
        self.cache
            .delete_if_equal(&self.name, stale.secret())
            .await
            .map(|_| ())
            .map_err(store_error("discarding the shared token"))
    }

    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError> {
        let lock = self
            .cache
            .try_lock(&self.lock_name, Duration::from_secs(30))
            .await
            .map_err(store_error("taking the token refresh lock"))?;
        Ok(lock.map(|guard| RefreshPermit::new(FleetLease(guard))))
    }
}

/// Shared handles for the adapters.
pub type SharedGate = Arc<FleetGate>;
