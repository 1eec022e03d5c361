//! The look-alike's bodies, status codes and error codes against the official definitions.
//!
//! - Every response body of every endpoint is checked against its model in
//!   `shared/genesys/users-current-models.derived.json` (SDK 257.1.0): each property name is one the model
//!   knows, required properties are present, enum values are allowed, nested models recurse.
//! - Every request model the look-alike takes is sent with all its properties (accepted), with an unknown
//!   property (refused, 400 `bad.request`) and with each enum property set to a value outside its enum
//!   (refused, 400 `invalid.value`).
//! - Every error answer is an `ErrorBody` whose status is listed for that operation in
//!   `shared/genesys/users-subset.swagger.json` and whose `code` is one of that status's `x-inin-error-codes`
//!   (for endpoints the 2018 subset predates, the codes of any operation with that status), with the
//!   swagger's message where the swagger fixes one, and `contextId` equal to `ININ-Correlation-ID`.
//! - Every API response carries `ININ-Correlation-ID` and the three `inin-ratelimit-*` headers.
//!
//! The definitions live outside the repository, in `shared/` next to it (`<dir>/main` and `<dir>/shared`,
//! here and in CI); `GCBULK_SHARED_DIR` overrides that location.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use genesys_mock::{MockConfig, seed};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------------------------
// The definitions

struct Definitions {
    models: Map<String, Value>,
    swagger: Value,
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("GCBULK_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

fn definitions() -> &'static Definitions {
    static DEFS: OnceLock<Definitions> = OnceLock::new();
    DEFS.get_or_init(|| {
        let dir = shared_dir().join("genesys");
        let read = |name: &str| -> Value {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|err| {
                panic!(
                    "cannot read {} ({err}); set GCBULK_SHARED_DIR to the shared/ directory",
                    path.display()
                )
            });
            serde_json::from_str(&text).unwrap()
        };
        let models = read("users-current-models.derived.json")["definitions"]
            .as_object()
            .unwrap()
            .clone();
        Definitions {
            models,
            swagger: read("users-subset.swagger.json"),
        }
    })
}

impl Definitions {
    fn model(&self, name: &str) -> &Map<String, Value> {
        self.models
            .get(name)
            .unwrap_or_else(|| panic!("model {name} not in the definitions"))
            .as_object()
            .unwrap()
    }

    fn properties(&self, name: &str) -> &Map<String, Value> {
        self.model(name)["properties"].as_object().unwrap()
    }

