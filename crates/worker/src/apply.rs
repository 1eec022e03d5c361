//! Applying one chunk: resolve, read in bulk, diff, write only what differs, record each item's outcome once.
//!
//! The order of work inside a chunk is chosen for the request count per user (the scarce resource is the org's
//! API budget, not CPU):
//!
//! 1. Items that already have an outcome (a redelivered chunk) are skipped.
//! 2. Keys are resolved: `id` keys and every user needed by id are read with one `GET /users?id=…` per 100;
//!    `email` keys and managers given by email with one `POST /users/search` per 100 emails (the search answers
//!    with whole users, versions included, so they need no second read); `external_id` keys one `GET` each.
//! 3. Each item is diffed against its user ([`crate::plan`]); a matching item is `unchanged` and costs nothing more.
//! 4. Writes: one `PATCH` per changed profile with the version just read (a 409 re-reads that user and re-plans,
//!    a bounded number of times), a state change in a PATCH of its own, ACD auto-answer in bulk (≤ 50 per call).
//!
//! A permanent failure dead-letters that item and the chunk goes on. A 429, a transient fault or an auth failure
//! stops the chunk: what is finished is recorded, and the rest is rescheduled — at the `Retry-After` for a 429 (not
//! an attempt), with backoff for the others (an attempt). On the last attempt the rest is dead-lettered with the
//! error that stopped it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use gcbulk_changes::{ManagerRef, UserChange, UserKey};
use gcbulk_queue::{ChunkJob, ErrorInfo, ItemOutcome, JobError, NewDeadLetter, Queue, QueueError};
use genesys::{ApiError, ErrorKind, GenesysClient, UpdateUser, User};
use serde_json::Value;

use crate::metrics;
use crate::plan::{Plan, plan};

/// Users read by id per `GET /api/v2/users?id=…` (the API's limit is unconfirmed; 100 is safe).
const IDS_PER_GET: usize = 100;
/// Emails per `POST /api/v2/users/search`.
const EMAILS_PER_SEARCH: usize = 100;
/// Users per `PATCH /api/v2/users/bulk` (the API's maximum).
const USERS_PER_BULK_PATCH: usize = 50;
/// Quick in-place retries of a request that failed transiently (a 5xx, a dropped connection, a timeout), before
/// the chunk is stopped and rescheduled with backoff. Each retry goes through the fleet budget again.
const INLINE_RETRIES: u32 = 2;
const INLINE_BACKOFF_BASE: Duration = Duration::from_millis(200);
const INLINE_BACKOFF_CAP: Duration = Duration::from_secs(2);
/// Re-reads after a 409 before the item is left to a later attempt.
const CONFLICT_RETRIES: u32 = 3;
/// Backoff of a chunk stopped by a transient fault: `base * 2^attempt`, capped, with full jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(60);

/// Applies chunks of user changes through one Genesys client.
#[derive(Debug, Clone)]
pub struct ChunkApplier {
    client: GenesysClient,
    queue: Queue,
    external_id_authority: Option<String>,
}

/// Why a chunk stopped before every item was finished.
enum Stop {
    /// The queue itself failed; the chunk is retried as a whole (nothing was recorded for the rest).
    Queue(QueueError),
    /// The API asked us to stop (429, transient fault, auth).
    Api(ApiError),
}

impl From<QueueError> for Stop {
    fn from(err: QueueError) -> Self {
        Stop::Queue(err)
    }
}

/// One item of the chunk on its way to an outcome.
struct Work {
    change: UserChange,
    raw: Value,
    user: Option<User>,
    manager_id: Option<String>,
}

/// The outcomes of one chunk run. Outcomes without a write behind them (`unchanged`, `dead`) are gathered and
/// recorded together; an `updated` one is recorded as soon as its write is done ([`Ledger::flush`]), so a worker
/// that stops or dies mid-chunk does not leave written users to be found matching — and called `unchanged` —
/// by the next run.
struct Ledger<'a> {
    attempts: u32,
    outcomes: Vec<ItemOutcome>,
    batch: &'a str,
    queue: &'a Queue,
    /// Recorded so far: updated, unchanged, dead.
    counts: [u64; 3],
}

