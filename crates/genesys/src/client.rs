//! The HTTP client: token handling, the request gate, and turning every response into a typed outcome.
//!
//! Every API call goes through the same plumbing here: get a token from the [`TokenStore`], ask the
//! [`RequestGate`], send, report the [`ResponseMeta`] to the gate, on a 401 discard the token and retry once
//! with a fresh one, then classify the response. The typed calls live in [`users`](crate::users) and
//! [`routing`](crate::routing).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{ClientConfig, ConfigError};
use crate::error::{
    ApiError, ErrorBody, ErrorKind, classify_status, describe_transport, fmt_instant,
};
use crate::gate::{GateDecision, OpenGate, RequestGate, RequestInfo};
use crate::meta::ResponseMeta;
use crate::token::{AccessToken, MemoryTokenStore, TokenStore, TokenStoreError};

/// Lifetime assumed when the token endpoint omits `expires_in` (the shortest Genesys allows).
const FALLBACK_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// How often a caller waiting for another process' token refresh looks for the result.
const REFRESH_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Longest error-body excerpt kept when the body is not a Genesys ErrorBody.
const MAX_BODY_EXCERPT: usize = 300;

const TOKEN_PATH: &str = "/oauth/token";

/// A successful call: the decoded value and the metadata of the HTTP response(s) it took.
#[derive(Debug, Clone)]
pub struct ApiResponse<T> {
    /// The decoded result.
    pub value: T,
    /// One entry per HTTP response the call needed, in order: usually one; several when it paged; none when
    /// the input was empty and nothing had to be sent.
    pub responses: Vec<ResponseMeta>,
}

impl<T> ApiResponse<T> {
    /// The decoded result.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The metadata of the last response, if any request was sent.
    pub fn meta(&self) -> Option<&ResponseMeta> {
        self.responses.last()
    }

    /// The correlation id of the last response, when sent.
    pub fn correlation_id(&self) -> Option<&str> {
        self.meta().and_then(|m| m.correlation_id.as_deref())
    }

    /// Maps the value, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ApiResponse<U> {
        ApiResponse {
            value: f(self.value),
            responses: self.responses,
        }
    }
}

/// HTTP methods the API calls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Patch,
    Put,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Put => "PUT",
        }
    }

    fn method(self) -> reqwest::Method {
        match self {
            Verb::Get => reqwest::Method::GET,
            Verb::Post => reqwest::Method::POST,
            Verb::Patch => reqwest::Method::PATCH,
            Verb::Put => reqwest::Method::PUT,
        }
    }
}

/// One API operation: method, path template, and what to tell the user when it is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Endpoint {
    pub(crate) verb: Verb,
    pub(crate) template: &'static str,
    /// The permission a 403 most likely lacks, as shown in the admin UI and as the API names it.
    pub(crate) permission: Option<&'static str>,
    /// What a 404 means for this operation.
    pub(crate) not_found_hint: Option<&'static str>,
}

impl Endpoint {
    pub(crate) fn method_str(&self) -> &'static str {
        self.verb.as_str()
    }

    pub(crate) fn refused(&self, detail: impl Into<String>) -> ApiError {
        ApiError::new(
            ErrorKind::InvalidRequest,
            self.method_str(),
            self.template,
            self.template,
        )
        .with_detail(detail)
    }
}

/// Builds a [`GenesysClient`] with a non-default token store or request gate.
pub struct ClientBuilder {
    config: ClientConfig,
    store: Option<Arc<dyn TokenStore>>,
    gate: Option<Arc<dyn RequestGate>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Where tokens are kept (default: [`MemoryTokenStore`]).
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// What is asked before every API request (default: [`OpenGate`]).
    pub fn request_gate(mut self, gate: Arc<dyn RequestGate>) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Builds the client. Fails only on an unusable configuration; nothing is sent.
    pub fn build(self) -> Result<GenesysClient, ConfigError> {
        let config = self.config;
        if config.client_id.trim().is_empty() {
            return Err(ConfigError::MissingClientId);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            // The API never redirects; following one could carry the token to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient(e.without_url().to_string()))?;
        let token_url = join_path(&config.login_url, &["oauth", "token"]).ok_or_else(|| {
            ConfigError::InvalidUrl {
                which: "login",
                url: config.login_url.to_string(),
                reason: "it cannot have a path appended".to_owned(),
            }
        })?;
        if join_path(&config.api_url, &["api"]).is_none() {
            return Err(ConfigError::InvalidUrl {
                which: "API",
                url: config.api_url.to_string(),
                reason: "it cannot have a path appended".to_owned(),
            });
        }
        Ok(GenesysClient {
            inner: Arc::new(Inner {
                http,
                refresh_wait: config.connect_timeout + config.request_timeout,
                request_timeout: config.request_timeout,
                api_url: config.api_url,
                login_url: config.login_url,
                token_url,
                client_id: config.client_id,
                client_secret: config.client_secret,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryTokenStore::new())),
                gate: self.gate.unwrap_or_else(|| Arc::new(OpenGate)),
            }),
        })
    }
}

