//! Helpers shared by the look-alike's integration tests: start a mock, get a token, call it over real HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use genesys_mock::{MockConfig, MockHandle};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// A running mock with an HTTP client and a token.
pub struct Mock {
    pub handle: MockHandle,
    pub http: Client,
    pub token: String,
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Starts a mock with `config` and fetches a token.
pub async fn start(config: MockConfig) -> Mock {
    let handle = genesys_mock::spawn(config).await.unwrap();
    let http = client();
    let token = token(&http, &handle.base_url()).await;
    Mock {
        handle,
        http,
        token,
    }
}

/// A small organisation with an unlimited budget.
pub async fn start_small() -> Mock {
    start(MockConfig {
        users: 120,
        rate_limit: 0,
        ..MockConfig::default()
    })
    .await
}

pub async fn token(http: &Client, base: &str) -> String {
    let response = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(
            genesys_mock::DEFAULT_CLIENT_ID,
            Some(genesys_mock::DEFAULT_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

impl Mock {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url())
    }

    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(Method::GET, path).send().await.unwrap()
    }

    /// GET that may fail at the transport level (for dropped connections).
    pub async fn get_raw(&self, path: &str) -> reqwest::Result<Response> {
        self.req(Method::GET, path).send().await
    }

    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.req(method, path).json(body).send().await.unwrap()
    }

    /// GET returning status and JSON body.
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn call(&self, method: Method, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self.send_json(method, path, body).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// The current version of a user, read through the API.
    pub async fn version(&self, id: &str) -> u64 {
        let (status, user) = self.get_json(&format!("/api/v2/users/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user["version"].as_u64().unwrap()
    }
}
