//! Reading JSON Lines rows: one object per line, keys named like the CSV columns.
//!
//! Values are strings; `null` (like an empty string) leaves a field unchanged. Where a non-string
//! is natural it is accepted too: a boolean for `acd_auto_answer`, a number for
//! `acd_auto_answer` (1/0), `extension`, `phone_work` and `external_id`. Blank lines are skipped;
//! line numbers count every physical line. A line may be at most [`MAX_LINE_BYTES`] long (so a
//! file without newlines cannot fill memory).

use std::borrow::Cow;
use std::fmt;
use std::io::{self, BufRead};

use gcbulk_changes::Column;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::columns::{self, Role};
use crate::csv_rows::{UTF16_REASON, is_utf16_bom};
use crate::error::ErrorSink;
use crate::rules::{self, Cells, ParsedRow};

/// The longest line accepted, in bytes.
pub(crate) const MAX_LINE_BYTES: usize = 1024 * 1024;

pub(crate) struct JsonlRows<R: BufRead> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    done: bool,
}

impl<R: BufRead> JsonlRows<R> {
    pub(crate) fn new(reader: R) -> Self {
        JsonlRows {
            reader,
            buf: Vec::new(),
            line: 0,
            done: false,
        }
    }

    /// The next non-blank line, checked.
    pub(crate) fn next_row(&mut self, sink: &mut ErrorSink) -> io::Result<Option<ParsedRow>> {
        while !self.done {
            let read = read_line(&mut self.reader, &mut self.buf, MAX_LINE_BYTES)?;
            self.line += 1;
            let line = self.line;
            match read {
                LineRead::Eof => self.done = true,
                LineRead::TooLong => {
                    sink.report(
                        line,
                        None,
                        format_args!(
                            "the line is longer than {} MiB",
                            MAX_LINE_BYTES / (1024 * 1024)
                        ),
                    );
                    return Ok(Some(ParsedRow {
                        line,
                        key: None,
                        set: None,
                    }));
                }
                LineRead::Line => {
                    let mut text: &[u8] = &self.buf;
                    if line == 1 {
                        if is_utf16_bom(text) {
                            sink.report(line, None, format_args!("{UTF16_REASON}"));
                            self.done = true;
                            return Ok(Some(ParsedRow {
                                line,
                                key: None,
                                set: None,
                            }));
                        }
                        text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
                    }
                    if text.trim_ascii().is_empty() {
                        continue;
                    }
                    return Ok(Some(check_line(text, line, sink)));
                }
            }
        }
        Ok(None)
    }
}

fn check_line(text: &[u8], line: u64, sink: &mut ErrorSink) -> ParsedRow {
    let invalid = ParsedRow {
        line,
        key: None,
        set: None,
    };
    let Ok(text) = std::str::from_utf8(text) else {
        sink.report(
            line,
            None,
            format_args!("not valid UTF-8; save the file as UTF-8"),
        );
        return invalid;
    };
    let object = match serde_json::from_str::<Object<'_>>(text) {
        Ok(object) => object,
        Err(e) if e.is_data() => {
            sink.report(
                line,
                None,
                format_args!("expected a JSON object (one per line)"),
            );
            return invalid;
        }
        Err(e) => {
            let message = e.to_string();
            let message = message
                .rfind(" at line ")
                .map_or(message.as_str(), |at| &message[..at]);
            sink.report(
                line,
                None,
                format_args!("not valid JSON: {message} (column {})", e.column()),
            );
            return invalid;
        }
    };

    let mut cells = Cells::default();
    let mut ok = true;
    let mut seen: [Option<&str>; Column::ALL.len()] = [None; Column::ALL.len()];
    for (key, value) in &object.0 {
        let key: &str = key;
        match columns::role_of(key) {
            None => {
                sink.report(
                    line,
                    Some(key),
                    format_args!("{}", columns::unknown_column_reason()),
                );
                ok = false;
            }
            Some(Role::Field(column)) => {
                if let Some(first) = seen[column.index()] {
                    if first.eq_ignore_ascii_case(key) {
                        sink.report(
                            line,
                            Some(key),
                            format_args!("appears more than once in the object"),
                        );
                    } else {
                        sink.report(
                            line,
                            Some(key),
                            format_args!("same column as {first}; keep one"),
                        );
                    }
                    ok = false;
                    continue;
                }
                seen[column.index()] = Some(key);
                match value.as_text(column) {
                    Ok(Some(text)) => cells.set(column, key, text),
                    Ok(None) => {}
                    Err(kind) => {
                        sink.report(
                            line,
                            Some(key),
                            format_args!("expected a string, got {kind}"),
                        );
                        ok = false;
                    }
                }
            }
            Some(Role::NotYetSupported(_)) => {
                if !value.is_empty() {
                    sink.report(
                        line,
                        Some(key),
                        format_args!("{}", columns::NOT_YET_SUPPORTED_REASON),
                    );
                    ok = false;
                }
            }
            Some(Role::Informational) => {}
        }
    }
    rules::build_change(cells, line, true, ok, sink)
}