    fn required(&self, name: &str) -> Vec<&str> {
        self.model(name)["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect()
    }

    /// Names of `model`'s properties that have an enum.
    fn enum_properties(&self, name: &str) -> Vec<String> {
        self.properties(name)
            .iter()
            .filter(|(_, p)| p.get("enum").is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Problems of `value` as an instance of `model`. `reference`: an embedded `{id, selfUri}` reference,
    /// whose required properties the real API leaves out (e.g. `User.manager`).
    fn check(
        &self,
        model: &str,
        value: &Value,
        at: &str,
        reference: bool,
        problems: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            problems.push(format!("{at}: expected a {model} object, got {value}"));
            return;
        };
        let properties = self.properties(model);
        if !reference {
            for required in self.required(model) {
                if !object.contains_key(required) {
                    problems.push(format!("{at}: required {model}.{required} is missing"));
                }
            }
        }
        for (key, value) in object {
            let Some(property) = properties.get(key) else {
                problems.push(format!("{at}.{key}: not a property of {model}"));
                continue;
            };
            if let Some(allowed) = property.get("enum").and_then(Value::as_array)
                && !allowed.contains(value)
            {
                problems.push(format!(
                    "{at}.{key}: {value} is not one of {model}.{key}'s values {allowed:?}"
                ));
            }
            let sdk_type = property["sdkType"].as_str().unwrap();
            let nested_reference = model == "User" && key == "manager";
            self.check_type(
                sdk_type,
                value,
                &format!("{at}.{key}"),
                nested_reference,
                problems,
            );
        }
    }

    fn check_type(
        &self,
        sdk_type: &str,
        value: &Value,
        at: &str,
        reference: bool,
        problems: &mut Vec<String>,
    ) {
        let ok = match sdk_type {
            "str" | "datetime" | "date" => value.is_string(),
            "int" => value.is_i64() || value.is_u64(),
            "float" => value.is_number(),
            "bool" => value.is_boolean(),
            "list[str]" => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            t if t.starts_with("dict(") => value.is_object(),
            t if t.starts_with("[list[") => {
                let inner = t.trim_start_matches("[list[").split(']').next().unwrap();
                match value.as_array() {
                    Some(items) => {
                        if self.models.contains_key(inner) {
                            for (i, item) in items.iter().enumerate() {
                                self.check(inner, item, &format!("{at}[{i}]"), reference, problems);
                            }
                        }
                        true
                    }
                    None => false,
                }
            }
            t if t.starts_with('[') => {
                let inner = t.trim_start_matches('[').split(']').next().unwrap();
                if self.models.contains_key(inner) {
                    self.check(inner, value, at, reference, problems);
                }
                value.is_object()
            }
            other => panic!("{at}: sdkType {other} not understood by this test"),
        };
        if !ok {
            problems.push(format!("{at}: {value} is not a {sdk_type}"));
        }
    }

    /// The swagger operation for `method path_template`, if the 2018 subset has it.
    fn operation(&self, method: &Method, template: &str) -> Option<&Value> {
        self.swagger["paths"]
            .get(template)?
            .get(method.as_str().to_lowercase())
    }

    /// `x-inin-error-codes` for `status` of the operation, or of any operation when the subset predates it.
    fn error_codes(&self, method: &Method, template: &str, status: u16) -> Map<String, Value> {
        let status = status.to_string();
        if let Some(op) = self.operation(method, template) {
            return op["responses"]
                .get(&status)
                .unwrap_or_else(|| {
                    panic!("{method} {template}: status {status} is not in the swagger")
                })
                .get("x-inin-error-codes")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
        }
        let mut union = Map::new();
        for ops in self.swagger["paths"].as_object().unwrap().values() {
            for op in ops.as_object().unwrap().values() {
                if let Some(codes) = op["responses"]
                    .get(&status)
                    .and_then(|r| r.get("x-inin-error-codes"))
                {
                    union.extend(codes.as_object().unwrap().clone());
                }
            }
        }
        union
    }
}

/// Whether `message` fits a swagger template where each `%s` stands for any text.
fn fits_template(message: &str, template: &str) -> bool {
    let parts: Vec<&str> = template.split("%s").collect();
    if parts.len() == 1 {
        return message == template;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !message.starts_with(first)
        || !message.ends_with(last)
        || message.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &message[first.len()..message.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------------------
// Calling the look-alike and checking what comes back

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

struct Conformance {
    mock: common::Mock,
}

impl Conformance {
    async fn start() -> Self {
        // A budget large enough never to throttle, so every answer carries the rate-limit headers.
        let config = MockConfig {
            users: 120,
            rate_limit: 1_000_000,
            window: Duration::from_secs(60),
            ..MockConfig::default()
        };
        Conformance {
            mock: common::start(config).await,
        }
    }

    /// Sends a request and checks what every API answer must satisfy; `template` is the swagger path.
    async fn call(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.mock.req(method.clone(), path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let answer = Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: {
                let bytes = response.bytes().await.unwrap();
                serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{method} {path}: body is not JSON: {e}"))
            },
        };
        let context = format!("{method} {path} -> {}", answer.status);
        let correlation = answer
            .headers
            .get("inin-correlation-id")
            .map(|v| v.to_str().unwrap().to_owned());
        assert!(
            correlation.as_deref().is_some_and(|c| c.len() == 36),
            "{context}: ININ-Correlation-ID missing"
        );
        if answer.status != StatusCode::UNAUTHORIZED {
            for name in [
                "inin-ratelimit-count",
                "inin-ratelimit-allowed",
                "inin-ratelimit-reset",
            ] {
                let value = answer
                    .headers
                    .get(name)
                    .map(|v| v.to_str().unwrap().parse::<u64>());
                assert!(
                    matches!(value, Some(Ok(_))),
                    "{context}: header {name} missing or not an integer"
                );
            }
        }
        if !answer.status.is_success() {
            check_error(
                &method,
                template,
                &answer,
                correlation.as_deref().unwrap_or_default(),
                &context,
            );
        }
        answer
    }

    /// A call that must succeed with a body of `model`.
    async fn ok(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<&Value>,
        model: &str,
    ) -> Value {
        let answer = self.call(method.clone(), template, path, body).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{method} {path}: {}",
            answer.body
        );
        assert_model(model, &answer.body, &format!("{method} {path}"));
        answer.body
    }

    /// A call that must fail with `status` and `code`.
    async fn fails(
        &self,
        method: Method,
        template: &str,
        path: &str,
        body: Option<&Value>,
        status: u16,
        code: &str,
    ) {
        let answer = self.call(method.clone(), template, path, body).await;
        assert_eq!(
            answer.status.as_u16(),
            status,
            "{method} {path} with {body:?}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["code"], code,
            "{method} {path} with {body:?}: {}",
            answer.body
        );
    }
}

fn assert_model(model: &str, value: &Value, context: &str) {
    let mut problems = Vec::new();
    definitions().check(model, value, model, false, &mut problems);
    assert!(
        problems.is_empty(),
        "{context}: the answer does not match {model}:\n{}",
        problems.join("\n")
    );
}

fn check_error(method: &Method, template: &str, answer: &Answer, correlation: &str, context: &str) {
    let defs = definitions();
    assert_model("ErrorBody", &answer.body, context);
    let status = answer.status.as_u16();
    assert_eq!(answer.body["status"], status, "{context}: ErrorBody.status");
    assert_eq!(
        answer.body["contextId"], correlation,
        "{context}: contextId must equal ININ-Correlation-ID"
    );
    let code = answer.body["code"].as_str().unwrap();
    let codes = defs.error_codes(method, template, status);
    let template_message = codes.get(code).unwrap_or_else(|| {
        panic!("{context}: code {code} is not among the swagger's {status} codes {codes:?}")
    });
    if code != "bad.request" {
        // bad.request messages say what is wrong; every other code has the swagger's fixed message.
        let message = answer.body["message"].as_str().unwrap();
        assert!(
            fits_template(message, template_message.as_str().unwrap()),
            "{context}: message {message:?} does not fit {template_message}"
        );
    }
    if status == 429 {
        let retry_after = answer
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().parse::<u64>());
        assert!(
            matches!(retry_after, Some(Ok(_))),
            "{context}: 429 without Retry-After"
        );
    }
}

fn assert_valid_request(model: &str, body: &Value) {
    let mut problems = Vec::new();
    definitions().check(model, body, model, false, &mut problems);
    assert!(
        problems.is_empty(),
        "the test's own {model} is not valid:\n{}",
        problems.join("\n")
    );
}

/// Asserts that `body` uses every property of `model` (so "all properties accepted" really covers all).
fn assert_covers(model: &str, body: &Value, except: &[&str]) {
    let keys = body.as_object().unwrap();
    let missing: Vec<&String> = definitions()
        .properties(model)
        .keys()
        .filter(|k| !keys.contains_key(*k) && !except.contains(&k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "the test's {model} leaves out {missing:?}"
    );
}

const USER: &str = "/api/v2/users/{userId}";
const USERS: &str = "/api/v2/users";
const SEARCH: &str = "/api/v2/users/search";
const SKILLS: &str = "/api/v2/users/{userId}/routingskills";

fn user_path(i: usize) -> String {
    format!("/api/v2/users/{}", seed::user_id(i))
}

// ---------------------------------------------------------------------------------------------------------
// The endpoints

#[tokio::test]
async fn the_definitions_are_found_where_ci_puts_them() {
    let defs = definitions();
    assert!(defs.models.contains_key("User") && defs.swagger["paths"].get(USER).is_some());
}

#[tokio::test]
async fn get_user_answers_a_user() {
    let c = Conformance::start().await;
    // Users with and without mobile numbers, managers, inactive ones; with and without expansions.
    for i in [1, 7, 42, 50, 99] {
        c.ok(Method::GET, USER, &user_path(i), None, "User").await;
        let user = c
            .ok(
                Method::GET,
                USER,
                &format!("{}?expand=skills,languages", user_path(i)),
                None,
                "User",
            )
            .await;
        assert!(user["skills"].is_array() && user["languages"].is_array());
    }
    c.fails(
        Method::GET,
        USER,
        &user_path(100_000),
        None,
        404,
        "not.found",
    )
    .await;
    c.fails(
        Method::GET,
        USER,
        &format!("{}?state=sleeping", user_path(1)),
        None,
        400,
        "invalid.value",
    )
    .await;
}

#[tokio::test]
async fn get_users_answers_a_user_entity_listing() {
    let c = Conformance::start().await;
    let listing = c
        .ok(
            Method::GET,
            USERS,
            "/api/v2/users",
            None,
            "UserEntityListing",
        )
        .await;
    assert_eq!(listing["entities"].as_array().unwrap().len(), 25);
    let ids: Vec<String> = (1..=60).map(seed::user_id).collect();
    let query: String = ids.iter().map(|id| format!("id={id}&")).collect();
    let path = format!("/api/v2/users?{query}pageSize=60&state=any&expand=skills");
    let listing = c
        .ok(Method::GET, USERS, &path, None, "UserEntityListing")
        .await;
    assert_eq!(listing["total"], 60);
    let too_many: String = (1..=101)
        .map(|i| format!("id={}&", seed::user_id(i)))
        .collect();
    c.fails(
        Method::GET,
        USERS,
        &format!("/api/v2/users?{too_many}"),
        None,
        400,
        "max.user.ids",
    )
    .await;
    c.fails(
        Method::GET,
        USERS,
        "/api/v2/users?state=asleep",
        None,
        400,
        "invalid.value",
    )
    .await;
    c.fails(
        Method::GET,
        USERS,
        "/api/v2/users?pageSize=lots",
        None,
        400,
        "bad.request",
    )
    .await;
}

/// An UpdateUser with every property except `state` (which must travel alone).
fn full_update(version: u64) -> Value {
    json!({
        "id": seed::user_id(3),
        "name": "Ada Lovelace",
        "chat": {"jabberId": "ada@example.com"},
        "department": "Research",
        "email": "ada.lovelace@example.com",
        "primaryContactInfo": [{"address": "ada.lovelace@example.com", "mediaType": "EMAIL", "type": "PRIMARY"}],
        "addresses": [
            {"address": "+13175550100", "display": "+1 317-555-0100", "mediaType": "PHONE", "type": "WORK",
             "countryCode": "US", "integration": "none"},
            {"extension": "4321", "mediaType": "PHONE", "type": "WORK2"}
        ],
        "title": "Analyst",
        "username": "ada.lovelace@example.com",
        "preferredName": "Ada",
        "manager": seed::user_id(1),
        "images": [{"resolution": "x96", "imageUri": "https://example.com/ada.png"}],
        "version": version,
        "profileSkills": ["engines"],
        "locations": [],
        "groups": [],
        "acdAutoAnswer": true,
        "certifications": ["math"],
        "biography": {"biography": "Wrote the first program", "interests": ["poetry"], "hobbies": [], "spouse": "William"},
        "employerInfo": {"officialName": "Ada", "employeeId": "1815", "employeeType": "Full-time", "dateHire": "1833-06-05"},
        "selfUri": user_path(3)
    })
}

#[tokio::test]
async fn patch_user_takes_every_update_user_property_and_answers_a_user() {
    let c = Conformance::start().await;
    let version = c.mock.version(&seed::user_id(3)).await;
    let body = full_update(version);
    assert_covers("UpdateUser", &body, &["state"]);
    assert_valid_request("UpdateUser", &body);
    let user = c
        .ok(Method::PATCH, USER, &user_path(3), Some(&body), "User")
        .await;
    assert_eq!(user["version"], version + 1);
    assert_eq!(user["title"], "Analyst");

    let state_only = json!({"version": version + 1, "state": "inactive"});
    assert_valid_request("UpdateUser", &state_only);
    let user = c
        .ok(
            Method::PATCH,
            USER,
            &user_path(3),
            Some(&state_only),
            "User",
        )
        .await;
    assert_eq!(user["state"], "inactive");
}

#[tokio::test]
async fn patch_user_refuses_what_update_user_does_not_allow() {
    let c = Conformance::start().await;
    let path = user_path(5);
    let version = c.mock.version(&seed::user_id(5)).await;
    let base = json!({"version": version, "title": "Lead"});

    let mut unknown = base.clone();
    unknown["nickname"] = json!("x");
    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&unknown),
        400,
        "bad.request",
    )
    .await;
    let unknown_contact = json!({"version": version, "addresses": [
        {"address": "+1", "mediaType": "PHONE", "type": "WORK", "label": "desk"}]});
    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&unknown_contact),
        400,
        "bad.request",
    )
    .await;

