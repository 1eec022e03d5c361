//! Token handling against the look-alike over real HTTP: fetch once, reuse, refresh on expiry and on 401,
//! typed errors for wrong credentials and an unreachable login host.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use genesys::{
    AccessToken, ClientConfig, ErrorKind, GenesysClient, MemoryTokenStore, RefreshPermit,
    SecretString, TokenStore, TokenStoreError,
};
use genesys_mock::MockConfig;
use support::{RevokingGate, client_config, mock_config, start, start_with_client, user_id};

#[tokio::test]
async fn a_token_is_fetched_once_and_reused() {
    let (mock, client) = start_with_client(mock_config()).await;
    for i in 1..=5 {
        let user = client.get_user(&user_id(i)).await.unwrap().into_value();
        assert_eq!(user.id, user_id(i));
    }
    let stats = mock.stats();
    assert_eq!(stats.token_requests, 1, "one token for five calls");
    assert_eq!(stats.ok, 5);
}

#[tokio::test]
async fn concurrent_first_calls_share_one_token_request() {
    let (mock, client) = start_with_client(mock_config()).await;
    let calls = (1..=20).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.get_user(&user_id(i)).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert_eq!(mock.stats().token_requests, 1);
}

#[tokio::test]
async fn fetch_token_returns_a_usable_token_with_its_expiry() {
    let mock = start(MockConfig {
        token_ttl: Duration::from_secs(3600),
        ..mock_config()
    })
    .await;
    let client = GenesysClient::new(client_config(&mock)).unwrap();
    let token = client.fetch_token().await.unwrap();
    assert!(token.is_fresh());
    let left = token
        .expires_at()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(3000) && left <= Duration::from_secs(3600),
        "{left:?}"
    );
    // fetch_token bypasses the store: the next API call still fetches its own.
    client.get_user(&user_id(1)).await.unwrap();
    assert_eq!(mock.stats().token_requests, 2);
}

#[tokio::test]
async fn a_revoked_token_is_replaced_once_and_the_call_succeeds() {
    let (mock, client) = start_with_client(mock_config()).await;
    client.get_user(&user_id(1)).await.unwrap();
    mock.revoke_tokens();
    let user = client.get_user(&user_id(2)).await.unwrap().into_value();
    assert_eq!(user.id, user_id(2));
    let stats = mock.stats();
    assert_eq!(
        stats.unauthorized, 1,
        "one 401, then the retry with a fresh token"
    );
    assert_eq!(stats.token_requests, 2);
    assert_eq!(stats.ok, 2);
}

/// A store that believes every token lives an hour, whatever the server said: the client only learns of the
/// expiry from the 401.
#[derive(Default)]
struct OverconfidentStore(MemoryTokenStore);

#[async_trait]
impl TokenStore for OverconfidentStore {
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError> {
        self.0.load().await
    }
    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError> {
        let later = token.expires_at() + Duration::from_secs(3600);
        self.0
            .save(&AccessToken::from_parts(
                token.secret().clone(),
                later,
                later,
            ))
            .await
    }
    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError> {
        self.0.discard(stale).await
    }
    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError> {
        self.0.try_begin_refresh().await
    }
}

#[tokio::test]
async fn a_token_expired_at_the_server_is_refreshed_after_the_401() {
    let mock = start(MockConfig {
        token_ttl: Duration::from_secs(1),
        ..mock_config()
    })
    .await;
    let client = GenesysClient::builder(client_config(&mock))
        .token_store(Arc::new(OverconfidentStore::default()))
        .build()
        .unwrap();
    client.get_user(&user_id(1)).await.unwrap();
    // Wait until the server has expired the token (polled, bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while mock.stats().unauthorized == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the token never expired at the server"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        client.get_user(&user_id(3)).await.unwrap();
    }
    let stats = mock.stats();
    assert_eq!(stats.token_requests, 2);
    assert_eq!(stats.unauthorized, 1);
}

