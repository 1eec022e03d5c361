//! Every failure the look-alike can produce, over real HTTP, lands in the right `ErrorKind` with its status,
//! ErrorBody, correlation id and rate-limit headers; the request gate sees every API request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use genesys::{
    ErrorKind, GateDecision, GenesysClient, RequestGate, RequestInfo, ResponseMeta, UpdateUser,
    UserRoutingLanguagePost,
};
use genesys_mock::{Faults, Force429, MockConfig};
use support::{client_config, mock_config, start, start_with_client, user_id};

#[tokio::test]
async fn a_429_is_rate_limited_with_the_servers_retry_after() {
    let (mock, client) = start_with_client(mock_config()).await;
    mock.set_faults(Faults {
        force_429: Some(Force429 {
            for_secs: 600,
            retry_after_secs: 7,
        }),
        ..Faults::default()
    })
    .unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Duration::from_secs(7),
            exceeds_daily_limit: false
        }
    );
    assert!(err.kind().is_retryable());
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.code(), Some("too.many.requests"));
    assert_eq!(err.server_retry_after(), Some(Duration::from_secs(7)));
    assert!(err.correlation_id().is_some());
    assert!(err.to_string().contains("retry after 7"), "{err}");
    assert_eq!(
        mock.stats().throttled,
        1,
        "no retry inside the client: the caller reschedules"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_180_s_is_a_daily_limit() {
    let (mock, client) = start_with_client(mock_config()).await;
    mock.set_faults(Faults {
        force_429: Some(Force429 {
            for_secs: 600,
            retry_after_secs: 3600,
        }),
        ..Faults::default()
    })
    .unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Duration::from_secs(3600),
            exceeds_daily_limit: true
        }
    );
    assert!(!err.kind().is_retryable());
    assert!(err.to_string().contains("daily limit"), "{err}");
}

#[tokio::test]
async fn exceeding_the_budget_is_rate_limited_and_headers_are_carried() {
    let mock = start(MockConfig {
        rate_limit: 2,
        window: Duration::from_secs(60),
        ..mock_config()
    })
    .await;
    let client = GenesysClient::new(client_config(&mock)).unwrap();
    let first = client.get_user(&user_id(1)).await.unwrap();
    let meta = first.meta().unwrap();
    assert_eq!(meta.rate_limit.allowed, Some(2));
    assert_eq!(meta.rate_limit.count, Some(1));
    assert!(meta.rate_limit.reset.is_some());
    client.get_user(&user_id(2)).await.unwrap();
    let err = client.get_user(&user_id(3)).await.unwrap_err();
    let ErrorKind::RateLimited {
        retry_after,
        exceeds_daily_limit,
    } = err.kind()
    else {
        panic!("expected RateLimited, got {err}");
    };
    assert!(!exceeds_daily_limit);
    assert!(
        retry_after > Duration::ZERO && retry_after <= Duration::from_secs(60),
        "{retry_after:?}"
    );
    assert_eq!(err.rate_limit().allowed, Some(2));
}

#[tokio::test]
async fn server_errors_are_transient_except_501() {
    let (mock, client) = start_with_client(mock_config()).await;
    for status in [500u16, 502, 503, 504] {
        mock.set_faults(Faults {
            error_rate: 1.0,
            error_status: Some(status),
            ..Faults::default()
        })
        .unwrap();
        let err = client.get_user(&user_id(1)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert!(err.body().is_some(), "{status}: the ErrorBody is kept");
        assert!(err.correlation_id().is_some());
    }
}

#[tokio::test]
async fn a_dropped_connection_is_transient() {
    let (mock, client) = start_with_client(mock_config()).await;
    client.get_user(&user_id(1)).await.unwrap();
    mock.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    })
    .unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(err.status(), None);
    assert!(!err.response_received());
    assert!(err.to_string().starts_with("GET /api/v2/users/"), "{err}");
    assert_eq!(mock.stats().dropped, 1);
    // The client recovers once the network does.
    mock.set_faults(Faults::default()).unwrap();
    client.get_user(&user_id(1)).await.unwrap();
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_a_re_read_fixes_it() {
    let (mock, client) = start_with_client(mock_config()).await;
    let id = user_id(5);
    let user = client.get_user(&id).await.unwrap().into_value();
    mock.bump_version(&id).unwrap();
    let update = UpdateUser {
        title: Some("Supervisor".into()),
        ..UpdateUser::new(user.version)
    };
    let err = client.patch_user(&id, &update).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.status(), Some(409));
    assert_eq!(err.code(), Some("general.conflict"));
    assert!(err.to_string().contains("re-read"), "{err}");

    let fresh = client.get_user(&id).await.unwrap().into_value();
    assert_eq!(fresh.version, user.version + 1);
    let updated = client
        .patch_user(
            &id,
            &UpdateUser {
                version: fresh.version,
                ..update
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.value.title.as_deref(), Some("Supervisor"));
}