    // Every enum of UpdateUser and Contact, with a value outside it.
    let defs = definitions();
    for property in defs.enum_properties("UpdateUser") {
        let body = json!({"version": version, property.clone(): "NOT_A_VALUE"});
        c.fails(
            Method::PATCH,
            USER,
            &path,
            Some(&body),
            400,
            "invalid.value",
        )
        .await;
    }
    for property in defs.enum_properties("Contact") {
        let mut contact = json!({"address": "+13175550100", "mediaType": "PHONE", "type": "WORK"});
        contact[&property] = json!("NOT_A_VALUE");
        let body = json!({"version": version, "addresses": [contact]});
        c.fails(
            Method::PATCH,
            USER,
            &path,
            Some(&body),
            400,
            "invalid.value",
        )
        .await;
    }

    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&json!({"title": "x"})),
        400,
        "bad.request",
    )
    .await;
    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&json!({"version": version, "state": "inactive", "title": "x"})),
        400,
        "bad.request",
    )
    .await;
    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&json!({"version": version, "manager": "no-such-user"})),
        400,
        "bad.request",
    )
    .await;
    c.fails(
        Method::PATCH,
        USER,
        &path,
        Some(&json!({"version": version + 7, "title": "x"})),
        409,
        "general.conflict",
    )
    .await;
    c.fails(
        Method::PATCH,
        USER,
        &user_path(100_000),
        Some(&base),
        404,
        "not.found",
    )
    .await;

    // Not JSON: 415.
    let response = c
        .mock
        .req(Method::PATCH, &path)
        .header("content-type", "text/plain")
        .body("title=x")
        .send()
        .await
        .unwrap();
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    };
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let correlation = answer.headers["inin-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    check_error(
        &Method::PATCH,
        USER,
        &answer,
        &correlation,
        "PATCH text/plain",
    );
    // Nothing above changed the user.
    assert_eq!(c.mock.version(&seed::user_id(5)).await, version);
}

