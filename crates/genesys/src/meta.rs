//! What every response says besides its body: status, correlation id, rate-limit headers, `Retry-After`.
//!
//! Genesys Cloud sends `ININ-Correlation-ID` on every response (quote it to Genesys support, log it with every
//! failure) and `inin-ratelimit-count` / `-allowed` / `-reset` on most. A 429 carries `Retry-After` in seconds;
//! HTTP allows an HTTP date there too, so both are accepted.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// Response header carrying the request's correlation id.
pub const CORRELATION_ID_HEADER: &str = "inin-correlation-id";
/// Requests counted in the current rate-limit window.
pub const RATELIMIT_COUNT_HEADER: &str = "inin-ratelimit-count";
/// Requests allowed in the current rate-limit window.
pub const RATELIMIT_ALLOWED_HEADER: &str = "inin-ratelimit-allowed";
/// Seconds until the current rate-limit window resets.
pub const RATELIMIT_RESET_HEADER: &str = "inin-ratelimit-reset";

/// The `inin-ratelimit-*` headers of one response; each is `None` when absent or unreadable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `inin-ratelimit-count`: requests counted so far in the window.
    pub count: Option<u64>,
    /// `inin-ratelimit-allowed`: requests allowed in the window (differs by endpoint).
    pub allowed: Option<u64>,
    /// `inin-ratelimit-reset`: time until the window resets.
    pub reset: Option<Duration>,
}

impl RateLimitHeaders {
    /// Reads the headers; unreadable values count as absent.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            count: header_str(headers, RATELIMIT_COUNT_HEADER).and_then(parse_u64),
            allowed: header_str(headers, RATELIMIT_ALLOWED_HEADER).and_then(parse_u64),
            reset: header_str(headers, RATELIMIT_RESET_HEADER).and_then(parse_seconds),
        }
    }

    /// True when no rate-limit header was present.
    pub fn is_empty(&self) -> bool {
        self.count.is_none() && self.allowed.is_none() && self.reset.is_none()
    }

    /// Requests left in the window, when both count and allowed are known.
    pub fn remaining(&self) -> Option<u64> {
        Some(self.allowed?.saturating_sub(self.count?))
    }
}

/// The metadata of one HTTP response, handed to the [`RequestGate`](crate::RequestGate) and carried by successes
/// and errors alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    /// HTTP status code.
    pub status: u16,
    /// `ININ-Correlation-ID`, when sent.
    pub correlation_id: Option<String>,
    /// `inin-ratelimit-*` headers.
    pub rate_limit: RateLimitHeaders,
    /// `Retry-After` as a delay from when the response was read; `None` when absent or unreadable.
    pub retry_after: Option<Duration>,
}

impl ResponseMeta {
    /// Reads the metadata of a response received now.
    pub fn from_response(status: u16, headers: &HeaderMap) -> Self {
        Self::from_parts(status, headers, SystemTime::now())
    }

    /// Reads the metadata of a response, resolving an HTTP-date `Retry-After` against `now`.
    pub fn from_parts(status: u16, headers: &HeaderMap, now: SystemTime) -> Self {
        Self {
            status,
            correlation_id: header_str(headers, CORRELATION_ID_HEADER)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            rate_limit: RateLimitHeaders::from_headers(headers),
            retry_after: header_str(headers, reqwest::header::RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(v, now)),
        }
    }
}

/// Parses a `Retry-After` value: delta-seconds (`"30"`) or an HTTP date (`"Wed, 21 Oct 2015 07:28:00 GMT"`),
/// the latter as the time left after `now` (zero if already past). `None` for anything else.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(delay) = parse_seconds(value) {
        return Some(delay);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn parse_u64(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

/// Whole or fractional non-negative seconds; servers have been seen sending `"3.0"`.
fn parse_seconds(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if !value.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let secs: f64 = value.parse().ok()?;
    Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("86400", now),
            Some(Duration::from_secs(86_400))
        );
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:45 GMT", now),
            Some(Duration::from_secs(45))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        let now = SystemTime::now();
        for garbage in [
            "",
            "soon",
            "-5",
            "1e3",
            "NaN",
            "inf",
            "30s",
            "Wed, 99 Foo 2015",
        ] {
            assert_eq!(parse_retry_after(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn meta_reads_correlation_id_and_rate_limit_headers() {
        let h = headers(&[
            ("ININ-Correlation-ID", "c0ffee-1"),
            ("inin-ratelimit-count", "12"),
            ("inin-ratelimit-allowed", "300"),
            ("inin-ratelimit-reset", "41"),
            ("retry-after", "7"),
        ]);
        let meta = ResponseMeta::from_response(429, &h);
        assert_eq!(meta.status, 429);
        assert_eq!(meta.correlation_id.as_deref(), Some("c0ffee-1"));
        assert_eq!(meta.rate_limit.count, Some(12));
        assert_eq!(meta.rate_limit.allowed, Some(300));
        assert_eq!(meta.rate_limit.reset, Some(Duration::from_secs(41)));
        assert_eq!(meta.rate_limit.remaining(), Some(288));
        assert_eq!(meta.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn absent_or_unreadable_headers_are_none() {
        let meta = ResponseMeta::from_response(200, &headers(&[("inin-ratelimit-count", "many")]));
        assert!(meta.correlation_id.is_none());
        assert!(meta.rate_limit.is_empty());
        assert!(meta.retry_after.is_none());
        assert_eq!(meta.rate_limit.remaining(), None);
    }
}
