//! Which playback states may reach the engine while the room is in host mode.
//!
//! In host mode a state enters the register only if a controller signed it (its content,
//! stamp and writer: [`Statement::State`](super::Statement::State)). The signature travels
//! in its own message, sent before the state by the same peer on the same ordered channel,
//! and the page checks messages from each peer in order, so it knows every state the sender
//! vouched for when the state arrives. A `Hello` relays the room's state to newcomers and
//! healed partitions: an unvouched one loses its state and keeps the rest (clock, rank).
//!
//! Two exceptions: a guest's own buffering hold and its release, bounded ([`super::guest_hold`]);
//! and before the page knows the room's mode at all, states wait ([`super::newcomer`]).

use super::guest_hold::{GuestHolds, GuestWrite};
use super::newcomer::Newcomer;
use crate::signaling::payload::SessionId;
use crate::sync::{Body, PeerId, RoomTime, Versioned, WireMessage};
use std::collections::VecDeque;

/// Vouched-for states remembered: the room's latest few (states come at most 4 a second
/// from each writer, and only the latest matters once merged).
pub const MAX_ATTESTED: usize = 32;

/// What the gate did with a sync message.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// On to the engine as it came.
    Pass(WireMessage),
    /// On to the engine without the state it relayed, which nobody in control vouched for.
    Stripped(WireMessage),
    /// A state nobody in control vouched for: dropped.
    Dropped,
    /// The room's mode is not known yet: the state is kept aside until it is
    /// ([`StateGate::settle`]).
    Waits,
}

/// What the gate knows of the message and the room when it checks it.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Host controls on or off, or `None` while this page has not heard the host say.
    pub mode: Option<bool>,
    /// The member whose link the message came over.
    pub from: SessionId,
    /// The register's current state.
    pub current: Option<&'a Versioned>,
    /// This page's room time, once it has met the room's timeline.
    pub now: Option<RoomTime>,
    /// This page's monotonic clock, in milliseconds.
    pub now_ms: f64,
}

/// The states a controller vouched for, as this page heard them.
#[derive(Debug, Clone, Default)]
pub struct StateGate {
    attested: VecDeque<Versioned>,
    /// SHA-256 digests of queue pieces a controller vouched for.
    pieces: VecDeque<Vec<u8>>,
    /// Guests' buffering holds let through.
    pub guest_holds: GuestHolds,
    /// States waiting for the room's mode.
    pub newcomer: Newcomer,
}

/// Queue piece digests remembered: a whole snapshot (a few hundred pieces at most).
pub const MAX_ATTESTED_PIECES: usize = 512;

impl StateGate {
    /// Remembers a state a controller signed (the caller checked the signature and the rules).
    pub fn attest(&mut self, state: Versioned) {
        if self.attested.contains(&state) {
            return;
        }
        if self.attested.len() == MAX_ATTESTED {
            self.attested.pop_front();
        }
        self.attested.push_back(state);
    }

    /// Remembers the digest of a queue piece a controller signed.
    pub fn attest_piece(&mut self, digest: Vec<u8>) {
        if self.pieces.contains(&digest) {
            return;
        }
        if self.pieces.len() == MAX_ATTESTED_PIECES {
            self.pieces.pop_front();
        }
        self.pieces.push_back(digest);
    }

    /// Whether the queue piece whose SHA-256 is `digest` may be merged in host mode.
    pub fn admits_piece(&self, digest: &[u8]) -> bool {
        self.pieces.iter().any(|d| d == digest)
    }

    /// Whether `state` may enter the register in host mode: vouched for, or already the
    /// register's own (`current`), which changes nothing.
    pub fn admits(&self, state: &Versioned, current: Option<&Versioned>) -> bool {
        current == Some(state) || self.attested.contains(state)
    }

    /// What to do with a sync message in the room as `cx` describes it.
    pub fn check(&mut self, cx: Context<'_>, mut message: WireMessage) -> Verdict {
        if !self.newcomer.settled() {
            return match message.body {
                Body::State(state) => {
                    self.newcomer.keep(cx.from, state, cx.now_ms);
                    Verdict::Waits
                }
                // A hello goes on without its state (its clock and rank are needed now).
                Body::Hello(mut hello) => {
                    if let Some(state) = hello.state.take() {
                        self.newcomer.keep(cx.from, state, cx.now_ms);
                    }
                    message.body = Body::Hello(hello);
                    Verdict::Pass(message)
                }
                body => {
                    message.body = body;
                    Verdict::Pass(message)
                }
            };
        }
        if cx.mode != Some(true) {
            return Verdict::Pass(message);
        }
        match &mut message.body {
            Body::State(state) if !self.admits(state, cx.current) => {
                let guest = self
                    .guest_holds
                    .judge(PeerId(cx.from), state, cx.current, cx.now);
                if guest == GuestWrite::Refused {
                    return Verdict::Dropped;
                }
                // Vouched for from now on: relayed in a hello, it passes too.
                self.attest(state.clone());
                Verdict::Pass(message)
            }
            Body::Hello(hello)
                if hello
                    .state
                    .as_ref()
                    .is_some_and(|state| !self.admits(state, cx.current)) =>
            {
                hello.state = None;
                Verdict::Stripped(message)
            }
            _ => Verdict::Pass(message),
        }
    }
}
