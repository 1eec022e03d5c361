//! The seeded organisation: who the users are, derivable from their number so tests can address them without
//! asking the server first.
//!
//! Users are numbered `1..=N`. For user `i`:
//!
//! | what | value |
//! |---|---|
//! | id | [`user_id`]: `00000000-0000-4000-8000-` + `i` in 12 decimal digits, e.g. `00000000-0000-4000-8000-000000000042` |
//! | email (and username) | [`user_email`]: `user{i}@example.com` |
//! | external id | [`external_key`]: `ext-{i}` under the configured authority |
//! | manager | user `max(1, i / 10)` for `i ≥ 2`; user 1 has none (so users 1–N/10 are managers) |
//! | state | `inactive` when `i` is a multiple of 50, else `active` |
//! | work phone | `addresses` PHONE/WORK `+1317` + `i` in 7 digits (e.g. `+13170000042`) |
//! | name, title, department, acdAutoAnswer, version (1–9), skills (0–3), languages (0–2) | drawn from `seed` and `i` |
//!
//! Routing skills are `Skill 0` … `Skill 9` ([`SKILL_NAMES`], ids from [`skill_id`]); routing languages are
//! [`LANGUAGE_NAMES`] (ids from [`language_id`]). Everything is a pure function of `(seed, i)`, stable across
//! releases of this crate's dependencies (it uses its own splitmix64, not a library RNG).
//!
//! ```
//! assert_eq!(genesys_mock::seed::user_id(42), "00000000-0000-4000-8000-000000000042");
//! assert_eq!(genesys_mock::seed::user_email(42), "user42@example.com");
//! assert_eq!(genesys_mock::seed::user_index("00000000-0000-4000-8000-000000000042"), Some(42));
//! ```

use std::collections::BTreeMap;

use crate::store::{Contact, State, UserRec};

/// Names of the routing skills in the catalogue; skill `k` has id [`skill_id`]`(k)`.
pub const SKILL_NAMES: [&str; 10] = [
    "Skill 0", "Skill 1", "Skill 2", "Skill 3", "Skill 4", "Skill 5", "Skill 6", "Skill 7",
    "Skill 8", "Skill 9",
];

/// Names of the routing languages in the catalogue; language `k` has id [`language_id`]`(k)`.
pub const LANGUAGE_NAMES: [&str; 5] = ["English", "French", "German", "Spanish", "Dutch"];

/// Id of the one division every user belongs to.
pub const DIVISION_ID: &str = "00000000-0000-4000-9000-000000000001";
/// Name of that division.
pub const DIVISION_NAME: &str = "Home";

const USER_ID_PREFIX: &str = "00000000-0000-4000-8000-";

/// Id of seeded user `index` (1-based).
pub fn user_id(index: usize) -> String {
    format!("{USER_ID_PREFIX}{index:012}")
}

/// The user number an id of the seeded form stands for, if it has that form.
pub fn user_index(id: &str) -> Option<usize> {
    let digits = id.strip_prefix(USER_ID_PREFIX)?;
    if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Email (and username) of seeded user `index`.
pub fn user_email(index: usize) -> String {
    format!("user{index}@example.com")
}

/// External key of seeded user `index` under the configured authority.
pub fn external_key(index: usize) -> String {
    format!("ext-{index}")
}

/// Work phone number of seeded user `index`.
pub fn work_phone(index: usize) -> String {
    format!("+1317{:07}", index % 10_000_000)
}

/// Id of catalogue skill `k` (`Skill k`).
pub fn skill_id(k: usize) -> String {
    format!("00000000-0000-4000-a000-{k:012}")
}

/// Id of catalogue language `k` ([`LANGUAGE_NAMES`]`[k]`).
pub fn language_id(k: usize) -> String {
    format!("00000000-0000-4000-b000-{k:012}")
}

/// Manager number of seeded user `index`, if it has one.
pub fn manager_index(index: usize) -> Option<usize> {
    (index >= 2).then(|| (index / 10).max(1))
}

/// Whether seeded user `index` starts inactive.
pub fn starts_inactive(index: usize) -> bool {
    index.is_multiple_of(50)
}

const FIRST_NAMES: [&str; 16] = [
    "Ada", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara",
    "Liam", "Maya", "Noah", "Olga", "Priya",
];
const LAST_NAMES: [&str; 16] = [
    "Andersen", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
    "Jansen", "Kowalski", "Lopez", "Martin", "Nakamura", "Okafor", "Peters",
];
const TITLES: [&str; 6] = [
    "Agent",
    "Senior Agent",
    "Team Lead",
    "Supervisor",
    "Analyst",
    "Trainer",
];
const DEPARTMENTS: [&str; 6] = [
    "Sales",
    "Support",
    "Billing",
    "Retention",
    "Operations",
    "Onboarding",
];

/// splitmix64: a tiny, well-mixed, dependency-free hash, so seeded data never changes with a library upgrade.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A deterministic draw for `(seed, index, what)`.
fn draw(seed: u64, index: usize, what: u64) -> u64 {
    mix(seed ^ mix((index as u64).wrapping_mul(0x1000_0000_01b3) ^ mix(what)))
}

fn pick<'a>(list: &[&'a str], value: u64) -> &'a str {
    let len = list.len().max(1) as u64;
    list.get((value % len) as usize)
        .copied()
        .unwrap_or_default()
}