impl Ledger<'_> {
    /// Records every gathered outcome now.
    async fn flush(&mut self) -> Result<(), QueueError> {
        if self.outcomes.is_empty() {
            return Ok(());
        }
        let outcomes = std::mem::take(&mut self.outcomes);
        let mut counts = [0u64; 3];
        for outcome in &outcomes {
            match outcome {
                ItemOutcome::Updated { .. } => counts[0] += 1,
                ItemOutcome::Unchanged { .. } => counts[1] += 1,
                ItemOutcome::Dead { .. } => counts[2] += 1,
            }
        }
        self.queue.record_outcomes(self.batch, outcomes).await?;
        for (total, more) in self.counts.iter_mut().zip(counts) {
            *total += more;
        }
        Ok(())
    }

    fn updated(&mut self, line: u64) {
        self.outcomes.push(ItemOutcome::Updated { id: line });
    }

    fn unchanged(&mut self, line: u64) {
        self.outcomes.push(ItemOutcome::Unchanged { id: line });
    }

    fn dead(&mut self, work: &Work, error: ErrorInfo) {
        tracing::warn!(batch = self.batch, line = work.change.line, key = %work.change.key, status = ?error.status,
            code = ?error.code, correlation_id = ?error.correlation_id, "dead-lettered: {}", error.message);
        self.outcomes.push(ItemOutcome::Dead {
            id: work.change.line,
            letter: NewDeadLetter {
                line: work.change.line,
                key: work.change.key.to_string(),
                item: work.raw.clone(),
                error,
                attempts: self.attempts,
            },
        });
    }
}

/// The dead-letter reason for an API error: status, code, message and correlation id as the API gave them.
pub fn error_info(err: &ApiError) -> ErrorInfo {
    ErrorInfo {
        status: err.status(),
        code: err.code().map(str::to_owned),
        // Status, code and correlation id have fields of their own; the message says what was asked, what the API
        // answered, and what to do about it.
        message: format!(
            "{} {}: {}; {}",
            err.method(),
            err.path(),
            err.message(),
            err.hint()
        ),
        correlation_id: err.correlation_id().map(str::to_owned),
    }
}

fn not_found(what: String) -> ErrorInfo {
    ErrorInfo {
        status: Some(404),
        code: Some("not.found".into()),
        message: what,
        correlation_id: None,
    }
}

impl ChunkApplier {
    /// An applier writing outcomes to `queue` and calling the API through `client`.
    pub fn new(client: GenesysClient, queue: Queue, external_id_authority: Option<String>) -> Self {
        Self {
            client,
            queue,
            external_id_authority,
        }
    }

    /// The client (for readiness checks).
    pub fn client(&self) -> &GenesysClient {
        &self.client
    }

    /// Processes one chunk. `Ok` when every item has an outcome; a [`JobError`] reschedules the rest.
    pub async fn apply(&self, job: &ChunkJob) -> Result<(), JobError> {
        let mut ledger = Ledger {
            attempts: job.attempt.saturating_add(1),
            outcomes: Vec::new(),
            batch: &job.batch,
            queue: &self.queue,
            counts: [0; 3],
        };
        let result = self.run(job, &mut ledger).await;
        if let Err(err) = ledger.flush().await {
            // Outcomes not recorded: run the chunk again. The re-run finds written users matching and records
            // them, so nothing is written twice.
            tracing::warn!(batch = %job.batch, chunk = %job.chunk, error = %err, "could not record outcomes; retrying the chunk");
            return Err(self.backoff(job));
        }
        let counts = ledger.counts;
        metrics::items("updated", counts[0]);
        metrics::items("unchanged", counts[1]);
        metrics::items("dead", counts[2]);
        match result {
            Ok(()) => Ok(()),
            Err(Stop::Queue(err)) => {
                tracing::warn!(batch = %job.batch, chunk = %job.chunk, error = %err, "queue error; retrying the chunk");
                Err(self.backoff(job))
            }
            Err(Stop::Api(err)) => Err(self.reschedule(job, &err)),
        }
    }

