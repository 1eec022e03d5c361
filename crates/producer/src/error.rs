//! What can go wrong while reading, validating and enqueueing, and how a CLI tells the cases apart.
//!
//! Invalid input is never one error: [`InvalidInput`] lists every problem of the file (up to
//! [`MAX_LISTED_ERRORS`]), each displayed as `FILE:LINE: column COLUMN: reason` so that editors
//! and `grep` can jump to it. [`ProducerError::kind`] sorts failures for exit codes:
//!
//! ```
//! use gcbulk_producer::{validate, EnqueueOptions, ErrorKind, InputSource, ProducerError};
//!
//! let csv = "email,state\nana@example.com,retired\n";
//! let err = validate(InputSource::reader("users.csv", csv.as_bytes()), &EnqueueOptions::default())
//!     .unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::InvalidInput); // exit 65
//! let ProducerError::Invalid(invalid) = &err else { unreachable!() };
//! assert_eq!(
//!     invalid.errors()[0].to_string(),
//!     r#"users.csv:2: column state: "retired" is not a state (expected active or inactive)"#
//! );
//! ```

use std::fmt;
use std::io;
use std::sync::Arc;

use gcbulk_queue::QueueError;

/// How many errors an [`InvalidInput`] lists; the rest are counted ("… and N more errors").
pub const MAX_LISTED_ERRORS: usize = 1000;

/// One problem in the input, at a line (and usually a column) of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    file: Arc<str>,
    line: u64,
    column: Option<String>,
    reason: String,
}

impl InputError {
    /// The input's name: its path as given, or `<stdin>`.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Physical line of the file (1-based; a CSV header is line 1, a CSV record spanning lines
    /// is reported at its first line).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The column as named in the file's header (or JSON object), when the problem is one cell.
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    /// What is wrong, for a human.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column {column}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Every problem found in one input; nothing was enqueued.
///
/// Displays as one error per line, then `… and N more errors` when more than
/// [`MAX_LISTED_ERRORS`] were found, then a summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    file: Arc<str>,
    errors: Vec<InputError>,
    omitted: u64,
}

impl InvalidInput {
    /// The listed errors, by line.
    pub fn errors(&self) -> &[InputError] {
        &self.errors
    }

    /// Errors found but not listed (beyond [`MAX_LISTED_ERRORS`]).
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// All errors found, listed or not.
    pub fn total(&self) -> u64 {
        self.errors.len() as u64 + self.omitted
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.errors {
            writeln!(f, "{error}")?;
        }
        if self.omitted > 0 {
            writeln!(f, "… and {} more errors", self.omitted)?;
        }
        let total = self.total();
        let plural = if total == 1 { "" } else { "s" };
        write!(
            f,
            "{}: {total} error{plural} in the input; nothing was enqueued",
            self.file
        )
    }
}

/// Everything [`validate`](crate::validate) and [`enqueue`](crate::enqueue) can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerError {
    /// The input has errors (all of them are listed); nothing was enqueued.
    #[error("{0}")]
    Invalid(InvalidInput),
    /// The options cannot work (chunk size, batch id).
    #[error("{0}")]
    Options(String),
    /// The input could not be opened or read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The input's name.
        file: String,
        /// What the system reported.
        #[source]
        source: io::Error,
    },
    /// Standard input could not be copied to a temporary file for the second pass.
    #[error("cannot spool standard input to a temporary file (check TMPDIR and free space): {0}")]
    Spool(#[source] io::Error),
    /// The file read differently in the enqueue pass than in the validation pass.
    #[error(
        "{file} changed while it was being enqueued ({detail}); nothing was enqueued, run again"
    )]
    InputChanged {
        /// The input's name.
        file: String,
        /// What differed.
        detail: String,
    },
    /// The queue failed (see [`QueueError::is_unreachable`]); nothing was committed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// A background task failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Sorts [`ProducerError`]s for exit codes.
