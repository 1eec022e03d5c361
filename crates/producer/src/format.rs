//! Input formats, and how the format of an input is decided.
//!
//! In order: `--format` if given; else the file extension (`.csv`; `.jsonl` or `.ndjson`, any
//! case); else (standard input, other extensions) a look at the first byte that is not a BOM or
//! whitespace: `{` means JSON Lines, anything else CSV. A CSV header cannot start with `{` (no
//! column name does), so the guess is never wrong for a valid file; a file starting with `[` is a
//! JSON array, which is refused with a hint rather than read as CSV.
//!
//! ```
//! use gcbulk_producer::Format;
//!
//! assert_eq!("jsonl".parse::<Format>(), Ok(Format::Jsonl));
//! assert_eq!(Format::from_path("users.NDJSON".as_ref()), Some(Format::Jsonl));
//! assert_eq!(Format::from_path("users.txt".as_ref()), None);
//! assert_eq!(Format::Csv.to_string(), "csv");
//! ```

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The two input (and export) formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CSV with a header row (RFC 4180, UTF-8, optional BOM).
    Csv,
    /// JSON Lines: one object per line, keys named like the CSV columns.
    Jsonl,
}

impl Format {
    /// `csv` or `jsonl`, as stored with a batch and accepted by `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format a file name's extension says, if it says one.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(Format::Csv)
        } else if ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("ndjson") {
            Some(Format::Jsonl)
        } else {
            None
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--format` value that is neither `csv` nor `jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: use csv or jsonl")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            _ => Err(UnknownFormat(s.to_string())),
        }
    }
}

/// What the first bytes of an input suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    Format(Format),
    /// Starts with `[`: a JSON array, not JSON Lines.
    JsonArray,
}

/// Guesses the format from the start of the input (`head` may be empty or cut anywhere).
pub(crate) fn sniff(head: &[u8]) -> Sniffed {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Sniffed::Format(Format::Jsonl),
        Some(b'[') => Sniffed::JsonArray,
        _ => Sniffed::Format(Format::Csv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_looks_past_bom_and_blank_lines() {
        assert_eq!(
            sniff(b"\xEF\xBB\xBF\n  {\"id\":1}"),
            Sniffed::Format(Format::Jsonl)
        );
        assert_eq!(sniff(b"email,name\n"), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b"\xEF\xBB\xBFemail\n"), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b""), Sniffed::Format(Format::Csv));
        assert_eq!(sniff(b" [{}]"), Sniffed::JsonArray);
    }

    #[test]
    fn format_names() {
        assert_eq!("CSV".parse::<Format>(), Ok(Format::Csv));
        assert_eq!("ndjson".parse::<Format>(), Ok(Format::Jsonl));
        assert_eq!(
            "xlsx".parse::<Format>().unwrap_err().to_string(),
            "unknown format \"xlsx\": use csv or jsonl"
        );
        assert_eq!(Format::from_path("a/b.Csv".as_ref()), Some(Format::Csv));
        assert_eq!(Format::from_path("-".as_ref()), None);
    }
}
