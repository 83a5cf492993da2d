//! Whatever a hostile or broken peer sends, the engine neither panics nor lets a message with an
//! impossible value move the playback state, and it counts every refusal. The messages are
//! generated (and, on a failure, shrunk to the smallest failing one) by proptest.

use crate::sync::state::Stamp;
use crate::sync::test_harness::Mini;
use crate::sync::wire::{GridSide, Hello, Timebase, PROTOCOL_VERSION};
use crate::sync::{
    Body, Input, Intent, LocalTime, MediaTime, Observation, PeerId, Playback, RoomTime, Span,
    Stats, Versioned, WireMessage,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::Cell;

/// Generated sequences per run: each feeds up to `MAX_STEPS` messages to a fresh copy of the
/// same playing room. Few enough to keep the suite fast; a run is deterministic, so a failure
/// shows again on the next run, and proptest shrinks it.
const CASES: u32 = 64;
const MAX_STEPS: usize = 48;

/// Integers a hostile or broken peer might send: extremes and nonsense as often as not.
fn wild_i64() -> impl Strategy<Value = i64> {
    let bits53 = 0..(1i64 << 53);
    prop_oneof![
        1 => Just(i64::MAX),
        1 => Just(i64::MIN),
        1 => bits53.clone().prop_map(|x| -x),
        1 => Just(0),
        2 => bits53,
    ]
}

/// Rates and the like a hostile or broken peer might send: not numbers, infinite, negative,
/// huge, and ordinary.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-1.0),
        1 => Just(0.0),
        1 => Just(1e300),
        2 => (0..4000u32).prop_map(|x| f64::from(x) / 100.0),
    ]
}

fn stamp() -> BoxedStrategy<Stamp> {
    (wild_i64(), any::<u32>(), any::<u64>())
        .prop_map(|(wall, counter, peer)| Stamp {
            wall: RoomTime(wall),
            counter,
            peer: PeerId(peer),
        })
        .boxed()
}

fn playback() -> BoxedStrategy<Playback> {
    let media = prop::option::weighted(0.8, (0..3000usize).prop_map(|n| "x".repeat(n)));
    let hold = prop::option::of(any::<u64>().prop_map(PeerId));
    (
        media,
        any::<bool>(),
        wild_f64(),
        wild_i64(),
        wild_i64(),
        wild_f64(),
        hold,
    )
        .prop_map(
            |(media, playing, rate, anchor_media, anchor_room, lead_in_rate, hold)| Playback {
                media,
                playing,
                rate,
                anchor_media: MediaTime(anchor_media),
                anchor_room: RoomTime(anchor_room),
                lead_in_rate,
                hold,
            },
        )
        .boxed()
}

fn versioned() -> BoxedStrategy<Versioned> {
    (stamp(), playback())
        .prop_map(|(stamp, playback)| Versioned { stamp, playback })
        .boxed()
}

fn hello() -> BoxedStrategy<Hello> {
    let timebase = (any::<u64>(), wild_i64()).prop_map(|(reference, base)| Timebase {
        reference: PeerId(reference),
        base: Span(base),
    });
    let span = || wild_i64().prop_map(Span);
    (
        prop::option::of(any::<u64>()),
        timebase,
        span(),
        prop::option::of(span()),
        any::<bool>(),
        span(),
        prop::option::of(wild_i64()),
        versioned(),
    )
        .prop_map(
            |(rank, timebase, prep, seek, buffering, error, grid_offset, state)| Hello {
                rank,
                timebase: Some(timebase),
                prep,
                seek,
                buffering,
                error: Some(error),
                // The side of the tie for the state the hello carries.
                frame_grid: grid_offset.map(|offset| GridSide {
                    state: state.stamp,
                    offset: Span(offset % 200_000),
                }),
                state: Some(state),
            },
        )
        .boxed()
}

