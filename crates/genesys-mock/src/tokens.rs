//! Access tokens issued by `POST /oauth/token`: random, opaque, expiring, revocable all at once.
//!
//! Tokens are only ever compared, never logged; the map is not `Debug` so it cannot leak through a dump.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// Above this many live tokens, issuing one first forgets the expired ones.
const PRUNE_ABOVE: usize = 10_000;

/// The outcome of presenting a bearer token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    /// Valid; the OAuth client it was issued to.
    Valid(Arc<str>),
    /// Unknown, revoked or expired.
    Invalid,
}

struct Issued {
    client: Arc<str>,
    expires: Instant,
}

/// All tokens issued so far.
#[derive(Default)]
pub(crate) struct Tokens {
    issued: HashMap<String, Issued>,
}

impl Tokens {
    /// A fresh token for `client`, valid for `ttl`.
    pub fn issue(&mut self, client: Arc<str>, ttl: Duration, now: Instant) -> String {
        if self.issued.len() > PRUNE_ABOVE {
            self.issued.retain(|_, issued| issued.expires > now);
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        self.issued.insert(
            token.clone(),
            Issued {
                client,
                expires: now + ttl,
            },
        );
        token
    }

    pub fn check(&self, token: &str, now: Instant) -> TokenCheck {
        match self.issued.get(token) {
            Some(issued) if issued.expires > now => TokenCheck::Valid(issued.client.clone()),
            _ => TokenCheck::Invalid,
        }
    }

    /// Every token issued and not yet pruned, for leak checks in tests (`GET /__mock/tokens`).
    pub fn issued(&self) -> Vec<String> {
        self.issued.keys().cloned().collect()
    }

    /// Forgets every token (clients must fetch new ones).
    pub fn revoke_all(&mut self) {
        self.issued.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_expire_and_can_be_revoked() {
        let mut tokens = Tokens::default();
        let now = Instant::now();
        let client: Arc<str> = Arc::from("c");
        let a = tokens.issue(client.clone(), Duration::from_secs(10), now);
        let b = tokens.issue(client.clone(), Duration::from_secs(10), now);
        assert_ne!(a, b);
        assert_eq!(tokens.check(&a, now), TokenCheck::Valid(client));
        assert_eq!(
            tokens.check(&a, now + Duration::from_secs(11)),
            TokenCheck::Invalid
        );
        tokens.revoke_all();
        assert_eq!(tokens.check(&b, now), TokenCheck::Invalid);
        assert_eq!(tokens.check("made-up", now), TokenCheck::Invalid);
    }
}
