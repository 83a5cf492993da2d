//! The two exceptions to "only signed states in host mode": a guest's own buffering hold and
//! its release, which a rogue cannot turn into a seek, a load or a pause for good; and a
//! newcomer's first states, kept aside until it knows whether Host controls are on.

use super::authority::{Accepted, Authority};
use super::gate::{Context, StateGate, Verdict};
use super::guest_hold::{overdue, GUEST_HOLD_COOLDOWN, GUEST_HOLD_JUMP, MAX_GUEST_HOLD};
use super::key::{KeyId, KEY_ID_BYTES};
use super::newcomer::{MAX_WAITING, SETTLE_WITHIN_MS};
use super::record::{Signed, Statement};
use super::tests::{cx, settled_gate, state, HOST_SESSION};
use crate::signaling::payload::SessionId;
use crate::sync::buffering::held;
use crate::sync::state::{Playback, Register, Stamp};
use crate::sync::test_harness::hello_relaying;
use crate::sync::{Body, MediaTime, PeerId, RoomTime, Span, Versioned, WireMessage};
use proptest::prelude::*;

const GUEST: SessionId = 103;
const OTHER: SessionId = 102;

fn at(ms: i64) -> RoomTime {
    RoomTime::from_micros(ms * 1000)
}

/// The host's playing state, written at 10 s of room time from 0 s of media.
fn playing() -> Versioned {
    Versioned {
        stamp: Stamp {
            wall: at(10_000),
            counter: 0,
            peer: PeerId(HOST_SESSION),
        },
        playback: Playback {
            media: Some("https://videos.example/a.mp4".into()),
            playing: true,
            anchor_room: at(10_000),
            ..Playback::empty()
        },
    }
}

/// `writer`'s state `playback`, stamped at `now_ms`.
fn written(writer: SessionId, now_ms: i64, playback: Playback) -> Versioned {
    Versioned {
        stamp: Stamp {
            wall: at(now_ms),
            counter: 0,
            peer: PeerId(writer),
        },
        playback,
    }
}

/// The hold an honest engine writes for `holder` at `now_ms`, frozen `behind_ms` behind.
fn hold(cur: &Versioned, holder: SessionId, now_ms: i64, behind_ms: i64) -> Versioned {
    let frozen = cur.playback.position_at(at(now_ms)) - Span::from_millis(behind_ms);
    let playback = held(
        cur.playback.clone(),
        at(now_ms),
        Some(frozen),
        PeerId(holder),
    )
    .expect("the room is playing");
    written(holder, now_ms, playback)
}

fn release(cur: &Versioned, writer: SessionId, now_ms: i64, lead_ms: i64) -> Versioned {
    let playback = cur.playback.clone().released_at(at(now_ms + lead_ms));
    written(writer, now_ms, playback)
}

fn host_mode(from: SessionId, current: &Versioned, now_ms: i64) -> Context<'_> {
    Context {
        now: Some(at(now_ms)),
        ..cx(true, from, Some(current))
    }
}

fn check(gate: &mut StateGate, cx: Context<'_>, state: &Versioned) -> Verdict {
    gate.check(cx, WireMessage::new(Body::State(state.clone())))
}

fn passes(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Pass(_))
}

/// Whether `state` from `from` passes in host mode, the register at `current`, at `now_ms`.
fn admitted(
    gate: &mut StateGate,
    from: SessionId,
    current: &Versioned,
    now_ms: i64,
    state: &Versioned,
) -> bool {
    passes(&check(gate, host_mode(from, current, now_ms), state))
}

#[test]
fn a_guest_may_hold_the_room_for_its_own_buffering() {
    let mut gate = settled_gate();
    let room = playing();
    gate.attest(room.clone());
    let held = hold(&room, GUEST, 30_000, 300);
    assert!(admitted(&mut gate, GUEST, &room, 30_050, &held));
    assert_eq!(gate.guest_holds.admitted, 1);
    // Relayed later in anyone's hello, the admitted hold passes as a vouched-for state.
    let hello = hello_relaying(Some(2), Some(held.clone()));
    let relayed = WireMessage::new(Body::Hello(hello));
    assert_eq!(
        gate.check(host_mode(OTHER, &room, 30_100), relayed.clone()),
        Verdict::Pass(relayed)
    );
    // And the guest's release (or anyone's, for a holder gone quiet) resumes the room.
    let resumed = release(&held, GUEST, 33_000, 500);
    assert!(admitted(&mut gate, GUEST, &held, 33_010, &resumed));
    let orphan = release(&held, OTHER, 40_000, 500);
    assert!(admitted(&mut gate, OTHER, &held, 40_010, &orphan));
}