#[tokio::test]
async fn a_token_near_its_expiry_is_replaced_before_use() {
    let mock = start(MockConfig {
        token_ttl: Duration::from_secs(4),
        ..mock_config()
    })
    .await;
    let client = GenesysClient::new(client_config(&mock)).unwrap();
    let first = client.access_token().await.unwrap();
    // Wait (bounded) until the token is due for refresh: 10% of its 4 s lifetime before it expires.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while first.is_fresh() {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.get_user(&user_id(1)).await.unwrap();
    let stats = mock.stats();
    assert_eq!(stats.token_requests, 2, "a new token was fetched");
    assert_eq!(stats.unauthorized, 0, "without sending the old one");
}

#[tokio::test]
async fn a_second_401_after_the_refresh_is_an_auth_error() {
    let mock = Arc::new(start(mock_config()).await);
    let client = GenesysClient::builder(client_config(&mock))
        .request_gate(Arc::new(RevokingGate(mock.clone())))
        .build()
        .unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("bad.credentials"));
    assert!(err.correlation_id().is_some());
    let stats = mock.stats();
    assert_eq!(stats.unauthorized, 2, "exactly one retry");
    assert_eq!(stats.token_requests, 2, "exactly one refresh");
}

#[tokio::test]
async fn wrong_credentials_are_a_distinct_error_naming_the_variables() {
    let mock = start(mock_config()).await;
    let config = ClientConfig {
        client_secret: SecretString::from("not-the-secret"),
        ..client_config(&mock)
    };
    let client = GenesysClient::new(config).unwrap();
    for err in [
        client.fetch_token().await.unwrap_err(),
        client.get_user(&user_id(1)).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::InvalidCredentials);
        assert_eq!(err.status(), Some(401));
        assert_eq!(err.code(), Some("invalid_client"));
        let shown = err.to_string();
        assert!(
            shown.contains("GENESYS_CLIENT_ID") && shown.contains("GENESYS_CLIENT_SECRET"),
            "{shown}"
        );
    }
    assert_eq!(mock.stats().api_requests, 0, "no API call without a token");
}

#[tokio::test]
async fn an_unreachable_login_host_is_its_own_kind() {
    // A port that was just free: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = ClientConfig::for_base_url(
        &format!("http://127.0.0.1:{port}"),
        "gcbulk-demo",
        SecretString::from("gcbulk-demo-secret"),
    )
    .unwrap();
    let client = GenesysClient::new(config).unwrap();
    let err = client.get_user(&user_id(1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LoginUnreachable);
    assert!(err.kind().is_retryable());
    assert_eq!(err.status(), None);
    let shown = err.to_string();
    assert!(
        shown.contains("login") && shown.contains(&port.to_string()),
        "{shown}"
    );
}

/// A fleet-like store: this process never gets the refresh right at first; "another process" saves a token a
/// moment later, and the client must pick it up instead of fetching its own.
struct OtherProcessRefreshes {
    inner: MemoryTokenStore,
    refusals: AtomicUsize,
    other_started: AtomicBool,
    fetcher: GenesysClient,
}

#[async_trait]
impl TokenStore for OtherProcessRefreshes {
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError> {
        self.inner.load().await
    }
    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError> {
        self.inner.save(token).await
    }
    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError> {
        self.inner.discard(stale).await
    }
    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError> {
        if !self.other_started.swap(true, Ordering::SeqCst) {
            let fetcher = self.fetcher.clone();
            let inner = self.inner.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let token = fetcher.fetch_token().await.unwrap();
                inner.save(&token).await.unwrap();
            });
        }
        self.refusals.fetch_add(1, Ordering::SeqCst);
        Ok(None)
    }
}

#[tokio::test]
async fn a_waiting_process_uses_the_token_another_one_saved() {
    let mock = start(mock_config()).await;
    let store = Arc::new(OtherProcessRefreshes {
        inner: MemoryTokenStore::new(),
        refusals: AtomicUsize::new(0),
        other_started: AtomicBool::new(false),
        fetcher: GenesysClient::new(client_config(&mock)).unwrap(),
    });
    let client = GenesysClient::builder(client_config(&mock))
        .token_store(store.clone())
        .build()
        .unwrap();
    let user = client.get_user(&user_id(4)).await.unwrap().into_value();
    assert_eq!(user.id, user_id(4));
    assert_eq!(
        mock.stats().token_requests,
        1,
        "only the other process fetched a token"
    );
    assert!(store.refusals.load(Ordering::SeqCst) >= 1);
}
