//! One request budget per client, shared by every process of the fleet.
//!
//! # Model
//!
//! Each client (an OAuth client id, say) has a GCRA state in Redis: its *theoretical arrival time*
//! (TAT). A grant spaces the next one by the emission interval `60 s / (per_minute × headroom ×
//! cap)`, where `cap` is the adaptive factor below. One Lua script, run on the Redis clock (`TIME`),
//! does everything in one round trip:
//!
//! 1. folds in the caller's latest [`Observation`] (server limit, count, reset);
//! 2. answers [`Acquire::CoolingDown`] while the client's cooldown runs — set by
//!    [`RequestBudget::set_cooldown`] after a 429, or by an observation whose `count` reached
//!    `allowed` before `reset`;
//! 3. otherwise reserves the next slot: [`Acquire::Go`] when it is now, [`Acquire::Wait`] when it
//!    is later. The slot is the caller's: it sleeps, then sends. Nobody else gets it.
//!
//! Using Redis' clock rather than each host's keeps one time line for the whole fleet: hosts whose
//! clocks disagree by a second would otherwise each see a different TAT and burst together.
//!
//! ## Adaptive cap
//!
//! The state also keeps the highest `allowed` any response reported (`max_allowed`) and the
//! latest one. While the latest is lower, the rate is scaled by `allowed / max_allowed` (an org
//! limit lowered mid-run); it returns to the configured rate as soon as a response reports the
//! higher limit again. When a 429 message told the window (`[N] requests within [W] seconds`),
//! the rate is also never above `allowed × headroom / W`, which catches a fleet configured above
//! the server's limit.
//!
//! Limits of the model, honestly: it assumes one server bucket per client. If endpoints report
//! different `allowed` values, the latest response sets the factor, so it moves with the mix of
//! endpoints called. The state expires [`BudgetConfig::retention`] after the last grant, after
//! which a lowered limit is only learnt again from headers. The server's `reset` is applied from
//! the moment Redis sees it, which is after the server sent it — conservative by one latency.
//!
//! ## Reservations and late news
//!
//! A reserved slot cannot be taken back. If a 429 arrives while a caller sleeps on its
//! reservation, that caller would send into the cooldown. [`RequestBudget::wait_turn`] bounds that:
//! it serialises the acquires of one process per client (one reservation outstanding per
//! process), and after the sleep it checks what the process has learnt meanwhile (its own 429s
//! and observations) without another round trip. So after the server lowers its limit each
//! process sends at most about one request before it knows.
//!
//! Every process should use the same configuration: each grant is spaced by its caller's rate.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::Script;
use redis::aio::ConnectionManager;

use crate::error::{FleetError, Result};
use crate::keys::Keys;
use crate::observation::Observation;

/// A sleep on a reservation at least this long is followed by a fresh look at the fleet's cooldown.
const RECHECK_AFTER_SLEEP: Duration = Duration::from_millis(20);

/// Longest cooldown accepted; longer ones are clamped (Retry-After of days means a daily quota,
/// which an operator handles, not a sleeping worker).
const MAX_COOLDOWN: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the fleet spends one client's budget.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetConfig {
    /// Requests per minute for the whole fleet (`--rate-limit`).
    pub per_minute: u32,
    /// Requests that may go back to back after an idle spell. Keep it at 1: the server counts
    /// fixed windows, so a burst at a window's end plus one at the next's start gets a 429.
    pub burst: u32,
    /// Fraction of `per_minute` actually granted, in (0, 1]: the margin that absorbs arrival
    /// jitter (a request granted just before a window boundary may reach the server after it).
    pub headroom: f64,
    /// How long a client's state (reservations, learnt limits) outlives its last grant.
    pub retention: Duration,
}

impl BudgetConfig {
    /// `per_minute` requests per minute, burst 1, headroom 0.98, retention 10 minutes.
    pub fn per_minute(per_minute: u32) -> Self {
        Self {
            per_minute,
            burst: 1,
            headroom: 0.98,
            retention: Duration::from_secs(600),
        }
    }