#[test]
fn a_guest_cannot_hold_in_anothers_name_seek_load_or_change_the_rate() {
    let room = playing();
    let now = 30_000;
    let honest = hold(&room, GUEST, now, 300);
    let mut forgeries = vec![
        // In another member's name, or written by another than the holder.
        hold(&room, OTHER, now, 300),
        Versioned {
            stamp: Stamp {
                peer: PeerId(OTHER),
                ..honest.stamp
            },
            ..honest.clone()
        },
        // Held further than the bound from where the room is (a seek in disguise), either way.
        hold(&room, GUEST, now, 3_000),
        hold(&room, GUEST, now, -3_000),
        // Dated in the future, or so long ago that its position is far from the room's now.
        hold(&room, GUEST, now + 5_000, 0),
        hold(&room, GUEST, now - 8_000, 0),
    ];
    let mut other_media = honest.clone();
    other_media.playback.media = Some("https://elsewhere.example/b.mp4".into());
    forgeries.push(other_media);
    let mut rate = honest.clone();
    rate.playback.rate = 2.0;
    forgeries.push(rate);
    // A plain pause or a seek, unsigned.
    let mut pause = honest.clone();
    pause.playback.hold = None;
    forgeries.push(pause);
    let mut seek = room.clone();
    seek.stamp = honest.stamp;
    seek.playback.anchor_media = MediaTime::from_micros(600_000_000);
    forgeries.push(seek);
    // An older stamp than the room's changes nothing: not admitted (and not counted).
    forgeries.push(Versioned {
        stamp: Stamp {
            wall: at(5_000),
            ..honest.stamp
        },
        ..honest.clone()
    });
    for (i, forged) in forgeries.iter().enumerate() {
        let mut gate = settled_gate();
        gate.attest(room.clone());
        assert_eq!(
            check(&mut gate, host_mode(GUEST, &room, now + 50), forged),
            Verdict::Dropped,
            "forgery {i}: {forged:?}"
        );
        assert_eq!(gate.guest_holds.admitted, 0);
    }
    // Nothing to hold: the room is paused by its host.
    let mut paused = room.clone();
    paused.playback.playing = false;
    let mut gate = settled_gate();
    let on_pause = written(GUEST, now, {
        let mut p = paused.playback.clone();
        p.hold = Some(PeerId(GUEST));
        p
    });
    assert_eq!(
        check(&mut gate, host_mode(GUEST, &paused, now), &on_pause),
        Verdict::Dropped
    );
    // Without a room clock yet, nothing unsigned can be judged: dropped.
    assert_eq!(
        check(&mut settled_gate(), cx(true, GUEST, Some(&room)), &honest),
        Verdict::Dropped
    );
}

#[test]
fn a_release_resumes_only_from_where_the_room_was_held() {
    let room = playing();
    let held = hold(&room, GUEST, 30_000, 0);
    let mut gate = settled_gate();
    let mut elsewhere = release(&held, OTHER, 31_000, 500);
    elsewhere.playback.anchor_media = MediaTime::from_micros(0);
    let far_ahead = release(&held, OTHER, 31_000, 60_000);
    let before_hold = release(&held, OTHER, 31_000, -2_000);
    for forged in [elsewhere, far_ahead, before_hold] {
        assert_eq!(
            check(&mut gate, host_mode(OTHER, &held, 31_000), &forged),
            Verdict::Dropped
        );
    }
    // A "release" of a state that is not a hold: the host's own pause stays.
    let mut paused = room.clone();
    paused.playback.playing = false;
    let resumed = release(&paused, OTHER, 31_000, 500);
    assert_eq!(
        check(&mut gate, host_mode(OTHER, &paused, 31_000), &resumed),
        Verdict::Dropped
    );
}

