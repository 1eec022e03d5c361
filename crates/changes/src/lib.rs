//! The typed user change: what one input row asks gcbulk to do to one Genesys Cloud user.
//!
//! A [`UserChange`] names the user ([`UserKey`]) and the fields to set ([`FieldChanges`]); a field
//! that is `None` is left as it is. The producer builds one per input row, the queue carries it as
//! compact JSON, the worker applies it, and `gcbulk dlq export` turns it back into an input row with
//! [`UserChange::to_columns`]. This crate does no I/O and no validation of values (the producer
//! validates rows before building changes).
//!
//! # The JSON form
//!
//! One flat, compact object. `line` and `key` are always present (the queue relies on both); every
//! other member is present only when the field changes, and is named after its canonical input
//! column ([`Column`]). Keys and manager references are prefixed strings, so a dead-letter entry
//! reads like `email:a@b.com`:
//!
//! ```
//! use gcbulk_changes::{FieldChanges, ManagerRef, UserChange, UserKey, UserState};
//!
//! let change = UserChange {
//!     line: 2,
//!     key: UserKey::Email("ana@example.com".into()),
//!     set: FieldChanges {
//!         title: Some("Team lead".into()),
//!         manager: Some(ManagerRef::Email("boss@example.com".into())),
//!         state: Some(UserState::Active),
//!         ..FieldChanges::default()
//!     },
//! };
//! let json = serde_json::to_string(&change)?;
//! assert_eq!(
//!     json,
//!     r#"{"line":2,"key":"email:ana@example.com","title":"Team lead","manager":"email:boss@example.com","state":"active"}"#
//! );
//! assert_eq!(serde_json::from_str::<UserChange>(&json)?, change);
//! # Ok::<(), serde_json::Error>(())
//! ```
//!
//! Decoding rejects members it does not know: a change written by a newer gcbulk (say, with
//! `skills`) must fail loudly in an older worker rather than be applied in part.

mod column;
mod key;
mod wire;

pub use column::Column;
pub use key::{ManagerRef, ParseRefError, UserKey, UserState};

/// One input row: which user to change, and how.
///
/// Serialises as one flat JSON object (see the [crate docs](crate)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    /// Physical line number of the row in the input file (a CSV header is line 1).
    pub line: u64,
    /// Which user the row changes.
    pub key: UserKey,
    /// The fields to set; `None` leaves a field unchanged.
    pub set: FieldChanges,
}

/// The fields one row sets. `None` means "leave as it is".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldChanges {
    /// Display name.
    pub name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// A new email address for the user (never the lookup key; see [`UserKey::Email`]).
    pub email: Option<String>,
    /// Work phone number (`addresses[]` PHONE/WORK `address`).
    pub phone_work: Option<String>,
    /// Work phone extension (`addresses[]` PHONE/WORK `extension`).
    pub extension: Option<String>,
    /// The user's manager.
    pub manager: Option<ManagerRef>,
    /// Active or inactive (applied by a PATCH of its own).
    pub state: Option<UserState>,
    /// ACD auto-answer (applied through the bulk endpoint).
    pub acd_auto_answer: Option<bool>,
}

impl FieldChanges {
    /// True when the row sets no field at all; applying it can only end `unchanged`.
    ///
    /// ```
    /// assert!(gcbulk_changes::FieldChanges::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

impl UserChange {
    /// The canonical input columns this change uses and their values, in [`Column::ALL`] order:
    /// what `dlq export` writes so the row can be fixed and enqueued again.
    ///
    /// The key goes to its own column (`id`, `external_id` or `email`), a new email always to
    /// `new_email` (unambiguous whatever the key), a manager to `manager` (id) or `email_manager`.
    ///
    /// ```
    /// use gcbulk_changes::{Column, FieldChanges, UserChange, UserKey};
    ///
    /// let change = UserChange {
    ///     line: 7,
    ///     key: UserKey::Email("old@example.com".into()),
    ///     set: FieldChanges {
    ///         email: Some("new@example.com".into()),
    ///         acd_auto_answer: Some(true),
    ///         ..FieldChanges::default()
    ///     },
    /// };
    /// assert_eq!(
    ///     change.to_columns(),
    ///     vec![
    ///         (Column::Email, "old@example.com"),
    ///         (Column::NewEmail, "new@example.com"),
    ///         (Column::AcdAutoAnswer, "true"),
    ///     ]
    /// );
    /// ```
    pub fn to_columns(&self) -> Vec<(Column, &str)> {
        let key = match &self.key {
            UserKey::Id(v) => (Column::Id, v.as_str()),
            UserKey::ExternalId(v) => (Column::ExternalId, v.as_str()),
            UserKey::Email(v) => (Column::Email, v.as_str()),
        };
        let set = &self.set;
        let manager = set.manager.as_ref().map(|m| match m {
            ManagerRef::Id(v) => (Column::Manager, v.as_str()),
            ManagerRef::Email(v) => (Column::EmailManager, v.as_str()),
        });
        let mut columns = Vec::with_capacity(8);
        columns.push(key);
        let optional = [
            (Column::Name, set.name.as_deref()),
            (Column::Title, set.title.as_deref()),
            (Column::Department, set.department.as_deref()),
            (Column::NewEmail, set.email.as_deref()),
            (Column::PhoneWork, set.phone_work.as_deref()),
            (Column::Extension, set.extension.as_deref()),
        ];
        columns.extend(
            optional
                .into_iter()
                .filter_map(|(column, value)| value.map(|v| (column, v))),
        );
        columns.extend(manager);
        columns.extend(set.state.map(|s| (Column::State, s.as_str())));
        columns.extend(
            set.acd_auto_answer
                .map(|b| (Column::AcdAutoAnswer, if b { "true" } else { "false" })),
        );
        // Keep the documented order even though the key/manager pushes above interleave.
        columns.sort_by_key(|(column, _)| *column);
        columns
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn full(key: UserKey, manager: ManagerRef) -> UserChange {
        UserChange {
            line: 123_456_789_012,
            key,
            set: FieldChanges {
                name: Some("Ana \"Nana\" Núñez".into()),
                title: Some("Lead, Support\nEMEA".into()),
                department: Some("Support".into()),
                email: Some("ana.new@example.com".into()),
                phone_work: Some("+1 (555) 010-0199".into()),
                extension: Some("4021".into()),
                manager: Some(manager),
                state: Some(UserState::Inactive),
                acd_auto_answer: Some(false),
            },
        }
    }

    fn round_trip(change: &UserChange) -> String {
        let json = serde_json::to_string(change).unwrap();
        let back: UserChange = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, change, "{json}");
        json
    }

