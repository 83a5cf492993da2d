//! Room links: the secret that names a watch party.
//!
//! A room link is `https://<host>/#<secret>`, or `#<secret>.<host>` for a party with a host.
//! The secret lives in the fragment so that it never reaches any server (browsers do not send
//! fragments in requests); later it is the root from which the signaling topic and the
//! encryption key are derived. The optional second part names the party's host: the hash of
//! the host's public signing key ([`crate::room::host::KeyId`]), so everyone who has the link
//! knows who the host is and no member can claim to be it (docs/programme.md, "The host").
//! The topic depends on the secret alone, so a link with and without a host meet in one room.
//! This module is pure so that parsing untrusted fragments is tested natively.

use crate::base64url;
use crate::room::host::KeyId;
use std::fmt;

/// Bytes of entropy in a room secret: 128 bits, enough that rooms cannot be guessed.
pub const SECRET_BYTES: usize = 16;

/// Length of a secret in base64url without padding (16 bytes → 22 characters).
pub const SECRET_CHARS: usize = 22;

/// The random secret shared by everyone in a watch party.
#[derive(Clone, PartialEq, Eq)]
pub struct RoomSecret([u8; SECRET_BYTES]);

impl RoomSecret {
    /// Wraps bytes that must come from a cryptographically secure generator.
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// The secret as it appears in a link's fragment (base64url, no padding).
    pub fn to_fragment(&self) -> String {
        base64url::encode(self.0)
    }

    /// Parses the fragment text (without the leading `#`).
    pub fn from_fragment(text: &str) -> Result<Self, RoomLinkError> {
        if text.len() != SECRET_CHARS {
            return Err(RoomLinkError::WrongLength {
                found: text.chars().count(),
            });
        }
        // The decoder also rejects non-canonical trailing bits, so each room has one spelling.
        let bytes = base64url::decode(text).map_err(|_| RoomLinkError::NotBase64Url)?;
        let bytes: [u8; SECRET_BYTES] =
            bytes.try_into().map_err(|_| RoomLinkError::NotBase64Url)?;
        Ok(Self(bytes))
    }

    /// The full room link for the app served at `page_url`; any fragment already on it is
    /// replaced, and a sub-path (an app hosted under `/party/`) is kept.
    pub fn link(&self, page_url: &str) -> String {
        self.link_with_host(page_url, None)
    }

    /// The room link naming `host` as the party's host, if any.
    pub fn link_with_host(&self, page_url: &str, host: Option<KeyId>) -> String {
        let base = page_url.split('#').next().unwrap_or(page_url);
        format!("{base}#{}", fragment(self, host))
    }
}

/// The fragment of a room link: the secret, then `.` and the host's key id if it has one
/// (`.` is outside base64url's alphabet, so the split is unambiguous).
pub fn fragment(secret: &RoomSecret, host: Option<KeyId>) -> String {
    match host {
        Some(host) => format!("{}.{}", secret.to_fragment(), host.to_text()),
        None => secret.to_fragment(),
    }
}

// The secret must never end up in logs by accident.
impl fmt::Debug for RoomSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RoomSecret(..)")
    }
}

/// Why a fragment is not a room link. The messages are shown to people as sentences.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomLinkError {
    #[error("The room code should be {SECRET_CHARS} characters long, this one has {found}")]
    WrongLength { found: usize },
    #[error("The room code contains characters that cannot appear in a room link")]
    NotBase64Url,
    #[error("The host part of this room link is damaged")]
    BadHost,
}

/// Which page a location fragment asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// No fragment: the landing page.
    Landing,
    /// A well-formed room link, and its host's key id if the link names one (links made
    /// before parties had hosts do not: such a room has no host).
    Room(RoomSecret, Option<KeyId>),
    /// A fragment that is not a room link; shown as a clear message, never a blank page.
    InvalidLink(RoomLinkError),
}

