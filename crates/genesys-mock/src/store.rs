//! The organisation's users in memory, with the indexes the API looks them up by, and their JSON views.
//!
//! One `RwLock<Store>` guards everything; handlers hold it only to look up, change and serialize the few
//! users a request touches, never to clone the whole organisation.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use crate::seed::{self, DIVISION_ID, DIVISION_NAME, LANGUAGE_NAMES, SKILL_NAMES};

/// A user's state (`User.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Active,
    Inactive,
    Deleted,
}

impl State {
    pub const NAMES: [&'static str; 3] = ["active", "inactive", "deleted"];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Inactive => "inactive",
            State::Deleted => "deleted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(State::Active),
            "inactive" => Some(State::Inactive),
            "deleted" => Some(State::Deleted),
            _ => None,
        }
    }
}

/// One entry of `addresses` (Genesys `Contact`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub media_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
}

impl Contact {
    pub const MEDIA_TYPES: [&'static str; 3] = ["PHONE", "EMAIL", "SMS"];
    pub const TYPES: [&'static str; 9] = [
        "PRIMARY", "WORK", "WORK2", "WORK3", "WORK4", "HOME", "MOBILE", "MAIN", "OTHER",
    ];

    pub fn phone(kind: &'static str, address: Option<String>, extension: Option<String>) -> Self {
        let display = address.clone().or_else(|| extension.clone());
        Self {
            address,
            display,
            media_type: "PHONE",
            kind,
            extension,
            country_code: None,
            integration: None,
        }
    }
}

/// A user as the look-alike keeps it.
#[derive(Clone, Debug)]
pub(crate) struct UserRec {
    pub id: String,
    pub name: String,
    pub email: String,
    pub username: String,
    pub title: Option<String>,
    pub department: Option<String>,
    pub preferred_name: Option<String>,
    pub addresses: Vec<Contact>,
    /// The manager's user id.
    pub manager: Option<String>,
    pub state: State,
    pub acd_auto_answer: bool,
    pub version: u64,
    /// Catalogue skill index and proficiency, sorted by index.
    pub skills: Vec<(usize, f64)>,
    /// Catalogue language index and proficiency, sorted by index.
    pub languages: Vec<(usize, f64)>,
    /// (authority, key) pairs.
    pub external_ids: Vec<(String, String)>,
    /// UpdateUser fields the look-alike stores and echoes without interpreting (`chat`, `images`, …).
    pub extra: BTreeMap<&'static str, Value>,
}

/// All users and their lookup indexes.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub users: Vec<UserRec>,
    by_id: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
    by_external: HashMap<(String, String), usize>,
}

impl Store {
    /// The seeded organisation.
    pub fn seeded(count: usize, seed: u64, authority: &str) -> Self {
        let mut store = Store {
            users: Vec::with_capacity(count),
            ..Store::default()
        };
        for index in 1..=count {
            store.insert(seed::user(seed, index, authority));
        }
        store
    }

    fn insert(&mut self, user: UserRec) {
        let pos = self.users.len();
        self.by_id.insert(user.id.clone(), pos);
        self.by_email.insert(user.email.to_lowercase(), pos);
        for key in &user.external_ids {
            self.by_external.insert(key.clone(), pos);
        }
        self.users.push(user);
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn get(&self, id: &str) -> Option<&UserRec> {
        self.users.get(self.position(id)?)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut UserRec> {
        let pos = self.position(id)?;
        self.users.get_mut(pos)
    }

    pub fn by_email(&self, email: &str) -> Option<&UserRec> {
        self.users.get(*self.by_email.get(&email.to_lowercase())?)
    }

    /// The user holding `email` (case-insensitive), if any.
    pub fn email_owner(&self, email: &str) -> Option<&str> {
        self.by_email(email).map(|u| u.id.as_str())
    }

    pub fn by_external_id(&self, authority: &str, key: &str) -> Option<&UserRec> {
        self.users.get(
            *self
                .by_external
                .get(&(authority.to_owned(), key.to_owned()))?,
        )
    }

    /// Moves `id`'s email index entry after its email changed from `old`.
    pub fn reindex_email(&mut self, id: &str, old: &str) {
        let Some(pos) = self.position(id) else { return };
        let old = old.to_lowercase();
        if self.by_email.get(&old) == Some(&pos) {
            self.by_email.remove(&old);
        }
        if let Some(user) = self.users.get(pos) {
            self.by_email.insert(user.email.to_lowercase(), pos);
        }
    }
}

/// Which optional parts of a user to include.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Expand {
    pub skills: bool,
    pub languages: bool,
}

impl Expand {
    pub const ALL: Expand = Expand {
        skills: true,
        languages: true,
    };

