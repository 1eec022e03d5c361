//! The validation rules of one row, shared by the CSV and JSON Lines readers.
//!
//! A reader puts the row's non-empty cells (trimmed) into [`Cells`]; [`build_change`] checks them
//! and returns the [`UserChange`], or reports every problem of the row and returns `None`.
//!
//! The rules, as documented for users:
//! - Every cell is trimmed of surrounding whitespace; an empty cell (or JSON `null`) leaves its
//!   field unchanged. Values are otherwise kept as written (no case folding).
//! - Key: the first non-empty of `id`, `external_id`, `email`. A row without any is an error.
//!   When the key is `id` or `external_id`, a non-empty `email` is a new email to set; `new_email`
//!   sets a new email whatever the key (both at once is an error).
//! - `id`, `manager`: a Genesys user id, i.e. a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex
//!   digits, any case).
//! - `external_id`: any text.
//! - `email`, `new_email`, `email_manager`: one `@`, a local part of 1–64 characters without
//!   spaces or `<>()[],;:\"`, a domain of at least two dot-separated labels of letters, digits and
//!   inner dashes; 254 characters at most.
//! - `phone_work` / `phone_number`: digits, spaces, dashes, dots, parentheses and one leading
//!   `+`; 3 to 20 digits.
//! - `extension`: 1 to 15 digits.
//! - `state`: `active` or `inactive`, any case.
//! - `acd_auto_answer`: `true`/`false`, `yes`/`no` or `1`/`0`, any case.
//! - `manager` and `email_manager` together is an error.
//! - `name`, `title`, `department`: any text.
//! - A row that sets nothing but its key is accepted: it ends `unchanged` (or `dead` if the user
//!   does not exist), which makes it a cheap existence check.

use std::borrow::Cow;
use std::fmt;

use gcbulk_changes::{Column, FieldChanges, ManagerRef, UserChange, UserKey, UserState};

use crate::error::ErrorSink;

/// One non-empty cell: its value (trimmed) and the column name as the file spells it.
#[derive(Debug, Clone)]
pub(crate) struct Cell<'a> {
    pub(crate) column: &'a str,
    pub(crate) value: Cow<'a, str>,
}

/// The non-empty cells of one row, by canonical column.
#[derive(Debug, Default)]
pub(crate) struct Cells<'a> {
    slots: [Option<Cell<'a>>; Column::ALL.len()],
}

impl<'a> Cells<'a> {
    /// Stores a cell; empty (after trimming) values are dropped: an empty cell changes nothing.
    pub(crate) fn set(&mut self, column: Column, name: &'a str, value: Cow<'a, str>) {
        let value = match value {
            Cow::Borrowed(v) => Cow::Borrowed(v.trim()),
            Cow::Owned(v) if v.trim().len() == v.len() => Cow::Owned(v),
            Cow::Owned(v) => Cow::Owned(v.trim().to_string()),
        };
        if !value.is_empty() {
            self.slots[column.index()] = Some(Cell {
                column: name,
                value,
            });
        }
    }

    fn take(&mut self, column: Column) -> Option<Cell<'a>> {
        self.slots[column.index()].take()
    }

    fn has(&self, column: Column) -> bool {
        self.slots[column.index()].is_some()
    }
}

/// One checked row: its key when the key is valid (even if other cells are not, so duplicates
/// are found among invalid rows too), and its changes when the whole row is valid.
#[derive(Debug)]
pub(crate) struct ParsedRow {
    pub(crate) line: u64,
    pub(crate) key: Option<UserKey>,
    pub(crate) set: Option<FieldChanges>,
}

impl ParsedRow {
    /// The row as a change, when it is valid.
    pub(crate) fn into_change(self) -> Option<UserChange> {
        Some(UserChange {
            line: self.line,
            key: self.key?,
            set: self.set?,
        })
    }
}

