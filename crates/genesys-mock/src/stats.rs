//! What the look-alike saw: request counts by route and status, throttling, writes, honoured `Retry-After`s,
//! and a per-second timeline for plots.
//!
//! Served as JSON at `GET /__mock/stats` (the [`Stats`] struct, so tests can deserialize it) and returned by
//! [`crate::MockHandle::stats`]. `POST /__mock/stats/reset` starts over (also restarting the timeline clock).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::limiter::Early;

/// A snapshot of the counters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Seconds since the counters started (server start or last reset).
    pub elapsed_secs: f64,
    /// Requests to `/api/v2/…` (every one, whatever its outcome).
    pub api_requests: u64,
    /// Requests to `POST /oauth/token`.
    pub token_requests: u64,
    /// Token requests refused (bad credentials or grant).
    pub token_failures: u64,
    /// API requests answered 2xx.
    pub ok: u64,
    /// API requests answered 429 (by the budget or a forced period).
    pub throttled: u64,
    /// API requests answered 401.
    pub unauthorized: u64,
    /// PATCH and PUT API requests received.
    pub writes: u64,
    /// PATCH and PUT API requests answered 2xx.
    pub writes_ok: u64,
    /// API requests from a client that arrived before a `Retry-After` this server had given that client had
    /// passed, leaving out those that arrived within 250 ms (`RETRY_AFTER_GRACE`) of the first 429 of that
    /// cooldown (sent before the client could know of it). Zero for a fleet that honours `Retry-After`.
    pub requests_during_retry_after: u64,
    /// Like `requests_during_retry_after`, but counting every early arrival, in-flight ones included.
    pub requests_during_retry_after_strict: u64,
    /// Connections closed without a response (`drop_rate`).
    pub dropped: u64,
    /// Injected 5xx answers (`error_rate`).
    pub injected_errors: u64,
    /// Version bumps injected before a PATCH's version check (`conflict_rate`).
    pub injected_conflicts: u64,
    /// `"METHOD /path/{template}"` → status (or `"dropped"`) → count.
    pub by_route: BTreeMap<String, BTreeMap<String, u64>>,
    /// Status (or `"dropped"`) → count, over all API routes.
    pub by_status: BTreeMap<String, u64>,
    /// One entry per second since the counters started, up to the last second with a request.
    pub timeline: Vec<Second>,
}

/// One second of the timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the counters started.
    pub second: u64,
    /// API requests that finished in this second.
    pub requests: u64,
    /// Of which 2xx.
    pub ok: u64,
    /// Of which 429.
    pub throttled: u64,
    /// Of which 5xx or dropped.
    pub errors: u64,
}

impl Stats {
    /// Count of `status` (e.g. `"200"`, `"429"`, `"dropped"`) on route `route` (e.g.
    /// `"PATCH /api/v2/users/{userId}"`), zero when never seen.
    pub fn count(&self, route: &str, status: &str) -> u64 {
        self.by_route
            .get(route)
            .and_then(|m| m.get(status))
            .copied()
            .unwrap_or(0)
    }

    /// All requests seen on `route`, whatever their status.
    pub fn route_total(&self, route: &str) -> u64 {
        self.by_route
            .get(route)
            .map(|m| m.values().sum())
            .unwrap_or(0)
    }
}

/// How one API request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    Status(u16),
    Dropped,
}

/// The mutable counters behind [`Stats`].
#[derive(Debug)]
pub(crate) struct Recorder {
    started: Instant,
    totals: Stats,
    by_route: HashMap<String, HashMap<Outcome, u64>>,
    by_status: HashMap<Outcome, u64>,
}

impl Outcome {
    fn label(self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Dropped => "dropped".to_owned(),
        }
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            totals: Stats::default(),
            by_route: HashMap::new(),
            by_status: HashMap::new(),
        }
    }

    pub fn reset(&mut self) {
        *self = Self::new();
    }

    pub fn token_request(&mut self, ok: bool) {
        self.totals.token_requests += 1;
        if !ok {
            self.totals.token_failures += 1;
        }
    }

    pub fn injected_conflict(&mut self) {
        self.totals.injected_conflicts += 1;
    }

    /// Records one finished API request.
    pub fn api_request(&mut self, route: &str, write: bool, early: Early, outcome: Outcome) {
        let t = &mut self.totals;
        t.api_requests += 1;
        t.requests_during_retry_after += u64::from(early.counted);
        t.requests_during_retry_after_strict += u64::from(early.strict);
        t.writes += u64::from(write);
        let (ok, throttled, error) = match outcome {
            Outcome::Status(s) => ((200..300).contains(&s), s == 429, s >= 500),
            Outcome::Dropped => (false, false, true),
        };
        t.ok += u64::from(ok);
        t.writes_ok += u64::from(ok && write);
        t.throttled += u64::from(throttled);
        t.unauthorized += u64::from(outcome == Outcome::Status(401));
        t.dropped += u64::from(outcome == Outcome::Dropped);

        match self.by_route.get_mut(route) {
            Some(statuses) => *statuses.entry(outcome).or_default() += 1,
            None => {
                self.by_route
                    .insert(route.to_owned(), HashMap::from([(outcome, 1)]));
            }
        }
        *self.by_status.entry(outcome).or_default() += 1;

        let second = self.started.elapsed().as_secs();
        let timeline = &mut self.totals.timeline;
        while timeline.len() as u64 <= second {
            let next = timeline.len() as u64;
            timeline.push(Second {
                second: next,
                ..Second::default()
            });
        }
        if let Some(slot) = timeline.last_mut() {
            slot.requests += 1;
            slot.ok += u64::from(ok);
            slot.throttled += u64::from(throttled);
            slot.errors += u64::from(error);
        }
    }

    /// Counts an injected 5xx (the request itself is recorded by [`Recorder::api_request`]).
    pub fn injected_error(&mut self) {
        self.totals.injected_errors += 1;
    }

    pub fn snapshot(&self) -> Stats {
        let mut stats = self.totals.clone();
        stats.elapsed_secs = self.started.elapsed().as_secs_f64();
        stats.by_route = self
            .by_route
            .iter()
            .map(|(route, statuses)| {
                (
                    route.clone(),
                    statuses
                        .iter()
                        .map(|(outcome, n)| (outcome.label(), *n))
                        .collect(),
                )
            })
            .collect();
        stats.by_status = self
            .by_status
            .iter()
            .map(|(outcome, n)| (outcome.label(), *n))
            .collect();
        stats
    }
}
