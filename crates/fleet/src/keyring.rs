//! Keys and key names derived from the caller's passphrase.
//!
//! `PRK = HKDF-Extract(salt = "gcbulk-fleet/sealed-cache/v1", passphrase)`, then for each cache
//! name `HKDF-Expand(PRK, "gcbulk-fleet/sealed-cache/v1/" ‖ purpose ‖ 0 ‖ len(namespace) ‖
//! namespace ‖ name)` gives:
//!
//! - purpose `id` (16 bytes, hex): the name's Redis key id. It depends on the passphrase, so key
//!   names reveal neither the name nor anything of the passphrase, and processes holding
//!   different passphrases (a secret mid-rotation) use different entries instead of overwriting
//!   each other's.
//! - purpose `aead` (32 bytes): the ChaCha20-Poly1305 key of that name's value.
//!
//! Values are sealed with a random 96-bit nonce and the Redis key name as associated data, so a
//! value copied to another key does not open. Random nonces are safe here: each name has its own
//! key and is written a handful of times a day, far from the 2^32 messages per key where nonce
//! collisions would start to matter.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;

use crate::error::{FleetError, Result};

const SALT: &[u8] = b"gcbulk-fleet/sealed-cache/v1";
const INFO: &[u8] = b"gcbulk-fleet/sealed-cache/v1/";
/// Prefix of a stored value: lets a later format live beside this one.
const FORMAT: &str = "v1.";
const NONCE_LEN: usize = 12;

/// The pseudo-random key extracted from the passphrase; zeroed on drop.
#[derive(Clone)]
pub(crate) struct Keyring {
    prk: Arc<SecretBox<[u8; 32]>>,
    namespace: String,
}

impl Keyring {
    pub(crate) fn new(passphrase: &SecretString, namespace: &str) -> Self {
        let (mut prk, _) =
            Hkdf::<Sha256>::extract(Some(SALT), passphrase.expose_secret().as_bytes());
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&prk);
        prk.as_mut_slice().zeroize();
        let keyring = Self {
            prk: Arc::new(SecretBox::new(Box::new(bytes))),
            namespace: namespace.to_owned(),
        };
        bytes.zeroize();
        keyring
    }

    /// The Redis key id of `name` (32 hex digits).
    pub(crate) fn id(&self, name: &str) -> Result<String> {
        let mut id = [0u8; 16];
        self.expand(b"id", name, &mut id)?;
        Ok(id.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Encrypts `value` for the Redis key `key` of `name`.
    pub(crate) fn seal(&self, name: &str, key: &str, value: &SecretString) -> Result<String> {
        let cipher = self.cipher(name)?;
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: value.expose_secret().as_bytes(),
            aad: key.as_bytes(),
        };
        let sealed = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| FleetError::Seal)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Ok(format!("{FORMAT}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Decrypts what [`seal`](Self::seal) stored; `None` for anything that does not open under
    /// this passphrase, name and key (another passphrase, a tampered or foreign value).
    pub(crate) fn open(&self, name: &str, key: &str, stored: &[u8]) -> Option<SecretString> {
        let text = std::str::from_utf8(stored).ok()?.strip_prefix(FORMAT)?;
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let cipher = self.cipher(name).ok()?;
        let payload = Payload {
            msg: sealed,
            aad: key.as_bytes(),
        };
        let plain = cipher.decrypt(Nonce::from_slice(nonce), payload).ok()?;
        match String::from_utf8(plain) {
            Ok(text) => Some(SecretString::from(text)),
            Err(e) => {
                e.into_bytes().zeroize();
                None
            }
        }
    }

    fn cipher(&self, name: &str) -> Result<ChaCha20Poly1305> {
        let mut key = [0u8; 32];
        self.expand(b"aead", name, &mut key)?;
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
        key.zeroize();
        Ok(cipher)
    }

    fn expand(&self, purpose: &[u8], name: &str, out: &mut [u8]) -> Result<()> {
        let hkdf =
            Hkdf::<Sha256>::from_prk(self.prk.expose_secret()).map_err(|_| FleetError::Seal)?;
        let namespace_len = u32::try_from(self.namespace.len()).unwrap_or(u32::MAX);
        let info = [
            INFO,
            purpose,
            &[0],
            &namespace_len.to_be_bytes(),
            self.namespace.as_bytes(),
            name.as_bytes(),
        ]
        .concat();
        hkdf.expand(&info, out).map_err(|_| FleetError::Seal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(passphrase: &str, namespace: &str) -> Keyring {
        Keyring::new(&SecretString::from(passphrase), namespace)
    }

    #[test]
    fn a_value_opens_only_under_its_passphrase_name_and_key() {
        let ring = ring("client-secret", "ns");
        let value = SecretString::from("token-value");
        let sealed = ring
            .seal("token", "k1", &value)
            .unwrap_or_else(|e| panic!("{e}"));
        let opened = ring.open("token", "k1", sealed.as_bytes());
        assert_eq!(
            opened.as_ref().map(|s| s.expose_secret()),
            Some("token-value")
        );
        assert!(ring.open("other", "k1", sealed.as_bytes()).is_none());
        assert!(ring.open("token", "k2", sealed.as_bytes()).is_none());
        assert!(
            super::tests::ring("rotated", "ns")
                .open("token", "k1", sealed.as_bytes())
                .is_none()
        );
        assert!(ring.open("token", "k1", b"v1.garbage").is_none());
        assert!(ring.open("token", "k1", b"").is_none());
    }

    #[test]
    fn ids_depend_on_name_namespace_and_passphrase() {
        let id = |p: &str, ns: &str, name: &str| ring(p, ns).id(name).unwrap_or_default();
        let base = id("p", "ns", "token");
        assert_eq!(base.len(), 32);
        assert_eq!(base, id("p", "ns", "token"));
        assert_ne!(base, id("p", "ns", "token2"));
        assert_ne!(base, id("p", "ns2", "token"));
        assert_ne!(base, id("q", "ns", "token"));
    }
}
