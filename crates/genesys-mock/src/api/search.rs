//! `POST /api/v2/users/search`: a `UserSearchRequest` answered with a `UsersSearchResponse`.
//!
//! Supported: criteria of type `EXACT`, `TERM`, `TERMS` (all three: whole-value, case-insensitive),
//! `STARTS_WITH`, `CONTAINS`, `MATCH_ALL`, `REQUIRED_FIELDS`, nested `group`s, operators `AND` (default), `OR`
//! and `NOT`, on the fields `email`, `id`, `name`, `title`, `department`, `state`, `username`; `value` and/or
//! `values`. Everything in the model is accepted and checked (unknown properties and enum values are refused);
//! `REGEX` and `QUERY_STRING` searches and other fields get a 400 that says the look-alike cannot do them.
//! Sorting options are validated but results come in user-number order.
//!
//! Like the real service (as reported on the Genesys developer forum; unconfirmed by a Genesys document),
//! only active users are found unless some criterion names the `state` field.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Paging, json_body, json_ok, reject_unknown, to_json, wrong_type};
use crate::error::ApiError;
use crate::server::App;
use crate::store::{Expand, State as UserState, UserRec, UserView};

const REQUEST_FIELDS: [&str; 9] = [
    "sortOrder",
    "sortBy",
    "pageSize",
    "pageNumber",
    "sort",
    "expand",
    "query",
    "integrationPresenceSource",
    "enforcePermissions",
];
const CRITERIA_FIELDS: [&str; 9] = [
    "endValue",
    "values",
    "startValue",
    "value",
    "operator",
    "group",
    "dateFormat",
    "fields",
    "type",
];
const TYPES: [&str; 9] = [
    "EXACT",
    "STARTS_WITH",
    "CONTAINS",
    "REGEX",
    "TERM",
    "TERMS",
    "REQUIRED_FIELDS",
    "MATCH_ALL",
    "QUERY_STRING",
];
const OPERATORS: [&str; 3] = ["AND", "OR", "NOT"];
const SORT_ORDERS: [&str; 3] = ["ASC", "DESC", "SCORE"];
const PRESENCE_SOURCES: [&str; 3] = ["MicrosoftTeams", "ZoomPhone", "EightByEight"];
const SEARCHABLE: [&str; 7] = [
    "email",
    "id",
    "name",
    "title",
    "department",
    "state",
    "username",
];
/// Largest `pageSize` accepted.
const MAX_PAGE_SIZE: usize = 100;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Operator {
    And,
    Or,
    Not,
}

enum Test {
    Exact {
        fields: Vec<String>,
        values: Vec<String>,
    },
    StartsWith {
        fields: Vec<String>,
        values: Vec<String>,
    },
    Contains {
        fields: Vec<String>,
        values: Vec<String>,
    },
    Required {
        fields: Vec<String>,
    },
    All,
    Group(Vec<Criterion>),
}

struct Criterion {
    operator: Operator,
    test: Test,
}

fn field_value<'a>(user: &'a UserRec, field: &str) -> Option<&'a str> {
    match field {
        "email" => Some(&user.email),
        "id" => Some(&user.id),
        "name" => Some(&user.name),
        "title" => user.title.as_deref(),
        "department" => user.department.as_deref(),
        "state" => Some(user.state.as_str()),
        "username" => Some(&user.username),
        _ => None,
    }
}

fn any_field(
    user: &UserRec,
    fields: &[String],
    values: &[String],
    hit: impl Fn(&str, &str) -> bool,
) -> bool {
    fields
        .iter()
        .filter_map(|f| field_value(user, f))
        .any(|actual| {
            let actual = actual.to_lowercase();
            values.iter().any(|v| hit(&actual, v))
        })
}

impl Criterion {
    fn matches(&self, user: &UserRec) -> bool {
        match &self.test {
            Test::Exact { fields, values } => any_field(user, fields, values, |a, v| a == v),
            Test::StartsWith { fields, values } => {
                any_field(user, fields, values, |a, v| a.starts_with(v))
            }
            Test::Contains { fields, values } => {
                any_field(user, fields, values, |a, v| a.contains(v))
            }
            Test::Required { fields } => fields
                .iter()
                .all(|f| field_value(user, f).is_some_and(|v| !v.is_empty())),
            Test::All => true,
            Test::Group(inner) => all_match(inner, user),
        }
    }

    fn names_state(&self) -> bool {
        match &self.test {
            Test::Exact { fields, .. }
            | Test::StartsWith { fields, .. }
            | Test::Contains { fields, .. }
            | Test::Required { fields } => fields.iter().any(|f| f == "state"),
            Test::All => false,
            Test::Group(inner) => inner.iter().any(Criterion::names_state),
        }
    }
}

