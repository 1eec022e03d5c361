//! One error type for every failed call, classified into what the caller should do about it.
//!
//! | response | [`ErrorKind`] | caller |
//! |---|---|---|
//! | 429, or the gate said "throttled" | `RateLimited { retry_after, exceeds_daily_limit }` | retry after `retry_after` (3 s when the server gave none); over 180 s is a daily limit: give up |
//! | 5xx except 501, 408, timeouts, refused/dropped connections, incomplete bodies | `Transient` | retry with backoff (3 s, 9 s, 27 s) |
//! | 409 | `Conflict` | re-read the user and apply the change again |
//! | 401 after one token refresh | `Auth` | stop: the OAuth client cannot use the API |
//! | other 4xx, 501, 3xx, an undecodable success body | `Permanent` | dead-letter the item |
//! | a call refused before sending (too many ids…) | `InvalidRequest` | a caller bug: split the call |
//! | token endpoint rejects the client id/secret | `InvalidCredentials` | stop: fix `GENESYS_CLIENT_ID`/`SECRET` |
//! | token endpoint unreachable (DNS, refused, timeout) | `LoginUnreachable` | retry later; at startup exit 69 |
//!
//! The error carries the HTTP status, the [`ErrorBody`], the correlation id, the rate-limit headers and the
//! method and path — never a token or the client secret (transport errors are reduced to their causes before
//! being stored, so no request or header can leak through them).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::meta::{RateLimitHeaders, ResponseMeta};

/// `Retry-After` assumed when a 429 carries none (Genesys' own SDK retry logic uses 3 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(3);

/// A `Retry-After` longer than this means a daily limit was hit: retrying today is pointless
/// (Genesys' SDK gives up beyond 180 s).
pub const DAILY_LIMIT_THRESHOLD: Duration = Duration::from_secs(180);

/// What the caller should do about a failed call. See the [module docs](self) for the full table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Too many requests: wait `retry_after`, then retry.
    RateLimited {
        /// How long to wait before the next request with this OAuth client.
        retry_after: Duration,
        /// `retry_after` is over 180 s: a daily limit; stop rather than wait.
        exceeds_daily_limit: bool,
    },
    /// The request may succeed if retried later (5xx, timeout, connection failure).
    Transient,
    /// 409: the resource changed since it was read; re-read it and re-apply the change.
    Conflict,
    /// 401 even with a freshly issued token.
    Auth,
    /// Retrying the same request will fail the same way.
    Permanent,
    /// The call was refused before sending because its arguments break an API limit.
    InvalidRequest,
    /// The token endpoint rejected the OAuth client id or secret.
    InvalidCredentials,
    /// The token endpoint could not be reached.
    LoginUnreachable,
}

impl ErrorKind {
    /// The kind for a rate-limit wait of `retry_after`.
    pub fn rate_limited(retry_after: Duration) -> Self {
        ErrorKind::RateLimited {
            retry_after,
            exceeds_daily_limit: retry_after > DAILY_LIMIT_THRESHOLD,
        }
    }

    /// True when retrying later may succeed (rate limits below the daily threshold, transient failures,
    /// an unreachable login service). Conflicts need a re-read first and are not counted here.
    pub fn is_retryable(&self) -> bool {
        match self {
            ErrorKind::RateLimited {
                exceeds_daily_limit,
                ..
            } => !exceeds_daily_limit,
            ErrorKind::Transient | ErrorKind::LoginUnreachable => true,
            ErrorKind::Conflict
            | ErrorKind::Auth
            | ErrorKind::Permanent
            | ErrorKind::InvalidRequest
            | ErrorKind::InvalidCredentials => false,
        }
    }

    /// The wait a rate limit asks for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ErrorKind::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Short stable name for logs and metrics (`rate_limited`, `transient`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Transient => "transient",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Auth => "auth",
            ErrorKind::Permanent => "permanent",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::InvalidCredentials => "invalid_credentials",
            ErrorKind::LoginUnreachable => "login_unreachable",
        }
    }
}

/// Classifies an HTTP status; `None` for success (2xx).
///
/// A 401 classifies as [`ErrorKind::Auth`]: the client has already refreshed its token once by the time it
/// reports one.
pub fn classify_status(status: u16, retry_after: Option<Duration>) -> Option<ErrorKind> {
    Some(match status {
        200..=299 => return None,
        429 => ErrorKind::rate_limited(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
        401 => ErrorKind::Auth,
        409 => ErrorKind::Conflict,
        // A request timeout says nothing about the request itself; the same request can succeed later.
        408 => ErrorKind::Transient,
        501 => ErrorKind::Permanent,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    })
}

/// The error body Genesys sends with failures (fields as in the current API; unknown ones ignored).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Stable error code, e.g. `missing.permissions`, `general.conflict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// HTTP status repeated in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Entity the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Entity name the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name: Option<String>,
    /// Message template with `{param}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_with_params: Option<String>,
    /// Values for the placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_params: Option<BTreeMap<String, serde_json::Value>>,
    /// Server-side correlation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// Per-field details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// Nested errors (e.g. one per invalid field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorBody>,
    /// The limit that was hit, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<serde_json::Value>,
}

