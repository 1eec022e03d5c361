//! A hook in front of every API request, for request budgets shared beyond one process.
//!
//! The client asks the [`RequestGate`] before sending each API request (token requests are never gated) and
//! reports each response's [`ResponseMeta`] to it afterwards, so the gate can learn the server's view
//! (`inin-ratelimit-*`, 429 + `Retry-After`). The default, [`OpenGate`], lets everything through.
//!
//! ```
//! use std::time::Duration;
//! use genesys::{async_trait, GateDecision, RequestGate, RequestInfo, ResponseMeta};
//!
//! /// Spaces requests at least 200 ms apart in this process (a toy: the worker uses a fleet-wide budget).
//! struct Spacing(tokio::sync::Mutex<tokio::time::Instant>);
//!
//! #[async_trait]
//! impl RequestGate for Spacing {
//!     async fn before_request(&self, _request: &RequestInfo) -> GateDecision {
//!         let mut next = self.0.lock().await;
//!         let now = tokio::time::Instant::now();
//!         let wait = next.saturating_duration_since(now);
//!         *next = now.max(*next) + Duration::from_millis(200);
//!         if wait.is_zero() { GateDecision::Go } else { GateDecision::WaitThenGo(wait) }
//!     }
//!     async fn after_response(&self, _request: &RequestInfo, _meta: &ResponseMeta) {}
//! }
//! ```

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::meta::ResponseMeta;

/// The request about to be sent (or just answered). Contains no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// HTTP method, e.g. `PATCH`.
    pub method: &'static str,
    /// The endpoint's path template, e.g. `/api/v2/users/{userId}` (stable, for budgets per endpoint).
    pub endpoint: &'static str,
    /// The actual path, e.g. `/api/v2/users/5f2…` (no query string).
    pub path: String,
}

/// What the gate says about a request that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateDecision {
    /// Send it now.
    Go,
    /// Sleep this long, then send it.
    WaitThenGo(Duration),
    /// Do not send it: the client returns an [`ApiError`](crate::ApiError) of kind
    /// [`RateLimited`](crate::ErrorKind::RateLimited) with the time left until this instant, without sending,
    /// so the caller can reschedule the work instead of holding it.
    ThrottledUntil(SystemTime),
}

/// Consulted before every API request and told about every API response.
#[async_trait]
pub trait RequestGate: Send + Sync {
    /// Decide whether `request` may be sent now.
    async fn before_request(&self, request: &RequestInfo) -> GateDecision;

    /// A response to `request` arrived (any status, including 401 and 429). Not called when no response arrived
    /// (connection failures, timeouts).
    async fn after_response(&self, request: &RequestInfo, meta: &ResponseMeta);
}

/// The default gate: every request goes immediately.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenGate;

#[async_trait]
impl RequestGate for OpenGate {
    async fn before_request(&self, _request: &RequestInfo) -> GateDecision {
        GateDecision::Go
    }

    async fn after_response(&self, _request: &RequestInfo, _meta: &ResponseMeta) {}
}