#[tokio::test]
async fn search_takes_every_user_search_request_property_and_answers_a_users_search_response() {
    let c = Conformance::start().await;
    let body = json!({
        "sortOrder": "ASC",
        "sortBy": "email",
        "pageSize": 25,
        "pageNumber": 1,
        "sort": [{"sortOrder": "DESC", "sortBy": "name"}],
        "expand": ["skills", "languages"],
        "query": [
            {"type": "EXACT", "fields": ["email"], "value": "user8@example.com", "operator": "AND",
             "startValue": "a", "endValue": "z", "dateFormat": "yyyy-MM-dd"},
            {"type": "EXACT", "fields": ["email"], "values": ["user8@example.com", "user9@example.com"],
             "group": [{"type": "MATCH_ALL"}]}
        ],
        "integrationPresenceSource": "MicrosoftTeams",
        "enforcePermissions": false
    });
    assert_covers("UserSearchRequest", &body, &[]);
    assert_covers(
        "UserSearchCriteria",
        &body["query"][0],
        &["values", "group"],
    );
    assert_covers(
        "UserSearchCriteria",
        &body["query"][1],
        &["value", "operator", "startValue", "endValue", "dateFormat"],
    );
    assert_valid_request("UserSearchRequest", &body);
    let found = c
        .ok(
            Method::POST,
            SEARCH,
            "/api/v2/users/search",
            Some(&body),
            "UsersSearchResponse",
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["results"][0]["email"], "user8@example.com");

    let simple = json!({"query": [{"type": "EXACT", "fields": ["email"], "values": ["USER11@example.com", "user12@example.com"]}]});
    let found = c
        .ok(
            Method::POST,
            SEARCH,
            "/api/v2/users/search",
            Some(&simple),
            "UsersSearchResponse",
        )
        .await;
    assert_eq!(found["total"], 2);
    let nothing =
        json!({"query": [{"type": "EXACT", "fields": ["email"], "value": "nobody@example.com"}]});
    let found = c
        .ok(
            Method::POST,
            SEARCH,
            "/api/v2/users/search",
            Some(&nothing),
            "UsersSearchResponse",
        )
        .await;
    assert_eq!(found["total"], 0);
}

