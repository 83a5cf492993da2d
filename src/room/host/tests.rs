//! The host's rules: only the host of a statement's term may switch the mode, grant or hand
//! over; only controllers' states and queue pieces pass in host mode; replays change nothing;
//! and pages that hear the same statements in any order, with repeats and losses healed by a
//! newcomer's log, agree on host, mode, grants and who may control.

use super::authority::{Accepted, Authority, Refused};
use super::gate::{Context, StateGate, Verdict};
use super::key::{KeyId, KEY_ID_BYTES};
use super::record::{signed_bytes, HostMessage, Signed, Statement};
use crate::signaling::payload::SessionId;
use crate::sync::state::{Playback, Register, Stamp};
use crate::sync::test_cases::deterministic;
use crate::sync::test_harness::hello_relaying;
use crate::sync::wire::Hello;
use crate::sync::{Body, PeerId, RoomTime, Versioned, WireMessage};
use proptest::prelude::*;

fn key(n: u8) -> KeyId {
    KeyId([n; KEY_ID_BYTES])
}

const HOST: u8 = 1;
pub(super) const HOST_SESSION: SessionId = 100;

/// A statement as the web layer hands it over once its signature verified (the key and
/// signature bytes are not read by the rules).
fn signed(statement: Statement) -> Signed {
    Signed {
        statement,
        key: vec![4; 65],
        signature: vec![0; 64],
    }
}

fn mode(on: bool, term: u32, seq: u64) -> Signed {
    signed(Statement::Mode { on, term, seq })
}

fn grant(to: u8, granted: bool, term: u32, seq: u64) -> Signed {
    signed(Statement::Grant {
        key: key(to),
        session: SessionId::from(to) + 100,
        granted,
        term,
        seq,
    })
}

fn key_of(session: SessionId) -> Signed {
    signed(Statement::KeyOf { session })
}

/// A room whose host (key 1, session 100) and members 2 and 3 (sessions 102, 103) announced
/// their keys.
fn room() -> Authority {
    let mut a = Authority::new(key(HOST));
    for (n, session) in [(HOST, HOST_SESSION), (2, 102), (3, 103)] {
        assert_eq!(
            a.accept(session, key(n), key_of(session)),
            Ok(Accepted::Changed)
        );
    }
    a
}

pub(super) fn state(wall_ms: i64, writer: u64, playing: bool) -> Versioned {
    Versioned {
        stamp: Stamp {
            wall: RoomTime::from_micros(wall_ms * 1000),
            counter: 0,
            peer: PeerId(writer),
        },
        playback: Playback {
            media: Some("https://videos.example/a.mp4".into()),
            playing,
            ..Playback::empty()
        },
    }
}

#[test]
fn only_the_links_host_switches_host_controls() {
    let mut a = room();
    assert!(!a.host_mode());
    assert_eq!(a.host_session(), Some(HOST_SESSION));
    // A member signing a mode statement with its own key claims to be host: refused, counted.
    assert_eq!(
        a.accept(102, key(2), mode(true, 0, 5)),
        Err(Refused::NotHost)
    );
    assert!(!a.host_mode());
    assert_eq!(a.stats().refused, 1);
    assert_eq!(
        a.accept(HOST_SESSION, key(HOST), mode(true, 0, 5)),
        Ok(Accepted::Changed)
    );
    assert!(a.host_mode());
    // Relayed by anyone, the host's statement is the host's.
    assert_eq!(
        a.accept(103, key(HOST), mode(true, 0, 5)),
        Ok(Accepted::Unchanged)
    );
}

#[test]
fn in_host_mode_only_the_host_and_cohosts_may_control() {
    let mut a = room();
    for session in [HOST_SESSION, 102, 103, 999] {
        assert!(a.may_control(session), "outside host mode anyone may");
    }
    a.accept(HOST_SESSION, key(HOST), mode(true, 0, 1)).unwrap();
    assert!(a.may_control(HOST_SESSION));
    assert!(!a.may_control(102));
    assert!(!a.may_control(999), "a session with no key may not");
    a.accept(HOST_SESSION, key(HOST), grant(2, true, 0, 2))
        .unwrap();
    assert!(a.may_control(102) && a.is_cohost(102));
    assert!(!a.may_control(103));
    // A later grant takes it back; an older one replayed does not give it again.
    a.accept(HOST_SESSION, key(HOST), grant(2, false, 0, 3))
        .unwrap();
    assert!(!a.may_control(102));
    assert_eq!(
        a.accept(103, key(HOST), grant(2, true, 0, 2)),
        Ok(Accepted::Unchanged)
    );
    assert!(!a.may_control(102));
    // A co-host cannot grant: only the host of the term may.
    a.accept(HOST_SESSION, key(HOST), grant(2, true, 0, 4))
        .unwrap();
    assert_eq!(
        a.accept(102, key(2), grant(3, true, 0, 5)),
        Err(Refused::NotHost)
    );
}

