//! The client side of the endpoint's protocol v1 (see signal/PROTOCOL.md).

use insieme_signal_protocol::{ClientFrame, ServerMessage, PROTOCOL_VERSION};
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the endpoint sent a frame that is not protocol JSON: {0}")]
    Malformed(String),
    #[error("the endpoint speaks protocol v{0}, this client v{PROTOCOL_VERSION}")]
    Version(u32),
}

/// The frame types this client knows; others are skipped, so that a newer endpoint adding a
/// message does not break older clients.
const KNOWN_TYPES: [&str; 5] = ["welcome", "joined", "left", "data", "error"];

/// Reads a frame from the endpoint: `Ok(None)` for a type this client does not know.
pub fn parse_server_frame(text: &str) -> Result<Option<ServerMessage>, FrameError> {
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::Welcome { v, .. }) if v != PROTOCOL_VERSION => {
            Err(FrameError::Version(v))
        }
        Ok(message) => Ok(Some(message)),
        Err(error) => {
            #[derive(Deserialize)]
            struct TypeOnly {
                r#type: String,
            }
            match serde_json::from_str::<TypeOnly>(text) {
                Ok(TypeOnly { r#type }) if !KNOWN_TYPES.contains(&r#type.as_str()) => Ok(None),
                _ => Err(FrameError::Malformed(error.to_string())),
            }
        }
    }
}

/// Relay `data` (base64url) to the peer `to`.
pub fn data_frame(to: &str, data: &str) -> String {
    ClientFrame::Data { to, data }.to_json()
}

/// Leave the topic; the endpoint then closes the socket.
pub fn leave_frame() -> String {
    ClientFrame::Leave.to_json()
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

    #[test]
    fn builds_client_frames() {
        let frame: serde_json::Value = serde_json::from_str(&data_frame("peer", "QUJD")).unwrap();
        assert_eq!(
            frame,
            serde_json::json!({"type": "data", "to": "peer", "data": "QUJD"})
        );
        assert_eq!(leave_frame(), r#"{"type":"leave"}"#);
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