#[tokio::test]
async fn search_refuses_what_user_search_request_does_not_allow() {
    let c = Conformance::start().await;
    let defs = definitions();
    let criterion = json!({"type": "EXACT", "fields": ["email"], "value": "user1@example.com"});
    let base = json!({"query": [criterion.clone()]});
    let path = "/api/v2/users/search";

    let mut unknown = base.clone();
    unknown["limit"] = json!(5);
    c.fails(
        Method::POST,
        SEARCH,
        path,
        Some(&unknown),
        400,
        "bad.request",
    )
    .await;
    let mut unknown_criterion = criterion.clone();
    unknown_criterion["boost"] = json!(2);
    c.fails(
        Method::POST,
        SEARCH,
        path,
        Some(&json!({"query": [unknown_criterion]})),
        400,
        "bad.request",
    )
    .await;
    c.fails(
        Method::POST,
        SEARCH,
        path,
        Some(&json!({"sort": [{"sortBy": "name", "nulls": "first"}]})),
        400,
        "bad.request",
    )
    .await;

    for property in defs.enum_properties("UserSearchRequest") {
        let mut body = base.clone();
        body[&property] = json!("NOT_A_VALUE");
        c.fails(
            Method::POST,
            SEARCH,
            path,
            Some(&body),
            400,
            "invalid.value",
        )
        .await;
    }
    for property in defs.enum_properties("UserSearchCriteria") {
        let mut bad = criterion.clone();
        bad[&property] = json!("NOT_A_VALUE");
        c.fails(
            Method::POST,
            SEARCH,
            path,
            Some(&json!({"query": [bad]})),
            400,
            "invalid.value",
        )
        .await;
    }
    for property in defs.enum_properties("SearchSort") {
        let body =
            json!({"sort": [{property.clone(): "NOT_A_VALUE"}], "query": [criterion.clone()]});
        c.fails(
            Method::POST,
            SEARCH,
            path,
            Some(&body),
            400,
            "invalid.value",
        )
        .await;
    }
    c.fails(
        Method::POST,
        SEARCH,
        path,
        Some(&json!({"query": [{"fields": ["email"], "value": "x"}]})),
        400,
        "bad.request",
    )
    .await;
}

