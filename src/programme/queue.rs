//! The replicated queue: its state, and the join that merges a peer's piece of state into it.
//!
//! The state is a join-semilattice made of three parts, each merged on its own:
//! - the live entries, each a last-writer-wins place (see `entry`);
//! - the removed ids, a growing set (see `removed`): removal wins over any move, and an entry
//!   once removed never comes back (adding the same video again makes a new entry);
//! - the repeat and shuffle settings, last writer wins.
//!
//! Merging is taking the join, so the order of arrival and repeats do not matter and every
//! peer that has seen the same edits holds the same queue. Refusals are the exception: what
//! a peer refuses (malformed, from the far future, past a cap) is counted in [`QueueStats`]
//! and left out, never a panic. Honest peers stay inside every cap, so they always converge.

use super::delta::Delta;
use super::entry::{join_lww, Entry, EntryId, Lww};
use super::removed::{Range, Removed};
use crate::sync::state::{Hlc, Stamp};
use crate::sync::{PeerId, RoomTime, Span};

/// Most entries one may add to: an evening's programme is tens of videos, a season of a
/// series fits many times over; and a newcomer's snapshot stays small (300 entries of
/// typical 200-byte links are 60 KB; of maximal ones, about 1 MB over the reliable channel).
pub const MAX_ENTRIES: usize = 300;
/// Most entries kept from peers: adds made at once on several pages can pass
/// [`MAX_ENTRIES`] before each sees the others'; 100 more is far beyond what people can
/// add concurrently, and refusing past it (which could split honest peers) only happens under
/// a flood.
pub const MAX_ENTRIES_RECEIVED: usize = MAX_ENTRIES + 100;
/// Stamps further ahead of this page's room time than this are refused: clocks agree far
/// better, and a far-future stamp would win every later move (the sync engine's own bound).
pub const MAX_FUTURE: Span = Span::from_secs(60);

/// What happened to what peers sent (each counts entries, ranges or settings, not messages).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Changed the queue.
    pub merged: u64,
    /// Already known, older than what is known, or of an entry already removed.
    pub stale: u64,
    /// Malformed: a bad URL, an overlong title or key, an impossible range or stamp.
    pub refused_invalid: u64,
    /// Stamped too far in the future.
    pub refused_future: u64,
    /// Past [`MAX_ENTRIES_RECEIVED`] entries or `MAX_RANGES` removed ranges.
    pub refused_full: u64,
}

impl QueueStats {
    pub fn refused(&self) -> u64 {
        self.refused_invalid + self.refused_future + self.refused_full
    }
}

/// The queue ("Up next") as one page holds it.
#[derive(Clone, Debug)]
pub struct Queue {
    pub(super) me: PeerId,
    pub(super) hlc: Hlc,
    /// The sequence number of this page's next entry.
    pub(super) next_seq: u32,
    /// Live entries in list order (see [`Entry::order`]).
    pub(super) entries: Vec<Entry>,
    pub(super) removed: Removed,
    pub(super) repeat: Option<Lww<bool>>,
    pub(super) shuffle: Option<Lww<Option<u64>>>,
    pub(super) stats: QueueStats,
}

impl Queue {
    /// An empty queue for the page whose session is `me`.
    pub fn new(me: PeerId) -> Queue {
        Queue {
            me,
            hlc: Hlc::default(),
            next_seq: 0,
            entries: Vec::new(),
            removed: Removed::default(),
            repeat: None,
            shuffle: None,
            stats: QueueStats::default(),
        }
    }

    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// The whole state, for a newcomer (send its [`Delta::split`] pieces).
    pub fn snapshot(&self) -> Delta {
        Delta {
            entries: self.entries.clone(),
            removed: self.removed.ranges().to_vec(),
            repeat: self.repeat,
            shuffle: self.shuffle,
        }
    }

    /// Merges a piece of state from a peer (an edit or a snapshot); returns whether the
    /// queue changed. `room_now` is this page's room time, `None` while it has not met the
    /// room and cannot judge stamps.
    pub fn merge(&mut self, d: Delta, room_now: Option<RoomTime>) -> bool {
        let horizon = room_now.map(|t| t + MAX_FUTURE);
        let mut changed = false;
        for r in d.removed {
            if r.first > r.last {
                self.stats.refused_invalid += 1;
                continue;
            }
            let new = self.remove_range(r);
            changed |= new;
            self.count(new);
        }
        for e in d.entries {
            if !(e.key.is_valid() && e.item.is_valid()) {
                self.stats.refused_invalid += 1;
            } else if self.stamp_refused(&e.placed, horizon) {
                continue;
            } else if self.removed.contains(e.id) {
                self.stats.stale += 1;
            } else {
                let new = self.upsert(e);
                changed |= new;
                self.count(new);
            }
        }
        if let Some(s) = d.repeat.filter(|s| !self.stamp_refused(&s.stamp, horizon)) {
            self.hlc.observe(&s.stamp);
            let new = join_lww(&mut self.repeat, s);
            changed |= new;
            self.count(new);
        }
        if let Some(s) = d.shuffle.filter(|s| !self.stamp_refused(&s.stamp, horizon)) {
            self.hlc.observe(&s.stamp);
            let new = join_lww(&mut self.shuffle, s);
            changed |= new;
            self.count(new);
        }
        changed
    }

    fn count(&mut self, changed: bool) {
        if changed {
            self.stats.merged += 1;
        } else {
            self.stats.stale += 1;
        }
    }

    /// Whether a peer's stamp is refused (and counted): outside the sane range, or beyond
    /// `horizon`.
    fn stamp_refused(&mut self, s: &Stamp, horizon: Option<RoomTime>) -> bool {
        if !s.wall.is_sane() {
            self.stats.refused_invalid += 1;
            true
        } else if horizon.is_some_and(|h| s.wall > h) {
            self.stats.refused_future += 1;
            true
        } else {
            false
        }
    }

    /// Adds `r` to the removed ids and drops their entries; returns whether any id was new.
    /// Counts a refusal when the tombstones are full.
    pub(super) fn remove_range(&mut self, r: Range) -> bool {
        match self.removed.insert(r) {
            Ok(false) => false,
            Ok(true) => {
                self.entries.retain(|e| !self.removed.contains(e.id));
                self.skip_own(r.peer, r.last);
                true
            }
            Err(_) => {
                self.stats.refused_full += 1;
                false
            }
        }
    }

    /// Joins an entry in, keeping list order; returns whether it changed. Counts a refusal
    /// when a new entry finds the queue full.
    pub(super) fn upsert(&mut self, e: Entry) -> bool {
        self.hlc.observe(&e.placed);
        self.skip_own(e.id.peer, e.id.seq);
        let e = match self.index_of(e.id) {
            Some(i) => {
                let mut cur = self.entries.remove(i);
                let changed = cur.join(e);
                if !changed {
                    self.entries.insert(i, cur);
                    return false;
                }
                cur
            }
            None if self.entries.len() >= MAX_ENTRIES_RECEIVED => {
                self.stats.refused_full += 1;
                return false;
            }
            None => e,
        };
        let at = self.entries.partition_point(|x| x.order() < e.order());
        self.entries.insert(at, e);
        true
    }

    /// A page reloaded under the same session (or told about its own ids) never reuses one.
    fn skip_own(&mut self, peer: PeerId, seq: u32) {
        if peer == self.me {
            self.next_seq = self.next_seq.max(seq.saturating_add(1));
        }
    }

    pub(super) fn index_of(&self, id: EntryId) -> Option<usize> {
        self.entries.iter().position(|e| e.id == id)
    }
}
