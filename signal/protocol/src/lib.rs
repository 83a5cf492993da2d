//! The signaling protocol v1 on the wire (see signal/PROTOCOL.md), in one place for both sides:
//! the endpoint (`insieme-signal`) serializes these frames and the browser client reads them,
//! so the two cannot drift apart. Only serde and serde_json: it builds for the server and wasm.

use serde::{Deserialize, Serialize};

/// Version announced in every welcome; bumped only for incompatible changes.
pub const PROTOCOL_VERSION: u32 = 1;

/// Messages the server sends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage {
    /// Your peer id in the topic, and the peers already there.
    Welcome {
        v: u32,
        id: String,
        peers: Vec<String>,
        max_bytes: usize,
        /// Short-lived TURN credentials for this client, when the endpoint holds a TURN secret
        /// (see [`TurnCredential`]); absent otherwise, and ignored by clients that predate it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        turn: Option<TurnCredential>,
    },
    Joined {
        peer: String,
    },
    Left {
        peer: String,
    },
    /// Opaque data (base64url) from another peer of the topic.
    Data {
        from: String,
        data: String,
    },
    /// A refusal: `code` is stable, `message` is for humans.
    Error {
        code: String,
        message: String,
    },
}

/// A TURN credential in coturn's REST scheme (`use-auth-secret`): `username` is
/// `<unix expiry>:<random id>` and `credential` is `base64(HMAC-SHA1(secret, username))`, so the
/// TURN server checks it with the shared secret alone and it stops working at the expiry. The
/// TURN URLs themselves come from the app's `config.json`, not from the endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub credential: String,
    /// Seconds the credential was minted to live (the expiry is in `username`).
    pub ttl_secs: u64,
}

/// Messages a client sends. The endpoint reads them with its own borrowing parser (to answer
/// each mistake with its exact error code); this type is how clients write them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientFrame<'a> {
    /// Relay `data` (unpadded base64url) to the peer `to` of the same topic.
    Data { to: &'a str, data: &'a str },
    /// Leave the topic; the endpoint closes the socket with 1000.
    Leave,
}

impl ClientFrame<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("client frames always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_have_the_documented_shape() {
        let data: serde_json::Value = serde_json::from_str(
            &ClientFrame::Data {
                to: "peer",
                data: "QUJD",
            }
            .to_json(),
        )
        .unwrap();
        assert_eq!(
            data,
            serde_json::json!({"type": "data", "to": "peer", "data": "QUJD"})
        );
        assert_eq!(ClientFrame::Leave.to_json(), r#"{"type":"leave"}"#);
    }

    #[test]
    fn server_messages_round_trip() {
        let welcome = ServerMessage::Welcome {
            v: 1,
            id: "me".into(),
            peers: vec!["a".into()],
            max_bytes: 9,
            turn: None,
        };
        let text = serde_json::to_string(&welcome).unwrap();
        assert_eq!(
            text,
            r#"{"type":"welcome","v":1,"id":"me","peers":["a"],"max_bytes":9}"#
        );
        assert_eq!(
            serde_json::from_str::<ServerMessage>(&text).unwrap(),
            welcome
        );
    }
}
