//! The client side of the endpoint's protocol v1 (see signal/PROTOCOL.md).

use crate::json::{self, ObjectWriter};
use insieme_signal_protocol::{ServerMessage, TurnCredential, PROTOCOL_VERSION};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the endpoint sent a frame that is not protocol JSON: {0}")]
    Malformed(String),
    #[error("the endpoint speaks protocol v{0}, this client v{PROTOCOL_VERSION}")]
    Version(u32),
}

/// Reads a frame from the endpoint: `Ok(None)` for a type this client does not know.
///
/// Read by hand with [`crate::json`] rather than through `ServerMessage`'s serde derive, which
/// would bring serde_json's parser and serde's buffering of tagged enums into the wasm; the tests
/// check this reader against every frame the derive writes, so the two cannot drift apart.
pub fn parse_server_frame(text: &str) -> Result<Option<ServerMessage>, FrameError> {
    match read_server_frame(text) {
        Ok(Some(ServerMessage::Welcome { v, .. })) if v != PROTOCOL_VERSION => {
            Err(FrameError::Version(v))
        }
        Ok(message) => Ok(message),
        Err(error) => Err(FrameError::Malformed(error.to_string())),
    }
}

/// Types this client does not know are skipped (`None`), so that a newer endpoint adding a
/// message does not break older clients; so are fields it does not know.
fn read_server_frame(text: &str) -> Result<Option<ServerMessage>, json::Error> {
    let value = json::parse(text)?;
    let fields = value.object()?;
    let message = match fields.str("type")? {
        "welcome" => {
            let v = fields.uint("v")?;
            let turn = match fields.get("turn") {
                None | Some(json::Value::Null) => None,
                Some(turn) => {
                    let turn = turn.object()?;
                    Some(TurnCredential {
                        username: turn.string("username")?,
                        credential: turn.string("credential")?,
                        ttl_secs: turn.u64("ttl_secs")?,
                    })
                }
            };
            ServerMessage::Welcome {
                v,
                id: fields.string("id")?,
                peers: fields.strings("peers")?,
                max_bytes: fields.uint("max_bytes")?,
                turn,
            }
        }
        "joined" => ServerMessage::Joined {
            peer: fields.string("peer")?,
        },
        "left" => ServerMessage::Left {
            peer: fields.string("peer")?,
        },
        "data" => ServerMessage::Data {
            from: fields.string("from")?,
            data: fields.string("data")?,
        },
        "error" => ServerMessage::Error {
            code: fields.string("code")?,
            message: fields.string("message")?,
        },
        _ => return Ok(None),
    };
    Ok(Some(message))
}

/// Relay `data` (base64url) to the peer `to`: `ClientFrame::Data`, as its serde derive writes it.
pub fn data_frame(to: &str, data: &str) -> String {
    ObjectWriter::new()
        .str("type", "data")
        .str("to", to)
        .str("data", data)
        .finish()
}

/// Leave the topic; the endpoint then closes the socket: `ClientFrame::Leave`.
pub fn leave_frame() -> String {
    ObjectWriter::new().str("type", "leave").finish()
}

/// First reconnect delay, and the ceiling the doubling stops at: short enough that newcomers
/// after an endpoint restart are answered within seconds.
const RECONNECT_START_MS: f64 = 250.0;
const RECONNECT_MAX_MS: f64 = 5_000.0;

