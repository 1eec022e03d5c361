//! The per-OAuth-client request budget: fixed windows, as the `inin-ratelimit-*` headers describe them.
//!
//! A client's window opens with its first request and lasts [`crate::MockConfig::window`]; within it the
//! first `rate_limit` requests are admitted and the rest get 429 with `Retry-After` = seconds until the window
//! closes (rounded up). Every token of a client draws on the client's one budget. Refused requests do not
//! count, so `inin-ratelimit-count` never exceeds `inin-ratelimit-allowed`.
//!
//! The limiter also remembers, per client, until when the last `Retry-After` it handed out runs, so the stats
//! can count requests that arrived before that moment (a client that does not honour `Retry-After`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The `inin-ratelimit-*` header values of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub count: u32,
    pub allowed: u32,
    pub reset_secs: u64,
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admission {
    /// Headers to send (none when the budget is unlimited).
    pub headers: Option<RateHeaders>,
    /// `Some(retry_after_secs)` when the request is refused with 429.
    pub throttled: Option<u64>,
    /// The request arrived before a `Retry-After` given to this client had passed.
    pub during_retry_after: bool,
}

#[derive(Debug)]
struct ClientWindow {
    /// When the current window opened; `None` until the next request opens one.
    start: Option<Instant>,
    count: u32,
    retry_after_until: Option<Instant>,
}

/// Fixed-window budgets of all clients.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: u32,
    window: Duration,
    clients: HashMap<String, ClientWindow>,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            clients: HashMap::new(),
        }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// The window length as the 429 message states it: whole seconds, at least one.
    pub fn window_secs(&self) -> u64 {
        ceil_secs(self.window).max(1)
    }

    /// Changes the budget; every client starts a fresh window with its next request.
    pub fn set(&mut self, limit: u32, window: Duration) {
        self.limit = limit;
        self.window = window;
        for client in self.clients.values_mut() {
            client.start = None;
            client.count = 0;
        }
    }

    /// Decides on one request of `client` arriving at `now`; `forced_retry_after` is set while a forced-429
    /// period is running.
    pub fn admit(
        &mut self,
        client: &str,
        now: Instant,
        forced_retry_after: Option<u64>,
    ) -> Admission {
        let window = self.window;
        let limit = self.limit;
        let entry = match self.clients.get_mut(client) {
            Some(entry) => entry,
            None => self
                .clients
                .entry(client.to_owned())
                .or_insert(ClientWindow {
                    start: None,
                    count: 0,
                    retry_after_until: None,
                }),
        };
        let during_retry_after = entry.retry_after_until.is_some_and(|until| now < until);
        let start = match entry.start {
            Some(start) if now.saturating_duration_since(start) < window => start,
            _ => {
                entry.count = 0;
                *entry.start.insert(now)
            }
        };
        let reset_secs = ceil_secs((start + window).saturating_duration_since(now)).max(1);
        let throttled = if let Some(retry_after) = forced_retry_after {
            Some(retry_after)
        } else if limit > 0 && entry.count >= limit {
            Some(reset_secs)
        } else {
            entry.count = entry.count.saturating_add(1);
            None
        };
        if let Some(retry_after) = throttled {
            let until = now + Duration::from_secs(retry_after);
            entry.retry_after_until =
                Some(entry.retry_after_until.map_or(until, |old| old.max(until)));
        }
        let headers = (limit > 0).then_some(RateHeaders {
            count: entry.count,
            allowed: limit,
            reset_secs,
        });
        Admission {
            headers,
            throttled,
            during_retry_after,
        }
    }
}

/// Whole seconds in `d`, rounded up.
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_up_to_the_limit_then_refuses_until_the_window_closes() {
        let mut limiter = Limiter::new(2, Duration::from_secs(10));
        let t0 = Instant::now();
        assert!(limiter.admit("c", t0, None).throttled.is_none());
        assert!(limiter.admit("c", t0, None).throttled.is_none());
        let refused = limiter.admit("c", t0 + Duration::from_millis(1500), None);
        assert_eq!(refused.throttled, Some(9));
        assert_eq!(
            refused.headers,
            Some(RateHeaders {
                count: 2,
                allowed: 2,
                reset_secs: 9
            })
        );
        // Early retry is counted as arriving during Retry-After.
        assert!(
            limiter
                .admit("c", t0 + Duration::from_secs(5), None)
                .during_retry_after
        );
        let later = limiter.admit("c", t0 + Duration::from_secs(11), None);
        assert!(later.throttled.is_none() && !later.during_retry_after);
        // Another client has its own budget.
        assert!(limiter.admit("other", t0, None).throttled.is_none());
    }

    #[test]
    fn unlimited_sends_no_headers_but_honours_forced_429() {
        let mut limiter = Limiter::new(0, Duration::from_secs(60));
        let now = Instant::now();
        let admitted = limiter.admit("c", now, None);
        assert!(admitted.headers.is_none() && admitted.throttled.is_none());
        assert_eq!(limiter.admit("c", now, Some(7)).throttled, Some(7));
    }
}
