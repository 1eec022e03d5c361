//! Finding rows of one file that change the same user.
//!
//! Two rows racing on one user in different chunks would leave the result to chance, so a
//! repeated key is an error naming both lines. Memory stays small however large the file, and
//! however many duplicates it has: the first pass keeps one 16-byte entry per row (a 64-bit hash
//! of the key and the line, in one vector); sorting it at the end puts every repeated key's lines
//! side by side. Only the duplicates that will be listed (at most
//! [`MAX_LISTED_ERRORS`](crate::MAX_LISTED_ERRORS)) are then confirmed by reading the input once
//! more and comparing the real keys of just those lines, so a hash collision can never fail a
//! valid file; duplicates beyond the listing are only counted.
//!
//! Keys compare as Genesys does: emails and ids without regard to ASCII case, external ids
//! exactly. Only keys of the same kind are compared (an id and an email naming the same person
//! cannot be told apart without asking Genesys).

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};

use gcbulk_changes::UserKey;

/// Every row's key hash and line, from the first pass.
#[derive(Debug, Default)]
pub(crate) struct KeyLines(Vec<u128>);

/// A row whose key was already used on `first_line`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Duplicate {
    pub(crate) line: u64,
    pub(crate) first_line: u64,
}

/// Duplicates found by hash: the ones to list (by line) and how many more there are.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Suspects {
    pub(crate) listed: Vec<Duplicate>,
    pub(crate) unlisted: u64,
}

impl KeyLines {
    pub(crate) fn push(&mut self, key: &UserKey, line: u64) {
        self.0
            .push(u128::from(key_hash(key)) << 64 | u128::from(line));
    }

    /// Rows whose key hash appeared on an earlier line; the `limit` with the lowest lines are
    /// listed.
    pub(crate) fn suspects(mut self, limit: usize) -> Suspects {
        // Hash in the high half, line in the low half: equal keys end up adjacent, by line.
        self.0.sort_unstable();
        let mut lowest: BinaryHeap<Duplicate> = BinaryHeap::with_capacity(limit.saturating_add(1));
        let mut total = 0u64;
        let mut first: Option<(u64, u64)> = None; // (hash, first line) of the current run
        for &entry in &self.0 {
            let (hash, line) = ((entry >> 64) as u64, entry as u64);
            match first {
                Some((run_hash, first_line)) if run_hash == hash => {
                    total += 1;
                    lowest.push(Duplicate { line, first_line });
                    if lowest.len() > limit {
                        lowest.pop();
                    }
                }
                _ => first = Some((hash, line)),
            }
        }
        let listed = lowest.into_sorted_vec();
        Suspects {
            unlisted: total - listed.len() as u64,
            listed,
        }
    }
}

fn case_insensitive(key: &UserKey) -> bool {
    !matches!(key, UserKey::ExternalId(_))
}

/// A hash of the key as Genesys compares it, computed without allocating.
pub(crate) fn key_hash(key: &UserKey) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(key.kind().as_bytes());
    hasher.write_u8(b':');
    if case_insensitive(key) {
        let mut buf = [0u8; 64];
        for chunk in key.value().as_bytes().chunks(buf.len()) {
            let lower = &mut buf[..chunk.len()];
            lower.copy_from_slice(chunk);
            lower.make_ascii_lowercase();
            hasher.write(lower);
        }
    } else {
        hasher.write(key.value().as_bytes());
    }
    hasher.finish()
}

/// The key as compared: `kind:value`, lowercased where Genesys ignores case.
fn normalized(key: &UserKey) -> String {
    let text = key.to_string();
    if case_insensitive(key) {
        text.to_ascii_lowercase()
    } else {
        text
    }
}

/// A key of a suspect line.
#[derive(Debug)]
struct SeenKey {
    kind: &'static str,
    normalized: String,
    shown: String,
}

