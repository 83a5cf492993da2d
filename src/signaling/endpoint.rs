//! The client side of the endpoint's protocol v1 (see signal/PROTOCOL.md).

use serde::Deserialize;

/// The protocol version this client speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A frame from the endpoint. Unknown types are tolerated (`Unknown`) so that a newer endpoint
/// adding messages does not break older clients.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerFrame {
    /// Our transport id and who is already in the topic.
    Welcome {
        v: u32,
        id: String,
        peers: Vec<String>,
        max_bytes: usize,
    },
    Joined {
        peer: String,
    },
    Left {
        peer: String,
    },
    /// Opaque data from another peer, base64url.
    Data {
        from: String,
        data: String,
    },
    /// The endpoint refused something; `code` is stable, `message` is for humans.
    Error {
        code: String,
        message: String,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the endpoint sent a frame that is not protocol JSON: {0}")]
    Malformed(String),
    #[error("the endpoint speaks protocol v{0}, this client v{PROTOCOL_VERSION}")]
    Version(u32),
}

impl ServerFrame {
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let frame: ServerFrame =
            serde_json::from_str(text).map_err(|e| FrameError::Malformed(e.to_string()))?;
        match frame {
            ServerFrame::Welcome { v, .. } if v != PROTOCOL_VERSION => Err(FrameError::Version(v)),
            frame => Ok(frame),
        }
    }
}

/// `{"type":"data","to":…,"data":…}`: relay `data` (base64url) to the peer `to`.
pub fn data_frame(to: &str, data: &str) -> String {
    serde_json::json!({ "type": "data", "to": to, "data": data }).to_string()
}

/// `{"type":"leave"}`: leave the topic; the endpoint then closes the socket.
pub fn leave_frame() -> String {
    r#"{"type":"leave"}"#.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_server_frame() {
        assert_eq!(
            ServerFrame::parse(
                r#"{"type":"welcome","v":1,"id":"me","peers":["a","b"],"max_bytes":32768}"#
            ),
            Ok(ServerFrame::Welcome {
                v: 1,
                id: "me".into(),
                peers: vec!["a".into(), "b".into()],
                max_bytes: 32768
            })
        );
        assert_eq!(
            ServerFrame::parse(r#"{"type":"joined","peer":"p"}"#),
            Ok(ServerFrame::Joined { peer: "p".into() })
        );
        assert_eq!(
            ServerFrame::parse(r#"{"type":"left","peer":"p"}"#),
            Ok(ServerFrame::Left { peer: "p".into() })
        );
        assert_eq!(
            ServerFrame::parse(r#"{"type":"data","from":"p","data":"AAA"}"#),
            Ok(ServerFrame::Data {
                from: "p".into(),
                data: "AAA".into()
            })
        );
        assert!(matches!(
            ServerFrame::parse(r#"{"type":"error","code":"rate_limited","message":"slow down"}"#),
            Ok(ServerFrame::Error { .. })
        ));
        assert_eq!(
            ServerFrame::parse(r#"{"type":"shiny-new-thing"}"#),
            Ok(ServerFrame::Unknown)
        );
    }

    #[test]
    fn refuses_garbage_and_other_versions() {
        assert!(matches!(
            ServerFrame::parse("nope"),
            Err(FrameError::Malformed(_))
        ));
        assert!(matches!(
            ServerFrame::parse(r#"{"type":"data","from":5}"#),
            Err(FrameError::Malformed(_))
        ));
        assert_eq!(
            ServerFrame::parse(r#"{"type":"welcome","v":2,"id":"me","peers":[],"max_bytes":1}"#),
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
}