#[test]
fn a_guest_holds_at_most_once_per_cooldown() {
    let mut gate = settled_gate();
    let room = playing();
    let first = hold(&room, GUEST, 30_000, 0);
    assert!(admitted(&mut gate, GUEST, &room, 30_000, &first));
    // Released; the room plays again; the same guest stalls again too soon.
    let resumed = release(&first, GUEST, 32_000, 500);
    assert!(admitted(&mut gate, GUEST, &first, 32_000, &resumed));
    let soon = 32_000 + GUEST_HOLD_COOLDOWN.as_micros() / 1000 - 3_000;
    let again = hold(&resumed, GUEST, soon, 0);
    assert_eq!(
        check(&mut gate, host_mode(GUEST, &resumed, soon), &again),
        Verdict::Dropped
    );
    // Another guest is not held back by it; and once cooled, the first may hold again.
    let other = hold(&resumed, OTHER, soon, 0);
    assert!(admitted(&mut gate, OTHER, &resumed, soon, &other));
    let later = 30_000 + GUEST_HOLD_COOLDOWN.as_micros() / 1000 + 1;
    let cooled = hold(&resumed, GUEST, later, 0);
    assert!(admitted(&mut gate, GUEST, &resumed, later, &cooled));
    assert_eq!(gate.guest_holds.admitted, 3);
}

#[test]
fn a_guests_hold_is_released_by_the_controllers_once_overdue() {
    let room = playing();
    let held = hold(&room, GUEST, 30_000, 0);
    let controller = |p: PeerId| p.0 == HOST_SESSION;
    let max_ms = MAX_GUEST_HOLD.as_micros() / 1000;
    assert!(!overdue(Some(&held), Some(at(30_000 + max_ms)), controller));
    assert!(overdue(Some(&held), Some(at(30_001 + max_ms)), controller));
    // A controller's own hold is its own to release; a playing room has nothing to release.
    let hosts = hold(&room, HOST_SESSION, 30_000, 0);
    assert!(!overdue(Some(&hosts), Some(at(90_000)), controller));
    assert!(!overdue(Some(&room), Some(at(90_000)), controller));
    assert!(!overdue(Some(&held), None, controller));
}

/// What a rogue member tries, each tick.
#[derive(Debug, Clone)]
enum Try {
    Nothing,
    /// A hold in its own name frozen this many ms behind the room (any sign, any size).
    Hold(i64),
    /// A release starting this many ms ahead.
    Release(i64),
    /// A seek to this many seconds of media.
    Seek(i64),
}

