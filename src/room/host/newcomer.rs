//! A page's first playback states in a hosted room: held until it knows whether Host controls
//! are on.
//!
//! A page that opens a hosted room knows nothing of its mode until someone tells it (every page
//! sends its log of signed statements first on a new link). A rogue whose link opened first
//! could otherwise hand it an unsigned state that host mode would have refused, and the register
//! would keep it. So until the mode is settled, each member's latest state is kept aside here;
//! then they go through the gate as if they had just arrived.
//!
//! The mode is settled when the host's or a co-host's own link has sent a mode statement
//! (`Authority::mode_settled`): they know the latest mode, while any member can replay an old
//! signed mode statement. The link's host states "no Host controls" (term 0, seq 0) as soon as
//! its key is loaded, so a room always has a mode statement once its host has been there (any
//! later switch has a larger seq and wins over it). Without the host or a co-host in the room,
//! the wait ends [`SETTLE_WITHIN_MS`] after the first kept state, with what the others said.

use crate::signaling::payload::SessionId;
use crate::sync::Versioned;

/// How long a newcomer waits for the mode after the first state it was sent, before it takes
/// states as a room without host mode would (links to the others open within a second or two).
pub const SETTLE_WITHIN_MS: f64 = 4_000.0;
/// Members whose latest state is kept while waiting (one state each; the rest is dropped).
pub const MAX_WAITING: usize = 32;

/// States kept aside until the room's mode is known.
#[derive(Debug, Clone, Default)]
pub struct Newcomer {
    settled: bool,
    /// When the wait ends, on the page's monotonic clock (milliseconds).
    deadline_ms: Option<f64>,
    waiting: Vec<(SessionId, Versioned)>,
}

impl Newcomer {
    /// Whether states go straight to the gate's rules (the mode is known, or the wait is over).
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// When the wait ends, once a state is waiting.
    pub fn deadline_ms(&self) -> Option<f64> {
        self.deadline_ms.filter(|_| !self.settled)
    }

    /// Keeps `state` from `from` aside (only the latest of each member), received at `now_ms`;
    /// the first starts the wait (the caller arms a timer for [`Self::deadline_ms`]).
    pub fn keep(&mut self, from: SessionId, state: Versioned, now_ms: f64) {
        if self.deadline_ms.is_none() {
            self.deadline_ms = Some(now_ms + SETTLE_WITHIN_MS);
        }
        let room = self.waiting.len() < MAX_WAITING;
        match self.waiting.iter_mut().find(|(s, _)| *s == from) {
            Some((_, kept)) if state.beats(kept) => *kept = state,
            Some(_) => {}
            None if room => self.waiting.push((from, state)),
            None => {}
        }
    }

    /// Ends the wait: the states kept aside, to be checked now as if they had just arrived.
    pub fn settle(&mut self) -> Vec<(SessionId, Versioned)> {
        self.settled = true;
        std::mem::take(&mut self.waiting)
    }
}
