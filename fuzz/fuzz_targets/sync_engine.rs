#![no_main]

//! A script is a sequence of steps, each an opcode byte and, for a message, its postcard
//! bytes: a peer's message (half the opcodes), time passing, a peer joining or leaving, a
//! local intent, the local player stalling, recovering or presenting a frame.

use insieme::room::wire::PeerMessage;
use insieme::sync::{
    Config, Engine, Input, Intent, LocalTime, MediaTime, Observation, Output, PeerId, Span,
    WireMessage,
};
use libfuzzer_sys::fuzz_target;

const ME: PeerId = PeerId(1);

/// Peers 2 and 3 joined at the start; 4 only if the script says so (and 1 is us, whom a
/// message may also claim to be from).
fn peer(bits: u8) -> PeerId {
    PeerId(1 + u64::from(bits % 4))
}

fuzz_target!(|script: &[u8]| {
    let mut now = LocalTime(1_000_000);
    let mut engine = Engine::new(Config::default(), ME, now);
    // What the engine was fed so far, printed on a failure: a regression test feeds the same.
    let mut fed = Vec::new();
    for p in [PeerId(2), PeerId(3)] {
        feed(&mut engine, &mut fed, now, Input::PeerJoined(p));
    }
    let mut rest = script;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        let arg = op >> 3;
        let input = match op & 7 {
            0..=3 => {
                let Ok((msg, tail)) = postcard::take_from_bytes::<WireMessage>(rest) else {
                    break;
                };
                rest = tail;
                Input::PeerMessage {
                    from: peer(op),
                    msg,
                    received_at: now,
                }
            }
            4 => {
                // 0 to 3 s, cubed so that short steps (clock probes) are common.
                let ms = i64::from(arg).pow(3) / 10;
                now += Span::from_millis(ms);
                Input::Tick
            }
            5 if arg & 1 == 0 => Input::PeerJoined(peer(arg >> 1)),
            5 => Input::PeerLeft(peer(arg >> 1)),
            6 => Input::Intent(match arg % 6 {
                0 => Intent::Load {
                    media_id: format!("https://example.org/{}.mp4", arg / 6),
                },
                1 => Intent::Play,
                2 => Intent::Pause,
                3 => Intent::Seek(MediaTime(i64::from(arg) * 7_000_000 - 20_000_000)),
                4 => Intent::SetRate(f64::from(arg) / 10.0),
                _ if arg & 6 == 0 => Intent::Start {
                    media_id: format!("https://example.org/{}.mp4", arg / 6),
                },
                _ => Intent::SetRate(1.0),
            }),
            _ if arg & 1 == 0 => Input::Buffering(arg & 2 != 0),
            // The local player presented a frame near where the room expects it, or at the
            // start when there is no expectation.
            _ => {
                let expected = engine.expected_position(now).unwrap_or(MediaTime(0));
                let off = i64::from(arg >> 1) * 20_000 - 150_000;
                Input::Observation(Observation {
                    media_time: MediaTime(expected.0.saturating_add(off).max(0)),
                    presented_at: now,
                })
            }
        };
        feed(&mut engine, &mut fed, now, input);
    }
});

fn feed(engine: &mut Engine, fed: &mut Vec<(LocalTime, Input)>, now: LocalTime, input: Input) {
    fed.push((now, input.clone()));
    engine.handle_input(now, input);
    while let Some(output) = engine.poll_output() {
        if let Output::Send(transmit) = output {
            // Whatever peers and the player made it do, it sends nothing an honest peer would
            // refuse.
            if let Err(why) = transmit.msg.validate() {
                let fed: Vec<String> = fed.iter().map(|(t, i)| format!("  {t:?} {i:?}")).collect();
                panic!(
                    "sent an invalid message ({why:?}): {:?}\nafter these inputs:\n{}",
                    transmit.msg,
                    fed.join("\n")
                );
            }
            let wire = PeerMessage::Sync(transmit.msg);
            assert_eq!(PeerMessage::decode(&wire.encode()), Ok(wire));
        }
    }
    assert!(engine.poll_timeout().is_some());
}
