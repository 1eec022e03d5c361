//! User endpoints: read one, list or fetch by ids, update one, look up by external id, bulk ACD auto-answer.
//!
//! Read rules the look-alike applies (the strict reading where the real API is unconfirmed):
//! - `GET /users/{id}` answers active and inactive users; deleted ones only with `state=deleted`.
//! - `GET /users` applies `state` (default `active`) and paging (default 25, at most 500) to an `id` list
//!   too, and refuses more than 100 ids (400 `max.user.ids`). Send `pageSize` = number of ids and `state=any`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::update::parse_update;
use super::{Listing, Query, json_body, json_ok, poisoned, reject_unknown, to_json, wrong_type};
use crate::error::ApiError;
use crate::server::App;
use crate::store::{self, Expand, State as UserState, UserRec, UserView};

/// Most ids one `GET /api/v2/users` accepts.
const MAX_IDS: usize = 100;
/// Most users one `PATCH /api/v2/users/bulk` accepts.
const MAX_BULK: usize = 50;

fn expand(query: &Query) -> Expand {
    Expand::from_values(query.all("expand"))
}

/// `GET /api/v2/users/{userId}`
pub(super) async fn get_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let want_deleted = match query.first("state") {
        None | Some("active") => false,
        Some("deleted") => true,
        Some(other) => {
            return Err(ApiError::invalid_value(
                other,
                "state",
                &["active", "deleted"],
            ));
        }
    };
    let store = app.store();
    let user = store
        .get(&id)
        .filter(|u| (u.state == UserState::Deleted) == want_deleted);
    let user = user.ok_or_else(|| ApiError::user_not_found(&id))?;
    Ok(json_ok(to_json(&UserView::new(user, expand(&query)))))
}

/// Which states a listing includes.
fn state_filter(query: &Query) -> Result<fn(&UserRec) -> bool, ApiError> {
    Ok(match query.first("state") {
        None | Some("active") => |u| u.state == UserState::Active,
        Some("inactive") => |u| u.state == UserState::Inactive,
        Some("deleted") => |u| u.state == UserState::Deleted,
        Some("any") => |_| true,
        Some(other) => {
            return Err(ApiError::invalid_value(
                other,
                "state",
                &["active", "inactive", "deleted", "any"],
            ));
        }
    })
}

/// `GET /api/v2/users`
pub(super) async fn list(
    State(app): State<Arc<App>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let paging = query.paging(500)?;
    let keep = state_filter(&query)?;
    let ids: Vec<&str> = query
        .all("id")
        .flat_map(|v| v.split(','))
        .filter(|v| !v.is_empty())
        .collect();
    if ids.len() > MAX_IDS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "max.user.ids",
            "Only 100 users can be requested at a time.",
        ));
    }
    let expand = expand(&query);
    let store = app.store();
    let matching: Vec<&UserRec> = if ids.is_empty() {
        store.users.iter().filter(|u| keep(u)).collect()
    } else {
        let mut positions: Vec<usize> = ids.iter().filter_map(|id| store.position(id)).collect();
        positions.sort_unstable();
        positions.dedup();
        positions
            .into_iter()
            .filter_map(|p| store.users.get(p))
            .filter(|u| keep(u))
            .collect()
    };
    let page: Vec<UserView<'_>> = paging
        .slice(&matching)
        .iter()
        .map(|u| UserView::new(u, expand))
        .collect();
    let body = to_json(&Listing::new(page, paging, matching.len(), "/api/v2/users"));
    drop(store);
    Ok(json_ok(body))
}

/// `PATCH /api/v2/users/{userId}`
pub(super) async fn patch_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let update = parse_update(&json_body(&headers, &body)?)?;
    poisoned(&app, &id)?;
    let inject_conflict = app.roll(app.active_faults().faults.conflict_rate);

    let result = {
        let mut store = app.store_mut();
        apply_update(&mut store, &id, update, inject_conflict)
    };
    if inject_conflict {
        app.stats().injected_conflict();
    }
    result.map(json_ok)
}