/// Checks one row. `key_columns_present` is false when a CSV header has no key column at all
/// (reported once for the header, not again for every row). `ok` is false when the reader has
/// already reported a problem with this row.
pub(crate) fn build_change(
    mut cells: Cells<'_>,
    line: u64,
    key_columns_present: bool,
    ok: bool,
    sink: &mut ErrorSink,
) -> ParsedRow {
    let mut row = Row { line, sink, ok };

    let key_column = [Column::Id, Column::ExternalId, Column::Email]
        .into_iter()
        .find(|c| cells.has(*c));
    let key = match key_column {
        Some(Column::Id) => cells
            .take(Column::Id)
            .and_then(|c| row.user_id(&c, Some(Column::Email)))
            .map(UserKey::Id),
        Some(Column::ExternalId) => cells
            .take(Column::ExternalId)
            .map(|c| UserKey::ExternalId(c.value.into_owned())),
        Some(_) => cells
            .take(Column::Email)
            .and_then(|c| row.email(&c))
            .map(UserKey::Email),
        None => {
            if key_columns_present {
                row.fail(
                    None,
                    format_args!("no key: set one of id, external_id, email"),
                );
            } else {
                row.ok = false;
            }
            None
        }
    };

    // With an id or external_id key, `email` is a new value to set, like `new_email`.
    let email_as_new = cells.take(Column::Email);
    let new_email = cells.take(Column::NewEmail);
    let new_email = match (email_as_new, new_email) {
        (Some(email), Some(other)) => {
            let key = key_column.map(Column::name).unwrap_or("id");
            row.fail(
                Some(other.column),
                format_args!(
                    "conflicts with column {}, which sets a new email when the key is {key}; keep one",
                    email.column
                ),
            );
            None
        }
        (Some(cell), None) | (None, Some(cell)) => row.email(&cell),
        (None, None) => None,
    };

    let manager_id = cells.take(Column::Manager);
    let manager_email = cells.take(Column::EmailManager);
    let manager = match (manager_id, manager_email) {
        (Some(id), Some(email)) => {
            row.fail(
                Some(email.column),
                format_args!(
                    "conflicts with column {}; set the manager by id or by email, not both",
                    id.column
                ),
            );
            None
        }
        (Some(id), None) => row
            .user_id(&id, Some(Column::EmailManager))
            .map(ManagerRef::Id),
        (None, Some(email)) => row.email(&email).map(ManagerRef::Email),
        (None, None) => None,
    };

    let phone_work = cells.take(Column::PhoneWork).and_then(|c| row.phone(&c));
    let extension = cells
        .take(Column::Extension)
        .and_then(|c| row.extension(&c));
    let state = cells.take(Column::State).and_then(|c| row.state(&c));
    let acd_auto_answer = cells
        .take(Column::AcdAutoAnswer)
        .and_then(|c| row.boolean(&c));
    let text = |cell: Option<Cell<'_>>| cell.map(|c| c.value.into_owned());
    let name = text(cells.take(Column::Name));
    let title = text(cells.take(Column::Title));
    let department = text(cells.take(Column::Department));

    let set = row.ok.then_some(FieldChanges {
        name,
        title,
        department,
        email: new_email,
        phone_work,
        extension,
        manager,
        state,
        acd_auto_answer,
    });
    ParsedRow { line, key, set }
}

/// Checks the cells of one row, reporting into the sink.
struct Row<'s> {
    line: u64,
    sink: &'s mut ErrorSink,
    ok: bool,
}

impl Row<'_> {
    fn fail(&mut self, column: Option<&str>, reason: fmt::Arguments<'_>) {
        self.ok = false;
        self.sink.report(self.line, column, reason);
    }

    /// `email_column` is where an email found here belongs, for the hint.
    fn user_id(&mut self, cell: &Cell<'_>, email_column: Option<Column>) -> Option<String> {
        if is_uuid(&cell.value) {
            return Some(cell.value.to_string());
        }
        match email_column {
            Some(column) if cell.value.contains('@') => self.fail(
                Some(cell.column),
                format_args!(
                    "{} is not a Genesys user id but looks like an email; put it in column {column}",
                    Shown(&cell.value)
                ),
            ),
            _ => self.fail(
                Some(cell.column),
                format_args!(
                    "{} is not a Genesys user id (expected a UUID like 6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94)",
                    Shown(&cell.value)
                ),
            ),
        }
        None
    }

    fn email(&mut self, cell: &Cell<'_>) -> Option<String> {
        if is_email(&cell.value) {
            return Some(cell.value.to_string());
        }
        self.fail(
            Some(cell.column),
            format_args!("{} is not an email address", Shown(&cell.value)),
        );
        None
    }

    fn phone(&mut self, cell: &Cell<'_>) -> Option<String> {
        if is_phone(&cell.value) {
            return Some(cell.value.to_string());
        }
        self.fail(
            Some(cell.column),
            format_args!(
                "{} is not a phone number (use digits, spaces, dashes, dots, parentheses and an optional leading +; 3 to 20 digits)",
                Shown(&cell.value)
            ),
        );
        None
    }

    fn extension(&mut self, cell: &Cell<'_>) -> Option<String> {
        if is_extension(&cell.value) {
            return Some(cell.value.to_string());
        }
        self.fail(
            Some(cell.column),
            format_args!(
                "{} is not an extension (1 to 15 digits)",
                Shown(&cell.value)
            ),
        );
        None
    }

    fn state(&mut self, cell: &Cell<'_>) -> Option<UserState> {
        let value = &*cell.value;
        if value.eq_ignore_ascii_case("active") {
            Some(UserState::Active)
        } else if value.eq_ignore_ascii_case("inactive") {
            Some(UserState::Inactive)
        } else if value.eq_ignore_ascii_case("deleted") {
            self.fail(
                Some(cell.column),
                format_args!("deleting users is not supported (expected active or inactive)"),
            );
            None
        } else {
            self.fail(
                Some(cell.column),
                format_args!(
                    "{} is not a state (expected active or inactive)",
                    Shown(value)
                ),
            );
            None
        }
    }

    fn boolean(&mut self, cell: &Cell<'_>) -> Option<bool> {
        let parsed = parse_bool(&cell.value);
        if parsed.is_none() {
            self.fail(
                Some(cell.column),
                format_args!(
                    "{} is not a boolean (expected true or false; yes/no and 1/0 also work)",
                    Shown(&cell.value)
                ),
            );
        }
        parsed
    }
}

