//! The chunk applier against the look-alike (real HTTP) and a real Redis: every key kind, every write path,
//! and the outcome each item must end with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use gcbulk_queue::{ChunkJob, DlqFilter, JobError, NewBatch, OutcomeKind, Queue, QueueConfig};
use gcbulk_worker::ChunkApplier;
use genesys::{ClientConfig, GenesysClient, SecretString};
use genesys_mock::{Faults, Force429, MockConfig, MockHandle, seed};
use serde_json::{Value, json};

struct Setup {
    mock: MockHandle,
    queue: Queue,
    applier: ChunkApplier,
    namespace: String,
}

impl Setup {
    async fn new(users: usize) -> Setup {
        let mock = genesys_mock::spawn(MockConfig {
            users,
            rate_limit: 0,
            ..MockConfig::default()
        })
        .await
        .unwrap();
        let namespace = format!("t-apply-{:x}", rand::random::<u64>());
        let url =
            std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let queue = Queue::connect(QueueConfig::new(url, namespace.clone()))
            .await
            .unwrap();
        let config = ClientConfig::for_base_url(
            &mock.base_url(),
            genesys_mock::DEFAULT_CLIENT_ID,
            SecretString::from(genesys_mock::DEFAULT_CLIENT_SECRET),
        )
        .unwrap();
        let client = GenesysClient::new(config).unwrap();
        let applier = ChunkApplier::new(
            client,
            queue.clone(),
            Some(genesys_mock::DEFAULT_EXTERNAL_ID_AUTHORITY.into()),
        );
        Setup {
            mock,
            queue,
            applier,
            namespace,
        }
    }

    /// Enqueues `items` as a one-chunk batch and returns the job a worker would get.
    async fn job(&self, items: Vec<Value>) -> ChunkJob {
        let gcbulk_queue::BatchStart::New(mut writer) = self
            .queue
            .begin_batch(NewBatch {
                id: None,
                source: "test".into(),
                format: "jsonl".into(),
                chunk_size: 100,
            })
            .await
            .unwrap()
        else {
            panic!("fresh batch expected")
        };
        writer
            .push_chunk(items.len(), serde_json::to_vec(&items).unwrap())
            .await
            .unwrap();
        let summary = writer.commit().await.unwrap();
        ChunkJob {
            batch: summary.id,
            chunk: "0".into(),
            items,
            attempt: 0,
            throttled: 0,
            max_attempts: 8,
        }
    }

    fn user(&self, index: usize) -> Value {
        self.mock.user(&seed::user_id(index)).unwrap()
    }

    async fn outcome(&self, job: &ChunkJob, line: u64) -> Option<OutcomeKind> {
        self.queue.outcomes(&job.batch, &[line]).await.unwrap()[0]
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let url =
            std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        if let Ok(mut conn) = redis::Client::open(url).and_then(|c| c.get_connection()) {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{{{}}}*", self.namespace))
                .query(&mut conn)
                .unwrap_or_default();
            for key in keys {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(key).query(&mut conn);
            }
        }
    }
}