impl Route {
    /// Routes on `location.hash`, which includes the leading `#` when present.
    pub fn from_hash(hash: &str) -> Self {
        let fragment = hash.strip_prefix('#').unwrap_or(hash);
        if fragment.is_empty() {
            return Route::Landing;
        }
        let (secret, host) = match fragment.split_once('.') {
            Some((secret, host)) => match KeyId::from_text(host) {
                Some(host) => (secret, Some(host)),
                None => return Route::InvalidLink(RoomLinkError::BadHost),
            },
            None => (fragment, None),
        };
        match RoomSecret::from_fragment(secret) {
            Ok(secret) => Route::Room(secret, host),
            Err(error) => Route::InvalidLink(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_round_trips() {
        let secret = RoomSecret::from_bytes([0xfb; SECRET_BYTES]);
        let fragment = secret.to_fragment();
        assert_eq!(fragment.len(), SECRET_CHARS);
        // 0xfb bytes exercise the two characters that differ from standard base64.
        assert!(fragment.contains('-') || fragment.contains('_'));
        assert_eq!(RoomSecret::from_fragment(&fragment), Ok(secret));
    }

    #[test]
    fn link_replaces_the_fragment_of_the_page() {
        let secret = RoomSecret::from_bytes([0; SECRET_BYTES]);
        let expected = "http://127.0.0.1:8080/#AAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(secret.link("http://127.0.0.1:8080/"), expected);
        assert_eq!(secret.link("http://127.0.0.1:8080/#old"), expected);
        assert_eq!(
            secret.link("https://h.example/party/"),
            "https://h.example/party/#AAAAAAAAAAAAAAAAAAAAAA"
        );
    }

    #[test]
    fn routes_by_hash() {
        assert_eq!(Route::from_hash(""), Route::Landing);
        assert_eq!(Route::from_hash("#"), Route::Landing);
        let secret = RoomSecret::from_bytes([7; SECRET_BYTES]);
        assert_eq!(
            Route::from_hash(&format!("#{}", secret.to_fragment())),
            Route::Room(secret.clone(), None)
        );
    }

    #[test]
    fn a_link_may_name_its_host() {
        let secret = RoomSecret::from_bytes([7; SECRET_BYTES]);
        let host = KeyId([0xfe; crate::room::host::KEY_ID_BYTES]);
        let link = secret.link_with_host("https://h.example/", Some(host));
        let hash = link.split_once('#').unwrap().1;
        assert_eq!(
            Route::from_hash(&format!("#{hash}")),
            Route::Room(secret.clone(), Some(host))
        );
        // One room, with or without its host: the secret alone names it.
        assert!(link.starts_with(&(secret.link("https://h.example/") + ".")));
        for damaged in [
            ".",
            ".abc",
            ".AAAAAAAAAAAAAAAAAAAAA+",
            ".AAAAAAAAAAAAAAAAAAAAAA.x",
        ] {
            let hash = format!("#{}{damaged}", secret.to_fragment());
            assert_eq!(
                Route::from_hash(&hash),
                Route::InvalidLink(RoomLinkError::BadHost),
                "{hash}"
            );
        }
    }

    #[test]
    fn malformed_fragments_are_explained() {
        assert_eq!(
            Route::from_hash("#abc"),
            Route::InvalidLink(RoomLinkError::WrongLength { found: 3 })
        );
        // Right length, but '+' and '/' belong to standard base64, not base64url.
        assert_eq!(
            Route::from_hash("#AAAAAAAAAAAAAAAAAAAA+/"),
            Route::InvalidLink(RoomLinkError::NotBase64Url)
        );
        // Non-canonical: the last character carries bits beyond the 128 of the secret.
        assert_eq!(
            Route::from_hash("#AAAAAAAAAAAAAAAAAAAAAB"),
            Route::InvalidLink(RoomLinkError::NotBase64Url)
        );
        // Multi-byte characters must not confuse the length check or panic.
        assert!(matches!(
            Route::from_hash("#ééééééééééé"),
            Route::InvalidLink(_)
        ));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let secret = RoomSecret::from_bytes([1; SECRET_BYTES]);
        assert!(!format!("{secret:?}").contains(&secret.to_fragment()));
    }
}
