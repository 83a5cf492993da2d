//! What the world's queue holds: events, ordered by (time, sequence) alone, and the timers that
//! tell a node's live wake from the stale ones still queued.

use insieme::sync::{Input, PeerId, WireMessage};

/// When a node's engine or player next wants waking, and the token of the one queued wake
/// that is still live: re-arming for another instant, or serving it early, makes the queued
/// one stale.
#[derive(Default)]
pub(super) struct Timer {
    token: u64,
    pub(super) at: Option<i64>,
}

impl Timer {
    /// Sets the timer for `t`: the token to queue its wake with, or `None` if already set so.
    pub(super) fn arm(&mut self, t: i64) -> Option<u64> {
        if self.at == Some(t) {
            return None;
        }
        self.token += 1;
        self.at = Some(t);
        Some(self.token)
    }

    /// Whether the queued wake with `token` is the live one; if so, it is spent.
    pub(super) fn fire(&mut self, token: u64) -> bool {
        let live = self.token == token;
        if live {
            self.at = None;
        }
        live
    }

    /// The wake is served now, ahead of its queued event, which goes stale.
    pub(super) fn serve_early(&mut self) {
        self.token += 1;
        self.at = None;
    }

    /// The wake is called off: its queued event goes stale.
    pub(super) fn cancel(&mut self) {
        self.serve_early();
    }
}

/// A message on its way from one node to another, each named by slot and generation.
#[derive(Debug)]
pub(super) struct Delivery {
    pub(super) to: usize,
    pub(super) to_gen: u64,
    pub(super) from: usize,
    pub(super) from_gen: u64,
    pub(super) msg: WireMessage,
}

#[derive(Debug)]
pub(super) enum Ev {
    Deliver(Delivery),
    Joined {
        to: usize,
        to_gen: u64,
        who: usize,
        who_gen: u64,
    },
    Left {
        to: usize,
        to_gen: u64,
        who: PeerId,
    },
    EngineWake {
        slot: usize,
        gen: u64,
        token: u64,
    },
    PlayerWake {
        slot: usize,
        gen: u64,
        token: u64,
    },
    /// The adapter calls `play()` for the start its player's `start_call` asks for.
    PlayCall {
        slot: usize,
        gen: u64,
        token: u64,
    },
    /// What a player reports to its engine: a frame it presented, or its clock read.
    Report {
        slot: usize,
        gen: u64,
        report: Input,
    },
    Act(usize),
    /// The endpoint tells the page on `slot` its order of admission (oldest first).
    Order {
        slot: usize,
        gen: u64,
        order: Vec<PeerId>,
    },
    Sample,
    StallStart {
        slot: usize,
        gen: u64,
    },
    StallEnd {
        slot: usize,
        gen: u64,
    },
}

impl Ev {
    /// The page whose event loop handles this event, if a page's: a starved page handles it
    /// late. (The player's own wakes are the media pipeline's, which a busy page does not stop.)
    pub(super) fn page(&self) -> Option<usize> {
        match self {
            Ev::Deliver(d) => Some(d.to),
            Ev::Joined { to, .. } | Ev::Left { to, .. } => Some(*to),
            Ev::EngineWake { slot, .. }
            | Ev::PlayCall { slot, .. }
            | Ev::Report { slot, .. }
            | Ev::Order { slot, .. } => Some(*slot),
            Ev::PlayerWake { .. }
            | Ev::Act(_)
            | Ev::Sample
            | Ev::StallStart { .. }
            | Ev::StallEnd { .. } => None,
        }
    }
}
