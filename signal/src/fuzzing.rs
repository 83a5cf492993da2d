//! The fuzz harness over message handling, kept in the library so that `cargo test` runs it on
//! random scripts too, and the cargo-fuzz target in `fuzz/` is a one-line wrapper.
//!
//! The input is a script for a few peers in two small topics: join, leave, send a raw frame,
//! send a well-formed data message to another peer, and let time pass. Every frame goes through
//! the same [`Session`] and [`Hub`] code the server runs. After each step the harness checks
//! what must always hold: nothing panics, every frame queued for a client is valid JSON of a
//! documented shape, the gauges match the peers that are really there, and the process-wide
//! count of queued bytes is exactly what the queues hold.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hub::{Hub, Membership};
use crate::mailbox::{Budget, Mailbox};
use crate::metrics::Metrics;
use crate::protocol::{ServerMessage, Topic};
use crate::session::{Frame, Handled, Session};

const SLOTS: usize = 5;
const PEERS_PER_TOPIC: usize = 3;
/// Small, so that full queues (a busy peer, the process budget) are exercised too.
const QUEUE: usize = 4;
const QUEUE_BYTES: usize = 200;
const TOTAL_BYTES: u64 = 500;

struct Peer {
    membership: Membership,
    queue: Arc<Mailbox>,
    session: Session,
}

/// Runs one script. Panics (which the fuzzer reports) only if an invariant breaks.
pub fn run_script(script: &[u8]) {
    let metrics = Arc::new(Metrics::default());
    let hub = Hub::new(PEERS_PER_TOPIC, metrics.clone());
    let budget = Budget::new(QUEUE, QUEUE_BYTES, TOTAL_BYTES, metrics.clone());
    let topics = [Topic::from_bytes([1; 32]), Topic::from_bytes([2; 32])];
    let start = Instant::now();
    let mut now = start;
    let mut peers: Vec<Option<Peer>> = (0..SLOTS).map(|_| None).collect();
    let mut bytes = script.iter().copied();

    while let Some(op) = bytes.next() {
        let slot = usize::from(op >> 4) % SLOTS;
        // Low 3 bits: the operation; bit 3: a variant (topic, or binary frame); high 4: the slot.
        match op & 0x07 {
            0 => {
                if peers[slot].is_none() {
                    let topic = topics[usize::from(op & 0x08 != 0)];
                    let queue = Mailbox::new(budget.clone());
                    let id = crate::protocol::PeerId::from_u128(
                        u128::from(op) << 64 | (slot as u128 + 1),
                    );
                    let id = if peers.iter().flatten().any(|p| p.membership.id() == id) {
                        crate::protocol::PeerId::random()
                    } else {
                        id
                    };
                    if let Ok((membership, present)) = hub.join(topic, id, queue.clone()) {
                        assert!(present.len() < PEERS_PER_TOPIC);
                        assert!(!present.contains(&id));
                        peers[slot] = Some(Peer {
                            membership,
                            queue,
                            session: Session::new(20, 8, 4, now),
                        });
                    }
                }
            }
            1 => peers[slot] = None,
            2 => {
                // A raw frame of the next `len` bytes, as text (lossy) or binary.
                let len = usize::from(bytes.next().unwrap_or(0));
                let raw: Vec<u8> = bytes.by_ref().take(len).collect();
                let text = String::from_utf8_lossy(&raw).into_owned();
                let frame = if op & 0x08 == 0 {
                    Frame::Text(&text)
                } else {
                    Frame::Binary
                };
                deliver(&mut peers[slot], frame, now);
            }
            3 => {
                // A well-formed data message to the peer in another slot.
                let target = usize::from(bytes.next().unwrap_or(0)) % SLOTS;
                let Some(to) = peers[target].as_ref().map(|p| p.membership.id()) else {
                    continue;
                };
                let len = usize::from(bytes.next().unwrap_or(1) % 64) + 1;
                let data: String = std::iter::repeat_n('x', len).collect();
                let text = format!(r#"{{"type":"data","to":"{to}","data":"{data}"}}"#);
                deliver(&mut peers[slot], Frame::Text(&text), now);
            }
            4 => now += Duration::from_millis(u64::from(op) * 10),
            _ => {
                // The client reads its queue.
                if let Some(peer) = peers[slot].as_mut() {
                    while let Some(frame) = peer.queue.try_recv() {
                        check_server_frame(frame.as_str());
                    }
                }
            }
        }
        let live = peers.iter().flatten().count();
        assert_eq!(metrics.peers.load(Relaxed), live as u64);
        assert!(hub.topic_count() <= topics.len());
        let queued: usize = peers.iter().flatten().map(|p| p.queue.queued_bytes()).sum();
        assert_eq!(budget.queued_total(), queued as u64);
    }
    peers.clear();
    assert_eq!(
        hub.topic_count(),
        0,
        "every topic is gone once everyone left"
    );
    assert_eq!(metrics.peers.load(Relaxed), 0);
    assert_eq!(budget.queued_total(), 0, "every queued byte is given back");
}

fn deliver(peer: &mut Option<Peer>, frame: Frame<'_>, now: Instant) {
    let Some(current) = peer.as_mut() else {
        return;
    };
    let membership = &current.membership;
    match current
        .session
        .handle(frame, now, |to, data| membership.relay(to, data))
    {
        Handled::Leave | Handled::Error { close: Some(_), .. } => *peer = None,
        Handled::Error { close: None, .. } | Handled::Relayed | Handled::Busy => {}
    }
}

fn check_server_frame(text: &str) {
    let message: ServerMessage = serde_json::from_str(text)
        .unwrap_or_else(|error| panic!("server frame is not valid: {error}: {text}"));
    match message {
        ServerMessage::Joined { peer } | ServerMessage::Left { peer } => {
            assert_eq!(peer.len(), crate::protocol::PEER_ID_LEN)
        }
        ServerMessage::Data { from, data } => {
            assert_eq!(from.len(), crate::protocol::PEER_ID_LEN);
            assert!(crate::protocol::is_base64url(&data));
        }
        ServerMessage::Welcome { .. } | ServerMessage::Error { .. } => {
            panic!("the hub never queues welcome or error frames: {text}")
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn a_scripted_run_exercises_every_operation() {
        // Join three into topic 0 (slots 0,1,2), a fourth is refused; talk; leave.
        let script = [
            0x00, 0x10, 0x20, 0x30, // joins (the fourth finds the topic full)
            0x03, 1, 5,    // slot 0 → slot 1, 6 bytes
            0x15, // slot 1 reads
            0x02, 4, b'n', b'o', b'p', b'e', // slot 0 sends garbage
            0x0a, 2, 0, 1,    // slot 0 sends a binary frame
            0x04, // time passes
            0x01, 0x11, 0x21,
        ];
        super::run_script(&script);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_scripts_keep_every_invariant(script in prop::collection::vec(any::<u8>(), 0..400)) {
            super::run_script(&script);
        }
    }
}