    /// From `expand` query values (comma-separated or repeated).
    pub fn from_values<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut expand = Expand::default();
        for value in values.flat_map(|v| v.split(',')) {
            match value.trim() {
                "skills" => expand.skills = true,
                "languages" => expand.languages = true,
                _ => {}
            }
        }
        expand
    }
}

/// `selfUri` of a user.
pub(crate) fn user_uri(id: &str) -> String {
    format!("/api/v2/users/{id}")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Reference<'a> {
    id: &'a str,
    self_uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DivisionView {
    id: &'static str,
    name: &'static str,
    self_uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrimaryContact<'a> {
    address: &'a str,
    media_type: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// A `UserRoutingSkill` (or `UserRoutingLanguage`, with `languageUri` instead of `skillUri`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoutingEntryView {
    id: String,
    name: &'static str,
    proficiency: f64,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    skill_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_uri: Option<String>,
    self_uri: String,
}

/// The user's skills as `UserRoutingSkill`s.
pub(crate) fn skill_views(user: &UserRec) -> Vec<RoutingEntryView> {
    user.skills
        .iter()
        .map(|&(k, proficiency)| {
            let id = seed::skill_id(k);
            RoutingEntryView {
                name: SKILL_NAMES.get(k).copied().unwrap_or_default(),
                proficiency,
                state: "active",
                skill_uri: Some(format!("/api/v2/routing/skills/{id}")),
                language_uri: None,
                self_uri: format!("/api/v2/users/{}/routingskills/{id}", user.id),
                id,
            }
        })
        .collect()
}

/// The user's languages as `UserRoutingLanguage`s.
pub(crate) fn language_views(user: &UserRec) -> Vec<RoutingEntryView> {
    user.languages
        .iter()
        .map(|&(k, proficiency)| {
            let id = seed::language_id(k);
            RoutingEntryView {
                name: LANGUAGE_NAMES.get(k).copied().unwrap_or_default(),
                proficiency,
                state: "active",
                skill_uri: None,
                language_uri: Some(format!("/api/v2/routing/languages/{id}")),
                self_uri: format!("/api/v2/users/{}/routinglanguages/{id}", user.id),
                id,
            }
        })
        .collect()
}

/// The Genesys `User` JSON of a user.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView<'a> {
    id: &'a str,
    name: &'a str,
    division: DivisionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'a str>,
    email: &'a str,
    primary_contact_info: [PrimaryContact<'a>; 1],
    addresses: &'a [Contact],
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    username: &'a str,
    /// The real API answers a reference, `{id, selfUri}`, not a whole User.
    #[serde(skip_serializing_if = "Option::is_none")]
    manager: Option<Reference<'a>>,
    version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skills: Option<Vec<RoutingEntryView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    languages: Option<Vec<RoutingEntryView>>,
    acd_auto_answer: bool,
    #[serde(flatten)]
    extra: &'a BTreeMap<&'static str, Value>,
    self_uri: String,
}

impl<'a> UserView<'a> {
    pub fn new(user: &'a UserRec, expand: Expand) -> Self {
        UserView {
            id: &user.id,
            name: &user.name,
            division: DivisionView {
                id: DIVISION_ID,
                name: DIVISION_NAME,
                self_uri: format!("/api/v2/authorization/divisions/{DIVISION_ID}"),
            },
            department: user.department.as_deref(),
            email: &user.email,
            primary_contact_info: [PrimaryContact {
                address: &user.email,
                media_type: "EMAIL",
                kind: "PRIMARY",
            }],
            addresses: &user.addresses,
            state: user.state.as_str(),
            title: user.title.as_deref(),
            username: &user.username,
            manager: user.manager.as_deref().map(|id| Reference {
                id,
                self_uri: user_uri(id),
            }),
            version: user.version,
            preferred_name: user.preferred_name.as_deref(),
            skills: expand.skills.then(|| skill_views(user)),
            languages: expand.languages.then(|| language_views(user)),
            acd_auto_answer: user.acd_auto_answer,
            extra: &user.extra,
            self_uri: user_uri(&user.id),
        }
    }
}

/// The admin view of a user: its API JSON with skills and languages, plus its external ids.
pub(crate) struct AdminUserView<'a>(pub &'a UserRec);

impl Serialize for AdminUserView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct ExternalId<'a> {
            authority_name: &'a str,
            external_key: &'a str,
        }
        let value = serde_json::to_value(UserView::new(self.0, Expand::ALL))
            .map_err(serde::ser::Error::custom)?;
        let Value::Object(fields) = value else {
            return Err(serde::ser::Error::custom("a user view is always an object"));
        };
        let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
        for (key, value) in &fields {
            map.serialize_entry(key, value)?;
        }
        let ids: Vec<ExternalId<'_>> = self
            .0
            .external_ids
            .iter()
            .map(|(authority, key)| ExternalId {
                authority_name: authority,
                external_key: key,
            })
            .collect();
        map.serialize_entry("externalIds", &ids)?;
        map.end()
    }
}
