//! What peers tell each other, sealed, through the endpoint: who they are, and what WebRTC needs
//! to connect them. Encoded as JSON before sealing (SDP is text; these messages are rare).

use serde::{Deserialize, Serialize};

/// Largest plaintext payload accepted (SDP of a data-only connection is ~1 KiB; this leaves room
/// for candidates and future fields, and stays under the endpoint's 32 KiB frame limit after
/// sealing and base64).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;

/// A stable identity for one browser tab in a room. The endpoint's transport ids change when a
/// client reconnects; this does not, so peer links survive an endpoint restart.
pub type SessionId = u64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignalPayload {
    /// "I am this session": sent to every peer on (re)joining, and in reply to an unknown hello.
    /// It carries the sender's display name, so a friend whose link cannot open is still shown
    /// by name (with why it cannot open) rather than as a stranger.
    Hello {
        session: SessionId,
        reply: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    /// An SDP offer or answer (perfect negotiation); it carries the DTLS fingerprint, which is
    /// why it must be authenticated.
    Description {
        session: SessionId,
        sdp_type: SdpType,
        sdp: String,
    },
    /// A trickled ICE candidate; an empty `candidate` marks the end of candidates.
    Candidate {
        session: SessionId,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_m_line_index: Option<u16>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    Offer,
    Answer,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("payload of {0} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("payload is not a signaling message: {0}")]
    Malformed(String),
}

impl SignalPayload {
    pub fn session(&self) -> SessionId {
        match self {
            SignalPayload::Hello { session, .. }
            | SignalPayload::Description { session, .. }
            | SignalPayload::Candidate { session, .. } => *session,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("signaling payloads always serialize")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        if bytes.len() > MAX_PAYLOAD_BYTES {
            return Err(PayloadError::TooLarge(bytes.len()));
        }
        serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let payloads = [
            SignalPayload::Hello {
                session: 7,
                reply: false,
                name: None,
            },
            SignalPayload::Hello {
                session: 7,
                reply: true,
                name: Some("Ada".into()),
            },
            SignalPayload::Description {
                session: 7,
                sdp_type: SdpType::Offer,
                sdp: "v=0\r\n".into(),
            },
            SignalPayload::Candidate {
                session: 7,
                candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        ];
        for payload in payloads {
            assert_eq!(
                SignalPayload::decode(&payload.encode()),
                Ok(payload.clone())
            );
            assert_eq!(payload.session(), 7);
        }
    }

    #[test]
    fn a_hello_from_before_names_still_reads() {
        assert_eq!(
            SignalPayload::decode(br#"{"kind":"hello","session":7,"reply":false}"#),
            Ok(SignalPayload::Hello {
                session: 7,
                reply: false,
                name: None
            })
        );
    }

    #[test]
    fn refuses_oversized_and_malformed() {
        assert_eq!(
            SignalPayload::decode(&vec![b' '; MAX_PAYLOAD_BYTES + 1]),
            Err(PayloadError::TooLarge(MAX_PAYLOAD_BYTES + 1))
        );
        assert!(matches!(
            SignalPayload::decode(b"{\"kind\":\"hello\"}"),
            Err(PayloadError::Malformed(_))
        ));
        assert!(matches!(
            SignalPayload::decode(&[0xff, 0x00]),
            Err(PayloadError::Malformed(_))
        ));
    }
}
