//! What the host and the members sign, and the exact bytes each signature covers.

use super::key::{is_public_key, KeyId, SIGNATURE_BYTES};
use crate::signaling::payload::SessionId;
use crate::sync::Versioned;
use serde::{Deserialize, Serialize};

/// Separates these signatures from anything else a key might ever sign.
const DOMAIN: &[u8] = b"insieme/v1 host statement\0";

/// Something a key holder says. Statements by the host are numbered in two ways: `term`,
/// how many handovers came before the signer's turn as host (so a statement is judged by the
/// host *of its term*, whatever order it arrives in), and `seq`, the signer's own count
/// (later wins within a term).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Statement {
    /// "This key is the key of session `session`": each member announces its own, over its
    /// own link, so the host can grant it and everyone can tell who may control.
    KeyOf { session: SessionId },
    /// The host switches Host controls on or off.
    Mode { on: bool, term: u32, seq: u64 },
    /// The host makes the holder of `key` (session `session`) a co-host, or no longer one.
    Grant {
        key: KeyId,
        session: SessionId,
        granted: bool,
        term: u32,
        seq: u64,
    },
    /// The host of `term` hands the role to the holder of `to` (session `session`), who is the
    /// host of `term + 1`.
    Handover {
        to: KeyId,
        session: SessionId,
        term: u32,
    },
    /// "This playback state may enter the register": its content, stamp and writer.
    State(Versioned),
    /// "This queue piece may be merged": the SHA-256 of the encoded piece (the piece itself
    /// follows in its own message, since a whole piece may fill one).
    Queue(Vec<u8>),
}

/// A statement with its signer's public key and signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signed {
    pub statement: Statement,
    /// The signer's raw public key (65 bytes).
    pub key: Vec<u8>,
    /// ECDSA P-256 with SHA-256 over [`signed_bytes`] (64 bytes).
    pub signature: Vec<u8>,
}

impl Signed {
    /// Whether the key and signature have the right shape (checked before any WebCrypto call).
    pub fn is_well_formed(&self) -> bool {
        is_public_key(&self.key) && self.signature.len() == SIGNATURE_BYTES
    }
}

/// What travels in `PeerMessage::Host`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HostMessage {
    Signed(Signed),
    /// "Ask for the remote": the sender would like to be a co-host (unsigned: it claims
    /// nothing, and its sender is the link's peer).
    Ask,
}

impl HostMessage {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("host messages always serialize")
    }

    /// Decodes what a peer sent; `None` if it is not a well-formed host message (a statement
    /// with a key or signature of the wrong shape, or a signed state with impossible values).
    pub fn decode(bytes: &[u8]) -> Option<HostMessage> {
        let message: HostMessage = postcard::from_bytes(bytes).ok()?;
        if let HostMessage::Signed(signed) = &message {
            let state_ok = match &signed.statement {
                Statement::State(state) => {
                    crate::sync::WireMessage::new(crate::sync::Body::State(state.clone()))
                        .validate()
                        .is_ok()
                }
                Statement::Queue(digest) => digest.len() == 32,
                _ => true,
            };
            if !signed.is_well_formed() || !state_ok {
                return None;
            }
        }
        Some(message)
    }
}

/// The bytes a signature covers: the domain, the room's host key id from the link (so a
/// statement from one room means nothing in another) and the statement.
pub fn signed_bytes(room: KeyId, statement: &Statement) -> Vec<u8> {
    let mut bytes = DOMAIN.to_vec();
    bytes.extend_from_slice(&room.0);
    // Postcard is deterministic: the same statement always gives the same bytes.
    bytes.extend(postcard::to_allocvec(statement).expect("statements always serialize"));
    bytes
}