#[test]
fn a_member_announces_only_its_own_key() {
    let mut a = room();
    // Member 3 binding its key to the host's session would make it "the host's session".
    assert_eq!(
        a.accept(103, key(3), key_of(HOST_SESSION)),
        Err(Refused::NotItsSession)
    );
    assert_eq!(a.key_of(HOST_SESSION), Some(key(HOST)));
}

#[test]
fn states_and_queue_pieces_pass_only_when_a_controller_signed_them() {
    let mut a = room();
    a.accept(HOST_SESSION, key(HOST), mode(true, 0, 1)).unwrap();
    let s = state(10_000, 102, true);
    assert_eq!(
        a.accept(102, key(2), signed(Statement::State(s.clone()))),
        Err(Refused::NotController)
    );
    assert_eq!(
        a.accept(102, key(2), signed(Statement::Queue(vec![1]))),
        Err(Refused::NotController)
    );
    a.accept(HOST_SESSION, key(HOST), grant(2, true, 0, 2))
        .unwrap();
    assert_eq!(
        a.accept(102, key(2), signed(Statement::State(s.clone()))),
        Ok(Accepted::State(s))
    );
    assert_eq!(
        a.accept(HOST_SESSION, key(HOST), signed(Statement::Queue(vec![1]))),
        Ok(Accepted::Queue(vec![1]))
    );
}

#[test]
fn a_handover_makes_a_new_host_and_retires_the_old() {
    let mut a = room();
    a.accept(HOST_SESSION, key(HOST), grant(3, true, 0, 7))
        .unwrap();
    let handover = signed(Statement::Handover {
        to: key(2),
        session: 102,
        term: 0,
    });
    // Only the host may hand over.
    assert_eq!(
        a.accept(103, key(3), handover.clone()),
        Err(Refused::NotHost)
    );
    assert_eq!(
        a.accept(HOST_SESSION, key(HOST), handover),
        Ok(Accepted::Changed)
    );
    assert_eq!(a.host(), key(2));
    assert_eq!(a.host_session(), Some(102));
    // The old host's statements of the new term are false claims; the new host's count.
    assert_eq!(
        a.accept(HOST_SESSION, key(HOST), mode(true, 1, 1)),
        Err(Refused::NotHost)
    );
    assert_eq!(
        a.accept(102, key(2), mode(true, 1, 1)),
        Ok(Accepted::Changed)
    );
    // The grants the old host made stay valid.
    assert!(a.may_control(103));
    assert!(!a.may_control(HOST_SESSION));
    // A second, different handover of term 0 is refused: the first one holds.
    let other = signed(Statement::Handover {
        to: key(3),
        session: 103,
        term: 0,
    });
    assert_eq!(
        a.accept(HOST_SESSION, key(HOST), other),
        Err(Refused::Contradicts)
    );
}

#[test]
fn a_statement_of_a_term_not_yet_known_waits_for_its_handover() {
    let mut a = room();
    // The new host's mode arrives on its own link before the old host's handover.
    assert_eq!(
        a.accept(102, key(2), mode(true, 1, 1)),
        Ok(Accepted::Waiting)
    );
    assert!(!a.host_mode());
    let handover = signed(Statement::Handover {
        to: key(2),
        session: 102,
        term: 0,
    });
    a.accept(HOST_SESSION, key(HOST), handover).unwrap();
    assert!(a.host_mode());
    // A rogue's statement of a future term waits, and is refused once that term's host is known.
    let mut b = room();
    assert_eq!(
        b.accept(103, key(3), mode(true, 1, 9)),
        Ok(Accepted::Waiting)
    );
    let handover = signed(Statement::Handover {
        to: key(2),
        session: 102,
        term: 0,
    });
    b.accept(HOST_SESSION, key(HOST), handover).unwrap();
    assert!(!b.host_mode());
    assert_eq!(b.stats().refused, 1);
    // Far-future terms are not kept at all.
    assert_eq!(
        b.accept(103, key(3), mode(true, 50, 9)),
        Err(Refused::OutOfBounds)
    );
}

