//! `POST /oauth/token`: the client-credentials grant of `login.<region>`.
//!
//! The client authenticates with `Authorization: Basic base64(id:secret)` (or, as RFC 6749 also allows,
//! `client_id`/`client_secret` form fields) and sends `grant_type=client_credentials`. Success:
//! `{"access_token", "token_type": "bearer", "expires_in"}`. Failures use the OAuth error JSON the SDKs parse:
//! `{"error", "description", "error_description"}` — 401 `invalid_client` for missing or wrong credentials,
//! 400 `invalid_request` / `unsupported_grant_type` for a malformed grant. Token requests are not rate-limited
//! and not subject to faults.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::server::App;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new().route("/oauth/token", post(token))
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Serialize)]
struct OAuthError {
    error: &'static str,
    description: &'static str,
    error_description: &'static str,
}

fn oauth_error(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    let mut response = (
        status,
        axum::Json(OAuthError {
            error,
            description,
            error_description: description,
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `(id, secret)` from a Basic authorization header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    let response = issue(&app, &headers, &body);
    app.stats().token_request(response.status().is_success());
    response
}

fn issue(app: &App, headers: &HeaderMap, body: &[u8]) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body is not a valid form.",
        );
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let credentials =
        basic_credentials(headers).or_else(|| Some((field("client_id")?, field("client_secret")?)));
    let Some((id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required.",
        );
    };
    if id != *app.client_id || secret != app.client_secret.expose_secret() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    match field("grant_type").as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "The grant type is not supported for this client.",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required.",
            );
        }
    }
    let access_token = app
        .tokens_mut()
        .issue(app.client_id.clone(), app.token_ttl, Instant::now());
    let mut response = axum::Json(TokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: app.token_ttl.as_secs(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