    fn validate(&self) -> Result<()> {
        if self.per_minute == 0 {
            return Err(FleetError::Config(
                "the request budget must allow at least 1 request per minute".into(),
            ));
        }
        if !(1..=10_000).contains(&self.burst) {
            return Err(FleetError::Config(format!(
                "burst {} is outside 1..=10000",
                self.burst
            )));
        }
        if !(self.headroom.is_finite() && self.headroom > 0.0 && self.headroom <= 1.0) {
            return Err(FleetError::Config(format!(
                "headroom {} is outside (0, 1]",
                self.headroom
            )));
        }
        if self.retention < Duration::from_secs(1) {
            return Err(FleetError::Config(
                "retention must be at least one second".into(),
            ));
        }
        Ok(())
    }
}

impl Default for BudgetConfig {
    /// 300 requests per minute: the default client-credentials limit.
    fn default() -> Self {
        Self::per_minute(300)
    }
}

/// The answer of [`RequestBudget::acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquire {
    /// Send now.
    Go,
    /// A slot is reserved for the caller this long from now: sleep, then send.
    Wait(Duration),
    /// The client is cooling down: send nothing before `until`; when that is far, put the work
    /// back (reschedule it) rather than hold it. No slot was taken.
    CoolingDown {
        /// When the cooldown ends, on this process' clock.
        until: Instant,
    },
}

/// The answer of [`RequestBudget::wait_turn`]: the waiting is already done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Send now.
    Go,
    /// The client is cooling down: send nothing before `until` (see [`Acquire::CoolingDown`]).
    CoolingDown {
        /// When the cooldown ends, on this process' clock.
        until: Instant,
    },
}

/// The fleet-wide request budget of every client of one namespace. Cheap to clone.
///
/// See the [module docs](self) for the model.
#[derive(Clone)]
pub struct RequestBudget {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    keys: Keys,
    config: BudgetConfig,
    acquire: Script,
    cooldown: Script,
    local: Mutex<HashMap<String, Local>>,
}

