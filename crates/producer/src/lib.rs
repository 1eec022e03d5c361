//! Reads a CSV or JSON Lines file of user changes, validates every row, and enqueues the rows as
//! one batch of chunked jobs — or nothing at all.
//!
//! - [`validate`] (for `--dry-run`) reads the whole input and reports what would be enqueued, or
//!   every error of the file as `FILE:LINE: column COLUMN: reason` ([`InvalidInput`]).
//! - [`enqueue`] validates the same way, then reads the input a second time and streams chunks of
//!   `chunk_size` items into a queue batch that becomes visible to workers at once, on commit.
//! - [`export`] writes dead-lettered changes back in the input format, to fix and enqueue again.
//!
//! Memory stays flat however large the input: rows are read one at a time into reused buffers
//! and only 16 bytes per row are kept (a key hash and the line, to refuse duplicate keys). Standard input is spooled
//! to an anonymous temporary file during the first pass so it can be read twice. See
//! `docs/decisions/0050-input-validation-two-pass.md` for the why.
//!
//! # Input
//!
//! CSV with a header row (UTF-8, optional BOM, RFC 4180 quoting) or JSON Lines with the same
//! keys. The format is `--format`, else the extension (`.csv`, `.jsonl`, `.ndjson`), else
//! guessed from the first byte (see [`Format`]). Column names ignore case and surrounding
//! spaces; an empty cell leaves its field unchanged. The rules of each column are listed in the
//! docs of the `rules` module (and in the decision note); highlights:
//! - the key is the first non-empty of `id`, `external_id`, `email`;
//! - unknown columns are errors, except `error` (written by `dlq export`, ignored on input);
//! - `skills`, `languages`, `queues`, `roles_divisions`, `division`, `location_work` are
//!   accepted while empty (so the Genesys admin import format is read as it is);
//! - a key may appear once per file.
//!
//! # Example
//!
//! ```
//! use gcbulk_producer::{validate, EnqueueOptions, Format, InputSource};
//!
//! let csv = "\u{feff}name,email,phone_work,extension,title,department,email_manager,location_work,roles_divisions,queues,division,skills
//! Ana Núñez,ana@example.com,+1 555 0100,,Lead,Support,boss@example.com,,,,,
//! \"Bo, Jr.\",bo@example.com,,4021,,,,,,,,
//! ";
//! let options = EnqueueOptions { chunk_size: 1, ..EnqueueOptions::default() };
//! let report = validate(InputSource::reader("people.csv", csv.as_bytes()), &options)?;
//! assert_eq!((report.format, report.items, report.chunks), (Format::Csv, 2, 2));
//! # Ok::<(), gcbulk_producer::ProducerError>(())
//! ```
//!
//! Enqueueing needs a queue (and an async runtime):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use gcbulk_producer::{enqueue, EnqueueOptions, InputSource};
//! use gcbulk_queue::{Queue, QueueConfig};
//!
//! let queue = Queue::connect(QueueConfig::new("redis://127.0.0.1:6379", "gcbulk")).await?;
//! let options = EnqueueOptions { batch_id: Some("import-2024-06".into()), ..Default::default() };
//! let report = enqueue(&queue, InputSource::from_arg("users.csv"), &options).await?;
//! println!("{}", report.batch);
//! # Ok(()) }
//! ```

mod columns;
mod csv_rows;
mod duplicates;
mod enqueue;
mod error;
pub mod export;
mod format;
mod jsonl_rows;
mod passes;
mod rules;
mod source;

pub use error::{ErrorKind, InputError, InvalidInput, MAX_LISTED_ERRORS, ProducerError};
pub use format::{Format, UnknownFormat};
pub use source::{InputSource, STDIN_NAME};

use gcbulk_queue::Queue;
use serde::Serialize;

/// Items per chunk (per job) when not told otherwise.
pub const DEFAULT_CHUNK_SIZE: usize = 50;

/// The largest chunk accepted: keeps job payloads (and one worker's share of work) small.
pub const MAX_CHUNK_SIZE: usize = 1000;

/// How to read and batch the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueueOptions {
    /// `--format`; `None` decides from the extension or the content.
    pub format: Option<Format>,
    /// `--chunk-size`: items per job, 1 to [`MAX_CHUNK_SIZE`].
    pub chunk_size: usize,
    /// `--batch-id`: makes enqueueing idempotent; `None` generates an id.
    pub batch_id: Option<String>,
}

impl Default for EnqueueOptions {
    fn default() -> Self {
        EnqueueOptions {
            format: None,
            chunk_size: DEFAULT_CHUNK_SIZE,
            batch_id: None,
        }
    }
}

impl EnqueueOptions {
    fn checked_chunk_size(&self) -> Result<usize, ProducerError> {
        if (1..=MAX_CHUNK_SIZE).contains(&self.chunk_size) {
            Ok(self.chunk_size)
        } else {
            Err(ProducerError::Options(format!(
                "invalid chunk size {}: use 1 to {MAX_CHUNK_SIZE}",
                self.chunk_size
            )))
        }
    }

    /// Checked before reading (the queue checks again): a typo should not cost a pass over a
    /// large file.
    fn check_batch_id(&self) -> Result<(), ProducerError> {
        let Some(id) = &self.batch_id else {
            return Ok(());
        };
        let valid = (1..=128).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(())
        } else {
            Err(ProducerError::Options(format!(
                "invalid batch id {id:?}: use 1-128 characters of A-Z, a-z, 0-9, '.', '_' or '-'"
            )))
        }
    }
}

/// What a valid input would enqueue (`--dry-run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// The input's name (path or `<stdin>`).
    pub source: String,
    /// The format it was read as.
    pub format: Format,
    /// Rows that would be enqueued (one item each).
    pub items: u64,
    /// Jobs those items would make.
    pub chunks: u64,
    /// Items that set nothing but their key (they will end `unchanged`).
    pub items_without_changes: u64,
}

/// What [`enqueue`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnqueueReport {
    /// The batch id.
    pub batch: String,
    /// Items in the batch.
    pub items: u64,
    /// Chunks (jobs) in the batch.
    pub chunks: u64,
    /// True when a batch with this `--batch-id` was committed before and nothing was written.
    /// Its counts are those of the earlier run.
    pub already_enqueued: bool,
}

/// Reads and validates the whole input without writing anything (`--dry-run`).
///
/// Blocking: reads the input once (twice if keys repeat, to name the lines). A stream is spooled
/// to a temporary file, as [`enqueue`] does. Errors: [`ProducerError::Invalid`] with every
/// problem of the input; [`ProducerError::Options`]; I/O errors.
pub fn validate(
    input: InputSource,
    options: &EnqueueOptions,
) -> Result<ValidationReport, ProducerError> {
    options.check_batch_id()?;
    passes::first_pass(input, options).map(|first| first.report)
}

/// Validates the whole input, then enqueues it as one batch: all of it, or nothing.
///
/// With a `batch_id` that was committed before, writes nothing and returns that batch's report
/// with `already_enqueued: true` (the input is still validated first). Runs the file work on
/// blocking threads of the current tokio runtime.
pub async fn enqueue(
    queue: &Queue,
    input: InputSource,
    options: &EnqueueOptions,
) -> Result<EnqueueReport, ProducerError> {
    enqueue::enqueue(queue, input, options).await
}
