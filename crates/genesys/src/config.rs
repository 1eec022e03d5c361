//! Where the client connects and with which OAuth client.
//!
//! A Genesys Cloud organisation lives in one region; its API is served from `https://api.<domain>` and its token
//! endpoint from `https://login.<domain>` (the SDKs' `PureCloudRegionHosts`). Both base URLs can be overridden,
//! which is how the look-alike server is used: point both at `http://127.0.0.1:PORT`.
//!
//! ```
//! use genesys::{ClientConfig, SecretString};
//!
//! let config = ClientConfig::for_region("mypurecloud.ie", "my-client-id", SecretString::from("s3cret"))?;
//! assert_eq!(config.api_url.as_str(), "https://api.mypurecloud.ie/");
//! assert_eq!(config.login_url.as_str(), "https://login.mypurecloud.ie/");
//! # Ok::<(), genesys::ConfigError>(())
//! ```

use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// The region domains Genesys Cloud publishes, with the AWS region each one runs in
/// (MyPureCloud/platform-client-sdk-python `purecloud_region_hosts.py`).
pub const KNOWN_REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("eu-west-1", "mypurecloud.ie"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("eu-central-1", "mypurecloud.de"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
];

/// The region used when none is configured (the contract's default for `GENESYS_REGION`).
pub const DEFAULT_REGION: &str = "mypurecloud.com";

/// Default limit for establishing a TCP/TLS connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Default limit for one whole request: connect, send, and read the full response body.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The `User-Agent` sent unless configured otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("gcbulk/", env!("CARGO_PKG_VERSION"));

/// A configuration that cannot work; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The region is neither a known domain, an AWS region name, nor a plausible domain.
    #[error(
        "invalid Genesys region {region:?}: expected a region domain such as mypurecloud.com, mypurecloud.ie or usw2.pure.cloud (set GENESYS_REGION)"
    )]
    InvalidRegion {
        /// The value that was given.
        region: String,
    },
    /// A base URL does not parse or is not http(s).
    #[error(
        "invalid {which} URL {url:?}: {reason} (set GENESYS_API_URL / GENESYS_LOGIN_URL to an http(s) base URL)"
    )]
    InvalidUrl {
        /// "API" or "login".
        which: &'static str,
        /// The value that was given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The OAuth client id is empty.
    #[error("the OAuth client id is empty: set GENESYS_CLIENT_ID")]
    MissingClientId,
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot initialise the HTTP client: {0}")]
    HttpClient(String),
}

/// The region domain a user-supplied region names.
///
/// Accepts a region domain (`mypurecloud.ie`), an AWS region name (`eu-west-1` or `eu_west_1`), or any other
/// plausible domain as-is (new regions appear before this list is updated). Case and surrounding whitespace are
/// ignored.
pub fn region_domain(region: &str) -> Result<String, ConfigError> {
    let normalized = region.trim().trim_end_matches('.').to_ascii_lowercase();
    let invalid = || ConfigError::InvalidRegion {
        region: region.to_owned(),
    };
    let aws_style = normalized.replace('_', "-");
    if let Some((_, domain)) = KNOWN_REGIONS.iter().find(|(aws, _)| *aws == aws_style) {
        return Ok((*domain).to_owned());
    }
    let plausible = !normalized.is_empty()
        && normalized.contains('.')
        && normalized.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if plausible {
        Ok(normalized)
    } else {
        Err(invalid())
    }
}

/// `https://api.<domain>` for a region (see [`region_domain`] for what is accepted).
pub fn api_url_for_region(region: &str) -> Result<Url, ConfigError> {
    host_url("api", region)
}

/// `https://login.<domain>` for a region (see [`region_domain`] for what is accepted).
pub fn login_url_for_region(region: &str) -> Result<Url, ConfigError> {
    host_url("login", region)
}

fn host_url(prefix: &str, region: &str) -> Result<Url, ConfigError> {
    let domain = region_domain(region)?;
    Url::parse(&format!("https://{prefix}.{domain}")).map_err(|_| ConfigError::InvalidRegion {
        region: region.to_owned(),
    })
}

