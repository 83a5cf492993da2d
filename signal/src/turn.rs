//! TURN credentials in coturn's REST scheme (`use-auth-secret` in turnserver.conf).
//!
//! The endpoint and coturn share one secret. For every welcome the endpoint mints a username
//! `<unix expiry>:<random id>` and the password `base64(HMAC-SHA1(secret, username))`; coturn
//! recomputes the HMAC from the username alone and refuses it once the expiry has passed. So
//! nothing is stored on either side, a credential dies on its own, and the secret itself never
//! leaves the endpoint: neither browsers nor logs see it (its `Debug` is redacted).

use std::fmt;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use insieme_signal_protocol::TurnCredential;
use sha1::Sha1;

/// Shortest secret accepted: HMAC-SHA1's key strength is at most 160 bits, and a short
/// shared secret could be guessed from one captured credential offline.
pub const MIN_SECRET_BYTES: usize = 16;
/// Random bytes in the id part of a username: it only keeps two credentials minted in the
/// same second apart (coturn counts quotas per username), so 96 bits is plenty.
const ID_BYTES: usize = 12;

/// The secret shared with coturn (`static-auth-secret`).
#[derive(Clone, PartialEq, Eq)]
pub struct TurnSecret(Vec<u8>);

impl TurnSecret {
    /// The secret as written in turnserver.conf; surrounding whitespace (a file's trailing
    /// newline) is not part of it, because coturn does not read it as part either.
    pub fn new(text: &str) -> Result<TurnSecret, String> {
        let text = text.trim();
        if text.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the TURN secret must be at least {MIN_SECRET_BYTES} bytes (got {})",
                text.len()
            ));
        }
        Ok(TurnSecret(text.as_bytes().to_vec()))
    }

    /// Reads the secret from a file, e.g. one systemd passes with `LoadCredential=`.
    pub fn from_file(path: &Path) -> io::Result<TurnSecret> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!(
                    "cannot read the TURN secret from {}: {error}",
                    path.display()
                ),
            )
        })?;
        TurnSecret::new(&text).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {error}", path.display()),
            )
        })
    }
}

/// Never prints the secret: `Config` is `Debug`, and configurations end up in logs.
impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(<redacted>)")
    }
}

/// Mints credentials that live `ttl` from the moment they are minted.
#[derive(Clone)]
pub struct TurnMinter {
    secret: TurnSecret,
    ttl: Duration,
}

impl TurnMinter {
    pub fn new(secret: TurnSecret, ttl: Duration) -> TurnMinter {
        TurnMinter { secret, ttl }
    }

    /// A fresh credential, valid until `now + ttl`.
    pub fn mint(&self, now: SystemTime) -> TurnCredential {
        let mut id = [0u8; ID_BYTES];
        getrandom::fill(&mut id).expect("the OS random source is available");
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let expiry = (since_epoch + self.ttl).as_secs();
        let username = format!("{expiry}:{}", URL_SAFE_NO_PAD.encode(id));
        TurnCredential {
            credential: credential_for(&self.secret, &username),
            username,
            ttl_secs: self.ttl.as_secs(),
        }
    }
}

/// coturn's REST password for `username`: standard base64, with padding, of its HMAC-SHA1.
pub fn credential_for(secret: &TurnSecret, username: &str) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(&secret.0).expect("HMAC accepts a key of any length");
    mac.update(username.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TurnSecret {
        TurnSecret::new("north-wind-correct-horse").unwrap()
    }

    #[test]
    fn credential_matches_an_independent_hmac() {
        // Computed outside Rust, both ways giving the same answer:
        //   printf '%s' '1767225600:test-id' \
        //     | openssl dgst -sha1 -hmac 'north-wind-correct-horse' -binary | base64
        //   python3 -c "import hmac,hashlib,base64; print(base64.b64encode(hmac.new(
        //     b'north-wind-correct-horse', b'1767225600:test-id', hashlib.sha1).digest()))"
        assert_eq!(
            credential_for(&secret(), "1767225600:test-id"),
            "WZ/BsFSEvF8JKNKSBD5SJt06VZg="
        );
    }

    #[test]
    fn minted_credential_expires_after_the_ttl_and_verifies() {
        let minter = TurnMinter::new(secret(), Duration::from_secs(3600));
        let now = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let minted = minter.mint(now);
        let (expiry, id) = minted.username.split_once(':').unwrap();
        assert_eq!(expiry, "1767229200");
        assert_eq!(id.len(), 16);
        assert_eq!(minted.ttl_secs, 3600);
        // What coturn does: recompute from the username and the shared secret.
        assert_eq!(
            minted.credential,
            credential_for(&secret(), &minted.username)
        );
        assert_eq!(minted.credential.len(), 28, "20 bytes, padded base64");
        let other = minter.mint(now);
        assert_ne!(other.username, minted.username, "ids are random");
        assert_ne!(
            minted.credential,
            credential_for(
                &TurnSecret::new("another-secret-of-length").unwrap(),
                &minted.username
            )
        );
    }

    #[test]
    fn secrets_are_trimmed_checked_and_never_printed() {
        assert_eq!(
            TurnSecret::new("  north-wind-correct-horse\n").unwrap(),
            secret()
        );
        assert!(TurnSecret::new("short\n").is_err());
        assert!(!format!("{:?}", secret()).contains("north"));
    }
}