#[tokio::test]
async fn an_unknown_user_is_a_permanent_404() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let err = client.get_user(&user_id(99_999)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some("not.found"));
    assert_eq!(err.path(), format!("/api/v2/users/{}", user_id(99_999)));
    assert_eq!(err.endpoint(), "/api/v2/users/{userId}");
    assert!(err.to_string().contains("check the user id"), "{err}");
}

#[tokio::test]
async fn an_unknown_external_id_is_a_404_pointing_at_the_authority() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let err = client
        .get_user_by_external_id("gcbulk-demo", "no-such-key")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string().contains("GENESYS_EXTERNAL_ID_AUTHORITY"),
        "{err}"
    );
}

#[tokio::test]
async fn a_rejected_value_is_a_permanent_400() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let id = user_id(6);
    let user = client.get_user(&id).await.unwrap().into_value();
    let bad = UpdateUser {
        email: Some("not-an-email".into()),
        ..UpdateUser::new(user.version)
    };
    let err = client.patch_user(&id, &bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("bad.request"));
    assert!(err.message().contains("not-an-email"), "{}", err.message());
}

#[tokio::test]
async fn a_missing_permission_is_a_permanent_403_naming_the_permission() {
    let (mock, client) = start_with_client(mock_config()).await;
    let id = user_id(8);
    mock.set_faults(Faults {
        fail_user_ids: vec![id.clone()],
        ..Faults::default()
    })
    .unwrap();
    let user = client.get_user(&id).await.unwrap().into_value();
    let err = client
        .patch_user(
            &id,
            &UpdateUser {
                title: Some("x".into()),
                ..UpdateUser::new(user.version)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Permanent);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.code(), Some("missing.permissions"));
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!(
            "403 missing.permissions on PATCH /api/v2/users/{id}: "
        )),
        "{shown}"
    );
    assert!(shown.contains("Directory > User > Edit"), "{shown}");
    assert!(
        shown.contains(&format!(
            "(correlation id {})",
            err.correlation_id().unwrap()
        )),
        "{shown}"
    );
}

#[tokio::test]
async fn correlation_ids_come_with_every_response() {
    let (_mock, client) = start_with_client(mock_config()).await;
    let a = client.get_user(&user_id(1)).await.unwrap();
    let b = client.get_user(&user_id(1)).await.unwrap();
    let (a, b) = (
        a.correlation_id().unwrap().to_owned(),
        b.correlation_id().unwrap().to_owned(),
    );
    assert!(!a.is_empty());
    assert_ne!(a, b);
    let err = client.get_user(&user_id(99_999)).await.unwrap_err();
    // The header and the body's contextId agree.
    assert_eq!(
        err.meta().unwrap().correlation_id.as_deref(),
        err.body().unwrap().context_id.as_deref()
    );
}

