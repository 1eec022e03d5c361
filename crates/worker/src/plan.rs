//! The diff: what must be written to make a user match a change, and nothing more.
//!
//! Writing only what differs is what makes gcbulk cheap (a matching row costs no write at all) and what makes a
//! redelivered chunk harmless: applying a plan to a user that already matches yields an empty plan. The plan is
//! split the way the API needs it: profile fields in one `PATCH /users/{id}`, `state` in a PATCH of its own
//! ("if specified, it is the only modifiable field"), `acdAutoAnswer` through `PATCH /users/bulk`.

use gcbulk_changes::{FieldChanges, UserState as WantedState};
use genesys::{Contact, UpdateUser, User, UserState};

/// The writes one change needs against one user's current state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Profile fields to PATCH (its `version` is filled in when it is sent).
    pub profile: Option<UpdateUser>,
    /// A state change, sent alone.
    pub state: Option<UserState>,
    /// An ACD auto-answer change, sent through the bulk endpoint.
    pub acd_auto_answer: Option<bool>,
}

impl Plan {
    /// True when the user already matches the change: nothing is sent.
    pub fn is_empty(&self) -> bool {
        self.profile.is_none() && self.state.is_none() && self.acd_auto_answer.is_none()
    }
}

/// Compares `wanted` with `user`. `manager_id` is the resolved id of the wanted manager (the worker resolves a
/// manager given by email before planning).
pub fn plan(wanted: &FieldChanges, user: &User, manager_id: Option<&str>) -> Plan {
    let mut update = UpdateUser::new(user.version);
    let mut changed = false;

    let mut set_text =
        |target: &mut Option<String>, want: &Option<String>, have: &Option<String>| {
            if let Some(want) = want
                && have.as_deref() != Some(want.as_str())
            {
                *target = Some(want.clone());
                changed = true;
            }
        };
    set_text(&mut update.name, &wanted.name, &user.name);
    set_text(&mut update.title, &wanted.title, &user.title);
    set_text(&mut update.department, &wanted.department, &user.department);

    // Email addresses compare case-insensitively: the API treats them so, and a case-only "change" would cost a
    // write that changes nothing a user can see.
    if let Some(email) = &wanted.email
        && !user
            .email
            .as_deref()
            .is_some_and(|have| have.eq_ignore_ascii_case(email))
    {
        update.email = Some(email.clone());
        changed = true;
    }

    if let Some(manager) = manager_id
        && user.manager_id() != Some(manager)
    {
        update.manager = Some(manager.to_string());
        changed = true;
    }

    if let Some(addresses) = plan_addresses(wanted, user) {
        update.addresses = Some(addresses);
        changed = true;
    }

    let state = wanted
        .state
        .map(to_api_state)
        .filter(|want| user.state != Some(*want));
    let acd_auto_answer = wanted
        .acd_auto_answer
        .filter(|want| user.acd_auto_answer != Some(*want));
    Plan {
        profile: changed.then_some(update),
        state,
        acd_auto_answer,
    }
}

fn to_api_state(state: WantedState) -> UserState {
    match state {
        WantedState::Active => UserState::Active,
        WantedState::Inactive => UserState::Inactive,
    }
}

/// The complete new `addresses` list when the work phone or extension must change, else `None`.
///
/// Whether the API merges or replaces `addresses` is unconfirmed, so the whole list is sent with every other
/// entry kept as it is. A `Contact` holds an `address` *or* an `extension` ("mutually exclusive"), and a user has
/// one entry per media type and type, so the work phone is the `PHONE`/`WORK` entry's `address`, and the
/// extension goes to `PHONE`/`WORK` when that entry holds no number, else to `PHONE`/`WORK2`
/// (docs/decisions/0003-diff-before-write.md).
fn plan_addresses(wanted: &FieldChanges, user: &User) -> Option<Vec<Contact>> {
    let current = user.addresses.clone().unwrap_or_default();
    let phone_differs = wanted.phone_work.as_deref().is_some_and(|want| {
        !current.iter().any(|c| {
            c.is(Contact::PHONE, Contact::WORK)
                && same_number(c.address.as_deref().unwrap_or(""), want)
        })
    });
    let extension_differs = wanted.extension.as_deref().is_some_and(|want| {
        !current
            .iter()
            .any(|c| is_phone(c) && c.extension.as_deref() == Some(want))
    });
    if !phone_differs && !extension_differs {
        return None;
    }
    let mut next = current;
    if phone_differs && let Some(number) = &wanted.phone_work {
        replace_or_push(
            &mut next,
            |c| c.is(Contact::PHONE, Contact::WORK),
            Contact::work_phone(number.clone()),
        );
    }
    if extension_differs && let Some(extension) = &wanted.extension {
        let work_holds_number = next
            .iter()
            .any(|c| c.is(Contact::PHONE, Contact::WORK) && c.address.is_some());
        let slot = if work_holds_number {
            WORK2
        } else {
            Contact::WORK
        };
        let entry = Contact {
            contact_type: Some(slot.to_owned()),
            ..Contact::work_extension(extension.clone())
        };
        replace_or_push(&mut next, |c| c.is(Contact::PHONE, slot), entry);
    }
    Some(next)
}

/// The second work number's `type`, where an extension goes when the work number is taken.
const WORK2: &str = "WORK2";

