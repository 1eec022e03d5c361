//! Reading CSV rows: the header, then one [`ParsedRow`] per record.
//!
//! Records are read into one reused [`ByteRecord`] (no allocation per row for the parse itself)
//! and each cell is checked for UTF-8 on its own, so an encoding problem is reported at its
//! column. The reader is `flexible` so a row with the wrong number of cells is reported with its
//! line instead of stopping the read.
//!
//! Memory stays bounded even for a broken file: an unclosed quote would otherwise make the rest
//! of the file one record, so a record may be at most [`MAX_RECORD_BYTES`]; a longer one stops
//! the read with an error at the line where it starts.
//!
//! Rows whose cells are all empty (`,,,,` as spreadsheets leave them) are skipped like blank
//! lines: they ask for nothing.
//!
//! Line numbers are physical lines, counted here rather than taken from the csv crate: its
//! record positions point at where scanning started, which is before any skipped blank lines
//! and, with CRLF endings, before the previous record's `\n`. A line ends at `\n`, `\r\n` or a
//! lone `\r`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

use csv::ByteRecord;
use gcbulk_changes::Column;

use crate::columns::{self, Role};
use crate::error::ErrorSink;
use crate::rules::{self, Cells, ParsedRow};

/// The longest CSV record accepted, in bytes.
pub(crate) const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// The csv reader's own buffer.
const BUFFER_BYTES: usize = 64 * 1024;

/// What a header cell is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderRole {
    Known(Role),
    /// A header cell with no name: accepted while its cells are empty.
    Unnamed,
    /// Unknown or repeated: already reported for the header; its cells are not read.
    Rejected,
}

#[derive(Debug)]
struct HeaderColumn {
    name: String,
    role: HeaderRole,
}

