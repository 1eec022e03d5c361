//! Parsing and checking an `UpdateUser` body (`PATCH /api/v2/users/{userId}`) and its `Contact`s.
//!
//! What the real API states and the look-alike enforces: `version` is required; when `state` is present it
//! must be the only modifiable field; enums (`state`, `Contact.mediaType`, `Contact.type`) accept only their
//! values (400 `invalid.value`); a Contact has `address` or `extension`, not both. What the look-alike adds
//! (unconfirmed for the real API, chosen strict): unknown fields are refused, at most one address per
//! (mediaType, type), `name` must not be empty, `email` must contain `@`. `null` counts as absent.

use serde_json::{Map, Value};

use super::{reject_unknown, wrong_type};
use crate::error::ApiError;
use crate::store::{Contact, State};

/// Every property of `UpdateUser` (SDK 257.1.0).
pub(crate) const UPDATE_USER_FIELDS: [&str; 22] = [
    "id",
    "name",
    "chat",
    "department",
    "email",
    "primaryContactInfo",
    "addresses",
    "title",
    "username",
    "preferredName",
    "manager",
    "images",
    "version",
    "profileSkills",
    "locations",
    "groups",
    "state",
    "acdAutoAnswer",
    "certifications",
    "biography",
    "employerInfo",
    "selfUri",
];

/// Properties that do not count as "modifiable" for the state-only rule.
const NOT_MODIFIABLE: [&str; 3] = ["version", "id", "selfUri"];

/// Fields stored and echoed as given: (name, expected JSON shape).
const OPAQUE: [(&str, Shape); 8] = [
    ("chat", Shape::Object),
    ("biography", Shape::Object),
    ("employerInfo", Shape::Object),
    ("images", Shape::Array),
    ("locations", Shape::Array),
    ("groups", Shape::Array),
    ("profileSkills", Shape::Strings),
    ("certifications", Shape::Strings),
];

#[derive(Clone, Copy)]
enum Shape {
    Object,
    Array,
    Strings,
}

const CONTACT_FIELDS: [&str; 7] = [
    "address",
    "display",
    "mediaType",
    "type",
    "extension",
    "countryCode",
    "integration",
];

/// What a PATCH asks to change.
#[derive(Debug, Default)]
pub(crate) struct Update {
    pub version: u64,
    pub name: Option<String>,
    pub email: Option<String>,
    /// `Some(None)` clears the field (an empty string).
    pub title: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub preferred_name: Option<Option<String>>,
    pub addresses: Option<Vec<Contact>>,
    /// `Some(None)` removes the manager (an empty string).
    pub manager: Option<Option<String>>,
    pub state: Option<State>,
    pub acd_auto_answer: Option<bool>,
    pub opaque: Vec<(&'static str, Value)>,
}

fn string(field: &str, value: &Value) -> Result<String, ApiError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| wrong_type(field, "a string", value))
}

fn optional_string(field: &str, value: &Value) -> Result<Option<String>, ApiError> {
    let s = string(field, value)?;
    Ok((!s.is_empty()).then_some(s))
}

/// Parses an `UpdateUser` body.
pub(crate) fn parse_update(body: &Value) -> Result<Update, ApiError> {
    let Value::Object(object) = body else {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object (UpdateUser)",
        ));
    };
    reject_unknown(object, &UPDATE_USER_FIELDS, "UpdateUser")?;
    let present = |key: &str| object.get(key).filter(|v| !v.is_null());

    let version = match present("version") {
        None => {
            return Err(ApiError::bad_request(
                "version is required: send the user's current version",
            ));
        }
        Some(v) => v
            .as_u64()
            .ok_or_else(|| wrong_type("version", "a non-negative integer", v))?,
    };
    let mut update = Update {
        version,
        ..Update::default()
    };

    if let Some(v) = present("state") {
        let s = string("state", v)?;
        let state =
            State::parse(&s).ok_or_else(|| ApiError::invalid_value(&s, "state", &State::NAMES))?;
        if let Some(other) = object.iter().find(|(k, v)| {
            !v.is_null() && k.as_str() != "state" && !NOT_MODIFIABLE.contains(&k.as_str())
        }) {
            return Err(ApiError::bad_request(format!(
                "If state is specified, it is the only modifiable field; [{}] must be sent in a separate request",
                other.0
            )));
        }
        update.state = Some(state);
        return Ok(update);
    }

    if let Some(v) = present("name") {
        let name = string("name", v)?;
        if name.trim().is_empty() {
            return Err(ApiError::bad_request("name must not be empty"));
        }
        update.name = Some(name);
    }
    if let Some(v) = present("email") {
        let email = string("email", v)?;
        if !valid_email(&email) {
            return Err(ApiError::bad_request(format!(
                "email [{email}] is not a valid email address"
            )));
        }
        update.email = Some(email);
    }
    if let Some(v) = present("title") {
        update.title = Some(optional_string("title", v)?);
    }
    if let Some(v) = present("department") {
        update.department = Some(optional_string("department", v)?);
    }
    if let Some(v) = present("preferredName") {
        update.preferred_name = Some(optional_string("preferredName", v)?);
    }
    if let Some(v) = present("manager") {
        update.manager = Some(optional_string("manager", v)?);
    }
    if let Some(v) = present("acdAutoAnswer") {
        update.acd_auto_answer = Some(
            v.as_bool()
                .ok_or_else(|| wrong_type("acdAutoAnswer", "a boolean", v))?,
        );
    }
    if let Some(v) = present("addresses") {
        update.addresses = Some(parse_contacts("addresses", v)?);
    }
    if let Some(v) = present("primaryContactInfo") {
        // Derived from email and addresses by the server; checked for shape, otherwise ignored.
        parse_contacts("primaryContactInfo", v)?;
    }
    for (key, v) in ["id", "selfUri", "username"]
        .iter()
        .filter_map(|k| present(k).map(|v| (*k, v)))
    {
        string(key, v)?;
    }
    for (key, shape) in OPAQUE {
        if let Some(v) = present(key) {
            check_shape(key, shape, v)?;
            update.opaque.push((key, v.clone()));
        }
    }
    Ok(update)
}

