//! The two passes over an input.
//!
//! Pass 1 ([`first_pass`]) reads everything, checks every row and collects every error, keeping
//! only counters and key hashes; a stream is spooled on the way. Pass 2 ([`second_pass`]) runs
//! only on a clean input: it reads the input again and serialises each change straight into the
//! current chunk's buffer, handing finished chunks on. Both are blocking and hold one record and
//! one chunk at a time, so memory does not grow with the input (bar 16 bytes a row: key hash and line).

use std::io::{self, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use crate::csv_rows::CsvRows;
use crate::duplicates::{Confirmation, Duplicate, KeyLines};
use crate::error::{ErrorSink, MAX_LISTED_ERRORS, ProducerError};
use crate::format::{self, Format, Sniffed};
use crate::jsonl_rows::JsonlRows;
use crate::rules::ParsedRow;
use crate::source::{self, InputSource, OpenError, Reopen};
use crate::{EnqueueOptions, ValidationReport};

type Input = Box<dyn Read + Send>;

const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A row reader of either format.
enum Rows {
    Csv(CsvRows<Input>),
    Jsonl(JsonlRows<BufReader<Input>>),
}

impl Rows {
    fn open(input: Input, format: Format, sink: &mut ErrorSink) -> io::Result<Rows> {
        Ok(match format {
            Format::Csv => Rows::Csv(CsvRows::open(input, sink)?),
            Format::Jsonl => Rows::Jsonl(JsonlRows::new(BufReader::with_capacity(
                READ_BUFFER_BYTES,
                input,
            ))),
        })
    }

    fn next_row(&mut self, sink: &mut ErrorSink) -> io::Result<Option<ParsedRow>> {
        match self {
            Rows::Csv(rows) => rows.next_row(sink),
            Rows::Jsonl(rows) => rows.next_row(sink),
        }
    }

    /// True when reading stopped before the end of the input (a record too long to read).
    fn stopped(&self) -> bool {
        match self {
            Rows::Csv(rows) => rows.stopped,
            Rows::Jsonl(_) => false,
        }
    }

    /// Where file-level errors go: the CSV header's line, or line 1.
    fn first_line(&self) -> u64 {
        match self {
            Rows::Csv(rows) => rows.header_line(),
            Rows::Jsonl(_) => 1,
        }
    }
}

fn read_error(file: &str, e: io::Error) -> ProducerError {
    if let Some(source::SpoolFailed(_)) = source::spool_error(&e) {
        let inner = e
            .into_inner()
            .and_then(|b| b.downcast::<source::SpoolFailed>().ok())
            .map_or_else(|| io::Error::other("spool write failed"), |s| s.0);
        return ProducerError::Spool(inner);
    }
    ProducerError::Read {
        file: file.to_string(),
        source: e,
    }
}

/// The format to read: `--format`, else the extension, else a look at the first bytes (which
/// are put back in front of the input).
fn decide_format(
    explicit: Option<Format>,
    path: Option<&Path>,
    mut input: Input,
) -> io::Result<(Sniffed, Input)> {
    if let Some(format) = explicit.or_else(|| path.and_then(Format::from_path)) {
        return Ok((Sniffed::Format(format), input));
    }
    const MAX_SNIFF: usize = 64 * 1024;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = input.read(&mut chunk)?;
        head.extend_from_slice(chunk.get(..n).unwrap_or_default());
        let bom_free = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        let decided = head.len() >= 3 && bom_free.iter().any(|b| !b.is_ascii_whitespace());
        if n == 0 || decided || head.len() >= MAX_SNIFF {
            break;
        }
    }
    let sniffed = format::sniff(&head);
    Ok((sniffed, Box::new(Cursor::new(head).chain(input))))
}

/// What pass 1 hands to pass 2.
#[derive(Debug)]
pub(crate) struct FirstPass {
    pub(crate) report: ValidationReport,
    pub(crate) reopen: Reopen,
}