/// A value quoted for a message, cut short when long.
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX_CHARS: usize = 60;
        match self.0.char_indices().nth(MAX_CHARS) {
            Some((cut, _)) => write!(f, "{:?}…", &self.0[..cut]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of any case.
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A pragmatic address check: catches typos and swapped columns, not every RFC 5321 corner.
pub(crate) fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let bad_local = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | ':' | '\\' | '"' | '@'
            )
    };
    if local.is_empty()
        || local.len() > 64
        || local.chars().any(bad_local)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return false;
    }
    let mut labels = 0;
    for label in domain.split('.') {
        labels += 1;
        let valid = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || !c.is_ascii() && !c.is_whitespace());
        if !valid {
            return false;
        }
    }
    labels >= 2
}

/// Digits, spaces, dashes, dots, parentheses, one leading `+`; 3 to 20 digits.
pub(crate) fn is_phone(s: &str) -> bool {
    let mut digits = 0;
    for (i, c) in s.char_indices() {
        match c {
            '0'..='9' => digits += 1,
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return false,
        }
    }
    (3..=20).contains(&digits)
}

/// 1 to 15 ASCII digits.
pub(crate) fn is_extension(s: &str) -> bool {
    (1..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// `true`/`false`, `yes`/`no`, `1`/`0`, any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 3] = ["true", "yes", "1"];
    const FALSE: [&str; 3] = ["false", "no", "0"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(s)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(s)) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94"));
        assert!(is_uuid("6F1C8E2A-4B7D-4C3E-9A5F-0D2B7E8C1A94"));
        assert!(!is_uuid("6f1c8e2a4b7d4c3e9a5f0d2b7e8c1a94"));
        assert!(!is_uuid("6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a9g"));
        assert!(!is_uuid("{6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a9}"));
        assert!(!is_uuid(""));
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.com",
            "o'neil@example.ie",
            "ünï@exämple.de",
            "x@xn--bcher-kva.example",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            "a@b..com",
            "a@-b.com",
            "a@b-.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "Ana <a@b.com>",
            "a@b.com,c@d.com",
            "a@b.com;",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(!is_email(&long_local));
    }

    #[test]
    fn phones_and_extensions() {
        for ok in [
            "+1 (555) 010-0199",
            "0044 20 7946 0958",
            "555.010.0199",
            "112",
        ] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in [
            "12",
            "555-CALL-NOW",
            "1+555",
            "+1 555 0100 x12",
            "",
            "+ () -",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
        assert!(!is_phone(&"1".repeat(21)));
        assert!(is_extension("4021"));
        assert!(!is_extension(""));
        assert!(!is_extension("12a"));
        assert!(!is_extension("+12"));
        assert!(!is_extension(&"1".repeat(16)));
    }

    #[test]
    fn booleans() {
        for (s, b) in [
            ("TRUE", true),
            ("yes", true),
            ("1", true),
            ("False", false),
            ("no", false),
            ("0", false),
        ] {
            assert_eq!(parse_bool(s), Some(b), "{s}");
        }
        assert_eq!(parse_bool("y"), None);
        assert_eq!(parse_bool("2"), None);
    }

    #[test]
    fn shown_values_are_quoted_and_cut() {
        assert_eq!(Shown("a\"b").to_string(), r#""a\"b""#);
        let long = "é".repeat(100);
        assert_eq!(Shown(&long).to_string(), format!("{:?}…", "é".repeat(60)));
    }
}