/// What this process knows of a client between round trips.
#[derive(Default)]
struct Local {
    /// Observations not yet sent (they ride on the next acquire).
    pending: Option<Observation>,
    /// No request before this (a cooldown this process set or was told of).
    blocked_until: Option<Instant>,
    /// The fleet's latest and highest `allowed`, as of the last reply.
    allowed: Option<u32>,
    max_allowed: Option<u32>,
    /// Emission interval of the last grant.
    interval: Option<Duration>,
    /// Serialises this process' acquires in `wait_turn`.
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// What the acquire script answered.
struct Reply {
    code: i64,
    left: Duration,
    max_allowed: Option<u32>,
    allowed: Option<u32>,
    interval: Duration,
}

impl fmt::Debug for RequestBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBudget")
            .field("keys", &self.inner.keys)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl RequestBudget {
    /// A budget over `conn`, with every key under `{namespace}:fleet:`.
    ///
    /// Fails when the configuration or the namespace cannot work; touches no key.
    pub fn new(conn: ConnectionManager, namespace: &str, config: BudgetConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                keys: Keys::new(namespace)?,
                config,
                acquire: Script::new(include_str!("scripts/acquire.lua")),
                cooldown: Script::new(include_str!("scripts/cooldown.lua")),
                local: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this budget grants with.
    pub fn config(&self) -> &BudgetConfig {
        &self.inner.config
    }

    /// Asks the fleet for one request of `client`: one Redis round trip, which also carries
    /// `observation` and any observations [`observe`](Self::observe) kept for later.
    ///
    /// [`Acquire::Wait`] has reserved a slot: the caller must sleep and send (or waste it). While
    /// this process already knows of a cooldown, answers [`Acquire::CoolingDown`] without asking
    /// Redis (cooldowns only ever grow, so the fleet cannot know a shorter one).
    pub async fn acquire(&self, client: &str, observation: Option<Observation>) -> Result<Acquire> {
        let now = Instant::now();
        let sent = {
            let mut local = self.local();
            let entry = local.entry(client.to_owned()).or_default();
            let merged = merge(entry.pending.take(), observation);
            if let Some(until) = entry.blocked_until.filter(|until| *until > now) {
                entry.pending = merged;
                return Ok(Acquire::CoolingDown { until });
            }
            merged
        };
        match self.run(client, true, sent).await {
            Ok(reply) => Ok(self.settle(client, reply)),
            Err(e) => {
                self.keep_pending(client, sent);
                Err(e)
            }
        }
    }

    /// Waits for this process' turn to send a request of `client`.
    ///
    /// Acquires of one process are served one at a time per client (in order of arrival), so
    /// the process holds at most one reservation; the sleep on it is done here, and afterwards
    /// a cooldown learnt meanwhile by this process turns the answer into
    /// [`Turn::CoolingDown`]. One Redis round trip per call, none while a known cooldown runs.
    ///
    /// Dropping the future while it sleeps wastes the reserved slot and nothing else.
    pub async fn wait_turn(&self, client: &str) -> Result<Turn> {
        let turn = Arc::clone(&self.local().entry(client.to_owned()).or_default().turn);
        let _mine = turn.lock().await;
        match self.acquire(client, None).await? {
            Acquire::Go => Ok(Turn::Go),
            Acquire::CoolingDown { until } => Ok(Turn::CoolingDown { until }),
            Acquire::Wait(wait) => {
                tokio::time::sleep(wait).await;
                if let Some(until) = self.blocked_until(client) {
                    return Ok(Turn::CoolingDown { until });
                }
                // Another process may have met a 429 while this one slept on its reservation. After a long
                // sleep, ask the fleet once more (one round trip) rather than send into its cooldown; after
                // a short one the request would have been in flight anyway.
                if wait >= RECHECK_AFTER_SLEEP
                    && let Some(left) = self.cooldown(client).await?
                {
                    return Ok(Turn::CoolingDown {
                        until: Instant::now() + left,
                    });
                }
                Ok(Turn::Go)
            }
        }
    }

    /// Tells the fleet what a response said about the server's limit.
    ///
    /// Cheap: usually kept in memory and sent with this process' next acquire of `client`. It
    /// costs a round trip at once only when the fleet must react before that: the server's
    /// window is spent (`count >= allowed` with a `reset`: the fleet cools down until the
    /// reset), its `allowed` is lower than the fleet last knew, or it carries a `window` (from a
    /// 429 message).
    pub async fn observe(&self, client: &str, observation: Observation) -> Result<()> {
        let now = Instant::now();
        let urgent = {
            let mut local = self.local();
            let entry = local.entry(client.to_owned()).or_default();
            let spent = observation.window_spent_for(entry.allowed);
            if let Some(reset) = spent {
                entry.blocked_until = entry.blocked_until.max(Some(now + reset));
            }
            let lower = match (observation.allowed, entry.allowed) {
                (Some(seen), Some(known)) => seen > 0 && seen < known,
                _ => false,
            };
            let merged = merge(entry.pending.take(), Some(observation));
            if spent.is_some() || lower || observation.window.is_some() {
                merged
            } else {
                entry.pending = merged;
                None
            }
        };
        if urgent.is_none() {
            return Ok(());
        }
        match self.run(client, false, urgent).await {
            Ok(reply) => {
                self.settle(client, reply);
                Ok(())
            }
            Err(e) => {
                self.keep_pending(client, urgent);
                Err(e)
            }
        }
    }

    /// Makes the whole fleet hold `client`'s requests for at least `duration` from now (a 429's
    /// `Retry-After`). Only ever extends: a shorter cooldown than the running one changes
    /// nothing. Returns when the cooldown now ends. Durations over 30 days are clamped.
    pub async fn set_cooldown(&self, client: &str, duration: Duration) -> Result<Instant> {
        let duration = duration.min(MAX_COOLDOWN).max(Duration::from_micros(1));
        let left = self
            .run_cooldown(client, duration, "setting a fleet cooldown")
            .await?;
        let until = Instant::now() + left;
        let mut local = self.local();
        let entry = local.entry(client.to_owned()).or_default();
        entry.blocked_until = entry.blocked_until.max(Some(until));
        tracing::info!(
            client,
            cooldown_ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX),
            "fleet cooldown: no request of this client before it ends"
        );
        Ok(until)
    }

    /// How long `client`'s cooldown still runs, fleet-wide (`None`: not cooling down).
    pub async fn cooldown(&self, client: &str) -> Result<Option<Duration>> {
        let left = self
            .run_cooldown(client, Duration::ZERO, "reading a fleet cooldown")
            .await?;
        if left.is_zero() {
            return Ok(None);
        }
        let until = Instant::now() + left;
        let mut local = self.local();
        let entry = local.entry(client.to_owned()).or_default();
        entry.blocked_until = entry.blocked_until.max(Some(until));
        Ok(Some(left))
    }

    /// The rate this process was last granted at for `client`, in requests per minute (after
    /// headroom and adaptive cap); `None` before its first grant. For metrics; no round trip.
    pub fn effective_per_minute(&self, client: &str) -> Option<f64> {
        let interval = self.local().get(client)?.interval?;
        (!interval.is_zero()).then(|| 60.0 / interval.as_secs_f64())
    }

    fn local(&self) -> MutexGuard<'_, HashMap<String, Local>> {
        // The map holds plain values; a panic elsewhere cannot leave it half-updated.
        self.inner
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn blocked_until(&self, client: &str) -> Option<Instant> {
        let now = Instant::now();
        self.local()
            .get(client)?
            .blocked_until
            .filter(|until| *until > now)
    }

    fn keep_pending(&self, client: &str, unsent: Option<Observation>) {
        let mut local = self.local();
        let entry = local.entry(client.to_owned()).or_default();
        // Whatever arrived meanwhile is newer than what failed to go.
        entry.pending = merge(unsent, entry.pending.take());
    }

    async fn run(
        &self,
        client: &str,
        take: bool,
        observation: Option<Observation>,
    ) -> Result<Reply> {
        const CONTEXT: &str = "asking the fleet request budget";
        let config = &self.inner.config;
        let [allowed, count, reset, window] = observation.unwrap_or_default().script_args();
        let retention_ms = u64::try_from(config.retention.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.inner.conn.clone();
        let raw: Vec<i64> = self
            .inner
            .acquire
            .key(self.inner.keys.budget(client))
            .key(self.inner.keys.cooldown(client))
            .arg(if take { "1" } else { "0" })
            .arg(config.per_minute)
            .arg(config.headroom.to_string())
            .arg(config.burst)
            .arg(allowed)
            .arg(count)
            .arg(reset)
            .arg(window)
            .arg(retention_ms)
            .invoke_async(&mut conn)
            .await
            .map_err(FleetError::redis(CONTEXT))?;
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or(0));
        let limit = |v: i64| u32::try_from(v).ok().filter(|v| *v > 0);
        match raw.as_slice() {
            &[code, left, max_allowed, allowed, interval] if (0..=2).contains(&code) => Ok(Reply {
                code,
                left: micros(left),
                max_allowed: limit(max_allowed),
                allowed: limit(allowed),
                interval: micros(interval),
            }),
            _ => Err(FleetError::UnexpectedReply { context: CONTEXT }),
        }
    }

    async fn run_cooldown(
        &self,
        client: &str,
        extend: Duration,
        context: &'static str,
    ) -> Result<Duration> {
        let mut conn = self.inner.conn.clone();
        let left: i64 = self
            .inner
            .cooldown
            .key(self.inner.keys.cooldown(client))
            .arg(u64::try_from(extend.as_micros()).unwrap_or(u64::MAX))
            .invoke_async(&mut conn)
            .await
            .map_err(FleetError::redis(context))?;
        Ok(Duration::from_micros(u64::try_from(left).unwrap_or(0)))
    }

    /// Records what the fleet said and turns it into an answer.
    fn settle(&self, client: &str, reply: Reply) -> Acquire {
        let mut local = self.local();
        let entry = local.entry(client.to_owned()).or_default();
        let scaled = |allowed: Option<u32>, max: Option<u32>| match (allowed, max) {
            (Some(a), Some(m)) => a < m,
            _ => false,
        };
        let was_scaled = scaled(entry.allowed, entry.max_allowed);
        let is_scaled = scaled(reply.allowed, reply.max_allowed);
        if is_scaled && (!was_scaled || entry.allowed != reply.allowed) {
            tracing::warn!(
                client,
                allowed = reply.allowed,
                max_allowed = reply.max_allowed,
                "the API reports a lower rate limit than before; fleet budget scaled down"
            );
        } else if was_scaled && !is_scaled {
            tracing::info!(
                client,
                allowed = reply.allowed,
                "the API rate limit recovered; fleet budget back to its configured rate"
            );
        }
        entry.allowed = reply.allowed;
        entry.max_allowed = reply.max_allowed;
        entry.interval = Some(reply.interval);
        match reply.code {
            0 => Acquire::Go,
            1 => Acquire::Wait(reply.left),
            _ => {
                let until = Instant::now() + reply.left;
                entry.blocked_until = entry.blocked_until.max(Some(until));
                Acquire::CoolingDown { until }
            }
        }
    }
}

fn merge(older: Option<Observation>, newer: Option<Observation>) -> Option<Observation> {
    match (older, newer) {
        (Some(o), Some(n)) => Some(o.then(n)),
        (o, n) => n.or(o),
    }
}