fn is_phone(contact: &Contact) -> bool {
    contact
        .media_type
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case(Contact::PHONE))
}

fn replace_or_push(list: &mut Vec<Contact>, matches: impl Fn(&Contact) -> bool, entry: Contact) {
    match list.iter_mut().find(|c| matches(c)) {
        Some(slot) => *slot = entry,
        None => list.push(entry),
    }
}

/// Phone numbers compare by their digits (and a leading `+`): the API stores `+13175550123` for an input of
/// `+1 (317) 555-0123`, and that is no change.
fn same_number(have: &str, want: &str) -> bool {
    fn canonical(number: &str) -> String {
        let trimmed = number.trim();
        let plus = if trimmed.starts_with('+') { "+" } else { "" };
        format!(
            "{plus}{}",
            trimmed
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        )
    }
    canonical(have) == canonical(want)
}

#[cfg(test)]
mod tests {
    use super::*;
    use genesys::EntityRef;

    fn user() -> User {
        serde_json::from_value(serde_json::json!({
            "id": "u1", "version": 7, "name": "Ana", "email": "Ana@Example.com", "title": "Agent",
            "department": "Sales", "state": "active", "acdAutoAnswer": false,
            "manager": { "id": "m1" },
            "addresses": [
                { "mediaType": "PHONE", "type": "WORK", "address": "+13175550123" },
                { "mediaType": "PHONE", "type": "WORK2", "extension": "100" },
                { "mediaType": "SMS", "type": "MOBILE", "address": "+13175559999" }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_matching_row_plans_nothing() {
        let wanted = FieldChanges {
            name: Some("Ana".into()),
            email: Some("ana@example.com".into()),
            title: Some("Agent".into()),
            phone_work: Some("+1 (317) 555-0123".into()),
            extension: Some("100".into()),
            state: Some(WantedState::Active),
            acd_auto_answer: Some(false),
            ..FieldChanges::default()
        };
        assert!(plan(&wanted, &user(), Some("m1")).is_empty());
    }

    #[test]
    fn only_the_differing_fields_are_sent_with_the_version_read() {
        let wanted = FieldChanges {
            title: Some("Lead".into()),
            department: Some("Sales".into()),
            ..Default::default()
        };
        let plan = plan(&wanted, &user(), None);
        let profile = plan.profile.unwrap();
        assert_eq!(profile.version, 7);
        assert_eq!(profile.title.as_deref(), Some("Lead"));
        assert_eq!(profile.department, None);
        assert_eq!(profile.name, None);
        assert_eq!(plan.state, None);
    }

    #[test]
    fn state_and_acd_are_planned_apart_from_the_profile() {
        let wanted = FieldChanges {
            state: Some(WantedState::Inactive),
            acd_auto_answer: Some(true),
            ..FieldChanges::default()
        };
        let plan = plan(&wanted, &user(), None);
        assert_eq!(plan.profile, None);
        assert_eq!(plan.state, Some(UserState::Inactive));
        assert_eq!(plan.acd_auto_answer, Some(true));
    }

    #[test]
    fn a_new_work_phone_replaces_only_that_entry_and_keeps_the_rest() {
        let wanted = FieldChanges {
            phone_work: Some("+44 20 7946 0000".into()),
            ..Default::default()
        };
        let addresses = plan(&wanted, &user(), None)
            .profile
            .unwrap()
            .addresses
            .unwrap();
        assert_eq!(addresses.len(), 3);
        assert_eq!(addresses[0].address.as_deref(), Some("+44 20 7946 0000"));
        assert_eq!(addresses[1].extension.as_deref(), Some("100"));
        assert_eq!(addresses[2].address.as_deref(), Some("+13175559999"));
    }

    #[test]
    fn an_extension_is_added_when_the_user_has_none() {
        let mut user = user();
        user.addresses = None;
        let wanted = FieldChanges {
            extension: Some("4711".into()),
            ..Default::default()
        };
        let addresses = plan(&wanted, &user, None)
            .profile
            .unwrap()
            .addresses
            .unwrap();
        assert_eq!(addresses, vec![Contact::work_extension("4711")]);
    }

    #[test]
    fn an_extension_beside_a_work_number_goes_to_the_second_work_slot() {
        let mut user = user();
        user.addresses = Some(vec![Contact::work_phone("+13175550123")]);
        let wanted = FieldChanges {
            extension: Some("4711".into()),
            ..Default::default()
        };
        let addresses = plan(&wanted, &user, None)
            .profile
            .unwrap()
            .addresses
            .unwrap();
        assert_eq!(addresses.len(), 2);
        assert_eq!(addresses[0], Contact::work_phone("+13175550123"));
        assert_eq!(addresses[1].contact_type.as_deref(), Some("WORK2"));
        assert_eq!(addresses[1].extension.as_deref(), Some("4711"));
        assert_eq!(addresses[1].address, None);
    }

    #[test]
    fn a_different_manager_is_planned_by_id() {
        let plan = plan(&FieldChanges::default(), &user(), Some("m2"));
        assert_eq!(plan.profile.unwrap().manager.as_deref(), Some("m2"));
        let mut managed_by_nobody = user();
        managed_by_nobody.manager = None::<EntityRef>;
        assert!(super::plan(&FieldChanges::default(), &managed_by_nobody, None).is_empty());
    }
}
