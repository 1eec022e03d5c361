//! Names of every Redis key this crate writes.
//!
//! All of them start with the hash tag `{<namespace>}:fleet:`, so every script touches a single
//! Redis Cluster slot and shares it with the queue's keys of the same namespace.
//!
//! | key | type | written by |
//! |---|---|---|
//! | `{ns}:fleet:budget:<client>` | HASH `tat`, `max_allowed`, `allowed`, `window_us` | acquire script |
//! | `{ns}:fleet:cooldown:<client>` | STRING until (µs, Redis clock), PX = remaining | acquire and cooldown scripts |
//! | `{ns}:fleet:sealed:<id>` | STRING `v1.` + base64(nonce ‖ ciphertext) | [`SealedCache`](crate::SealedCache) |
//! | `{ns}:fleet:lock:<id>` | STRING random token, PX = lock ttl | [`SealedCache::try_lock`](crate::SealedCache::try_lock) |
//!
//! `<client>` is the caller's budget key as given (an OAuth client id is public); `<id>` is derived
//! from the cache name *and* the passphrase (see [`crate::sealed`]), so it reveals neither.

use crate::error::{FleetError, Result};

/// Key names of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    /// Checks the namespace: it must be non-empty and free of `}` (which would end the hash tag
    /// early and scatter the keys over cluster slots).
    pub(crate) fn new(namespace: &str) -> Result<Self> {
        if namespace.is_empty() || namespace.contains('}') || namespace.contains('{') {
            return Err(FleetError::Config(format!(
                "namespace {namespace:?} must be non-empty and contain no '{{' or '}}'"
            )));
        }
        Ok(Self {
            prefix: format!("{{{namespace}}}:fleet"),
        })
    }

    pub(crate) fn budget(&self, client: &str) -> String {
        format!("{}:budget:{client}", self.prefix)
    }

    pub(crate) fn cooldown(&self, client: &str) -> String {
        format!("{}:cooldown:{client}", self.prefix)
    }

    pub(crate) fn sealed(&self, id: &str) -> String {
        format!("{}:sealed:{id}", self.prefix)
    }

    pub(crate) fn lock(&self, id: &str) -> String {
        format!("{}:lock:{id}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_shares_the_namespace_hash_tag() {
        let keys = Keys::new("gcbulk").unwrap_or_else(|e| panic!("{e}"));
        for key in [
            keys.budget("c"),
            keys.cooldown("c"),
            keys.sealed("i"),
            keys.lock("i"),
        ] {
            assert!(key.starts_with("{gcbulk}:fleet:"), "{key}");
        }
    }

    #[test]
    fn a_namespace_that_breaks_the_hash_tag_is_refused() {
        assert!(Keys::new("").is_err());
        assert!(Keys::new("a}b").is_err());
        assert!(Keys::new("a{b").is_err());
    }
}
