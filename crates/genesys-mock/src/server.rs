//! Starting a look-alike, the state its handlers share, and the layers every request passes through.
//!
//! Two layers wrap the routes:
//! - the *correlation* layer (every route): gives each response an `ININ-Correlation-ID` and writes pending
//!   `ErrorBody`s with that id as `contextId`;
//! - the *gate* (only `/api/v2/…`): bearer token, rate limit or forced 429, latency, dropped connection,
//!   injected 5xx, then the endpoint; it adds the `inin-ratelimit-*` headers and records the stats.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Faults, MockConfig};
use crate::conn::{ConnCtx, KillableListener};
use crate::error::{ApiError, MockError, PendingErrorBody};
use crate::limiter::{Early, Limiter};
use crate::seed::mix;
use crate::stats::{Outcome, Recorder, Stats};
use crate::store::{AdminUserView, Store};
use crate::tokens::{TokenCheck, Tokens};
use crate::{admin, api, oauth};

/// Name of the correlation header (Genesys sends it on every response).
pub const CORRELATION_HEADER: &str = "ININ-Correlation-ID";

/// Faults in force, with the moment a forced-429 period ends.
#[derive(Debug, Default)]
pub(crate) struct ActiveFaults {
    pub faults: Faults,
    pub forced_until: Option<Instant>,
}

/// State shared by every handler.
pub(crate) struct App {
    pub client_id: Arc<str>,
    pub client_secret: SecretString,
    pub token_ttl: Duration,
    pub authority: String,
    pub user_count: usize,
    pub seed: u64,
    pub store: RwLock<Store>,
    pub tokens: RwLock<Tokens>,
    pub limiter: Mutex<Limiter>,
    pub faults: RwLock<Arc<ActiveFaults>>,
    pub stats: Mutex<Recorder>,
    dice: AtomicU64,
}

impl App {
    fn new(config: MockConfig) -> Self {
        let faults = activate(config.faults, Instant::now());
        App {
            client_id: Arc::from(config.client_id.as_str()),
            client_secret: config.client_secret,
            token_ttl: config.token_ttl,
            store: RwLock::new(Store::seeded(
                config.users,
                config.seed,
                &config.external_id_authority,
            )),
            authority: config.external_id_authority,
            user_count: config.users,
            seed: config.seed,
            tokens: RwLock::new(Tokens::default()),
            limiter: Mutex::new(Limiter::new(config.rate_limit, config.window)),
            faults: RwLock::new(Arc::new(faults)),
            stats: Mutex::new(Recorder::new()),
            dice: AtomicU64::new(0),
        }
    }

