//! The queue's properties: edits do what they say, concurrent edits resolve the same way on
//! every page, merging is a join (commutative, associative, idempotent), any delivery order
//! and any repeats of a random set of edits from several pages converge with no edit lost,
//! and nothing a peer sends can panic it or grow it past its caps.

use super::delta::MAX_DELTA_BYTES;
use super::entry::Lww;
use super::key::{Key, MAX_KEY_LEN};
use super::queue::{MAX_ENTRIES_RECEIVED, MAX_FUTURE};
use super::removed::{Range, MAX_RANGES};
use super::*;
use crate::sync::state::Stamp;
use crate::sync::test_cases::deterministic;
use crate::sync::{PeerId, RoomTime, Span};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn item(n: u64) -> Item {
    Item {
        url: format!("https://videos.example/{n}.mp4"),
        title: format!("Video {n}"),
        duration: Some(Span::from_secs(60 + n as i64)),
        added_by: "Ada".into(),
    }
}

fn at(ms: i64) -> RoomTime {
    RoomTime::from_micros(1_000_000_000 + ms * 1000)
}

fn ids(q: &Queue) -> Vec<EntryId> {
    q.entries().iter().map(|e| e.id).collect()
}

fn urls(q: &Queue) -> Vec<&str> {
    q.entries().iter().map(|e| e.item.url.as_str()).collect()
}

/// Merges every piece of `d`, as the pages would receive it.
fn give(q: &mut Queue, d: &Delta) {
    for piece in d.clone().split() {
        q.merge(piece, None);
    }
}

/// Two pages that share `n` entries added by the first.
fn pair(n: u64) -> (Queue, Queue) {
    let (mut a, mut b) = (Queue::new(PeerId(1)), Queue::new(PeerId(2)));
    for i in 0..n {
        let d = a.add(at(i as i64), item(i)).unwrap();
        give(&mut b, &d);
    }
    (a, b)
}

#[test]
fn two_people_adding_at_once_both_appear_in_one_order() {
    let (mut a, mut b) = pair(1);
    let da = a.add(at(10), item(10)).unwrap();
    let db = b.add(at(10), item(20)).unwrap();
    give(&mut a, &db);
    give(&mut b, &da);
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(urls(&a).len(), 3);
    // Both appended after the same entry, so they tie on the key; the id orders them.
    assert_eq!(a.entries()[1].key, a.entries()[2].key);
    assert!(a.entries()[1].id < a.entries()[2].id);
}

#[test]
fn a_move_and_a_remove_of_one_entry_end_removed_everywhere() {
    for remove_first in [false, true] {
        let (mut a, mut b) = pair(3);
        let x = a.entries()[0].id;
        let last = a.entries()[2].id;
        let moved = a.move_after(at(10), x, last).unwrap();
        let removed = b.remove(x).unwrap();
        let mut c = Queue::new(PeerId(3));
        give(&mut c, &a.snapshot());
        if remove_first {
            give(&mut c, &removed);
            give(&mut c, &moved);
        } else {
            give(&mut c, &moved);
            give(&mut c, &removed);
        }
        give(&mut a, &removed);
        give(&mut b, &moved);
        for q in [&a, &b, &c] {
            assert_eq!(q.snapshot(), a.snapshot());
            assert!(q.get(x).is_none());
            assert_eq!(q.entries().len(), 2);
        }
    }
}

#[test]
fn two_moves_of_one_entry_resolve_to_the_later_stamp() {
    let (mut a, mut b) = pair(4);
    let e = ids(&a);
    let to_end = a.move_after(at(20), e[0], e[3]).unwrap();
    let after_second = b.move_after(at(21), e[0], e[1]).unwrap();
    give(&mut a, &after_second);
    give(&mut b, &to_end);
    assert_eq!(a.snapshot(), b.snapshot());
    assert_eq!(ids(&a), vec![e[1], e[0], e[2], e[3]]);
}

