//! Protocol v1 on the wire, server side: topics, peer ids, the borrowing parser of client
//! messages, error codes and the fast builders of frequent frames. The frames' shapes themselves
//! are in the shared crate `insieme-signal-protocol` (signal/protocol), which clients use too.
//!
//! This module is pure (no I/O, no clock) so the parser can be property-tested and fuzzed.
//! PROTOCOL.md is the human-readable version of this file; keep them in step.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

/// Characters in a topic: 256 bits in unpadded base64url.
pub const TOPIC_LEN: usize = 43;
/// Characters in a peer id: 128 random bits in unpadded base64url.
pub const PEER_ID_LEN: usize = 22;

/// A room, as the endpoint sees it: an opaque 256-bit value (the browsers derive it by hashing
/// the room secret, so the endpoint never learns the secret itself).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic([u8; 32]);

impl Topic {
    /// Parses the canonical 43-character base64url form. Anything else (wrong length, another
    /// alphabet, padding, stray low bits in the last character) is refused, so that one room
    /// has exactly one spelling and a load balancer hashing the path sends it to one place.
    pub fn parse(text: &str) -> Option<Topic> {
        if text.len() != TOPIC_LEN {
            return None;
        }
        let mut bytes = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(32) => Some(Topic(bytes)),
            _ => None,
        }
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Topic {
        Topic(bytes)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// Logs name a topic by a short prefix only: enough to follow one room, not enough to join it.
impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = URL_SAFE_NO_PAD.encode(self.0);
        write!(f, "Topic({}…)", &full[..8])
    }
}

/// A connection's identity inside its topic, drawn by the server from the OS random source
/// so that nobody can guess or choose another peer's id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerId(u128);

impl PeerId {
    pub fn random() -> PeerId {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the OS random source is available");
        PeerId(u128::from_le_bytes(bytes))
    }

    pub fn from_u128(value: u128) -> PeerId {
        PeerId(value)
    }

    /// Parses the canonical 22-character base64url form.
    pub fn parse(text: &str) -> Option<PeerId> {
        if text.len() != PEER_ID_LEN {
            return None;
        }
        let mut bytes = [0u8; 16];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut bytes) {
            Ok(16) => Some(PeerId(u128::from_le_bytes(bytes))),
            _ => None,
        }
    }

    /// The wire form, without allocating.
    pub fn encode(&self) -> PeerIdText {
        let mut out = [0u8; PEER_ID_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(self.0.to_le_bytes(), &mut out)
            .expect("16 bytes encode to exactly 22 characters");
        debug_assert_eq!(written, PEER_ID_LEN);
        PeerIdText(out)
    }
}

/// The 22 ASCII characters of a peer id.
#[derive(Clone, Copy)]
pub struct PeerIdText([u8; PEER_ID_LEN]);

impl PeerIdText {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("base64url is ASCII")
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.encode().as_str())
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({})", self.encode().as_str())
    }
}

/// What a client may send, borrowed from the frame it arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage<'a> {
    /// Relay `data` to the peer `to` of the same topic.
    Data { to: PeerId, data: Cow<'a, str> },
    /// Leave the topic; the server answers by closing the socket with 1000.
    Leave,
}

