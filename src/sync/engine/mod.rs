//! The sans-IO sync engine: one state machine per viewer, driven by inputs, emitting outputs.
//!
//! The engine owns no clock, socket or player. The application calls
//! [`Engine::handle_input`] with the current local time and an [`Input`], then drains
//! [`Engine::poll_output`] and arms a timer for [`Engine::poll_timeout`], at which it feeds
//! [`Input::Tick`]. That is the whole loop, in the browser and in the simulator alike.
//!
//! The parts, one concern each (`docs/engine.md` tells how they fit and why):
//! - [`io`]: the inputs and outputs; [`config`] and [`stats`]: tuning and counters.
//! - `seniority`: the endpoint's join order, which makes ranks facts rather than claims.
//! - `timeline`: the room timeline (whose clock is the reference, and the base that keeps
//!   room time continuous when the reference changes).
//! - `peers`: what each peer told us: clock probes (pings and pongs) and hellos.
//! - `intents`: the local user's intents and the states peers send, scheduled ahead.
//! - `budget`: each peer's budget of playback states.
//! - `holds`: holding the group while our player stalls, and releasing it.
//! - `player`: what the local player reports, handed to the drift controller.
//! - `view`: read-only state for the UI.

mod budget;
pub mod config;
mod holds;
mod intents;
pub mod io;
mod peers;
mod player;
mod seniority;
pub mod stats;
mod timeline;
mod view;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use io::{Channel, Destination, Event, Input, Output, Transmit};
pub use stats::Stats;
pub use view::PeerView;

use super::buffering::StallGuard;
use super::clock::RoomMap;
use super::controller::{Controller, PlayerCommand};
use super::presentation::FrameGrid;
use super::state::{Intent, Register, Versioned};
use super::time::{LocalTime, Span};
use super::wire::{Body, GridSide, Timebase, WireMessage};
use super::PeerId;
use peers::Peer;
use std::collections::{BTreeMap, VecDeque};

/// The sync engine of one viewer.
#[derive(Clone, Debug)]
pub struct Engine {
    cfg: Config,
    me: PeerId,
    now: LocalTime,
    peers: BTreeMap<PeerId, Peer>,
    rank: Option<u64>,
    /// The endpoint's join order ([`Input::Seniority`]), once told: ranks are then positions in
    /// it, not claims.
    seniority: Option<Vec<PeerId>>,
    /// The room map we left for another timeline that does not continue it (two groups
    /// merging), until the new one is measurable: then, if they differ by more than any
    /// honest continuation, our state belongs to the timeline left and is forgotten.
    left_timeline: Option<RoomMap>,
    /// Peers that joined us so far, and how many had when we took our rank: those that joined
    /// later are younger than us.
    joins: u64,
    ranked_at: u64,
    /// Ranked with nobody on our timeline but us: we acted alone, or everyone left.
    alone: bool,
    timebase: Timebase,
    /// Whether `timebase` is the reference's own announcement (or ours), not a local guess.
    official: bool,
    /// The base our reference announced when we began to follow it officially.
    first_base: Span,
    /// The last timebase announcement refused (counted once, however often it comes).
    refused_timebase: Option<Timebase>,
    /// Room time extrapolated from a departed reference until its successor is measurable.
    fallback: Option<RoomMap>,
    register: Register,
    controller: Controller,
    /// The local player's frame grid, once the glue has measured it.
    frame_grid: Option<FrameGrid>,
    guard: StallGuard,
    out: VecDeque<Output>,
    player: VecDeque<PlayerCommand>,
    pending_intents: VecDeque<Intent>,
    next_hello: LocalTime,
    /// The frame grid side last announced in a hello: a new one is announced at once.
    announced_grid: Option<GridSide>,
    ping_seq: u32,
    stats: Stats,
}

impl Engine {
    /// A new engine for the local peer `me`, alone in its room until peers join.
    pub fn new(cfg: Config, me: PeerId, now: LocalTime) -> Engine {
        Engine {
            controller: Controller::new(cfg.controller.clone()),
            frame_grid: None,
            guard: StallGuard::new(cfg.buffering, cfg.hold_cooldown),
            next_hello: now + cfg.hello_interval,
            announced_grid: None,
            cfg,
            me,
            now,
            peers: BTreeMap::new(),
            rank: None,
            seniority: None,
            left_timeline: None,
            joins: 0,
            ranked_at: 0,
            alone: false,
            timebase: Timebase {
                reference: me,
                base: Span::ZERO,
            },
            official: true,
            first_base: Span::ZERO,
            refused_timebase: None,
            fallback: None,
            register: Register::new(),
            out: VecDeque::new(),
            player: VecDeque::new(),
            pending_intents: VecDeque::new(),
            ping_seq: 0,
            stats: Stats::default(),
        }
    }