#[test]
fn an_entry_goes_between_two_that_tie() {
    let (mut a, mut b) = pair(1);
    let da = a.add(at(10), item(10)).unwrap();
    let db = b.add(at(10), item(20)).unwrap();
    give(&mut a, &db);
    give(&mut b, &da);
    let e = ids(&a);
    assert_eq!(a.entries()[1].key, a.entries()[2].key);
    // Move the first entry between the tied pair: the pair's second gets a key of its own.
    let d = a.move_after(at(30), e[0], e[1]).unwrap();
    assert_eq!(d.entries.len(), 2);
    assert_eq!(ids(&a), vec![e[1], e[0], e[2]]);
    give(&mut b, &d);
    assert_eq!(a.snapshot(), b.snapshot());
}

#[test]
fn a_newcomer_gets_the_whole_queue_from_a_snapshot() {
    let (mut a, _) = pair(5);
    let e = ids(&a);
    a.remove(e[2]).unwrap();
    a.move_before(at(50), e[4], e[0]).unwrap();
    a.set_repeat(at(51), true).unwrap();
    a.set_shuffle(at(52), true).unwrap();
    let mut c = Queue::new(PeerId(3));
    assert!(c.merge(a.snapshot(), Some(at(60))));
    assert_eq!(c.snapshot(), a.snapshot());
    assert!(c.repeat() && c.shuffled());
    // A late copy of the removed entry does not bring it back.
    let (mut old, _) = pair(5);
    old.me = PeerId(9);
    give(&mut c, &old.snapshot());
    assert!(c.get(e[2]).is_none());
    assert_eq!(ids(&c), ids(&a));
    assert_eq!(c.stats().refused(), 0);
}

#[test]
fn shuffle_is_one_order_everywhere_and_next_walks_it() {
    let (mut a, mut b) = pair(12);
    let d = a.set_shuffle(at(100), true).unwrap();
    give(&mut b, &d);
    let order: Vec<EntryId> = a.play_order().iter().map(|e| e.id).collect();
    assert_eq!(
        order,
        b.play_order().iter().map(|e| e.id).collect::<Vec<_>>()
    );
    assert_ne!(order, ids(&a), "12 entries left in list order by a shuffle");
    // Walking next_after from first() visits every entry once, then stops.
    let mut walk = vec![a.first().unwrap().id];
    while let Some(n) = a.next_after(a.get(*walk.last().unwrap()).unwrap()) {
        walk.push(n.id);
    }
    assert_eq!(walk, order);
    // With repeat it comes round again.
    a.set_repeat(at(101), true).unwrap();
    let last = a.get(*order.last().unwrap()).unwrap();
    assert_eq!(a.next_after(last).map(|e| e.id), Some(order[0]));
    // An added entry lands somewhere; the others keep their order.
    a.add(at(102), item(99)).unwrap();
    let kept: Vec<EntryId> = a
        .play_order()
        .iter()
        .map(|e| e.id)
        .filter(|id| order.contains(id))
        .collect();
    assert_eq!(kept, order);
}

#[test]
fn next_continues_from_where_a_removed_or_moved_entry_was() {
    let (mut a, _) = pair(4);
    let e = ids(&a);
    let playing = a.get(e[1]).unwrap().clone();
    a.remove(e[1]).unwrap();
    assert_eq!(a.next_after(&playing).map(|x| x.id), Some(e[2]));
    let playing = a.get(e[0]).unwrap().clone();
    a.move_after(at(10), e[0], e[3]).unwrap();
    assert_eq!(a.next_after(&playing), None);
    a.set_repeat(at(11), true).unwrap();
    assert_eq!(a.next_after(&playing).map(|x| x.id), Some(e[2]));
    assert_eq!(a.first().map(|x| x.id), Some(e[2]));
}

#[test]
fn local_edits_refuse_what_they_cannot_do() {
    let (mut a, _) = pair(2);
    let e = ids(&a);
    let ghost = EntryId {
        peer: PeerId(7),
        seq: 0,
    };
    assert_eq!(a.move_up(at(5), e[0]), Err(EditError::NoChange));
    assert_eq!(a.move_down(at(5), e[1]), Err(EditError::NoChange));
    assert_eq!(a.move_before(at(5), e[0], e[1]), Err(EditError::NoChange));
    assert_eq!(a.move_after(at(5), e[0], e[0]), Err(EditError::NoChange));
    assert_eq!(a.move_after(at(5), e[0], ghost), Err(EditError::Unknown));
    assert_eq!(a.remove(ghost), Err(EditError::Unknown));
    assert_eq!(a.set_repeat(at(5), false), Err(EditError::NoChange));
    let mut bad = item(1);
    bad.url = "not a url".into();
    assert_eq!(a.add(at(5), bad), Err(EditError::Invalid));
    for i in 2..MAX_ENTRIES as u64 {
        a.add(at(6), item(i)).unwrap();
    }
    assert_eq!(a.add(at(7), item(0)), Err(EditError::Full));
}

