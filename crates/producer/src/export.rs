//! Writing dead-lettered changes back in the input format, for `gcbulk dlq export`.
//!
//! Each row is the change as its canonical columns ([`UserChange::to_columns`]) plus an `error`
//! column saying why it failed. The file can be fixed and given to `gcbulk enqueue` as it is:
//! the producer reads the `error` column and ignores it (the one column it ignores).
//!
//! CSV needs its header before the first row, so the writer is given the columns up front;
//! [`columns_used`] computes the smallest set for some entries (the columns any of them uses),
//! and [`export`] does both for entries already in memory. JSON Lines objects carry only the
//! columns each row uses.
//!
//! ```
//! use gcbulk_producer::export::{export, ExportEntry};
//! use gcbulk_producer::Format;
//!
//! let entry = ExportEntry::from_item_json(
//!     r#"{"line":7,"key":"email:ana@example.com","title":"Lead"}"#,
//!     "404 not.found: user not found",
//! )?;
//! let csv = export(&[entry], Format::Csv, Vec::new())?;
//! assert_eq!(
//!     String::from_utf8(csv).unwrap(),
//!     "email,title,error\nana@example.com,Lead,404 not.found: user not found\n"
//! );
//! # Ok::<(), gcbulk_producer::export::ExportError>(())
//! ```

use std::io::{self, Write};

use gcbulk_changes::{Column, UserChange};

use crate::columns::ERROR_COLUMN;
use crate::format::Format;

/// One dead-lettered change and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportEntry {
    /// The change, as it was enqueued.
    pub change: UserChange,
    /// The failure, one line for a human (e.g. `404 not.found: …`).
    pub error: String,
}

impl ExportEntry {
    /// Builds an entry from a queued item (the JSON text of a [`UserChange`]).
    pub fn from_item_json(item: &str, error: impl Into<String>) -> Result<Self, ExportError> {
        let change = serde_json::from_str(item).map_err(ExportError::BadItem)?;
        Ok(ExportEntry {
            change,
            error: error.into(),
        })
    }

    /// Builds an entry from a queued item already parsed (a dead letter's `item`).
    pub fn from_item(
        item: serde_json::Value,
        error: impl Into<String>,
    ) -> Result<Self, ExportError> {
        let change = serde_json::from_value(item).map_err(ExportError::BadItem)?;
        Ok(ExportEntry {
            change,
            error: error.into(),
        })
    }
}

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A queued item is not the JSON of a change this version understands.
    #[error("a dead-lettered item is not a change this version of gcbulk can export: {0}")]
    BadItem(#[source] serde_json::Error),
    /// A row uses a column the CSV header was not given.
    #[error("line {line} uses column {column}, which the CSV export was not given")]
    MissingColumn {
        /// The change's input line.
        line: u64,
        /// The column left out.
        column: Column,
    },
    /// Writing failed.
    #[error("cannot write the export: {0}")]
    Write(#[from] io::Error),
}

impl From<csv::Error> for ExportError {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => ExportError::Write(io),
            other => ExportError::Write(io::Error::other(format!("{other:?}"))),
        }
    }
}

/// The canonical columns any of `changes` uses, in export order.
pub fn columns_used<'a>(changes: impl IntoIterator<Item = &'a UserChange>) -> Vec<Column> {
    let mut used = [false; Column::ALL.len()];
    for change in changes {
        for (column, _) in change.to_columns() {
            used[column.index()] = true;
        }
    }
    Column::ALL
        .into_iter()
        .filter(|c| used[c.index()])
        .collect()
}

/// Writes all `entries` to `out` in `format` (CSV with the columns they use), returning `out`.
pub fn export<W: Write>(entries: &[ExportEntry], format: Format, out: W) -> Result<W, ExportError> {
    let columns = columns_used(entries.iter().map(|e| &e.change));
    let mut writer = ExportWriter::new(format, out, &columns)?;
    for entry in entries {
        writer.write(&entry.change, &entry.error)?;
    }
    writer.finish()
}

/// Streams export rows to a writer.
pub struct ExportWriter<W: Write> {
    inner: Inner<W>,
}

enum Inner<W: Write> {
    Csv {
        writer: Box<csv::Writer<W>>,
        columns: Vec<Column>,
        row: Vec<String>,
    },
    Jsonl(io::BufWriter<W>),
}

impl<W: Write> ExportWriter<W> {
    /// A writer for `format`; for CSV, writes the header: `columns` (in [`Column::ALL`] order)
    /// then `error`. `columns` is ignored for JSON Lines.
    pub fn new(format: Format, out: W, columns: &[Column]) -> Result<Self, ExportError> {
        let inner = match format {
            Format::Csv => {
                let mut columns = columns.to_vec();
                columns.sort();
                columns.dedup();
                let mut writer = Box::new(csv::Writer::from_writer(out));
                writer.write_record(columns.iter().map(|c| c.name()).chain([ERROR_COLUMN]))?;
                let row = Vec::with_capacity(columns.len() + 1);
                Inner::Csv {
                    writer,
                    columns,
                    row,
                }
            }
            Format::Jsonl => Inner::Jsonl(io::BufWriter::new(out)),
        };
        Ok(ExportWriter { inner })
    }

    /// Writes one row.
    pub fn write(&mut self, change: &UserChange, error: &str) -> Result<(), ExportError> {
        let values = change.to_columns();
        match &mut self.inner {
            Inner::Csv {
                writer,
                columns,
                row,
            } => {
                if let Some((missing, _)) = values.iter().find(|(c, _)| !columns.contains(c)) {
                    return Err(ExportError::MissingColumn {
                        line: change.line,
                        column: *missing,
                    });
                }
                row.clear();
                row.extend(columns.iter().map(|column| {
                    values
                        .iter()
                        .find(|(c, _)| c == column)
                        .map_or_else(String::new, |(_, v)| (*v).to_string())
                }));
                row.push(error.to_string());
                writer.write_record(row.iter())?;
            }
            Inner::Jsonl(out) => {
                out.write_all(b"{")?;
                for (column, value) in values {
                    write_member(out, column.name(), value)?;
                    out.write_all(b",")?;
                }
                write_member(out, ERROR_COLUMN, error)?;
                out.write_all(b"}\n")?;
            }
        }
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, ExportError> {
        match self.inner {
            Inner::Csv { writer, .. } => writer.into_inner().map_err(|e| {
                ExportError::Write(io::Error::new(e.error().kind(), e.error().to_string()))
            }),
            Inner::Jsonl(out) => out.into_inner().map_err(|e| {
                ExportError::Write(io::Error::new(e.error().kind(), e.error().to_string()))
            }),
        }
    }
}

fn write_member(out: &mut impl Write, key: &str, value: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, key).map_err(io::Error::other)?;
    out.write_all(b":")?;
    serde_json::to_writer(&mut *out, value).map_err(io::Error::other)
}
