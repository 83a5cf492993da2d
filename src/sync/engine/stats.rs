//! Counters of what the engine did and refused, for tests, the simulator and the UI.

use crate::sync::controller::ControllerStats;

/// Counters of what happened, including everything refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub messages_in: u64,
    pub messages_out: u64,
    /// Messages of another protocol version.
    pub rejected_version: u64,
    /// Messages with impossible values (NaN, out of range, negative durations).
    pub rejected_invalid: u64,
    /// States stamped or anchored too far in the future.
    pub rejected_future: u64,
    /// Messages from peers that have not joined.
    pub rejected_unknown_peer: u64,
    /// States whose stamp names another writer than the peer that sent them (a hello relays
    /// the room's state, which may name another, but not us unless we have it).
    pub rejected_not_sender: u64,
    /// States over their sender's budget of writes ([`budget`](super::budget)).
    pub rejected_rate: u64,
    /// States received before room time was known, held to be checked once it is.
    pub states_held: u64,
    /// Ranks better than ours claimed by peers that joined after we had one.
    pub rejected_rank: u64,
    /// Timebase announcements that would have stepped room time.
    pub rejected_timebase: u64,
    /// Announced seek and preparation margins cut to what an honest player measures.
    pub clamped_latencies: u64,
    /// Local writes that would not have beaten the current state (never expected).
    pub stale_writes: u64,
    /// Pongs matching no ping we sent.
    pub unmatched_pongs: u64,
    /// Observations with impossible values.
    pub rejected_observations: u64,
    /// Inputs stamped before the previous one (the engine keeps the later time).
    pub time_went_back: u64,
    pub intents_applied: u64,
    pub intents_refused: u64,
    pub states_adopted: u64,
    pub holds: u64,
    pub releases: u64,
    pub reference_changes: u64,
    /// Times we moved onto another group's timeline and forgot the state of ours.
    pub timelines_left: u64,
    pub controller: ControllerStats,
}
