//! The enqueue path: validate everything, then stream chunks into one atomic batch.
//!
//! Pass 1 and the reading side of pass 2 run on blocking threads (they do file I/O and CPU work);
//! pass 2 hands finished chunks over a small bounded channel to this task, which pushes them
//! to the [`BatchWriter`] while the next chunks are being parsed. Nothing becomes visible to
//! workers until [`BatchWriter::commit`]; on any failure the staged batch is aborted (and would
//! expire on its own if even that failed, or if this future is dropped).

use gcbulk_queue::{BatchStart, BatchWriter, NewBatch, Queue, QueueError};
use tokio::sync::mpsc;

use crate::error::ProducerError;
use crate::passes::{self, Written};
use crate::source::InputSource;
use crate::{EnqueueOptions, EnqueueReport};

/// Chunks parsed ahead of the queue: enough to overlap parsing with Redis round trips, few
/// enough to keep memory flat.
const CHUNKS_IN_FLIGHT: usize = 8;

fn join_error(e: tokio::task::JoinError) -> ProducerError {
    ProducerError::Internal(format!("input reader task failed: {e}"))
}

/// See [`crate::enqueue`].
pub(crate) async fn enqueue(
    queue: &Queue,
    input: InputSource,
    options: &EnqueueOptions,
) -> Result<EnqueueReport, ProducerError> {
    let chunk_size = options.checked_chunk_size()?;
    options.check_batch_id()?;
    let first = {
        let options = options.clone();
        tokio::task::spawn_blocking(move || passes::first_pass(input, &options))
            .await
            .map_err(join_error)??
    };
    let report = &first.report;
    let new = NewBatch {
        id: options.batch_id.clone(),
        source: report.source.clone(),
        format: report.format.as_str().to_string(),
        chunk_size,
    };
    let writer = match queue.begin_batch(new).await? {
        BatchStart::AlreadyEnqueued(summary) => {
            if summary.items != report.items {
                tracing::warn!(
                    batch = %summary.id,
                    enqueued_items = summary.items,
                    input_items = report.items,
                    "batch id already used for a different input; nothing was enqueued"
                );
            }
            return Ok(EnqueueReport {
                batch: summary.id,
                items: summary.items,
                chunks: summary.chunks,
                already_enqueued: true,
            });
        }
        BatchStart::New(writer) => writer,
    };
    tracing::info!(batch = writer.id(), items = report.items, "enqueueing");
    let (items, chunks) = (report.items, report.chunks);

    let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>(CHUNKS_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || {
        passes::second_pass(&first, chunk_size, |count, payload| {
            tx.blocking_send((count, payload)).is_ok()
        })
    });
    let (writer, pushed) = push_all(writer, rx).await;
    let read = reader.await.map_err(join_error).and_then(|r| r);

    let failure = match (pushed, read) {
        (Err(e), _) => Some(ProducerError::Queue(e)),
        (Ok(()), Err(e)) => Some(e),
        (Ok(()), Ok(written)) if written != (Written { items, chunks }) => {
            Some(ProducerError::Internal(format!(
                "wrote {} items in {} chunks, expected {items} in {chunks}",
                written.items, written.chunks
            )))
        }
        (Ok(()), Ok(_)) => None,
    };
    if let Some(error) = failure {
        let id = writer.id().to_string();
        if let Err(abort) = writer.abort().await {
            tracing::warn!(batch = %id, error = %abort, "could not abort the staged batch; it expires on its own");
        }
        return Err(error);
    }
    let summary = writer.commit().await?;
    Ok(EnqueueReport {
        batch: summary.id,
        items: summary.items,
        chunks: summary.chunks,
        already_enqueued: false,
    })
}

/// Pushes every chunk received; stops at the first queue error (dropping the receiver, which
/// stops the reader).
async fn push_all(
    mut writer: BatchWriter,
    mut rx: mpsc::Receiver<(usize, Vec<u8>)>,
) -> (BatchWriter, Result<(), QueueError>) {
    while let Some((count, payload)) = rx.recv().await {
        if let Err(e) = writer.push_chunk(count, payload).await {
            return (writer, Err(e));
        }
    }
    (writer, Ok(()))
}
