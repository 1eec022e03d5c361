//! What a client of the look-alike relies on: versions and conflicts, the update rules, lookups, the rate
//! budget, faults changed at runtime, the counters, tokens and the seeded data.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use genesys_mock::{Faults, Force429, MockConfig, seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn user_path(i: usize) -> String {
    format!("/api/v2/users/{}", seed::user_id(i))
}

fn header(response: &reqwest::Response, name: &str) -> Option<u64> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

// --- Users: versions and update rules ---------------------------------------------------------------------

#[tokio::test]
async fn a_patch_with_the_current_version_applies_and_a_stale_one_conflicts() {
    let mock = common::start_small().await;
    let path = user_path(10);
    let version = mock.version(&seed::user_id(10)).await;

    let (status, user) = mock
        .call(
            Method::PATCH,
            &path,
            &json!({"version": version, "title": "Coach"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        (user["title"].as_str(), user["version"].as_u64()),
        (Some("Coach"), Some(version + 1))
    );

    // The same request again carries a version that is no longer current.
    let (status, error) = mock
        .call(
            Method::PATCH,
            &path,
            &json!({"version": version, "title": "Other"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error["code"], "general.conflict");
    assert_eq!(
        error["message"],
        "The version supplied does not match the current version of the user"
    );
    let (_, now) = mock.get_json(&path).await;
    assert_eq!(
        (now["title"].as_str(), now["version"].as_u64()),
        (Some("Coach"), Some(version + 1))
    );
}

#[tokio::test]
async fn a_state_change_travels_alone() {
    let mock = common::start_small().await;
    let id = seed::user_id(11);
    let path = user_path(11);
    let version = mock.version(&id).await;

    let (status, error) = mock
        .call(
            Method::PATCH,
            &path,
            &json!({"version": version, "state": "inactive", "name": "X"}),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad.request"))
    );

    let (status, user) = mock
        .call(
            Method::PATCH,
            &path,
            &json!({"version": version, "state": "inactive"}),
        )
        .await;
    assert_eq!(
        (status, user["state"].as_str()),
        (StatusCode::OK, Some("inactive"))
    );

    // Inactive users are still readable by id, and listed only when asked for.
    assert_eq!(mock.get_json(&path).await.0, StatusCode::OK);
    let (_, active) = mock.get_json(&format!("/api/v2/users?id={id}")).await;
    assert_eq!(active["total"], 0);
    let (_, any) = mock
        .get_json(&format!("/api/v2/users?id={id}&state=any"))
        .await;
    assert_eq!(any["entities"][0]["id"], id);
}

#[tokio::test]
async fn manager_addresses_and_email_are_applied_as_the_api_describes() {
    let mock = common::start_small().await;
    let id = seed::user_id(12);
    let path = user_path(12);
    let version = mock.version(&id).await;
    let body = json!({
        "version": version,
        "manager": seed::user_id(3),
        "email": "renamed12@example.com",
        "addresses": [{"mediaType": "PHONE", "type": "WORK", "extension": "1212"}]
    });
    let (status, user) = mock.call(Method::PATCH, &path, &body).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    // The manager comes back as a reference; the address list was replaced, not merged.
    assert_eq!(
        user["manager"],
        json!({"id": seed::user_id(3), "selfUri": user_path(3)})
    );
    assert_eq!(
        user["addresses"],
        json!([{"display": "1212", "extension": "1212", "mediaType": "PHONE", "type": "WORK"}])
    );

    // The new email finds the user; the old one no longer does.
    let search =
        |email: &str| json!({"query": [{"type": "EXACT", "fields": ["email"], "value": email}]});
    let (_, found) = mock
        .call(
            Method::POST,
            "/api/v2/users/search",
            &search("renamed12@example.com"),
        )
        .await;
    assert_eq!(found["results"][0]["id"], id);
    let (_, found) = mock
        .call(
            Method::POST,
            "/api/v2/users/search",
            &search("user12@example.com"),
        )
        .await;
    assert_eq!(found["total"], 0);

    // Another user's email, an unknown manager, and the user itself as manager are refused.
    let version = version + 1;
    for body in [
        json!({"version": version, "email": "user13@example.com"}),
        json!({"version": version, "manager": "00000000-0000-4000-8000-999999999999"}),
        json!({"version": version, "manager": id}),
    ] {
        let (status, error) = mock.call(Method::PATCH, &path, &body).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("bad.request")),
            "{body}"
        );
    }
    // An empty manager removes it.
    let (_, user) = mock
        .call(
            Method::PATCH,
            &path,
            &json!({"version": version, "manager": ""}),
        )
        .await;
    assert!(user.get("manager").is_none(), "{user}");
}

#[tokio::test]
async fn unknown_users_are_404_everywhere() {
    let mock = common::start_small().await;
    let missing = user_path(5_000);
    assert_eq!(mock.get_json(&missing).await.0, StatusCode::NOT_FOUND);
    let (status, error) = mock
        .call(
            Method::PATCH,
            &missing,
            &json!({"version": 1, "title": "x"}),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not.found"))
    );
    assert_eq!(
        mock.get_json(&format!("{missing}/routingskills")).await.0,
        StatusCode::NOT_FOUND
    );
    let skills = json!([{"id": seed::skill_id(1), "proficiency": 2}]);
    assert_eq!(
        mock.call(
            Method::PUT,
            &format!("{missing}/routingskills/bulk"),
            &skills
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let authority = genesys_mock::DEFAULT_EXTERNAL_ID_AUTHORITY;
    let (status, _) = mock
        .get_json(&format!("/api/v2/users/externalid/{authority}/ext-5000"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// --- Lookups ----------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_are_found_by_email_external_id_and_id_list() {
    let mock = common::start_small().await;
    let search = json!({"pageSize": 10, "query": [{"type": "EXACT", "fields": ["email"], "values": ["User21@Example.com", "user22@example.com"]}]});
    let (status, found) = mock
        .call(Method::POST, "/api/v2/users/search", &search)
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [seed::user_id(21), seed::user_id(22)]);

    // User 50 starts inactive: search finds it only when a criterion names the state.
    let inactive =
        json!({"query": [{"type": "EXACT", "fields": ["email"], "value": "user50@example.com"}]});
    assert_eq!(
        mock.call(Method::POST, "/api/v2/users/search", &inactive)
            .await
            .1["total"],
        0
    );
    let with_state = json!({"query": [
        {"type": "EXACT", "fields": ["email"], "value": "user50@example.com"},
        {"type": "EXACT", "fields": ["state"], "values": ["active", "inactive"]}
    ]});
    assert_eq!(
        mock.call(Method::POST, "/api/v2/users/search", &with_state)
            .await
            .1["total"],
        1
    );

    let authority = genesys_mock::DEFAULT_EXTERNAL_ID_AUTHORITY;
    let (_, user) = mock
        .get_json(&format!("/api/v2/users/externalid/{authority}/ext-33"))
        .await;
    assert_eq!(user["email"], "user33@example.com");

    let (_, listing) = mock
        .get_json(&format!(
            "/api/v2/users?id={}&id={}&id=unknown&pageSize=3&state=any",
            seed::user_id(50),
            seed::user_id(51)
        ))
        .await;
    assert_eq!(listing["total"], 2);
    // Paging without ids walks the whole organisation (118 active users of 120).
    let (_, page) = mock
        .get_json("/api/v2/users?pageSize=50&pageNumber=3")
        .await;
    assert_eq!(
        (page["total"].as_u64(), page["pageCount"].as_u64()),
        (Some(118), Some(3))
    );
    assert_eq!(page["entities"].as_array().unwrap().len(), 18);
}

#[tokio::test]
async fn bulk_auto_answer_skills_and_languages_change_what_later_reads_see() {
    let mock = common::start_small().await;
    let (a, b) = (seed::user_id(30), seed::user_id(31));
    let version_a = mock.version(&a).await;
    let body = json!([{"id": a, "acdAutoAnswer": true}, {"id": b, "acdAutoAnswer": false}]);
    let (status, listing) = mock.call(Method::PATCH, "/api/v2/users/bulk", &body).await;
    assert_eq!(status, StatusCode::OK, "{listing}");
    assert_eq!(listing["entities"][0]["acdAutoAnswer"], true);
    assert_eq!(listing["entities"][1]["acdAutoAnswer"], false);
    assert_eq!(mock.version(&a).await, version_a + 1);

    let skills = format!("/api/v2/users/{a}/routingskills/bulk");
    mock.call(
        Method::PUT,
        &skills,
        &json!([{"id": seed::skill_id(1), "proficiency": 2}]),
    )
    .await;
    let (_, listing) =
        mock.call(Method::PATCH, &skills, &json!([{"id": seed::skill_id(1), "proficiency": 5}, {"id": seed::skill_id(4), "proficiency": 3}])).await;
    let got: Vec<(String, f64)> = listing["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["proficiency"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("Skill 1".to_owned(), 5.0), ("Skill 4".to_owned(), 3.0)]
    );

    let languages = format!("/api/v2/users/{a}/routinglanguages/bulk");
    mock.call(
        Method::PATCH,
        &languages,
        &json!([{"id": seed::language_id(2), "proficiency": 4}]),
    )
    .await;
    let (_, user) = mock
        .get_json(&format!("/api/v2/users/{a}?expand=skills,languages"))
        .await;
    assert_eq!(user["skills"].as_array().unwrap().len(), 2);
    assert!(
        user["languages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "German" && l["proficiency"] == 4.0)
    );
    // The admin view agrees.
    let admin = mock.handle.user(&a).unwrap();
    assert_eq!(admin["skills"], user["skills"]);

    // Catalogue lookups by name are "starts with", case-insensitive.
    let (_, found) = mock.get_json("/api/v2/routing/skills?name=SKILL%204").await;
    assert_eq!(found["entities"][0]["id"], seed::skill_id(4));
    let (_, found) = mock.get_json("/api/v2/routing/skills?name=Skill").await;
    assert_eq!(found["total"], 10);
}

// --- The rate budget --------------------------------------------------------------------------------------

#[tokio::test]
async fn the_budget_is_announced_in_headers_and_enforced_with_429_and_retry_after() {
    let mock = common::start(MockConfig {
        users: 20,
        rate_limit: 3,
        window: Duration::from_secs(60),
        ..MockConfig::default()
    })
    .await;
    for expected in 1..=3 {
        let response = mock.get(&user_path(1)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "inin-ratelimit-count"), Some(expected));
        assert_eq!(header(&response, "inin-ratelimit-allowed"), Some(3));
        let reset = header(&response, "inin-ratelimit-reset").unwrap();
        assert!((1..=60).contains(&reset), "reset {reset}");
    }
    let response = mock.get(&user_path(1)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = header(&response, "retry-after").unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(header(&response, "inin-ratelimit-count"), Some(3));
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "too.many.requests");
    assert_eq!(
        error["message"],
        "Rate limit exceeded the maximum [3] requests within [60] seconds"
    );

    // A request right behind the 429 may have been in flight before the client could know: it always counts
    // as strict, and as a violation only once RETRY_AFTER_GRACE has passed (the limiter's unit test pins that).
    assert_eq!(
        mock.get(&user_path(1)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let before = mock.handle.stats();
    assert_eq!(before.requests_during_retry_after_strict, 1);
    // Asking again later, still before Retry-After has passed, is refused and counted.
    tokio::time::sleep(genesys_mock::RETRY_AFTER_GRACE + Duration::from_millis(100)).await;
    assert_eq!(
        mock.get(&user_path(1)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let stats = mock.handle.stats();
    assert_eq!(stats.throttled, 3);
    assert_eq!(
        stats.requests_during_retry_after,
        before.requests_during_retry_after + 1
    );
    assert_eq!(stats.requests_during_retry_after_strict, 2);
    assert_eq!(stats.count("GET /api/v2/users/{userId}", "429"), 3);
}

#[tokio::test]
async fn a_client_that_waits_for_retry_after_gets_in_and_is_not_counted_as_early() {
    let mock = common::start(MockConfig {
        users: 20,
        rate_limit: 2,
        window: Duration::from_secs(1),
        ..MockConfig::default()
    })
    .await;
    // Two requests per second are allowed; twenty quick ones meet a 429 even on a slow machine.
    let mut retry_after = None;
    for _ in 0..20 {
        let response = mock.get(&user_path(1)).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = header(&response, "retry-after");
            break;
        }
    }
    let retry_after = retry_after.expect("more than 2 requests in a 1 s window are refused");
    tokio::time::sleep(Duration::from_secs(retry_after) + Duration::from_millis(50)).await;
    assert_eq!(mock.get(&user_path(1)).await.status(), StatusCode::OK);
    let stats = mock.handle.stats();
    assert_eq!(
        (
            stats.requests_during_retry_after,
            stats.requests_during_retry_after_strict
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn all_tokens_of_a_client_share_one_budget() {
    let mock = common::start(MockConfig {
        users: 20,
        rate_limit: 4,
        window: Duration::from_secs(60),
        ..MockConfig::default()
    })
    .await;
    let second = common::token(&mock.http, &mock.handle.base_url()).await;
    assert_ne!(second, mock.token);
    let with = |token: &str| {
        mock.http
            .get(mock.url(&user_path(2)))
            .bearer_auth(token.to_owned())
            .send()
    };
    for token in [&mock.token, &second, &mock.token, &second] {
        assert_eq!(with(token).await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        with(&second).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        with(&mock.token).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Token requests do not draw on the API budget.
    common::token(&mock.http, &mock.handle.base_url()).await;
    assert_eq!(mock.handle.stats().token_requests, 3);
}

#[tokio::test]
async fn the_budget_can_be_changed_at_runtime() {
    let mock = common::start(MockConfig {
        users: 20,
        rate_limit: 1,
        window: Duration::from_secs(60),
        ..MockConfig::default()
    })
    .await;
    assert_eq!(mock.get(&user_path(1)).await.status(), StatusCode::OK);
    assert_eq!(
        mock.get(&user_path(1)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let response = mock
        .http
        .post(mock.url("/__mock/limit"))
        .json(&json!({"rate_limit": 0, "window_secs": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = mock.get(&user_path(1)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("inin-ratelimit-allowed").is_none(),
        "unlimited: no budget headers"
    );
    let (_, limit) = {
        let response = mock
            .http
            .get(mock.url("/__mock/limit"))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(limit, json!({"rate_limit": 0, "window_secs": 60.0}));
}

#[tokio::test]
async fn a_forced_429_period_refuses_everything_with_its_retry_after_then_ends() {
    let mock = common::start_small().await;
    mock.handle
        .set_faults(Faults {
            force_429: Some(Force429 {
                for_secs: 600,
                retry_after_secs: 7,
            }),
            ..Faults::default()
        })
        .unwrap();
    for path in [user_path(1), "/api/v2/users".to_owned()] {
        let response = mock.get(&path).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "retry-after"), Some(7));
    }
    // The token endpoint is not affected.
    common::token(&mock.http, &mock.handle.base_url()).await;

    // A short period ends by itself.
    mock.handle
        .set_faults(Faults {
            force_429: Some(Force429 {
                for_secs: 1,
                retry_after_secs: 1,
            }),
            ..Faults::default()
        })
        .unwrap();
    assert_eq!(
        mock.get(&user_path(1)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if mock.get(&user_path(1)).await.status() == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the forced period never ended"
        );
    }
}

// --- Faults -----------------------------------------------------------------------------------------------

#[tokio::test]
async fn injected_errors_and_drops_follow_the_faults_set_at_runtime() {
    let mock = common::start_small().await;
    mock.handle
        .set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let (status, error) = mock.get_json(&user_path(1)).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("service.unavailable"))
    );

    // Through the admin route, as a test driving the binary would.
    let faults = json!({"error_rate": 1.0, "error_status": 502});
    let response = mock
        .http
        .post(mock.url("/__mock/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        mock.get(&user_path(1)).await.status(),
        StatusCode::BAD_GATEWAY
    );
    let current: Value = mock
        .http
        .get(mock.url("/__mock/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["error_status"], 502);
    let invalid = mock
        .http
        .post(mock.url("/__mock/faults"))
        .json(&json!({"error_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);

    mock.handle
        .set_faults(Faults {
            drop_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let dropped = mock.get_raw(&user_path(1)).await;
    assert!(
        dropped.is_err(),
        "a dropped request gets no response: {dropped:?}"
    );

    mock.handle
        .set_faults(Faults {
            latency_ms: 20,
            latency_jitter_ms: 10,
            ..Faults::default()
        })
        .unwrap();
    assert_eq!(mock.get(&user_path(1)).await.status(), StatusCode::OK);

    let stats = mock.handle.stats();
    assert_eq!((stats.injected_errors, stats.dropped, stats.ok), (2, 1, 1));
    assert_eq!(stats.count("GET /api/v2/users/{userId}", "dropped"), 1);
}

#[tokio::test]
async fn a_fraction_of_requests_fails_when_a_rate_is_set() {
    let mock = common::start_small().await;
    mock.handle
        .set_faults(Faults {
            error_rate: 0.3,
            ..Faults::default()
        })
        .unwrap();
    let mut failed = 0;
    for _ in 0..200 {
        if mock.get(&user_path(1)).await.status() == StatusCode::SERVICE_UNAVAILABLE {
            failed += 1;
        }
    }
    assert!(
        (20..=100).contains(&failed),
        "{failed} of 200 failed at a rate of 0.3"
    );
}

#[tokio::test]
async fn a_conflict_rate_makes_a_concurrent_edit_win() {
    let mock = common::start_small().await;
    let id = seed::user_id(40);
    let version = mock.version(&id).await;
    mock.handle
        .set_faults(Faults {
            conflict_rate: 1.0,
            ..Faults::default()
        })
        .unwrap();
    let (status, error) = mock
        .call(
            Method::PATCH,
            &user_path(40),
            &json!({"version": version, "title": "T"}),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::CONFLICT, Some("general.conflict"))
    );
    mock.handle.set_faults(Faults::default()).unwrap();
    // Re-reading gives the bumped version, which then applies.
    let fresh = mock.version(&id).await;
    assert_eq!(fresh, version + 1);
    assert_eq!(
        mock.call(
            Method::PATCH,
            &user_path(40),
            &json!({"version": fresh, "title": "T"})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(mock.handle.stats().injected_conflicts, 1);

    // The admin bump does the same on demand.
    let bumped: Value = mock
        .http
        .post(mock.url(&format!("/__mock/users/{id}/bump")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bumped["version"], fresh + 2);
}

#[tokio::test]
async fn poisoned_users_refuse_writes_but_not_reads() {
    let mock = common::start_small().await;
    let (bad, good) = (seed::user_id(60), seed::user_id(61));
    mock.handle
        .set_faults(Faults {
            fail_user_ids: vec![bad.clone()],
            fail_user_status: Some(400),
            ..Faults::default()
        })
        .unwrap();
    let version = mock.version(&bad).await;
    let good_version = mock.version(&good).await;
    let (status, error) = mock
        .call(
            Method::PATCH,
            &user_path(60),
            &json!({"version": version, "title": "x"}),
        )
        .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad.request"))
    );
    let bulk = json!([{"id": good, "acdAutoAnswer": true}, {"id": bad, "acdAutoAnswer": true}]);
    assert_eq!(
        mock.call(Method::PATCH, "/api/v2/users/bulk", &bulk)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // The refused bulk call changed nobody; the good user still takes writes.
    assert_eq!(mock.version(&good).await, good_version);
    assert_eq!(
        mock.call(
            Method::PATCH,
            &user_path(61),
            &json!({"version": good_version, "title": "x"})
        )
        .await
        .0,
        StatusCode::OK
    );
}

// --- Tokens -----------------------------------------------------------------------------------------------

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused_and_a_new_token_works() {
    let mock = common::start(MockConfig {
        users: 5,
        rate_limit: 0,
        token_ttl: Duration::from_secs(1),
        ..MockConfig::default()
    })
    .await;
    assert_eq!(mock.get(&user_path(1)).await.status(), StatusCode::OK);
    let response = mock
        .http
        .post(mock.url("/__mock/tokens/revoke"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let (status, error) = mock.get_json(&user_path(1)).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad.credentials"))
    );

    let fresh = common::token(&mock.http, &mock.handle.base_url()).await;
    let get = || {
        mock.http
            .get(mock.url(&user_path(1)))
            .bearer_auth(fresh.clone())
            .send()
    };
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    // A token lives token_ttl (1 s here).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while get().await.unwrap().status() != StatusCode::UNAUTHORIZED {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(mock.handle.stats().unauthorized, 2);
}

// --- Counters and data ------------------------------------------------------------------------------------

#[tokio::test]
async fn the_stats_count_routes_statuses_writes_and_reset() {
    let mock = common::start_small().await;
    let version = mock.version(&seed::user_id(70)).await;
    mock.call(
        Method::PATCH,
        &user_path(70),
        &json!({"version": version, "title": "x"}),
    )
    .await;
    mock.call(
        Method::PATCH,
        &user_path(70),
        &json!({"version": version, "title": "y"}),
    )
    .await;
    mock.get(&user_path(99_999)).await;

    let stats: genesys_mock::Stats = mock
        .http
        .get(mock.url("/__mock/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            stats.api_requests,
            stats.ok,
            stats.writes,
            stats.writes_ok,
            stats.token_requests
        ),
        (4, 2, 2, 1, 1)
    );
    assert_eq!(stats.count("PATCH /api/v2/users/{userId}", "200"), 1);
    assert_eq!(stats.count("PATCH /api/v2/users/{userId}", "409"), 1);
    assert_eq!(stats.count("GET /api/v2/users/{userId}", "404"), 1);
    assert_eq!(stats.by_status.get("200"), Some(&2));
    let timeline_total: u64 = stats.timeline.iter().map(|s| s.requests).sum();
    assert_eq!(timeline_total, 4);

    let reset = mock
        .http
        .post(mock.url("/__mock/stats/reset"))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    assert_eq!(mock.handle.stats().api_requests, 0);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_organisation() {
    let config = || MockConfig {
        users: 300,
        seed: 7,
        ..MockConfig::default()
    };
    let a = genesys_mock::spawn(config()).await.unwrap();
    let b = genesys_mock::spawn(config()).await.unwrap();
    let c = genesys_mock::spawn(MockConfig {
        seed: 8,
        ..config()
    })
    .await
    .unwrap();
    assert_eq!(a.users(), b.users());
    assert_ne!(a.users(), c.users());
    let users = c.users();
    assert_eq!(users.len(), 300);
    // What does not depend on the seed: ids, emails, external ids, managers, states.
    let u = &users[41];
    assert_eq!(
        (u["id"].as_str(), u["email"].as_str()),
        (Some(seed::user_id(42).as_str()), Some("user42@example.com"))
    );
    assert_eq!(u["externalIds"][0]["externalKey"], "ext-42");
    assert_eq!(u["manager"]["id"], seed::user_id(4));
    assert_eq!(users[149]["state"], "inactive");
    assert!(
        users.iter().any(|u| u["acdAutoAnswer"] == true)
            && users.iter().any(|u| u["acdAutoAnswer"] == false)
    );
    assert!(
        users
            .iter()
            .any(|u| !u["skills"].as_array().unwrap().is_empty())
    );
    a.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_admin_routes_show_the_organisation_and_configuration() {
    let mock = common::start_small().await;
    let users: Vec<Value> = mock
        .http
        .get(mock.url("/__mock/users"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users.len(), 120);
    let one = mock
        .http
        .get(mock.url(&format!("/__mock/users/{}", seed::user_id(5))))
        .send()
        .await
        .unwrap();
    assert!(one.headers().contains_key("inin-correlation-id"));
    assert_eq!(
        one.json::<Value>().await.unwrap()["email"],
        "user5@example.com"
    );
    let missing = mock
        .http
        .get(mock.url("/__mock/users/nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let config: Value = mock
        .http
        .get(mock.url("/__mock/config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["users"], 120);
    assert_eq!(config["client_id"], "gcbulk-demo");
    // Admin calls are not API calls.
    assert_eq!(mock.handle.stats().api_requests, 0);
}