/// Delay before reconnect attempt `attempt` (1-based): doubling from 250 ms up to 5 s, with
/// ±50 % jitter from `random` in [0, 1) so a restarted endpoint is not hit by everyone at once.
pub fn reconnect_delay_ms(attempt: u32, random: f64) -> f64 {
    let doublings = attempt.saturating_sub(1).min(16) as i32;
    let base = (RECONNECT_START_MS * 2f64.powi(doublings)).min(RECONNECT_MAX_MS);
    base * (0.5 + random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_server_frame() {
        assert_eq!(
            parse_server_frame(
                r#"{"type":"welcome","v":1,"id":"me","peers":["a","b"],"max_bytes":32768}"#
            ),
            Ok(Some(ServerMessage::Welcome {
                v: 1,
                id: "me".into(),
                peers: vec!["a".into(), "b".into()],
                max_bytes: 32768,
                turn: None,
            }))
        );
        assert_eq!(
            parse_server_frame(r#"{"type":"joined","peer":"p"}"#),
            Ok(Some(ServerMessage::Joined { peer: "p".into() }))
        );
        assert_eq!(
            parse_server_frame(r#"{"type":"left","peer":"p"}"#),
            Ok(Some(ServerMessage::Left { peer: "p".into() }))
        );
        assert_eq!(
            parse_server_frame(r#"{"type":"data","from":"p","data":"AAA"}"#),
            Ok(Some(ServerMessage::Data {
                from: "p".into(),
                data: "AAA".into()
            }))
        );
        assert!(matches!(
            parse_server_frame(r#"{"type":"error","code":"rate_limited","message":"slow down"}"#),
            Ok(Some(ServerMessage::Error { .. }))
        ));
        assert_eq!(
            parse_server_frame(r#"{"type":"shiny-new-thing"}"#),
            Ok(None)
        );
    }

    #[test]
    fn refuses_garbage_and_other_versions() {
        assert!(matches!(
            parse_server_frame("nope"),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            parse_server_frame(r#"{"type":"data","from":5}"#),
            Err(FrameError::Malformed(_))
        ));
        assert_eq!(
            parse_server_frame(r#"{"type":"welcome","v":2,"id":"me","peers":[],"max_bytes":1}"#),
            Err(FrameError::Version(2))
        );
    }

    /// Every frame the endpoint's serde derive writes reads back as itself.
    #[test]
    fn reads_what_the_endpoint_writes() {
        let frames = [
            ServerMessage::Welcome {
                v: PROTOCOL_VERSION,
                id: "me \"quoted\"".into(),
                peers: vec![],
                max_bytes: 32768,
                turn: Some(TurnCredential {
                    username: "1700000000:abc".into(),
                    credential: "c2VjcmV0".into(),
                    ttl_secs: 86400,
                }),
            },
            ServerMessage::Welcome {
                v: PROTOCOL_VERSION,
                id: "x".into(),
                peers: vec!["a".into(), "é".into()],
                max_bytes: 1,
                turn: None,
            },
            ServerMessage::Joined { peer: "p".into() },
            ServerMessage::Left { peer: "p".into() },
            ServerMessage::Data {
                from: "p".into(),
                data: "AAA".into(),
            },
            ServerMessage::Error {
                code: "rate_limited".into(),
                message: "slow\ndown".into(),
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(parse_server_frame(&text), Ok(Some(frame)), "{text}");
        }
        assert_eq!(
            parse_server_frame(
                r#"{"type":"welcome","v":1,"id":"me","peers":[],"max_bytes":1,"turn":null,"later":{"x":[1.5]}}"#
            ),
            Ok(Some(ServerMessage::Welcome {
                v: 1,
                id: "me".into(),
                peers: vec![],
                max_bytes: 1,
                turn: None,
            }))
        );
        assert!(matches!(
            parse_server_frame(
                r#"{"type":"welcome","v":1,"id":"me","peers":[],"max_bytes":1,"turn":{"username":"u"}}"#
            ),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            parse_server_frame(r#"{"kind":"joined","peer":"p"}"#),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn builds_client_frames() {
        let frame: serde_json::Value = serde_json::from_str(&data_frame("peer", "QUJD")).unwrap();
        assert_eq!(
            frame,
            serde_json::json!({"type": "data", "to": "peer", "data": "QUJD"})
        );
        assert_eq!(leave_frame(), r#"{"type":"leave"}"#);
        for (to, data) in [("peer", "QUJD"), ("we\"ird\\", "")] {
            assert_eq!(
                data_frame(to, data),
                insieme_signal_protocol::ClientFrame::Data { to, data }.to_json()
            );
        }
        assert_eq!(
            leave_frame(),
            insieme_signal_protocol::ClientFrame::Leave.to_json()
        );
    }

    #[test]
    fn reconnect_delays_double_up_to_a_ceiling_with_jitter() {
        let middle: Vec<f64> = (1..=7)
            .map(|attempt| reconnect_delay_ms(attempt, 0.5))
            .collect();
        assert_eq!(
            middle,
            [250.0, 500.0, 1000.0, 2000.0, 4000.0, 5000.0, 5000.0]
        );
        assert_eq!(reconnect_delay_ms(0, 0.5), 250.0);
        assert_eq!(reconnect_delay_ms(u32::MAX, 0.5), 5000.0);
        assert_eq!(reconnect_delay_ms(3, 0.0), 500.0);
        assert!(reconnect_delay_ms(3, 0.999) < 1500.0);
    }
}