    #[test]
    fn every_key_and_manager_kind_round_trips() {
        let id = "0f5e2d5c-3e71-4a8e-9d52-6c1b8d3a2b10".to_string();
        for key in [
            UserKey::Id(id.clone()),
            UserKey::ExternalId("HR:000123:with:colons".into()),
            UserKey::Email("ana@example.com".into()),
        ] {
            for manager in [
                ManagerRef::Id(id.clone()),
                ManagerRef::Email("b@example.com".into()),
            ] {
                round_trip(&full(key.clone(), manager));
            }
        }
    }

    #[test]
    fn a_bare_key_is_compact() {
        let change = UserChange {
            line: 2,
            key: UserKey::ExternalId("x".into()),
            set: FieldChanges::default(),
        };
        assert_eq!(round_trip(&change), r#"{"line":2,"key":"external_id:x"}"#);
        assert!(change.set.is_empty());
    }

    #[test]
    fn full_change_json_is_flat_and_uses_column_names() {
        let json = round_trip(&full(
            UserKey::Id("0f5e2d5c-3e71-4a8e-9d52-6c1b8d3a2b10".into()),
            ManagerRef::Id("1f5e2d5c-3e71-4a8e-9d52-6c1b8d3a2b10".into()),
        ));
        assert_eq!(
            json,
            concat!(
                r#"{"line":123456789012,"key":"id:0f5e2d5c-3e71-4a8e-9d52-6c1b8d3a2b10","#,
                r#""name":"Ana \"Nana\" Núñez","title":"Lead, Support\nEMEA","department":"Support","#,
                r#""new_email":"ana.new@example.com","phone_work":"+1 (555) 010-0199","extension":"4021","#,
                r#""manager":"id:1f5e2d5c-3e71-4a8e-9d52-6c1b8d3a2b10","state":"inactive","acd_auto_answer":false}"#
            )
        );
    }

    #[test]
    fn decoding_refuses_what_it_cannot_apply() {
        for (json, why) in [
            (r#"{"key":"id:x"}"#, "missing field `line`"),
            (r#"{"line":1}"#, "missing field `key`"),
            (r#"{"line":1,"key":"phone:1"}"#, "unknown key kind"),
            (r#"{"line":1,"key":"nocolon"}"#, "expected"),
            (
                r#"{"line":1,"key":"id:x","skills":"A:1"}"#,
                "unknown field `skills`",
            ),
            (
                r#"{"line":1,"key":"id:x","state":"deleted"}"#,
                "unknown variant",
            ),
            (
                r#"{"line":1,"key":"id:x","manager":"ext:1"}"#,
                "unknown manager kind",
            ),
        ] {
            let err = serde_json::from_str::<UserChange>(json).unwrap_err();
            assert!(err.to_string().contains(why), "{json}: {err}");
        }
    }

    #[test]
    fn to_columns_lists_used_columns_in_canonical_order() {
        let change = full(
            UserKey::ExternalId("E-1".into()),
            ManagerRef::Email("boss@example.com".into()),
        );
        let names: Vec<_> = change
            .to_columns()
            .into_iter()
            .map(|(c, v)| format!("{}={v}", c.name()))
            .collect();
        assert_eq!(
            names,
            [
                "external_id=E-1",
                "name=Ana \"Nana\" Núñez",
                "title=Lead, Support\nEMEA",
                "department=Support",
                "new_email=ana.new@example.com",
                "phone_work=+1 (555) 010-0199",
                "extension=4021",
                "email_manager=boss@example.com",
                "state=inactive",
                "acd_auto_answer=false",
            ]
        );
    }
}
