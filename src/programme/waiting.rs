//! What waits for the programme's code (the queue, the ready check and reactions, one download
//! fetched as the room opens: `web::programme`): what arrived from peers and what this page
//! asked before it ran, kept per kind within a bound and handed back, each kind in arrival
//! order, for the party to replay. Past a kind's bound a peer's message is dropped and counted
//! (a flood of one kind never pushes out another's state).

use super::Edit;
use crate::reactions::Incoming;
use crate::signaling::payload::SessionId;
use crate::sync::{MediaTime, PeerId};

/// Most queue pieces kept: a few whole snapshots.
pub const MAX_WAITING_PIECES: usize = 512;
/// Most edits kept while the page cannot make them: a few clicks' worth.
pub const MAX_WAITING_EDITS: usize = 16;
/// Most friends' lists of what they watched (one each).
pub const MAX_WAITING_LISTS: usize = 32;
/// Most videos loaded here, for the room's history.
pub const MAX_WAITING_WATCHED: usize = 16;
/// Most ready notes: one per person, a few times over.
pub const MAX_WAITING_NOTES: usize = 64;
/// Most reaction messages: a few tracks and a burst from everyone.
pub const MAX_WAITING_REACTIONS: usize = 64;

/// Something for the programme that arrived or was asked before its code ran.
#[derive(Debug)]
pub enum Deferred {
    /// A piece of a friend's queue, as it travels.
    Piece(Vec<u8>),
    /// An edit of the queue made here.
    Edit(Edit),
    /// A friend's list of what they watched in this room.
    List(String),
    /// A video this room loaded, and when (milliseconds since 1970).
    Watched(String, u64),
    /// A friend's ready note, as it travels.
    Note(PeerId, Vec<u8>),
    /// A ready check this page opened, for the video named (the latest replaces any other).
    Open(String),
    /// A friend's reaction message.
    Reaction(SessionId, Incoming),
}

/// What waited, each kind in arrival order.
#[derive(Debug, Default)]
pub struct Waiting {
    pub pieces: Vec<Vec<u8>>,
    pub edits: Vec<Edit>,
    pub lists: Vec<String>,
    pub watched: Vec<(String, u64)>,
    pub notes: Vec<(PeerId, Vec<u8>)>,
    pub open: Option<String>,
    pub reactions: Vec<(SessionId, Incoming)>,
    /// The latest frame's media time, so the reactions' playhead starts where the film is.
    pub frame: Option<MediaTime>,
}

impl Waiting {
    /// Keeps `what` unless its kind is at its bound; returns whether it was kept (the caller
    /// counts what was not). Every kind is bounded and counted alike, this page's own records
    /// of what it watched too: a long wait loses the latest rows of history past the bound,
    /// and the count says so.
    pub fn keep(&mut self, what: Deferred) -> bool {
        fn push<T>(list: &mut Vec<T>, most: usize, item: T) -> bool {
            let room = list.len() < most;
            if room {
                list.push(item);
            }
            room
        }
        match what {
            Deferred::Piece(p) => push(&mut self.pieces, MAX_WAITING_PIECES, p),
            Deferred::Edit(e) => push(&mut self.edits, MAX_WAITING_EDITS, e),
            Deferred::List(l) => push(&mut self.lists, MAX_WAITING_LISTS, l),
            Deferred::Watched(url, at) => push(&mut self.watched, MAX_WAITING_WATCHED, (url, at)),
            Deferred::Note(from, n) => push(&mut self.notes, MAX_WAITING_NOTES, (from, n)),
            Deferred::Open(media) => {
                self.open = Some(media);
                true
            }
            Deferred::Reaction(from, r) => {
                push(&mut self.reactions, MAX_WAITING_REACTIONS, (from, r))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaction(n: u8) -> Deferred {
        Deferred::Reaction(7, Incoming::Live(vec![n]))
    }

    #[test]
    fn each_kind_is_kept_in_arrival_order_up_to_its_bound_then_dropped() {
        let mut waiting = Waiting::default();
        for n in 0..MAX_WAITING_REACTIONS + 3 {
            let kept = waiting.keep(reaction(n as u8));
            assert_eq!(kept, n < MAX_WAITING_REACTIONS, "reaction {n}");
        }
        assert_eq!(waiting.reactions.len(), MAX_WAITING_REACTIONS);
        let first: Vec<u8> = waiting.reactions[..3]
            .iter()
            .map(|(_, r)| match r {
                Incoming::Live(b) | Incoming::Track(b) => b[0],
            })
            .collect();
        assert_eq!(first, [0, 1, 2]);
        for n in 0..MAX_WAITING_NOTES + 1 {
            let kept = waiting.keep(Deferred::Note(PeerId(1), vec![n as u8]));
            assert_eq!(kept, n < MAX_WAITING_NOTES);
        }
        for n in 0..MAX_WAITING_PIECES + 1 {
            assert_eq!(
                waiting.keep(Deferred::Piece(vec![1])),
                n < MAX_WAITING_PIECES
            );
        }
        for n in 0..MAX_WAITING_LISTS + 1 {
            assert_eq!(
                waiting.keep(Deferred::List("[]".into())),
                n < MAX_WAITING_LISTS
            );
        }
        for n in 0..MAX_WAITING_EDITS + 1 {
            assert_eq!(
                waiting.keep(Deferred::Edit(Edit::Repeat(true))),
                n < MAX_WAITING_EDITS
            );
        }
    }

    #[test]
    fn a_flood_of_one_kind_leaves_the_others_room() {
        let mut waiting = Waiting::default();
        for n in 0..10 * MAX_WAITING_REACTIONS {
            waiting.keep(reaction(n as u8));
        }
        assert!(waiting.keep(Deferred::Piece(vec![1, 2, 3])));
        assert!(waiting.keep(Deferred::Note(PeerId(2), vec![4])));
        assert_eq!(waiting.pieces, [vec![1, 2, 3]]);
        assert_eq!(waiting.notes, [(PeerId(2), vec![4])]);
    }

    #[test]
    fn the_latest_check_asked_for_is_the_one_kept() {
        let mut waiting = Waiting::default();
        assert!(waiting.keep(Deferred::Open("a.webm".into())));
        assert!(waiting.keep(Deferred::Open("b.webm".into())));
        assert_eq!(waiting.open.as_deref(), Some("b.webm"));
    }

    #[test]
    fn history_past_its_bound_is_dropped_and_reported_like_the_other_kinds() {
        let mut waiting = Waiting::default();
        for n in 0..MAX_WAITING_WATCHED + 5 {
            let kept = waiting.keep(Deferred::Watched(format!("{n}.webm"), n as u64));
            assert_eq!(kept, n < MAX_WAITING_WATCHED, "row {n}");
        }
        assert_eq!(waiting.watched.len(), MAX_WAITING_WATCHED);
        assert_eq!(waiting.watched[0], ("0.webm".to_owned(), 0));
        let last = MAX_WAITING_WATCHED - 1;
        assert_eq!(waiting.watched[last], (format!("{last}.webm"), last as u64));
    }
}