    /// Runs one API call, retrying it in place a couple of times on a transient failure: with a few percent of
    /// requests failing, a chunk of 50 users would otherwise almost never finish in one run. Every request here
    /// is safe to repeat: reads are, and a PATCH carries the version it was planned against, so a repeat of one
    /// that did land answers 409 and is re-planned (to nothing).
    async fn retrying<T, F, Fut>(&self, mut call: F) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut retries = 0;
        loop {
            match call().await {
                Err(err) if err.kind() == ErrorKind::Transient && retries < INLINE_RETRIES => {
                    retries += 1;
                    tracing::debug!(error = %err, retries, "transient failure; retrying in place");
                    tokio::time::sleep(gcbulk_queue::backoff_with_full_jitter(
                        retries,
                        INLINE_BACKOFF_BASE,
                        INLINE_BACKOFF_CAP,
                    ))
                    .await;
                }
                other => return other,
            }
        }
    }

    fn backoff(&self, job: &ChunkJob) -> JobError {
        metrics::retry("transient");
        JobError::RetryAfter {
            after: gcbulk_queue::backoff_with_full_jitter(job.attempt, BACKOFF_BASE, BACKOFF_CAP),
            counts_as_attempt: true,
        }
    }

    /// What to do with the rest of a chunk stopped by `err`.
    fn reschedule(&self, job: &ChunkJob, err: &ApiError) -> JobError {
        match err.kind() {
            // A 429 is not a failure of the chunk: come back when the fleet may send again. A daily limit
            // (Retry-After over 180 s) pauses the work the same way; it never dead-letters it.
            ErrorKind::RateLimited {
                retry_after,
                exceeds_daily_limit,
            } => {
                metrics::retry("rate_limited");
                if exceeds_daily_limit {
                    tracing::warn!(
                        retry_after_secs = retry_after.as_secs(),
                        "daily rate limit reached: this client's work pauses until Retry-After has passed"
                    );
                }
                JobError::RetryAfter {
                    after: retry_after,
                    counts_as_attempt: false,
                }
            }
            _ if job.is_last_attempt() => {
                tracing::warn!(batch = %job.batch, chunk = %job.chunk, attempts = job.attempt + 1, error = %err,
                    "attempts exhausted; dead-lettering the rest of the chunk");
                let mut info = error_info(err);
                info.message = format!(
                    "gave up after {} attempts: {}",
                    job.attempt + 1,
                    info.message
                );
                JobError::GiveUp(info)
            }
            _ => {
                tracing::info!(batch = %job.batch, chunk = %job.chunk, attempt = job.attempt + 1, error = %err,
                    "transient failure; chunk rescheduled with backoff");
                self.backoff(job)
            }
        }
    }

    async fn run(&self, job: &ChunkJob, ledger: &mut Ledger<'_>) -> Result<(), Stop> {
        // Decode; an item that is not a change we understand can never succeed.
        let mut decoded = Vec::with_capacity(job.items.len());
        for raw in &job.items {
            match serde_json::from_value::<UserChange>(raw.clone()) {
                Ok(change) => decoded.push(Work {
                    change,
                    raw: raw.clone(),
                    user: None,
                    manager_id: None,
                }),
                Err(err) => {
                    let line = raw.get("line").and_then(Value::as_u64).unwrap_or(0);
                    let key = raw
                        .get("key")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    ledger.outcomes.push(ItemOutcome::Dead {
                        id: line,
                        letter: NewDeadLetter {
                            line,
                            key,
                            item: raw.clone(),
                            error: ErrorInfo::message(format!(
                                "undecodable item (written by another gcbulk version?): {err}"
                            )),
                            attempts: ledger.attempts,
                        },
                    });
                }
            }
        }
        // Skip what a previous delivery already finished.
        let lines: Vec<u64> = decoded.iter().map(|w| w.change.line).collect();
        let done = self.queue.outcomes(&job.batch, &lines).await?;
        let mut work: Vec<Work> = decoded
            .into_iter()
            .zip(done)
            .filter(|(_, outcome)| outcome.is_none())
            .map(|(w, _)| w)
            .collect();
        if work.is_empty() {
            return Ok(());
        }

        self.resolve(&mut work, ledger).await?;
        let mut ready = Vec::new();
        for item in work {
            let Some(user) = &item.user else { continue };
            let planned = plan(&item.change.set, user, item.manager_id.as_deref());
            if planned.is_empty() {
                ledger.unchanged(item.change.line);
            } else {
                ready.push((item, planned));
            }
        }
        self.write(ready, ledger).await
    }

    /// Finds each item's user (and its manager's id); items whose user or manager cannot be found are dead.
    /// Items that leave here with `user: None` have been given an outcome.
    async fn resolve(&self, work: &mut Vec<Work>, ledger: &mut Ledger<'_>) -> Result<(), Stop> {
        // By id: key ids and manager ids (a manager given by id must exist, or the PATCH would fail with a 400).
        let mut ids: Vec<String> = Vec::new();
        let mut emails: Vec<String> = Vec::new();
        for item in work.iter() {
            match &item.change.key {
                UserKey::Id(id) => ids.push(id.clone()),
                UserKey::Email(email) => emails.push(email.to_lowercase()),
                UserKey::ExternalId(_) => {}
            }
            match &item.change.set.manager {
                Some(ManagerRef::Id(id)) => ids.push(id.clone()),
                Some(ManagerRef::Email(email)) => emails.push(email.to_lowercase()),
                None => {}
            }
        }
        dedup(&mut ids);
        dedup(&mut emails);
        let mut by_id: HashMap<String, User> = HashMap::new();
        for group in ids.chunks(IDS_PER_GET) {
            let users = self
                .retrying(|| self.client.get_users_by_ids(group))
                .await
                .map_err(Stop::Api)?
                .into_value();
            by_id.extend(users.into_iter().map(|u| (u.id.clone(), u)));
        }
        // An id the bulk read did not return is asked for alone: the API's own 404 (code, message, correlation
        // id) is the reason an operator needs in the dead-letter entry. Only failing rows pay this request.
        let mut id_failures: HashMap<String, ErrorInfo> = HashMap::new();
        let unreturned: Vec<String> = ids
            .iter()
            .filter(|id| !by_id.contains_key(*id))
            .cloned()
            .collect();
        for id in &unreturned {
            match self.retrying(|| self.client.get_user(id)).await {
                Ok(user) => {
                    by_id.insert(id.clone(), user.into_value());
                }
                Err(err) if err.kind() == ErrorKind::Permanent => {
                    id_failures.insert(id.clone(), error_info(&err));
                }
                Err(err) => return Err(Stop::Api(err)),
            }
        }
        let mut by_email: HashMap<String, User> = HashMap::new();
        let mut search_correlation: Option<String> = None;
        for group in emails.chunks(EMAILS_PER_SEARCH) {
            let found = self
                .retrying(|| self.client.search_users_by_emails(group))
                .await
                .map_err(Stop::Api)?;
            search_correlation = found
                .correlation_id()
                .map(str::to_owned)
                .or(search_correlation);
            by_email.extend(
                found
                    .into_value()
                    .into_iter()
                    .filter_map(|u| Some((u.email.clone()?.to_lowercase(), u))),
            );
        }
        let no_such_email = |what: &str, email: &str, status: u16, code: &str| ErrorInfo {
            status: Some(status),
            code: Some(code.to_owned()),
            message: format!(
                "{what} {email} matches no user of this org (POST /api/v2/users/search, EXACT)"
            ),
            correlation_id: search_correlation.clone(),
        };
        // The default search finds active users only; a row may target an inactive user (e.g. to reactivate
        // it), so emails still missing are looked up once more in any state.
        let missing: Vec<String> = emails
            .iter()
            .filter(|e| !by_email.contains_key(*e))
            .cloned()
            .collect();
        for group in missing.chunks(EMAILS_PER_SEARCH) {
            match self
                .retrying(|| self.client.search_users_by_emails_any_state(group))
                .await
            {
                Ok(users) => {
                    by_email.extend(
                        users
                            .into_value()
                            .into_iter()
                            .filter_map(|u| Some((u.email.clone()?.to_lowercase(), u))),
                    );
                }
                // An API that refuses the state criterion (unconfirmed for the real one) just means "not found".
                Err(err) if err.kind() == ErrorKind::Permanent => break,
                Err(err) => return Err(Stop::Api(err)),
            }
        }

        let mut kept = Vec::with_capacity(work.len());
        for mut item in std::mem::take(work) {
            let user = match &item.change.key {
                UserKey::Id(id) => by_id.get(id).cloned().ok_or_else(|| {
                    id_failures
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| not_found(format!("no user with id {id}")))
                }),
                UserKey::Email(email) => by_email
                    .get(&email.to_lowercase())
                    .cloned()
                    .ok_or_else(|| no_such_email("email", email, 404, "not.found")),
                UserKey::ExternalId(key) => match &self.external_id_authority {
                    None => Err(ErrorInfo::message(format!(
                        "external id {key}: no authority configured; set GENESYS_EXTERNAL_ID_AUTHORITY (or \
                         --external-id-authority) on the workers, then `gcbulk dlq requeue` this item"
                    ))),
                    Some(authority) => {
                        match self
                            .retrying(|| self.client.get_user_by_external_id(authority, key))
                            .await
                        {
                            Ok(user) => Ok(user.into_value()),
                            Err(err) if err.kind() == ErrorKind::Permanent => Err(error_info(&err)),
                            Err(err) => return Err(Stop::Api(err)),
                        }
                    }
                },
            };
            let manager = match &item.change.set.manager {
                None => Ok(None),
                Some(ManagerRef::Id(id)) => match by_id.get(id) {
                    Some(_) => Ok(Some(id.clone())),
                    None => Err(ErrorInfo {
                        status: Some(400),
                        code: Some("invalid.value".into()),
                        message: format!("manager {id} is not a user of this org"),
                        correlation_id: id_failures.get(id).and_then(|e| e.correlation_id.clone()),
                    }),
                },
                Some(ManagerRef::Email(email)) => match by_email.get(&email.to_lowercase()) {
                    Some(manager) => Ok(Some(manager.id.clone())),
                    None => Err(no_such_email("manager email", email, 400, "invalid.value")),
                },
            };
            match (user, manager) {
                (Ok(user), Ok(manager_id)) => {
                    item.user = Some(user);
                    item.manager_id = manager_id;
                    kept.push(item);
                }
                (Err(reason), _) | (_, Err(reason)) => ledger.dead(&item, reason),
            }
        }
        *work = kept;
        Ok(())
    }

    /// Sends the planned writes; each item ends `updated` or `dead`, unless the chunk stops.
    async fn write(&self, ready: Vec<(Work, Plan)>, ledger: &mut Ledger<'_>) -> Result<(), Stop> {
        let mut acd: Vec<(Work, bool)> = Vec::new();
        for (mut item, mut planned) in ready {
            match self.write_profile_and_state(&mut item, &mut planned).await {
                Ok(()) => {}
                Err(err)
                    if err.kind() == ErrorKind::Permanent
                        || err.kind() == ErrorKind::InvalidRequest =>
                {
                    ledger.dead(&item, error_info(&err));
                    continue;
                }
                Err(err) => {
                    // Record what is finished, then stop; the pending ACD group is sent on the next run.
                    return Err(Stop::Api(err));
                }
            }
            match planned.acd_auto_answer {
                Some(on) => acd.push((item, on)),
                None => {
                    ledger.updated(item.change.line);
                    ledger.flush().await?;
                }
            }
        }
        let mut groups = acd.into_iter().peekable();
        while groups.peek().is_some() {
            let group: Vec<(Work, bool)> = groups.by_ref().take(USERS_PER_BULK_PATCH).collect();
            let body: Vec<(String, bool)> = group
                .iter()
                .filter_map(|(w, on)| Some((w.user.as_ref()?.id.clone(), *on)))
                .collect();
            match self
                .retrying(|| self.client.patch_users_bulk_acd_auto_answer(&body))
                .await
            {
                Ok(_) => {
                    group
                        .iter()
                        .for_each(|(w, _)| ledger.updated(w.change.line));
                    ledger.flush().await?;
                }
                Err(err) if err.kind() == ErrorKind::Permanent => {
                    // One bad user fails the whole call; the items are dead with the call's reason. A requeue
                    // sends each again.
                    group
                        .iter()
                        .for_each(|(w, _)| ledger.dead(w, error_info(&err)));
                }
                Err(err) => return Err(Stop::Api(err)),
            }
        }
        Ok(())
    }

    /// The profile PATCH (re-read and re-planned on 409) and then the state PATCH.
    async fn write_profile_and_state(
        &self,
        item: &mut Work,
        planned: &mut Plan,
    ) -> Result<(), ApiError> {
        let mut conflicts = 0;
        loop {
            let Some(user) = item.user.as_ref() else {
                return Ok(());
            };
            let user_id = user.id.clone();
            let result = match (&planned.profile, planned.state) {
                (Some(profile), _) => {
                    self.retrying(|| self.client.patch_user(&user_id, profile))
                        .await
                }
                (None, Some(state)) => {
                    let mut update = UpdateUser::new(user.version);
                    update.state = Some(state);
                    self.retrying(|| self.client.patch_user(&user_id, &update))
                        .await
                }
                (None, None) => return Ok(()),
            };
            match result {
                Ok(updated) => {
                    // What was sent is done; a state change (if any) goes next, with the version this PATCH
                    // produced.
                    if planned.profile.take().is_none() {
                        planned.state = None;
                    }
                    item.user = Some(updated.into_value());
                }
                Err(err) if err.kind() == ErrorKind::Conflict && conflicts < CONFLICT_RETRIES => {
                    // Someone else changed the user since we read it: read again and re-apply our change on top.
                    conflicts += 1;
                    let fresh = self
                        .retrying(|| self.client.get_user(&user_id))
                        .await?
                        .into_value();
                    let replanned = plan(&item.change.set, &fresh, item.manager_id.as_deref());
                    item.user = Some(fresh);
                    *planned = replanned;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

fn dedup(values: &mut Vec<String>) {
    let mut seen = HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
}