/// Stable error codes, sent in `error` frames and counted in metrics. Clients may match on
/// them; the human message beside them may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The text frame is not a JSON object with a string `type`.
    BadJson,
    /// A known `type` with missing or ill-typed fields.
    BadMessage,
    /// A `type` this version does not know.
    UnknownType,
    /// A binary WebSocket frame; v1 speaks only text frames.
    BinaryFrame,
    /// A frame larger than the server's limit; the server then closes with 1009.
    TooLarge,
    /// `data` is empty or not unpadded base64url.
    BadData,
    /// `to` names no other peer currently in the topic.
    UnknownPeer,
    /// The connection sends faster than its rate limit; the message was dropped.
    RateLimited,
    /// The recipient has as much waiting for it as it may (it reads slower than it is sent
    /// to); the message was dropped.
    PeerBusy,
    /// The topic already holds the maximum number of peers; the server then closes with 1013.
    TopicFull,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::BadJson,
        ErrorCode::BadMessage,
        ErrorCode::UnknownType,
        ErrorCode::BinaryFrame,
        ErrorCode::TooLarge,
        ErrorCode::BadData,
        ErrorCode::UnknownPeer,
        ErrorCode::RateLimited,
        ErrorCode::PeerBusy,
        ErrorCode::TopicFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::BinaryFrame => "binary_frame",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BadData => "bad_data",
            ErrorCode::UnknownPeer => "unknown_peer",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::PeerBusy => "peer_busy",
            ErrorCode::TopicFull => "topic_full",
        }
    }

    /// The default human-readable explanation.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "expected a JSON object with a string \"type\"",
            ErrorCode::BadMessage => "missing or ill-typed fields for this message type",
            ErrorCode::UnknownType => "unknown message type",
            ErrorCode::BinaryFrame => "binary frames are not supported; send JSON text frames",
            ErrorCode::TooLarge => "frame exceeds the size limit",
            ErrorCode::BadData => "\"data\" must be a non-empty unpadded base64url string",
            ErrorCode::UnknownPeer => "no other peer with this id in the topic",
            ErrorCode::RateLimited => "too many messages; this one was dropped",
            ErrorCode::PeerBusy => {
                "the recipient has too much waiting for it already; this message was dropped"
            }
            ErrorCode::TopicFull => "the topic has reached its peer limit",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The envelope every client frame must match; unknown fields are ignored so that later
/// versions can add optional ones.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    to: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    data: Option<Cow<'a, str>>,
}

/// Parses one client text frame. Never panics, whatever the input (see the property test
/// below and the fuzz target in `fuzz/`).
pub fn parse_client_message(text: &str) -> Result<ClientMessage<'_>, ErrorCode> {
    // serde would also accept a JSON array as a struct (fields in order); v1 is objects only.
    if !text.trim_start().starts_with('{') {
        return Err(ErrorCode::BadJson);
    }
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|error| {
        // Valid JSON of the wrong shape (e.g. `{"type":"data","to":5}`) is a bad message if it
        // named a type; anything else is not our JSON at all.
        if error.is_data() && has_string_type(text) {
            ErrorCode::BadMessage
        } else {
            ErrorCode::BadJson
        }
    })?;
    match envelope.kind.as_ref() {
        "data" => {
            let (Some(to), Some(data)) = (envelope.to, envelope.data) else {
                return Err(ErrorCode::BadMessage);
            };
            if !is_base64url(&data) {
                return Err(ErrorCode::BadData);
            }
            let to = PeerId::parse(&to).ok_or(ErrorCode::UnknownPeer)?;
            Ok(ClientMessage::Data { to, data })
        }
        "leave" => Ok(ClientMessage::Leave),
        _ => Err(ErrorCode::UnknownType),
    }
}

fn has_string_type(text: &str) -> bool {
    #[derive(Deserialize)]
    struct TypeOnly<'a> {
        #[serde(rename = "type", borrow)]
        _kind: Cow<'a, str>,
    }
    serde_json::from_str::<TypeOnly<'_>>(text).is_ok()
}

