//! The apalis worker on our backend: every chunk processed, every item ending exactly once,
//! retries, exhaustion, crash recovery, lease renewal and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use apalis_core::{backend::Backend, task::Task, worker::context::WorkerContext};
use gcbulk_queue::{ChunkBackend, ChunkJob, DlqFilter, OutcomeKind, Queue};
use support::*;

async fn wait_done(queue: &Queue, batch: &str, secs: u64) {
    wait_until(secs, &format!("batch {batch} done"), || async {
        queue
            .batch_status(batch)
            .await
            .unwrap()
            .is_some_and(|s| s.done)
    })
    .await;
}

async fn wait_idle(queue: &Queue, secs: u64) {
    wait_until(secs, "queue idle", || async {
        queue.is_idle().await.unwrap()
    })
    .await;
}

/// Fetches one task straight from a backend, as a worker process would before crashing.
async fn fetch_one(backend: &mut ChunkBackend) -> Task<ChunkJob> {
    let ctx = WorkerContext::new("fetch-only");
    let next = tokio::time::timeout(
        Duration::from_secs(30),
        futures::future::poll_fn(|cx| backend.poll_next(cx, &ctx)),
    )
    .await
    .expect("a job within 30 s");
    next.expect("backend never ends")
        .expect("backend never fails")
}

