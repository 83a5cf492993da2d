//! What peers tell each other, sealed, through the endpoint: who they are, and what WebRTC needs
//! to connect them. Encoded as JSON before sealing (SDP is text; these messages are rare).

use crate::json::{self, ObjectWriter};
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

    /// The JSON serde derives for this type (`kind` tag, snake_case names), written by
    /// [`crate::json`] so the wasm carries no general JSON serializer; the tests hold the two equal.
    pub fn encode(&self) -> Vec<u8> {
        self.write_into(ObjectWriter::new()).finish().into_bytes()
    }

    /// This payload's fields, after whatever `object` already holds.
    fn write_into(&self, object: ObjectWriter) -> ObjectWriter {
        match self {
            SignalPayload::Hello {
                session,
                reply,
                name,
            } => {
                let hello = object
                    .str("kind", "hello")
                    .u64("session", *session)
                    .bool("reply", *reply);
                // Left out when absent, as the derive's `skip_serializing_if` does.
                match name {
                    Some(name) => hello.str("name", name),
                    None => hello,
                }
            }
            SignalPayload::Description {
                session,
                sdp_type,
                sdp,
            } => object
                .str("kind", "description")
                .u64("session", *session)
                .str("sdp_type", sdp_type.as_str())
                .str("sdp", sdp),
            SignalPayload::Candidate {
                session,
                candidate,
                sdp_mid,
                sdp_m_line_index,
            } => object
                .str("kind", "candidate")
                .u64("session", *session)
                .str("candidate", candidate)
                .opt_str("sdp_mid", sdp_mid.as_deref())
                .opt_u64("sdp_m_line_index", sdp_m_line_index.map(u64::from)),
        }
    }

    /// Reads what [`SignalPayload::encode`] (or serde_json, before it) wrote; fields it does not
    /// know are ignored, as serde's derive did.
    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        read_object(bytes, Self::from_fields)
    }

    fn from_fields(fields: &json::Fields<'_>) -> Result<Self, json::Error> {
        let session = || fields.u64("session");
        Ok(match fields.str("kind")? {
            "hello" => SignalPayload::Hello {
                session: session()?,
                reply: fields.bool("reply")?,
                name: fields.opt_string("name")?,
            },
            "description" => SignalPayload::Description {
                session: session()?,
                sdp_type: match fields.str("sdp_type")? {
                    "offer" => SdpType::Offer,
                    "answer" => SdpType::Answer,
                    other => {
                        return Err(json::Error::new(format!(
                            "unknown sdp_type `{other}`, expected `offer` or `answer`"
                        )))
                    }
                },
                sdp: fields.string("sdp")?,
            },
            "candidate" => SignalPayload::Candidate {
                session: session()?,
                candidate: fields.string("candidate")?,
                sdp_mid: fields.opt_string("sdp_mid")?,
                sdp_m_line_index: fields.opt_uint("sdp_m_line_index")?,
            },
            other => {
                return Err(json::Error::new(format!(
                    "unknown kind `{other}`, expected `hello`, `description` or `candidate`"
                )))
            }
        })
    }
}

/// What is sealed: a payload and its place in the sender's sequence.
///
/// Every page numbers what it seals from 1 up, and the others accept from each session only
/// numbers above the last they accepted, so the endpoint cannot replay a message into a live
/// link (see `mesh::Links`). The numbers belong to the sending page, whose session id is drawn
/// afresh on every load; the recipient's session id is bound into the seal's associated data
/// (see `web::room_crypto`), so nothing sealed for one page opens for its reload either.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub seq: u64,
    pub payload: SignalPayload,
}

impl Envelope {
    /// The payload's JSON with a `seq` field first.
    pub fn encode(&self) -> Vec<u8> {
        let object = ObjectWriter::new().u64("seq", self.seq);
        self.payload.write_into(object).finish().into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, PayloadError> {
        read_object(bytes, |fields| {
            Ok(Envelope {
                seq: fields.u64("seq")?,
                payload: SignalPayload::from_fields(fields)?,
            })
        })
    }
}

/// One JSON object of at most [`MAX_PAYLOAD_BYTES`], read by `read`.
fn read_object<T>(
    bytes: &[u8],
    read: impl FnOnce(&json::Fields<'_>) -> Result<T, json::Error>,
) -> Result<T, PayloadError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(PayloadError::TooLarge(bytes.len()));
    }
    let parsed = || -> Result<T, json::Error> {
        let text = std::str::from_utf8(bytes).map_err(|_| json::Error::new("not UTF-8"))?;
        read(&json::parse(text)?.object()?)
    };
    parsed().map_err(|e| PayloadError::Malformed(e.to_string()))
}

impl SdpType {
    fn as_str(self) -> &'static str {
        match self {
            SdpType::Offer => "offer",
            SdpType::Answer => "answer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_need_their_number() {
        let envelope = Envelope {
            seq: 42,
            payload: SignalPayload::Hello {
                session: 7,
                reply: false,
                name: Some("Ada".into()),
            },
        };
        assert_eq!(Envelope::decode(&envelope.encode()), Ok(envelope.clone()));
        // A bare payload (no number) is not an envelope.
        assert!(matches!(
            Envelope::decode(&envelope.payload.encode()),
            Err(PayloadError::Malformed(_))
        ));
    }

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

    /// Peers running the serde_json build read what this build writes, and the other way round.
    #[test]
    fn same_json_as_serde_derives() {
        let payloads = [
            SignalPayload::Hello {
                session: u64::MAX,
                reply: true,
                name: None,
            },
            SignalPayload::Hello {
                session: 5,
                reply: false,
                name: Some("Zoë \"Z\"".into()),
            },
            SignalPayload::Description {
                session: 1 << 60,
                sdp_type: SdpType::Answer,
                sdp: "v=0\r\no=- \"quoted\" \\ é\r\n".into(),
            },
            SignalPayload::Candidate {
                session: 0,
                candidate: String::new(),
                sdp_mid: None,
                sdp_m_line_index: None,
            },
            SignalPayload::Candidate {
                session: 3,
                candidate: "candidate:2 1 udp 2 192.0.2.1 9 typ host".into(),
                sdp_mid: Some("data".into()),
                sdp_m_line_index: Some(u16::MAX),
            },
        ];
        for payload in payloads {
            let derived = serde_json::to_vec(&payload).unwrap();
            assert_eq!(
                String::from_utf8(payload.encode()).unwrap(),
                String::from_utf8(derived.clone()).unwrap()
            );
            assert_eq!(SignalPayload::decode(&derived), Ok(payload));
        }
        // Field order, whitespace, absent options and unknown fields are serde's business too.
        assert_eq!(
            SignalPayload::decode(
                br#" { "session": 9, "candidate": "c", "kind": "candidate", "new": [1.5] } "#
            ),
            Ok(SignalPayload::Candidate {
                session: 9,
                candidate: "c".into(),
                sdp_mid: None,
                sdp_m_line_index: None,
            })
        );
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
        for bad in [
            &br#"{"kind":"wave","session":1}"#[..],
            br#"{"kind":"description","session":1,"sdp_type":"pranswer","sdp":""}"#,
            br#"{"kind":"candidate","session":1,"candidate":"","sdp_m_line_index":65536}"#,
            br#"{"kind":"hello","session":-1,"reply":true}"#,
            br#"{"kind":"hello","session":1,"reply":"yes"}"#,
            br#"["hello"]"#,
        ] {
            assert!(
                matches!(SignalPayload::decode(bad), Err(PayloadError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
