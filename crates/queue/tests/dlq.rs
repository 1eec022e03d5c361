//! Dead letters: list/get/requeue/purge, status numbers that add up, retention TTLs, idleness.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use gcbulk_queue::{BatchStatus, DlqFilter, DlqSelection, Queue};
use support::*;

async fn status(queue: &Queue, batch: &str) -> BatchStatus {
    let s = queue.batch_status(batch).await.unwrap().unwrap();
    assert_eq!(
        s.total,
        s.updated + s.unchanged + s.dead + s.pending + s.in_flight + s.retrying,
        "status numbers add up: {s:?}"
    );
    s
}

async fn pttl(url: &str, key: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn dead_letters_can_be_listed_requeued_and_purged() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 6, 3).await;
    let s = status(&producer, "b").await;
    assert_eq!((s.pending, s.done), (6, false));

    // Chunk 0 (lines 2-4) dies until `heal` is set; chunk 1 succeeds.
    let heal = Arc::new(AtomicBool::new(false));
    let healed = heal.clone();
    let runs = shared_runs();
    let worker = start_worker(
        queue_as(&config, "w").await,
        "w",
        2,
        runs.clone(),
        move |job| {
            if job.chunk == "1" || healed.load(Ordering::SeqCst) {
                Action::Succeed
            } else {
                Action::DeadLetter("user not found".into())
            }
        },
    );
    wait_until(60, "batch done", || async {
        status(&producer, "b").await.done
    })
    .await;
    wait_until(30, "queue idle", || async {
        producer.is_idle().await.unwrap()
    })
    .await;
    let s = status(&producer, "b").await;
    assert_eq!(
        (s.updated, s.dead, s.pending, s.in_flight, s.retrying),
        (3, 3, 0, 0, 0)
    );
    assert!(!s.created_at.is_empty() && humantime::parse_rfc3339(&s.created_at).is_ok());
    // A finished batch expires after the retention period, dead letters with it.
    let meta = format!("{{{ns}}}:batch:b");
    assert!(pttl(&url, &meta).await > 0);
    assert!(pttl(&url, &format!("{meta}:dlq")).await > 0);

    let letters = producer.dlq_list(DlqFilter::default()).await.unwrap();
    assert_eq!(
        letters.iter().map(|l| l.line).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    let first = &letters[0];
    assert_eq!(
        (first.id.as_str(), first.batch.as_str(), first.key.as_str()),
        ("b:2", "b", "id:user-2")
    );
    assert_eq!(first.item, item(2));
    assert_eq!(first.error.status, Some(404));
    assert_eq!(first.error.code.as_deref(), Some("not.found"));
    assert_eq!(first.error.correlation_id.as_deref(), Some("corr-1"));
    assert_eq!(first.attempts, 1);
    assert!(humantime::parse_rfc3339(&first.first_failed_at).is_ok());
    let json = serde_json::to_value(first).unwrap();
    for field in [
        "id",
        "batch",
        "line",
        "key",
        "item",
        "error",
        "attempts",
        "first_failed_at",
        "last_failed_at",
    ] {
        assert!(json.get(field).is_some(), "DLQ JSON has {field}");
    }
    assert_eq!(producer.dlq_get("b:3").await.unwrap().unwrap().line, 3);
    assert!(producer.dlq_get("b:99").await.unwrap().is_none());
    assert!(producer.dlq_get("nonsense").await.unwrap().is_none());
    let limited = producer
        .dlq_list(DlqFilter {
            batch: Some("b".into()),
            limit: Some(2),
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    assert!(
        producer
            .dlq_list(DlqFilter {
                batch: Some("other".into()),
                limit: None
            })
            .await
            .unwrap()
            .is_empty()
    );

    // Requeue one: it leaves the DLQ, the batch is open again and no longer expires.
    heal.store(true, Ordering::SeqCst);
    worker.stop().await;
    assert_eq!(
        producer
            .dlq_requeue(DlqSelection::Ids(vec!["b:2".into()]))
            .await
            .unwrap(),
        1
    );
    let s = status(&producer, "b").await;
    assert_eq!((s.dead, s.pending, s.done), (2, 1, false));
    assert_eq!(pttl(&url, &meta).await, -1);
    assert!(!producer.is_idle().await.unwrap());
    assert!(producer.dlq_get("b:2").await.unwrap().is_none());
    // Requeueing it again finds nothing to do.
    assert_eq!(
        producer
            .dlq_requeue(DlqSelection::Ids(vec!["b:2".into()]))
            .await
            .unwrap(),
        0
    );

    let worker = start_worker(queue_as(&config, "w2").await, "w2", 2, runs.clone(), |_| {
        Action::Succeed
    });
    wait_until(60, "requeued item done", || async {
        status(&producer, "b").await.done
    })
    .await;
    let s = status(&producer, "b").await;
    assert_eq!((s.updated, s.dead), (4, 2));

    // Purge the rest: entries go, the items stay counted as dead.
    assert_eq!(
        producer
            .dlq_purge(DlqSelection::All {
                batch: Some("b".into())
            })
            .await
            .unwrap(),
        2
    );
    assert!(
        producer
            .dlq_list(DlqFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(status(&producer, "b").await.dead, 2);
    assert_eq!(
        producer
            .dlq_requeue(DlqSelection::All { batch: None })
            .await
            .unwrap(),
        0
    );
    worker.stop().await;
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn requeue_all_makes_new_chunks_of_the_batch_size_and_items_can_die_again() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    enqueue(&producer, "b", 7, 3).await;
    let runs = shared_runs();
    let worker = start_worker(queue_as(&config, "w").await, "w", 2, runs.clone(), |_| {
        Action::DeadLetter("still failing".into())
    });
    wait_until(60, "batch done", || async {
        status(&producer, "b").await.done
    })
    .await;
    let first_round = producer.dlq_list(DlqFilter::default()).await.unwrap();
    assert_eq!(first_round.len(), 7);
    let chunks_before = runs.lock().unwrap().len();
    assert_eq!(chunks_before, 3);

    assert_eq!(
        producer
            .dlq_requeue(DlqSelection::All { batch: None })
            .await
            .unwrap(),
        7
    );
    wait_until(60, "batch done again", || async {
        status(&producer, "b").await.done
    })
    .await;
    wait_until(30, "queue idle", || async {
        producer.is_idle().await.unwrap()
    })
    .await;
    worker.stop().await;
    let runs = runs.lock().unwrap().clone();
    // 7 items in chunks of at most 3: 3 new chunks, with fresh keys.
    let new_chunks: Vec<&str> = runs[chunks_before..]
        .iter()
        .map(|r| r.chunk.as_str())
        .collect();
    assert_eq!(new_chunks.len(), 3, "{new_chunks:?}");
    assert!(new_chunks.iter().all(|c| c.parse::<u32>().unwrap() >= 3));

    let s = status(&producer, "b").await;
    assert_eq!((s.dead, s.total), (7, 7), "each item counted once: {s:?}");
    let again = producer.dlq_list(DlqFilter::default()).await.unwrap();
    assert_eq!(again.len(), 7);
    let before = first_round.iter().find(|l| l.line == 2).unwrap();
    let after = again.iter().find(|l| l.line == 2).unwrap();
    assert_eq!(
        after.first_failed_at, before.first_failed_at,
        "first failure is remembered"
    );
    assert!(after.last_failed_at >= before.last_failed_at);
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn list_batches_and_idle_across_batches() {
    let (url, ns) = (redis_url(), unique_namespace());
    let config = fast_config(&url, &ns);
    let producer = queue_as(&config, "producer").await;
    assert!(producer.is_idle().await.unwrap());
    enqueue(&producer, "first", 2, 2).await;
    enqueue(&producer, "second", 3, 2).await;
    let all = producer.list_batches().await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.batch.as_str()).collect::<Vec<_>>(),
        vec!["first", "second"]
    );
    let json = serde_json::to_value(&all[1]).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "batch",
            "created_at",
            "dead",
            "done",
            "in_flight",
            "pending",
            "retrying",
            "total",
            "unchanged",
            "updated"
        ]
    );
    assert!(!producer.is_idle().await.unwrap());

    let worker = start_worker(queue_as(&config, "w").await, "w", 2, shared_runs(), |_| {
        Action::Succeed
    });
    wait_until(60, "queue idle", || async {
        producer.is_idle().await.unwrap()
    })
    .await;
    worker.stop().await;
    assert!(
        producer
            .list_batches()
            .await
            .unwrap()
            .iter()
            .all(|s| s.done)
    );
    cleanup(&url, &ns).await;
}