#[tokio::test]
async fn external_id_lookup_answers_a_user() {
    let c = Conformance::start().await;
    let template = "/api/v2/users/externalid/{authorityName}/{externalKey}";
    let authority = genesys_mock::DEFAULT_EXTERNAL_ID_AUTHORITY;
    let user = c
        .ok(
            Method::GET,
            template,
            &format!("/api/v2/users/externalid/{authority}/ext-17"),
            None,
            "User",
        )
        .await;
    assert_eq!(user["id"], seed::user_id(17));
    c.fails(
        Method::GET,
        template,
        &format!("/api/v2/users/externalid/{authority}/ext-999999"),
        None,
        404,
        "not.found",
    )
    .await;
    c.fails(
        Method::GET,
        template,
        "/api/v2/users/externalid/other-authority/ext-17",
        None,
        404,
        "not.found",
    )
    .await;
}

#[tokio::test]
async fn bulk_auto_answer_takes_patch_users_and_answers_a_user_entity_listing() {
    let c = Conformance::start().await;
    let template = "/api/v2/users/bulk";
    let body = json!([{"id": seed::user_id(4), "acdAutoAnswer": true}, {"id": seed::user_id(5), "acdAutoAnswer": false}]);
    for item in body.as_array().unwrap() {
        assert_covers("PatchUser", item, &[]);
        assert_valid_request("PatchUser", item);
    }
    let listing = c
        .ok(
            Method::PATCH,
            template,
            template,
            Some(&body),
            "UserEntityListing",
        )
        .await;
    assert_eq!(listing["entities"].as_array().unwrap().len(), 2);

    c.fails(
        Method::PATCH,
        template,
        template,
        Some(&json!([{"id": seed::user_id(4), "acdAutoAnswer": true, "title": "x"}])),
        400,
        "bad.request",
    )
    .await;
    let too_many: Vec<Value> = (1..=51)
        .map(|i| json!({"id": seed::user_id(i), "acdAutoAnswer": true}))
        .collect();
    c.fails(
        Method::PATCH,
        template,
        template,
        Some(&Value::Array(too_many)),
        400,
        "bad.request",
    )
    .await;
    c.fails(
        Method::PATCH,
        template,
        template,
        Some(&json!([{"id": "no-such-user", "acdAutoAnswer": true}])),
        400,
        "bad.request",
    )
    .await;
}