/// Parses and checks a base URL given by the user (`GENESYS_API_URL`, `GENESYS_LOGIN_URL`).
///
/// `which` names the URL in the error message ("API" or "login").
pub fn parse_base_url(which: &'static str, url: &str) -> Result<Url, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidUrl {
        which,
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url.trim()).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none() {
        return Err(invalid("it has no host".to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in a URL would end up in error messages; they belong in GENESYS_CLIENT_ID/SECRET.
        return Err(invalid("it must not contain credentials".to_owned()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it must not have a query or fragment".to_owned()));
    }
    Ok(parsed)
}

/// Everything the client needs to talk to one Genesys Cloud organisation.
///
/// `Debug` never shows the secret (it is a [`SecretString`]).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// API base URL, e.g. `https://api.mypurecloud.com`; paths such as `/api/v2/users` are appended to it.
    pub api_url: Url,
    /// Login base URL, e.g. `https://login.mypurecloud.com`; the token endpoint is `<login_url>/oauth/token`.
    pub login_url: Url,
    /// OAuth client id (client-credentials grant).
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretString,
    /// Limit for establishing a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Limit for one whole request including reading the body (default 30 s).
    pub request_timeout: Duration,
    /// `User-Agent` header value.
    pub user_agent: String,
}

impl ClientConfig {
    /// A configuration for explicit base URLs (e.g. both pointing at the look-alike server), default timeouts.
    pub fn new(
        api_url: Url,
        login_url: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        Self {
            api_url,
            login_url,
            client_id: client_id.into(),
            client_secret,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// A configuration for a region (`mypurecloud.ie`, `usw2.pure.cloud`, `eu-west-1`, …), default timeouts.
    pub fn for_region(
        region: &str,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, ConfigError> {
        Ok(Self::new(
            api_url_for_region(region)?,
            login_url_for_region(region)?,
            client_id,
            client_secret,
        ))
    }

    /// A configuration pointing both the API and the token endpoint at one server (the look-alike).
    pub fn for_base_url(
        base_url: &str,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Result<Self, ConfigError> {
        let api = parse_base_url("API", base_url)?;
        Ok(Self::new(api.clone(), api, client_id, client_secret))
    }

    /// Sets the connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the whole-request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header value.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn known_domains_build_api_and_login_urls() {
        for (_, domain) in KNOWN_REGIONS {
            assert_eq!(
                api_url_for_region(domain).unwrap().as_str(),
                format!("https://api.{domain}/")
            );
            assert_eq!(
                login_url_for_region(domain).unwrap().as_str(),
                format!("https://login.{domain}/")
            );
        }
    }

    #[test]
    fn aws_region_names_map_to_their_domain() {
        assert_eq!(region_domain("eu-west-1").unwrap(), "mypurecloud.ie");
        assert_eq!(region_domain("US_EAST_1").unwrap(), "mypurecloud.com");
        assert_eq!(
            region_domain("us-east-2").unwrap(),
            "use2.us-gov-pure.cloud"
        );
        assert_eq!(
            api_url_for_region("ap-southeast-2").unwrap().as_str(),
            "https://api.mypurecloud.com.au/"
        );
    }

    #[test]
    fn unknown_domain_is_accepted_as_is() {
        assert_eq!(
            api_url_for_region("xyz9.pure.cloud").unwrap().as_str(),
            "https://api.xyz9.pure.cloud/"
        );
        assert_eq!(
            region_domain("  MyPureCloud.IE. ").unwrap(),
            "mypurecloud.ie"
        );
    }

    #[test]
    fn nonsense_regions_are_rejected_with_a_hint() {
        for bad in [
            "",
            "   ",
            "mypurecloud",
            "https://api.mypurecloud.com",
            "a..b",
            "host/path",
            "a.b:80",
        ] {
            let err = region_domain(bad).unwrap_err();
            assert!(err.to_string().contains("GENESYS_REGION"), "{bad}: {err}");
        }
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("API", "http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("API", "ftp://x").is_err());
        assert!(parse_base_url("API", "not a url").is_err());
        assert!(parse_base_url("login", "https://user:pw@login.example").is_err());
        let cfg = ClientConfig::for_base_url("http://127.0.0.1:9", "id", SecretString::from("pw"))
            .unwrap();
        assert_eq!(cfg.api_url, cfg.login_url);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let cfg = ClientConfig::for_region(
            "mypurecloud.com",
            "id",
            SecretString::from("hunter2-secret"),
        )
        .unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2-secret"));
        assert_eq!(cfg.connect_timeout, Duration::from_secs(5));
        assert_eq!(cfg.request_timeout, Duration::from_secs(30));
    }
}
