//! Enqueueing against the real Redis: one atomic batch of chunks, nothing at all for an invalid
//! input, idempotent `--batch-id`, spooled streams, and the `dlq export` → `enqueue` round trip.
//! Each test uses its own namespace and reads back through the queue API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use apalis_core::backend::Backend;
use apalis_core::worker::context::WorkerContext;
use gcbulk_changes::{FieldChanges, ManagerRef, UserChange, UserKey, UserState};
use gcbulk_producer::export::{ExportEntry, ExportWriter, columns_used};
use gcbulk_producer::{EnqueueOptions, ErrorKind, Format, InputSource, enqueue};
use gcbulk_queue::{ChunkJob, Queue, QueueConfig};

fn redis_url() -> String {
    std::env::var("GCBULK_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A queue on a namespace of its own, and a guard deleting that namespace's keys afterwards.
struct TestQueue {
    queue: Queue,
    namespace: String,
}

impl TestQueue {
    async fn new() -> TestQueue {
        let namespace = format!("gcbulk-test-producer-{}", ulid::Ulid::new());
        let queue = Queue::connect(QueueConfig::new(redis_url(), namespace.clone()))
            .await
            .expect("Redis must be running (GCBULK_REDIS_URL)");
        TestQueue { queue, namespace }
    }

    /// Every Redis key that mentions this test's namespace.
    async fn keys(&self) -> Vec<String> {
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*{}*", self.namespace))
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.sort();
        keys
    }

    async fn cleanup(self) {
        let keys = self.keys().await;
        if keys.is_empty() {
            return;
        }
        let client = redis::Client::open(redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }

    /// Fetches `chunks` jobs as a worker would and returns their items as changes, by line.
    async fn fetch_changes(&self, chunks: usize) -> Vec<(usize, Vec<UserChange>)> {
        let mut backend = self.queue.backend();
        let ctx = WorkerContext::new("test-fetch");
        let mut jobs: Vec<ChunkJob> = Vec::new();
        while jobs.len() < chunks {
            let next = tokio::time::timeout(
                Duration::from_secs(30),
                futures::future::poll_fn(|cx| backend.poll_next(cx, &ctx)),
            )
            .await
            .expect("a job within 30 s");
            let task = next
                .expect("backend never ends")
                .expect("backend never fails");
            jobs.push(task.args);
        }
        let mut out: Vec<(usize, Vec<UserChange>)> = jobs
            .into_iter()
            .map(|job| {
                let items: Vec<UserChange> = job
                    .items
                    .into_iter()
                    .map(|v| serde_json::from_value(v).unwrap())
                    .collect();
                (items.len(), items)
            })
            .collect();
        out.sort_by_key(|(_, items)| items.first().map(|c| c.line));
        out
    }
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn people_csv(rows: usize) -> String {
    let mut text = String::from("email,title,state,acd_auto_answer\n");
    for i in 0..rows {
        text.push_str(&format!(
            "user{i}@example.com,Agent {i},active,{}\n",
            i % 2 == 0
        ));
    }
    text
}

#[tokio::test]
async fn a_valid_file_becomes_one_batch_of_chunks() {
    let tq = TestQueue::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(&dir, "people.csv", &people_csv(120));

    let report = enqueue(
        &tq.queue,
        InputSource::Path(path.clone()),
        &EnqueueOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.items, report.chunks, report.already_enqueued),
        (120, 3, false)
    );

    let status = tq
        .queue
        .batch_status(&report.batch)
        .await
        .unwrap()
        .expect("batch committed");
    assert_eq!(
        (status.total, status.pending, status.done),
        (120, 120, false)
    );
    assert_eq!(
        (status.source.as_str(), status.format.as_str()),
        (path.display().to_string().as_str(), "csv")
    );

    let chunks = tq.fetch_changes(3).await;
    let sizes: Vec<usize> = chunks.iter().map(|(n, _)| *n).collect();
    assert_eq!(sizes, [50, 50, 20]);
    let all: Vec<UserChange> = chunks.into_iter().flat_map(|(_, items)| items).collect();
    let lines: Vec<u64> = all.iter().map(|c| c.line).collect();
    assert_eq!(lines, (2..=121).collect::<Vec<u64>>());
    assert_eq!(
        all[1],
        UserChange {
            line: 3,
            key: UserKey::Email("user1@example.com".into()),
            set: FieldChanges {
                title: Some("Agent 1".into()),
                state: Some(UserState::Active),
                acd_auto_answer: Some(false),
                ..FieldChanges::default()
            },
        }
    );
    tq.cleanup().await;
}

#[tokio::test]
async fn one_invalid_row_means_nothing_is_enqueued() {
    let tq = TestQueue::new().await;
    let dir = tempfile::tempdir().unwrap();
    let mut text = people_csv(500);
    text.push_str("late@example.com,Agent,gone,true\n");
    let path = write_file(&dir, "people.csv", &text);

    let err = enqueue(
        &tq.queue,
        InputSource::Path(path.clone()),
        &EnqueueOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().starts_with(&format!(
            "{}:502: column state: \"gone\" is not a state",
            path.display()
        )),
        "{err}"
    );
    assert!(tq.queue.list_batches().await.unwrap().is_empty());
    assert!(tq.queue.is_idle().await.unwrap());
    assert_eq!(
        tq.keys().await,
        Vec::<String>::new(),
        "nothing may be written to Redis"
    );
    tq.cleanup().await;
}

#[tokio::test]
async fn the_same_batch_id_twice_enqueues_once() {
    let tq = TestQueue::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(&dir, "people.csv", &people_csv(120));
    let options = EnqueueOptions {
        batch_id: Some("import-2024-06".into()),
        chunk_size: 40,
        ..EnqueueOptions::default()
    };

    let first = enqueue(&tq.queue, InputSource::Path(path.clone()), &options)
        .await
        .unwrap();
    let second = enqueue(&tq.queue, InputSource::Path(path.clone()), &options)
        .await
        .unwrap();
    assert_eq!(
        (
            first.batch.as_str(),
            first.items,
            first.chunks,
            first.already_enqueued
        ),
        ("import-2024-06", 120, 3, false)
    );
    assert_eq!(
        (
            second.batch.as_str(),
            second.items,
            second.chunks,
            second.already_enqueued
        ),
        ("import-2024-06", 120, 3, true)
    );

    let batches = tq.queue.list_batches().await.unwrap();
    assert_eq!(batches.len(), 1);
    assert_eq!((batches[0].total, batches[0].pending), (120, 120));
    tq.cleanup().await;
}

#[tokio::test]
async fn a_stream_is_spooled_then_enqueued() {
    let tq = TestQueue::new().await;
    let mut text = String::new();
    for i in 0..75 {
        text.push_str(&format!(
            "{{\"external_id\":\"HR-{i}\",\"department\":\"Sales\",\"extension\":{}}}\n",
            1000 + i
        ));
    }
    // No format given, no extension: sniffed as JSON Lines.
    let input = InputSource::reader("<stdin>", std::io::Cursor::new(text.into_bytes()));
    let report = enqueue(&tq.queue, input, &EnqueueOptions::default())
        .await
        .unwrap();
    assert_eq!((report.items, report.chunks), (75, 2));
    let status = tq.queue.batch_status(&report.batch).await.unwrap().unwrap();
    assert_eq!(
        (status.source.as_str(), status.format.as_str()),
        ("<stdin>", "jsonl")
    );

    let all: Vec<UserChange> = tq
        .fetch_changes(2)
        .await
        .into_iter()
        .flat_map(|(_, items)| items)
        .collect();
    assert_eq!(all.len(), 75);
    assert_eq!(all[74].key, UserKey::ExternalId("HR-74".into()));
    assert_eq!(all[74].set.extension.as_deref(), Some("1074"));
    assert_eq!(all[74].line, 75);
    tq.cleanup().await;
}

/// Changes using every column and every kind of key and manager.
fn varied_changes() -> Vec<UserChange> {
    let id = |n: u8| format!("6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a{n:02}");
    vec![
        UserChange {
            line: 2,
            key: UserKey::Id(id(1)),
            set: FieldChanges {
                name: Some("Ana \"Nana\" Núñez".into()),
                title: Some("Lead, Support\nEMEA".into()),
                department: Some("Support".into()),
                email: Some("ana.new@example.com".into()),
                phone_work: Some("+1 (555) 010-0199".into()),
                extension: Some("4021".into()),
                manager: Some(ManagerRef::Id(id(2))),
                state: Some(UserState::Inactive),
                acd_auto_answer: Some(false),
            },
        },
        UserChange {
            line: 3,
            key: UserKey::ExternalId("HR:0042".into()),
            set: FieldChanges {
                manager: Some(ManagerRef::Email("boss@example.com".into())),
                acd_auto_answer: Some(true),
                ..FieldChanges::default()
            },
        },
        UserChange {
            line: 9,
            key: UserKey::Email("old@example.com".into()),
            set: FieldChanges {
                email: Some("new@example.com".into()),
                state: Some(UserState::Active),
                ..FieldChanges::default()
            },
        },
        UserChange {
            line: 12,
            key: UserKey::Email("same@example.com".into()),
            set: FieldChanges::default(),
        },
    ]
}

#[tokio::test]
async fn dlq_export_can_be_enqueued_again_unchanged() {
    let tq = TestQueue::new().await;
    let dir = tempfile::tempdir().unwrap();
    let changes = varied_changes();
    // As the DLQ holds them: the item JSON and a reason.
    let entries: Vec<ExportEntry> = changes
        .iter()
        .map(|c| {
            let item = serde_json::to_string(c).unwrap();
            ExportEntry::from_item_json(
                &item,
                format!("404 not.found: no user for line {}", c.line),
            )
            .unwrap()
        })
        .collect();

    for format in [Format::Csv, Format::Jsonl] {
        let mut writer = ExportWriter::new(
            format,
            Vec::new(),
            &columns_used(entries.iter().map(|e| &e.change)),
        )
        .unwrap();
        for entry in &entries {
            writer.write(&entry.change, &entry.error).unwrap();
        }
        let bytes = writer.finish().unwrap();
        let path = dir.path().join(format!("dead.{format}"));
        std::fs::write(&path, &bytes).unwrap();

        let report = enqueue(
            &tq.queue,
            InputSource::Path(path),
            &EnqueueOptions::default(),
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "{format} export must be accepted:\n{e}\n{}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(report.items, 4);
        let back: Vec<UserChange> = tq
            .fetch_changes(1)
            .await
            .into_iter()
            .flat_map(|(_, items)| items)
            .collect();
        // Same keys and fields; lines are those of the exported file.
        let strip = |c: &UserChange| (c.key.clone(), c.set.clone());
        assert_eq!(
            back.iter().map(strip).collect::<Vec<_>>(),
            changes.iter().map(strip).collect::<Vec<_>>(),
            "{format}"
        );
    }
    tq.cleanup().await;
}
