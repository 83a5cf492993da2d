//! The tombstones: which entries were removed, kept so that a late copy of a removed entry
//! (a move still in flight, a snapshot from a peer that had not heard) cannot bring it back.
//!
//! Entry ids are (adder, sequence number) with each adder counting 0, 1, 2…, so the removed
//! ids of one adder are kept as ranges of sequence numbers: sorted, disjoint and never
//! adjacent (one canonical form per set, so equal sets compare equal). Adding a range is set
//! union: commutative, associative, idempotent.
//!
//! Why this stays small without ever forgetting a removal: once every edit has arrived, an id
//! not inside a range is a live entry (or a number its adder never sent), so the ranges of an
//! adder are at most its live entries plus one. Over all adders that is at most
//! `MAX_ENTRIES_RECEIVED` plus the number of people who ever added something, however many
//! entries came and went. [`MAX_RANGES`] is only reached by a peer removing scattered ids
//! on purpose; further removals that would need a new range are then refused and counted.

use super::entry::EntryId;
use crate::sync::PeerId;
use serde::{Deserialize, Serialize};

/// Most ranges kept. Honest use needs at most live entries + adders (see the module
/// comment), so a few hundred; 1,024 ranges are 20 KB at most.
pub const MAX_RANGES: usize = 1024;

/// The removed sequence numbers `first..=last` of one adder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Range {
    pub peer: PeerId,
    pub first: u32,
    pub last: u32,
}

impl Range {
    /// The range holding one id.
    pub fn one(id: EntryId) -> Range {
        Range {
            peer: id.peer,
            first: id.seq,
            last: id.seq,
        }
    }
}

/// The set of removed ids (see the module comment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// Sorted by (peer, first); disjoint and non-adjacent within a peer.
    ranges: Vec<Range>,
}

/// Adding the range would pass [`MAX_RANGES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl Removed {
    pub fn contains(&self, id: EntryId) -> bool {
        let i = self
            .ranges
            .partition_point(|r| (r.peer, r.last) < (id.peer, id.seq));
        self.ranges
            .get(i)
            .is_some_and(|r| r.peer == id.peer && r.first <= id.seq)
    }

    /// Adds `r` (`first <= last`); returns whether any id was new.
    pub fn insert(&mut self, r: Range) -> Result<bool, Full> {
        // Ranges of the same peer touching r (overlapping or adjacent) are [start, end).
        let start = self
            .ranges
            .partition_point(|x| (x.peer, u64::from(x.last) + 1) < (r.peer, u64::from(r.first)));
        let mut end = start;
        while self
            .ranges
            .get(end)
            .is_some_and(|x| x.peer == r.peer && u64::from(x.first) <= u64::from(r.last) + 1)
        {
            end += 1;
        }
        if start == end {
            if self.ranges.len() >= MAX_RANGES {
                return Err(Full);
            }
            self.ranges.insert(start, r);
            return Ok(true);
        }
        let (a, b) = (self.ranges[start], self.ranges[end - 1]);
        let merged = Range {
            peer: r.peer,
            first: a.first.min(r.first),
            last: b.last.max(r.last),
        };
        if end - start == 1 && merged == a {
            return Ok(false);
        }
        self.ranges[start] = merged;
        self.ranges.drain(start + 1..end);
        Ok(true)
    }

    /// The ranges, in canonical order.
    pub fn ranges(&self) -> &[Range] {
        &self.ranges
    }

    /// The highest removed sequence number of `peer`, if any.
    pub fn last_of(&self, peer: PeerId) -> Option<u32> {
        let i = self.ranges.partition_point(|r| r.peer <= peer);
        i.checked_sub(1)
            .map(|i| self.ranges[i])
            .filter(|r| r.peer == peer)
            .map(|r| r.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn range() -> impl Strategy<Value = Range> {
        (0u64..3, 0u32..40, 0u32..6).prop_map(|(p, first, len)| Range {
            peer: PeerId(p),
            first,
            last: first + len,
        })
    }

    proptest! {
        #![proptest_config(deterministic(1000))]

        #[test]
        fn is_the_set_union_in_canonical_form(ranges in proptest::collection::vec(range(), 0..30)) {
            let mut set = Removed::default();
            let mut model = BTreeSet::new();
            for r in &ranges {
                let new = (r.first..=r.last).any(|s| !model.contains(&(r.peer, s)));
                prop_assert_eq!(set.insert(*r), Ok(new));
                model.extend((r.first..=r.last).map(|s| (r.peer, s)));
            }
            for p in 0..3 {
                for s in 0..50 {
                    let id = EntryId { peer: PeerId(p), seq: s };
                    prop_assert_eq!(set.contains(id), model.contains(&(PeerId(p), s)));
                }
                let last = model.iter().filter(|(q, _)| *q == PeerId(p)).map(|(_, s)| *s).max();
                prop_assert_eq!(set.last_of(PeerId(p)), last);
            }
            // Canonical: sorted, and neither overlapping nor adjacent within a peer.
            for w in set.ranges().windows(2) {
                prop_assert!(w[0].peer < w[1].peer || u64::from(w[0].last) + 1 < u64::from(w[1].first));
            }
            // So the same set inserted in another order gives the same ranges.
            let mut reversed = Removed::default();
            for r in ranges.iter().rev() {
                reversed.insert(*r).unwrap();
            }
            prop_assert_eq!(reversed, set);
        }
    }

    #[test]
    fn ends_of_the_number_space_do_not_overflow() {
        let mut set = Removed::default();
        let top = |first, last| Range {
            peer: PeerId(1),
            first,
            last,
        };
        assert_eq!(set.insert(top(u32::MAX, u32::MAX)), Ok(true));
        assert_eq!(set.insert(top(0, 0)), Ok(true));
        assert_eq!(set.insert(top(1, u32::MAX - 1)), Ok(true));
        assert_eq!(set.ranges(), &[top(0, u32::MAX)]);
    }

    #[test]
    fn refuses_a_new_range_past_the_cap_but_still_extends_one() {
        let mut set = Removed::default();
        for i in 0..MAX_RANGES as u32 {
            set.insert(Range {
                peer: PeerId(0),
                first: 2 * i,
                last: 2 * i,
            })
            .unwrap();
        }
        let lone = Range {
            peer: PeerId(9),
            first: 0,
            last: 0,
        };
        assert_eq!(set.insert(lone), Err(Full));
        // Filling a gap joins two ranges: allowed, and the set shrinks.
        assert_eq!(
            set.insert(Range {
                peer: PeerId(0),
                first: 1,
                last: 1
            }),
            Ok(true)
        );
        assert_eq!(set.ranges().len(), MAX_RANGES - 1);
    }
}