/// Non-empty, unpadded base64url. Checking the alphabet is what lets the server embed `data`
/// in the frames it sends without escaping (see [`data_frame`]).
pub fn is_base64url(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// The frames' shapes live in the protocol crate, shared with the browser client. Built with
// serde where speed does not matter; the hot ones (`data`, `joined`, `left`) are assembled
// directly by the functions below.
pub use insieme_signal_protocol::{ClientFrame, ServerMessage, TurnCredential, PROTOCOL_VERSION};

pub fn welcome_frame(
    id: PeerId,
    peers: &[PeerId],
    max_bytes: usize,
    turn: Option<TurnCredential>,
) -> String {
    let message = ServerMessage::Welcome {
        v: PROTOCOL_VERSION,
        id: id.to_string(),
        peers: peers.iter().map(PeerId::to_string).collect(),
        max_bytes,
        turn,
    };
    serde_json::to_string(&message).expect("server messages always serialize")
}

pub fn joined_frame(peer: PeerId) -> String {
    format!(r#"{{"type":"joined","peer":"{}"}}"#, peer.encode().as_str())
}

pub fn left_frame(peer: PeerId) -> String {
    format!(r#"{{"type":"left","peer":"{}"}}"#, peer.encode().as_str())
}

/// `data` must already have passed [`is_base64url`], so it needs no JSON escaping.
pub fn data_frame(from: PeerId, data: &str) -> String {
    debug_assert!(is_base64url(data));
    const FIXED: &str = r#"{"type":"data","from":"","data":""}"#;
    let mut out = String::with_capacity(FIXED.len() + PEER_ID_LEN + data.len());
    out.push_str(r#"{"type":"data","from":""#);
    out.push_str(from.encode().as_str());
    out.push_str(r#"","data":""#);
    out.push_str(data);
    out.push_str(r#""}"#);
    out
}

pub fn error_frame(code: ErrorCode) -> String {
    let message = ServerMessage::Error {
        code: code.as_str().to_owned(),
        message: code.message().to_owned(),
    };
    serde_json::to_string(&message).expect("server messages always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOPIC: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn topics_parse_only_in_canonical_form() {
        assert!(Topic::parse(TOPIC).is_some());
        let random = Topic::from_bytes([0xAB; 32]);
        assert_eq!(Topic::parse(&random.to_string()), Some(random));
        assert!(Topic::parse(&TOPIC[..42]).is_none(), "too short");
        assert!(Topic::parse(&format!("{TOPIC}A")).is_none(), "too long");
        assert!(
            Topic::parse(&TOPIC.replace('A', "+")).is_none(),
            "standard alphabet"
        );
        // 43 characters carry 258 bits; the last two must be zero in the canonical form.
        assert!(Topic::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB").is_none());
        assert!(Topic::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE").is_some());
        assert!(Topic::parse("").is_none());
        assert!(!format!("{:?}", random).contains(&random.to_string()));
    }

    #[test]
    fn peer_ids_round_trip_and_differ() {
        let a = PeerId::random();
        let b = PeerId::random();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), PEER_ID_LEN);
        assert_eq!(PeerId::parse(&a.to_string()), Some(a));
        assert!(PeerId::parse("short").is_none());
    }

    #[test]
    fn parses_each_client_message() {
        let to = PeerId::random();
        // Written as clients write them (the shared `ClientFrame`), so both sides agree.
        let text = ClientFrame::Data {
            to: to.encode().as_str(),
            data: "aGVsbG8",
        }
        .to_json();
        assert_eq!(
            parse_client_message(&text),
            Ok(ClientMessage::Data {
                to,
                data: "aGVsbG8".into()
            })
        );
        assert_eq!(
            parse_client_message(&ClientFrame::Leave.to_json()),
            Ok(ClientMessage::Leave)
        );
        assert_eq!(
            parse_client_message(r#"{"type":"leave","future":"field"}"#),
            Ok(ClientMessage::Leave),
            "unknown fields are ignored"
        );
    }

    #[test]
    fn classifies_bad_input() {
        let to = PeerId::random();
        let cases: Vec<(String, ErrorCode)> = vec![
            ("".into(), ErrorCode::BadJson),
            ("not json".into(), ErrorCode::BadJson),
            ("[1,2]".into(), ErrorCode::BadJson),
            (r#"["data","x","aa"]"#.into(), ErrorCode::BadJson),
            (r#"{"to":"x"}"#.into(), ErrorCode::BadJson),
            (r#"{"type":5}"#.into(), ErrorCode::BadJson),
            (r#"{"type":"data"#.into(), ErrorCode::BadJson),
            (r#"{"type":"shout"}"#.into(), ErrorCode::UnknownType),
            (r#"{"type":"data"}"#.into(), ErrorCode::BadMessage),
            (
                r#"{"type":"data","to":5,"data":"x"}"#.into(),
                ErrorCode::BadMessage,
            ),
            (
                format!(r#"{{"type":"data","to":"{to}"}}"#),
                ErrorCode::BadMessage,
            ),
            (
                format!(r#"{{"type":"data","to":"{to}","data":""}}"#),
                ErrorCode::BadData,
            ),
            (
                format!(r#"{{"type":"data","to":"{to}","data":"a+b="}}"#),
                ErrorCode::BadData,
            ),
            (
                format!(r#"{{"type":"data","to":"{to}","data":"\"}}"}}"#),
                ErrorCode::BadData,
            ),
            (
                r#"{"type":"data","to":"nobody","data":"aa"}"#.into(),
                ErrorCode::UnknownPeer,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_client_message(&text), Err(expected), "input: {text}");
        }
    }

    #[test]
    fn server_frames_are_valid_json_of_the_documented_shape() {
        let a = PeerId::random();
        let b = PeerId::random();
        let frames = [
            welcome_frame(a, &[b], 1024, None),
            joined_frame(b),
            left_frame(b),
            data_frame(b, "aGVsbG8"),
            error_frame(ErrorCode::UnknownPeer),
        ];
        for frame in frames {
            let parsed: ServerMessage = serde_json::from_str(&frame).expect(&frame);
            match parsed {
                ServerMessage::Welcome { v, id, peers, .. } => {
                    assert_eq!((v, id, peers), (1, a.to_string(), vec![b.to_string()]))
                }
                ServerMessage::Joined { peer } | ServerMessage::Left { peer } => {
                    assert_eq!(peer, b.to_string())
                }
                ServerMessage::Data { from, data } => {
                    assert_eq!((from, data), (b.to_string(), "aGVsbG8".to_string()))
                }
                ServerMessage::Error { code, .. } => assert_eq!(code, "unknown_peer"),
            }
        }
    }

    proptest! {
        /// Whatever arrives, the parser answers with a message or an error code, never a panic.
        #[test]
        fn parser_never_panics_on_arbitrary_text(text in ".{0,256}") {
            let _ = parse_client_message(&text);
        }

        /// JSON-ish noise, closer to real frames than arbitrary text, exercises deeper paths.
        #[test]
        fn parser_never_panics_on_json_like_text(
            kind in prop::sample::select(vec!["data", "leave", "welcome", "", "DATA"]),
            to in "[A-Za-z0-9_+/=-]{0,30}",
            data in "[A-Za-z0-9_+/=\"\\\\-]{0,40}",
            extra in "[{}\\[\\],:\" a-z0-9]{0,20}",
        ) {
            let text = format!(r#"{{"type":"{kind}","to":"{to}","data":"{data}"{extra}}}"#);
            let _ = parse_client_message(&text);
        }

        /// Every well-formed data message parses back to exactly what was sent, and the frame the
        /// server would relay is valid JSON carrying the same payload.
        #[test]
        fn data_messages_round_trip(raw in any::<u128>(), data in "[A-Za-z0-9_-]{1,200}") {
            let to = PeerId::from_u128(raw);
            let text = serde_json::json!({"type": "data", "to": to.to_string(), "data": data}).to_string();
            let parsed = parse_client_message(&text).unwrap();
            prop_assert_eq!(parsed, ClientMessage::Data { to, data: data.clone().into() });
            let relayed: ServerMessage = serde_json::from_str(&data_frame(to, &data)).unwrap();
            prop_assert_eq!(relayed, ServerMessage::Data { from: to.to_string(), data });
        }

        /// Topics parse exactly when they are 32 bytes in canonical base64url.
        #[test]
        fn topics_round_trip(bytes in any::<[u8; 32]>()) {
            let topic = Topic::from_bytes(bytes);
            prop_assert_eq!(Topic::parse(&topic.to_string()), Some(topic));
        }
    }
}
