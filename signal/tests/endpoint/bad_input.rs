//! Every kind of bad input gets its error code, and disturbs nobody else.

use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

/// A pair in another topic that must keep relaying whatever the others do.
struct Bystanders {
    a: Client,
    b: Client,
}

impl Bystanders {
    async fn new(server: &TestServer) -> Bystanders {
        let room = topic();
        let mut a = server.join(&room).await;
        let b = server.join(&room).await;
        a.next_json().await;
        Bystanders { a, b }
    }

    async fn still_fine(&mut self) {
        self.a.send_data(&self.b.id, "c3RpbGwgZmluZQ").await;
        assert_eq!(self.b.next_json().await["data"], "c3RpbGwgZmluZQ");
    }
}

#[tokio::test]
async fn each_bad_frame_gets_its_code_and_the_connection_survives() {
    let server = TestServer::start(config()).await;
    let mut bystanders = Bystanders::new(&server).await;
    let room = topic();
    let mut bad = server.join(&room).await;
    let mut peer = server.join(&room).await;
    bad.next_json().await;
    let unknown = insieme_signal::protocol::PeerId::random().to_string();

    let cases: Vec<(String, &str)> = vec![
        ("this is not json".into(), "bad_json"),
        ("{\"type\":".into(), "bad_json"),
        ("[\"data\"]".into(), "bad_json"),
        ("{\"to\":\"x\",\"data\":\"aa\"}".into(), "bad_json"),
        ("{\"type\":\"shout\"}".into(), "unknown_type"),
        ("{\"type\":\"data\"}".into(), "bad_message"),
        (
            format!("{{\"type\":\"data\",\"to\":\"{}\",\"data\":42}}", peer.id),
            "bad_message",
        ),
        (
            format!("{{\"type\":\"data\",\"to\":\"{}\",\"data\":\"\"}}", peer.id),
            "bad_data",
        ),
        (
            format!(
                "{{\"type\":\"data\",\"to\":\"{}\",\"data\":\"a+/=\"}}",
                peer.id
            ),
            "bad_data",
        ),
        (
            format!("{{\"type\":\"data\",\"to\":\"{unknown}\",\"data\":\"aa\"}}"),
            "unknown_peer",
        ),
        (
            r#"{"type":"data","to":"SELF","data":"aa"}"#.into(),
            "unknown_peer",
        ),
        (
            "{\"type\":\"data\",\"to\":\"not-an-id\",\"data\":\"aa\"}".into(),
            "unknown_peer",
        ),
    ];
    // Fewer cases than the default strike allowance (10) per burst would close the socket;
    // split them with a pause-free check that the socket still relays.
    for (index, (text, code)) in cases.iter().enumerate() {
        if index == 6 {
            // Strikes recover over a minute; use a fresh connection for the second half.
            drop(bad);
            peer.next_json().await; // left
            bad = server.join(&room).await;
            peer.next_json().await; // joined
        }
        bad.send_text(text.replace("SELF", &bad.id)).await;
        bad.expect_error(code).await;
    }
    bad.send_data(&peer.id, "b2s").await;
    assert_eq!(
        peer.next_json().await["data"],
        "b2s",
        "still relays after errors"
    );
    bystanders.still_fine().await;
    server.stop().await;
}

#[tokio::test]
async fn binary_frames_are_refused_with_a_code() {
    let server = TestServer::start(config()).await;
    let mut bystanders = Bystanders::new(&server).await;
    let mut client = server.join(&topic()).await;
    client
        .ws
        .send(Message::binary(vec![0u8, 159, 146, 150]))
        .await
        .unwrap();
    client.expect_error("binary_frame").await;
    bystanders.still_fine().await;
    server.stop().await;
}

#[tokio::test]
async fn oversized_frames_get_too_large_then_close_1009() {
    let server = TestServer::start(config()).await;
    let mut bystanders = Bystanders::new(&server).await;
    let room = topic();
    let mut big = server.join(&room).await;
    let mut other = server.join(&room).await;
    big.next_json().await;
    let payload = "A".repeat(insieme_signal::config::DEFAULT_MAX_FRAME_BYTES + 1);
    big.send_data(&other.id, &payload).await;
    let (code, before) = big.expect_close().await;
    assert_eq!(code, 1009);
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["code"], "too_large");
    assert_eq!(other.next_json().await["type"], "left");
    bystanders.still_fine().await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_topics_are_refused_with_400_before_any_upgrade() {
    let server = TestServer::start(config()).await;
    let valid = topic();
    let cases = [
        "/ws".to_owned(),
        "/ws/".to_owned(),
        "/ws/short".to_owned(),
        format!("/ws/{}", &valid[..42]),
        format!("/ws/{valid}A"),
        format!("/ws/{}+", &valid[..42]),
        format!("/ws/{}%2F", &valid[..42]),
        "/ws/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB".to_owned(),
        "/ws/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned(),
        format!("/ws/{valid}/extra"),
    ];
    let upgrade = [
        // `close` too, so the refusal ends the connection and the helper can read it all.
        ("connection", "upgrade, close"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for path in &cases {
        let (status, _, _) = http_get(server.addr, path, &upgrade).await;
        assert!(
            status == 400 || (status == 404 && path.ends_with("/extra")),
            "{path}: {status}"
        );
    }
    // The same request with a valid topic upgrades.
    server.join(&valid).await;
    // A plain GET to a valid topic is not a WebSocket request.
    let status = http_status(server.addr, &format!("/ws/{valid}")).await;
    assert!((400..500).contains(&status), "{status}");
    server.stop().await;
}

#[tokio::test]
async fn floods_get_rate_limited_then_closed_1008_without_hurting_the_room() {
    let config = insieme_signal::Config {
        // One token per second: the 40 frames below arrive well within one refill.
        rate: 1,
        rate_burst: 10,
        max_strikes: 3,
        ..config()
    };
    let server = TestServer::start(config).await;
    let mut bystanders = Bystanders::new(&server).await;
    let room = topic();
    let mut flooder = server.join(&room).await;
    let mut victim = server.join(&room).await;
    let mut witness = server.join(&room).await;
    flooder.next_json().await;
    flooder.next_json().await;
    victim.next_json().await;
    for _ in 0..40 {
        // Errors may close the socket mid-way; later sends then fail, which is fine.
        let text = serde_json::json!({"type": "data", "to": victim.id, "data": "Zmxvb2Q"});
        if flooder
            .ws
            .send(Message::text(text.to_string()))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, frames) = flooder.expect_close().await;
    assert_eq!(code, 1008);
    let limited = frames
        .iter()
        .filter(|f| f["code"] == "rate_limited")
        .count();
    assert_eq!(limited, 4, "3 forgiven, the 4th closes: {frames:?}");
    // The victim got the burst (plus at most a refill or two on a slow machine), then saw the
    // flooder leave.
    let mut relayed = 0;
    loop {
        let frame = victim.next_json().await;
        if frame["type"] == "left" {
            break;
        }
        assert_eq!(frame["data"], "Zmxvb2Q");
        relayed += 1;
    }
    assert!((10..=12).contains(&relayed), "{relayed}");
    witness.send_data(&victim.id, "c3RpbGwgaGVyZQ").await;
    assert_eq!(victim.next_json().await["data"], "c3RpbGwgaGVyZQ");
    bystanders.still_fine().await;
    server.stop().await;
}