fn check_shape(key: &str, shape: Shape, value: &Value) -> Result<(), ApiError> {
    match (shape, value) {
        (Shape::Object, Value::Object(_)) | (Shape::Array, Value::Array(_)) => Ok(()),
        (Shape::Strings, Value::Array(items)) if items.iter().all(Value::is_string) => Ok(()),
        (Shape::Object, _) => Err(wrong_type(key, "an object", value)),
        (Shape::Array, _) => Err(wrong_type(key, "an array", value)),
        (Shape::Strings, _) => Err(wrong_type(key, "an array of strings", value)),
    }
}

fn valid_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Parses a list of `Contact`s.
pub(crate) fn parse_contacts(field: &str, value: &Value) -> Result<Vec<Contact>, ApiError> {
    let Value::Array(items) = value else {
        return Err(wrong_type(field, "an array of Contact", value));
    };
    let mut contacts: Vec<Contact> = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(object) = item else {
            return Err(wrong_type(field, "an array of Contact", value));
        };
        let contact = parse_contact(object)?;
        if contacts
            .iter()
            .any(|c| c.media_type == contact.media_type && c.kind == contact.kind)
        {
            return Err(ApiError::bad_request(format!(
                "{field} has more than one {} {} entry; one entry is allowed per media type and type",
                contact.media_type, contact.kind
            )));
        }
        contacts.push(contact);
    }
    Ok(contacts)
}

fn parse_contact(object: &Map<String, Value>) -> Result<Contact, ApiError> {
    reject_unknown(object, &CONTACT_FIELDS, "Contact")?;
    let text = |key: &str| -> Result<Option<String>, ApiError> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => optional_string(key, v),
        }
    };
    let media_type =
        text("mediaType")?.ok_or_else(|| ApiError::bad_request("Contact.mediaType is required"))?;
    let media_type = Contact::MEDIA_TYPES
        .into_iter()
        .find(|m| *m == media_type)
        .ok_or_else(|| ApiError::invalid_value(&media_type, "mediaType", &Contact::MEDIA_TYPES))?;
    let kind = text("type")?.ok_or_else(|| ApiError::bad_request("Contact.type is required"))?;
    let kind = Contact::TYPES
        .into_iter()
        .find(|t| *t == kind)
        .ok_or_else(|| ApiError::invalid_value(&kind, "type", &Contact::TYPES))?;
    let address = text("address")?;
    let extension = text("extension")?;
    match (&address, &extension) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Contact.address and Contact.extension are mutually exclusive",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "Contact needs an address or an extension",
            ));
        }
        _ => {}
    }
    if media_type == "EMAIL" && address.as_deref().is_some_and(|a| !valid_email(a)) {
        return Err(ApiError::bad_request(
            "an EMAIL Contact's address must be an email address",
        ));
    }
    Ok(Contact {
        display: address.clone().or_else(|| extension.clone()),
        address,
        media_type,
        kind,
        extension,
        country_code: text("countryCode")?,
        integration: text("integration")?,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn state_must_travel_alone() {
        assert!(parse_update(&json!({"version": 3, "state": "inactive"})).is_ok());
        let err = parse_update(&json!({"version": 3, "state": "inactive", "title": "x"})).err();
        assert_eq!(err.map(|e| e.body.code), Some("bad.request"));
        let err = parse_update(&json!({"version": 3, "state": "asleep"})).err();
        assert_eq!(err.map(|e| e.body.code), Some("invalid.value"));
    }

    #[test]
    fn version_is_required_and_unknown_fields_are_refused() {
        assert!(parse_update(&json!({"name": "A"})).is_err());
        assert!(parse_update(&json!({"version": 1, "nickname": "A"})).is_err());
        assert!(parse_update(&json!({"version": 1, "name": "A", "title": ""})).is_ok());
    }

    #[test]
    fn contacts_are_checked() {
        let ok = json!([{"mediaType": "PHONE", "type": "WORK", "address": "+13175550100"}]);
        assert_eq!(
            parse_contacts("addresses", &ok).map(|c| c.len()).ok(),
            Some(1)
        );
        let both =
            json!([{"mediaType": "PHONE", "type": "WORK", "address": "+1", "extension": "12"}]);
        assert!(parse_contacts("addresses", &both).is_err());
        let twice = json!([
            {"mediaType": "PHONE", "type": "WORK", "address": "+1"},
            {"mediaType": "PHONE", "type": "WORK", "extension": "12"}
        ]);
        assert!(parse_contacts("addresses", &twice).is_err());
        let bad_enum = json!([{"mediaType": "FAX", "type": "WORK", "address": "+1"}]);
        let err = parse_contacts("addresses", &bad_enum).err();
        assert_eq!(err.map(|e| e.body.code), Some("invalid.value"));
    }
}
