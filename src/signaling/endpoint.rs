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

/// Close codes of signal/PROTOCOL.md that say more than "reconnect".
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_TOPIC_FULL: u16 = 1013;

/// Attempts without a welcome after which the endpoint is said to be keeping us out rather
/// than restarting (about ten seconds of backoff), and after which it is tried only every
/// [`SLOW_RETRY_MS`] (about a minute and a half): a refusal that lasts costs it one request per
/// member per half minute.
const PATIENCE: u32 = 5;
const SLOW_AFTER: u32 = 20;
/// How often a full room, or an endpoint that keeps refusing, is tried again (±50 %).
const SLOW_RETRY_MS: f64 = 30_000.0;

/// How the socket to the endpoint ended, as far as a browser can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `new WebSocket()` threw: the browser will not open this URL from this page (a port it
    /// blocks, an unencrypted `ws://` from an https page, a malformed URL).
    Refused,
    /// Closed with this code before the endpoint's welcome. A refusal before the upgrade (HTTP
    /// 403: this site's origin is not allowed; 429: too many connections from this network;
    /// 503: at capacity or restarting) reaches the page only as a socket that failed to open
    /// (code 1006), exactly like an endpoint that is down: the page cannot tell which.
    BeforeWelcome(u16),
    /// Closed with this code after the welcome.
    AfterWelcome(u16),
}

/// Why the endpoint is out of reach, as the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// It went away (a restart, a network blip): back in a moment.
    Reconnecting,
    /// It has not let us in for a while: it is down, or refuses this page.
    KeepsUsOut,
    /// The room has as many people as the endpoint admits (close 1013).
    RoomFull,
    /// It cut us off for breaking its rules: errors, a message too large, not reading (1008,
    /// 1009).
    CutOff,
    /// The browser refuses to connect to it from this page: trying again cannot help.
    Refused,
}

impl Outage {
    /// What the person reads.
    pub fn message(self) -> &'static str {
        match self {
            Outage::Reconnecting => {
                "Reconnecting to the signaling server… people already here stay connected."
            }
            Outage::KeepsUsOut => {
                "The signaling server is not letting this page in: it is down, refuses this \
                 site, or limits your network. People already here stay connected; still trying."
            }
            Outage::RoomFull => {
                "This party is full: the signaling server admits nobody more. Trying again \
                 every half minute, in case someone leaves."
            }
            Outage::CutOff => {
                "The signaling server cut this page off (too many messages or errors); \
                 reconnecting. People already here stay connected."
            }
            Outage::Refused => {
                "Your browser will not connect to this site's signaling server: whoever runs \
                 the site must fix signaling_url in config.json."
            }
        }
    }
}

/// What to tell the person, and when to try again (never: `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub outage: Outage,
    pub retry_ms: Option<u32>,
}

/// The plan after `ending`, the `attempt`-th in a row without a welcome (1-based), with
/// `random` in [0, 1) for jitter. Only what cannot succeed is not retried: a full room may
/// empty, and what keeps us out may be a restart, a limit on the network, or a refusal the
/// page cannot tell apart from those.
pub fn plan_after(ending: Ending, attempt: u32, random: f64) -> Plan {
    let slow = (SLOW_RETRY_MS * (0.5 + random)) as u32;
    let backoff = match attempt > SLOW_AFTER {
        true => slow,
        false => reconnect_delay_ms(attempt, random) as u32,
    };
    let (outage, retry_ms) = match ending {
        Ending::Refused => (Outage::Refused, None),
        Ending::BeforeWelcome(CLOSE_TOPIC_FULL) | Ending::AfterWelcome(CLOSE_TOPIC_FULL) => {
            (Outage::RoomFull, Some(slow))
        }
        Ending::BeforeWelcome(CLOSE_POLICY | CLOSE_TOO_BIG)
        | Ending::AfterWelcome(CLOSE_POLICY | CLOSE_TOO_BIG) => (Outage::CutOff, Some(backoff)),
        _ if attempt > PATIENCE => (Outage::KeepsUsOut, Some(backoff)),
        _ => (Outage::Reconnecting, Some(backoff)),
    };
    Plan { outage, retry_ms }
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
    fn only_what_cannot_succeed_is_not_retried() {
        let refused = plan_after(Ending::Refused, 1, 0.5);
        assert_eq!((refused.outage, refused.retry_ms), (Outage::Refused, None));
        for ending in [
            Ending::BeforeWelcome(1006),
            Ending::BeforeWelcome(1013),
            Ending::AfterWelcome(1001),
            Ending::AfterWelcome(1006),
            Ending::AfterWelcome(1008),
            Ending::AfterWelcome(1009),
            Ending::AfterWelcome(1012),
        ] {
            for attempt in [1, 5, 6, 100, u32::MAX] {
                assert!(
                    plan_after(ending, attempt, 0.5).retry_ms.is_some(),
                    "{ending:?}"
                );
            }
        }
    }

    #[test]
    fn what_happened_is_said_plainly() {
        let outage = |ending, attempt| plan_after(ending, attempt, 0.5).outage;
        // A restart or a blip: reconnecting, quickly.
        assert_eq!(outage(Ending::AfterWelcome(1012), 1), Outage::Reconnecting);
        assert_eq!(outage(Ending::BeforeWelcome(1006), 5), Outage::Reconnecting);
        // Failing to get in for longer: it is down or refuses us, and the page cannot say which.
        assert_eq!(outage(Ending::BeforeWelcome(1006), 6), Outage::KeepsUsOut);
        assert_eq!(outage(Ending::BeforeWelcome(1013), 1), Outage::RoomFull);
        assert_eq!(outage(Ending::AfterWelcome(1013), 1), Outage::RoomFull);
        assert_eq!(outage(Ending::AfterWelcome(1008), 1), Outage::CutOff);
        assert_eq!(outage(Ending::BeforeWelcome(1009), 9), Outage::CutOff);
        for outage in [
            Outage::Reconnecting,
            Outage::KeepsUsOut,
            Outage::RoomFull,
            Outage::CutOff,
            Outage::Refused,
        ] {
            assert!(outage.message().contains("signaling server"), "{outage:?}");
        }
    }

    #[test]
    fn a_full_room_and_a_long_refusal_are_tried_slowly() {
        let retry = |ending, attempt| plan_after(ending, attempt, 0.5).retry_ms.unwrap();
        assert_eq!(retry(Ending::BeforeWelcome(1006), 1), 250);
        assert_eq!(retry(Ending::BeforeWelcome(1006), 20), 5_000);
        assert_eq!(retry(Ending::BeforeWelcome(1006), 21), 30_000);
        assert_eq!(retry(Ending::BeforeWelcome(1013), 1), 30_000);
        assert_eq!(
            plan_after(Ending::BeforeWelcome(1013), 1, 0.0).retry_ms,
            Some(15_000)
        );
        assert_eq!(retry(Ending::AfterWelcome(1008), 1), 250);
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