    /// Feeds one input at local time `now`, then does whatever became due.
    pub fn handle_input(&mut self, now: LocalTime, input: Input) {
        if now < self.now {
            self.stats.time_went_back += 1;
        }
        let now = now.max(self.now);
        self.now = now;
        let prev_map = self.room_map(now);
        match input {
            Input::PeerMessage {
                from,
                msg,
                received_at,
            } => self.on_message(now, from, msg, received_at.min(now)),
            Input::Observation(obs) => self.on_observation(now, obs),
            Input::MediaClock(reading) => self.on_clock_reading(now, reading),
            Input::Intent(intent) => self.queue_intent(intent),
            Input::Act => self.found_timeline(now),
            Input::PeerJoined(id) => self.on_joined(now, id),
            Input::Seniority(order) => self.on_seniority(order),
            Input::PeerLeft(id) => self.on_left(id),
            Input::Buffering(stalled) => self.on_buffering(now, stalled),
            Input::PresentationStep(step) => self.on_presentation_step(step),
            Input::FrameGrid(grid) => self.on_player_frame_grid(grid),
            Input::Tick => {}
        }
        self.after_input(now, prev_map);
    }

    /// Next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        let o = self.out.pop_front()?;
        if matches!(o, Output::Send(_)) {
            self.stats.messages_out += 1;
        }
        Some(o)
    }

    /// When the engine wants an [`Input::Tick`] at the latest.
    pub fn poll_timeout(&self) -> Option<LocalTime> {
        let mut t = self.next_hello;
        for p in self.peers.values() {
            t = t.min(p.next_ping);
        }
        if let Some(d) = self.controller.deadline() {
            t = t.min(d);
        }
        if let Some(d) = self.guard.deadline() {
            t = t.min(d);
        }
        // A scheduled pause or rate change takes effect at the anchor.
        if let Some(la) = self.anchor_local(self.now).filter(|la| *la > self.now) {
            t = t.min(la);
        }
        Some(t.max(self.now))
    }

    /// Housekeeping after every input: the timeline, what became due, the player.
    fn after_input(&mut self, now: LocalTime, prev_map: Option<RoomMap>) {
        self.update_reference(now, prev_map);
        self.take_rank();
        self.settle_left_timeline(now);
        self.check_held_states(now);
        self.apply_pending_intents(now);
        self.send_due_pings(now);
        if now >= self.next_hello {
            self.next_hello = now + self.cfg.hello_interval;
            self.broadcast_hello(Channel::Unreliable);
        }
        self.announce_new_grid_side();
        if let Some(a) = self.guard.tick(now, self.group_playing()) {
            self.hold_action(now, a);
        }
        self.release_orphan_hold(now);
        // The media needs no room time: a newcomer loads it while its states wait for it.
        if let Some(v) = self.register.get().or_else(|| held_favourite(&self.peers)) {
            self.controller.load_media(v, &mut self.player);
        }
        let map = self.room_map(now);
        let desired = self.register.get().zip(map);
        let desired = desired.as_ref().map(|(v, m)| (*v, m));
        self.controller.update(now, desired, &mut self.player);
        while let Some(c) = self.player.pop_front() {
            self.out.push_back(Output::Player(c));
        }
    }

    fn send(&mut self, to: Destination, channel: Channel, body: Body) {
        self.out.push_back(Output::Send(Transmit {
            to,
            channel,
            msg: WireMessage::new(body),
        }));
    }
}

/// The state most peers hold out to a newcomer (of those, the latest): the one whose media it
/// loads while room time is unknown. One liar cannot outvote the room.
fn held_favourite(peers: &BTreeMap<PeerId, Peer>) -> Option<&Versioned> {
    let held = || peers.values().filter_map(|p| p.held.as_ref());
    held().max_by_key(|v| (held().filter(|w| w.stamp == v.stamp).count(), v.stamp))
}
