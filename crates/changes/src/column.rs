//! The canonical input columns: the names a CSV header (or a JSON Lines object) uses for each
//! part of a [`UserChange`](crate::UserChange).
//!
//! ```
//! use gcbulk_changes::Column;
//!
//! assert_eq!(Column::from_name("email_manager"), Some(Column::EmailManager));
//! assert_eq!(Column::EmailManager.name(), "email_manager");
//! assert_eq!(Column::from_name("phone_number"), None); // aliases are the producer's business
//! ```

use std::fmt;

/// A canonical input column. The order of the variants is the order of [`Column::ALL`], used for
/// exported files: key columns first, then the fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// `id`: key, the Genesys user id.
    Id,
    /// `external_id`: key, looked up under the configured authority.
    ExternalId,
    /// `email`: key (or a new email when `id` / `external_id` is the key).
    Email,
    /// `name`.
    Name,
    /// `title`.
    Title,
    /// `department`.
    Department,
    /// `new_email`: a new email address.
    NewEmail,
    /// `phone_work`.
    PhoneWork,
    /// `extension`.
    Extension,
    /// `manager`: the manager's user id.
    Manager,
    /// `email_manager`: the manager's email.
    EmailManager,
    /// `state`: `active` or `inactive`.
    State,
    /// `acd_auto_answer`: `true` or `false`.
    AcdAutoAnswer,
}

impl Column {
    /// Every canonical column, in export order.
    pub const ALL: [Column; 13] = [
        Column::Id,
        Column::ExternalId,
        Column::Email,
        Column::Name,
        Column::Title,
        Column::Department,
        Column::NewEmail,
        Column::PhoneWork,
        Column::Extension,
        Column::Manager,
        Column::EmailManager,
        Column::State,
        Column::AcdAutoAnswer,
    ];

    /// The column's name as written in a header.
    pub const fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::ExternalId => "external_id",
            Column::Email => "email",
            Column::Name => "name",
            Column::Title => "title",
            Column::Department => "department",
            Column::NewEmail => "new_email",
            Column::PhoneWork => "phone_work",
            Column::Extension => "extension",
            Column::Manager => "manager",
            Column::EmailManager => "email_manager",
            Column::State => "state",
            Column::AcdAutoAnswer => "acd_auto_answer",
        }
    }

    /// The column with exactly this canonical name (no aliases, case-sensitive).
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Position in [`Column::ALL`], for per-column arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_indexes_agree_with_all() {
        for (i, column) in Column::ALL.into_iter().enumerate() {
            assert_eq!(column.index(), i);
            assert_eq!(Column::from_name(column.name()), Some(column));
            assert_eq!(column.to_string(), column.name());
        }
    }
}