/// AND criteria must all match, at least one OR criterion must match (if there are any), no NOT may match.
fn all_match(criteria: &[Criterion], user: &UserRec) -> bool {
    let mut any_or = false;
    let mut or_hit = false;
    for c in criteria {
        match c.operator {
            Operator::And if !c.matches(user) => return false,
            Operator::Not if c.matches(user) => return false,
            Operator::Or => {
                any_or = true;
                or_hit = or_hit || c.matches(user);
            }
            _ => {}
        }
    }
    !any_or || or_hit
}

fn strings(field: &str, value: &Value) -> Result<Vec<String>, ApiError> {
    let Value::Array(items) = value else {
        return Err(wrong_type(field, "an array of strings", value));
    };
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| wrong_type(field, "a string", v))
        })
        .collect()
}

fn enum_value<'a>(field: &str, value: &'a Value, allowed: &[&str]) -> Result<&'a str, ApiError> {
    let s = value
        .as_str()
        .ok_or_else(|| wrong_type(field, "a string", value))?;
    if allowed.contains(&s) {
        Ok(s)
    } else {
        Err(ApiError::invalid_value(s, field, allowed))
    }
}

fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn parse_criteria(value: &Value, field: &str) -> Result<Vec<Criterion>, ApiError> {
    let Value::Array(items) = value else {
        return Err(wrong_type(field, "an array of UserSearchCriteria", value));
    };
    items.iter().map(parse_criterion).collect()
}

fn parse_criterion(value: &Value) -> Result<Criterion, ApiError> {
    let Value::Object(object) = value else {
        return Err(wrong_type("query", "an array of objects", value));
    };
    reject_unknown(object, &CRITERIA_FIELDS, "UserSearchCriteria")?;
    let kind = enum_value(
        "type",
        present(object, "type")
            .ok_or_else(|| ApiError::bad_request("UserSearchCriteria.type is required"))?,
        &TYPES,
    )?;
    let operator = match present(object, "operator")
        .map(|v| enum_value("operator", v, &OPERATORS))
        .transpose()?
    {
        Some("OR") => Operator::Or,
        Some("NOT") => Operator::Not,
        _ => Operator::And,
    };
    for key in ["startValue", "endValue", "dateFormat"] {
        if let Some(v) = present(object, key)
            && !v.is_string()
        {
            return Err(wrong_type(key, "a string", v));
        }
    }
    let fields = present(object, "fields")
        .map(|v| strings("fields", v))
        .transpose()?
        .unwrap_or_default();
    if let Some(field) = fields.iter().find(|f| !SEARCHABLE.contains(&f.as_str())) {
        return Err(ApiError::bad_request(format!(
            "mock-genesys cannot search the field [{field}]"
        )));
    }
    let mut values = present(object, "values")
        .map(|v| strings("values", v))
        .transpose()?
        .unwrap_or_default();
    if let Some(v) = present(object, "value") {
        values.push(
            v.as_str()
                .ok_or_else(|| wrong_type("value", "a string", v))?
                .to_owned(),
        );
    }
    let values: Vec<String> = values.into_iter().map(|v| v.to_lowercase()).collect();

    if let Some(group) = present(object, "group") {
        return Ok(Criterion {
            operator,
            test: Test::Group(parse_criteria(group, "group")?),
        });
    }
    let needs_values = |fields: Vec<String>,
                        values: Vec<String>|
     -> Result<(Vec<String>, Vec<String>), ApiError> {
        if fields.is_empty() {
            return Err(ApiError::bad_request(format!(
                "fields is required for a {kind} search"
            )));
        }
        if values.is_empty() {
            return Err(ApiError::bad_request(format!(
                "value or values is required for a {kind} search"
            )));
        }
        Ok((fields, values))
    };
    let test = match kind {
        "EXACT" | "TERM" | "TERMS" => {
            let (fields, values) = needs_values(fields, values)?;
            Test::Exact { fields, values }
        }
        "STARTS_WITH" => {
            let (fields, values) = needs_values(fields, values)?;
            Test::StartsWith { fields, values }
        }
        "CONTAINS" => {
            let (fields, values) = needs_values(fields, values)?;
            Test::Contains { fields, values }
        }
        "REQUIRED_FIELDS" if !fields.is_empty() => Test::Required { fields },
        "REQUIRED_FIELDS" => {
            return Err(ApiError::bad_request(
                "fields is required for a REQUIRED_FIELDS search",
            ));
        }
        "MATCH_ALL" => Test::All,
        other => {
            return Err(ApiError::bad_request(format!(
                "mock-genesys does not support {other} searches"
            )));
        }
    };
    Ok(Criterion { operator, test })
}

