//! The room timeline: every viewer agrees on room time, and it stays continuous when the
//! reference leaves.

use crate::sync::test_harness::Mini;
use crate::sync::{Input, Intent, PeerId, Span};

#[test]
fn peers_agree_on_room_time_and_state() {
    let mut m = Mini::new(3);
    m.run_for(2_000_000);
    m.load(1);
    m.run_for(1_000_000);
    m.input(2, Input::Intent(Intent::Play));
    m.run_for(10_000_000);
    // The first to act founded the timeline.
    assert_eq!(m.engine(0).reference(), PeerId(101));
    let rooms: Vec<i64> = (0..3)
        .map(|i| m.engine(i).room_time(m.local(i)).unwrap().0)
        .collect();
    for r in &rooms {
        // Symmetric fixed delays: the estimate is exact up to the millisecond stepping.
        assert!((r - rooms[1]).abs() < 1_000, "room times {rooms:?}");
    }
    let s0 = m.engine(0).playback().cloned();
    assert!(s0.as_ref().is_some_and(|v| v.playback.playing));
    assert!((0..3).all(|i| m.engine(i).playback().cloned() == s0));
}

#[test]
fn reference_leaving_keeps_room_time_continuous() {
    let mut m = Mini::new(3);
    m.run_for(1_000_000);
    m.load(0);
    m.run_for(5_000_000);
    assert_eq!(m.engine(2).reference(), PeerId(100));
    let before: Vec<i64> = (1..3)
        .map(|i| m.engine(i).room_time(m.local(i)).unwrap().0)
        .collect();
    m.leave(0);
    for i in 1..3 {
        let after = m.engine(i).room_time(m.local(i)).unwrap().0;
        assert!(
            (after - before[i - 1]).abs() < 1_000,
            "peer {i} jumped by {} us",
            after - before[i - 1]
        );
    }
    m.run_for(3_000_000);
    let refs: Vec<PeerId> = (1..3).map(|i| m.engine(i).reference()).collect();
    assert_eq!(refs[0], refs[1]);
    let r1 = m.engine(1).room_time(m.local(1)).unwrap().0;
    let r2 = m.engine(2).room_time(m.local(2)).unwrap().0;
    assert!((r1 - r2).abs() < 1_000, "{r1} vs {r2}");
    // Still on the old timeline: 3 s later, 3 s more room time.
    assert!(
        (r1 - before[0] - 3_000_000).abs() < 2_000,
        "{}",
        r1 - before[0]
    );
}

/// A viewer whose links opened late acted alone first, founding a timeline of its own. When
/// the room meets it, it joins the room's timeline as a newcomer (rather than holding out
/// with rank 0, which the room would refuse as a late claim), and takes a rank after them.
#[test]
fn a_viewer_that_acted_alone_joins_the_room_it_meets() {
    let mut m = Mini::new(2);
    m.run_for(1_000_000);
    m.load(0);
    m.run_for(2_000_000);
    let late = m.add_unlinked(PeerId(1));
    m.load(late);
    m.run_for(1_000_000);
    assert_eq!(m.engine(late).rank(), Some(0));
    m.link(late);
    m.run_for(3_000_000);
    assert_eq!(m.engine(late).reference(), m.engine(0).reference());
    assert_eq!(m.engine(late).rank(), Some(2));
    let d = m.room(late) - m.room(0);
    assert!(d.abs() < Span::from_millis(1), "{d:?} off");
    // The room refused its founder's rank, claimed on linking, once.
    assert!((0..2).all(|i| m.engine(i).stats().rejected_rank == 1));
}