/// Collects the real keys of the suspects' lines during another read of the input.
#[derive(Debug)]
pub(crate) struct Confirmation {
    suspects: Vec<Duplicate>,
    wanted: HashSet<u64>,
    keys: HashMap<u64, SeenKey>,
}

impl Confirmation {
    pub(crate) fn new(suspects: Vec<Duplicate>) -> Self {
        let wanted = suspects
            .iter()
            .flat_map(|d| [d.line, d.first_line])
            .collect();
        Confirmation {
            suspects,
            wanted,
            keys: HashMap::new(),
        }
    }

    /// Feeds one row of the new read.
    pub(crate) fn see(&mut self, line: u64, key: Option<&UserKey>) {
        if let Some(key) = key
            && self.wanted.contains(&line)
        {
            let seen = SeenKey {
                kind: key.kind(),
                normalized: normalized(key),
                shown: key.to_string(),
            };
            self.keys.insert(line, seen);
        }
    }

    /// The suspects whose keys are really equal, with the key as written on the later line.
    pub(crate) fn confirmed(self) -> Vec<(Duplicate, &'static str, String)> {
        let keys = self.keys;
        self.suspects
            .into_iter()
            .filter_map(|d| {
                let later = keys.get(&d.line)?;
                let first = keys.get(&d.first_line)?;
                (later.normalized == first.normalized).then(|| (d, later.kind, later.shown.clone()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_ids_compare_without_case_external_ids_exactly() {
        let id = |s: &str| UserKey::Id(s.into());
        let email = |s: &str| UserKey::Email(s.into());
        let ext = |s: &str| UserKey::ExternalId(s.into());
        assert_eq!(
            key_hash(&email("Ana@Example.com")),
            key_hash(&email("ana@example.COM"))
        );
        assert_eq!(
            key_hash(&id("6F1C8E2A-4B7D-4C3E-9A5F-0D2B7E8C1A94")),
            key_hash(&id("6f1c8e2a-4b7d-4c3e-9a5f-0d2b7e8c1a94"))
        );
        assert_ne!(key_hash(&ext("A1")), key_hash(&ext("a1")));
        assert_ne!(key_hash(&ext("a@b.co")), key_hash(&email("a@b.co")));
        let long = "x".repeat(200);
        assert_eq!(
            key_hash(&email(&format!("{long}@B.co"))),
            key_hash(&email(&format!("{long}@b.co")))
        );
    }

    #[test]
    fn suspects_name_the_first_line_and_keep_the_lowest_lines() {
        let mut lines = KeyLines::default();
        let email = |s: &str| UserKey::Email(s.into());
        for (line, e) in [
            (2, "a@b.co"),
            (3, "c@d.co"),
            (4, "A@B.CO"),
            (5, "e@f.co"),
            (6, "a@b.co"),
            (7, "c@d.co"),
        ] {
            lines.push(&email(e), line);
        }
        let suspects = lines.suspects(2);
        let d = |line, first_line| Duplicate { line, first_line };
        assert_eq!(
            suspects,
            Suspects {
                listed: vec![d(4, 2), d(6, 2)],
                unlisted: 1
            }
        );
    }

    #[test]
    fn only_real_key_equality_is_confirmed() {
        // A forged "collision": lines 3 and 9 have different keys.
        let d = |line, first_line| Duplicate { line, first_line };
        let mut confirmation = Confirmation::new(vec![d(5, 2), d(9, 3)]);
        for (line, key) in [
            (2, UserKey::Email("a@b.co".into())),
            (3, UserKey::ExternalId("X".into())),
            (4, UserKey::Email("zzz@b.co".into())),
            (5, UserKey::Email("A@b.co".into())),
            (9, UserKey::ExternalId("x".into())),
        ] {
            confirmation.see(line, Some(&key));
        }
        assert_eq!(
            confirmation.confirmed(),
            [(d(5, 2), "email", "email:A@b.co".to_string())]
        );
    }
}
