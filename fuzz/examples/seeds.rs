//! Writes the seed corpus (`seeds/<target>/`): well-formed inputs of every kind, made with the
//! app's own encoders, so that a run of a few seconds starts from deep inside each decoder
//! rather than spending them rediscovering the formats. Run again after changing a format:
//!
//! ```text
//! cd fuzz && cargo run --example seeds
//! ```

use insieme::programme::history::{History, Watched};
use insieme::programme::{Delta, Item, Queue};
use insieme::room::wire::{CallPresence, MediaFailure, PeerMessage, ViewerPhase, ViewerStatus};
use insieme::signaling::payload::{Envelope, SdpType, SignalPayload};
use insieme::sync::{
    Config, Destination, Engine, Input, Intent, LocalTime, Output, PeerId, RoomTime, Span,
    WireMessage,
};
use std::path::Path;

fn main() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let (script, sync_messages) = sync_conversation();
    write(&seeds.join("sync_engine"), &[("conversation", script)]);

    let mut messages = vec![
        ("profile", PeerMessage::Profile { name: "Ada".into() }),
        (
            "chat",
            PeerMessage::Chat {
                text: "ciao a tutti 👋".into(),
            },
        ),
        (
            "status-failed",
            PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Failed(MediaFailure::Unplayable),
                offset_ms: Some(-3.5),
                picture_ms: None,
                offset_within_ms: 0,
            }),
        ),
        (
            "status-playing",
            PeerMessage::Status(ViewerStatus {
                phase: ViewerPhase::Playing,
                offset_ms: None,
                picture_ms: Some(12.0),
                offset_within_ms: 17,
            }),
        ),
        (
            "call",
            PeerMessage::Call(CallPresence {
                joined: true,
                muted: true,
                camera: false,
                tile_px: 180,
            }),
        ),
    ];
    // The longest of each kind of sync message, as a real engine sent them.
    let mut kinds: Vec<(String, WireMessage, usize)> = Vec::new();
    for message in sync_messages {
        let kind = format!("sync-{:?}", message.body)
            .split(['(', ' ', '{'])
            .next()
            .unwrap()
            .to_lowercase();
        let len = postcard::to_allocvec(&message).expect("encodes").len();
        match kinds.iter_mut().find(|(k, ..)| *k == kind) {
            Some(known) if known.2 >= len => {}
            Some(known) => *known = (kind, message, len),
            None => kinds.push((kind, message, len)),
        }
    }
    for (kind, message, _) in kinds {
        messages.push((leak(&kind), PeerMessage::Sync(message)));
    }
    let encoded: Vec<_> = messages.iter().map(|(n, m)| (*n, m.encode())).collect();
    write(&seeds.join("peer_message"), &encoded);

    let payloads = [
        (
            "hello",
            SignalPayload::Hello {
                session: 7,
                reply: true,
                name: Some("Zoë \"Z\"".into()),
            },
        ),
        (
            "description",
            SignalPayload::Description {
                session: 1 << 60,
                sdp_type: SdpType::Offer,
                sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
                      a=fingerprint:sha-256 AB:CD\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                    .into(),
            },
        ),
        (
            "candidate",
            SignalPayload::Candidate {
                session: 3,
                candidate: "candidate:2 1 udp 2122260223 192.0.2.1 54321 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_m_line_index: Some(0),
            },
        ),
    ];
    let mut signal: Vec<(&str, Vec<u8>)> = Vec::new();
    for (seq, (name, payload)) in payloads.into_iter().enumerate() {
        signal.push((name, payload.encode()));
        let envelope = Envelope {
            seq: seq as u64 + 1,
            payload,
        };
        signal.push((leak(&format!("envelope-{name}")), envelope.encode()));
    }
    write(&seeds.join("signal_payload"), &signal);

    write(&seeds.join("programme"), &[("edits", programme_edits())]);

    // The shipped (empty) catalogue and the one README shows, which uses every member.
    let shipped = include_str!("../../catalog.json");
    write(
        &seeds.join("catalog"),
        &[
            ("shipped", shipped.as_bytes().to_vec()),
            ("readme", CATALOG_EXAMPLE.as_bytes().to_vec()),
        ],
    );
    write(&seeds.join("history"), &[("two-friends", two_friends())]);
}

/// docs/programme.md's example, with one entry of each kind of mistake (dropped, not fatal).
const CATALOG_EXAMPLE: &str = r#"{ "comment": "ours", "videos": [
    { "title": "Big Buck Bunny", "url": "media/bbb.webm", "duration": 596,
      "thumbnail": "media/bbb.jpg", "tags": ["animation", "short"] },
    { "title": "Sintel", "url": "https://cdn.example/sintel.mp4", "duration": "14:48" },
    { "title": "Clip", "url": "/c.webm", "duration": 2.50, "thumbnail": null },
    { "title": "Long", "url": "/l.webm", "duration": "1:02:03" },
    { "title": "", "url": "/untitled.webm" },
    { "title": "Spaced", "url": "/a b.webm" },
    { "title": "Again", "url": "media/bbb.webm" },
    { "title": "Days", "url": "/d.webm", "duration": 100000 }
] }"#;

