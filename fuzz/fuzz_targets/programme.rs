#![no_main]

//! The first byte picks this page's session and room time; the rest is a sequence of
//! postcard-encoded pieces of queue state, merged one after the other.

use insieme::programme::delta::MAX_DELTA_BYTES;
use insieme::programme::queue::MAX_ENTRIES_RECEIVED;
use insieme::programme::{Delta, Queue};
use insieme::sync::{PeerId, RoomTime};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|bytes: &[u8]| {
    let Some((&first, mut rest)) = bytes.split_first() else {
        return;
    };
    let me = PeerId(u64::from(first & 3));
    // Before meeting the room (no horizon for stamps), or at some room time.
    let room_now = (first & 4 != 0).then(|| RoomTime(i64::from(first >> 3) * 1_000_000));
    let mut queue = Queue::new(me);
    // The pieces merged so far, printed on a failure: a regression test merges the same.
    let mut merged = Vec::new();
    while let Ok((delta, tail)) = postcard::take_from_bytes::<Delta>(rest) {
        rest = tail;
        merged.push(delta.clone());
        let context = || describe(me, room_now, &merged);
        queue.merge(delta.clone(), room_now);
        well_formed(&queue, &context);
        // Merging is a join: the same piece again changes nothing.
        let before = queue.snapshot();
        let changed = queue.merge(delta, room_now);
        assert!(
            !changed && queue.snapshot() == before,
            "the last piece, merged again, changed the queue\n{}",
            context()
        );
    }
    let context = || describe(me, room_now, &merged);
    // A newcomer given this page's snapshot, cut to messages, holds the same queue.
    let snapshot = queue.snapshot();
    let mut newcomer = Queue::new(PeerId(99));
    for piece in snapshot.clone().split() {
        let len = postcard::to_allocvec(&piece)
            .expect("a delta encodes")
            .len();
        assert!(
            len <= MAX_DELTA_BYTES,
            "a snapshot piece of {len} bytes\n{}",
            context()
        );
        newcomer.merge(piece, None);
    }
    assert!(
        newcomer.snapshot() == snapshot && newcomer.stats().refused() == 0,
        "a newcomer given the snapshot holds another queue\n{}",
        context()
    );
});

/// Entries valid, in strict list order, unique, none removed, within the cap.
fn well_formed(queue: &Queue, context: &dyn Fn() -> String) {
    let entries = queue.entries();
    let ids: BTreeSet<_> = entries.iter().map(|e| e.id).collect();
    let removed = queue.snapshot().removed;
    let broken = if entries.len() > MAX_ENTRIES_RECEIVED {
        "more entries than the cap"
    } else if !entries
        .iter()
        .all(|e| e.key.is_valid() && e.item.is_valid())
    {
        "an invalid entry kept"
    } else if !entries
        .windows(2)
        .all(|w| (&w[0].key, w[0].id) < (&w[1].key, w[1].id))
    {
        "entries out of list order"
    } else if ids.len() != entries.len() {
        "an entry listed twice"
    } else if entries.iter().any(|e| {
        removed
            .iter()
            .any(|r| r.peer == e.id.peer && (r.first..=r.last).contains(&e.id.seq))
    }) {
        "a removed entry kept"
    } else {
        return;
    };
    panic!("{broken}\n{}", context());
}

fn describe(me: PeerId, room_now: Option<RoomTime>, merged: &[Delta]) -> String {
    let pieces: Vec<String> = merged.iter().map(|d| format!("  {d:?}")).collect();
    format!(
        "in the queue of {me:?} at {room_now:?}, after merging:\n{}",
        pieces.join("\n")
    )
}
