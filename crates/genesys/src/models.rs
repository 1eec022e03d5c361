//! The JSON bodies of the calls this crate makes, with the API's current field names.
//!
//! Field names and required flags follow the Platform API models of platform-client-sdk-python 257.1.0
//! (see `/work/shared/genesys/users-current-models.derived.json`). Responses ignore fields they do not know, so
//! new API fields never break decoding; requests leave out every `None` field, so a PATCH only touches what
//! it names. Enumerations that are round-tripped (a user's addresses are read, edited and sent back whole) are
//! kept as strings so that values this crate does not know survive the round trip.

use serde::{Deserialize, Serialize};

/// A user's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    /// Active user.
    Active,
    /// Inactive (cannot log in, keeps its configuration).
    Inactive,
    /// Deleted.
    Deleted,
    /// A state this crate does not know; never send it.
    #[serde(other)]
    Unknown,
}

impl UserState {
    /// The API's spelling (`active`, `inactive`, `deleted`).
    pub fn as_str(&self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
            UserState::Deleted => "deleted",
            UserState::Unknown => "unknown",
        }
    }
}

/// A reference to another entity: `{id, name?, selfUri?}` (e.g. a user's manager or division).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityRef {
    /// Entity id.
    pub id: String,
    /// Name, when expanded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// URI of the entity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// A phone number, email address or extension of a user (`Contact`).
///
/// `media_type` is `PHONE`, `EMAIL` or `SMS`; `type` is `PRIMARY`, `WORK`, `WORK2`…`WORK4`, `HOME`, `MOBILE`,
/// `MAIN` or `OTHER`. `address` and `extension` are mutually exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Email address or phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Formatted version of `address` (set by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// `PHONE`, `EMAIL` or `SMS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// `WORK`, `HOME`, `MOBILE`, …
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    /// Internal extension, instead of `address`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<String>,
    /// Country code of a phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Integration tag of a number that belongs to an external integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
}

impl Contact {
    /// `mediaType` of phone numbers.
    pub const PHONE: &'static str = "PHONE";
    /// `mediaType` of email addresses.
    pub const EMAIL: &'static str = "EMAIL";
    /// `mediaType` of SMS numbers.
    pub const SMS: &'static str = "SMS";
    /// `type` of work contacts.
    pub const WORK: &'static str = "WORK";

    /// A work phone number (`PHONE`/`WORK` with `address`).
    pub fn work_phone(number: impl Into<String>) -> Self {
        Self {
            address: Some(number.into()),
            media_type: Some(Self::PHONE.into()),
            contact_type: Some(Self::WORK.into()),
            ..Self::default()
        }
    }

    /// A work extension (`PHONE`/`WORK` with `extension`).
    pub fn work_extension(extension: impl Into<String>) -> Self {
        Self {
            extension: Some(extension.into()),
            media_type: Some(Self::PHONE.into()),
            contact_type: Some(Self::WORK.into()),
            ..Self::default()
        }
    }

    /// True when this entry has the given media type and type (case-insensitive).
    pub fn is(&self, media_type: &str, contact_type: &str) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(media_type))
            && self
                .contact_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(contact_type))
    }
}

/// A routing skill as assigned to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoutingSkill {
    /// Skill id.
    pub id: String,
    /// Skill name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 0.0–5.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proficiency: Option<f64>,
    /// `active`, `inactive` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// URI of the organisation skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_uri: Option<String>,
    /// URI of this assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// A routing language as assigned to a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoutingLanguage {
    /// Language id.
    pub id: String,
    /// Language name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 0.0–5.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proficiency: Option<f64>,
    /// `active`, `inactive` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// URI of the organisation language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_uri: Option<String>,
    /// URI of this assignment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// A Genesys Cloud user (`User`), with the fields gcbulk reads; other fields are ignored.