#[tokio::test]
async fn every_item_ends_once_even_when_chunks_run_twice() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 30, 3).await;

    let runs = shared_runs();
    let worker = start_worker(
        queue_as(&config, "w1").await,
        "w1",
        4,
        runs.clone(),
        |job| {
            // Chunks 0-4 record their outcomes and then fail once, as if the ack were lost.
            if job.chunk.parse::<u32>().unwrap() < 5 && job.attempt == 0 {
                Action::RecordThenFail
            } else {
                Action::Succeed
            }
        },
    );
    wait_done(&producer, "b", 60).await;
    wait_idle(&producer, 30).await;
    worker.stop().await;

    let status = producer.batch_status("b").await.unwrap().unwrap();
    assert_eq!(
        (status.total, status.updated, status.unchanged, status.dead),
        (30, 30, 0, 0),
        "{status:?}"
    );
    assert_eq!(
        (status.pending, status.in_flight, status.retrying),
        (0, 0, 0)
    );
    let by_chunk = runs_by_chunk(&runs.lock().unwrap());
    assert_eq!(by_chunk.len(), 10, "every chunk ran");
    for c in 0..10 {
        let runs = &by_chunk[&c.to_string()];
        let expected = if c < 5 { 2 } else { 1 };
        assert_eq!(runs.len(), expected, "chunk {c}: {runs:?}");
        if c < 5 {
            assert_eq!(runs[1].attempt, 1, "the failed run counts as an attempt");
        }
    }
    let ids: Vec<u64> = (2..32).collect();
    let outcomes = producer.outcomes("b", &ids).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == Some(OutcomeKind::Updated)));
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn retry_after_waits_and_counts_attempts_only_when_asked() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 6, 3).await;

    let runs = shared_runs();
    let worker = start_worker(
        queue_as(&config, "w1").await,
        "w1",
        2,
        runs.clone(),
        |job| {
            match (job.chunk.as_str(), job.attempt, job.throttled) {
                // A 429: rescheduled without counting an attempt.
                ("0", 0, 0) => Action::RetryAfter {
                    after: Duration::from_secs(3),
                    counts_as_attempt: false,
                },
                // A transient fault with the handler's own backoff: counts.
                ("1", 0, 0) => Action::RetryAfter {
                    after: Duration::from_secs(3),
                    counts_as_attempt: true,
                },
                _ => Action::Succeed,
            }
        },
    );
    wait_until(30, "both chunks waiting for their retry", || async {
        producer.batch_status("b").await.unwrap().unwrap().retrying == 6
    })
    .await;
    assert!(
        !producer.is_idle().await.unwrap(),
        "delayed jobs keep the queue busy"
    );
    wait_done(&producer, "b", 60).await;
    worker.stop().await;

    let by_chunk = runs_by_chunk(&runs.lock().unwrap());
    let throttled = &by_chunk["0"];
    assert_eq!(throttled.len(), 2);
    assert_eq!((throttled[1].attempt, throttled[1].throttled), (0, 1));
    assert!(
        throttled[1].at - throttled[0].at >= Duration::from_secs(3),
        "not before the delay"
    );
    let transient = &by_chunk["1"];
    assert_eq!(transient.len(), 2);
    assert_eq!((transient[1].attempt, transient[1].throttled), (1, 0));
    assert!(transient[1].at - transient[0].at >= Duration::from_secs(3));
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn exhausted_or_abandoned_chunks_dead_letter_their_items_with_the_reason() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns); // max_attempts 4
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 9, 3).await;

    let runs = shared_runs();
    let worker = start_worker(
        queue_as(&config, "w1").await,
        "w1",
        3,
        runs.clone(),
        |job| {
            match job.chunk.as_str() {
                "0" => Action::Fail("upstream said boom".into()),
                "1" => Action::GiveUp("credentials revoked".into()),
                _ => Action::SucceedSilently, // a handler bug: Ok without outcomes
            }
        },
    );
    wait_done(&producer, "b", 60).await;
    wait_idle(&producer, 30).await;
    worker.stop().await;

    let status = producer.batch_status("b").await.unwrap().unwrap();
    assert_eq!((status.updated, status.dead, status.total), (0, 9, 9));
    let by_chunk = runs_by_chunk(&runs.lock().unwrap());
    assert_eq!(by_chunk["0"].len(), 4, "max_attempts runs, then dead");
    assert_eq!(by_chunk["1"].len(), 1, "given up at once");

    let letters = producer
        .dlq_list(DlqFilter {
            batch: Some("b".into()),
            limit: None,
        })
        .await
        .unwrap();
    assert_eq!(letters.len(), 9);
    let by_line = |l: u64| letters.iter().find(|d| d.line == l).unwrap();
    assert!(
        by_line(2).error.message.contains("upstream said boom"),
        "{:?}",
        by_line(2)
    );
    assert!(
        by_line(2).error.message.contains("4 attempts"),
        "{:?}",
        by_line(2)
    );
    assert_eq!(by_line(5).error.message, "credentials revoked");
    assert!(
        by_line(8).error.message.contains("no outcome"),
        "{:?}",
        by_line(8)
    );
    assert_eq!(
        by_line(8).item,
        item(8),
        "the whole item is kept for a requeue"
    );
    assert_eq!(by_line(8).key, "id:user-8");
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn a_crashed_consumers_job_is_taken_over_with_the_attempt_counted() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns); // claim idle timeout 2 s
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 3, 3).await;

    // Consumer A fetches the only job and dies without settling it.
    let mut crashed = queue_as(&config, "a").await.backend();
    let task = fetch_one(&mut crashed).await;
    assert_eq!(task.args.attempt, 0);
    drop(task);
    drop(crashed);
    let status = producer.batch_status("b").await.unwrap().unwrap();
    assert_eq!(status.in_flight, 3, "{status:?}");

    let runs = shared_runs();
    let worker = start_worker(queue_as(&config, "b").await, "b", 2, runs.clone(), |_| {
        Action::Succeed
    });
    wait_done(&producer, "b", 60).await;
    worker.stop().await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].attempt, 1, "the crash counts as a failed attempt");
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn a_chunk_that_keeps_crashing_workers_is_dead_lettered() {
    let (url, ns) = (redis_url(), unique_namespace());
    let mut config = fast_config(&url, &ns);
    config.max_attempts = 2;
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 2, 2).await;

    // Two consumers in a row take the job and die with it.
    for name in ["a", "b"] {
        let mut crashed = queue_as(&config, name).await.backend();
        drop(fetch_one(&mut crashed).await);
    }
    // The next fetch gives up on it instead of running it a third time.
    let runs = shared_runs();
    let worker = start_worker(queue_as(&config, "c").await, "c", 1, runs.clone(), |_| {
        Action::Succeed
    });
    wait_done(&producer, "b", 60).await;
    wait_idle(&producer, 30).await;
    worker.stop().await;
    assert!(
        runs.lock().unwrap().is_empty(),
        "a poison chunk is not run again"
    );
    let letter = producer.dlq_get("b:2").await.unwrap().unwrap();
    assert!(letter.error.message.contains("delivered"), "{letter:?}");
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn lease_renewal_keeps_a_slow_job_from_being_taken_over() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns); // claim idle timeout 2 s, renewal every ~0.67 s
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 1, 1).await;

    let runs = shared_runs();
    let slow = start_worker(
        queue_as(&config, "slow").await,
        "slow",
        1,
        runs.clone(),
        |_| Action::SlowSucceed(Duration::from_secs(6)),
    );
    wait_until(30, "the slow worker started the job", || async {
        !runs.lock().unwrap().is_empty()
    })
    .await;
    // A second worker polls (and tries to claim idle jobs) all along.
    let other = start_worker(
        queue_as(&config, "other").await,
        "other",
        1,
        runs.clone(),
        |_| Action::Succeed,
    );
    wait_done(&producer, "b", 60).await;
    slow.stop().await;
    other.stop().await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1, "ran once: {runs:?}");
    assert_eq!((runs[0].worker.as_str(), runs[0].attempt), ("slow", 0));
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn shutdown_hands_back_unstarted_jobs_without_counting_an_attempt() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns); // fetches 4 per round
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 4, 1).await;

    let runs = shared_runs();
    let first = start_worker(
        queue_as(&config, "first").await,
        "first",
        1,
        runs.clone(),
        |_| Action::SlowSucceed(Duration::from_millis(500)),
    );
    wait_until(30, "the first job started", || async {
        !runs.lock().unwrap().is_empty()
    })
    .await;
    first.stop().await;
    let after_stop = runs.lock().unwrap().len();
    let status = producer.batch_status("b").await.unwrap().unwrap();
    assert_eq!(
        status.updated as usize, after_stop,
        "running handlers finished"
    );
    assert_eq!(
        status.in_flight, 0,
        "nothing left held by the stopped worker: {status:?}"
    );
    assert_eq!(status.pending as usize, 4 - after_stop);

    let second = start_worker(
        queue_as(&config, "second").await,
        "second",
        2,
        runs.clone(),
        |_| Action::Succeed,
    );
    wait_done(&producer, "b", 60).await;
    second.stop().await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 4);
    assert!(runs.iter().all(|r| r.attempt == 0), "{runs:?}");
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn jobs_still_running_at_the_end_of_the_grace_period_can_be_handed_back() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 2, 2).await;

    let runs = shared_runs();
    let stuck = start_worker(
        queue_as(&config, "stuck").await,
        "stuck",
        1,
        runs.clone(),
        |_| Action::Hang,
    );
    wait_until(30, "the job started", || async {
        !runs.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(stuck.backend.held_jobs(), 1);
    assert_eq!(stuck.backend.hand_back_all().await, 1);
    stuck.kill();

    let next = start_worker(
        queue_as(&config, "next").await,
        "next",
        1,
        runs.clone(),
        |_| Action::Succeed,
    );
    wait_done(&producer, "b", 60).await;
    next.stop().await;
    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[1].worker.as_str(), runs[1].attempt),
        ("next", 0),
        "no attempt counted"
    );
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn a_stopped_worker_leaves_the_consumer_group() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 2, 1).await;
    let queue = queue_as(&config, "leaver").await;
    let consumer = queue.config().consumer.clone();
    let worker = start_worker(queue, "leaver", 1, shared_runs(), |_| Action::Succeed);
    wait_done(&producer, "b", 60).await;
    let consumers = || async {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let info: Vec<std::collections::HashMap<String, redis::Value>> = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(format!("{{{ns}}}:jobs"))
            .arg("workers")
            .query_async(&mut conn)
            .await
            .unwrap();
        info.len()
    };
    assert_eq!(
        consumers().await,
        1,
        "{consumer} is a consumer while it runs"
    );
    worker.stop().await;
    assert_eq!(consumers().await, 0);
    cleanup(&url, &ns).await;
}
