//! Key ids, public keys and signatures as they travel and as links spell them.

use crate::base64url;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bytes of a key id: the first 16 bytes (128 bits) of the SHA-256 of the raw public key.
/// Finding another key with the same id is a second preimage of 128 bits: out of reach.
pub const KEY_ID_BYTES: usize = 16;
/// A raw uncompressed P-256 public key (`0x04`, x, y), as WebCrypto exports it.
pub const PUBLIC_KEY_BYTES: usize = 65;
/// An ECDSA P-256 signature as WebCrypto makes it: r and s, 32 bytes each.
pub const SIGNATURE_BYTES: usize = 64;

/// Who a signing key is, in 16 bytes: what a room link names and grants point at.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KeyId(pub [u8; KEY_ID_BYTES]);

impl KeyId {
    /// The id of the key whose SHA-256 digest is `digest` (the caller hashes: WebCrypto).
    pub fn from_digest(digest: &[u8]) -> Option<KeyId> {
        Some(KeyId(digest.get(..KEY_ID_BYTES)?.try_into().ok()?))
    }

    /// As a link spells it: 22 characters of base64url.
    pub fn to_text(self) -> String {
        base64url::encode(self.0)
    }

    /// From a link's spelling; `None` unless it is exactly one canonical key id.
    pub fn from_text(text: &str) -> Option<KeyId> {
        let bytes = base64url::decode(text).ok()?;
        Some(KeyId(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", &self.to_text()[..6])
    }
}

/// Whether `key` has the shape of a raw uncompressed P-256 public key (whether it is a point
/// on the curve is WebCrypto's to say when it imports it).
pub fn is_public_key(key: &[u8]) -> bool {
    key.len() == PUBLIC_KEY_BYTES && key[0] == 0x04
}
