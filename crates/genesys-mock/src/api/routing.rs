//! Routing skills and languages: the organisation's catalogues and each user's assignments.
//!
//! - `GET /routing/skills` and `/routing/languages`: paged catalogues; `name` keeps entries whose name starts
//!   with it (case-insensitive, as the real API's "starts with" filter), `id` (repeatable) keeps those ids.
//! - `GET /users/{userId}/routingskills|routinglanguages`: the user's assignments, paged.
//! - `PATCH …/routingskills/bulk` adds or updates, `PUT …/routingskills/bulk` replaces all,
//!   `PATCH …/routinglanguages/bulk` adds or updates (at most 50). Bodies are `[{id, proficiency}]` with
//!   proficiency 0–5 and a catalogue id (else 400); the answer lists all the user's assignments afterwards.
//!   These do not change the user's `version`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::{Listing, Query, json_body, json_ok, poisoned, reject_unknown, to_json, wrong_type};
use crate::error::ApiError;
use crate::seed::{self, LANGUAGE_NAMES, SKILL_NAMES};
use crate::server::App;
use crate::store::{self, State as UserState, UserRec};

/// Skills or languages: the same shapes under different names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Skill,
    Language,
}

impl Kind {
    fn names(self) -> &'static [&'static str] {
        match self {
            Kind::Skill => &SKILL_NAMES,
            Kind::Language => &LANGUAGE_NAMES,
        }
    }

    fn id(self, k: usize) -> String {
        match self {
            Kind::Skill => seed::skill_id(k),
            Kind::Language => seed::language_id(k),
        }
    }

    fn index_of(self, id: &str) -> Option<usize> {
        (0..self.names().len()).find(|k| self.id(*k) == id)
    }

    fn catalogue_path(self) -> &'static str {
        match self {
            Kind::Skill => "/api/v2/routing/skills",
            Kind::Language => "/api/v2/routing/languages",
        }
    }

    fn user_path(self, user: &str) -> String {
        match self {
            Kind::Skill => format!("/api/v2/users/{user}/routingskills"),
            Kind::Language => format!("/api/v2/users/{user}/routinglanguages"),
        }
    }

    /// Properties of `UserRoutingSkillPost` / `UserRoutingLanguagePost`.
    fn post_fields(self) -> [&'static str; 4] {
        match self {
            Kind::Skill => ["id", "proficiency", "skillUri", "selfUri"],
            Kind::Language => ["id", "proficiency", "languageUri", "selfUri"],
        }
    }

    fn model(self) -> &'static str {
        match self {
            Kind::Skill => "UserRoutingSkillPost",
            Kind::Language => "UserRoutingLanguagePost",
        }
    }

    fn max_bulk(self) -> Option<usize> {
        match self {
            Kind::Skill => None,
            Kind::Language => Some(50),
        }
    }

    fn entries(self, user: &UserRec) -> Vec<store::RoutingEntryView> {
        match self {
            Kind::Skill => store::skill_views(user),
            Kind::Language => store::language_views(user),
        }
    }

    fn entries_mut(self, user: &mut UserRec) -> &mut Vec<(usize, f64)> {
        match self {
            Kind::Skill => &mut user.skills,
            Kind::Language => &mut user.languages,
        }
    }
}

/// A catalogue entry (`RoutingSkill` / `Language`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogueEntry {
    id: String,
    name: &'static str,
    date_modified: &'static str,
    state: &'static str,
    version: u64,
    self_uri: String,
}

fn catalogue(kind: Kind, raw: Option<&str>) -> Result<Response, ApiError> {
    let query = Query::parse(raw)?;
    let paging = query.paging(500)?;
    let name = query.first("name").map(str::to_lowercase);
    let ids: Vec<&str> = query.all("id").collect();
    let matching: Vec<CatalogueEntry> = kind
        .names()
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            name.as_deref()
                .is_none_or(|prefix| n.to_lowercase().starts_with(prefix))
        })
        .map(|(k, n)| {
            let id = kind.id(k);
            CatalogueEntry {
                self_uri: format!("{}/{id}", kind.catalogue_path()),
                id,
                name: n,
                date_modified: "2024-01-01T00:00:00.000Z",
                state: "active",
                version: 1,
            }
        })
        .filter(|e| ids.is_empty() || ids.contains(&e.id.as_str()))
        .collect();
    let total = matching.len();
    let page: Vec<CatalogueEntry> = matching
        .into_iter()
        .skip(paging.size.saturating_mul(paging.number - 1))
        .take(paging.size)
        .collect();
    Ok(json_ok(to_json(&Listing::new(
        page,
        paging,
        total,
        kind.catalogue_path(),
    ))))
}

/// `GET /api/v2/routing/skills`
pub(super) async fn skills(RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    catalogue(Kind::Skill, raw.as_deref())
}