/// A parsed `UserSearchRequest`.
struct SearchRequest {
    paging: Paging,
    expand: Expand,
    criteria: Vec<Criterion>,
}

fn parse_request(body: &Value) -> Result<SearchRequest, ApiError> {
    let Value::Object(object) = body else {
        return Err(ApiError::bad_request(
            "The request body must be a UserSearchRequest object",
        ));
    };
    reject_unknown(object, &REQUEST_FIELDS, "UserSearchRequest")?;
    let int = |k: &str, default: usize, max: usize| -> Result<usize, ApiError> {
        match present(object, k) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 && n <= max as u64 => Ok(n as usize),
                _ => Err(ApiError::bad_request(format!(
                    "{k} must be an integer between 1 and {max}"
                ))),
            },
        }
    };
    let paging = Paging {
        size: int("pageSize", 25, MAX_PAGE_SIZE)?,
        number: int("pageNumber", 1, 1_000_000)?,
    };
    if let Some(v) = present(object, "sortOrder") {
        enum_value("sortOrder", v, &SORT_ORDERS)?;
    }
    if let Some(v) = present(object, "sortBy")
        && !v.is_string()
    {
        return Err(wrong_type("sortBy", "a string", v));
    }
    if let Some(v) = present(object, "sort") {
        let Value::Array(items) = v else {
            return Err(wrong_type("sort", "an array of SearchSort", v));
        };
        for item in items {
            let Value::Object(sort) = item else {
                return Err(wrong_type("sort", "an array of SearchSort", v));
            };
            reject_unknown(sort, &["sortOrder", "sortBy"], "SearchSort")?;
            if let Some(order) = present(sort, "sortOrder") {
                enum_value("sortOrder", order, &SORT_ORDERS)?;
            }
        }
    }
    if let Some(v) = present(object, "integrationPresenceSource") {
        enum_value("integrationPresenceSource", v, &PRESENCE_SOURCES)?;
    }
    if let Some(v) = present(object, "enforcePermissions")
        && !v.is_boolean()
    {
        return Err(wrong_type("enforcePermissions", "a boolean", v));
    }
    let expand = match present(object, "expand") {
        Some(v) => Expand::from_values(strings("expand", v)?.iter().map(String::as_str)),
        None => Expand::default(),
    };
    let criteria = present(object, "query")
        .map(|v| parse_criteria(v, "query"))
        .transpose()?
        .unwrap_or_default();
    Ok(SearchRequest {
        paging,
        expand,
        criteria,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchResponse<'a> {
    total: usize,
    page_count: usize,
    page_size: usize,
    page_number: usize,
    types: [&'static str; 1],
    results: Vec<UserView<'a>>,
}

/// `POST /api/v2/users/search`
pub(super) async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let SearchRequest {
        paging,
        expand,
        criteria,
    } = parse_request(&json_body(&headers, &body)?)?;
    let names_state = criteria.iter().any(Criterion::names_state);
    let selected =
        |u: &UserRec| (names_state || u.state == UserState::Active) && all_match(&criteria, u);

    let store = app.store();
    // An exact email criterion (the usual key lookup) is answered from the email index, not by a scan.
    let by_email = criteria.iter().find_map(|c| match &c.test {
        Test::Exact { fields, values } if c.operator == Operator::And && fields == &["email"] => {
            Some(values)
        }
        _ => None,
    });
    let matching: Vec<&UserRec> = match by_email {
        Some(values) => {
            let mut positions: Vec<usize> = values
                .iter()
                .filter_map(|v| store.by_email(v))
                .filter_map(|u| store.position(&u.id))
                .collect();
            positions.sort_unstable();
            positions.dedup();
            positions
                .into_iter()
                .filter_map(|p| store.users.get(p))
                .filter(|u| selected(u))
                .collect()
        }
        None => store.users.iter().filter(|u| selected(u)).collect(),
    };
    let results: Vec<UserView<'_>> = paging
        .slice(&matching)
        .iter()
        .map(|u| UserView::new(u, expand))
        .collect();
    let body = to_json(&SearchResponse {
        total: matching.len(),
        page_count: paging.page_count(matching.len()),
        page_size: paging.size,
        page_number: paging.number,
        types: ["users"],
        results,
    });
    drop(store);
    Ok(json_ok(body))
}