/// Picks `count` distinct catalogue entries out of `size`, with proficiencies 1–5.
fn pick_distinct(
    seed: u64,
    index: usize,
    what: u64,
    count: usize,
    size: usize,
) -> Vec<(usize, f64)> {
    let mut chosen: Vec<(usize, f64)> = Vec::with_capacity(count);
    let mut attempt = 0u64;
    while chosen.len() < count.min(size) {
        let k = (draw(seed, index, what + attempt) % size as u64) as usize;
        attempt += 1;
        if chosen.iter().all(|(c, _)| *c != k) {
            let proficiency = (1 + draw(seed, index, what + 100 + attempt) % 5) as f64;
            chosen.push((k, proficiency));
        }
    }
    chosen.sort_by_key(|(k, _)| *k);
    chosen
}

/// Seeded user `index` (1-based) of an organisation with authority `authority`.
pub(crate) fn user(seed: u64, index: usize, authority: &str) -> UserRec {
    let email = user_email(index);
    let name = format!(
        "{} {}",
        pick(&FIRST_NAMES, draw(seed, index, 1)),
        pick(&LAST_NAMES, draw(seed, index, 2))
    );
    let phone = work_phone(index);
    let mut addresses = vec![Contact::phone("WORK", Some(phone), None)];
    // Every seventh user also has a mobile, so clients see lists with more than one entry.
    if index.is_multiple_of(7) {
        addresses.push(Contact::phone(
            "MOBILE",
            Some(format!("+1555{:07}", index % 10_000_000)),
            None,
        ));
    }
    UserRec {
        id: user_id(index),
        name,
        username: email.clone(),
        email,
        title: Some(pick(&TITLES, draw(seed, index, 3)).to_owned()),
        department: Some(pick(&DEPARTMENTS, draw(seed, index, 4)).to_owned()),
        preferred_name: None,
        addresses,
        manager: manager_index(index).map(user_id),
        state: if starts_inactive(index) {
            State::Inactive
        } else {
            State::Active
        },
        acd_auto_answer: draw(seed, index, 5).is_multiple_of(3),
        version: 1 + draw(seed, index, 6) % 9,
        skills: pick_distinct(
            seed,
            index,
            1_000,
            (draw(seed, index, 7) % 4) as usize,
            SKILL_NAMES.len(),
        ),
        languages: pick_distinct(
            seed,
            index,
            2_000,
            (draw(seed, index, 8) % 3) as usize,
            LANGUAGE_NAMES.len(),
        ),
        external_ids: vec![(authority.to_owned(), external_key(index))],
        extra: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_look_like_uuids() {
        let id = user_id(123_456);
        assert_eq!(id.len(), 36);
        assert_eq!(user_index(&id), Some(123_456));
        assert_eq!(user_index("not-an-id"), None);
    }

    #[test]
    fn same_seed_same_user_other_seed_other_user() {
        let a = user(7, 42, "x");
        let b = user(7, 42, "x");
        assert_eq!(
            (a.name.as_str(), a.version, &a.skills),
            (b.name.as_str(), b.version, &b.skills)
        );
        let names: Vec<String> = (1..20).map(|i| user(8, i, "x").name).collect();
        let other: Vec<String> = (1..20).map(|i| user(7, i, "x").name).collect();
        assert_ne!(names, other);
    }
}