/// Pass 1: validates the whole input, writing nothing but the spool of a stream.
pub(crate) fn first_pass(
    input: InputSource,
    options: &EnqueueOptions,
) -> Result<FirstPass, ProducerError> {
    let chunk_size = options.checked_chunk_size()?;
    let name = input.name();
    let path: Option<PathBuf> = input.path().map(Path::to_path_buf);
    let (reader, reopen) = source::open_first(input).map_err(|e| match e {
        OpenError::Read(source) => ProducerError::Read {
            file: name.clone(),
            source,
        },
        OpenError::Spool(e) => ProducerError::Spool(e),
    })?;
    let mut sink = ErrorSink::new(&name);

    let (sniffed, reader) =
        decide_format(options.format, path.as_deref(), reader).map_err(|e| read_error(&name, e))?;
    let format = match sniffed {
        Sniffed::Format(format) => format,
        Sniffed::JsonArray => {
            sink.report(
                1,
                None,
                format_args!(
                    "this is a JSON array; gcbulk reads JSON Lines, one object per line (convert with: jq -c '.[]')"
                ),
            );
            return Err(invalid(sink));
        }
    };

    let mut rows = Rows::open(reader, format, &mut sink).map_err(|e| read_error(&name, e))?;
    let mut key_lines = KeyLines::default();
    let mut items = 0u64;
    let mut without_changes = 0u64;
    while let Some(row) = rows.next_row(&mut sink).map_err(|e| read_error(&name, e))? {
        if let Some(key) = &row.key {
            key_lines.push(key, row.line);
        }
        if let Some(set) = &row.set {
            items += 1;
            if set.is_empty() {
                without_changes += 1;
            }
        }
    }
    let (stopped, first_line) = (rows.stopped(), rows.first_line());
    drop(rows);

    // After a fatal stop the listing already says the file is broken; the spool is incomplete.
    if !stopped {
        let suspects = key_lines.suspects(MAX_LISTED_ERRORS);
        if !suspects.listed.is_empty() {
            report_duplicates(&reopen, &name, format, suspects.listed, &mut sink)?;
            sink.count_unlisted(suspects.unlisted);
        }
    }
    if items == 0 && sink.is_empty() {
        sink.report(
            first_line,
            None,
            format_args!("no rows: nothing to enqueue"),
        );
    }
    if !sink.is_empty() {
        return Err(invalid(sink));
    }
    tracing::debug!(source = %name, %format, items, without_changes, "input is valid");
    Ok(FirstPass {
        report: ValidationReport {
            source: name,
            format,
            items,
            chunks: items.div_ceil(chunk_size as u64),
            items_without_changes: without_changes,
        },
        reopen,
    })
}

fn invalid(sink: ErrorSink) -> ProducerError {
    match sink.finish() {
        Err(invalid) => ProducerError::Invalid(invalid),
        Ok(()) => ProducerError::Internal("an empty error list was reported as invalid".into()),
    }
}

/// Reads the input once more to confirm the listed duplicates on their real keys.
fn report_duplicates(
    reopen: &Reopen,
    name: &str,
    format: Format,
    suspects: Vec<Duplicate>,
    sink: &mut ErrorSink,
) -> Result<(), ProducerError> {
    let input = reopen.open().map_err(|e| read_error(name, e))?;
    // Row errors were reported by the first read already.
    let mut known = ErrorSink::new(name);
    let mut rows = Rows::open(input, format, &mut known).map_err(|e| read_error(name, e))?;
    let mut confirmation = Confirmation::new(suspects);
    while let Some(row) = rows.next_row(&mut known).map_err(|e| read_error(name, e))? {
        confirmation.see(row.line, row.key.as_ref());
    }
    for (duplicate, kind, key) in confirmation.confirmed() {
        sink.report(
            duplicate.line,
            Some(kind),
            format_args!(
                "duplicate key {key}: line {} changes the same user; a user may appear only once per file",
                duplicate.first_line
            ),
        );
    }
    Ok(())
}

/// Totals of pass 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Written {
    pub(crate) items: u64,
    pub(crate) chunks: u64,
}