// ---- Edits do what they say, ties and respaces included: a list model. ----

proptest! {
    #![proptest_config(deterministic(64))]

    #[test]
    fn edits_match_a_plain_list(ops in proptest::collection::vec((0u8..8, any::<u16>(), any::<u16>()), 1..400)) {
        // Start with a tie: two pages appending at once after a shared entry.
        let (mut q, mut other) = pair(2);
        let (dq, dother) = (q.add(at(1), item(50)).unwrap(), other.add(at(1), item(51)).unwrap());
        give(&mut q, &dother);
        give(&mut other, &dq);
        prop_assert_eq!(&q.entries()[2].key, &q.entries()[3].key);
        let mut model = ids(&q);
        let mut n = 100;
        let mut respaces = 0;
        // Then enough placements into one gap to force a respace.
        let ops = ops.into_iter().chain(core::iter::repeat((7, 0, 0)).take(300));
        for (i, (op, x, y)) in ops.enumerate() {
            let now = at(10 + i as i64);
            let len = model.len();
            let pick = |v: u16| model.get(usize::from(v) % len.max(1)).copied();
            let result = match (op, pick(x), pick(y)) {
                (0, _, _) => {
                    n += 1;
                    let r = q.add(now, item(n));
                    if let Ok(d) = &r { model.push(d.entries.iter().find(|e| e.item == item(n)).unwrap().id); }
                    r
                }
                (1, Some(a), Some(b)) => {
                    let r = q.move_before(now, a, b);
                    if r.is_ok() { model.retain(|&z| z != a); let j = model.iter().position(|&z| z == b).unwrap(); model.insert(j, a); }
                    r
                }
                (2, Some(a), Some(b)) => {
                    let r = q.move_after(now, a, b);
                    if r.is_ok() { model.retain(|&z| z != a); let j = model.iter().position(|&z| z == b).unwrap(); model.insert(j + 1, a); }
                    r
                }
                (3, Some(a), _) => {
                    let r = q.move_up(now, a);
                    if r.is_ok() { let j = model.iter().position(|&z| z == a).unwrap(); model.swap(j - 1, j); }
                    r
                }
                (4, Some(a), _) => {
                    let r = q.move_down(now, a);
                    if r.is_ok() { let j = model.iter().position(|&z| z == a).unwrap(); model.swap(j, j + 1); }
                    r
                }
                (5, Some(a), _) if len > 3 => {
                    let r = q.remove(a);
                    if r.is_ok() { model.retain(|&z| z != a); }
                    r
                }
                // The worst case for key length: again and again just below the last placed.
                (_, _, _) if len >= 3 => {
                    let (first, last) = (model[0], model[len - 1]);
                    let r = q.move_after(now, last, first);
                    if r.is_ok() { model.pop(); model.insert(1, last); }
                    r
                }
                _ => continue,
            };
            if let Ok(d) = &result {
                respaces += usize::from(d.entries.len() > 2 && d.entries.len() == model.len());
                // Another page applying the same pieces follows along.
                give(&mut other, d);
            }
            prop_assert_eq!(ids(&q), model.clone());
            prop_assert!(q.entries().iter().all(|e| e.key.is_valid()));
            prop_assert!(q.entries().windows(2).all(|w| w[0].order() < w[1].order()));
        }
        prop_assert!(respaces > 0);
        prop_assert_eq!(ids(&other), model);
    }
}

#[test]
fn a_crowded_gap_respaces_the_list_and_keys_stay_bounded() {
    let (mut a, mut b) = pair(3);
    let mut respaced = false;
    for i in 0..600 {
        let e = ids(&a);
        let d = a.move_after(at(10 + i), e[2], e[0]).unwrap();
        respaced |= d.entries.len() == 3;
        give(&mut b, &d);
        assert!(a.entries().iter().all(|e| e.key.0.len() <= MAX_KEY_LEN));
    }
    assert!(respaced);
    assert_eq!(a.snapshot(), b.snapshot());
}

