//! Whatever a hostile or broken peer sends, the engine neither panics nor lets a message with an
//! impossible value move the playback state, and it counts every refusal.

use crate::sync::state::Stamp;
use crate::sync::test_harness::Mini;
use crate::sync::test_rng::Lcg;
use crate::sync::wire::{GridSide, Hello, Timebase, PROTOCOL_VERSION};
use crate::sync::{
    Body, Input, Intent, LocalTime, MediaTime, Observation, PeerId, Playback, RoomTime, Span,
    Versioned, WireMessage,
};

/// Values a hostile or broken peer might send: extremes and nonsense as often as not.
trait Wild {
    fn i64(&mut self) -> i64;
    fn f64(&mut self) -> f64;
}

impl Wild for Lcg {
    fn i64(&mut self) -> i64 {
        match self.next() % 6 {
            0 => i64::MAX,
            1 => i64::MIN,
            2 => -(self.next() as i64),
            3 => 0,
            _ => self.next() as i64,
        }
    }
    fn f64(&mut self) -> f64 {
        match self.next() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -1.0,
            4 => 0.0,
            5 => 1e300,
            _ => (self.next() % 4000) as f64 / 100.0,
        }
    }
}

fn arbitrary(rng: &mut Lcg) -> WireMessage {
    let stamp = Stamp {
        wall: RoomTime(rng.i64()),
        counter: rng.next() as u32,
        peer: PeerId(rng.next()),
    };
    let playback = Playback {
        media: if rng.next() % 5 == 0 {
            None
        } else {
            Some("x".repeat((rng.next() % 3000) as usize))
        },
        playing: rng.next() % 2 == 0,
        rate: rng.f64(),
        anchor_media: MediaTime(rng.i64()),
        anchor_room: RoomTime(rng.i64()),
        lead_in_rate: rng.f64(),
        hold: if rng.next() % 2 == 0 {
            None
        } else {
            Some(PeerId(rng.next()))
        },
    };
    let body = match rng.next() % 4 {
        0 => Body::Ping {
            seq: rng.next() as u32,
            t1: LocalTime(rng.i64()),
        },
        1 => Body::Pong {
            seq: rng.next() as u32,
            t1: LocalTime(rng.i64()),
            t2: LocalTime(rng.i64()),
            t3: LocalTime(rng.i64()),
        },
        2 => Body::Hello(Hello {
            rank: if rng.next() % 2 == 0 {
                None
            } else {
                Some(rng.next())
            },
            timebase: Some(Timebase {
                reference: PeerId(rng.next()),
                base: Span(rng.i64()),
            }),
            prep: Span(rng.i64()),
            seek: (rng.next() % 2 == 0).then(|| Span(rng.i64())),
            buffering: rng.next() % 2 == 0,
            error: Some(Span(rng.i64())),
            frame_grid: (rng.next() % 2 == 0).then(|| GridSide {
                state: stamp,
                offset: Span(rng.i64() % 200_000),
            }),
            state: Some(Versioned { stamp, playback }),
        }),
        _ => Body::State(Versioned { stamp, playback }),
    };
    WireMessage {
        version: if rng.next() % 4 == 0 {
            rng.next() as u16
        } else {
            PROTOCOL_VERSION
        },
        body,
    }
}

/// Whatever a peer sends, nothing panics, and a message with an impossible value never
/// changes the playback state; every refusal is counted.
#[test]
fn arbitrary_messages_never_panic_nor_move_the_state() {
    let mut m = Mini::new(2);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(5_000_000);
    let mut rng = Lcg(42);
    for _ in 0..20_000 {
        let before = m.engine(0).playback().cloned();
        let refused_before = {
            let s = m.engine(0).stats();
            s.rejected_version + s.rejected_invalid + s.rejected_future + s.unmatched_pongs
        };
        let msg = arbitrary(&mut rng);
        let valid = msg.validate().is_ok();
        let received_at = LocalTime(rng.i64());
        m.input(
            0,
            Input::PeerMessage {
                from: PeerId(101),
                msg,
                received_at,
            },
        );
        let s = m.engine(0).stats();
        let refused =
            s.rejected_version + s.rejected_invalid + s.rejected_future + s.unmatched_pongs;
        if !valid {
            assert_eq!(m.engine(0).playback().cloned(), before);
            assert_eq!(refused, refused_before + 1);
        }
        // Observations and intents with garbage values are refused too.
        let obs = Observation {
            media_time: MediaTime(rng.i64()),
            presented_at: LocalTime(rng.i64()),
        };
        m.input(0, Input::Observation(obs));
        m.input(0, Input::Intent(Intent::SetRate(rng.f64())));
        m.input(0, Input::Intent(Intent::Seek(MediaTime(rng.i64()))));
    }
    let s = m.engine(0).stats();
    assert!(s.rejected_version > 0 && s.rejected_invalid > 0, "{s:?}");
    assert!(
        s.rejected_observations > 0 && s.intents_refused > 0,
        "{s:?}"
    );

    // A well-formed state from an hour in the future would win every merge forever.
    let mut v = m.engine(0).playback().cloned().unwrap();
    let later = m.engine(0).room_time(m.local(0)).unwrap() + Span::from_secs(3600);
    v.stamp.wall = later;
    v.playback.anchor_room = later;
    let before = m.engine(0).playback().cloned();
    let future = m.engine(0).stats().rejected_future;
    let msg = WireMessage::new(Body::State(v));
    let received_at = m.local(0);
    m.input(
        0,
        Input::PeerMessage {
            from: PeerId(101),
            msg,
            received_at,
        },
    );
    assert_eq!(m.engine(0).playback().cloned(), before);
    assert_eq!(m.engine(0).stats().rejected_future, future + 1);
    // The engine still works.
    assert!(m.engine(0).poll_timeout().is_some());
}
