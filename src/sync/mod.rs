//! The sync engine: keeps every viewer of a room on the same frame.
//!
//! Pure, sans-IO Rust (no clock, no randomness, no browser APIs, no threads): the browser glue
//! and the simulator (`sim/`) drive the same [`Engine`] through [`Engine::handle_input`],
//! [`Engine::poll_output`] and [`Engine::poll_timeout`].
//!
//! - [`time`]: the three clocks (local, room, media) as distinct types.
//! - [`clock`]: per-peer clock offset and skew from four-timestamp exchanges.
//! - [`state`]: the replicated playback register (last writer wins by hybrid logical clock).
//! - [`controller`]: rate nudging and seeks that keep the local player on the timeline.
//! - [`clock_steering`]: correcting by the player's media clock: fast for a frame off, read
//!   along the correction's slope; gently within 0.1 % of the normal rate, where a player
//!   follows so small a rate (Chromium's does not).
//! - [`buffering`]: what the group does while a viewer stalls.
//! - [`presentation`]: how finely the local player can place a frame in time, and the frame
//!   grid's arithmetic.
//! - `samples`: windows of timed errors and their medians and line fits.
//! - [`start_lead`]: how early the player calls `play()`, learned from its measured starts.
//! - [`timer_lateness`]: how late the page's timers fire, which a start's timer is set early by.
//! - [`browser_kind`]: what differs in Firefox (its starts, which frame it shows).
//! - [`wire`]: the messages and their validation.
//! - [`engine`]: the state machine tying them together.

pub mod browser_kind;
pub mod buffering;
pub mod clock;
pub mod clock_steering;
pub mod controller;
pub mod engine;
pub mod presentation;
pub(crate) mod samples;
pub mod start_lead;
pub mod state;
#[cfg(test)]
pub(crate) mod test_cases;
#[cfg(test)]
pub(crate) mod test_harness;
pub mod time;
pub mod timer_lateness;
pub mod wire;

use serde::{Deserialize, Serialize};

pub use buffering::BufferingPolicy;
pub use clock::{ClockEstimate, RoomMap};
pub use controller::{ClockReading, Observation, PlayerCommand, SeekCause};
pub use engine::{
    Channel, Config, Destination, Engine, Event, Input, Output, PeerView, Stats, Transmit,
};
pub use presentation::{FrameGrid, StepEstimator};
pub use start_lead::StartLead;
pub use state::{Intent, Playback, Stamp, Versioned};
pub use time::{LocalTime, MediaTime, RoomTime, Span};
pub use wire::{Body, WireMessage, PROTOCOL_VERSION};

/// A peer's identity in the room (assigned by signaling). Ordered: it breaks every tie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(pub u64);