// ---- Merging is a join, and any delivery converges. ----

/// A seeded generator for the simulated pages (SplitMix64, as in `sim/`).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        super::order::mix(self.0)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Several pages editing at once, hearing each other only now and then: the delta log of
/// every edit made, and each page's undelivered pieces.
struct World {
    pages: Vec<Queue>,
    log: Vec<Delta>,
    pending: Vec<Vec<usize>>,
    rng: Rng,
    now: i64,
}

impl World {
    fn run(seed: u64, pages: usize, steps: usize) -> World {
        let mut w = World {
            pages: (0..pages)
                .map(|p| Queue::new(PeerId(100 + p as u64)))
                .collect(),
            log: Vec::new(),
            pending: vec![Vec::new(); pages],
            rng: Rng(seed),
            now: 0,
        };
        for _ in 0..steps {
            w.step();
        }
        w
    }

    fn step(&mut self) {
        self.now += 1 + self.rng.below(5) as i64;
        let p = self.rng.below(self.pages.len());
        // Each page's room clock is a few ms off the others'.
        let now = at(self.now + p as i64 * 3);
        let q = &mut self.pages[p];
        let len = q.entries().len();
        let pick = |rng: &mut Rng| q.entries().get(rng.below(len)).map(|e| e.id);
        let (a, b) = (pick(&mut self.rng), pick(&mut self.rng));
        let result = match self.rng.below(20) {
            0..=6 => q.add(now, item(self.rng.next() % 1000)),
            7..=8 => a
                .zip(b)
                .map_or(Err(EditError::Unknown), |(a, b)| q.move_before(now, a, b)),
            9..=10 => a
                .zip(b)
                .map_or(Err(EditError::Unknown), |(a, b)| q.move_after(now, a, b)),
            11 => a.map_or(Err(EditError::Unknown), |a| q.move_up(now, a)),
            12 => a.map_or(Err(EditError::Unknown), |a| q.move_down(now, a)),
            13..=14 => a.map_or(Err(EditError::Unknown), |a| q.remove(a)),
            15 => {
                let on = !q.repeat();
                q.set_repeat(now, on)
            }
            16 => {
                let on = !q.shuffled();
                q.set_shuffle(now, on)
            }
            _ => {
                // Deliver some of a page's pending pieces, in random order, some twice.
                let take = self.rng.below(self.pending[p].len() + 1);
                for _ in 0..take {
                    let i = self.rng.below(self.pending[p].len());
                    let d = self.pending[p][i];
                    if self.rng.below(3) > 0 {
                        self.pending[p].swap_remove(i);
                    }
                    let piece = self.log[d].clone();
                    self.pages[p].merge(piece, Some(now));
                }
                return;
            }
        };
        if let Ok(d) = result {
            for piece in d.split() {
                for (o, pend) in self.pending.iter_mut().enumerate() {
                    if o != p {
                        pend.push(self.log.len());
                    }
                }
                self.log.push(piece);
            }
        }
    }

    /// Every page, and two newcomers, get the whole log in their own random orders with
    /// repeats; one newcomer learns only from a page's snapshot.
    fn deliver_all(&mut self) -> Vec<Queue> {
        let mut all: Vec<Queue> = self.pages.clone();
        all.push(Queue::new(PeerId(1)));
        all.push(Queue::new(PeerId(2)));
        for q in &mut all {
            let mut order: Vec<usize> = (0..self.log.len())
                .chain(0..self.log.len() / 3)
                .map(|i| i % self.log.len().max(1))
                .collect();
            for i in (1..order.len()).rev() {
                order.swap(i, self.rng.below(i + 1));
            }
            for i in order {
                q.merge(self.log[i].clone(), None);
            }
        }
        let mut newcomer = Queue::new(PeerId(3));
        give(&mut newcomer, &all[0].snapshot());
        all.push(newcomer);
        all
    }
}