pub(crate) struct CsvRows<R: Read> {
    reader: csv::Reader<Tracked<R>>,
    tracking: Rc<RefCell<Tracking>>,
    /// Physical line of the record in `record`.
    line: u64,
    record: ByteRecord,
    header: Vec<HeaderColumn>,
    key_columns_present: bool,
    /// The first line of the input, for file-level errors.
    header_line: u64,
    done: bool,
    /// True when the read stopped early on a record too long to read.
    pub(crate) stopped: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads and checks the header; problems go to `sink`.
    pub(crate) fn open(input: R, sink: &mut ErrorSink) -> Result<Self, io::Error> {
        let tracking = Rc::new(RefCell::new(Tracking::default()));
        let tracked = Tracked {
            inner: input,
            tracking: tracking.clone(),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(BUFFER_BYTES)
            .from_reader(tracked);
        let mut rows = CsvRows {
            reader,
            tracking,
            line: 1,
            record: ByteRecord::new(),
            header: Vec::new(),
            key_columns_present: false,
            header_line: 1,
            done: false,
            stopped: false,
        };
        if !rows.read_record(sink)? {
            if !rows.stopped {
                sink.report(
                    1,
                    None,
                    format_args!("the file is empty; expected a header row"),
                );
            }
            rows.done = true;
            return Ok(rows);
        }
        rows.header_line = rows.line;
        if rows.record.get(0).is_some_and(is_utf16_bom) {
            sink.report(rows.header_line, None, format_args!("{UTF16_REASON}"));
            rows.done = true;
            rows.stopped = true;
            return Ok(rows);
        }
        rows.read_header(sink);
        Ok(rows)
    }

    pub(crate) fn header_line(&self) -> u64 {
        self.header_line
    }

    fn read_header(&mut self, sink: &mut ErrorSink) {
        let line = self.header_line;
        let mut seen: [Option<usize>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut header = Vec::with_capacity(self.record.len());
        for (i, raw) in self.record.iter().enumerate() {
            let position = format!("#{}", i + 1);
            let Ok(name) = std::str::from_utf8(raw) else {
                sink.report(
                    line,
                    Some(&position),
                    format_args!("the column name is not valid UTF-8; save the file as UTF-8"),
                );
                header.push(HeaderColumn {
                    name: position,
                    role: HeaderRole::Rejected,
                });
                continue;
            };
            let name = name.trim();
            if name.is_empty() {
                header.push(HeaderColumn {
                    name: position,
                    role: HeaderRole::Unnamed,
                });
                continue;
            }
            let role = match columns::role_of(name) {
                None => {
                    sink.report(
                        line,
                        Some(name),
                        format_args!("{}", columns::unknown_column_reason()),
                    );
                    HeaderRole::Rejected
                }
                Some(Role::Field(column)) => match seen[column.index()] {
                    Some(first) => {
                        let first: &str = header
                            .get(first)
                            .map_or(column.name(), |c: &HeaderColumn| c.name.as_str());
                        if first.eq_ignore_ascii_case(name) {
                            sink.report(
                                line,
                                Some(name),
                                format_args!("appears more than once in the header"),
                            );
                        } else {
                            sink.report(
                                line,
                                Some(name),
                                format_args!("same column as {first}; keep one"),
                            );
                        }
                        HeaderRole::Rejected
                    }
                    None => {
                        seen[column.index()] = Some(i);
                        HeaderRole::Known(Role::Field(column))
                    }
                },
                Some(role) => {
                    if header.iter().any(|c| c.role == HeaderRole::Known(role)) {
                        sink.report(
                            line,
                            Some(name),
                            format_args!("appears more than once in the header"),
                        );
                        HeaderRole::Rejected
                    } else {
                        HeaderRole::Known(role)
                    }
                }
            };
            header.push(HeaderColumn {
                name: name.to_string(),
                role,
            });
        }
        self.key_columns_present = [Column::Id, Column::ExternalId, Column::Email]
            .iter()
            .any(|c| seen[c.index()].is_some());
        if !self.key_columns_present {
            sink.report(
                line,
                None,
                format_args!("no key column: the header needs id, external_id or email"),
            );
        }
        self.header = header;
    }

    /// Reads the next record into `self.record`; false at the end (or after a fatal stop).
    fn read_record(&mut self, sink: &mut ErrorSink) -> Result<bool, io::Error> {
        if self.done {
            return Ok(false);
        }
        let start = self.reader.position().byte();
        self.tracking.borrow_mut().limit = start + MAX_RECORD_BYTES + BUFFER_BYTES as u64;
        let read = self.reader.read_byte_record(&mut self.record);
        self.line = self.tracking.borrow_mut().content_line(start);
        match read {
            Ok(more) => Ok(more),
            Err(e) => {
                let line = self.line;
                match e.into_kind() {
                    csv::ErrorKind::Io(io)
                        if io.get_ref().is_some_and(|i| i.is::<RecordTooLong>()) =>
                    {
                        sink.report(
                            line,
                            None,
                            format_args!(
                                "a record starting here is longer than {} MiB (an unclosed quote?); reading stopped here",
                                MAX_RECORD_BYTES / (1024 * 1024)
                            ),
                        );
                        self.done = true;
                        self.stopped = true;
                        Ok(false)
                    }
                    csv::ErrorKind::Io(io) => Err(io),
                    other => Err(io::Error::other(format!(
                        "unexpected CSV reader error at line {line}: {other:?}"
                    ))),
                }
            }
        }
    }

    /// The next row with at least one non-empty cell, checked.
    pub(crate) fn next_row(
        &mut self,
        sink: &mut ErrorSink,
    ) -> Result<Option<ParsedRow>, io::Error> {
        loop {
            if !self.read_record(sink)? {
                self.done = true;
                return Ok(None);
            }
            if let Some(row) = self.check_record(sink) {
                return Ok(Some(row));
            }
        }
    }

    /// Checks `self.record`; `None` when every cell is empty.
    fn check_record(&self, sink: &mut ErrorSink) -> Option<ParsedRow> {
        let line = self.line;
        if self.record.len() != self.header.len() {
            if self.record.iter().all(|cell| cell.trim_ascii().is_empty()) {
                return None;
            }
            let (cells, columns) = (self.record.len(), self.header.len());
            let s = if cells == 1 { "" } else { "s" };
            sink.report(
                line,
                None,
                format_args!("the row has {cells} cell{s} but the header has {columns} columns"),
            );
            return Some(ParsedRow {
                line,
                key: None,
                set: None,
            });
        }
        let mut cells = Cells::default();
        let mut ok = true;
        let mut any_value = false;
        for (raw, column) in self.record.iter().zip(&self.header) {
            let Ok(value) = std::str::from_utf8(raw) else {
                sink.report(
                    line,
                    Some(&column.name),
                    format_args!("not valid UTF-8; save the file as UTF-8"),
                );
                ok = false;
                any_value = true;
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            any_value = true;
            match column.role {
                HeaderRole::Known(Role::Field(c)) => {
                    cells.set(c, &column.name, Cow::Borrowed(value))
                }
                HeaderRole::Known(Role::NotYetSupported(_)) => {
                    sink.report(
                        line,
                        Some(&column.name),
                        format_args!("{}", columns::NOT_YET_SUPPORTED_REASON),
                    );
                    ok = false;
                }
                HeaderRole::Unnamed => {
                    sink.report(
                        line,
                        Some(&column.name),
                        format_args!(
                            "has a value but no name in the header; name the column or empty it"
                        ),
                    );
                    ok = false;
                }
                HeaderRole::Known(Role::Informational) | HeaderRole::Rejected => {}
            }
        }
        if !any_value {
            return None;
        }
        Some(rules::build_change(
            cells,
            line,
            self.key_columns_present,
            ok,
            sink,
        ))
    }
}

/// Why a UTF-16 file (as some spreadsheet exports are) is refused outright.
pub(crate) const UTF16_REASON: &str =
    "the file is UTF-16 encoded; save it as UTF-8 (in Excel: \"CSV UTF-8\")";

/// True for data starting with a UTF-16 byte order mark.
pub(crate) fn is_utf16_bom(data: &[u8]) -> bool {
    data.starts_with(&[0xFF, 0xFE]) || data.starts_with(&[0xFE, 0xFF])
}

/// The error a [`Tracked`] reader returns once a record grows past its limit.
#[derive(Debug)]
struct RecordTooLong;

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CSV record too long")
    }
}

impl std::error::Error for RecordTooLong {}

/// What [`Tracked`] knows of the bytes it handed to the csv reader.
#[derive(Debug, Default)]
struct Tracking {
    /// Bytes handed out so far (the stream offset of the next byte).
    handed_out: u64,
    /// No bytes are handed out past this offset (moved forward before each record).
    limit: u64,
    /// `\r` and `\n` bytes handed out but not yet passed: `offset << 1 | ends_a_line`.
    /// Holds about one buffer's worth (plus the current record) of entries.
    line_bytes: VecDeque<u64>,
    /// Line ends passed.
    lines_passed: u64,
    /// Whether the last byte handed out was `\r` (a following `\n` ends no extra line).
    after_cr: bool,
}

impl Tracking {
    fn note(&mut self, bytes: &[u8]) {
        let base = self.handed_out;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' || b == b'\n' {
                let after_cr = match i.checked_sub(1) {
                    Some(prev) => bytes.get(prev) == Some(&b'\r'),
                    None => self.after_cr,
                };
                let ends_line = b == b'\r' || !after_cr;
                self.line_bytes
                    .push_back((base + i as u64) << 1 | u64::from(ends_line));
            }
        }
        if let Some(&last) = bytes.last() {
            self.after_cr = last == b'\r';
        }
        self.handed_out += bytes.len() as u64;
    }

    /// The physical line of the first byte at or after `start` that is not a line break: where
    /// the record read from `start` begins (the csv reader skips blank lines before it).
    fn content_line(&mut self, start: u64) -> u64 {
        let mut content = start;
        while let Some(&entry) = self.line_bytes.front() {
            let offset = entry >> 1;
            // Passed bytes, then the run of line breaks the record starts after.
            if offset <= content {
                if offset == content {
                    content += 1;
                }
                self.lines_passed += entry & 1;
                self.line_bytes.pop_front();
            } else {
                break;
            }
        }
        1 + self.lines_passed
    }
}

/// Counts lines and refuses to hand out bytes past the current limit: bounds the memory one
/// record can take however the file is broken.
struct Tracked<R> {
    inner: R,
    tracking: Rc<RefCell<Tracking>>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut tracking = self.tracking.borrow_mut();
        if tracking.handed_out >= tracking.limit {
            return Err(io::Error::other(RecordTooLong));
        }
        let n = self.inner.read(buf)?;
        tracking.note(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}
