//! A rogue client of the endpoint: it knows a room's topic (as a curious or compromised endpoint
//! would) but not the room secret's key, and sends garbage to everyone in the room.

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The topic a room link leads to, derived here independently of the browser's WebCrypto code
/// (HKDF-SHA256, salt and label as in `src/web/room_crypto.rs`): a cross-check of that code.
pub fn topic_of_link(link: &str) -> Result<String> {
    let fragment = link.rsplit('#').next().context("link has no fragment")?;
    let secret = URL_SAFE_NO_PAD
        .decode(fragment)
        .context("fragment is not base64url")?;
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"insieme/v1"), &secret);
    let mut topic = [0u8; 32];
    hkdf.expand(b"insieme/v1 signaling topic", &mut topic)
        .expect("32 bytes is a valid HKDF length");
    Ok(URL_SAFE_NO_PAD.encode(topic))
}

/// Joins `topic_url` and sends each peer there a volley of garbage; returns how many were sent.
pub async fn spam_room(topic_url: &str) -> Result<usize> {
    let (mut socket, _) = tokio_tungstenite::connect_async(topic_url)
        .await
        .context("rogue connecting")?;
    let welcome = socket.next().await.context("no welcome")??;
    let welcome: serde_json::Value = serde_json::from_str(welcome.to_text()?)?;
    let peers: Vec<String> = welcome["peers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(
        !peers.is_empty(),
        "the rogue found nobody in the room: {welcome}"
    );
    let garbage = [
        URL_SAFE_NO_PAD.encode(b"v=0 not sealed at all"),
        URL_SAFE_NO_PAD.encode([0u8; 12 + 16 + 40]),
        URL_SAFE_NO_PAD.encode((0..=255u8).collect::<Vec<_>>()),
        "AA".to_owned(),
    ];
    let mut sent = 0;
    for peer in &peers {
        for data in &garbage {
            let frame = serde_json::json!({"type": "data", "to": peer, "data": data}).to_string();
            socket.send(Message::text(frame)).await?;
            sent += 1;
        }
    }
    // Malformed frames of every kind too; the endpoint answers them with errors.
    for frame in [r#"{"type":"data"}"#, "not json", r#"{"type":"hello"}"#] {
        socket.send(Message::text(frame)).await?;
    }
    socket.send(Message::binary(vec![1u8, 2, 3])).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = socket.close(None).await;
    Ok(sent)
}