/// Before anyone acts, room time follows whoever has the lowest id, so it moves when such a
/// page arrives. An act outside the playback state (a queue edit) founds the timeline like a
/// first intent: room time goes on from where it was, and later arrivals follow it.
#[test]
fn an_act_founds_the_timeline_without_touching_playback() {
    let elapsed = |m: &Mini, i: usize, from: i64| m.room(i).0 - from;
    // Unranked, a lower id arriving moves room time.
    let mut m = Mini::new(2);
    m.run_for(2_000_000);
    let before = m.room(1).0;
    m.arrive(PeerId(1));
    m.run_for(2_000_000);
    assert!(
        (elapsed(&m, 1, before) - 2_000_000).abs() > 1_000_000,
        "room time went on without a timeline"
    );

    let mut m = Mini::new(3);
    m.run_for(2_000_000);
    assert!((0..3).all(|i| m.engine(i).rank().is_none()));
    let before = m.room(2).0;
    m.input(2, Input::Act);
    assert_eq!(m.engine(2).rank(), Some(0));
    assert!(elapsed(&m, 2, before).abs() < 1_000);
    m.run_for(2_000_000);
    let late = m.arrive(PeerId(1));
    m.run_for(3_000_000);
    for i in [0, 1, 2, late] {
        assert_eq!(m.engine(i).reference(), PeerId(102));
        let d = elapsed(&m, i, before) - 5_000_000;
        assert!(d.abs() < 2_000, "peer {i} off by {d} us");
        assert!(m.engine(i).rank().is_some());
    }
    assert!(m.engine(0).playback().is_none());
    // Once founded, another act changes nothing.
    m.input(0, Input::Act);
    assert_eq!(m.engine(0).reference(), PeerId(102));
}

/// Ranks from the endpoint's order: two groups of two that formed apart (each played on a
/// timeline of its own) meet; everyone moves onto the older group's timeline and holds one
/// state, the younger group having forgotten the state of the timeline it left.
#[test]
fn with_the_endpoints_order_two_groups_formed_apart_merge() {
    let mut m = Mini::new(0);
    let ids = [PeerId(100), PeerId(101), PeerId(102), PeerId(103)];
    let [a0, a1, b0, b1] = ids.map(|id| m.add_unlinked(id));
    m.admit(&[a0, a1, b0, b1]);
    m.link_pair(a0, a1);
    m.link_pair(b0, b1);
    m.run_for(1_000_000);
    m.load(a0);
    m.input(a0, Input::Intent(Intent::Play));
    m.load(b1);
    m.run_for(3_000_000);
    assert!(
        (m.room(b0) - m.room(a0)).abs() > Span::from_secs(60),
        "two timelines"
    );
    assert_eq!(m.engine(b0).reference(), m.id(b0));
    let room_state = m.engine(a0).playback().cloned();

    for (i, j) in [(a0, b0), (a0, b1), (a1, b0), (a1, b1)] {
        m.link_pair(i, j);
    }
    m.run_for(3_000_000);
    for i in [a1, b0, b1] {
        assert_eq!(m.engine(i).reference(), m.id(a0), "peer {i}");
        let d = (m.room(i) - m.room(a0)).abs();
        assert!(d < Span::from_millis(2), "peer {i} is {d:?} off");
        assert_eq!(m.engine(i).playback().cloned(), room_state, "peer {i}");
        assert_eq!(m.engine(i).stats().rejected_rank, 0);
    }
    assert_eq!(m.engine(b0).stats().timelines_left, 1);
    assert_eq!(
        m.engine(a0).stats().timelines_left,
        0,
        "the older group stays"
    );
}

/// With the endpoint's order, a newcomer's own clock is never room time while an older peer
/// is linked: it has none until it measured the reference, then the reference's.
#[test]
fn with_the_endpoints_order_a_newcomer_waits_for_the_reference() {
    let mut m = Mini::new(2);
    m.admit(&[0, 1]);
    m.run_for(1_000_000);
    m.load(0);
    m.run_for(1_000_000);
    let late = m.add_unlinked(PeerId(1));
    m.admit(&[0, 1, late]);
    assert!(m.engine(late).room_time(m.local(late)).is_some(), "alone");
    m.link(late);
    assert_eq!(m.engine(late).room_time(m.local(late)), None);
    m.run_for(2_000_000);
    assert_eq!(m.engine(late).reference(), m.id(0));
    let d = (m.room(late) - m.room(0)).abs();
    assert!(d < Span::from_millis(2), "{d:?} off");
    assert_eq!(m.engine(late).playback(), m.engine(0).playback());
    assert_eq!(
        m.engine(late).stats().timelines_left,
        0,
        "it had no state to forget"
    );
}
