//! Whatever a hostile or broken peer sends, the engine neither panics nor lets a message with an
//! impossible value move the playback state, and it counts every refusal. The messages are
//! generated (and, on a failure, shrunk to the smallest failing one) by proptest. Then the
//! attacks of a member with the room's key, one test each (`docs/engine.md`, "What a member
//! cannot do").

use crate::sync::state::{Stamp, MAX_COUNTER};
use crate::sync::test_harness::{hello_relaying, Mini};
use crate::sync::wire::{GridSide, Hello, Timebase, PROTOCOL_VERSION};
use crate::sync::{
    Body, Input, Intent, LocalTime, MediaTime, Observation, PeerId, Playback, PlayerCommand,
    RoomTime, Span, Stats, Versioned, WireMessage,
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
    v.stamp.peer = PeerId(101);
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

// The attacks of a member: someone with the room's link (so its key) running a modified
// client. Each plays one against honest engines and shows they keep one sane state.

/// The attacker's id: smaller than every honest one, so that it would win every tie.
const MALLORY: PeerId = PeerId(7);

/// `n` honest peers (ids 100..) in a room where peer 0 loaded and plays the film.
fn playing_room_of(n: usize) -> Mini {
    let mut m = Mini::new(n);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(5_000_000);
    m
}

/// Asserts that every engine in `honest` holds the same state, and returns it.
fn one_state(m: &Mini, honest: &[usize]) -> Versioned {
    let s = m.engine(honest[0]).playback().cloned().unwrap();
    for &i in honest {
        assert_eq!(
            m.engine(i).playback(),
            Some(&s),
            "peer {i} holds another state"
        );
    }
    s
}

/// Attack 1, poisoning newcomers: the attacker's hellos carry the room's state stamped an
/// hour ahead. The room refuses it as ever. A newcomer, which cannot judge it before it knows
/// room time, used to adopt it, repeat it in its own hellos and so poison every later joiner
/// even after the attacker left; now it holds it until it knows room time, then refuses it.
#[test]
fn a_newcomer_is_not_poisoned_by_a_state_from_the_far_future() {
    let mut m = playing_room_of(2);
    let mal = m.arrive(MALLORY);
    m.tamper(mal, |e, now, msg| {
        if let (Body::Hello(h), Some(room)) = (&mut msg.body, e.room_time(now)) {
            if let Some(v) = &mut h.state {
                v.stamp.wall = room + Span::from_secs(3600);
                v.stamp.peer = e.id();
            }
        }
    });
    m.run_for(3_000_000);
    let honest = one_state(&m, &[0, 1]);
    assert!(m.engine(0).stats().rejected_future > 0);

    let newcomer = m.arrive(PeerId(200));
    m.run_for(3_000_000);
    let s = m.engine(newcomer).stats();
    assert!(s.states_held > 0 && s.rejected_future > 0, "{s:?}");
    assert_eq!(one_state(&m, &[0, 1, newcomer]), honest);

    m.leave(mal);
    let later = m.arrive(PeerId(201));
    m.run_for(3_000_000);
    assert_eq!(one_state(&m, &[0, 1, newcomer, later]), honest);
    assert_eq!(
        m.engine(later).stats().rejected_future,
        0,
        "nobody repeats it"
    );
}

/// The attacker of the stamp attacks: its session id (chosen by its client) the largest, so
/// that its stamps win every tie.
const MALLORY_MAX: PeerId = PeerId(u64::MAX);

/// One forged state of attack 2, sent by the attacker to one honest peer.
#[derive(Clone, Debug)]
struct Forgery {
    to: prop::sample::Index,
    /// Wall: room time plus this, ms (up to the far-future limit's last second).
    ahead_ms: i64,
    counter: u32,
    /// Which writer the stamp names: the attacker, someone absent, or an honest peer.
    writer: u8,
    anchor_media_s: i64,
    /// The previous forgery's stamp again, with this one's content: each peer told another.
    same_stamp: bool,
}

fn forgery() -> BoxedStrategy<Forgery> {
    let counter = prop_oneof![
        Just(0),
        Just(MAX_COUNTER),
        Just(MAX_COUNTER + 1),
        Just(u32::MAX),
        any::<u32>(),
    ];
    (
        any::<prop::sample::Index>(),
        -60_000..59_000i64,
        counter,
        0..4u8,
        0..3i64,
        any::<bool>(),
    )
        .prop_map(
            |(to, ahead_ms, counter, writer, anchor_media_s, same_stamp)| Forgery {
                to,
                ahead_ms,
                counter,
                writer,
                anchor_media_s,
                same_stamp,
            },
        )
        .boxed()
}

/// Attack 2, the saturated clock: stamps a minute ahead with the largest counter and writer,
/// and, told apart to different peers, different states under one stamp. The counter used to
/// saturate, so that no honest write could beat (now + 59 s, u32::MAX, u64::MAX), and a
/// local write kept its own state while every peer kept the forgery. Whatever is forged, the
/// honest peers end on one state, and the next honest write wins everywhere.
#[test]
fn forged_stamps_never_outlast_an_honest_write() {
    let mut room = playing_room_of(3);
    room.arrive(MALLORY_MAX);
    room.run_for(2_000_000);
    let honest = [0, 1, 2];
    let config = Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    };
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let steps = (
        prop::collection::vec(forgery(), 1..24),
        any::<prop::sample::Index>(),
    );
    let result = runner.run(&steps, |(forgeries, writer)| {
        let mut m = room.clone();
        let mut last: Option<Stamp> = None;
        for f in &forgeries {
            let to = honest[f.to.index(honest.len())];
            let mut v = m.engine(to).playback().cloned().unwrap();
            let writers = [MALLORY_MAX, PeerId(1), m.id(0), m.id(to)];
            v.stamp = match last.filter(|_| f.same_stamp) {
                Some(stamp) => stamp,
                None => Stamp {
                    wall: m.room(to) + Span::from_millis(f.ahead_ms),
                    counter: f.counter,
                    peer: writers[usize::from(f.writer)],
                },
            };
            last = Some(v.stamp);
            v.playback.anchor_media = MediaTime(f.anchor_media_s * 1_000_000);
            m.inject(to, MALLORY_MAX, Body::State(v));
            m.run_for(20_000);
        }
        // The forgeries a peer took spread by the hellos: one state again.
        m.run_for(3_000_000);
        one_state(&m, &honest);
        let w = honest[writer.index(honest.len())];
        let to = MediaTime::from_micros(4_242_000_000);
        m.input(w, Input::Intent(Intent::Seek(to)));
        m.run_for(1_000_000);
        let s = one_state(&m, &honest);
        prop_assert_eq!(s.stamp.peer, m.id(w));
        prop_assert_eq!(s.playback.anchor_media, to);
        prop_assert!(m.present().all(|i| m.engine(i).stats().stale_writes == 0));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Attack 2, impersonation: a state sent in another's name, or relayed in a hello in the
/// receiver's own name, is refused and counted; the state stays.
#[test]
fn a_state_in_anothers_name_is_refused() {
    let mut m = playing_room_of(2);
    m.arrive(MALLORY);
    m.run_for(2_000_000);
    let before = one_state(&m, &[0, 1]);
    let mut v = before.clone();
    v.stamp.wall = m.room(0) + Span::from_secs(1);
    v.playback.playing = false;
    v.stamp.peer = m.id(1);
    m.inject(0, MALLORY, Body::State(v.clone()));
    v.stamp.peer = m.id(0);
    let mut hello = hello_relaying(None, Some(v));
    m.inject(0, MALLORY, Body::Hello(hello.clone()));
    assert_eq!(m.engine(0).stats().rejected_not_sender, 2);
    // Relayed in a departed writer's name, it is the room's state (how a newcomer learns it).
    if let Some(v) = &mut hello.state {
        v.stamp.peer = PeerId(3);
    }
    m.inject(0, MALLORY, Body::Hello(hello));
    // It reaches peer 1 in peer 0's next hello.
    m.run_for(2_500_000);
    assert!(!one_state(&m, &[0, 1]).playback.playing);
    assert_eq!(m.engine(0).stats().rejected_not_sender, 2);
}

/// Attack 2, the flood: a member writing a hundred states a second. Each peer takes a burst
/// and then four a second of it; the rest is dropped and counted, and an honest write still
/// wins.
#[test]
fn a_flood_of_states_is_cut_to_the_writers_budget() {
    let mut m = playing_room_of(2);
    m.arrive(MALLORY);
    m.run_for(2_000_000);
    let adopted = m.engine(0).stats().states_adopted;
    let mut v = m.engine(0).playback().cloned().unwrap();
    v.stamp.peer = MALLORY;
    for i in 0..100 {
        v.stamp.wall = m.room(0);
        v.playback.anchor_media = MediaTime(i * 1_000_000);
        m.inject(0, MALLORY, Body::State(v.clone()));
        m.run_for(10_000);
    }
    let s = m.engine(0).stats();
    let took = s.states_adopted - adopted;
    assert!((16..=21).contains(&took), "took {took}: {s:?}");
    assert_eq!(took + s.rejected_rate, 100, "{s:?}");
    m.input(1, Input::Intent(Intent::Pause));
    m.run_for(1_000_000);
    let s = one_state(&m, &[0, 1]);
    assert!(!s.playback.playing && s.stamp.peer == m.id(1));
}

/// The member of attack 3 claims rank 0 and announces its own clock shifted by 30 s as the
/// timeline.
fn claim_the_reference(e: &crate::sync::Engine, _: LocalTime, msg: &mut WireMessage) {
    if let Body::Hello(h) = &mut msg.body {
        h.rank = Some(0);
        h.timebase = Some(Timebase {
            reference: e.id(),
            base: e.timebase().base + Span::from_secs(30),
        });
    }
}

/// Attack 3, taking the reference: a member arriving late claims rank 0 under the smallest
/// id, and announces its own clock shifted by 30 s as the timeline. Everyone who was there
/// before refuses the claim; a newcomer after it, which cannot tell the two claims of rank 0
/// apart, follows the reference the older peers name; and when the reference leaves, its
/// successor is an honest peer. Room time never moves.
#[test]
fn a_late_member_cannot_take_the_reference() {
    let mut m = playing_room_of(3);
    let mal = m.arrive(MALLORY);
    m.tamper(mal, claim_the_reference);
    let reference = m.engine(0).reference();
    // Room time at one instant, told by every honest peer, against peer 0's.
    let agree = |m: &Mini, honest: &[usize]| {
        for &i in honest {
            let d = (m.room(i) - m.room(0)).abs();
            assert!(d < Span::from_millis(2), "peer {i} is {d:?} off");
        }
    };
    let before = m.room(0);
    m.run_for(3_000_000);
    for i in 0..3 {
        assert_eq!(m.engine(i).reference(), reference);
        assert!(m.engine(i).stats().rejected_rank > 0);
    }
    let moved = m.room(0) - before - Span::from_secs(3);
    assert!(
        moved.abs() < Span::from_millis(1),
        "room time moved {moved:?}"
    );

    let newcomer = m.arrive(PeerId(200));
    m.run_for(3_000_000);
    assert_eq!(m.engine(newcomer).reference(), reference);
    agree(&m, &[1, 2, newcomer]);

    // The reference leaves: an honest successor, and room time goes on.
    let before = m.room(1);
    m.leave(0);
    m.run_for(3_000_000);
    let successor = m.engine(1).reference();
    assert!(successor != MALLORY && successor != reference);
    for i in [1, 2, newcomer] {
        assert_eq!(m.engine(i).reference(), successor, "peer {i}");
        let d = (m.room(i) - m.room(1)).abs();
        assert!(d < Span::from_millis(2), "peer {i} is {d:?} off");
    }
    let moved = m.room(1) - before - Span::from_secs(3);
    assert!(
        moved.abs() < Span::from_millis(2),
        "room time moved {moved:?}"
    );
    one_state(&m, &[1, 2, newcomer]);
}

/// Attack 3, stepping room time: the reference announces another base (room time 1 s
/// later), and the member that is its successor announces its base 10 s off when it takes
/// over. Both are refused and counted; room time goes on as it was.
#[test]
fn the_reference_cannot_step_room_time() {
    let mut m = playing_room_of(3);
    m.tamper(0, |_, _, msg| {
        if let Body::Hello(h) = &mut msg.body {
            if let Some(tb) = &mut h.timebase {
                tb.base += Span::from_secs(1);
            }
        }
    });
    let before = m.room(2);
    m.run_for(3_000_000);
    assert_eq!(m.engine(2).reference(), m.id(0));
    assert_eq!(m.engine(2).stats().rejected_timebase, 1, "counted once");
    let moved = m.room(2) - before - Span::from_secs(3);
    assert!(
        moved.abs() < Span::from_millis(1),
        "room time moved {moved:?}"
    );

    // Peer 1 (rank 1, the smaller id of the two) succeeds peer 0, and lies about its base.
    m.tamper(1, |e, _, msg| {
        if let Body::Hello(h) = &mut msg.body {
            if let Some(tb) = &mut h.timebase {
                if tb.reference == e.id() {
                    tb.base += Span::from_secs(10);
                }
            }
        }
    });
    let before = m.room(2);
    m.leave(0);
    m.run_for(3_000_000);
    assert_eq!(m.engine(2).reference(), m.id(1));
    assert_eq!(m.engine(2).stats().rejected_timebase, 2);
    let moved = m.room(2) - before - Span::from_secs(3);
    assert!(
        moved.abs() < Span::from_millis(2),
        "room time moved {moved:?}"
    );
    assert_eq!(
        m.engine(2).expected_position(m.local(2)),
        m.engine(1).expected_position(m.local(1)),
        "the liar's own timeline is room time too"
    );
}

/// Attack 3, an advisory field: a member announcing that its seeks take an hour. Peers that
/// have not measured their own plan seeks with the largest announced margin, so a catch-up
/// would aim an hour ahead, past the end of most videos; the margin is cut to the longest an
/// honest player learns.
#[test]
fn an_announced_seek_latency_is_bounded() {
    let mut m = playing_room_of(2);
    let mal = m.arrive(MALLORY);
    m.tamper(mal, |_, _, msg| {
        if let Body::Hello(h) = &mut msg.body {
            h.seek = Some(Span::from_secs(3600));
            h.prep = Span::from_secs(3600);
        }
    });
    m.run_for(2_000_000);
    assert!(m.engine(1).stats().clamped_latencies > 0);
    let to = MediaTime::from_micros(600_000_000);
    let seen = m.commands[1].len();
    m.input(0, Input::Intent(Intent::Seek(to)));
    m.run_for(100_000);
    // Peer 1's player loaded the film and stands at its start.
    let presented_at = m.local(1);
    m.input(
        1,
        Input::Observation(Observation {
            media_time: MediaTime(0),
            presented_at,
        }),
    );
    m.run_for(3_000_000);
    let seeks: Vec<MediaTime> = m.commands[1][seen..]
        .iter()
        .filter_map(|c| match c {
            PlayerCommand::SeekTo(x) => Some(*x),
            _ => None,
        })
        .collect();
    assert!(!seeks.is_empty());
    for x in seeks {
        assert!(x - to < Span::from_secs(15), "sent to {x:?}");
    }
}

/// Attack 3 with ranks as facts (the endpoint's order): the member's claim of rank 0 is not
/// even read, so nobody counts it and nobody follows it; a newcomer that the claims could have
/// misled (one honest peer and the member, both claiming rank 0) follows the oldest; and when
/// the reference leaves, the next oldest succeeds it. Room time never moves.
#[test]
fn with_the_endpoints_order_a_member_cannot_claim_the_reference() {
    let mut m = Mini::new(2);
    m.admit(&[0, 1]);
    m.run_for(1_000_000);
    m.load(0);
    m.input(0, Input::Intent(Intent::Play));
    m.run_for(3_000_000);
    let mal = m.add_unlinked(MALLORY);
    m.admit(&[0, 1, mal]);
    m.link(mal);
    m.tamper(mal, claim_the_reference);
    let before = m.room(1);
    m.run_for(3_000_000);
    let newcomer = m.add_unlinked(PeerId(200));
    m.admit(&[0, 1, mal, newcomer]);
    m.link(newcomer);
    m.run_for(3_000_000);
    for i in [1, newcomer] {
        assert_eq!(m.engine(i).reference(), m.id(0), "peer {i}");
        let d = (m.room(i) - m.room(0)).abs();
        assert!(d < Span::from_millis(2), "peer {i} is {d:?} off");
    }
    let moved = m.room(1) - before - Span::from_secs(6);
    assert!(
        moved.abs() < Span::from_millis(1),
        "room time moved {moved:?}"
    );

    m.leave(0);
    m.admit(&[1, mal, newcomer]);
    m.run_for(3_000_000);
    assert_eq!(m.engine(newcomer).reference(), m.id(1));
    let d = (m.room(newcomer) - m.room(1)).abs();
    assert!(d < Span::from_millis(2), "{d:?} off");
    one_state(&m, &[1, newcomer]);
}