proptest! {
    #![proptest_config(deterministic(200))]

    /// Any delivery order and any repeats of a random set of concurrent edits from 3 to 5
    /// pages end on one queue everywhere, with every edit accounted for.
    #[test]
    fn any_delivery_of_concurrent_edits_converges(seed in any::<u64>(), pages in 3usize..=5, steps in 20usize..300) {
        let mut w = World::run(seed, pages, steps);
        let all = w.deliver_all();
        let want = all[0].snapshot();
        for q in &all {
            prop_assert_eq!(&q.snapshot(), &want, "seed {}", seed);
            prop_assert_eq!(q.stats().refused(), 0);
        }
        // No edit lost: every entry ever written is live at its latest place, or removed by
        // a removal someone made; every setting is the latest written.
        let mut latest: BTreeMap<EntryId, &Entry> = BTreeMap::new();
        for e in w.log.iter().flat_map(|d| &d.entries) {
            let best = latest.entry(e.id).or_insert(e);
            if (e.placed, &e.key) > (best.placed, &best.key) { *best = e; }
        }
        let removals: Vec<Range> = w.log.iter().flat_map(|d| d.removed.iter().copied()).collect();
        let removed = |id: EntryId| removals.iter().any(|r| r.peer == id.peer && (r.first..=r.last).contains(&id.seq));
        let q = &all[0];
        for (id, e) in &latest {
            match q.get(*id) {
                Some(live) => prop_assert_eq!(live, *e),
                None => prop_assert!(removed(*id)),
            }
        }
        prop_assert_eq!(q.entries().len(), latest.keys().filter(|id| !removed(**id)).count());
        let last_repeat = w.log.iter().filter_map(|d| d.repeat).max();
        prop_assert_eq!(q.repeat(), last_repeat.is_some_and(|s| s.value));
        let last_shuffle = w.log.iter().filter_map(|d| d.shuffle).max();
        prop_assert_eq!(q.shuffled(), last_shuffle.is_some_and(|s| s.value.is_some()));
        // The visible order, shuffled or not, is the same everywhere too.
        let order: Vec<EntryId> = q.play_order().iter().map(|e| e.id).collect();
        for o in &all {
            prop_assert_eq!(o.play_order().iter().map(|e| e.id).collect::<Vec<_>>(), order.clone());
        }
    }

    /// The merge of whole states is a join: commutative, associative, idempotent.
    #[test]
    fn merge_is_a_join(seed in any::<u64>(), steps in 20usize..200) {
        let w = World::run(seed, 3, steps);
        let (a, b, c) = (&w.pages[0], &w.pages[1], &w.pages[2]);
        let join = |x: &Queue, y: &Queue| {
            let mut z = x.clone();
            z.merge(y.snapshot(), None);
            z
        };
        prop_assert_eq!(join(a, b).snapshot(), join(b, a).snapshot());
        prop_assert_eq!(join(&join(a, b), c).snapshot(), join(a, &join(b, c)).snapshot());
        prop_assert_eq!(join(a, a).snapshot(), a.snapshot());
        prop_assert_eq!(join(&join(a, b), b).snapshot(), join(a, b).snapshot());
    }
}

// ---- The wire: compact round trips, bounded pieces, hostile pieces refused and counted. ----

#[test]
fn pieces_round_trip_through_postcard() {
    let (mut a, _) = pair(3);
    let e = ids(&a);
    let samples = [
        a.add(at(10), item(7)).unwrap(),
        a.move_before(at(11), e[2], e[0]).unwrap(),
        a.remove(e[1]).unwrap(),
        a.set_repeat(at(12), true).unwrap(),
        a.set_shuffle(at(13), true).unwrap(),
        a.snapshot(),
    ];
    for d in samples {
        let bytes = postcard::to_allocvec(&d).unwrap();
        let back: Delta = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, d);
    }
    // A move of a typical entry is well under a hundred bytes.
    let d = a.move_down(at(14), e[2]).unwrap();
    assert!(postcard::to_allocvec(&d).unwrap().len() < 100);
}

/// An entry as long as every bound allows.
fn biggest(seq: u32) -> Entry {
    Entry {
        id: EntryId {
            peer: PeerId(u64::MAX),
            seq,
        },
        item: Item {
            url: "https://x/".to_string() + &"a".repeat(entry::MAX_URL_BYTES - 10),
            title: "\u{10FFFF}".repeat(entry::MAX_TITLE_CHARS),
            duration: Some(Span(-i64::MAX / 2)),
            added_by: "\u{10FFFF}".repeat(crate::room::wire::MAX_NAME_CHARS),
        },
        key: Key(vec![0xFF; MAX_KEY_LEN]),
        placed: Stamp {
            wall: RoomTime(i64::MIN / 2),
            counter: u32::MAX,
            peer: PeerId(u64::MAX),
        },
    }
}