/// Pass 2: reads the validated input again and hands each chunk (item count, JSON array) to
/// `emit`, which returns false to stop early (the receiving side failed).
pub(crate) fn second_pass(
    first: &FirstPass,
    chunk_size: usize,
    mut emit: impl FnMut(usize, Vec<u8>) -> bool,
) -> Result<Written, ProducerError> {
    let report = &first.report;
    let name = report.source.as_str();
    let changed = |detail: String| ProducerError::InputChanged {
        file: name.to_string(),
        detail,
    };
    let input = first.reopen.open().map_err(|e| read_error(name, e))?;
    let mut sink = ErrorSink::new(name);
    let mut rows = Rows::open(input, report.format, &mut sink).map_err(|e| read_error(name, e))?;

    let mut written = Written {
        items: 0,
        chunks: 0,
    };
    let mut in_chunk = 0usize;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_size.saturating_mul(160));
    while let Some(row) = rows.next_row(&mut sink).map_err(|e| read_error(name, e))? {
        let Some(change) = row.into_change() else {
            break; // reported in `sink`
        };
        buf.push(if in_chunk == 0 { b'[' } else { b',' });
        serde_json::to_writer(&mut buf, &change).map_err(|e| {
            ProducerError::Internal(format!("serialising line {}: {e}", change.line))
        })?;
        in_chunk += 1;
        written.items += 1;
        if in_chunk == chunk_size {
            buf.push(b']');
            let capacity = buf.capacity();
            if !emit(
                in_chunk,
                std::mem::replace(&mut buf, Vec::with_capacity(capacity)),
            ) {
                return Ok(written);
            }
            written.chunks += 1;
            in_chunk = 0;
        }
    }
    if let Some(first_error) = sink.first() {
        return Err(changed(format!("now: {first_error}")));
    }
    if written.items != report.items {
        return Err(changed(format!(
            "{} valid rows now, {} when validated",
            written.items, report.items
        )));
    }
    if in_chunk > 0 {
        buf.push(b']');
        if !emit(in_chunk, buf) {
            return Ok(written);
        }
        written.chunks += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn collect(
        first: &FirstPass,
        chunk_size: usize,
    ) -> Result<Vec<(usize, String)>, ProducerError> {
        let mut chunks = Vec::new();
        second_pass(first, chunk_size, |n, payload| {
            chunks.push((n, String::from_utf8(payload).unwrap()));
            true
        })?;
        Ok(chunks)
    }

    #[test]
    fn chunks_are_json_arrays_of_items_with_their_lines() {
        let input = InputSource::reader(
            "x.csv",
            &b"email,title\na@b.co,T\n\nc@d.co,\ne@f.co,U\n"[..],
        );
        let first = first_pass(input, &EnqueueOptions::default()).unwrap();
        assert_eq!(
            collect(&first, 2).unwrap(),
            [
                (2, r#"[{"line":2,"key":"email:a@b.co","title":"T"},{"line":4,"key":"email:c@d.co"}]"#.to_string()),
                (1, r#"[{"line":5,"key":"email:e@f.co","title":"U"}]"#.to_string()),
            ]
        );
    }

    #[test]
    fn a_file_changed_between_the_passes_is_not_enqueued() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "email,state\na@b.co,active\nc@d.co,inactive\n").unwrap();
        let first =
            first_pass(InputSource::Path(path.clone()), &EnqueueOptions::default()).unwrap();

        std::fs::write(&path, "email,state\na@b.co,active\nc@d.co,gone\n").unwrap();
        let err = collect(&first, 50).unwrap_err();
        assert!(matches!(err, ProducerError::InputChanged { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(":3: column state: \"gone\" is not a state"),
            "{err}"
        );

        std::fs::write(&path, "email,state\na@b.co,active\n").unwrap();
        let err = collect(&first, 50).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} changed while it was being enqueued (1 valid rows now, 2 when validated); nothing was enqueued, run again",
                path.display()
            )
        );
    }
}