/// One entry of [`ErrorBody::details`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Error code of this detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Field it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// Entity it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// Entity name it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name: Option<String>,
}

impl ErrorBody {
    /// The most specific message available: `message`, else the nested errors' messages.
    pub fn best_message(&self) -> Option<String> {
        if let Some(m) = self.message.as_deref().filter(|m| !m.trim().is_empty()) {
            return Some(m.to_owned());
        }
        let nested: Vec<String> = self
            .errors
            .iter()
            .filter_map(ErrorBody::best_message)
            .collect();
        (!nested.is_empty()).then(|| nested.join("; "))
    }
}

/// A failed call to Genesys Cloud (API or token endpoint), classified by [`ApiError::kind`].
///
/// `Display` is one actionable line: what failed, what Genesys said, the correlation id, what to do.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.render())]
pub struct ApiError(Box<ErrorData>);

/// Boxed so that `Result<_, ApiError>` stays one pointer wide.
#[derive(Debug, Clone)]
struct ErrorData {
    kind: ErrorKind,
    method: &'static str,
    endpoint: &'static str,
    path: String,
    meta: Option<ResponseMeta>,
    body: Option<ErrorBody>,
    detail: Option<String>,
    hint: Option<String>,
}

impl ApiError {
    pub(crate) fn new(
        kind: ErrorKind,
        method: &'static str,
        endpoint: &'static str,
        path: impl Into<String>,
    ) -> Self {
        Self(Box::new(ErrorData {
            kind,
            method,
            endpoint,
            path: path.into(),
            meta: None,
            body: None,
            detail: None,
            hint: None,
        }))
    }

    pub(crate) fn with_meta(mut self, meta: ResponseMeta) -> Self {
        self.0.meta = Some(meta);
        self
    }