#[test]
fn a_snapshot_splits_into_pieces_within_the_message_limit() {
    let removed: Vec<Range> = (0..MAX_RANGES as u32)
        .map(|i| Range {
            peer: PeerId(u64::MAX),
            first: u32::MAX - 2 * i,
            last: u32::MAX - 2 * i,
        })
        .collect();
    let whole = Delta {
        entries: (0..MAX_ENTRIES as u32).map(biggest).collect(),
        removed,
        repeat: Some(Lww {
            stamp: biggest(0).placed,
            value: true,
        }),
        shuffle: Some(Lww {
            stamp: biggest(0).placed,
            value: Some(u64::MAX),
        }),
    };
    let pieces = whole.clone().split();
    for p in &pieces {
        let len = postcard::to_allocvec(p).unwrap().len();
        assert!(len <= MAX_DELTA_BYTES, "{len}");
        assert!(p.entries.len() >= 2 || p.entries.is_empty());
    }
    let mut joined = Delta::default();
    for p in pieces {
        joined.entries.extend(p.entries);
        joined.removed.extend(p.removed);
        joined.repeat = joined.repeat.or(p.repeat);
        joined.shuffle = joined.shuffle.or(p.shuffle);
    }
    assert_eq!(joined, whole);
}

#[test]
fn hostile_pieces_are_refused_and_counted() {
    let (mut a, _) = pair(2);
    let good = a.entries()[0].clone();
    let now = at(1_000);
    let with = |f: &dyn Fn(&mut Entry)| {
        let mut e = good.clone();
        e.id.seq = 77;
        f(&mut e);
        Delta {
            entries: vec![e],
            ..Delta::default()
        }
    };
    let before = a.snapshot();
    let mut refused = 0;
    let mut expect = |a: &mut Queue, d: Delta, invalid: u64, future: u64| {
        assert!(!a.merge(d, Some(now)));
        let s = a.stats();
        assert_eq!((s.refused_invalid, s.refused_future), (invalid, future));
        refused += 1;
    };
    // A position key past the bound, a huge one, one with a trailing zero.
    expect(
        &mut a,
        with(&|e| e.key = Key(vec![0x80; MAX_KEY_LEN + 1])),
        1,
        0,
    );
    expect(&mut a, with(&|e| e.key = Key(vec![0x80; 6000])), 2, 0);
    expect(&mut a, with(&|e| e.key = Key(vec![0x80, 0])), 3, 0);
    // A stamp far in the future, or beyond any sane time.
    expect(
        &mut a,
        with(&|e| e.placed.wall = now + MAX_FUTURE + Span::from_secs(1)),
        3,
        1,
    );
    expect(&mut a, with(&|e| e.placed.wall = RoomTime(i64::MAX)), 4, 1);
    let future = Lww {
        stamp: Stamp {
            wall: now + Span::from_secs(3600),
            counter: 0,
            peer: PeerId(6),
        },
        value: true,
    };
    expect(
        &mut a,
        Delta {
            repeat: Some(future),
            ..Delta::default()
        },
        4,
        2,
    );
    // Oversized or malformed items, and an impossible range.
    expect(
        &mut a,
        with(&|e| e.item.url = "https://x/".to_string() + &"a".repeat(3000)),
        5,
        2,
    );
    expect(&mut a, with(&|e| e.item.title = "t".repeat(201)), 6, 2);
    expect(
        &mut a,
        with(&|e| e.item.url = "javascript alert(1)".into()),
        7,
        2,
    );
    let reversed = Range {
        peer: PeerId(6),
        first: 5,
        last: 4,
    };
    expect(
        &mut a,
        Delta {
            removed: vec![reversed],
            ..Delta::default()
        },
        8,
        2,
    );
    assert_eq!(refused, 10);
    assert_eq!(a.snapshot(), before);
    // The refused far-future stamps did not drag this page's clock along.
    let d = a.set_repeat(now, true).unwrap();
    assert!(d.repeat.unwrap().stamp.wall <= now);

    // A removal of an entry not seen yet is kept: in a mesh it can overtake the add (see
    // `removed`), and the add arriving later must not revive the entry.
    let (mut b, _) = pair(0);
    let mut c = Queue::new(PeerId(5));
    let add = c.add(now, item(1)).unwrap();
    let id = add.entries[0].id;
    assert!(b.merge(
        Delta {
            removed: vec![Range::one(id)],
            ..Delta::default()
        },
        Some(now)
    ));
    assert!(!b.merge(add, Some(now)));
    assert!(b.entries().is_empty());

    // Floods stop at the caps, counted: new entries past MAX_ENTRIES_RECEIVED, scattered
    // removals past MAX_RANGES.
    let flood = |n: u32| Delta {
        entries: (0..n)
            .map(|i| {
                with(&|e| {
                    e.id = EntryId {
                        peer: PeerId(66),
                        seq: i,
                    };
                    e.item.url = format!("https://x/{i}");
                })
                .entries
                .remove(0)
            })
            .collect(),
        ..Delta::default()
    };
    let mut q = Queue::new(PeerId(1));
    q.merge(flood(MAX_ENTRIES_RECEIVED as u32 + 50), Some(now));
    assert_eq!(q.entries().len(), MAX_ENTRIES_RECEIVED);
    assert_eq!(q.stats().refused_full, 50);
    let scattered: Vec<Range> = (0..MAX_RANGES as u32 + 10)
        .map(|i| Range {
            peer: PeerId(67),
            first: 2 * i,
            last: 2 * i,
        })
        .collect();
    q.merge(
        Delta {
            removed: scattered,
            ..Delta::default()
        },
        Some(now),
    );
    assert_eq!(q.removed.ranges().len(), MAX_RANGES);
    assert_eq!(q.stats().refused_full, 60);
}