fn any_try() -> impl Strategy<Value = Try> {
    prop_oneof![
        Just(Try::Nothing),
        (-8_000i64..8_000).prop_map(Try::Hold),
        (-2_000i64..8_000).prop_map(Try::Release),
        (0i64..600).prop_map(Try::Seek),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Whatever a rogue guest sends, tick after tick for two minutes while the host's page
    /// releases overdue holds: the room is never paused for more than MAX_GUEST_HOLD (plus
    /// the host's one-second check) per cooldown, each admitted hold moves it by at most
    /// GUEST_HOLD_JUMP, and its media and rate never change.
    #[test]
    fn a_rogue_cannot_pause_the_room_for_good_or_seek_it(
        tries in proptest::collection::vec(any_try(), 1200),
    ) {
        let mut gate = settled_gate();
        let mut register = Register::new();
        let start = playing();
        gate.attest(start.clone());
        register.merge(start.clone());
        let (mut paused_ms, mut holds) = (0i64, 0u32);
        let tick = 100;
        for (i, attempt) in tries.iter().enumerate() {
            let now = 20_000 + i as i64 * tick;
            let current = register.get().cloned().expect("the host's state");
            let forged = match *attempt {
                Try::Nothing => None,
                Try::Hold(behind) if current.playback.playing => Some(hold(&current, GUEST, now, behind)),
                Try::Hold(_) => None,
                Try::Release(lead) => Some(release(&current, GUEST, now, lead)),
                Try::Seek(secs) => {
                    let mut s = written(GUEST, now, current.playback.clone());
                    s.playback.anchor_media = MediaTime::from_micros(secs * 1_000_000);
                    Some(s)
                }
            };
            if let Some(forged) = forged {
                let before = current.playback.position_at(at(now));
                if passes(&check(&mut gate, host_mode(GUEST, &current, now), &forged)) {
                    register.merge(forged.clone());
                    let p = &forged.playback;
                    prop_assert!((p.position_at(at(now)) - before).abs() <= GUEST_HOLD_JUMP);
                    if p.hold.is_some() {
                        holds += 1;
                    }
                }
            }
            // The host's page, once a second, releases an overdue guest's hold (signed).
            let current = register.get().cloned().expect("the host's state");
            if i % 10 == 0 && overdue(Some(&current), Some(at(now)), |p| p.0 == HOST_SESSION) {
                let resumed = release(&current, HOST_SESSION, now, 500);
                gate.attest(resumed.clone());
                register.merge(resumed);
            }
            let p = &register.get().expect("the host's state").playback;
            prop_assert_eq!(&p.media, &start.playback.media);
            prop_assert_eq!(p.rate, start.playback.rate);
            if !p.playing {
                paused_ms += tick;
            }
        }
        let total_ms = tries.len() as i64 * tick;
        let cooldowns = total_ms / (GUEST_HOLD_COOLDOWN.as_micros() / 1000) + 1;
        prop_assert!(i64::from(holds) <= cooldowns);
        let longest = MAX_GUEST_HOLD.as_micros() / 1000 + 1_000 + tick;
        prop_assert!(paused_ms <= cooldowns * longest, "paused {paused_ms} ms of {total_ms}");
    }
}

#[test]
fn a_newcomer_keeps_states_aside_until_it_knows_the_mode() {
    let rogue = state(30_000, GUEST, true);
    let honest = playing();
    let waiting = |from| Context {
        mode: None,
        now_ms: 1_000.0,
        ..cx(false, from, None)
    };
    let mut gate = StateGate::default();
    assert_eq!(check(&mut gate, waiting(GUEST), &rogue), Verdict::Waits);
    // A hello goes on (clock, rank) without the state it relays.
    let hello = hello_relaying(Some(2), Some(honest.clone()));
    match gate.check(waiting(HOST_SESSION), WireMessage::new(Body::Hello(hello))) {
        Verdict::Pass(WireMessage {
            body: Body::Hello(h),
            ..
        }) => assert_eq!(h.state, None),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        gate.newcomer.deadline_ms(),
        Some(1_000.0 + SETTLE_WITHIN_MS)
    );
    // The host's signed mode arrives: host mode is on, and its vouching for the state with it.
    gate.attest(honest.clone());
    let kept = gate.newcomer.settle();
    assert_eq!(kept.len(), 2);
    let verdicts: Vec<Verdict> = kept
        .iter()
        .map(|(from, s)| check(&mut gate, cx(true, *from, None), s))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            Verdict::Dropped,
            Verdict::Pass(WireMessage::new(Body::State(honest)))
        ]
    );
    // After the wait, nothing waits any more.
    assert!(passes(&check(&mut gate, cx(false, GUEST, None), &rogue)));
}

#[test]
fn a_newcomer_waits_a_bounded_time_and_keeps_one_state_each() {
    let mut gate = StateGate::default();
    let at_ms = |now_ms| Context {
        mode: None,
        now_ms,
        ..cx(false, GUEST, None)
    };
    assert_eq!(
        gate.newcomer.deadline_ms(),
        None,
        "no wait before a state arrives"
    );
    check(&mut gate, at_ms(500.0), &state(30_000, GUEST, true));
    check(&mut gate, at_ms(900.0), &state(40_000, GUEST, false));
    check(&mut gate, at_ms(950.0), &state(35_000, GUEST, true));
    assert_eq!(
        gate.newcomer.deadline_ms(),
        Some(500.0 + SETTLE_WITHIN_MS),
        "the first state kept starts the wait; later ones do not move it"
    );
    for member in 0..(MAX_WAITING as u64 + 10) {
        let cx = Context {
            from: 1_000 + member,
            ..at_ms(1_000.0)
        };
        check(&mut gate, cx, &state(30_000, 1_000 + member, true));
    }
    let kept = gate.newcomer.settle();
    assert_eq!(kept.len(), MAX_WAITING);
    assert_eq!(
        kept[0],
        (GUEST, state(40_000, GUEST, false)),
        "the latest of each"
    );
    assert_eq!(gate.newcomer.deadline_ms(), None, "settled: no wait left");
}