///
/// Suggested mapping (the binary owns it): `InvalidInput` 65, `Usage` 2, `QueueUnreachable` 69,
/// `Io`, `Queue` and `Internal` 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input data is invalid; the listing says where.
    InvalidInput,
    /// The options are invalid (chunk size, batch id).
    Usage,
    /// Reading the input or the temporary spool failed.
    Io,
    /// Redis could not be reached.
    QueueUnreachable,
    /// Redis answered but the queue operation failed.
    Queue,
    /// A bug or a panicked background task.
    Internal,
}

impl ProducerError {
    /// Which kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProducerError::Invalid(_) => ErrorKind::InvalidInput,
            ProducerError::Options(_) | ProducerError::Queue(QueueError::InvalidBatchId(_)) => {
                ErrorKind::Usage
            }
            ProducerError::Read { .. }
            | ProducerError::Spool(_)
            | ProducerError::InputChanged { .. } => ErrorKind::Io,
            ProducerError::Queue(e) if e.is_unreachable() => ErrorKind::QueueUnreachable,
            ProducerError::Queue(_) => ErrorKind::Queue,
            ProducerError::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// Collects the errors of one input, keeping the first [`MAX_LISTED_ERRORS`].
#[derive(Debug)]
pub(crate) struct ErrorSink {
    file: Arc<str>,
    kept: Vec<InputError>,
    omitted: u64,
}

impl ErrorSink {
    pub(crate) fn new(file: &str) -> Self {
        ErrorSink {
            file: file.into(),
            kept: Vec::new(),
            omitted: 0,
        }
    }

    /// Records one error. Takes `format_args!` so that errors beyond the cap cost no allocation.
    pub(crate) fn report(&mut self, line: u64, column: Option<&str>, reason: fmt::Arguments<'_>) {
        if self.kept.len() >= MAX_LISTED_ERRORS {
            self.omitted += 1;
            return;
        }
        self.kept.push(InputError {
            file: self.file.clone(),
            line,
            column: column.map(str::to_string),
            reason: reason.to_string(),
        });
    }

    /// Counts errors found but deliberately not itemised (they would not be listed anyway).
    pub(crate) fn count_unlisted(&mut self, errors: u64) {
        self.omitted += errors;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.omitted == 0
    }

    /// The first error recorded, for "the file changed" diagnostics.
    pub(crate) fn first(&self) -> Option<&InputError> {
        self.kept.first()
    }

    /// `Ok` when nothing was reported, else every error sorted by line (header first).
    pub(crate) fn finish(mut self) -> Result<(), InvalidInput> {
        if self.is_empty() {
            return Ok(());
        }
        // Stable: errors of one line keep the order of their columns.
        self.kept.sort_by_key(|e| e.line);
        Err(InvalidInput {
            file: self.file,
            errors: self.kept,
            omitted: self.omitted,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn listing_is_capped_sorted_and_summarised() {
        let mut sink = ErrorSink::new("big.csv");
        for line in (2..=MAX_LISTED_ERRORS as u64 + 6).rev() {
            sink.report(line, Some("email"), format_args!("bad {line}"));
        }
        let invalid = sink.finish().unwrap_err();
        assert_eq!(invalid.total(), MAX_LISTED_ERRORS as u64 + 5);
        assert_eq!(invalid.omitted(), 5);
        let text = invalid.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "big.csv:7: column email: bad 7");
        assert_eq!(lines[MAX_LISTED_ERRORS], "… and 5 more errors");
        assert_eq!(
            lines[MAX_LISTED_ERRORS + 1],
            "big.csv: 1005 errors in the input; nothing was enqueued"
        );
    }

    #[test]
    fn file_level_errors_have_no_column() {
        let mut sink = ErrorSink::new("<stdin>");
        sink.report(1, None, format_args!("no rows"));
        let invalid = sink.finish().unwrap_err();
        assert_eq!(invalid.errors()[0].to_string(), "<stdin>:1: no rows");
        assert!(
            invalid
                .to_string()
                .ends_with("1 error in the input; nothing was enqueued")
        );
    }
}
