//! Who a change is about: the row's key, the manager reference, and the user state.
//!
//! Keys and manager references travel as one prefixed string, `kind:value`, split at the first
//! colon (so an external id may itself contain colons):
//!
//! ```
//! use gcbulk_changes::{ManagerRef, UserKey};
//!
//! let key: UserKey = "external_id:HR:0042".parse()?;
//! assert_eq!(key, UserKey::ExternalId("HR:0042".into()));
//! assert_eq!(key.to_string(), "external_id:HR:0042");
//!
//! let manager: ManagerRef = "email:boss@example.com".parse()?;
//! assert_eq!(manager, ManagerRef::Email("boss@example.com".into()));
//! # Ok::<(), gcbulk_changes::ParseRefError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which user a row changes (the first non-empty of `id`, `external_id`, `email`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserKey {
    /// The Genesys user id (a UUID).
    Id(String),
    /// An external id under the configured authority.
    ExternalId(String),
    /// The user's current email, found by an exact search.
    Email(String),
}

impl UserKey {
    /// The prefix naming the kind of key: `id`, `external_id` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            UserKey::Id(_) => "id",
            UserKey::ExternalId(_) => "external_id",
            UserKey::Email(_) => "email",
        }
    }

    /// The key's value without its kind.
    pub fn value(&self) -> &str {
        match self {
            UserKey::Id(v) | UserKey::ExternalId(v) | UserKey::Email(v) => v,
        }
    }
}

/// The manager to set: by user id (`manager` column) or by email (`email_manager` column).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ManagerRef {
    /// The manager's Genesys user id.
    Id(String),
    /// The manager's email, resolved by the worker.
    Email(String),
}

impl ManagerRef {
    /// The prefix naming the kind of reference: `id` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            ManagerRef::Id(_) => "id",
            ManagerRef::Email(_) => "email",
        }
    }

    /// The reference's value without its kind.
    pub fn value(&self) -> &str {
        match self {
            ManagerRef::Id(v) | ManagerRef::Email(v) => v,
        }
    }
}

/// The state a row sets. Deleting users is deliberately not something a row can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    /// `active`.
    Active,
    /// `inactive`.
    Inactive,
}

impl UserState {
    /// `active` or `inactive`, as in the input and in the Genesys API.
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
        }
    }
}

/// A `kind:value` string that is not a valid [`UserKey`] or [`ManagerRef`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseRefError {
    /// No colon: the kind is missing.
    #[error("expected `kind:value`, got {0:?}")]
    NoKind(String),
    /// A kind this version does not know.
    #[error("unknown {what} kind {kind:?} (expected {expected})")]
    UnknownKind {
        /// `key` or `manager`.
        what: &'static str,
        /// The kind found.
        kind: String,
        /// The kinds accepted.
        expected: &'static str,
    },
}

fn split(s: &str) -> Result<(&str, &str), ParseRefError> {
    s.split_once(':')
        .ok_or_else(|| ParseRefError::NoKind(s.to_string()))
}

impl FromStr for UserKey {
    type Err = ParseRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, value) = split(s)?;
        let value = value.to_string();
        match kind {
            "id" => Ok(UserKey::Id(value)),
            "external_id" => Ok(UserKey::ExternalId(value)),
            "email" => Ok(UserKey::Email(value)),
            _ => Err(ParseRefError::UnknownKind {
                what: "key",
                kind: kind.to_string(),
                expected: "id, external_id or email",
            }),
        }
    }
}

impl FromStr for ManagerRef {
    type Err = ParseRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, value) = split(s)?;
        let value = value.to_string();
        match kind {
            "id" => Ok(ManagerRef::Id(value)),
            "email" => Ok(ManagerRef::Email(value)),
            _ => Err(ParseRefError::UnknownKind {
                what: "manager",
                kind: kind.to_string(),
                expected: "id or email",
            }),
        }
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

impl fmt::Display for ManagerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.value())
    }
}

impl Serialize for UserKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for ManagerRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserialises any `FromStr` type from a string, borrowed or not.
struct PrefixedVisitor<T>(std::marker::PhantomData<T>);

impl<T> Visitor<'_> for PrefixedVisitor<T>
where
    T: FromStr<Err = ParseRefError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string `kind:value`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for UserKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(PrefixedVisitor(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for ManagerRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(PrefixedVisitor(std::marker::PhantomData))
    }
}