fn link_host() -> KeyId {
    KeyId([1; KEY_ID_BYTES])
}

fn by_host(statement: Statement) -> Signed {
    Signed {
        statement,
        key: vec![4; 65],
        signature: vec![0; 64],
    }
}

#[test]
fn the_hosts_opening_statement_never_overrides_a_mode_it_set() {
    // The link's host says "no Host controls" at (term 0, seq 0) each time its page opens;
    // a real switch has seq = wall time, so whatever the order, the switch wins.
    let opening = by_host(Statement::Mode {
        on: false,
        term: 0,
        seq: 0,
    });
    let switch = by_host(Statement::Mode {
        on: true,
        term: 0,
        seq: 1_700_000_000_000,
    });
    let mut a = Authority::new(link_host());
    assert_eq!(a.mode(), None);
    assert_eq!(
        a.accept(HOST_SESSION, link_host(), opening.clone()),
        Ok(Accepted::Changed)
    );
    assert_eq!(a.mode(), Some(false));
    assert_eq!(
        a.accept(HOST_SESSION, link_host(), switch.clone()),
        Ok(Accepted::Changed)
    );
    let mut b = Authority::new(link_host());
    b.accept(HOST_SESSION, link_host(), switch).unwrap();
    assert_eq!(
        b.accept(HOST_SESSION, link_host(), opening),
        Ok(Accepted::Unchanged)
    );
    assert_eq!((a.mode(), b.mode()), (Some(true), Some(true)));
}

#[test]
fn only_the_hosts_or_a_cohosts_link_settles_the_mode() {
    // Anyone can replay the host's old "no Host controls": relayed by a guest it tells a
    // mode, but not that it is the latest; the host's or a co-host's own link does, and only
    // once its mode statement arrived (its key, which comes first, is not enough).
    let mut a = Authority::new(link_host());
    let opening = by_host(Statement::Mode {
        on: false,
        term: 0,
        seq: 0,
    });
    a.accept(GUEST, link_host(), opening).unwrap();
    assert_eq!(a.mode(), Some(false));
    let keys = [(1u8, HOST_SESSION), (2, OTHER), (3, GUEST)];
    for (n, session) in keys {
        let announce = by_host(Statement::KeyOf { session });
        a.accept(session, KeyId([n; KEY_ID_BYTES]), announce)
            .unwrap();
    }
    assert!(
        !a.mode_settled(),
        "only a guest's relay and the host's key so far"
    );
    let grant = by_host(Statement::Grant {
        key: KeyId([2; KEY_ID_BYTES]),
        session: OTHER,
        granted: true,
        term: 0,
        seq: 2,
    });
    let on = by_host(Statement::Mode {
        on: true,
        term: 0,
        seq: 1,
    });
    // The co-host's log: the mode it knows, then (later in its log) its grant.
    a.accept(OTHER, link_host(), on.clone()).unwrap();
    assert!(
        !a.mode_settled(),
        "not a co-host yet, as far as this page knows"
    );
    a.accept(OTHER, link_host(), grant).unwrap();
    assert!(a.mode_settled() && a.host_mode());
    // The host's own link settles it too.
    let mut b = Authority::new(link_host());
    b.accept(
        HOST_SESSION,
        link_host(),
        by_host(Statement::KeyOf {
            session: HOST_SESSION,
        }),
    )
    .unwrap();
    assert!(!b.mode_settled());
    b.accept(HOST_SESSION, link_host(), on).unwrap();
    assert!(b.mode_settled());
}
