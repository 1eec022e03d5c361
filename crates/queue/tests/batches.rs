//! Producer side: a batch becomes visible to workers all at once, or not at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gcbulk_queue::{BatchStart, NewBatch, Queue, QueueConfig, QueueError};
use support::*;

fn new_batch(id: &str) -> NewBatch {
    NewBatch {
        id: Some(id.into()),
        source: "users.csv".into(),
        format: "csv".into(),
        chunk_size: 3,
    }
}

async fn stream_len(queue: &Queue, ns: &str) -> u64 {
    let client = redis::Client::open(queue.config().redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("XLEN")
        .arg(format!("{{{ns}}}:jobs"))
        .query_async(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn uncommitted_batch_is_invisible_and_commit_publishes_every_chunk() {
    let (url, ns) = (redis_url(), unique_namespace());
    let queue = Queue::connect(fast_config(&url, &ns)).await.unwrap();

    let BatchStart::New(mut writer) = queue.begin_batch(new_batch("b1")).await.unwrap() else {
        panic!("fresh batch expected")
    };
    for c in 0..5u64 {
        let items: Vec<_> = (0..3).map(|i| item(c * 3 + i + 2)).collect();
        writer
            .push_chunk(3, serde_json::to_vec(&items).unwrap())
            .await
            .unwrap();
    }
    // Staged but not committed: nothing for workers, nothing in status.
    assert_eq!(stream_len(&queue, &ns).await, 0);
    assert!(queue.batch_status("b1").await.unwrap().is_none());
    assert!(queue.list_batches().await.unwrap().is_empty());
    assert!(queue.is_idle().await.unwrap());

    let summary = writer.commit().await.unwrap();
    assert_eq!((summary.items, summary.chunks), (15, 5));
    assert_eq!(stream_len(&queue, &ns).await, 5);
    let status = queue.batch_status("b1").await.unwrap().unwrap();
    assert_eq!((status.total, status.pending, status.done), (15, 15, false));
    assert_eq!(status.format, "csv");
    assert!(!queue.is_idle().await.unwrap());

    // Same batch id again: a no-op that reports the committed batch.
    match queue.begin_batch(new_batch("b1")).await.unwrap() {
        BatchStart::AlreadyEnqueued(s) => assert_eq!(s, summary),
        BatchStart::New(_) => panic!("a committed batch must not be enqueued twice"),
    }
    assert_eq!(stream_len(&queue, &ns).await, 5);
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn aborted_or_crashed_enqueue_leaves_nothing_and_a_rerun_starts_over() {
    let (url, ns) = (redis_url(), unique_namespace());
    let queue = Queue::connect(fast_config(&url, &ns)).await.unwrap();

    // Aborted: no key of the batch remains.
    let BatchStart::New(mut writer) = queue.begin_batch(new_batch("aborted")).await.unwrap() else {
        panic!()
    };
    writer
        .push_chunk(1, serde_json::to_vec(&[item(2)]).unwrap())
        .await
        .unwrap();
    writer.abort().await.unwrap();
    assert!(
        keys_of(&url, &ns).await.is_empty(),
        "{:?}",
        keys_of(&url, &ns).await
    );

    // Crashed (writer dropped mid-way with chunks flushed): nothing visible, staging has a TTL.
    let mut config = fast_config(&url, &ns);
    config.stage_pipeline_chunks = 1; // flush every chunk
    let small = Queue::connect(config).await.unwrap();
    let BatchStart::New(mut writer) = small.begin_batch(new_batch("crashed")).await.unwrap() else {
        panic!()
    };
    for line in 2..6 {
        writer
            .push_chunk(1, serde_json::to_vec(&[item(line)]).unwrap())
            .await
            .unwrap();
    }
    drop(writer);
    assert_eq!(stream_len(&queue, &ns).await, 0);
    assert!(queue.batch_status("crashed").await.unwrap().is_none());
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for key in keys_of(&url, &ns).await {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(ttl > 0, "staging key {key} must expire on its own");
    }

    // The re-run with the same id starts over and commits only its own chunks.
    let summary = enqueue(&queue, "crashed", 2, 3).await;
    assert_eq!((summary.items, summary.chunks), (2, 1));
    assert_eq!(stream_len(&queue, &ns).await, 1);
    let status = queue.batch_status("crashed").await.unwrap().unwrap();
    assert_eq!(status.total, 2);
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn a_second_writer_supersedes_the_first() {
    let (url, ns) = (redis_url(), unique_namespace());
    let queue = Queue::connect(fast_config(&url, &ns)).await.unwrap();
    let BatchStart::New(mut first) = queue.begin_batch(new_batch("dup")).await.unwrap() else {
        panic!()
    };
    first
        .push_chunk(1, serde_json::to_vec(&[item(2)]).unwrap())
        .await
        .unwrap();
    let summary = enqueue(&queue, "dup", 4, 2).await;
    assert_eq!(summary.chunks, 2);
    assert!(matches!(
        first.commit().await,
        Err(QueueError::Superseded(_))
    ));
    assert_eq!(stream_len(&queue, &ns).await, 2);
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn empty_batch_is_done_at_once_and_bad_ids_are_refused() {
    let (url, ns) = (redis_url(), unique_namespace());
    let queue = Queue::connect(fast_config(&url, &ns)).await.unwrap();
    let BatchStart::New(writer) = queue.begin_batch(new_batch("empty")).await.unwrap() else {
        panic!()
    };
    writer.commit().await.unwrap();
    let status = queue.batch_status("empty").await.unwrap().unwrap();
    assert!(status.done);
    assert!(queue.is_idle().await.unwrap());

    let bad = queue.begin_batch(new_batch("a:b")).await;
    assert!(matches!(bad, Err(QueueError::InvalidBatchId(_))));

    // A generated id is a ULID.
    let BatchStart::New(writer) = queue
        .begin_batch(NewBatch {
            id: None,
            ..new_batch("x")
        })
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(writer.id().len(), 26);
    writer.abort().await.unwrap();
    cleanup(&url, &ns).await;
}

#[tokio::test]
async fn unreachable_redis_is_reported_as_such_without_the_password() {
    let config = QueueConfig::new("redis://user:hunter2@127.0.0.1:1/0", unique_namespace());
    let err = Queue::connect(config).await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2"));
}