#[tokio::test]
async fn every_key_kind_resolves_and_only_differing_fields_are_written() {
    let s = Setup::new(60).await;
    let matching_title = s.user(4)["title"].as_str().unwrap().to_string();
    let job = s
        .job(vec![
            json!({"line": 2, "key": format!("id:{}", seed::user_id(2)), "title": "By id"}),
            json!({"line": 3, "key": format!("email:{}", seed::user_email(3).to_uppercase()), "department": "By email"}),
            json!({"line": 4, "key": format!("id:{}", seed::user_id(4)), "title": matching_title}),
            json!({"line": 5, "key": format!("external_id:{}", seed::external_key(5)), "name": "By External Id"}),
            json!({"line": 6, "key": format!("id:{}", seed::user_id(6)), "manager": format!("email:{}", seed::user_email(7))}),
            json!({"line": 8, "key": format!("id:{}", seed::user_id(8)), "phone_work": "+44 20 7946 0008", "extension": "4711"}),
        ])
        .await;
    s.mock.reset_stats();
    s.applier.apply(&job).await.unwrap();

    assert_eq!(s.user(2)["title"], "By id");
    assert_eq!(s.user(3)["department"], "By email");
    assert_eq!(s.user(5)["name"], "By External Id");
    assert_eq!(s.user(6)["manager"]["id"], seed::user_id(7));
    let dead = s
        .queue
        .dlq_list(DlqFilter {
            batch: Some(job.batch.clone()),
            limit: None,
        })
        .await
        .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
    let addresses = s.user(8)["addresses"].as_array().unwrap().clone();
    assert!(
        addresses.iter().any(|a| a["address"]
            .as_str()
            .is_some_and(|n| n.contains("2079460008"))
            || a["address"] == "+44 20 7946 0008"),
        "{addresses:?}"
    );
    assert!(
        addresses.iter().any(|a| a["extension"] == "4711"),
        "{addresses:?}"
    );
    for line in [2, 3, 5, 6, 8] {
        assert_eq!(
            s.outcome(&job, line).await,
            Some(OutcomeKind::Updated),
            "line {line}"
        );
    }
    assert_eq!(s.outcome(&job, 4).await, Some(OutcomeKind::Unchanged));
    let stats = s.mock.stats();
    assert_eq!(
        stats.writes, 5,
        "one PATCH per changed user, none for the matching one"
    );
    // One bulk read by id, one search for both emails, one external-id read, five PATCHes.
    assert_eq!(stats.api_requests, 8, "{:?}", stats.by_route);
}

#[tokio::test]
async fn state_goes_alone_and_acd_auto_answer_goes_in_bulk() {
    let s = Setup::new(120).await;
    // User 50 starts inactive; users 1..=100 get ACD auto-answer flipped.
    let mut items = vec![
        json!({"line": 1, "key": format!("id:{}", seed::user_id(50)), "state": "active", "title": "Back"}),
    ];
    let mut expected_acd = Vec::new();
    for i in 1..=100usize {
        if i == 50 {
            continue;
        }
        let now = s.user(i)["acdAutoAnswer"].as_bool().unwrap_or(false);
        expected_acd.push((i, !now));
        items.push(json!({"line": i as u64 + 1000, "key": format!("id:{}", seed::user_id(i)), "acd_auto_answer": !now}));
    }
    let job = s.job(items).await;
    s.mock.reset_stats();
    s.applier.apply(&job).await.unwrap();

    assert_eq!(s.user(50)["state"], "active");
    assert_eq!(s.user(50)["title"], "Back");
    for (i, want) in expected_acd {
        assert_eq!(s.user(i)["acdAutoAnswer"], want, "user {i}");
    }
    let stats = s.mock.stats();
    assert_eq!(
        stats.route_total("PATCH /api/v2/users/bulk"),
        2,
        "99 users in bulk PATCHes of at most 50: {:?}",
        stats.by_route
    );
    assert_eq!(
        stats.route_total("PATCH /api/v2/users/{userId}"),
        2,
        "profile, then state in a PATCH of its own"
    );
}

