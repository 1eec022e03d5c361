//! Errors: [`MockError`] for the library's callers, and the Genesys `ErrorBody` answers of the API routes.
//!
//! An endpoint returns an [`ApiError`]; it becomes a response whose body is filled in by the correlation layer
//! (`crate::server`), because only that layer knows the `ININ-Correlation-ID` that must equal the body's
//! `contextId`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What can go wrong starting or running a look-alike.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source} (is another process using that port?)")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("the server failed on {addr}: {source}")]
    Serve {
        /// Where it was listening.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// `--ready-file` could not be written.
    #[error("cannot write the ready file {path}: {source}")]
    ReadyFile {
        /// The file.
        path: PathBuf,
        /// Why writing failed.
        source: std::io::Error,
    },
    /// The configuration cannot be served.
    #[error("invalid mock configuration: {0}")]
    InvalidConfig(String),
    /// A fault setting is out of range.
    #[error("invalid faults: {0}")]
    InvalidFaults(String),
    /// A signal handler could not be installed.
    #[error("cannot listen for shutdown signals: {0}")]
    Signal(std::io::Error),
}

/// A Genesys `ErrorBody` (`message`, `code`, `status`, `contextId`, …), before `contextId` is known.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    pub message: String,
    pub code: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_with_params: Option<String>,
    pub message_params: BTreeMap<&'static str, String>,
    pub context_id: String,
    pub details: Vec<serde_json::Value>,
    pub errors: Vec<serde_json::Value>,
}

/// An API failure answered with an `ErrorBody`.
#[derive(Clone, Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    /// Boxed: errors travel through every `Result` of the handlers and should stay small.
    pub body: Box<ErrorBody>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: Box::new(ErrorBody {
                message: message.into(),
                code,
                status: status.as_u16(),
                entity_id: None,
                message_with_params: None,
                message_params: BTreeMap::new(),
                context_id: String::new(),
                details: Vec::new(),
                errors: Vec::new(),
            }),
            retry_after: None,
        }
    }

    /// 400 `bad.request` with a message saying what is wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }

    /// 400 `invalid.value`, with the swagger's message template.
    pub fn invalid_value(value: &str, field: &str, allowed: &[&str]) -> Self {
        let allowed = allowed.join(", ");
        let mut err = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid.value",
            format!(
                "Value [{value}] is not valid for field type [{field}]. Allowable values are: {allowed}"
            ),
        );
        err.body.message_with_params =
            Some("Value [{value}] is not valid for field type [{field}]. Allowable values are: {allowed}".into());
        err.body.message_params.insert("value", value.to_owned());
        err.body.message_params.insert("field", field.to_owned());
        err.body.message_params.insert("allowed", allowed);
        err
    }

    /// 404 `not.found`.
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not.found",
            "The requested resource was not found.",
        )
    }

    /// 404 `not.found` naming the entity.
    pub fn user_not_found(id: &str) -> Self {
        let mut err = Self::not_found();
        err.body.entity_id = Some(id.to_owned());
        err
    }

    /// 401 `authentication.required` (no bearer token).
    pub fn authentication_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        )
    }

    /// 401 `bad.credentials` (unknown, revoked or expired token).
    pub fn bad_credentials() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "bad.credentials",
            "Invalid login credentials.",
        )
    }

    /// 409 `general.conflict` for a stale user version.
    pub fn version_conflict(id: &str) -> Self {
        let mut err = Self::new(
            StatusCode::CONFLICT,
            "general.conflict",
            "The version supplied does not match the current version of the user",
        );
        err.body.entity_id = Some(id.to_owned());
        err
    }

    /// 415 `unsupported.media.type`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported.media.type",
            "Unsupported Media Type - Unsupported or incorrect media type, such as an incorrect Content-Type \
             value in the header.",
        )
    }

    /// 429 `too.many.requests` with `Retry-After`.
    pub fn too_many_requests(limit: u32, window_secs: u64, retry_after: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too.many.requests",
            format!(
                "Rate limit exceeded the maximum [{limit}] requests within [{window_secs}] seconds"
            ),
        );
        err.body.message_with_params = Some(
            "Rate limit exceeded the maximum [{limit}] requests within [{duration}] seconds".into(),
        );
        err.body.message_params.insert("limit", limit.to_string());
        err.body
            .message_params
            .insert("duration", window_secs.to_string());
        err.retry_after = Some(retry_after);
        err
    }

    /// An injected server error (500, 502, 503 or 504).
    pub fn server_error(status: u16) -> Self {
        match status {
            500 => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal.server.error",
                "The server encountered an unexpected condition which prevented it from fulfilling the request.",
            ),
            502 => Self::new(StatusCode::BAD_GATEWAY, "bad.gateway", "Bad Gateway"),
            504 => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                "request.timeout",
                "The request timed out.",
            ),
            _ => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service.unavailable",
                "Service Unavailable - The server is currently unavailable (because it is overloaded or down \
                 for maintenance).",
            ),
        }
    }

    /// An injected permanent refusal for a poisoned user (400 or 403).
    pub fn poisoned(status: u16, id: &str) -> Self {
        let mut err = if status == 400 {
            Self::bad_request(format!(
                "mock-genesys: user {id} is configured to refuse writes"
            ))
        } else {
            Self::new(
                StatusCode::FORBIDDEN,
                "missing.permissions",
                "Unable to perform the requested action. You are missing the following permission(s): \
                 directory:user:edit",
            )
        };
        err.body.entity_id = Some(id.to_owned());
        err
    }
}

/// Marker placed in a response's extensions so the correlation layer can write the body.
#[derive(Clone, Debug)]
pub(crate) struct PendingErrorBody(pub ErrorBody);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
            .extensions_mut()
            .insert(PendingErrorBody(*self.body));
        response
    }
}
