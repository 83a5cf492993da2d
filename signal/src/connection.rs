//! One WebSocket peer from welcome to close: the task that reads the client's frames, writes
//! the frames queued for it, pings it when quiet, and closes it with the right code.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite;

use crate::hub::TopicFull;
use crate::limits::{ClientSlot, ConnectionSlot};
use crate::mailbox::Mailbox;
use crate::metrics::Refusal;
use crate::protocol::{self, ErrorCode, PeerId, Topic};
use crate::server::AppState;
use crate::session::{close, Frame, Handled, Session};

/// How long to wait for the client's answer to our close frame before dropping the socket.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the server stops reading from a client after refusing its message to a busy peer
/// (`peer_busy`). A flood then costs the server one frame per pause per connection, with TCP
/// holding the rest back at the sender, at no CPU, instead of a refusal per frame or (were
/// it a strike) a close and a reconnect with a fresh burst every few frames. An honest sender
/// that meets a slow peer waits this long once, which is short against the seconds a browser
/// spends negotiating, and gives the slow peer time to drain.
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// Why the loop ended.
enum Ending {
    /// The client went away (closed, reset, or sent a close frame).
    Gone,
    /// We close with this code and reason.
    Close(u16, &'static str),
}

/// Runs one peer until it leaves, misbehaves, stalls, idles out, or the server shuts down.
/// `_slot` and `_client` keep the connection and its client address's topic counted until the
/// socket is gone.
pub async fn run(
    mut socket: WebSocket,
    topic: Topic,
    state: Arc<AppState>,
    _slot: Option<Arc<ConnectionSlot>>,
    _client: Option<ClientSlot>,
) {
    let config = &state.config;
    let metrics = state.hub.metrics();
    let queue = Mailbox::new(state.budget.clone());
    let id = PeerId::random();
    let (membership, present) = match state.hub.join(topic, id, queue.clone()) {
        Ok(joined) => joined,
        Err(TopicFull) => {
            tracing::debug!(?topic, "refused: topic full");
            send_error(&mut socket, ErrorCode::TopicFull, &state).await;
            finish(socket, close::TRY_AGAIN_LATER, "topic full").await;
            return;
        }
    };
    tracing::debug!(?topic, peer = %id, peers = present.len(), "joined");
    let turn = state
        .turn
        .as_ref()
        .map(|m| m.mint(std::time::SystemTime::now()));
    let welcome = protocol::welcome_frame(id, &present, config.max_frame_bytes, turn);
    let send_deadline = config.write_timeout;
    if !send(&mut socket, Message::Text(welcome.into()), send_deadline).await {
        return;
    }

    let start = Instant::now();
    let mut session = Session::new(
        config.rate,
        config.rate_burst,
        config.max_strikes,
        start.into_std(),
    );
    let mut last_heard = start;
    // Set after a `peer_busy`: nothing is read from the client until then.
    let mut paused_until: Option<Instant> = None;
    let mut ticker = tokio::time::interval_at(start + config.ping_interval, config.ping_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);

    // Registered once: creating it in every loop turn would take the token's shared lock
    // for every frame of every connection.
    // Draining, not the final shutdown: the browser should reconnect (to another node) now.
    let shutdown = state.draining.cancelled();
    tokio::pin!(shutdown);

    let ending = loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break Ending::Close(close::SERVICE_RESTART, "service restart"),
            queued = queue.recv() => match queued {
                Some(frame) => {
                    if !send(&mut socket, Message::Text(frame), send_deadline).await {
                        // Not reading (or gone): dropped without a close frame, which it would
                        // not read either. If the hub already evicted us for it, it counted it.
                        if !queue.is_closed() {
                            metrics.refused(Refusal::Stalled);
                        }
                        break Ending::Gone;
                    }
                }
                // The hub closed our queue: we were evicted for not reading fast enough.
                None => break Ending::Close(close::POLICY, "stalled: not reading"),
            },
            () = tokio::time::sleep_until(paused_until.unwrap_or(start)), if paused_until.is_some() => {
                paused_until = None;
            }
            received = socket.recv(), if paused_until.is_none() => {
                let now = Instant::now();
                last_heard = now;
                let frame = match &received {
                    None => break Ending::Gone,
                    Some(Err(error)) if is_too_large(error) => Frame::TooLarge,
                    Some(Err(_)) => break Ending::Gone,
                    Some(Ok(Message::Text(text))) => Frame::Text(text.as_str()),
                    Some(Ok(Message::Binary(_))) => Frame::Binary,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) => break Ending::Gone,
                };
                match session.handle(frame, now.into_std(), |to, data| membership.relay(to, data)) {
                    Handled::Relayed => continue,
                    Handled::Busy => {
                        if !send_error(&mut socket, ErrorCode::PeerBusy, &state).await {
                            break Ending::Gone;
                        }
                        paused_until = Some(Instant::now() + BUSY_PAUSE);
                    }
                    Handled::Leave => break Ending::Close(close::NORMAL, "left"),
                    Handled::Error { code, close } => {
                        if !send_error(&mut socket, code, &state).await {
                            break Ending::Gone;
                        }
                        match close {
                            None => {}
                            Some(close::TOO_BIG) => {
                                metrics.refused(Refusal::TooLarge);
                                break Ending::Close(close::TOO_BIG, "frame too large");
                            }
                            Some(other) => {
                                metrics.refused(Refusal::Abuse);
                                tracing::info!(peer = %id, %code, "closing an abusive connection");
                                break Ending::Close(other, "too many errors");
                            }
                        }
                    }
                }
            }
            _ = ticker.tick() => {
                if last_heard.elapsed() >= config.idle_timeout {
                    metrics.refused(Refusal::Idle);
                    break Ending::Close(close::GOING_AWAY, "idle timeout");
                }
                if !send(&mut socket, Message::Ping(Default::default()), send_deadline).await {
                    break Ending::Gone;
                }
            }
        }
    };
    // Leave first, so the others learn at once, whatever the client does with our close.
    drop(membership);
    tracing::debug!(?topic, peer = %id, "left");
    if let Ending::Close(code, reason) = ending {
        finish(socket, code, reason).await;
    }
}

/// Sends one frame, giving up after `deadline` (`--write-timeout`): a client that does not read
/// cannot hold its task, its queue and its connection slot for longer. Returns whether the
/// frame went out.
async fn send(socket: &mut WebSocket, message: Message, deadline: Duration) -> bool {
    matches!(
        tokio::time::timeout(deadline, socket.send(message)).await,
        Ok(Ok(()))
    )
}

async fn send_error(socket: &mut WebSocket, code: ErrorCode, state: &AppState) -> bool {
    state.hub.metrics().error_sent(code);
    let frame = Message::Text(protocol::error_frame(code).into());
    send(socket, frame, CLOSE_HANDSHAKE_TIMEOUT).await
}

/// Sends a close frame and waits, briefly, for the client to answer it; not after closing
/// for abuse (1008) or an oversized frame (1009): waiting would mean reading on (and paying
/// for) whatever a flooding client still sends.
async fn finish(mut socket: WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    if !send(
        &mut socket,
        Message::Close(Some(frame)),
        CLOSE_HANDSHAKE_TIMEOUT,
    )
    .await
    {
        return;
    }
    if matches!(code, close::POLICY | close::TOO_BIG) {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE_TIMEOUT, async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

fn is_too_large(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(tungstenite::Error::Capacity(_)) = current.downcast_ref::<tungstenite::Error>()
        {
            return true;
        }
        source = current.source();
    }
    false
}
