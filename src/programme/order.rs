//! Reading the queue: the list, the play order, and what plays next when a video ends.
//!
//! With shuffle off the play order is the list. With shuffle on it is the entries ranked by a
//! hash of the replicated seed and each entry's id: the same on every page, without sending
//! an order; an added entry lands somewhere at random and the others keep their order.

use super::entry::{Entry, EntryId};
use super::queue::Queue;

/// SplitMix64's finaliser: a bijective mix of 64 bits, for shuffle ranks and seeds.
pub(super) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Queue {
    /// The live entries in list order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, id: EntryId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// The first live entry with this URL, in list order (to find which entry the playback
    /// register's media is).
    pub fn find_url(&self, url: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.item.url == url)
    }

    pub fn repeat(&self) -> bool {
        self.repeat.is_some_and(|s| s.value)
    }

    pub fn shuffled(&self) -> bool {
        self.seed().is_some()
    }

    fn seed(&self) -> Option<u64> {
        self.shuffle.and_then(|s| s.value)
    }

    /// Where an entry comes in the play order, compared as a whole (the id breaks the
    /// astronomically rare equal hashes).
    fn rank(&self, id: EntryId) -> (u64, EntryId) {
        match self.seed() {
            Some(seed) => (mix(seed ^ mix(id.peer.0 ^ mix(u64::from(id.seq)))), id),
            None => (0, id),
        }
    }

    /// The first entry of the play order.
    pub fn first(&self) -> Option<&Entry> {
        if !self.shuffled() {
            return self.entries.first();
        }
        self.entries.iter().min_by_key(|e| self.rank(e.id))
    }

    /// What plays after `current` when it ends: the next entry in the play order; past the
    /// last, the first if repeat is on. `current` may since have been moved (its place now
    /// counts) or removed (the place it had counts), so the app passes the entry it started.
    pub fn next_after(&self, current: &Entry) -> Option<&Entry> {
        let next = if self.shuffled() {
            let r = self.rank(current.id);
            self.entries
                .iter()
                .filter(|e| self.rank(e.id) > r)
                .min_by_key(|e| self.rank(e.id))
        } else {
            let at = self.get(current.id).unwrap_or(current).order();
            self.entries.iter().find(|e| e.order() > at)
        };
        next.or_else(|| self.repeat().then(|| self.first()).flatten())
    }

    /// The live entries in play order.
    pub fn play_order(&self) -> Vec<&Entry> {
        if !self.shuffled() {
            return self.entries.iter().collect();
        }
        // An insertion keeps it ordered: a few hundred entries, and no sort code to ship.
        let mut ranked: Vec<((u64, EntryId), &Entry)> = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            let r = self.rank(e.id);
            let at = ranked.partition_point(|(x, _)| *x < r);
            ranked.insert(at, (r, e));
        }
        ranked.into_iter().map(|(_, e)| e).collect()
    }
}
