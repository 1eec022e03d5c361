//! A batch of 10,000 jobs (the size at which apalis-redis 1.0's fetch script fails) is enqueued
//! with flat memory and processed to the last item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::*;

#[tokio::test]
async fn ten_thousand_jobs_are_all_processed() {
    let (url, ns) = (redis_url(), unique_namespace());
    let mut config = fast_config(&url, &ns);
    config.fetch_batch_size = 32;
    let producer = queue_as(&config, "producer").await;
    let summary = enqueue(&producer, "big", 10_000, 1).await;
    assert_eq!(summary.chunks, 10_000);

    let workers = vec![
        start_worker(
            queue_as(&config, "w1").await,
            "w1",
            32,
            shared_runs(),
            |_| Action::Succeed,
        ),
        start_worker(
            queue_as(&config, "w2").await,
            "w2",
            32,
            shared_runs(),
            |_| Action::Succeed,
        ),
    ];
    wait_until(300, "10,000 jobs done", || async {
        producer.batch_status("big").await.unwrap().unwrap().done
    })
    .await;
    for w in workers {
        w.stop().await;
    }
    let status = producer.batch_status("big").await.unwrap().unwrap();
    assert_eq!((status.updated, status.total), (10_000, 10_000));
    assert!(producer.is_idle().await.unwrap());
    cleanup(&url, &ns).await;
}