#[tokio::test]
async fn concurrent_edits_are_re_read_and_re_applied() {
    let s = Setup::new(40).await;
    s.mock
        .set_faults(Faults {
            conflict_rate: 0.5,
            ..Faults::default()
        })
        .unwrap();
    let items = (1..=30usize)
        .map(|i| json!({"line": i as u64, "key": format!("id:{}", seed::user_id(i)), "department": format!("Dept {i}")}))
        .collect();
    let job = s.job(items).await;
    // Three re-reads per item are allowed per run; a chunk that still conflicts is retried as a whole.
    for _ in 0..10 {
        match s.applier.apply(&job).await {
            Ok(()) => break,
            Err(JobError::RetryAfter { .. }) => continue,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    for i in 1..=30usize {
        assert_eq!(s.user(i)["department"], format!("Dept {i}"));
    }
    assert!(
        s.mock.stats().injected_conflicts > 0,
        "the look-alike injected conflicts"
    );
}

#[tokio::test]
async fn permanent_failures_are_dead_lettered_with_the_api_reason_and_the_rest_goes_on() {
    let s = Setup::new(20).await;
    let job = s
        .job(vec![
            json!({"line": 2, "key": "id:00000000-0000-4000-8000-0000deadbeef", "title": "Nobody"}),
            json!({"line": 3, "key": "email:nobody@example.com", "title": "Nobody"}),
            json!({"line": 4, "key": format!("id:{}", seed::user_id(4)), "manager": "email:nobody@example.com"}),
            json!({"line": 5, "key": format!("id:{}", seed::user_id(5)), "title": "Fine"}),
        ])
        .await;
    s.applier.apply(&job).await.unwrap();
    assert_eq!(s.user(5)["title"], "Fine");
    let dead = s
        .queue
        .dlq_list(DlqFilter {
            batch: Some(job.batch.clone()),
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 3);
    let by_line = |line: u64| dead.iter().find(|d| d.line == line).unwrap();
    let unknown = by_line(2);
    assert_eq!(unknown.error.status, Some(404));
    assert_eq!(unknown.error.code.as_deref(), Some("not.found"));
    assert!(
        unknown.error.correlation_id.is_some(),
        "the API's correlation id is kept: {unknown:?}"
    );
    assert_eq!(by_line(3).error.status, Some(404));
    assert!(
        by_line(4)
            .error
            .message
            .contains("manager email nobody@example.com"),
        "{:?}",
        by_line(4)
    );
    assert_eq!(
        by_line(2).item["title"],
        "Nobody",
        "the whole item is kept for export and requeue"
    );
}

#[tokio::test]
async fn a_429_reschedules_the_rest_at_retry_after_without_counting_an_attempt() {
    let s = Setup::new(20).await;
    let job = s
        .job(vec![
            json!({"line": 2, "key": format!("id:{}", seed::user_id(2)), "title": "Later"}),
        ])
        .await;
    s.mock
        .set_faults(Faults {
            force_429: Some(Force429 {
                for_secs: 30,
                retry_after_secs: 7,
            }),
            ..Faults::default()
        })
        .unwrap();
    match s.applier.apply(&job).await {
        Err(JobError::RetryAfter {
            after,
            counts_as_attempt,
        }) => {
            assert!(!counts_as_attempt, "a 429 is not a failed attempt");
            assert!(
                after >= Duration::from_secs(6) && after <= Duration::from_secs(7),
                "{after:?}"
            );
        }
        other => panic!("expected a reschedule, got {other:?}"),
    }
    assert_eq!(
        s.outcome(&job, 2).await,
        None,
        "the item is not finished, nor dead"
    );
    let _ = Arc::new(());
}

#[tokio::test]
async fn a_chunk_stopped_mid_way_keeps_the_outcome_of_every_user_it_wrote() {
    let s = Setup::new(20).await;
    let items = (1..=10usize)
        .map(|i| json!({"line": i as u64, "key": format!("id:{}", seed::user_id(i)), "title": format!("Stopped {i}")}))
        .collect();
    let job = s.job(items).await;
    s.applier.client().access_token().await.unwrap();
    // Every API answer takes 100 ms: the bulk read ends at ~100 ms, the first PATCH at ~200 ms, the second at
    // ~300 ms. Stopping the run at 250 ms (a worker killed, or past its shutdown grace) lands mid-request.
    s.mock
        .set_faults(Faults {
            latency_ms: 100,
            ..Faults::default()
        })
        .unwrap();
    let stopped = tokio::time::timeout(Duration::from_millis(250), s.applier.apply(&job)).await;
    assert!(stopped.is_err(), "the run was still going");
    s.mock.set_faults(Faults::default()).unwrap();

    let mut written = 0;
    for i in 1..=10u64 {
        let title = s.user(i as usize)["title"].clone();
        let outcome = s.outcome(&job, i).await;
        if title == format!("Stopped {i}") {
            written += 1;
            assert_eq!(
                outcome,
                Some(OutcomeKind::Updated),
                "user {i} was written, so its outcome is `updated`"
            );
        } else {
            assert_eq!(outcome, None, "user {i} was not written yet");
        }
    }
    assert!(written >= 1, "the run got as far as writing");

    // The next run finishes the rest, and every item ends `updated`: none is taken for `unchanged`.
    s.applier.apply(&job).await.unwrap();
    for i in 1..=10u64 {
        assert_eq!(
            s.outcome(&job, i).await,
            Some(OutcomeKind::Updated),
            "line {i}"
        );
    }
}