///
/// `id` is required here although the API model marks it optional: a user without an id cannot be updated,
/// so such a response is treated as undecodable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id.
    pub id: String,
    /// Current version; send it back in [`UpdateUser::version`].
    pub version: i64,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email (also the login name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Preferred full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    /// Phone numbers, emails and extensions; one entry per media type and type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<Contact>>,
    /// Primary contacts, derived by the server from `addresses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_contact_info: Option<Vec<Contact>>,
    /// Manager (a user reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<EntityRef>,
    /// Division the user belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<EntityRef>,
    /// State.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// ACD auto-answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acd_auto_answer: Option<bool>,
    /// Routing skills (only with `expand=skills`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<UserRoutingSkill>>,
    /// Routing languages (only with `expand=languages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<UserRoutingLanguage>>,
    /// Profile skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_skills: Option<Vec<String>>,
    /// Certifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifications: Option<Vec<String>>,
    /// Preferred language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_preference: Option<String>,
    /// URI of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

impl User {
    /// The manager's user id, if the user has a manager.
    pub fn manager_id(&self) -> Option<&str> {
        self.manager.as_ref().map(|m| m.id.as_str())
    }

    /// The first address entry with this media type and type (e.g. `PHONE`, `WORK`).
    pub fn address(&self, media_type: &str, contact_type: &str) -> Option<&Contact> {
        self.addresses
            .as_deref()
            .unwrap_or_default()
            .iter()
            .find(|c| c.is(media_type, contact_type))
    }
}

/// The body of `PATCH /api/v2/users/{userId}` (`UpdateUser`): only the fields that are `Some` are sent.
///
/// `state`, when set, must be the only change of its PATCH (the API ignores the others).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    /// The user's current version, from a GET just before.
    pub version: i64,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Preferred full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_name: Option<String>,
    /// The complete list of addresses (whether the API merges or replaces is unconfirmed: send them all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<Contact>>,
    /// The manager's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// New state; alone in its PATCH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UserState>,
    /// ACD auto-answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acd_auto_answer: Option<bool>,
    /// Profile skills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_skills: Option<Vec<String>>,
    /// Certifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certifications: Option<Vec<String>>,
}

impl UpdateUser {
    /// An update of the user at `version` that changes nothing yet.
    pub fn new(version: i64) -> Self {
        Self {
            version,
            ..Self::default()
        }
    }
}

/// One entry of `PATCH /api/v2/users/bulk` (`PatchUser`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchUser {
    /// User id.
    pub id: String,
    /// New ACD auto-answer value.
    pub acd_auto_answer: bool,
}

/// A routing skill to assign to a user (`UserRoutingSkillPost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoutingSkillPost {
    /// Id of an existing organisation skill.
    pub id: String,
    /// 0.0–5.0.
    pub proficiency: f64,
}

/// A routing language to assign to a user (`UserRoutingLanguagePost`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRoutingLanguagePost {
    /// Id of an existing organisation language.
    pub id: String,
    /// 0.0–5.0.
    pub proficiency: f64,
}

/// An organisation routing skill (`RoutingSkill`, from `GET /api/v2/routing/skills`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingSkill {
    /// Skill id.
    pub id: String,
    /// Skill name.
    #[serde(default)]
    pub name: String,
    /// `active`, `inactive` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Last change, ISO-8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    /// URI of the skill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// An organisation routing language (`Language`, from `GET /api/v2/routing/languages`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingLanguage {
    /// Language id.
    pub id: String,
    /// Language name.
    #[serde(default)]
    pub name: String,
    /// `active`, `inactive` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Last change, ISO-8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    /// URI of the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_uri: Option<String>,
}

/// A page of entities (`UserEntityListing`, `SkillEntityListing`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityListing<T> {
    /// The entities of this page.
    #[serde(default = "Vec::new")]
    pub entities: Vec<T>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// 1-based page number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_number: Option<u32>,
    /// Total entities over all pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Number of pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_count: Option<u32>,
}

/// `POST /api/v2/users/search` request (`UserSearchRequest`), limited to what gcbulk sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSearchRequest {
    /// Results per page.
    pub page_size: u32,
    /// 1-based page.
    pub page_number: u32,
    /// Criteria, all of which must match.
    pub query: Vec<UserSearchCriteria>,
}

