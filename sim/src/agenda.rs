//! The simulator's agenda: events due at integer microseconds of true time, handed out in
//! time order, and among events due at the same time in the order they were added, so one
//! seed always replays the same run. The world's loop, the queue storm, the ready rush and the
//! host relay each keep one.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Events of type `E`, each due at a time (µs).
pub struct Agenda<E> {
    due: BinaryHeap<Reverse<Due<E>>>,
    /// How many were ever added: the tie-break between events due at one time.
    added: u64,
}

/// An event, ordered by (time, when it was added) alone: the event itself need not be
/// comparable.
struct Due<E> {
    at: i64,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Due<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Due<E> {}

impl<E> PartialOrd for Due<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Due<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<E> Default for Agenda<E> {
    fn default() -> Self {
        Agenda {
            due: BinaryHeap::new(),
            added: 0,
        }
    }
}

impl<E> Agenda<E> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `ev`, due at `at`.
    pub fn push(&mut self, at: i64, ev: E) {
        self.added += 1;
        self.due.push(Reverse(Due {
            at,
            seq: self.added,
            ev,
        }));
    }

    /// The earliest event and its time.
    pub fn pop(&mut self) -> Option<(i64, E)> {
        self.due.pop().map(|Reverse(d)| (d.at, d.ev))
    }

    /// The earliest event if it is due by `until`; otherwise it stays.
    pub fn pop_due(&mut self, until: i64) -> Option<(i64, E)> {
        if self.next_at()? > until {
            return None;
        }
        self.pop()
    }

    /// When the earliest event is due.
    pub fn next_at(&self) -> Option<i64> {
        self.due.peek().map(|d| d.0.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_in_time_order_and_ties_in_the_order_added() {
        let mut agenda = Agenda::new();
        for (at, name) in [(5, "c"), (1, "a"), (5, "d"), (3, "b"), (5, "e"), (1, "a2")] {
            agenda.push(at, name);
        }
        assert_eq!(agenda.next_at(), Some(1));
        assert_eq!(agenda.pop_due(0), None);
        assert_eq!(agenda.pop_due(1), Some((1, "a")));
        assert_eq!(agenda.pop_due(1), Some((1, "a2")));
        assert_eq!(agenda.pop_due(4), Some((3, "b")));
        assert_eq!(agenda.pop_due(4), None);
        let rest: Vec<_> = std::iter::from_fn(|| agenda.pop()).collect();
        assert_eq!(rest, [(5, "c"), (5, "d"), (5, "e")]);
        assert_eq!(agenda.next_at(), None);
    }
}
