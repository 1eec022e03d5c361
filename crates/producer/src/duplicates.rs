//! Finding rows of one file that change the same user.
//!
//! Two rows racing on one user in different chunks would leave the result to chance, so a
//! repeated key is an error naming both lines. Memory stays small however large the file: the
//! first pass keeps only a 64-bit hash per key (8 bytes a row, in one vector), sorts it at the
//! end, and only when two hashes are equal reads the input once more to find the lines and to
//! compare the real keys (so a hash collision can never fail a valid file).
//!
//! Keys compare as Genesys does: emails and ids without regard to ASCII case, external ids
//! exactly. Only keys of the same kind are compared (an id and an email naming the same person
//! cannot be told apart without asking Genesys).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};

use gcbulk_changes::UserKey;

use crate::error::ErrorSink;
use crate::rules::ParsedRow;

/// The hashes of every key seen in the first pass.
#[derive(Debug, Default)]
pub(crate) struct KeyHashes(Vec<u64>);

impl KeyHashes {
    pub(crate) fn push(&mut self, key: &UserKey) {
        self.0.push(key_hash(key));
    }

    /// Hashes that occur more than once: the keys worth a second look.
    pub(crate) fn repeated(mut self) -> HashSet<u64> {
        self.0.sort_unstable();
        self.0
            .windows(2)
            .filter(|pair| pair[0] == pair[1])
            .map(|pair| pair[0])
            .collect()
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

fn normalized(key: &UserKey) -> String {
    let text = key.to_string();
    if case_insensitive(key) {
        text.to_ascii_lowercase()
    } else {
        text
    }
}

/// Second look: fed every row of a new read of the input, reports each row whose key was
/// already used by an earlier row.
#[derive(Debug)]
pub(crate) struct DuplicateFinder {
    candidates: HashSet<u64>,
    first_line: HashMap<String, u64>,
}

impl DuplicateFinder {
    pub(crate) fn new(candidates: HashSet<u64>) -> Self {
        DuplicateFinder {
            candidates,
            first_line: HashMap::new(),
        }
    }

    pub(crate) fn check(&mut self, row: &ParsedRow, sink: &mut ErrorSink) {
        let Some(key) = &row.key else { return };
        if !self.candidates.contains(&key_hash(key)) {
            return;
        }
        match self.first_line.entry(normalized(key)) {
            Entry::Occupied(first) => sink.report(
                row.line,
                Some(key.kind()),
                format_args!(
                    "duplicate key {key}: line {} changes the same user; a user may appear only once per file",
                    first.get()
                ),
            ),
            Entry::Vacant(slot) => {
                slot.insert(row.line);
            }
        }
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
    fn only_repeated_hashes_are_candidates() {
        let mut hashes = KeyHashes::default();
        for e in ["a@b.co", "c@d.co", "A@B.CO", "e@f.co"] {
            hashes.push(&UserKey::Email(e.into()));
        }
        let repeated = hashes.repeated();
        assert_eq!(repeated.len(), 1);
        assert!(repeated.contains(&key_hash(&UserKey::Email("a@b.co".into()))));
    }
}
