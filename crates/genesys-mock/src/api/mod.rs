//! The `/api/v2` routes and what they share: query and body parsing, paging, entity listings.
//!
//! Bodies are parsed by hand from JSON values (not with `axum::Json`) so that every rejection is a Genesys
//! `ErrorBody` with the code the real API uses (`bad.request`, `invalid.value`, `unsupported.media.type`).

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Serialize;
use serde_json::Value;

use crate::error::ApiError;
use crate::server::App;

mod routing;
mod search;
mod update;
mod users;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/users", get(users::list))
        .route("/users/search", post(search::search))
        .route("/users/bulk", patch(users::patch_bulk))
        .route(
            "/users/externalid/{authorityName}/{externalKey}",
            get(users::by_external_id),
        )
        .route(
            "/users/{userId}",
            get(users::get_one).patch(users::patch_one),
        )
        .route("/users/{userId}/routingskills", get(routing::user_skills))
        .route(
            "/users/{userId}/routingskills/bulk",
            patch(routing::patch_skills).put(routing::put_skills),
        )
        .route(
            "/users/{userId}/routinglanguages",
            get(routing::user_languages),
        )
        .route(
            "/users/{userId}/routinglanguages/bulk",
            patch(routing::patch_languages),
        )
        .route("/routing/skills", get(routing::skills))
        .route("/routing/languages", get(routing::languages))
}

/// A 200 JSON answer.
pub(crate) fn json_ok(body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Serializes `value` (always possible for our views; an empty object otherwise).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// Decoded query parameters, in order, repeated keys kept (`id=a&id=b`).
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let raw = raw.unwrap_or_default();
        serde_urlencoded::from_str(raw).map(Query).map_err(|err| {
            ApiError::bad_request(format!("The query string could not be parsed: {err}"))
        })
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter with a default and bounds.
    pub fn int(
        &self,
        key: &str,
        default: usize,
        min: usize,
        max: usize,
    ) -> Result<usize, ApiError> {
        let Some(raw) = self.first(key) else {
            return Ok(default);
        };
        match raw.trim().parse::<usize>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(n) => Err(ApiError::bad_request(format!(
                "{key} must be between {min} and {max}, got {n}"
            ))),
            Err(_) => Err(ApiError::bad_request(format!(
                "{key} must be an integer, got [{raw}]"
            ))),
        }
    }

    /// `pageSize` (default 25, at most `max`) and `pageNumber` (default 1).
    pub fn paging(&self, max: usize) -> Result<Paging, ApiError> {
        Ok(Paging {
            size: self.int("pageSize", 25, 1, max)?,
            number: self.int("pageNumber", 1, 1, 1_000_000)?,
        })
    }
}

/// A requested page.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paging {
    pub size: usize,
    pub number: usize,
}

impl Paging {
    /// The part of `items` on this page.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = self.size.saturating_mul(self.number - 1).min(items.len());
        let end = start.saturating_add(self.size).min(items.len());
        items.get(start..end).unwrap_or_default()
    }

    pub fn page_count(&self, total: usize) -> usize {
        total.div_ceil(self.size)
    }
}

/// A Genesys `*EntityListing`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Listing<T> {
    entities: Vec<T>,
    page_size: usize,
    page_number: usize,
    total: usize,
    first_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_uri: Option<String>,
    last_uri: String,
    self_uri: String,
    page_count: usize,
}

impl<T> Listing<T> {
    /// A page of `total` entities under `path`.
    pub fn new(entities: Vec<T>, paging: Paging, total: usize, path: &str) -> Self {
        let page_count = paging.page_count(total);
        let uri = |n: usize| format!("{path}?pageSize={}&pageNumber={n}", paging.size);
        Listing {
            entities,
            page_size: paging.size,
            page_number: paging.number,
            total,
            first_uri: uri(1),
            next_uri: (paging.number < page_count).then(|| uri(paging.number + 1)),
            previous_uri: (paging.number > 1).then(|| uri(paging.number - 1)),
            last_uri: uri(page_count.max(1)),
            self_uri: uri(paging.number),
            page_count,
        }
    }

    /// All `entities` on one page (answers of bulk writes).
    pub fn whole(entities: Vec<T>, path: &str) -> Self {
        let total = entities.len();
        Self::new(
            entities,
            Paging {
                size: total.max(25),
                number: 1,
            },
            total,
            path,
        )
    }
}

/// The JSON body of a PATCH/PUT/POST: `Content-Type` must be JSON, the body must parse.
pub(crate) fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::unsupported_media_type());
    }
    serde_json::from_slice(body).map_err(|err| {
        ApiError::bad_request(format!(
            "The request body could not be parsed as JSON: {err}"
        ))
    })
}

/// Rejects keys of `object` not in `allowed` (the model's properties): the look-alike, like a strict
/// deserializer, refuses what it does not know rather than silently dropping it.
pub(crate) fn reject_unknown(
    object: &serde_json::Map<String, Value>,
    allowed: &[&str],
    model: &str,
) -> Result<(), ApiError> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::bad_request(format!(
            "Unrecognized field [{key}] in {model}"
        ))),
        None => Ok(()),
    }
}

/// The JSON type name used in messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// 400 for a field of the wrong JSON type.
pub(crate) fn wrong_type(field: &str, expected: &str, value: &Value) -> ApiError {
    ApiError::bad_request(format!(
        "Field [{field}] must be {expected}, got {}",
        type_name(value)
    ))
}

/// The refusal for a write to a poisoned user, if `id` is one.
pub(crate) fn poisoned(app: &App, id: &str) -> Result<(), ApiError> {
    let active = app.active_faults();
    if active.faults.fail_user_ids.iter().any(|p| p == id) {
        return Err(ApiError::poisoned(
            active.faults.fail_user_status.unwrap_or(403),
            id,
        ));
    }
    Ok(())
}
