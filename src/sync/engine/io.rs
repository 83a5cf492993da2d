//! What goes into the engine ([`Input`]) and what comes out ([`Output`]): messages to send,
//! commands for the local player, events for the UI.

use crate::sync::controller::{ClockReading, Observation, PlayerCommand};
use crate::sync::presentation::FrameGrid;
use crate::sync::state::{Intent, Versioned};
use crate::sync::time::{LocalTime, Span};
use crate::sync::wire::WireMessage;
use crate::sync::PeerId;

/// Everything that can happen to the engine.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// A message from a peer, with the local time it was received (for clock samples the
    /// receive time matters, not when the engine got round to it).
    PeerMessage {
        from: PeerId,
        msg: WireMessage,
        received_at: LocalTime,
    },
    /// What the local player presented.
    Observation(Observation),
    /// The local player's media clock, read while playing; steered by in preference to the
    /// presented frames, which a display quantizes (see the controller's notes).
    MediaClock(ClockReading),
    /// The local user wants something.
    Intent(Intent),
    /// The local user acted in the room outside the playback state (an edit of the shared
    /// queue, stamped in room time). In a room nobody has acted in yet, room time still moves
    /// to whichever page joins with the lowest id, so this founds the room's timeline as a
    /// first intent does; afterwards it is only ever continued. Nothing else changes.
    Act,
    /// A data channel to a peer opened. Messages from a peer before this are dropped.
    PeerJoined(PeerId),
    /// The room's peers (us included) in the order the signaling endpoint admitted them,
    /// oldest first, as its `welcome` and `joined` notices tell: the same order for everyone,
    /// where rank claims in hellos are only claims. Once told, ranks are positions here, claims
    /// are ignored, and the oldest peer present is the reference (see `engine/seniority.rs`).
    /// Sent again whenever it changes; peers missing from it come after those in it.
    Seniority(Vec<PeerId>),
    PeerLeft(PeerId),
    /// The local player stalled (`true`) or recovered (`false`).
    Buffering(bool),
    /// The local player shows frames only on a grid this fine (a display's refresh interval, or
    /// the video's frame duration where that is shorter), as browsers do; zero when positions
    /// are observed continuously. The controller then never chases an error smaller than half
    /// a step, which no rate could remove and chasing would turn into frame-by-frame hunting.
    PresentationStep(Span),
    /// The exact grid of refreshes and frames the local player shows on. Starts this peer
    /// schedules are then placed on it, so that every viewer on the same screen grid (several
    /// windows on one machine) shows each frame exactly at a refresh, as far as possible from
    /// the tie between two frames.
    FrameGrid(FrameGrid),
    /// The time returned by [`Engine::poll_timeout`](super::Engine::poll_timeout) was reached.
    Tick,
}

/// Who a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    One(PeerId),
    All,
}

/// Which data channel to use: state changes must arrive (reliable, ordered); clock probes must
/// not wait behind a lost packet (unreliable, unordered).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Reliable,
    Unreliable,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Transmit {
    pub to: Destination,
    pub channel: Channel,
    pub msg: WireMessage,
}

/// Things the UI may want to show.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The room's playback state changed.
    StateChanged(Versioned),
    /// New clock estimate for a peer (at most once per `event_interval`).
    PeerClock {
        peer: PeerId,
        offset: Span,
        rtt: Span,
    },
    /// Room time now follows this peer's clock.
    ReferenceChanged(PeerId),
    PeerBuffering {
        peer: PeerId,
        buffering: bool,
    },
}

/// What the application must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Send(Transmit),
    Player(PlayerCommand),
    Event(Event),
}
