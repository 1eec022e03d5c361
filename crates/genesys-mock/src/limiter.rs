//! The per-OAuth-client request budget: fixed windows, as the `inin-ratelimit-*` headers describe them.
//!
//! A client's window opens with its first request and lasts [`crate::MockConfig::window`]; within it the
//! first `rate_limit` requests are admitted and the rest get 429 with `Retry-After` = seconds until the window
//! closes (rounded up). Every token of a client draws on the client's one budget. Refused requests do not
//! count, so `inin-ratelimit-count` never exceeds `inin-ratelimit-allowed`.
//!
//! The limiter also remembers, per client, until when the `Retry-After`s it handed out run, so the stats can
//! count requests that arrived before that moment (a client that does not honour `Retry-After`). Requests
//! arriving within [`RETRY_AFTER_GRACE`] of the first 429 of such a period were almost certainly sent before the
//! client could know of it (in flight on another connection or worker); they are counted apart ("strict").

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The `inin-ratelimit-*` header values of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub count: u32,
    pub allowed: u32,
    pub reset_secs: u64,
}

/// How long after the first 429 of a cooldown a request is still taken to have been sent before the client
/// knew of it, and so is not counted as ignoring `Retry-After` (only in the strict count).
pub const RETRY_AFTER_GRACE: Duration = Duration::from_millis(250);

/// A cooldown the limiter announced to a client: from the first 429 until the latest `Retry-After` runs out.
#[derive(Clone, Copy, Debug)]
struct Cooldown {
    first_429: Instant,
    until: Instant,
}

/// Whether a request arrived before a `Retry-After` given to its client had passed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Early {
    /// Yes, and more than [`RETRY_AFTER_GRACE`] after the first 429 of that cooldown.
    pub counted: bool,
    /// Yes (grace or not).
    pub strict: bool,
}

/// What the limiter decided for one request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admission {
    /// Headers to send (none when the budget is unlimited).
    pub headers: Option<RateHeaders>,
    /// `Some(retry_after_secs)` when the request is refused with 429.
    pub throttled: Option<u64>,
    /// Whether it arrived before a `Retry-After` given to its client had passed.
    pub early: Early,
}

#[derive(Debug)]
struct ClientWindow {
    /// When the current window opened; `None` until the next request opens one.
    start: Option<Instant>,
    count: u32,
    cooldown: Option<Cooldown>,
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
                    cooldown: None,
                }),
        };
        let cooldown = entry.cooldown.filter(|c| now < c.until);
        let early = Early {
            counted: cooldown.is_some_and(|c| now >= c.first_429 + RETRY_AFTER_GRACE),
            strict: cooldown.is_some(),
        };
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
            entry.cooldown = Some(match cooldown {
                Some(c) => Cooldown {
                    first_429: c.first_429,
                    until: c.until.max(until),
                },
                None => Cooldown {
                    first_429: now,
                    until,
                },
            });
        }
        let headers = (limit > 0).then_some(RateHeaders {
            count: entry.count,
            allowed: limit,
            reset_secs,
        });
        Admission {
            headers,
            throttled,
            early,
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
        // A request arriving right after the 429 was in flight before the client could know: strict count only.
        let in_flight = limiter.admit("c", t0 + Duration::from_millis(1600), None);
        assert_eq!(
            in_flight.early,
            Early {
                counted: false,
                strict: true
            }
        );
        // Early retry is counted as arriving during Retry-After.
        assert!(
            limiter
                .admit("c", t0 + Duration::from_secs(5), None)
                .early
                .counted
        );
        let later = limiter.admit("c", t0 + Duration::from_secs(11), None);
        assert!(later.throttled.is_none() && !later.early.strict);
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
