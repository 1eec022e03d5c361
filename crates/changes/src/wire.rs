//! The JSON form of a [`UserChange`]: one flat object, written and read through mirror structs so
//! that serialising borrows (no copies on the producer's hot path) and decoding refuses unknown
//! members (what `#[serde(flatten)]` cannot combine with `deny_unknown_fields`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FieldChanges, ManagerRef, UserChange, UserKey, UserState};

#[derive(Serialize)]
struct WireRef<'a> {
    line: u64,
    key: &'a UserKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    department: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_work: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extension: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manager: Option<&'a ManagerRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<UserState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acd_auto_answer: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    line: u64,
    key: UserKey,
    name: Option<String>,
    title: Option<String>,
    department: Option<String>,
    new_email: Option<String>,
    phone_work: Option<String>,
    extension: Option<String>,
    manager: Option<ManagerRef>,
    state: Option<UserState>,
    acd_auto_answer: Option<bool>,
}

impl Serialize for UserChange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = &self.set;
        WireRef {
            line: self.line,
            key: &self.key,
            name: s.name.as_deref(),
            title: s.title.as_deref(),
            department: s.department.as_deref(),
            new_email: s.email.as_deref(),
            phone_work: s.phone_work.as_deref(),
            extension: s.extension.as_deref(),
            manager: s.manager.as_ref(),
            state: s.state,
            acd_auto_answer: s.acd_auto_answer,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for UserChange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(deserializer)?;
        Ok(UserChange {
            line: w.line,
            key: w.key,
            set: FieldChanges {
                name: w.name,
                title: w.title,
                department: w.department,
                email: w.new_email,
                phone_work: w.phone_work,
                extension: w.extension,
                manager: w.manager,
                state: w.state,
                acd_auto_answer: w.acd_auto_answer,
            },
        })
    }
}