/// `GET /api/v2/routing/languages`
pub(super) async fn languages(RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    catalogue(Kind::Language, raw.as_deref())
}

fn user_entries(app: &App, kind: Kind, id: &str, raw: Option<&str>) -> Result<Response, ApiError> {
    let query = Query::parse(raw)?;
    let paging = query.paging(500)?;
    let store = app.store();
    let user = store
        .get(id)
        .filter(|u| u.state != UserState::Deleted)
        .ok_or_else(|| ApiError::user_not_found(id))?;
    let entries = kind.entries(user);
    drop(store);
    let total = entries.len();
    let page: Vec<_> = entries
        .into_iter()
        .skip(paging.size.saturating_mul(paging.number - 1))
        .take(paging.size)
        .collect();
    Ok(json_ok(to_json(&Listing::new(
        page,
        paging,
        total,
        &kind.user_path(id),
    ))))
}

/// `GET /api/v2/users/{userId}/routingskills`
pub(super) async fn user_skills(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    user_entries(&app, Kind::Skill, &id, raw.as_deref())
}

/// `GET /api/v2/users/{userId}/routinglanguages`
pub(super) async fn user_languages(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    user_entries(&app, Kind::Language, &id, raw.as_deref())
}

/// Parses `[{id, proficiency}]` into catalogue indexes.
fn parse_assignments(kind: Kind, body: &Value) -> Result<Vec<(usize, f64)>, ApiError> {
    let Value::Array(items) = body else {
        return Err(ApiError::bad_request(format!(
            "The request body must be an array of {}",
            kind.model()
        )));
    };
    if let Some(max) = kind.max_bulk()
        && items.len() > max
    {
        return Err(ApiError::bad_request(format!(
            "At most {max} entries can be sent at a time, got {}",
            items.len()
        )));
    }
    let fields = kind.post_fields();
    let mut out: Vec<(usize, f64)> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(object) = item else {
            return Err(wrong_type("body", "an array of objects", item));
        };
        reject_unknown(object, &fields, kind.model())?;
        let id = match object.get("id") {
            Some(Value::String(id)) => id,
            Some(v) if !v.is_null() => return Err(wrong_type("id", "a string", v)),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "{}.id is required",
                    kind.model()
                )));
            }
        };
        let proficiency = match object.get("proficiency") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(-1.0),
            Some(v) if !v.is_null() => return Err(wrong_type("proficiency", "a number", v)),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "{}.proficiency is required",
                    kind.model()
                )));
            }
        };
        if !(0.0..=5.0).contains(&proficiency) {
            return Err(ApiError::bad_request(format!(
                "proficiency must be between 0 and 5, got {proficiency}"
            )));
        }
        let Some(k) = kind.index_of(id) else {
            let mut err = ApiError::bad_request(format!(
                "[{id}] is not an existing routing {}",
                match kind {
                    Kind::Skill => "skill",
                    Kind::Language => "language",
                }
            ));
            err.body.entity_id = Some(id.clone());
            return Err(err);
        };
        match out.iter_mut().find(|(existing, _)| *existing == k) {
            Some(entry) => entry.1 = proficiency,
            None => out.push((k, proficiency)),
        }
    }
    Ok(out)
}

fn write_entries(
    app: &App,
    kind: Kind,
    id: &str,
    replace: bool,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let assignments = parse_assignments(kind, &json_body(headers, body)?)?;
    poisoned(app, id)?;
    let mut store = app.store_mut();
    let user = store
        .get_mut(id)
        .filter(|u| u.state != UserState::Deleted)
        .ok_or_else(|| ApiError::user_not_found(id))?;
    let entries = kind.entries_mut(user);
    if replace {
        entries.clear();
    }
    for (k, proficiency) in assignments {
        match entries.iter_mut().find(|(existing, _)| *existing == k) {
            Some(entry) => entry.1 = proficiency,
            None => entries.push((k, proficiency)),
        }
    }
    entries.sort_by_key(|(k, _)| *k);
    let views = kind.entries(user);
    drop(store);
    Ok(json_ok(to_json(&Listing::whole(
        views,
        &kind.user_path(id),
    ))))
}

/// `PATCH /api/v2/users/{userId}/routingskills/bulk`
pub(super) async fn patch_skills(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    write_entries(&app, Kind::Skill, &id, false, &headers, &body)
}

/// `PUT /api/v2/users/{userId}/routingskills/bulk`
pub(super) async fn put_skills(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    write_entries(&app, Kind::Skill, &id, true, &headers, &body)
}

/// `PATCH /api/v2/users/{userId}/routinglanguages/bulk`
pub(super) async fn patch_languages(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    write_entries(&app, Kind::Language, &id, false, &headers, &body)
}