/// One search criterion (`UserSearchCriteria`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSearchCriteria {
    /// `EXACT`, `STARTS_WITH`, `CONTAINS`, …
    #[serde(rename = "type")]
    pub criteria_type: String,
    /// Fields to match.
    pub fields: Vec<String>,
    /// Values, any of which may match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// `POST /api/v2/users/search` response (`UsersSearchResponse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersSearchResponse {
    /// Total matches.
    #[serde(default)]
    pub total: u64,
    /// Number of pages.
    #[serde(default)]
    pub page_count: u32,
    /// Page size.
    #[serde(default)]
    pub page_size: u32,
    /// 1-based page number.
    #[serde(default)]
    pub page_number: u32,
    /// Matches of this page (absent when there are none).
    #[serde(default = "Vec::new")]
    pub results: Vec<User>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn user_decodes_current_field_names_and_ignores_unknown_ones() {
        let json = r#"{
            "id":"u1","name":"Ada Lovelace","email":"ada@example.com","title":"Engineer","department":"R&D",
            "preferredName":"Ada","state":"active","acdAutoAnswer":false,"version":7,
            "manager":{"id":"m1","selfUri":"/api/v2/users/m1"},
            "division":{"id":"d1","name":"Home"},
            "addresses":[{"address":"+15551234","display":"(555) 1234","mediaType":"PHONE","type":"WORK","countryCode":"US"},
                         {"extension":"1234","mediaType":"PHONE","type":"WORK2"}],
            "primaryContactInfo":[{"address":"ada@example.com","mediaType":"EMAIL","type":"PRIMARY"}],
            "presence":{"whatever":1},"routingStatus":{"status":"OFF_QUEUE"},"selfUri":"/api/v2/users/u1"
        }"#;
        let user: User = serde_json::from_str(json).unwrap();
        assert_eq!(user.id, "u1");
        assert_eq!(user.version, 7);
        assert_eq!(user.manager_id(), Some("m1"));
        assert_eq!(user.state, Some(UserState::Active));
        assert_eq!(user.acd_auto_answer, Some(false));
        assert_eq!(user.preferred_name.as_deref(), Some("Ada"));
        let phone = user.address(Contact::PHONE, Contact::WORK).unwrap();
        assert_eq!(phone.address.as_deref(), Some("+15551234"));
        assert_eq!(phone.country_code.as_deref(), Some("US"));
        assert_eq!(
            user.address("phone", "work2").unwrap().extension.as_deref(),
            Some("1234")
        );
    }

    #[test]
    fn unknown_state_does_not_break_decoding() {
        let user: User =
            serde_json::from_str(r#"{"id":"u","version":1,"state":"suspended"}"#).unwrap();
        assert_eq!(user.state, Some(UserState::Unknown));
    }

    #[test]
    fn update_user_sends_only_what_is_set() {
        let mut update = UpdateUser::new(3);
        update.title = Some("Lead".into());
        update.manager = Some("m2".into());
        update.addresses = Some(vec![Contact::work_phone("+3312345")]);
        let json = serde_json::to_value(&update).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "version": 3, "title": "Lead", "manager": "m2",
                "addresses": [{"address": "+3312345", "mediaType": "PHONE", "type": "WORK"}]
            })
        );
        let state_only = UpdateUser {
            state: Some(UserState::Inactive),
            ..UpdateUser::new(4)
        };
        assert_eq!(
            serde_json::to_value(&state_only).unwrap(),
            serde_json::json!({"version": 4, "state": "inactive"})
        );
    }

    #[test]
    fn bulk_and_search_bodies_use_api_names() {
        let patch = PatchUser {
            id: "u1".into(),
            acd_auto_answer: true,
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"id":"u1","acdAutoAnswer":true})
        );
        let req = UserSearchRequest {
            page_size: 2,
            page_number: 1,
            query: vec![UserSearchCriteria {
                criteria_type: "EXACT".into(),
                fields: vec!["email".into()],
                values: vec!["a@b.c".into(), "d@e.f".into()],
            }],
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            serde_json::json!({"pageSize":2,"pageNumber":1,
                "query":[{"type":"EXACT","fields":["email"],"values":["a@b.c","d@e.f"]}]})
        );
    }

    #[test]
    fn empty_search_response_decodes() {
        let r: UsersSearchResponse = serde_json::from_str(
            r#"{"total":0,"pageCount":0,"pageSize":25,"pageNumber":1,"types":["users"]}"#,
        )
        .unwrap();
        assert!(r.results.is_empty());
    }
}