#[tokio::test]
async fn routing_skill_and_language_endpoints_answer_their_listings() {
    let c = Conformance::start().await;
    let id = seed::user_id(9);
    let skills_path = format!("/api/v2/users/{id}/routingskills/bulk");
    let languages_path = format!("/api/v2/users/{id}/routinglanguages/bulk");
    let skill_template = "/api/v2/users/{userId}/routingskills/bulk";
    let language_template = "/api/v2/users/{userId}/routinglanguages/bulk";

    let skill = json!({"id": seed::skill_id(2), "proficiency": 4.0, "skillUri": format!("/api/v2/routing/skills/{}", seed::skill_id(2)), "selfUri": "/x"});
    assert_covers("UserRoutingSkillPost", &skill, &[]);
    assert_valid_request("UserRoutingSkillPost", &skill);
    let listing = c
        .ok(
            Method::PATCH,
            skill_template,
            &skills_path,
            Some(&json!([skill])),
            "UserSkillEntityListing",
        )
        .await;
    assert!(
        listing["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == seed::skill_id(2))
    );
    let listing = c
        .ok(
            Method::PUT,
            skill_template,
            &skills_path,
            Some(&json!([{"id": seed::skill_id(3), "proficiency": 1}])),
            "UserSkillEntityListing",
        )
        .await;
    assert_eq!(listing["total"], 1);
    c.ok(
        Method::GET,
        SKILLS,
        &format!("/api/v2/users/{id}/routingskills"),
        None,
        "UserSkillEntityListing",
    )
    .await;

    let language =
        json!({"id": seed::language_id(1), "proficiency": 5, "languageUri": "/x", "selfUri": "/y"});
    assert_covers("UserRoutingLanguagePost", &language, &[]);
    assert_valid_request("UserRoutingLanguagePost", &language);
    c.ok(
        Method::PATCH,
        language_template,
        &languages_path,
        Some(&json!([language])),
        "UserLanguageEntityListing",
    )
    .await;
    c.ok(
        Method::GET,
        "/api/v2/users/{userId}/routinglanguages",
        &format!("/api/v2/users/{id}/routinglanguages"),
        None,
        "UserLanguageEntityListing",
    )
    .await;

    for (template, path, extra) in [
        (skill_template, &skills_path, "languageUri"),
        (language_template, &languages_path, "skillUri"),
    ] {
        let id = if template == skill_template {
            seed::skill_id(1)
        } else {
            seed::language_id(1)
        };
        c.fails(
            Method::PATCH,
            template,
            path,
            Some(&json!([{"id": id, "proficiency": 3, extra: "/z"}])),
            400,
            "bad.request",
        )
        .await;
        c.fails(
            Method::PATCH,
            template,
            path,
            Some(&json!([{"id": id, "proficiency": 9}])),
            400,
            "bad.request",
        )
        .await;
        c.fails(
            Method::PATCH,
            template,
            path,
            Some(&json!([{"id": "no-such-entry", "proficiency": 3}])),
            400,
            "bad.request",
        )
        .await;
        c.fails(
            Method::PATCH,
            template,
            &path.replace(&seed::user_id(9), &seed::user_id(100_000)),
            Some(&json!([{"id": id, "proficiency": 3}])),
            404,
            "not.found",
        )
        .await;
    }
    let too_many: Vec<Value> = (0..51)
        .map(|_| json!({"id": seed::language_id(0), "proficiency": 1}))
        .collect();
    c.fails(
        Method::PATCH,
        language_template,
        &languages_path,
        Some(&Value::Array(too_many)),
        400,
        "bad.request",
    )
    .await;
}

#[tokio::test]
async fn skill_and_language_catalogues_are_entity_listings() {
    // RoutingSkill and Language are not in the derived definitions; their listing envelope is the same as
    // UserSkillEntityListing's, and their entities carry the SDK's RoutingSkill/Language properties.
    let c = Conformance::start().await;
    let envelope = definitions().properties("UserSkillEntityListing").clone();
    let entity_properties = ["id", "name", "dateModified", "state", "version", "selfUri"];
    for (template, query, expected) in [
        ("/api/v2/routing/skills", "?name=skill%207", 1),
        ("/api/v2/routing/skills", "", 10),
        ("/api/v2/routing/languages", "?name=fr", 1),
        ("/api/v2/routing/languages", "", 5),
    ] {
        let answer = c
            .call(Method::GET, template, &format!("{template}{query}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        for key in answer.body.as_object().unwrap().keys() {
            assert!(
                envelope.contains_key(key),
                "{template}: {key} is not an entity listing property"
            );
        }
        let entities = answer.body["entities"].as_array().unwrap();
        assert_eq!(entities.len(), expected, "{template}{query}");
        for entity in entities {
            for key in entity.as_object().unwrap().keys() {
                assert!(
                    entity_properties.contains(&key.as_str()),
                    "{template}: entity property {key}"
                );
            }
        }
    }
}

#[tokio::test]
async fn authentication_failures_are_401_error_bodies() {
    let c = Conformance::start().await;
    let path = user_path(1);
    let response = c.mock.http.get(c.mock.url(&path)).send().await.unwrap();
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    };
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body["code"], "authentication.required");
    let correlation = answer.headers["inin-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    check_error(&Method::GET, USER, &answer, &correlation, "no token");

    let response = c
        .mock
        .http
        .get(c.mock.url(&path))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap(),
    };
    assert_eq!(answer.body["code"], "bad.credentials");
    let correlation = answer.headers["inin-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    check_error(&Method::GET, USER, &answer, &correlation, "bad token");
}

#[tokio::test]
async fn throttling_and_injected_errors_are_error_bodies_from_the_swagger() {
    let c = Conformance::start().await;
    c.mock
        .handle
        .set_rate_limit(1, Duration::from_secs(60))
        .unwrap();
    c.ok(Method::GET, USER, &user_path(1), None, "User").await;
    c.fails(
        Method::GET,
        USER,
        &user_path(1),
        None,
        429,
        "too.many.requests",
    )
    .await;
    c.mock
        .handle
        .set_rate_limit(1_000_000, Duration::from_secs(60))
        .unwrap();

    for (status, code) in [
        (500, "internal.server.error"),
        (503, "service.unavailable"),
        (504, "request.timeout"),
    ] {
        c.mock
            .handle
            .set_faults(genesys_mock::Faults {
                error_rate: 1.0,
                error_status: Some(status),
                ..Default::default()
            })
            .unwrap();
        c.fails(Method::GET, USER, &user_path(1), None, status, code)
            .await;
        c.fails(
            Method::PATCH,
            USER,
            &user_path(1),
            Some(&json!({"version": 1})),
            status,
            code,
        )
        .await;
    }
    c.mock
        .handle
        .set_faults(genesys_mock::Faults {
            fail_user_ids: vec![seed::user_id(2)],
            ..Default::default()
        })
        .unwrap();
    let version = c.mock.version(&seed::user_id(2)).await;
    c.fails(
        Method::PATCH,
        USER,
        &user_path(2),
        Some(&json!({"version": version, "title": "x"})),
        403,
        "missing.permissions",
    )
    .await;
}

#[tokio::test]
async fn the_token_endpoint_answers_the_oauth_shapes() {
    let mock = common::start_small().await;
    let url = mock.url("/oauth/token");
    let ok = mock
        .http
        .post(&url)
        .basic_auth(
            genesys_mock::DEFAULT_CLIENT_ID,
            Some(genesys_mock::DEFAULT_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert!(ok.headers().contains_key("inin-correlation-id"));
    let body: Value = ok.json().await.unwrap();
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 86_400);

    for (secret, grant, status, error) in [
        ("wrong", "client_credentials", 401, "invalid_client"),
        (
            genesys_mock::DEFAULT_CLIENT_SECRET,
            "password",
            400,
            "unsupported_grant_type",
        ),
    ] {
        let response = mock
            .http
            .post(&url)
            .basic_auth(genesys_mock::DEFAULT_CLIENT_ID, Some(secret))
            .form(&[("grant_type", grant)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error);
        assert!(
            body["description"].is_string() && body["error_description"].is_string(),
            "{body}"
        );
    }
}

#[test]
fn the_checker_catches_what_it_must() {
    let mut problems = Vec::new();
    let user = json!({
        "id": "x",
        "nickname": "y",
        "state": "asleep",
        "addresses": [{"mediaType": "FAX", "type": "WORK"}],
        "manager": {"id": "m", "selfUri": "/api/v2/users/m"}
    });
    definitions().check("User", &user, "User", false, &mut problems);
    // version missing, nickname unknown, state and mediaType outside their enums; the manager reference is fine.
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(fits_template(
        "Rate limit exceeded the maximum [5] requests within [60] seconds",
        "Rate limit exceeded the maximum [%s] requests within [%s] seconds"
    ));
    assert!(!fits_template(
        "Rate limit exceeded",
        "Rate limit exceeded the maximum [%s] requests within [%s] seconds"
    ));
}
