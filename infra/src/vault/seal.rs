//! The sealed form of a personal field: `\u{1}ps1.<owner>.<box>`, where
//! `<owner>` is the base64url of `<tenant>\0<userID>` and `<box>` the
//! base64url of a random 24-byte nonce followed by the XChaCha20-Poly1305
//! encryption of the field's JSON text under the owner's key, with the
//! owner as associated data (a box opens only as its owner's field).

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a field reads as once its owner's key is erased.
pub const ERASED: &str = "[erased]";

const PREFIX: &str = "\u{1}ps1.";
const NONCE: usize = 24;
/// How a sealed text starts in JSON text (serde_json escapes U+0001 so).
pub const PREFIX_IN_JSON: &[u8] = b"\"\\u0001ps1.";

/// A 256-bit key.
pub type Key = [u8; 32];

/// Whose personal data a field is: a user of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    pub fn new(tenant: &str, user_id: &str) -> Self {
        Owner(format!("{tenant}\0{user_id}"))
    }

    /// What key stores file the owner's key under: SHA-256 of the owner,
    /// so they hold no user IDs.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    fn aad(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A fresh random key.
pub fn new_key() -> Key {
    let mut key = [0; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    key
}

pub fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Seals a field's value with its owner's key.
pub fn seal(owner: &Owner, key: &Key, value: &Value) -> String {
    // Nonces from the thread's CSPRNG (ChaCha, seeded and reseeded from
    // the OS): 192 random bits never repeat in practice, and a send costs
    // no getrandom call per field.
    let mut nonce = [0; NONCE];
    rand::thread_rng().fill_bytes(&mut nonce);
    let plain = value.to_string();
    let sealed = XChaCha20Poly1305::new(key.into())
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: owner.aad(),
            },
        )
        .expect("XChaCha20-Poly1305 encrypts any message under 256 GiB");
    let mut boxed = nonce.to_vec();
    boxed.extend_from_slice(&sealed);
    format!("{PREFIX}{}.{}", B64.encode(owner.aad()), B64.encode(boxed))
}

/// The owner of a sealed text; None if the text is not (well) sealed.
pub fn owner_of(text: &str) -> Option<Owner> {
    let (owner, _) = text.strip_prefix(PREFIX)?.split_once('.')?;
    let owner = String::from_utf8(B64.decode(owner).ok()?).ok()?;
    owner.contains('\0').then_some(Owner(owner))
}

/// The value of a sealed text, with its owner's key; None if the text is
/// not a box of this owner under this key.
pub fn open(text: &str, owner: &Owner, key: &Key) -> Option<Value> {
    let (_, boxed) = text.strip_prefix(PREFIX)?.split_once('.')?;
    let boxed = B64.decode(boxed).ok()?;
    if boxed.len() < NONCE {
        return None;
    }
    let (nonce, sealed) = boxed.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().ok()?;
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: owner.aad(),
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_sealed_field_opens_with_its_owners_key_only() {
        let alice = Owner::new("1000", "alice");
        let key = new_key();
        let content = json!({"content": "meet at noon"});
        let sealed = seal(&alice, &key, &content);
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("noon"));
        assert_eq!(owner_of(&sealed), Some(alice.clone()));
        assert_eq!(open(&sealed, &alice, &key), Some(content));
        assert_eq!(open(&sealed, &alice, &new_key()), None, "another key");
        assert_eq!(open(&sealed, &Owner::new("1001", "alice"), &key), None, "another owner");
    }

    #[test]
    fn the_same_value_seals_differently_each_time() {
        let alice = Owner::new("1000", "alice");
        let key = new_key();
        assert_ne!(seal(&alice, &key, &json!("Alice")), seal(&alice, &key, &json!("Alice")));
    }

    #[test]
    fn plain_and_malformed_texts_are_not_boxes() {
        let alice = Owner::new("1000", "alice");
        let key = new_key();
        for text in [
            "Alice",
            "\u{1}ps1.",
            "\u{1}ps1.x",
            "\u{1}ps1.YWxpY2U.",
            "\u{1}ps1.YWxpY2U.AAAA",
        ] {
            assert_eq!(open(text, &alice, &key), None, "{text:?}");
        }
        assert_eq!(
            owner_of("\u{1}ps1.YWxpY2U.AAAA"),
            None,
            "an owner names a tenant and a user"
        );
    }
}