fn body() -> BoxedStrategy<Body> {
    let time = || wild_i64().prop_map(LocalTime);
    prop_oneof![
        (any::<u32>(), time()).prop_map(|(seq, t1)| Body::Ping { seq, t1 }),
        (any::<u32>(), time(), time(), time()).prop_map(|(seq, t1, t2, t3)| Body::Pong {
            seq,
            t1,
            t2,
            t3
        }),
        hello().prop_map(Body::Hello),
        versioned().prop_map(Body::State),
    ]
    .boxed()
}

/// A message of any kind, of our protocol version three times in four.
fn message() -> BoxedStrategy<WireMessage> {
    let version = prop_oneof![3 => Just(PROTOCOL_VERSION), 1 => any::<u16>()];
    (version, body())
        .prop_map(|(version, body)| WireMessage { version, body })
        .boxed()
}

/// One round of abuse: a message from peer 1 received at a wild instant, then an observation,
/// a rate and a seek with wild values from the local player and user.
#[derive(Clone, Debug)]
struct Abuse {
    msg: WireMessage,
    received_at: LocalTime,
    observation: Observation,
    rate: f64,
    seek: MediaTime,
}

fn abuse() -> BoxedStrategy<Abuse> {
    (
        message(),
        wild_i64(),
        wild_i64(),
        wild_i64(),
        wild_f64(),
        wild_i64(),
    )
        .prop_map(
            |(msg, received_at, media_time, presented_at, rate, seek)| Abuse {
                msg,
                received_at: LocalTime(received_at),
                observation: Observation {
                    media_time: MediaTime(media_time),
                    presented_at: LocalTime(presented_at),
                },
                rate,
                seek: MediaTime(seek),
            },
        )
        .boxed()
}

/// Two peers in a room where peer 0 loaded and plays the film.
fn playing_room() -> Mini {
    let mut m = Mini::new(2);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(5_000_000);
    m
}

fn refused(s: &Stats) -> u64 {
    s.rejected_version + s.rejected_invalid + s.rejected_future + s.unmatched_pongs
}

/// Whatever a peer sends, nothing panics, and a message with an impossible value never
/// changes the playback state; every refusal is counted.
#[test]
fn arbitrary_messages_never_panic_nor_move_the_state() {
    let room = playing_room();
    let start = room.engine(0).stats();
    // Refusals of each kind over the whole run, to show the generators reach them.
    let versions = Cell::new(0);
    let invalid = Cell::new(0);
    let observations = Cell::new(0);
    let intents = Cell::new(0);
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let result = runner.run(&prop::collection::vec(abuse(), 1..MAX_STEPS), |steps| {
        let mut m = room.clone();
        for step in steps {
            let before = m.engine(0).playback().cloned();
            let refused_before = refused(&m.engine(0).stats());
            let valid = step.msg.validate().is_ok();
            m.input(
                0,
                Input::PeerMessage {
                    from: PeerId(101),
                    msg: step.msg,
                    received_at: step.received_at,
                },
            );
            if !valid {
                prop_assert_eq!(m.engine(0).playback().cloned(), before);
                prop_assert_eq!(refused(&m.engine(0).stats()), refused_before + 1);
            }
            // Observations and intents with garbage values are refused too.
            m.input(0, Input::Observation(step.observation));
            m.input(0, Input::Intent(Intent::SetRate(step.rate)));
            m.input(0, Input::Intent(Intent::Seek(step.seek)));
        }
        let s = m.engine(0).stats();
        versions.set(versions.get() + s.rejected_version - start.rejected_version);
        invalid.set(invalid.get() + s.rejected_invalid - start.rejected_invalid);
        observations
            .set(observations.get() + s.rejected_observations - start.rejected_observations);
        intents.set(intents.get() + s.intents_refused - start.intents_refused);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let counts = (
        versions.get(),
        invalid.get(),
        observations.get(),
        intents.get(),
    );
    assert!(counts.0 > 0 && counts.1 > 0, "{counts:?}");
    assert!(counts.2 > 0 && counts.3 > 0, "{counts:?}");
}

/// A well-formed state from an hour in the future would win every merge forever.
#[test]
fn a_state_from_the_far_future_is_refused() {
    let mut m = playing_room();
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
