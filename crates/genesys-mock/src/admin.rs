//! The `/__mock/` admin surface: inspect users and counters, change faults and the budget at runtime.
//!
//! No authentication, no rate limit, not counted in the stats. Errors are `{"error": "…"}` with 400 or 404.
//!
//! | route | what |
//! |---|---|
//! | `GET /__mock/users` | every user's current state (User JSON with `skills`, `languages`, `externalIds`) |
//! | `GET /__mock/users/{id}` | one user, 404 if unknown |
//! | `POST /__mock/users/{id}/bump` | raise the user's version as a concurrent edit would → `{"id", "version"}` |
//! | `GET /__mock/stats` | [`crate::Stats`] |
//! | `POST /__mock/stats/reset` | start the counters over |
//! | `GET`/`POST /__mock/faults` | [`crate::Faults`] (POST replaces them; a forced-429 period starts now) |
//! | `GET`/`POST /__mock/limit` | `{"rate_limit": N, "window_secs": S}` (S may be fractional; 0 = unlimited) |
//! | `POST /__mock/tokens/revoke` | invalidate every issued token |
//! | `GET /__mock/config` | `{"users", "seed", "client_id", "external_id_authority", "token_ttl_secs"}` |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Faults;
use crate::server::App;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/users", get(users))
        .route("/users/{id}", get(user))
        .route("/users/{id}/bump", post(bump))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset_stats))
        .route("/faults", get(faults).post(set_faults))
        .route("/limit", get(limit).post(set_limit))
        .route("/tokens", get(tokens))
        .route("/tokens/revoke", post(revoke))
        .route("/config", get(config))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

async fn users(State(app): State<Arc<App>>) -> Response {
    Json(app.admin_users()).into_response()
}

async fn user(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    match app.admin_user(&id) {
        Some(user) => Json(user).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no user {id}")),
    }
}

async fn bump(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    match app.bump_version(&id) {
        Some(version) => Json(json!({ "id": id, "version": version })).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no user {id}")),
    }
}

async fn stats(State(app): State<Arc<App>>) -> Response {
    let snapshot = app.stats().snapshot();
    Json(snapshot).into_response()
}

async fn reset_stats(State(app): State<Arc<App>>) -> Response {
    app.stats().reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn faults(State(app): State<Arc<App>>) -> Response {
    Json(app.active_faults().faults.clone()).into_response()
}

async fn set_faults(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(faults) => faults,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("not a Faults object: {err}"),
            );
        }
    };
    match app.set_faults(faults.clone()) {
        Ok(()) => Json(faults).into_response(),
        Err(err) => error(StatusCode::BAD_REQUEST, err.to_string()),
    }
}

/// The budget as the admin API shows and takes it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    rate_limit: u32,
    window_secs: f64,
}

async fn limit(State(app): State<Arc<App>>) -> Response {
    let limiter = app.limiter();
    let limit = Limit {
        rate_limit: limiter.limit(),
        window_secs: limiter.window().as_secs_f64(),
    };
    drop(limiter);
    Json(limit).into_response()
}

async fn set_limit(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let limit: Limit = match serde_json::from_slice(&body) {
        Ok(limit) => limit,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected {{rate_limit, window_secs}}: {err}"),
            );
        }
    };
    let window = match Duration::try_from_secs_f64(limit.window_secs) {
        Ok(window) => window,
        Err(err) => return error(StatusCode::BAD_REQUEST, format!("window_secs: {err}")),
    };
    match app.set_rate_limit(limit.rate_limit, window) {
        Ok(()) => Json(limit).into_response(),
        Err(err) => error(StatusCode::BAD_REQUEST, err.to_string()),
    }
}

/// The tokens this server issued: a look-alike's tokens protect nothing, and tests need them to prove that no
/// token leaks into logs or Redis.
async fn tokens(State(app): State<Arc<App>>) -> Response {
    Json(app.tokens().issued()).into_response()
}

async fn revoke(State(app): State<Arc<App>>) -> Response {
    app.tokens_mut().revoke_all();
    StatusCode::NO_CONTENT.into_response()
}

async fn config(State(app): State<Arc<App>>) -> Response {
    Json(json!({
        "users": app.user_count,
        "seed": app.seed,
        "client_id": &*app.client_id,
        "external_id_authority": app.authority,
        "token_ttl_secs": app.token_ttl.as_secs(),
    }))
    .into_response()
}
