//! Shared set-up for the contract tests: a look-alike on 127.0.0.1:0 and a client pointed at it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use genesys::{
    AccessToken, ClientConfig, ExposeSecret, GenesysClient, MemoryTokenStore, RefreshPermit,
    SecretString,
};
use genesys::{TokenStore, TokenStoreError};
use genesys_mock::{MockConfig, MockHandle};

/// Users seeded by default in these tests (small: start-up stays fast).
pub const USERS: usize = 120;

/// The look-alike's configuration used by most tests.
pub fn mock_config() -> MockConfig {
    MockConfig {
        users: USERS,
        rate_limit: 0,
        ..MockConfig::default()
    }
}

/// A client configuration for `mock`, with the mock's default credentials.
pub fn client_config(mock: &MockHandle) -> ClientConfig {
    ClientConfig::for_base_url(
        &mock.base_url(),
        genesys_mock::DEFAULT_CLIENT_ID,
        SecretString::from(genesys_mock::DEFAULT_CLIENT_SECRET),
    )
    .unwrap()
    .with_request_timeout(Duration::from_secs(20))
}

/// Starts a look-alike.
pub async fn start(config: MockConfig) -> MockHandle {
    genesys_mock::spawn(config).await.unwrap()
}

/// Starts a look-alike and a default client for it.
pub async fn start_with_client(config: MockConfig) -> (MockHandle, GenesysClient) {
    let mock = start(config).await;
    let client = GenesysClient::new(client_config(&mock)).unwrap();
    (mock, client)
}

/// Id of seeded user `i`.
pub fn user_id(i: usize) -> String {
    genesys_mock::seed::user_id(i)
}

/// A token store that remembers every token saved in it (so tests can look for them in logs and errors).
#[derive(Default, Clone)]
pub struct RecordingStore {
    pub inner: MemoryTokenStore,
    pub saved: Arc<Mutex<Vec<String>>>,
}

impl RecordingStore {
    pub fn tokens(&self) -> Vec<String> {
        self.saved.lock().unwrap().clone()
    }
}

#[async_trait]
impl TokenStore for RecordingStore {
    async fn load(&self) -> Result<Option<AccessToken>, TokenStoreError> {
        self.inner.load().await
    }

    async fn save(&self, token: &AccessToken) -> Result<(), TokenStoreError> {
        self.saved
            .lock()
            .unwrap()
            .push(token.secret().expose_secret().to_owned());
        self.inner.save(token).await
    }

    async fn discard(&self, stale: &AccessToken) -> Result<(), TokenStoreError> {
        self.inner.discard(stale).await
    }

    async fn try_begin_refresh(&self) -> Result<Option<RefreshPermit>, TokenStoreError> {
        self.inner.try_begin_refresh().await
    }
}

/// A gate that revokes every token at the look-alike just before each request, so even the retry after a
/// token refresh is refused (provokes `ErrorKind::Auth`).
pub struct RevokingGate(pub Arc<MockHandle>);

#[async_trait]
impl genesys::RequestGate for RevokingGate {
    async fn before_request(&self, _request: &genesys::RequestInfo) -> genesys::GateDecision {
        self.0.revoke_tokens();
        genesys::GateDecision::Go
    }
    async fn after_response(&self, _request: &genesys::RequestInfo, _meta: &genesys::ResponseMeta) {
    }
}