    pub(crate) fn with_body(mut self, body: Option<ErrorBody>) -> Self {
        self.0.body = body;
        self
    }

    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }

    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.0.meta.as_ref().map(|m| m.status)
    }

    /// The error body Genesys sent, when it sent a readable one.
    pub fn body(&self) -> Option<&ErrorBody> {
        self.0.body.as_ref()
    }

    /// `body.code`, e.g. `missing.permissions`.
    pub fn code(&self) -> Option<&str> {
        self.0.body.as_ref().and_then(|b| b.code.as_deref())
    }

    /// The most useful message: Genesys' message, else a description of what went wrong locally.
    pub fn message(&self) -> String {
        self.0
            .body
            .as_ref()
            .and_then(ErrorBody::best_message)
            .or_else(|| self.0.detail.clone())
            .unwrap_or_else(|| self.0.kind.as_str().replace('_', " "))
    }

    /// Correlation id: the `ININ-Correlation-ID` header, else the body's `contextId`.
    pub fn correlation_id(&self) -> Option<&str> {
        self.0
            .meta
            .as_ref()
            .and_then(|m| m.correlation_id.as_deref())
            .or_else(|| self.0.body.as_ref().and_then(|b| b.context_id.as_deref()))
    }

    /// The response metadata, when a response arrived.
    pub fn meta(&self) -> Option<&ResponseMeta> {
        self.0.meta.as_ref()
    }

    /// Rate-limit headers of the response (empty when none arrived).
    pub fn rate_limit(&self) -> RateLimitHeaders {
        self.0
            .meta
            .as_ref()
            .map(|m| m.rate_limit)
            .unwrap_or_default()
    }

    /// `Retry-After` as sent by the server (see [`ErrorKind::retry_after`] for the wait to honour).
    pub fn server_retry_after(&self) -> Option<Duration> {
        self.0.meta.as_ref().and_then(|m| m.retry_after)
    }

    /// HTTP method of the failed call.
    pub fn method(&self) -> &'static str {
        self.0.method
    }

    /// Path of the failed call, without query string.
    pub fn path(&self) -> &str {
        &self.0.path
    }

    /// Path template of the failed call, e.g. `/api/v2/users/{userId}`.
    pub fn endpoint(&self) -> &'static str {
        self.0.endpoint
    }

    /// True when the request reached the server (false for gate throttling, refused arguments and connection
    /// failures before a response).
    pub fn response_received(&self) -> bool {
        self.0.meta.is_some()
    }

    /// What to do about it, in words.
    pub fn hint(&self) -> String {
        if let Some(hint) = &self.0.hint {
            return hint.clone();
        }
        match self.0.kind {
            ErrorKind::RateLimited { retry_after, exceeds_daily_limit: true } => format!(
                "retry after {} s: that is beyond {} s, so a daily limit is exhausted; stop and resume tomorrow or ask Genesys support to raise it",
                retry_after.as_secs(),
                DAILY_LIMIT_THRESHOLD.as_secs()
            ),
            ErrorKind::RateLimited { retry_after, .. } => {
                format!("retry after {:.1} s; lower --rate-limit if this keeps happening", retry_after.as_secs_f64())
            }
            ErrorKind::Transient => "Genesys or the network failed temporarily: retry later with backoff".to_owned(),
            ErrorKind::Conflict => "the resource changed since it was read: re-read it and apply the change again".to_owned(),
            ErrorKind::Auth => "the API rejected a freshly issued token: check that the OAuth client is active and uses the client-credentials grant".to_owned(),
            ErrorKind::InvalidRequest => "split the call into smaller ones".to_owned(),
            ErrorKind::InvalidCredentials => "check GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET (and that the OAuth client uses the client-credentials grant)".to_owned(),
            ErrorKind::LoginUnreachable => "check GENESYS_REGION / GENESYS_LOGIN_URL and network access to the login host".to_owned(),
            ErrorKind::Permanent => match self.status() {
                Some(403) => "grant the OAuth client's role the permissions this call needs".to_owned(),
                Some(404) => "check the id or key: the user or object does not exist (or was deleted)".to_owned(),
                Some(400) => "fix the rejected value; the same request will fail again".to_owned(),
                Some(300..=399) => "check GENESYS_API_URL: the API does not redirect".to_owned(),
                _ => "this will fail again as sent; report it with the correlation id".to_owned(),
            },
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        match (&self.0.meta, self.0.kind) {
            (None, ErrorKind::LoginUnreachable) => {
                out.push_str("cannot reach the Genesys login service");
                if let Some(detail) = &self.0.detail {
                    out.push_str(": ");
                    out.push_str(detail);
                }
            }
            (None, _) => {
                out.push_str(&format!("{} {}", self.0.method, self.0.path));
                match self.0.kind {
                    ErrorKind::RateLimited { .. } | ErrorKind::InvalidRequest => {
                        out.push_str(" not sent")
                    }
                    _ => out.push_str(" failed"),
                }
                if let Some(detail) = &self.0.detail {
                    out.push_str(": ");
                    out.push_str(detail);
                }
            }
            (Some(meta), kind) => {
                if kind == ErrorKind::InvalidCredentials {
                    out.push_str(
                        "the Genesys login service rejected the OAuth client credentials: ",
                    );
                }
                out.push_str(&meta.status.to_string());
                if let Some(code) = self.code() {
                    out.push(' ');
                    out.push_str(code);
                }
                out.push_str(&format!(
                    " on {} {}: {}",
                    self.0.method,
                    self.0.path,
                    self.message()
                ));
            }
        }
        if let Some(id) = self.correlation_id() {
            out.push_str(&format!(" (correlation id {id})"));
        }
        out.push_str(": ");
        out.push_str(&self.hint());
        out
    }
}

/// Formats an instant for messages (`Retry-After`-style HTTP date).
pub(crate) fn fmt_instant(at: SystemTime) -> String {
    httpdate::fmt_http_date(at)
}

