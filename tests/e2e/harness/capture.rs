//! What the endpoint relays, captured by the tests that check it sees nothing in the clear
//! ([`ServerOptions::capture_relayed`]).

use super::ServerOptions;
use anyhow::{ensure, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// A file the endpoint appends every relayed payload to, one a line.
pub struct RelayCapture(tempfile::NamedTempFile);

/// What a capture held: how many payloads, and how many bytes in all.
pub struct Relayed {
    pub payloads: usize,
    pub bytes: usize,
}

impl RelayCapture {
    pub fn new() -> Result<Self> {
        Ok(Self(tempfile::NamedTempFile::new()?))
    }

    /// Server options that capture into this file.
    pub fn options(&self) -> ServerOptions {
        ServerOptions {
            capture_relayed: Some(self.0.path().to_owned()),
            ..Default::default()
        }
    }

    /// Checks that the endpoint relayed at least four payloads and that none shows any of
    /// `needles`, as text or once base64url-decoded, unless `allowed` accepts its decoded bytes.
    pub fn check_sealed(
        &self,
        needles: &[&str],
        allowed: impl Fn(&[u8]) -> bool,
    ) -> Result<Relayed> {
        let relayed = std::fs::read_to_string(self.0.path()).context("reading the capture")?;
        let payloads: Vec<&str> = relayed.lines().filter(|l| !l.trim().is_empty()).collect();
        ensure!(
            payloads.len() >= 4,
            "the endpoint relayed only {} payloads",
            payloads.len()
        );
        for payload in &payloads {
            let decoded = URL_SAFE_NO_PAD.decode(payload.trim()).unwrap_or_default();
            if allowed(&decoded) {
                continue;
            }
            for needle in needles {
                let in_bytes = decoded
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes());
                ensure!(
                    !(payload.contains(needle) || in_bytes),
                    "the endpoint saw {needle:?} in {payload}"
                );
            }
        }
        Ok(Relayed {
            payloads: payloads.len(),
            bytes: relayed.len(),
        })
    }
}