/// One JSON value, as far as a row cares.
#[derive(Debug)]
enum Value<'a> {
    Str(Cow<'a, str>),
    Bool(bool),
    Number(String),
    Null,
    Array,
    Object,
}

impl<'a> Value<'a> {
    /// The value as cell text for `column` (`None` for null), or what it is when it does not fit.
    fn as_text(&self, column: Column) -> Result<Option<Cow<'_, str>>, &'static str> {
        let numbers_fit = matches!(
            column,
            Column::AcdAutoAnswer | Column::Extension | Column::PhoneWork | Column::ExternalId
        );
        match self {
            Value::Str(s) => Ok(Some(Cow::Borrowed(s))),
            Value::Null => Ok(None),
            Value::Bool(b) if column == Column::AcdAutoAnswer => {
                Ok(Some(Cow::Borrowed(if *b { "true" } else { "false" })))
            }
            Value::Number(n) if numbers_fit => Ok(Some(Cow::Borrowed(n))),
            Value::Bool(_) => Err("a boolean"),
            Value::Number(_) => Err("a number"),
            Value::Array => Err("an array"),
            Value::Object => Err("an object"),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A JSON object's members in order, duplicates kept (so they can be reported).
struct Object<'a>(Vec<(Cow<'a, str>, Value<'a>)>);

impl<'de> Deserialize<'de> for Object<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    members.push((key.0, map.next_value::<Value<'de>>()?));
                }
                Ok(Object(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A string that borrows from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'de>, E> {
                Ok(Value::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value<'de>, E> {
                Ok(Value::Bool(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'de>, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Value::Array)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Value::Object)
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    Line,
    TooLong,
    Eof,
}

/// Reads one line (without its `\n` / `\r\n`) into `buf`, keeping at most `max` bytes: a longer
/// line is consumed and reported as [`LineRead::TooLong`].
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<LineRead> {
    buf.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => LineRead::Eof,
                (true, true) => LineRead::TooLong,
                (true, false) => LineRead::Line,
            });
        }
        any = true;
        let newline = available.iter().position(|&b| b == b'\n');
        let (take, consumed) = match newline {
            Some(i) => (&available[..i], i + 1),
            None => (available, available.len()),
        };
        if !too_long {
            if buf.len() + take.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(take);
            }
        }
        reader.consume(consumed);
        if newline.is_some() {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn lines_are_split_bounded_and_crlf_stripped() {
        let data = b"ab\r\n\n0123456789\nlast";
        let mut reader = io::BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        loop {
            let read = read_line(&mut reader, &mut buf, 5).unwrap();
            if read == LineRead::Eof {
                break;
            }
            lines.push((read, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            lines,
            [
                (LineRead::Line, "ab".to_string()),
                (LineRead::Line, String::new()),
                (LineRead::TooLong, String::new()),
                (LineRead::Line, "last".to_string()),
            ]
        );
    }
}