    pub fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn store_mut(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn stats(&self) -> MutexGuard<'_, Recorder> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn limiter(&self) -> MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn tokens(&self) -> RwLockReadGuard<'_, Tokens> {
        self.tokens.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn tokens_mut(&self) -> RwLockWriteGuard<'_, Tokens> {
        self.tokens.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn active_faults(&self) -> Arc<ActiveFaults> {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_faults(&self, faults: Faults) -> Result<(), MockError> {
        faults.validate()?;
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) =
            Arc::new(activate(faults, Instant::now()));
        Ok(())
    }

    pub fn set_rate_limit(&self, limit: u32, window: Duration) -> Result<(), MockError> {
        if window.is_zero() {
            return Err(MockError::InvalidConfig(
                "the rate-limit window must be longer than zero".into(),
            ));
        }
        self.limiter().set(limit, window);
        Ok(())
    }

    /// A uniform draw in [0, 1), deterministic for a given seed and request order.
    pub fn draw(&self) -> f64 {
        let n = self.dice.fetch_add(1, Ordering::Relaxed);
        (mix(self.seed ^ mix(n)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `rate`.
    pub fn roll(&self, rate: f64) -> bool {
        rate > 0.0 && (rate >= 1.0 || self.draw() < rate)
    }

    pub fn admin_users(&self) -> Vec<serde_json::Value> {
        let store = self.store();
        store
            .users
            .iter()
            .filter_map(|u| serde_json::to_value(AdminUserView(u)).ok())
            .collect()
    }

    pub fn admin_user(&self, id: &str) -> Option<serde_json::Value> {
        let store = self.store();
        store
            .get(id)
            .and_then(|u| serde_json::to_value(AdminUserView(u)).ok())
    }

    /// Simulates a concurrent edit: the user's version goes up by one.
    pub fn bump_version(&self, id: &str) -> Option<u64> {
        let mut store = self.store_mut();
        let user = store.get_mut(id)?;
        user.version += 1;
        Some(user.version)
    }
}

fn activate(faults: Faults, now: Instant) -> ActiveFaults {
    let forced_until = faults
        .force_429
        .map(|f| now + Duration::from_secs(f.for_secs));
    ActiveFaults {
        faults,
        forced_until,
    }
}

/// A running look-alike. Dropping it stops the server (without waiting); [`MockHandle::shutdown`] waits.
pub struct MockHandle {
    addr: SocketAddr,
    app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for MockHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl MockHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`: the base of both the API (`GENESYS_API_URL`) and the token endpoint
    /// (`GENESYS_LOGIN_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the faults in force (a forced-429 period starts now).
    pub fn set_faults(&self, faults: Faults) -> Result<(), MockError> {
        self.app.set_faults(faults)
    }

    /// The faults last set.
    pub fn faults(&self) -> Faults {
        self.app.active_faults().faults.clone()
    }

    /// Changes the per-client budget; `limit` 0 means unlimited. Every client starts a fresh window.
    pub fn set_rate_limit(&self, limit: u32, window: Duration) -> Result<(), MockError> {
        self.app.set_rate_limit(limit, window)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.app.stats().snapshot()
    }

    /// Starts the counters over.
    pub fn reset_stats(&self) {
        self.app.stats().reset();
    }

    /// Every user's current state as the API's `User` JSON, with `skills`, `languages` and `externalIds`.
    pub fn users(&self) -> Vec<serde_json::Value> {
        self.app.admin_users()
    }

    /// One user's current state (as in [`MockHandle::users`]), if it exists.
    pub fn user(&self, id: &str) -> Option<serde_json::Value> {
        self.app.admin_user(id)
    }

    /// Raises a user's version as a concurrent edit would; returns the new version.
    pub fn bump_version(&self, id: &str) -> Option<u64> {
        self.app.bump_version(id)
    }

    /// Invalidates every issued token, so the next API call with one gets 401 `bad.credentials`.
    pub fn revoke_tokens(&self) {
        self.app.tokens_mut().revoke_all();
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server to end.
    pub async fn shutdown(mut self) -> Result<(), MockError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(|source| MockError::Serve {
                    addr: self.addr,
                    source,
                }),
                Err(join) => Err(MockError::Serve {
                    addr: self.addr,
                    source: std::io::Error::other(join),
                }),
            },
            None => Ok(()),
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds `127.0.0.1:0` and serves `config` in a background task.
///
/// Must be called within a Tokio runtime.
pub async fn spawn(config: MockConfig) -> Result<MockHandle, MockError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|source| MockError::Bind {
            addr: "127.0.0.1:0".into(),
            source,
        })?;
    serve(listener, config)
}

/// Serves `config` on an already bound listener in a background task.
///
/// Must be called within a Tokio runtime.
pub fn serve(listener: TcpListener, config: MockConfig) -> Result<MockHandle, MockError> {
    config.validate()?;
    let addr = listener.local_addr().map_err(|source| MockError::Bind {
        addr: "listener".into(),
        source,
    })?;
    let app = Arc::new(App::new(config));
    let router = router(app.clone()).into_make_service_with_connect_info::<ConnCtx>();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(KillableListener(listener), router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });
    Ok(MockHandle {
        addr,
        app,
        stop: Some(stop),
        task: Some(task),
    })
}

fn router(app: Arc<App>) -> Router {
    let api = api::routes()
        .route_layer(middleware::from_fn_with_state(app.clone(), gate))
        .fallback(api_fallback);
    Router::new()
        .nest("/api/v2", api)
        .merge(oauth::routes())
        .nest("/__mock", admin::routes())
        .with_state(app)
        .layer(middleware::from_fn(correlate))
}

async fn api_fallback() -> ApiError {
    ApiError::not_found()
}

/// A new correlation id, shaped like the real ones (a UUID).
fn correlation_id() -> String {
    let v: u128 = rand::random();
    let v = (v & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default()
    )
}

/// Gives every response an `ININ-Correlation-ID` and writes pending ErrorBodies with it as `contextId`.
async fn correlate(request: Request, next: Next) -> Response {
    let id = correlation_id();
    let mut response = next.run(request).await;
    if let Some(PendingErrorBody(mut body)) = response.extensions_mut().remove::<PendingErrorBody>()
    {
        body.context_id.clone_from(&id);
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        *response.body_mut() = Body::from(bytes);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    response
}

/// The bearer token of a request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Authentication, budget and faults in front of every `/api/v2` route.
async fn gate(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let now = Instant::now();
    let write = matches!(*request.method(), Method::PATCH | Method::PUT);
    let route = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or("unmatched")
    );
    let conn = request
        .extensions()
        .get::<ConnectInfo<ConnCtx>>()
        .map(|c| c.0.clone());

    let client = match bearer(request.headers()) {
        None => Err(ApiError::authentication_required()),
        Some(token) => match app.tokens().check(token, now) {
            TokenCheck::Valid(client) => Ok(client),
            TokenCheck::Invalid => Err(ApiError::bad_credentials()),
        },
    };
    let client = match client {
        Ok(client) => client,
        Err(err) => {
            app.stats()
                .api_request(&route, write, Early::default(), Outcome::Status(401));
            return err.into_response();
        }
    };

    let active = app.active_faults();
    let forced = match (active.faults.force_429, active.forced_until) {
        (Some(force), Some(until)) if now < until => Some(force.retry_after_secs),
        _ => None,
    };
    let (admission, limit, window_secs) = {
        let mut limiter = app.limiter();
        (
            limiter.admit(&client, now, forced),
            limiter.limit(),
            limiter.window_secs(),
        )
    };

    let mut response = if let Some(retry_after) = admission.throttled {
        ApiError::too_many_requests(limit, window_secs, retry_after).into_response()
    } else {
        let faults = &active.faults;
        if faults.latency_ms > 0 || faults.latency_jitter_ms > 0 {
            let jitter = (app.draw() * (faults.latency_jitter_ms as f64 + 1.0)) as u64;
            tokio::time::sleep(Duration::from_millis(
                faults.latency_ms + jitter.min(faults.latency_jitter_ms),
            ))
            .await;
        }
        if let Some(conn) = conn.filter(|_| app.roll(faults.drop_rate)) {
            conn.kill();
            app.stats()
                .api_request(&route, write, admission.early, Outcome::Dropped);
            return ApiError::server_error(503).into_response();
        }
        if app.roll(faults.error_rate) {
            app.stats().injected_error();
            ApiError::server_error(faults.error_status.unwrap_or(503)).into_response()
        } else {
            next.run(request).await
        }
    };

    if let Some(rate) = admission.headers {
        let headers = response.headers_mut();
        headers.insert("inin-ratelimit-count", rate.count.into());
        headers.insert("inin-ratelimit-allowed", rate.allowed.into());
        headers.insert("inin-ratelimit-reset", rate.reset_secs.into());
    }
    app.stats().api_request(
        &route,
        write,
        admission.early,
        Outcome::Status(response.status().as_u16()),
    );
    response
}