/// A one-line description of a transport failure, built from the error's causes without the request URL.
pub(crate) fn describe_transport(err: reqwest::Error, timeout: Duration) -> (bool, String) {
    let timed_out = err.is_timeout();
    let connect = err.is_connect();
    let err = err.without_url();
    let mut parts: Vec<String> = Vec::new();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p == &text) {
            parts.push(text);
        }
        cause = e.source();
    }
    let what = parts.join(": ");
    let summary = if timed_out {
        format!("timed out (limit {} s): {what}", timeout.as_secs_f64())
    } else if connect {
        format!("could not connect: {what}")
    } else if err.is_body() || err.is_decode() {
        format!("the connection broke while reading the response: {what}")
    } else {
        what
    };
    (connect || timed_out, summary)
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn statuses_classify_into_what_to_do() {
        assert_eq!(classify_status(200, None), None);
        assert_eq!(classify_status(204, None), None);
        assert_eq!(
            classify_status(429, Some(Duration::from_secs(10))),
            Some(ErrorKind::RateLimited {
                retry_after: Duration::from_secs(10),
                exceeds_daily_limit: false
            })
        );
        assert_eq!(
            classify_status(429, None),
            Some(ErrorKind::RateLimited {
                retry_after: DEFAULT_RETRY_AFTER,
                exceeds_daily_limit: false
            })
        );
        assert_eq!(
            classify_status(429, Some(Duration::from_secs(181))),
            Some(ErrorKind::RateLimited {
                retry_after: Duration::from_secs(181),
                exceeds_daily_limit: true
            })
        );
        assert_eq!(
            classify_status(429, Some(Duration::from_secs(180))).map(|k| k.is_retryable()),
            Some(true)
        );
        for s in [500, 502, 503, 504, 599, 408] {
            assert_eq!(classify_status(s, None), Some(ErrorKind::Transient), "{s}");
        }
        assert_eq!(classify_status(501, None), Some(ErrorKind::Permanent));
        assert_eq!(classify_status(409, None), Some(ErrorKind::Conflict));
        assert_eq!(classify_status(401, None), Some(ErrorKind::Auth));
        for s in [400, 403, 404, 405, 410, 413, 415, 422, 302, 304, 101] {
            assert_eq!(classify_status(s, None), Some(ErrorKind::Permanent), "{s}");
        }
    }

    #[test]
    fn retryability() {
        assert!(ErrorKind::Transient.is_retryable());
        assert!(ErrorKind::LoginUnreachable.is_retryable());
        assert!(ErrorKind::rate_limited(Duration::from_secs(3)).is_retryable());
        assert!(!ErrorKind::rate_limited(Duration::from_secs(3600)).is_retryable());
        for k in [
            ErrorKind::Conflict,
            ErrorKind::Auth,
            ErrorKind::Permanent,
            ErrorKind::InvalidRequest,
            ErrorKind::InvalidCredentials,
        ] {
            assert!(!k.is_retryable(), "{k}");
        }
    }

    #[test]
    fn error_body_reads_the_documented_fields_and_ignores_others() {
        let json = r#"{"message":"You are missing the following permission(s): [directory:user:edit]",
            "code":"missing.permissions","status":403,"contextId":"ctx-1",
            "messageWithParams":"You are missing {perms}","messageParams":{"perms":"directory:user:edit"},
            "details":[{"errorCode":"x","fieldName":"f"}],"errors":[],"somethingNew":true}"#;
        let body: ErrorBody = serde_json::from_str(json).unwrap();
        assert_eq!(body.code.as_deref(), Some("missing.permissions"));
        assert_eq!(body.status, Some(403));
        assert_eq!(body.context_id.as_deref(), Some("ctx-1"));
        assert_eq!(body.details.len(), 1);
        assert_eq!(body.message_params.unwrap()["perms"], "directory:user:edit");
    }

    #[test]
    fn nested_messages_are_used_when_the_top_one_is_missing() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"code":"bad.request","errors":[{"message":"a"},{"message":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(body.best_message().as_deref(), Some("a; b"));
    }

    fn http_error(status: u16, code: &str, message: &str) -> ApiError {
        let kind = classify_status(status, None).unwrap();
        let meta = ResponseMeta {
            status,
            correlation_id: Some("corr-42".into()),
            rate_limit: RateLimitHeaders::default(),
            retry_after: None,
        };
        ApiError::new(kind, "PATCH", "/api/v2/users/{userId}", "/api/v2/users/u-1")
            .with_meta(meta)
            .with_body(Some(ErrorBody {
                code: Some(code.into()),
                message: Some(message.into()),
                ..Default::default()
            }))
    }

    #[test]
    fn display_is_one_actionable_line() {
        let err = http_error(
            403,
            "missing.permissions",
            "You are missing the following permission(s)",
        )
        .with_hint("grant the OAuth client the 'Directory > User > Edit' permission");
        assert_eq!(
            err.to_string(),
            "403 missing.permissions on PATCH /api/v2/users/u-1: You are missing the following permission(s) \
             (correlation id corr-42): grant the OAuth client the 'Directory > User > Edit' permission"
        );
        let conflict = http_error(
            409,
            "general.conflict",
            "The version supplied does not match",
        );
        assert_eq!(conflict.kind(), ErrorKind::Conflict);
        assert!(conflict.to_string().contains("re-read"), "{conflict}");
        let throttled = ApiError::new(
            ErrorKind::rate_limited(Duration::from_secs(5)),
            "GET",
            "/api/v2/users",
            "/api/v2/users",
        );
        assert!(
            throttled
                .to_string()
                .starts_with("GET /api/v2/users not sent"),
            "{throttled}"
        );
        assert!(!throttled.response_received());
    }

    #[test]
    fn correlation_id_falls_back_to_context_id() {
        let err = ApiError::new(ErrorKind::Permanent, "GET", "/x", "/x")
            .with_meta(ResponseMeta {
                status: 404,
                correlation_id: None,
                rate_limit: RateLimitHeaders::default(),
                retry_after: None,
            })
            .with_body(Some(ErrorBody {
                context_id: Some("ctx-9".into()),
                ..Default::default()
            }));
        assert_eq!(err.correlation_id(), Some("ctx-9"));
        assert!(err.to_string().contains("check the id"), "{err}");
    }
}
