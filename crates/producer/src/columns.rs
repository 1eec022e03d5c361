//! Which input column names mean what.
//!
//! Names are matched without regard to case or surrounding spaces (`Email ` is `email`). Besides
//! the canonical columns of [`Column`], the input accepts:
//! - `phone_number`, an alias of `phone_work`;
//! - the columns of the Genesys admin import that a later version will apply (`skills`,
//!   `languages`, `queues`, `roles_divisions`, `division`, `location_work`): accepted while
//!   every cell is empty, a value is refused;
//! - `error`, written by `gcbulk dlq export` and ignored on input, so that an export can be fixed
//!   and enqueued again without deleting the column. It is the one column that is read and
//!   ignored; any other unknown column is an error.

use gcbulk_changes::Column;

/// Columns of the admin import that this version refuses values in.
pub(crate) const NOT_YET_SUPPORTED: [&str; 6] = [
    "skills",
    "languages",
    "queues",
    "roles_divisions",
    "division",
    "location_work",
];

/// The informational column `dlq export` adds.
pub(crate) const ERROR_COLUMN: &str = "error";

/// What an input column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A canonical column (possibly through an alias).
    Field(Column),
    /// A known column whose values this version cannot apply.
    NotYetSupported(&'static str),
    /// The export's `error` column: read and ignored.
    Informational,
}

/// The role of a column name, or `None` for an unknown column.
pub(crate) fn role_of(name: &str) -> Option<Role> {
    let name = name.trim();
    if let Some(column) = Column::ALL
        .into_iter()
        .find(|c| c.name().eq_ignore_ascii_case(name))
    {
        return Some(Role::Field(column));
    }
    if name.eq_ignore_ascii_case("phone_number") {
        return Some(Role::Field(Column::PhoneWork));
    }
    if name.eq_ignore_ascii_case(ERROR_COLUMN) {
        return Some(Role::Informational);
    }
    NOT_YET_SUPPORTED
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(name))
        .map(Role::NotYetSupported)
}

/// The reason given for an unknown column.
pub(crate) fn unknown_column_reason() -> String {
    let known: Vec<&str> = Column::ALL
        .iter()
        .map(|c| c.name())
        .chain(["phone_number"])
        .chain(NOT_YET_SUPPORTED)
        .chain([ERROR_COLUMN])
        .collect();
    format!("unknown column (known columns: {})", known.join(", "))
}

/// The reason given for a value in a column of [`NOT_YET_SUPPORTED`].
pub(crate) const NOT_YET_SUPPORTED_REASON: &str =
    "not supported yet by this version of gcbulk; remove the column or leave it empty";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_and_space_insensitive() {
        assert_eq!(role_of(" Email "), Some(Role::Field(Column::Email)));
        assert_eq!(
            role_of("PHONE_NUMBER"),
            Some(Role::Field(Column::PhoneWork))
        );
        assert_eq!(role_of("Skills"), Some(Role::NotYetSupported("skills")));
        assert_eq!(role_of("error"), Some(Role::Informational));
        assert_eq!(role_of("nickname"), None);
        assert_eq!(role_of(""), None);
    }
}
