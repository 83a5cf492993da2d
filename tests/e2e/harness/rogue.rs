//! Rogues. A client of the endpoint that knows a room's topic (as a curious or compromised
//! endpoint would) but not the room secret's key, and sends garbage to everyone in the room; and
//! a member who has the link but runs a modified client ([`RogueMember`]).

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// The topic a room link leads to, derived here independently of the browser's WebCrypto code
/// (HKDF-SHA256, salt and label as in `src/web/room_crypto.rs`): a cross-check of that code.
pub fn topic_of_link(link: &str) -> Result<String> {
    let fragment = link.rsplit('#').next().context("link has no fragment")?;
    // A link may name its host after a '.'; the topic comes from the secret alone.
    let fragment = fragment.split('.').next().unwrap_or(fragment);
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

/// Run before the app in a rogue member's pages: keeps every data channel the app makes, so the
/// test can send on them what a modified client would, with `window.__rogueSend(data, times)`:
/// each of `data` (byte arrays) `times` times on every open `state` channel (while its buffer
/// has room); returns on how many channels it sent.
const KEEP_DATA_CHANNELS: &str = "(() => {
    const kept = [];
    window.__rogueChannels = kept;
    window.__floodSent = 0;
    const create = RTCPeerConnection.prototype.createDataChannel;
    RTCPeerConnection.prototype.createDataChannel = function (...args) {
        const channel = create.apply(this, args);
        kept.push(channel);
        return channel;
    };
    window.__rogueSend = (data, times) => {
        let channels = 0;
        for (const channel of kept) {
            if (channel.label !== 'state' || channel.readyState !== 'open') continue;
            for (let i = 0; i < times && channel.bufferedAmount < 4e6; i++) {
                for (const bytes of data) channel.send(bytes);
                window.__floodSent += data.length;
            }
            channels += 1;
        }
        return channels;
    };
})();";

/// A member with the room link and a modified client: its pages run the real app, and the test
/// can make them send anything on their links.
pub struct RogueMember<'a>(pub &'a crate::harness::Browser);

impl RogueMember<'_> {
    /// Must come before the member opens the room.
    pub async fn arm(&self) -> Result<()> {
        self.0.add_script_before_pages(KEEP_DATA_CHANNELS).await
    }

    /// Starts sending each of `messages` (peer wire bytes) `per_tick` times every 10 ms on
    /// every open `state` channel, for `duration_ms`; returns at once.
    pub async fn start_flood(
        &self,
        messages: &[Vec<u8>],
        per_tick: u32,
        duration_ms: u32,
    ) -> Result<()> {
        self.0
            .client
            .execute(
                "const [messages, perTick, durationMs] = arguments;
                 const data = messages.map(m => new Uint8Array(m));
                 const started = performance.now();
                 window.__floodSent = 0;
                 window.__flooding = true;
                 const timer = setInterval(() => {
                     if (performance.now() - started > durationMs) {
                         window.__flooding = false;
                         return clearInterval(timer);
                     }
                     window.__rogueSend(data, perTick);
                 }, 10);",
                vec![
                    serde_json::json!(messages),
                    serde_json::json!(per_tick),
                    serde_json::json!(duration_ms),
                ],
            )
            .await
            .context("starting the flood")?;
        Ok(())
    }

    /// Sends each of `messages` (peer wire bytes) once on every open `state` channel, right
    /// away rather than from a timer (a starved page may not run a timer for a second, and a
    /// forgery sent late, or never, proves nothing); returns on how many channels it went.
    pub async fn send_once(&self, messages: &[Vec<u8>]) -> Result<usize> {
        let channels = self
            .0
            .client
            .execute(
                "const [messages] = arguments;
                 return window.__rogueSend(messages.map(m => new Uint8Array(m)), 1);",
                vec![serde_json::json!(messages)],
            )
            .await
            .context("sending from the rogue member")?;
        channels
            .as_u64()
            .map(|n| n as usize)
            .context("the rogue's page returned no channel count")
    }

    /// How many messages the flood has sent, and whether it is still going.
    pub async fn flood_state(&self) -> Result<(u64, bool)> {
        let state = self
            .0
            .client
            .execute("return [window.__floodSent, window.__flooding];", vec![])
            .await?;
        Ok((
            state[0].as_u64().unwrap_or_default(),
            state[1].as_bool().unwrap_or_default(),
        ))
    }
}