fn apply_update(
    store: &mut store::Store,
    id: &str,
    update: super::update::Update,
    inject_conflict: bool,
) -> Result<Vec<u8>, ApiError> {
    let user = store.get(id).ok_or_else(|| ApiError::user_not_found(id))?;
    if user.state == UserState::Deleted && update.state.is_none() {
        return Err(ApiError::user_not_found(id));
    }
    if let Some(Some(manager)) = &update.manager {
        if manager == id {
            return Err(ApiError::bad_request("A user cannot be their own manager"));
        }
        if !store
            .get(manager)
            .is_some_and(|m| m.state != UserState::Deleted)
        {
            let mut err =
                ApiError::bad_request(format!("The manager [{manager}] is not an existing user"));
            err.body.entity_id = Some(manager.clone());
            return Err(err);
        }
    }
    if let Some(email) = &update.email
        && store.email_owner(email).is_some_and(|owner| owner != id)
    {
        return Err(ApiError::bad_request(format!(
            "The email [{email}] is already used by another user"
        )));
    }

    let user = store
        .get_mut(id)
        .ok_or_else(|| ApiError::user_not_found(id))?;
    if inject_conflict {
        user.version += 1;
    }
    if user.version != update.version {
        return Err(ApiError::version_conflict(id));
    }
    let old_email = update.email.is_some().then(|| user.email.clone());
    if let Some(state) = update.state {
        user.state = state;
    }
    if let Some(name) = update.name {
        user.name = name;
    }
    if let Some(email) = update.email {
        user.username.clone_from(&email);
        user.email = email;
    }
    if let Some(title) = update.title {
        user.title = title;
    }
    if let Some(department) = update.department {
        user.department = department;
    }
    if let Some(preferred) = update.preferred_name {
        user.preferred_name = preferred;
    }
    if let Some(addresses) = update.addresses {
        user.addresses = addresses;
    }
    if let Some(manager) = update.manager {
        user.manager = manager;
    }
    if let Some(auto) = update.acd_auto_answer {
        user.acd_auto_answer = auto;
    }
    for (key, value) in update.opaque {
        user.extra.insert(key, value);
    }
    user.version += 1;
    let body = to_json(&UserView::new(user, Expand::default()));
    if let Some(old_email) = old_email {
        store.reindex_email(id, &old_email);
    }
    Ok(body)
}

/// `GET /api/v2/users/externalid/{authorityName}/{externalKey}`
pub(super) async fn by_external_id(
    State(app): State<Arc<App>>,
    Path((authority, key)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = Query::parse(raw.as_deref())?;
    let store = app.store();
    let user = store
        .by_external_id(&authority, &key)
        .filter(|u| u.state != UserState::Deleted)
        .ok_or_else(ApiError::not_found)?;
    Ok(json_ok(to_json(&UserView::new(user, expand(&query)))))
}

/// `PATCH /api/v2/users/bulk`: `[{id, acdAutoAnswer}]`, at most 50; answers the updated users as a
/// `UserEntityListing`. All or nothing: an unknown id refuses the whole call (400).
pub(super) async fn patch_bulk(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let Value::Array(items) = body else {
        return Err(ApiError::bad_request(
            "The request body must be an array of PatchUser",
        ));
    };
    if items.len() > MAX_BULK {
        return Err(ApiError::bad_request(format!(
            "Max {MAX_BULK} users can be updated at a time, got {}",
            items.len()
        )));
    }
    let mut changes: Vec<(String, Option<bool>)> = Vec::with_capacity(items.len());
    for item in &items {
        let Value::Object(object) = item else {
            return Err(wrong_type("body", "an array of PatchUser objects", item));
        };
        reject_unknown(object, &["id", "acdAutoAnswer"], "PatchUser")?;
        let id = match object.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            Some(v) if !v.is_null() => return Err(wrong_type("id", "a string", v)),
            _ => return Err(ApiError::bad_request("PatchUser.id is required")),
        };
        let auto = match object.get("acdAutoAnswer") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => return Err(wrong_type("acdAutoAnswer", "a boolean", v)),
        };
        poisoned(&app, &id)?;
        changes.push((id, auto));
    }

    let mut store = app.store_mut();
    let unknown: Vec<&str> = changes
        .iter()
        .filter(|(id, _)| !store.get(id).is_some_and(|u| u.state != UserState::Deleted))
        .map(|(id, _)| id.as_str())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Unknown user id(s): {}",
            unknown.join(", ")
        )));
    }
    let mut touched: Vec<usize> = Vec::with_capacity(changes.len());
    for (id, auto) in &changes {
        if let Some(pos) = store.position(id)
            && let Some(user) = store.users.get_mut(pos)
        {
            if let Some(auto) = auto {
                user.acd_auto_answer = *auto;
            }
            user.version += 1;
            if !touched.contains(&pos) {
                touched.push(pos);
            }
        }
    }
    let views: Vec<UserView<'_>> = touched
        .iter()
        .filter_map(|p| store.users.get(*p))
        .map(|u| UserView::new(u, Expand::default()))
        .collect();
    let body = to_json(&Listing::whole(views, "/api/v2/users/bulk"));
    drop(store);
    Ok(json_ok(body))
}