/// A Genesys Cloud Platform API client. Cheap to clone; clones share the connection pool, token store and gate.
#[derive(Clone)]
pub struct GenesysClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_url: Url,
    login_url: Url,
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    request_timeout: Duration,
    refresh_wait: Duration,
    store: Arc<dyn TokenStore>,
    gate: Arc<dyn RequestGate>,
}

impl fmt::Debug for GenesysClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenesysClient")
            .field("api_url", &self.inner.api_url.as_str())
            .field("login_url", &self.inner.login_url.as_str())
            .field("client_id", &self.inner.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct TokenErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl GenesysClient {
    /// A client with the in-memory token store and no request gate.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        Self::builder(config).build()
    }

    /// A builder, to plug in a shared [`TokenStore`] or a [`RequestGate`].
    pub fn builder(config: ClientConfig) -> ClientBuilder {
        ClientBuilder {
            config,
            store: None,
            gate: None,
        }
    }

    /// The API base URL.
    pub fn api_url(&self) -> &Url {
        &self.inner.api_url
    }

    /// The login base URL.
    pub fn login_url(&self) -> &Url {
        &self.inner.login_url
    }

    /// Fetches a new token from the token endpoint, bypassing the token store and the request gate.
    ///
    /// For shared-store adapters and start-up credential checks. Errors: [`ErrorKind::InvalidCredentials`]
    /// (wrong id/secret), [`ErrorKind::LoginUnreachable`], [`ErrorKind::RateLimited`] (the token endpoint is
    /// itself rate limited), [`ErrorKind::Transient`], [`ErrorKind::Permanent`].
    pub async fn fetch_token(&self) -> Result<AccessToken, ApiError> {
        let inner = &*self.inner;
        let issued_at = SystemTime::now();
        let started = Instant::now();
        let sent = inner
            .http
            .post(inner.token_url.clone())
            .basic_auth(&inner.client_id, Some(inner.client_secret.expose_secret()))
            .header(ACCEPT, "application/json")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                let (unreachable, detail) = describe_transport(err, inner.request_timeout);
                let kind = if unreachable {
                    ErrorKind::LoginUnreachable
                } else {
                    ErrorKind::Transient
                };
                tracing::debug!(login_url = %inner.login_url, error = %detail, "token request failed");
                return Err(token_error(kind).with_detail(format!("{}: {detail}", inner.token_url)));
            }
        };
        let status = response.status().as_u16();
        let meta = ResponseMeta::from_response(status, response.headers());
        let body = response.bytes().await;
        tracing::debug!(
            status,
            correlation_id = meta.correlation_id.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "token response"
        );
        if (200..300).contains(&status) {
            let body = body.map_err(|err| {
                let (_, detail) = describe_transport(err, inner.request_timeout);
                token_error(ErrorKind::Transient)
                    .with_meta(meta.clone())
                    .with_detail(detail)
            })?;
            let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                // The serde error names a line and column, never the value.
                token_error(ErrorKind::Permanent)
                    .with_meta(meta.clone())
                    .with_detail(format!(
                        "the token response is not a token: {}",
                        serde_error_summary(&e)
                    ))
                    .with_hint("check GENESYS_LOGIN_URL points at the Genesys login service")
            })?;
            if parsed.access_token.is_empty() {
                return Err(token_error(ErrorKind::Permanent)
                    .with_meta(meta)
                    .with_detail("the token response has an empty access_token")
                    .with_hint("check GENESYS_LOGIN_URL points at the Genesys login service"));
            }
            if let Some(kind) = parsed
                .token_type
                .as_deref()
                .filter(|t| !t.eq_ignore_ascii_case("bearer"))
            {
                tracing::warn!(
                    token_type = kind,
                    "token endpoint returned a non-bearer token type; using it as bearer"
                );
            }
            let lifetime = parsed
                .expires_in
                .map(Duration::from_secs)
                .unwrap_or(FALLBACK_TOKEN_LIFETIME);
            let token =
                AccessToken::issued(SecretString::from(parsed.access_token), issued_at, lifetime);
            tracing::debug!(
                expires_in_s = lifetime.as_secs(),
                "fetched a new access token"
            );
            return Ok(token);
        }
        let body = body.ok().unwrap_or_default();
        let oauth: TokenErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        let error_body = ErrorBody {
            code: oauth.error.clone(),
            message: oauth
                .error_description
                .clone()
                .or(oauth.description.clone()),
            ..ErrorBody::default()
        };
        let code = oauth.error.as_deref().unwrap_or("");
        let kind = match classify_status(status, meta.retry_after) {
            Some(ErrorKind::Auth) => ErrorKind::InvalidCredentials,
            Some(ErrorKind::Permanent)
                if matches!(status, 400 | 403)
                    && matches!(
                        code,
                        "invalid_client" | "unauthorized_client" | "access_denied"
                    ) =>
            {
                ErrorKind::InvalidCredentials
            }
            Some(kind) => kind,
            // Unreachable: success was handled above.
            None => ErrorKind::Permanent,
        };
        let mut err = token_error(kind).with_meta(meta);
        if error_body.code.is_some() || error_body.message.is_some() {
            err = err.with_body(Some(error_body));
        } else {
            err = err.with_detail(body_excerpt(&body));
        }
        if kind == ErrorKind::Permanent {
            err = err.with_hint(if status == 404 {
                "check GENESYS_LOGIN_URL: it has no /oauth/token endpoint"
            } else {
                "check GENESYS_LOGIN_URL and that the OAuth client uses the client-credentials grant"
            });
        }
        Err(err)
    }

    /// A token from the store, refreshing it (once across all sharers of the store) when due.
    pub async fn access_token(&self) -> Result<AccessToken, ApiError> {
        let inner = &*self.inner;
        let give_up_waiting = Instant::now() + inner.refresh_wait;
        loop {
            if let Some(token) = inner
                .store
                .load()
                .await
                .map_err(store_error)?
                .filter(AccessToken::is_fresh)
            {
                return Ok(token);
            }
            match inner.store.try_begin_refresh().await.map_err(store_error)? {
                Some(permit) => {
                    let result = self.refresh_while_holding_permit().await;
                    permit.release().await;
                    return result;
                }
                None if Instant::now() >= give_up_waiting => {
                    // The holder of the refresh right has not delivered; it may have died. Fetch our own.
                    tracing::warn!(
                        "no shared token appeared while another process was refreshing; fetching one"
                    );
                    let token = self.fetch_token().await?;
                    self.save_token(&token).await;
                    return Ok(token);
                }
                None => tokio::time::sleep(REFRESH_POLL_INTERVAL).await,
            }
        }
    }

    async fn refresh_while_holding_permit(&self) -> Result<AccessToken, ApiError> {
        // Another holder may have saved a token between our load and getting the permit.
        if let Some(token) = self
            .inner
            .store
            .load()
            .await
            .map_err(store_error)?
            .filter(AccessToken::is_fresh)
        {
            return Ok(token);
        }
        let token = self.fetch_token().await?;
        self.save_token(&token).await;
        Ok(token)
    }

    async fn save_token(&self, token: &AccessToken) {
        // The token in hand is good for this request even if the store cannot keep it.
        if let Err(err) = self.inner.store.save(token).await {
            tracing::warn!(error = %err, "could not save the access token in the token store");
        }
    }

    /// The API URL for path segments (each one percent-encoded) and query pairs.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        // `build` checked that the base URL accepts path segments.
        let mut url =
            join_path(&self.inner.api_url, segments).unwrap_or_else(|| self.inner.api_url.clone());
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// Sends one API request and decodes its JSON response as `T`.
    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<ApiResponse<T>, ApiError> {
        let path = url.path().to_owned();
        let (meta, bytes) = self.exchange(endpoint, url, body).await?;
        match serde_json::from_slice::<T>(&bytes) {
            Ok(value) => Ok(ApiResponse {
                value,
                responses: vec![meta],
            }),
            Err(e) => Err(ApiError::new(
                ErrorKind::Permanent,
                endpoint.method_str(),
                endpoint.template,
                path,
            )
            .with_meta(meta)
            .with_detail(format!(
                "the response body could not be decoded: {}",
                serde_error_summary(&e)
            ))),
        }
    }

    /// Sends a request (retrying once with a fresh token after a 401) and returns the successful response's
    /// metadata and body, or the classified error.
    async fn exchange(
        &self,
        endpoint: &Endpoint,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<(ResponseMeta, Vec<u8>), ApiError> {
        let inner = &*self.inner;
        let info = RequestInfo {
            method: endpoint.method_str(),
            endpoint: endpoint.template,
            path: url.path().to_owned(),
        };
        let error =
            |kind: ErrorKind| ApiError::new(kind, info.method, info.endpoint, info.path.clone());
        let mut token = self.access_token().await?;
        let mut refreshed = false;
        loop {
            match inner.gate.before_request(&info).await {
                GateDecision::Go => {}
                GateDecision::WaitThenGo(wait) => tokio::time::sleep(wait).await,
                GateDecision::ThrottledUntil(until) => {
                    let wait = until
                        .duration_since(SystemTime::now())
                        .unwrap_or(Duration::ZERO);
                    tracing::debug!(method = info.method, path = %info.path, wait_ms = wait.as_millis() as u64, "request throttled by the gate");
                    return Err(error(ErrorKind::rate_limited(wait)).with_detail(format!(
                        "the request budget is exhausted until {}",
                        fmt_instant(until)
                    )));
                }
            }
            let mut request = inner
                .http
                .request(endpoint.verb.method(), url.clone())
                .bearer_auth(token.secret().expose_secret())
                .header(ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let started = Instant::now();
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    let (_, detail) = describe_transport(err, inner.request_timeout);
                    tracing::debug!(method = info.method, path = %info.path, error = %detail, "request failed without a response");
                    return Err(error(ErrorKind::Transient).with_detail(detail));
                }
            };
            let status = response.status().as_u16();
            let meta = ResponseMeta::from_response(status, response.headers());
            inner.gate.after_response(&info, &meta).await;
            if status == 401 && !refreshed {
                tracing::debug!(method = info.method, path = %info.path, "401: discarding the token and retrying once");
                refreshed = true;
                if let Err(err) = inner.store.discard(&token).await {
                    tracing::warn!(error = %err, "could not discard the rejected token from the token store");
                }
                token = self.access_token().await?;
                continue;
            }
            let body = response.bytes().await;
            tracing::debug!(
                method = info.method,
                path = %info.path,
                status,
                correlation_id = meta.correlation_id.as_deref().unwrap_or(""),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "Genesys API response"
            );
            let Some(kind) = classify_status(status, meta.retry_after) else {
                return match body {
                    Ok(bytes) => Ok((meta, bytes.to_vec())),
                    Err(err) => {
                        let (_, detail) = describe_transport(err, inner.request_timeout);
                        Err(error(ErrorKind::Transient)
                            .with_meta(meta)
                            .with_detail(detail))
                    }
                };
            };
            let bytes = body.unwrap_or_default();
            let error_body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
            let mut err = error(kind).with_meta(meta);
            if error_body.is_none() {
                err = err.with_detail(body_excerpt(&bytes));
            }
            err = err.with_body(error_body);
            if kind == ErrorKind::Permanent {
                if let (Some(403), Some(permission)) = (err.status(), endpoint.permission) {
                    err = err.with_hint(format!(
                        "grant the OAuth client's role the {permission} permission"
                    ));
                } else if let (Some(404), Some(hint)) = (err.status(), endpoint.not_found_hint) {
                    err = err.with_hint(hint);
                }
            }
            return Err(err);
        }
    }
}

