//! Authorship: each device signs the changes it makes with an Ed25519 key of its own, whose
//! public half the server registers at enrolment. A change relayed by another device (a USB
//! bundle carried to a colleague who syncs) is accepted only with its author's signature, so a
//! device can push only what it made or what its author really signed.
//!
//! What is signed binds the change to its household: `"madadkar change v1\0"`, the household's
//! 16-byte id, the change's 32-byte Automerge hash. The hash covers the change's bytes, its actor
//! and its dependencies, so the signature covers them too.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use thiserror::Error;
use uuid::Uuid;

/// An Ed25519 signature's length.
pub const SIGNATURE_BYTES: usize = 64;
/// An Ed25519 public key's length.
pub const PUBLIC_KEY_BYTES: usize = 32;
/// An Ed25519 secret key's length.
pub const SECRET_KEY_BYTES: usize = 32;

const CONTEXT: &[u8] = b"madadkar change v1\0";
const BUNDLE_CONTEXT: &[u8] = b"madadkar bundle v2\0";

/// A signature that cannot vouch for a change.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AuthorshipError {
    #[error("the author's registered key is not a valid Ed25519 public key")]
    BadPublicKey,
    #[error("the signature does not match the change, its household and its author's key")]
    BadSignature,
}

/// A device's signing key. Its secret never leaves the device's (encrypted) store.
pub struct DeviceKey(SigningKey);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        f.debug_tuple("DeviceKey")
            .field(&hex(&self.public_key()))
            .finish()
    }
}

impl DeviceKey {
    /// The key from its 32 secret bytes (fresh random bytes make a new key).
    pub fn from_secret(secret: &[u8; SECRET_KEY_BYTES]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The secret bytes, for the store that keeps them.
    pub fn secret(&self) -> [u8; SECRET_KEY_BYTES] {
        self.0.to_bytes()
    }

    /// The public half, registered with the server at enrolment.
    pub fn public_key(&self) -> [u8; PUBLIC_KEY_BYTES] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs a bundle's content (everything before its signature).
    pub fn sign_bundle(&self, content: &[u8]) -> [u8; SIGNATURE_BYTES] {
        self.0.sign(&[BUNDLE_CONTEXT, content].concat()).to_bytes()
    }

    /// Signs one change of one household.
    pub fn sign(&self, household: Uuid, change_hash: &[u8; 32]) -> [u8; SIGNATURE_BYTES] {
        self.0.sign(&message(household, change_hash)).to_bytes()
    }
}

fn message(household: Uuid, change_hash: &[u8; 32]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 16 + 32);
    m.extend_from_slice(CONTEXT);
    m.extend_from_slice(household.as_bytes());
    m.extend_from_slice(change_hash);
    m
}

/// Checks that `signature` is the author's (public key `public`) over this change of this
/// household.
pub fn verify(
    public: &[u8; PUBLIC_KEY_BYTES],
    household: Uuid,
    change_hash: &[u8; 32],
    signature: &[u8; SIGNATURE_BYTES],
) -> Result<(), AuthorshipError> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| AuthorshipError::BadPublicKey)?;
    // Strict verification: no malleable or small-order signatures.
    key.verify_strict(
        &message(household, change_hash),
        &Signature::from_bytes(signature),
    )
    .map_err(|_| AuthorshipError::BadSignature)
}

/// Checks a bundle's signature by the device with public key `public`.
pub fn verify_bundle(
    public: &[u8; PUBLIC_KEY_BYTES],
    content: &[u8],
    signature: &[u8; SIGNATURE_BYTES],
) -> Result<(), AuthorshipError> {
    let key = VerifyingKey::from_bytes(public).map_err(|_| AuthorshipError::BadPublicKey)?;
    key.verify_strict(
        &[BUNDLE_CONTEXT, content].concat(),
        &Signature::from_bytes(signature),
    )
    .map_err(|_| AuthorshipError::BadSignature)
}

/// Lower-case hex of bytes: how public keys travel in JSON.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `N` bytes from their hex form (what [`hex`] writes); `None` for anything else.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A public key from its hex form.
pub fn parse_public_key(text: &str) -> Option<[u8; PUBLIC_KEY_BYTES]> {
    let out = from_hex::<PUBLIC_KEY_BYTES>(text)?;
    VerifyingKey::from_bytes(&out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_vouches_for_its_change_and_household_only() {
        let key = DeviceKey::from_secret(&[7; 32]);
        let household = Uuid::from_u128(1);
        let hash = [9u8; 32];
        let signature = key.sign(household, &hash);
        assert_eq!(
            verify(&key.public_key(), household, &hash, &signature),
            Ok(())
        );
        // Another household, another change, another key: refused.
        assert_eq!(
            verify(&key.public_key(), Uuid::from_u128(2), &hash, &signature),
            Err(AuthorshipError::BadSignature)
        );
        assert_eq!(
            verify(&key.public_key(), household, &[8; 32], &signature),
            Err(AuthorshipError::BadSignature)
        );
        let other = DeviceKey::from_secret(&[8; 32]);
        assert_eq!(
            verify(&other.public_key(), household, &hash, &signature),
            Err(AuthorshipError::BadSignature)
        );
    }

    #[test]
    fn public_keys_round_trip_through_hex_and_bad_text_is_refused() {
        let key = DeviceKey::from_secret(&[3; 32]);
        let text = hex(&key.public_key());
        assert_eq!(parse_public_key(&text), Some(key.public_key()));
        assert_eq!(parse_public_key("zz"), None);
        assert_eq!(parse_public_key(&"é".repeat(32)), None);
        assert!(!format!("{key:?}").contains(&hex(&key.secret())));
    }
}