proptest! {
    #![proptest_config(deterministic(2000))]

    /// Whatever bytes arrive, decoding and merging never panic, and the caps hold.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), flips in proptest::collection::vec((any::<u16>(), any::<u8>()), 0..8)) {
        let (mut a, _) = pair(3);
        let mut valid = postcard::to_allocvec(&a.snapshot()).unwrap();
        for (i, x) in flips {
            let n = valid.len();
            valid[usize::from(i) % n] ^= x;
        }
        for input in [bytes, valid] {
            if let Ok(d) = postcard::from_bytes::<Delta>(&input) {
                a.merge(d, Some(at(0)));
            }
        }
        prop_assert!(a.entries().len() <= MAX_ENTRIES_RECEIVED);
        prop_assert!(a.entries().iter().all(|e| e.key.is_valid() && e.item.is_valid()));
    }
}

#[test]
fn an_edit_needs_room_time_and_is_the_method_it_names() {
    let (mut a, _) = pair(0);
    assert_eq!(a.edit(None, Edit::Add(item(1))), Err(EditError::NoRoomTime));
    assert!(a.entries().is_empty());
    let now = Some(at(1));
    for n in 0..3 {
        a.edit(now, Edit::Add(item(n))).unwrap();
    }
    let [x, y, z] = [0, 1, 2].map(|i| a.entries()[i].id);
    a.edit(now, Edit::MoveUp(z)).unwrap();
    assert_eq!(ids(&a), [x, z, y]);
    a.edit(now, Edit::MoveDown(x)).unwrap();
    assert_eq!(ids(&a), [z, x, y]);
    assert_eq!(a.edit(now, Edit::MoveUp(z)), Err(EditError::NoChange));
    // Dragged onto another entry, or past the last one.
    a.edit(now, Edit::MoveBefore(y, z)).unwrap();
    assert_eq!(ids(&a), [y, z, x]);
    a.edit(now, Edit::MoveAfter(y, x)).unwrap();
    assert_eq!(ids(&a), [z, x, y]);
    assert_eq!(
        a.edit(now, Edit::MoveBefore(x, y)),
        Err(EditError::NoChange)
    );
    a.edit(now, Edit::Remove(x)).unwrap();
    assert_eq!(ids(&a), [z, y]);
    assert_eq!(a.edit(now, Edit::MoveBefore(z, x)), Err(EditError::Unknown));
    a.edit(now, Edit::Repeat(true)).unwrap();
    a.edit(now, Edit::Shuffle(true)).unwrap();
    assert!(a.repeat() && a.shuffled());
}