#[test]
fn replayed_signed_states_cannot_move_the_register() {
    // The host signed "playing" at 10 s and then "paused" at 20 s; a rogue replays the first,
    // signature and all. The gate lets it through (it is genuinely signed), but the register's
    // stamps make it harmless: it is older than what every page holds.
    let mut gate = settled_gate();
    let mut register = Register::new();
    let old = state(10_000, HOST_SESSION, true);
    let new = state(20_000, HOST_SESSION, false);
    for s in [&old, &new] {
        gate.attest(s.clone());
        assert!(register.merge(s.clone()));
    }
    let replay = WireMessage::new(Body::State(old.clone()));
    match gate.check(cx(true, 103, register.get()), replay) {
        Verdict::Pass(WireMessage {
            body: Body::State(s),
            ..
        }) => assert!(
            !register.merge(s),
            "the replay must lose to the newer state"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(register.get(), Some(&new));
    // A replayed old mode statement does not switch the mode back either.
    let mut a = room();
    a.accept(HOST_SESSION, key(HOST), mode(true, 0, 1)).unwrap();
    a.accept(HOST_SESSION, key(HOST), mode(false, 0, 2))
        .unwrap();
    assert_eq!(
        a.accept(103, key(HOST), mode(true, 0, 1)),
        Ok(Accepted::Unchanged)
    );
    assert!(!a.host_mode());
    assert_eq!(a.stats().stale, 1);
}

/// A gate past its wait for the room's mode, and what it knows when it checks a message
/// from `from` with Host controls `on`.
pub(super) fn settled_gate() -> StateGate {
    let mut gate = StateGate::default();
    assert!(gate.newcomer.settle().is_empty());
    gate
}

pub(super) fn cx(on: bool, from: SessionId, current: Option<&Versioned>) -> Context<'_> {
    Context {
        mode: Some(on),
        from,
        current,
        now: None,
        now_ms: 0.0,
    }
}

#[test]
fn the_gate_drops_unsigned_states_in_host_mode_only() {
    let mut gate = settled_gate();
    let forged = state(30_000, 103, true);
    let current = state(20_000, HOST_SESSION, false);
    let message = WireMessage::new(Body::State(forged.clone()));
    assert_eq!(
        gate.check(cx(false, 103, Some(&current)), message.clone()),
        Verdict::Pass(message.clone())
    );
    assert_eq!(
        gate.check(cx(true, 103, Some(&current)), message),
        Verdict::Dropped
    );
    // A hello relaying a state: the state goes, the hello stays.
    let hello = hello_relaying(Some(2), Some(forged));
    let relayed = WireMessage::new(Body::Hello(hello.clone()));
    match gate.check(cx(true, 103, Some(&current)), relayed) {
        Verdict::Stripped(WireMessage {
            body: Body::Hello(h),
            ..
        }) => assert_eq!(
            h,
            Hello {
                state: None,
                ..hello
            }
        ),
        other => panic!("{other:?}"),
    }
    // The register's own state passes: it changes nothing.
    let own = WireMessage::new(Body::State(current.clone()));
    assert_eq!(
        gate.check(cx(true, 103, Some(&current)), own.clone()),
        Verdict::Pass(own)
    );
}

#[test]
fn a_signature_covers_the_room_and_the_statement() {
    let s = Statement::Mode {
        on: true,
        term: 0,
        seq: 1,
    };
    let bytes = signed_bytes(key(1), &s);
    assert_eq!(bytes, signed_bytes(key(1), &s.clone()));
    assert_ne!(bytes, signed_bytes(key(2), &s), "another room");
    assert_ne!(
        bytes,
        signed_bytes(
            key(1),
            &Statement::Mode {
                on: false,
                term: 0,
                seq: 1
            }
        )
    );
    // The state statement covers content, stamp and writer.
    let a = signed_bytes(key(1), &Statement::State(state(1, 2, true)));
    for other in [state(1, 2, false), state(2, 2, true), state(1, 3, true)] {
        assert_ne!(a, signed_bytes(key(1), &Statement::State(other)));
    }
}

#[test]
fn key_ids_round_trip_as_link_text() {
    let id = KeyId::from_digest(&[0xfb; 32]).unwrap();
    assert_eq!(KeyId::from_text(&id.to_text()), Some(id));
    assert_eq!(id.to_text().len(), 22);
    assert_eq!(KeyId::from_digest(&[0; 8]), None);
    assert_eq!(KeyId::from_text("AAAA"), None);
}

/// A random history of the host's room: the host (key 1) and later hosts switch the mode,
/// grant and revoke, hand over; rogues (keys 8, 9) sign mode statements and grants of
/// their own and claim others' sessions. Each with the link session it came over.
fn history(seed: u64, len: usize) -> Vec<(SessionId, KeyId, Signed)> {
    let mut rng = seed;
    let mut next = move |n: u64| {
        // SplitMix64.
        rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let mut out: Vec<(SessionId, KeyId, Signed)> = (1..=4u8)
        .chain([8, 9])
        .map(|n| {
            (
                100 + SessionId::from(n),
                key(n),
                key_of(100 + SessionId::from(n)),
            )
        })
        .collect();
    let (mut host, mut term, mut seq) = (1u8, 0u32, 0u64);
    for _ in 0..len {
        seq += 1 + next(3);
        let from = 100 + SessionId::from(host);
        match next(10) {
            0..=2 => out.push((from, key(host), mode(next(2) == 0, term, seq))),
            3..=5 => out.push((
                from,
                key(host),
                grant(1 + next(4) as u8, next(3) != 0, term, seq),
            )),
            6 if term < 5 => {
                let to = 1 + next(4) as u8;
                let handover = signed(Statement::Handover {
                    to: key(to),
                    session: 100 + SessionId::from(to),
                    term,
                });
                out.push((from, key(host), handover));
                host = to;
                term += 1;
                seq = 0;
            }
            7 => {
                let rogue = 8 + next(2) as u8;
                out.push((
                    100 + SessionId::from(rogue),
                    key(rogue),
                    mode(true, term, seq + 1000),
                ));
            }
            8 => {
                let rogue = 8 + next(2) as u8;
                out.push((
                    100 + SessionId::from(rogue),
                    key(rogue),
                    grant(rogue, true, term, seq + 1000),
                ));
            }
            _ => out.push((109, key(9), key_of(101))),
        }
    }
    out
}

/// Everything two pages must agree on.
fn summary(a: &Authority) -> (KeyId, bool, Vec<bool>) {
    let control = (100..=109).map(|s| a.may_control(s)).collect();
    (a.host(), a.host_mode(), control)
}

fn shuffled<T: Clone>(items: &[T], seed: u64, repeats: bool) -> Vec<T> {
    let mut order: Vec<(u64, T)> = Vec::new();
    let mut z = seed | 1;
    for item in items {
        for _ in 0..if repeats { 1 + (z % 2) } else { 1 } {
            z ^= z << 13;
            z ^= z >> 7;
            z ^= z << 17;
            order.push((z, item.clone()));
        }
    }
    order.sort_by_key(|(k, _)| *k);
    order.into_iter().map(|(_, t)| t).collect()
}

proptest! {
    #![proptest_config(deterministic(300))]

    /// Two pages hearing one history in different orders, with repeats, agree; a rogue never
    /// becomes a controller; and a third page that lost most of it and then received one
    /// page's log (as a newcomer does) agrees too.
    #[test]
    fn any_order_of_statements_gives_one_authority(seed in any::<u64>(), len in 1usize..60, order in any::<u64>()) {
        let events = history(seed, len);
        let mut inorder = Authority::new(key(HOST));
        for (from, signer, s) in events.clone() {
            let _ = inorder.accept(from, signer, s);
        }
        let mut reordered = Authority::new(key(HOST));
        for (from, signer, s) in shuffled(&events, order, true) {
            let _ = reordered.accept(from, signer, s);
        }
        prop_assert_eq!(summary(&inorder), summary(&reordered));
        prop_assert!(!inorder.key_may_control(key(8)) && !inorder.key_may_control(key(9)));
        // Lossy: a page hears a random third, then a peer's log.
        let mut lossy = Authority::new(key(HOST));
        for (i, (from, signer, s)) in shuffled(&events, order ^ 0xABCD, false).into_iter().enumerate() {
            if i % 3 == 0 {
                let _ = lossy.accept(from, signer, s);
            }
        }
        for s in inorder.log().to_vec() {
            // The log is relayed by a peer; its statements keep their signers (the keys are
            // by session: KeyOf comes from its own session).
            let (from, signer) = events.iter().find(|(_, _, e)| e.statement == s.statement).map(|(f, k, _)| (*f, *k)).unwrap();
            let _ = lossy.accept(from, signer, s);
        }
        prop_assert_eq!(summary(&inorder), summary(&lossy));
    }
}

#[test]
fn host_messages_decode_only_when_well_formed() {
    let good = HostMessage::Signed(signed(Statement::State(state(1, 2, true))));
    assert_eq!(HostMessage::decode(&good.encode()), Some(good.clone()));
    assert_eq!(
        HostMessage::decode(&HostMessage::Ask.encode()),
        Some(HostMessage::Ask)
    );
    // A key or signature of the wrong shape, a digest that is not one, an impossible state.
    let mut short_key = signed(Statement::KeyOf { session: 1 });
    short_key.key.pop();
    let mut long_signature = signed(Statement::KeyOf { session: 1 });
    long_signature.signature.push(0);
    let mut nan = state(1, 2, true);
    nan.playback.rate = f64::NAN;
    for bad in [
        short_key,
        long_signature,
        signed(Statement::Queue(vec![0; 31])),
        signed(Statement::State(nan)),
    ] {
        assert_eq!(
            HostMessage::decode(&HostMessage::Signed(bad).encode()),
            None
        );
    }
    // Every prefix and many single-byte changes of a good message: never a panic.
    let bytes = good.encode();
    for end in 0..bytes.len() {
        let _ = HostMessage::decode(&bytes[..end]);
    }
    for i in 0..bytes.len() {
        let mut changed = bytes.clone();
        changed[i] ^= 0xff;
        let _ = HostMessage::decode(&changed);
    }
}