#[tokio::test]
async fn over_limit_calls_are_refused_without_sending() {
    let (mock, client) = start_with_client(mock_config()).await;
    let ids: Vec<String> = (1..=101).map(user_id).collect();
    let err = client.get_users_by_ids(&ids).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("101"), "{err}");
    let bulk: Vec<(String, bool)> = (1..=51).map(|i| (user_id(i), true)).collect();
    assert_eq!(
        client
            .patch_users_bulk_acd_auto_answer(&bulk)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    let languages: Vec<UserRoutingLanguagePost> = (0..51)
        .map(|k| UserRoutingLanguagePost {
            id: format!("l{k}"),
            proficiency: 1.0,
        })
        .collect();
    assert_eq!(
        client
            .patch_routing_languages_bulk(&user_id(1), &languages)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    let emails: Vec<String> = (1..=101).map(genesys_mock::seed::user_email).collect();
    assert_eq!(
        client
            .search_users_by_emails(&emails)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    let stats = mock.stats();
    assert_eq!(stats.api_requests, 0);
    assert_eq!(stats.token_requests, 0);
}

/// Records what the gate is asked and told; answers with a fixed decision.
struct RecordingGate {
    decision: GateDecision,
    before: Mutex<Vec<RequestInfo>>,
    after: Mutex<Vec<(RequestInfo, u16)>>,
}

impl RecordingGate {
    fn new(decision: GateDecision) -> Arc<Self> {
        Arc::new(Self {
            decision,
            before: Mutex::new(Vec::new()),
            after: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl RequestGate for RecordingGate {
    async fn before_request(&self, request: &RequestInfo) -> GateDecision {
        self.before.lock().unwrap().push(request.clone());
        self.decision
    }
    async fn after_response(&self, request: &RequestInfo, meta: &ResponseMeta) {
        self.after
            .lock()
            .unwrap()
            .push((request.clone(), meta.status));
    }
}

#[tokio::test]
async fn the_gate_sees_every_api_request_and_response_but_no_token_request() {
    let mock = start(mock_config()).await;
    let gate = RecordingGate::new(GateDecision::Go);
    let client = GenesysClient::builder(client_config(&mock))
        .request_gate(gate.clone())
        .build()
        .unwrap();
    client.get_user(&user_id(1)).await.unwrap();
    client.get_user(&user_id(99_999)).await.unwrap_err();
    mock.revoke_tokens();
    client
        .search_users_by_emails(&["user2@example.com"])
        .await
        .unwrap();

    let before = gate.before.lock().unwrap().clone();
    let after = gate.after.lock().unwrap().clone();
    let stats = mock.stats();
    assert_eq!(
        before.len() as u64,
        stats.api_requests,
        "asked once per API request (the 401 retry included)"
    );
    assert_eq!(after.len() as u64, stats.api_requests);
    assert_eq!(stats.token_requests, 2);
    assert_eq!(before[0].method, "GET");
    assert_eq!(before[0].endpoint, "/api/v2/users/{userId}");
    assert_eq!(before[0].path, format!("/api/v2/users/{}", user_id(1)));
    let statuses: Vec<u16> = after.iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, vec![200, 404, 401, 200]);
    assert_eq!(after[3].0.endpoint, "/api/v2/users/search");
}

#[tokio::test]
async fn a_throttling_gate_stops_the_request_before_it_is_sent() {
    let mock = start(mock_config()).await;
    let until = SystemTime::now() + Duration::from_secs(42);
    let gate = RecordingGate::new(GateDecision::ThrottledUntil(until));
    let client = GenesysClient::builder(client_config(&mock))
        .request_gate(gate.clone())
        .build()
        .unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    let ErrorKind::RateLimited { retry_after, .. } = err.kind() else {
        panic!("{err}")
    };
    assert!(
        retry_after > Duration::from_secs(30) && retry_after <= Duration::from_secs(42),
        "{retry_after:?}"
    );
    assert!(!err.response_received());
    assert!(err.to_string().contains("not sent"), "{err}");
    assert_eq!(mock.stats().api_requests, 0);
    assert!(gate.after.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_waiting_gate_delays_but_sends() {
    let mock = start(mock_config()).await;
    let gate = RecordingGate::new(GateDecision::WaitThenGo(Duration::from_millis(20)));
    let client = GenesysClient::builder(client_config(&mock))
        .request_gate(gate.clone())
        .build()
        .unwrap();
    client.get_user(&user_id(1)).await.unwrap();
    assert_eq!(mock.stats().ok, 1);
    assert_eq!(gate.after.lock().unwrap().len(), 1);
}
