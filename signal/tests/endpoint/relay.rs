//! The happy path: welcome, joined, data both ways, left, leave.

use crate::common::*;

#[tokio::test]
async fn peers_meet_exchange_data_and_leave() {
    let server = TestServer::start(config()).await;
    let room = topic();

    let mut alice = server.join(&room).await;
    assert!(alice.peers.is_empty(), "first peer sees nobody");
    assert_eq!(alice.id.len(), 22);

    let mut bob = server.join(&room).await;
    assert_eq!(bob.peers, vec![alice.id.clone()]);
    assert_ne!(bob.id, alice.id);
    let joined = alice.next_json().await;
    assert_eq!(
        joined,
        serde_json::json!({"type": "joined", "peer": bob.id})
    );

    let mut carol = server.join(&room).await;
    assert_eq!(carol.peers, vec![alice.id.clone(), bob.id.clone()]);
    alice.next_json().await;
    bob.next_json().await;

    alice.send_data(&bob.id, "b2ZmZXI").await;
    let data = bob.next_json().await;
    assert_eq!(
        data,
        serde_json::json!({"type": "data", "from": alice.id, "data": "b2ZmZXI"})
    );
    bob.send_data(&alice.id, "YW5zd2Vy").await;
    assert_eq!(alice.next_json().await["data"], "YW5zd2Vy");

    // Carol got nothing of the private exchange: her next frame is Bob leaving.
    drop(bob.ws);
    let left = carol.next_json().await;
    assert_eq!(left, serde_json::json!({"type": "left", "peer": bob.id}));
    assert_eq!(alice.next_json().await["type"], "left");

    carol.send_text(r#"{"type":"leave"}"#).await;
    let (code, _) = carol.expect_close().await;
    assert_eq!(code, 1000);
    assert_eq!(
        alice.next_json().await,
        serde_json::json!({"type": "left", "peer": carol.id})
    );
    server.stop().await;
}

#[tokio::test]
async fn topics_are_isolated() {
    let server = TestServer::start(config()).await;
    let (one, two) = (topic(), topic());
    let mut a = server.join(&one).await;
    let b = server.join(&two).await;
    assert!(b.peers.is_empty(), "another topic's peers are invisible");
    a.send_data(&b.id, "aGk").await;
    a.expect_error("unknown_peer").await;
    server.stop().await;
}

#[tokio::test]
async fn large_payload_up_to_the_limit_is_relayed_intact() {
    let server = TestServer::start(config()).await;
    let room = topic();
    let mut a = server.join(&room).await;
    let mut b = server.join(&room).await;
    a.next_json().await;
    // Leave room for the JSON envelope around the payload.
    let payload = "x".repeat(insieme_signal::config::DEFAULT_MAX_FRAME_BYTES - 100);
    a.send_data(&b.id, &payload).await;
    assert_eq!(
        b.next_json().await["data"].as_str().unwrap().len(),
        payload.len()
    );
    server.stop().await;
}
