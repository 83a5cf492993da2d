//! A deterministic discrete-event simulator for Insieme's sync engine.
//!
//! It runs N real [`insieme::sync::Engine`]s against simulated networks, clocks and video
//! players, all driven by one seeded generator, and measures what no engine can see: the true
//! offset between viewers. The same seed gives the same run, bit for bit, so any failure is
//! replayed by its seed (TigerBeetle's VOPR and FoundationDB's simulator are the models).
//!
//! - [`rng`]: the seeded generator.
//! - [`net`]: links (delay, jitter tail, asymmetry, loss, reordering, head-of-line blocking).
//! - [`player`]: the video element model (seek and start latency, rate response, frames, a media
//!   clock that may run off the commanded rate, optionally a display that shows frames only at
//!   its vsyncs, and optionally readings of the media clock, which then jumps as a browser's
//!   does when the rate starts stretching the sound).
//! - [`browsers`]: Chromium's and Firefox's players and pages, as measured (per slot).
//! - [`agenda`]: the events to come, in time order (every loop below keeps one).
//! - [`world`]: the event loop and the measurements.
//! - [`scenarios`]: the fixed scenarios of the benchmark and the tests.
//! - [`timelines`]: scenarios where a room could split onto two timelines (groups formed
//!   apart, a viewer starved of CPU).
//! - [`queue_storm`]: the shared queue's storm (its own small loop over the same links).
//! - [`ready_rush`]: the ready check under WAN links, people leaving and partitions.
//! - [`host_relay`]: signed intents (the host's rules and gate) under loss, partitions, a rogue
//!   member and a newcomer who hears the rogue first.
//! - [`report`]: the benchmark's table and JSON.

pub mod agenda;
pub mod browsers;
pub mod fixture;
pub mod host_relay;
pub mod net;
pub mod player;
pub mod queue_storm;
pub mod ready_rush;
pub mod report;
pub mod rng;
pub mod scenarios;
pub mod timelines;
pub mod world;

pub use world::{Action, Hostile, OffsetSample, Outcome, RoomSample, Scenario, World};

/// Runs one scenario to completion.
pub fn run(sc: Scenario) -> Outcome {
    World::new(sc).run()
}