/// Two friends' lists as the `history` target reads them (cut at the NUL byte), made by the
/// app's own encoder, with links in common.
fn two_friends() -> Vec<u8> {
    let list = |friend: u64| {
        let mut h = History::default();
        for i in 0..6u64 {
            h.record(Watched {
                url: format!("https://example.org/videos/{}.webm", (i + friend) % 8),
                title: format!("Café n°{i} \"{friend}\""),
                at_ms: 1_700_000_000_000 + i * 60_000 + friend,
            });
        }
        h.encode()
    };
    [list(1).as_bytes(), &[0], list(2).as_bytes()].concat()
}

/// The pieces of an evening's queue edits as one page sent them, after the target's first
/// byte (session 0, at room time 5 s, as the target reads it).
fn programme_edits() -> Vec<u8> {
    let first = 4 | (5 << 3);
    let now = |s: i64| RoomTime(s * 1_000_000);
    let item = |n: u32| Item {
        url: format!("https://example.org/videos/{n}.mp4"),
        title: format!("Episode {n}"),
        duration: Some(Span::from_secs(1_500 + i64::from(n))),
        added_by: "Ada".into(),
    };
    let mut page = Queue::new(PeerId(1));
    let mut pieces: Vec<Delta> = Vec::new();
    for n in 0..4 {
        pieces.push(page.add(now(1), item(n)).expect("a valid item"));
    }
    let ids: Vec<_> = page.entries().iter().map(|e| e.id).collect();
    pieces.push(page.move_before(now(2), ids[3], ids[0]).expect("a move"));
    pieces.push(page.move_down(now(2), ids[1]).expect("a move"));
    pieces.push(page.remove(ids[2]).expect("a removal"));
    pieces.push(page.set_repeat(now(3), true).expect("repeat"));
    pieces.push(page.set_shuffle(now(3), true).expect("shuffle"));
    pieces.extend(page.snapshot().split());
    let mut bytes = vec![first];
    for piece in pieces {
        bytes.extend(postcard::to_allocvec(&piece).expect("a delta encodes"));
    }
    bytes
}

/// A script for the `sync_engine` target in which peer 2 loads a video, plays it and seeks
/// while the target's engine follows, and every message peer 2 sent on the way: both
/// engines really talk, so the script is a conversation the target's engine understands.
fn sync_conversation() -> (Vec<u8>, Vec<WireMessage>) {
    const ME: PeerId = PeerId(1);
    const PEER: PeerId = PeerId(2);
    /// Opcode of a message from peer 2 (see the target: `1 + op % 4`).
    const FROM_PEER: u8 = 1;
    let start = LocalTime(1_000_000);
    let mut me = Engine::new(Config::default(), ME, start);
    let peer_offset = Span::from_secs(3_600);
    let mut peer = Engine::new(Config::default(), PEER, start + peer_offset);
    for p in [PEER, PeerId(3)] {
        me.handle_input(start, Input::PeerJoined(p));
    }
    peer.handle_input(start + peer_offset, Input::PeerJoined(ME));
    let mut script = Vec::new();
    let mut sent = Vec::new();
    let mut now = start;
    for step in 0..120 {
        let intent = match step {
            10 => Some(Intent::Load {
                media_id: "https://example.org/videos/0.mp4".into(),
            }),
            30 => Some(Intent::Play),
            70 => Some(Intent::Seek(insieme::sync::MediaTime(600_000_000))),
            100 => Some(Intent::Pause),
            _ => None,
        };
        let input = intent.map_or(Input::Tick, Input::Intent);
        peer.handle_input(now + peer_offset, input);
        // Both ways until quiet: peer 2's messages become script steps.
        for _ in 0..16 {
            let mut quiet = true;
            while let Some(output) = peer.poll_output() {
                if let Output::Send(t) = output {
                    if matches!(t.to, Destination::All | Destination::One(ME)) {
                        quiet = false;
                        script.push(FROM_PEER);
                        script.extend(postcard::to_allocvec(&t.msg).expect("encodes"));
                        sent.push(t.msg.clone());
                        me.handle_input(
                            now,
                            Input::PeerMessage {
                                from: PEER,
                                msg: t.msg,
                                received_at: now,
                            },
                        );
                    }
                }
            }
            while let Some(output) = me.poll_output() {
                if let Output::Send(t) = output {
                    if matches!(t.to, Destination::All | Destination::One(PEER)) {
                        quiet = false;
                        peer.handle_input(
                            now + peer_offset,
                            Input::PeerMessage {
                                from: ME,
                                msg: t.msg,
                                received_at: now + peer_offset,
                            },
                        );
                    }
                }
            }
            if quiet {
                break;
            }
        }
        // 100 ms pass (the target's tick: `arg³ / 10` ms).
        let arg: u8 = 10;
        script.push(arg << 3 | 4);
        now += Span::from_millis(i64::from(arg).pow(3) / 10);
        me.handle_input(now, Input::Tick);
    }
    // The target's engine, fed exactly this script, met the room and plays its video.
    assert!(me.room_time(now).is_some(), "the engine never met the room");
    assert!(me.playback().is_some(), "the engine never got the state");
    (script, sent)
}

fn leak(name: &str) -> &'static str {
    Box::leak(name.to_owned().into_boxed_str())
}

fn write(dir: &Path, files: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).expect("creating the seeds folder");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("writing a seed");
        println!("{}/{name}: {} bytes", dir.display(), bytes.len());
    }
}