/// Encodes a request body.
pub(crate) fn json_body(
    endpoint: &Endpoint,
    body: &impl serde::Serialize,
) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body)
        .map_err(|e| endpoint.refused(format!("cannot encode the request body: {e}")))
}

fn token_error(kind: ErrorKind) -> ApiError {
    ApiError::new(kind, "POST", TOKEN_PATH, TOKEN_PATH)
}

fn store_error(err: TokenStoreError) -> ApiError {
    token_error(ErrorKind::Transient)
        .with_detail(err.to_string())
        .with_hint("check the token store (Redis) is reachable")
}

fn join_path(base: &Url, segments: &[&str]) -> Option<Url> {
    let mut url = base.clone();
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop_if_empty();
        for segment in segments {
            path.push(segment);
        }
    }
    Some(url)
}

/// The start of a non-JSON error body (e.g. an HTML page from a proxy), on one line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "empty response body".to_owned();
    }
    match one_line.char_indices().nth(MAX_BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// A serde error without the offending value (which could echo response content): its category and position.
fn serde_error_summary(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "invalid JSON",
        Category::Data => "unexpected JSON shape",
        Category::Eof => "truncated JSON",
    };
    let mut message = err.to_string();
    // serde's data errors read like "missing field `id` at line 1 column 9": keep the field name, which is ours.
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    if err.classify() == Category::Data && message.starts_with("invalid") {
        // "invalid type: string \"…\", expected …" would quote the value; keep only the expectation.
        if let Some(expected) = message.find("expected") {
            message = message[expected..].to_owned();
        }
    }
    format!(
        "{what} ({message}) at line {} column {}",
        err.line(),
        err.column()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn url_segments_are_percent_encoded() {
        let client = GenesysClient::new(
            ClientConfig::for_base_url("http://127.0.0.1:9/", "id", SecretString::from("pw"))
                .unwrap(),
        )
        .unwrap();
        let url = client.url(
            &["api", "v2", "users", "externalid", "HR system", "a/b?c#d"],
            &[],
        );
        assert_eq!(
            url.path(),
            "/api/v2/users/externalid/HR%20system/a%2Fb%3Fc%23d"
        );
        let url = client.url(
            &["api", "v2", "users"],
            &[("id", "a".into()), ("id", "b&c".into())],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/v2/users?id=a&id=b%26c"
        );
    }

    #[test]
    fn base_url_with_a_path_prefix_keeps_it() {
        let client = GenesysClient::new(
            ClientConfig::for_base_url("http://h/prefix", "id", SecretString::from("pw")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            client.url(&["api", "v2", "users"], &[]).path(),
            "/prefix/api/v2/users"
        );
        assert_eq!(
            client.inner.token_url.as_str(),
            "http://h/prefix/oauth/token"
        );
    }

    #[test]
    fn empty_client_id_is_a_config_error() {
        let err = GenesysClient::new(
            ClientConfig::for_base_url("http://h", " ", SecretString::from("pw")).unwrap(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("GENESYS_CLIENT_ID"));
    }

    #[test]
    fn body_excerpts_are_short_and_single_line() {
        assert_eq!(body_excerpt(b""), "empty response body");
        assert_eq!(
            body_excerpt(b"<html>\n  <b>Bad gateway</b>\n</html>"),
            "<html> <b>Bad gateway</b> </html>"
        );
        let long = "é".repeat(1000);
        assert_eq!(
            body_excerpt(long.as_bytes()).chars().count(),
            MAX_BODY_EXCERPT + 1
        );
    }

    #[test]
    fn serde_summaries_do_not_quote_values() {
        let err =
            serde_json::from_str::<crate::models::User>(r#"{"id":"u","version":"s3cr3t-value"}"#)
                .unwrap_err();
        let summary = serde_error_summary(&err);
        assert!(!summary.contains("s3cr3t-value"), "{summary}");
        assert!(summary.contains("unexpected JSON shape"), "{summary}");
        let err = serde_json::from_str::<crate::models::User>(r#"{"version":1}"#).unwrap_err();
        assert!(serde_error_summary(&err).contains("missing field `id`"));
    }
}
