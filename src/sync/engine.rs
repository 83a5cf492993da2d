//! The sans-IO sync engine: one state machine per viewer, driven by inputs, emitting outputs.
//!
//! The engine owns no clock, socket or player. The application calls
//! [`Engine::handle_input`] with the current local time and an [`Input`], then drains
//! [`Engine::poll_output`] and arms a timer for [`Engine::poll_timeout`], at which it feeds
//! [`Input::Tick`]. That is the whole loop, in the browser and in the simulator alike.
//!
//! Inside, it ties the parts together: clock estimators for every peer (pinged over the
//! unreliable channel), the room timeline (whose clock is the reference, and the base that
//! keeps room time continuous when the reference changes), the replicated playback register,
//! the drift controller and the buffering guard.
//!
//! ## The room timeline
//! Room time is the reference peer's clock plus a base. The reference is the oldest peer in
//! the room: every peer has a rank (join order, learned from the peers it meets; unranked
//! newcomers come last) and the smallest (rank, id) wins, which every peer computes alike.
//! When the reference changes (it left, or a better-ranked peer appeared), the new reference
//! picks its base so that room time does not jump from its own point of view, and announces it;
//! until the announcement arrives, the others compute the same continuity from their own
//! estimates. Room time therefore never jumps by more than the clock estimation error.

use super::buffering::{BufferingPolicy, HoldAction, StallGuard};
use super::clock::{ClockConfig, ClockEstimate, ClockEstimator, RoomMap};
use super::controller::{
    ClockReading, Controller, ControllerConfig, ControllerStats, Observation, PlayerCommand,
};
use super::presentation::FrameGrid;
use super::state::{apply_intent, Intent, IntentError, Leads, Playback, Register, Versioned};
use super::time::{LocalTime, MediaTime, RoomTime, Span};
use super::wire::{Body, GridSide, Hello, Invalid, Timebase, WireMessage};
use super::PeerId;
use std::collections::{BTreeMap, VecDeque};

/// Tuning of the engine. The defaults are what the simulator's benchmark runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub clock: ClockConfig,
    pub controller: ControllerConfig,
    pub buffering: BufferingPolicy,
    /// Least time between two holds requested by this viewer (a flaky connection must not
    /// pause the room over and over).
    pub hold_cooldown: Span,
    /// Clock probes per peer, in steady state...
    pub ping_interval: Span,
    /// ...and while the first `fast_pings` samples are collected, to sync a newcomer quickly.
    pub fast_ping_interval: Span,
    pub fast_pings: usize,
    /// Period of the unreliable anti-entropy announcement.
    pub hello_interval: Span,
    /// Bounds of the lead with which changes are scheduled ahead.
    pub min_lead: Span,
    pub max_lead: Span,
    /// Clock samples needed from the reference before we trust room time.
    pub min_sync_samples: usize,
    /// Stamps and anchors further ahead of our room time than this are refused: no honest
    /// peer schedules that far, and a far-future stamp would pin the register forever.
    pub max_future: Span,
    /// Least time between two clock events per peer (for the UI).
    pub event_interval: Span,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clock: ClockConfig::default(),
            controller: ControllerConfig::default(),
            buffering: BufferingPolicy::default(),
            hold_cooldown: Span::from_secs(20),
            ping_interval: Span::from_millis(500),
            fast_ping_interval: Span::from_millis(100),
            fast_pings: 10,
            hello_interval: Span::from_secs(2),
            min_lead: Span::from_millis(100),
            max_lead: Span::from_secs(3),
            min_sync_samples: 4,
            max_future: Span::from_secs(60),
            event_interval: Span::from_secs(1),
        }
    }
}

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
    /// A data channel to a peer opened. Messages from a peer before this are dropped.
    PeerJoined(PeerId),
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
    /// The time returned by [`Engine::poll_timeout`] was reached.
    Tick,
}

/// The state the local player should follow and the map to the room's clock, when known.
type Desired<'a> = Option<(&'a Versioned, &'a RoomMap)>;

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
    pub controller: ControllerStats,
}

/// What the engine knows about one peer.
#[derive(Clone, Debug)]
struct Peer {
    clock: ClockEstimator,
    pings: VecDeque<(u32, LocalTime)>,
    next_ping: LocalTime,
    rank: Option<u64>,
    timebase: Option<Timebase>,
    prep: Span,
    /// Its measured seek margin on the current media ([`Hello::seek`]).
    seek: Option<Span>,
    buffering: bool,
    error: Option<Span>,
    /// Its frame grid side for the state it plays ([`Hello::frame_grid`]).
    grid: Option<GridSide>,
    last_event: Option<LocalTime>,
}

/// Read-only view of a peer for the UI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeerView {
    pub id: PeerId,
    /// Clock estimate (offset of its clock from ours, skew, round-trip time), once measured.
    pub clock: Option<ClockEstimate>,
    pub rank: Option<u64>,
    pub buffering: bool,
    /// Its playback offset from the room as it last reported it (positive: ahead).
    pub playback_error: Option<Span>,
}

/// Most unanswered pings remembered per peer.
const MAX_PENDING_PINGS: usize = 64;
/// Most intents remembered while waiting to be in sync.
const MAX_PENDING_INTENTS: usize = 8;

/// The sync engine of one viewer.
#[derive(Clone, Debug)]
pub struct Engine {
    cfg: Config,
    me: PeerId,
    now: LocalTime,
    peers: BTreeMap<PeerId, Peer>,
    rank: Option<u64>,
    timebase: Timebase,
    /// Whether `timebase` is the reference's own announcement (or ours), not a local guess.
    official: bool,
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
            timebase: Timebase {
                reference: me,
                base: Span::ZERO,
            },
            official: true,
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
            Input::Intent(intent) => {
                if self.pending_intents.len() < MAX_PENDING_INTENTS {
                    self.pending_intents.push_back(intent);
                } else {
                    self.stats.intents_refused += 1;
                }
            }
            Input::PeerJoined(id) => self.on_joined(now, id),
            Input::PeerLeft(id) => {
                self.peers.remove(&id);
                self.tell_controller_peers_seeks();
                self.tell_controller_older_grids();
            }
            Input::Buffering(stalled) => self.on_buffering(now, stalled),
            Input::PresentationStep(step) => {
                if !self.controller.set_presentation_step(step) {
                    self.stats.rejected_observations += 1;
                }
            }
            Input::FrameGrid(grid) => {
                if grid.is_plausible() {
                    self.frame_grid = Some(grid);
                } else {
                    self.stats.rejected_observations += 1;
                }
            }
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

    // ---- read-only state for the UI ----

    /// This peer's id.
    pub fn id(&self) -> PeerId {
        self.me
    }

    /// The room's playback state, with its stamp.
    pub fn playback(&self) -> Option<&Versioned> {
        self.register.get()
    }

    /// Room time at local time `now`, once in sync with the reference.
    pub fn room_time(&self, now: LocalTime) -> Option<RoomTime> {
        self.room_map(now).map(|m| m.to_room(now))
    }

    /// Where the media should be at local time `now`, by the room's state.
    pub fn expected_position(&self, now: LocalTime) -> Option<MediaTime> {
        let map = self.room_map(now)?;
        let v = self.register.get()?;
        v.playback.media.as_ref()?;
        Some(v.playback.position_at(map.to_room(now)))
    }

    /// The room's media speed at local time `now` (0 while paused).
    pub fn expected_speed(&self, now: LocalTime) -> Option<f64> {
        let map = self.room_map(now)?;
        Some(self.register.get()?.playback.speed_at(map.to_room(now)))
    }

    /// Our player's latest measured offset from the room (positive: ahead).
    pub fn playback_error(&self) -> Option<Span> {
        self.controller.error()
    }

    /// Where on the frame grid this player's clock is steered, off the timeline.
    pub fn frame_grid_offset(&self) -> Option<Span> {
        self.controller.frame_grid_offset()
    }

    /// The peer whose clock room time follows.
    pub fn reference(&self) -> PeerId {
        self.timebase.reference
    }

    /// The room timeline: reference and base.
    pub fn timebase(&self) -> Timebase {
        self.timebase
    }

    /// Our join order in the room (`None` until we met the room or acted in it).
    pub fn rank(&self) -> Option<u64> {
        self.rank
    }

    /// The peers we are connected to.
    pub fn peers(&self) -> impl Iterator<Item = PeerView> + '_ {
        self.peers.iter().map(|(id, p)| PeerView {
            id: *id,
            clock: p.clock.estimate().copied(),
            rank: p.rank,
            buffering: p.buffering,
            playback_error: p.error,
        })
    }

    /// Counters, including refused inputs.
    pub fn stats(&self) -> Stats {
        Stats {
            controller: *self.controller.stats(),
            ..self.stats
        }
    }

    // ---- the room timeline ----

    fn room_map(&self, now: LocalTime) -> Option<RoomMap> {
        if self.rank.is_none() && self.peers.values().any(|p| p.rank.is_some()) {
            // A newcomer that has not yet met the room's timeline: our own clock is not room
            // time, and acting on it would schedule everything at the wrong instant.
            return None;
        }
        let tb = self.timebase;
        if tb.reference == self.me {
            return Some(RoomMap {
                local: now,
                room: RoomTime(now.0) + tb.base,
                skew: 0.0,
            });
        }
        if let Some(est) = self.peers.get(&tb.reference).and_then(|p| {
            p.clock
                .estimate()
                .filter(|e| e.samples >= self.cfg.min_sync_samples)
        }) {
            return Some(RoomMap {
                local: now,
                room: RoomTime(now.0) + est.offset_at(now) + tb.base,
                skew: est.skew,
            });
        }
        self.fallback.map(|m| RoomMap {
            local: now,
            room: m.to_room(now),
            skew: m.skew,
        })
    }

    fn rank_key(&self, id: PeerId) -> (u64, PeerId) {
        let rank = if id == self.me {
            self.rank
        } else {
            self.peers.get(&id).and_then(|p| p.rank)
        };
        (rank.unwrap_or(u64::MAX), id)
    }

    /// Re-elects the reference and keeps room time continuous across a change.
    fn update_reference(&mut self, now: LocalTime, prev: Option<RoomMap>) {
        let best = std::iter::once(self.me)
            .chain(self.peers.keys().copied())
            .min_by_key(|id| self.rank_key(*id))
            .unwrap_or(self.me);
        let before = self.timebase;
        if best == self.me {
            if self.timebase.reference != self.me || !self.official {
                let base = match prev {
                    Some(m) => m.to_room(now) - RoomTime(now.0),
                    None => Span::ZERO,
                };
                self.timebase = Timebase {
                    reference: self.me,
                    base,
                };
                self.official = true;
                self.fallback = None;
                self.broadcast_hello(Channel::Reliable);
            }
        } else {
            let advertised = self.peers.get(&best).and_then(|p| p.timebase);
            match advertised {
                // The new reference announced its base: that is the timeline.
                Some(tb) if tb.reference == best => {
                    if self.timebase != tb || !self.official {
                        self.timebase = tb;
                        self.official = true;
                    }
                }
                // It still follows the reference we follow, which left: it will announce a
                // base continuing that timeline; until then, compute the same continuity from
                // our own estimates.
                Some(tb)
                    if tb.reference == self.timebase.reference
                        && tb.reference != self.me
                        && !self.peers.contains_key(&tb.reference) =>
                {
                    let est = self
                        .peers
                        .get(&best)
                        .and_then(|p| p.clock.estimate().copied());
                    match (prev, est) {
                        (Some(m), Some(e)) => {
                            self.timebase = Timebase {
                                reference: best,
                                base: m.to_room(now) - RoomTime(now.0) - e.offset_at(now),
                            };
                            self.official = false;
                        }
                        (Some(m), None) => self.fallback = Some(m),
                        (None, _) => {}
                    }
                }
                // It follows another timeline (we are new, or two groups meet): follow it too.
                Some(tb) if tb != self.timebase => {
                    if tb.reference == self.me || self.peers.contains_key(&tb.reference) {
                        self.timebase = tb;
                        self.official = false;
                    }
                }
                _ => {}
            }
            if self.peers.get(&self.timebase.reference).is_some_and(|p| {
                p.clock
                    .estimate()
                    .is_some_and(|e| e.samples >= self.cfg.min_sync_samples)
            }) {
                self.fallback = None;
            }
        }
        if self.timebase.reference != before.reference {
            self.stats.reference_changes += 1;
            self.out.push_back(Output::Event(Event::ReferenceChanged(
                self.timebase.reference,
            )));
        }
        // A jump of the timeline we play on (two groups merging, or first sync) is not drift.
        if let (Some(a), Some(b)) = (prev, self.room_map(now)) {
            if (b.to_room(now) - a.to_room(now)).abs() > Span::from_millis(50) {
                self.controller.timeline_changed(now);
            }
        }
    }

    // ---- inputs ----

    fn on_joined(&mut self, now: LocalTime, id: PeerId) {
        if id == self.me || self.peers.contains_key(&id) {
            return;
        }
        self.peers.insert(
            id,
            Peer {
                clock: ClockEstimator::new(self.cfg.clock.clone()),
                pings: VecDeque::new(),
                next_ping: now,
                rank: None,
                timebase: None,
                prep: Span::ZERO,
                seek: None,
                buffering: false,
                error: None,
                grid: None,
                last_event: None,
            },
        );
        let hello = self.hello();
        self.send(Destination::One(id), Channel::Reliable, Body::Hello(hello));
    }

    fn on_message(
        &mut self,
        now: LocalTime,
        from: PeerId,
        msg: WireMessage,
        received_at: LocalTime,
    ) {
        self.stats.messages_in += 1;
        if !self.peers.contains_key(&from) || from == self.me {
            self.stats.rejected_unknown_peer += 1;
            return;
        }
        match msg.validate() {
            Ok(()) => {}
            Err(Invalid::Version) => {
                self.stats.rejected_version += 1;
                return;
            }
            Err(_) => {
                self.stats.rejected_invalid += 1;
                return;
            }
        }
        match msg.body {
            Body::Ping { seq, t1 } => {
                let pong = Body::Pong {
                    seq,
                    t1,
                    t2: received_at,
                    t3: now,
                };
                self.send(Destination::One(from), Channel::Unreliable, pong);
            }
            Body::Pong { seq, t1, t2, t3 } => self.on_pong(now, from, seq, t1, t2, t3, received_at),
            Body::Hello(h) => self.on_hello(now, from, h),
            Body::State(v) => self.on_state(now, v),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_pong(
        &mut self,
        now: LocalTime,
        from: PeerId,
        seq: u32,
        t1: LocalTime,
        t2: LocalTime,
        t3: LocalTime,
        t4: LocalTime,
    ) {
        let interval = self.cfg.event_interval;
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        let Some(i) = peer.pings.iter().position(|&(s, t)| s == seq && t == t1) else {
            self.stats.unmatched_pongs += 1;
            return;
        };
        peer.pings.remove(i);
        if peer.clock.add_exchange(t1, t2.0, t3.0, t4).is_err() {
            self.stats.rejected_invalid += 1;
            return;
        }
        if peer.last_event.is_none_or(|t| now - t >= interval) {
            if let Some(e) = peer.clock.estimate() {
                peer.last_event = Some(now);
                self.out.push_back(Output::Event(Event::PeerClock {
                    peer: from,
                    offset: e.offset_at(now),
                    rtt: e.srtt,
                }));
            }
        }
    }

    fn on_hello(&mut self, now: LocalTime, from: PeerId, h: Hello) {
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        peer.rank = h.rank;
        peer.timebase = h.timebase;
        peer.prep = h.prep;
        peer.seek = h.seek;
        peer.error = h.error;
        peer.grid = h.frame_grid;
        if peer.buffering != h.buffering {
            peer.buffering = h.buffering;
            self.out.push_back(Output::Event(Event::PeerBuffering {
                peer: from,
                buffering: h.buffering,
            }));
        }
        self.tell_controller_peers_seeks();
        // The state first: while we are still unranked it is taken without a timeline check.
        if let Some(v) = h.state {
            self.on_state(now, v);
        }
        if self.rank.is_none() {
            if let Some(r) = h.rank {
                // We met the room: we are younger than everyone in it.
                let max = self
                    .peers
                    .values()
                    .filter_map(|p| p.rank)
                    .max()
                    .unwrap_or(r);
                self.rank = Some(max.saturating_add(1));
                self.broadcast_hello(Channel::Reliable);
            }
        }
        // After the rank: which peers are older than us depends on it.
        self.tell_controller_older_grids();
    }

    fn on_state(&mut self, now: LocalTime, v: Versioned) {
        // A newcomer still on its own clock cannot judge room times; once it has met the
        // room (it has a rank, and `room_map` is the room's), every state is checked.
        let same_timeline = self.rank.is_some();
        if let Some(map) = self.room_map(now).filter(|_| same_timeline) {
            let room_now = map.to_room(now);
            let horizon = room_now + self.cfg.max_future;
            if v.stamp.wall > horizon || v.playback.anchor_room > horizon {
                self.stats.rejected_future += 1;
                return;
            }
        }
        if self.register.merge(v.clone()) {
            self.stats.states_adopted += 1;
            if self.guard.is_holding() && v.playback.hold != Some(self.me) {
                self.guard.forget_hold();
            }
            self.out.push_back(Output::Event(Event::StateChanged(v)));
        }
    }

    fn on_observation(&mut self, now: LocalTime, obs: Observation) {
        self.hand_to_controller(
            now,
            obs.media_time,
            obs.presented_at,
            |controller, desired, out| controller.observe(now, obs, desired, out),
        );
    }

    fn on_clock_reading(&mut self, now: LocalTime, reading: ClockReading) {
        self.hand_to_controller(
            now,
            reading.media_time,
            reading.read_at,
            |controller, desired, _| controller.observe_clock(reading, desired),
        );
    }

    /// Hands what the player reported (`position` at `at`) to the controller, with the state it
    /// should follow; refused and counted unless it can be true: in the media, at an instant
    /// near now.
    fn hand_to_controller(
        &mut self,
        now: LocalTime,
        position: MediaTime,
        at: LocalTime,
        feed: impl FnOnce(&mut Controller, Desired<'_>, &mut VecDeque<PlayerCommand>),
    ) {
        let plausible = position.is_sane()
            && position >= MediaTime(0)
            && at.is_sane()
            && at <= now + Span::from_secs(1)
            && now - at <= Span::from_secs(10);
        if !plausible {
            self.stats.rejected_observations += 1;
            return;
        }
        let map = self.room_map(now);
        let desired = self.register.get().zip(map);
        let desired = desired.as_ref().map(|(v, m)| (*v, m));
        feed(&mut self.controller, desired, &mut self.player);
    }

    fn on_buffering(&mut self, now: LocalTime, stalled: bool) {
        if stalled == self.guard.is_stalled() {
            return;
        }
        // A stall that is the wait for data of a seek we asked for (read before the controller
        // hears of the stall) matters only once the group starts: when, on our clock.
        let own_seek_until = self
            .controller
            .seeking()
            .then(|| self.anchor_local(now).unwrap_or(now));
        self.controller.set_stalled(now, stalled);
        let group_playing = self.group_playing();
        if let Some(action) = self
            .guard
            .report(now, stalled, group_playing, own_seek_until)
        {
            self.hold_action(now, action);
        }
        self.broadcast_hello(Channel::Reliable);
    }

    /// The playback state's anchor (where a scheduled change takes effect) on our clock.
    fn anchor_local(&self, now: LocalTime) -> Option<LocalTime> {
        let map = self.room_map(now)?;
        Some(map.to_local(self.register.get()?.playback.anchor_room))
    }

    /// Whether the room is playing and not held: whether there is anything to hold.
    fn group_playing(&self) -> bool {
        self.register
            .get()
            .is_some_and(|v| v.playback.playing && v.playback.hold.is_none())
    }

    fn hold_action(&mut self, now: LocalTime, action: HoldAction) {
        let Some(map) = self.room_map(now) else {
            return;
        };
        let Some(cur) = self.register.get().map(|v| v.playback.clone()) else {
            return;
        };
        let r = map.to_room(now);
        let next = match action {
            HoldAction::Hold => {
                if !cur.playing || cur.hold.is_some() {
                    return;
                }
                // Hold where this viewer froze, so it resumes from data it already has.
                let at = self
                    .controller
                    .last_position()
                    .filter(|p| (*p - cur.position_at(r)).abs() < Span::from_secs(5))
                    .unwrap_or_else(|| cur.position_at(r));
                self.stats.holds += 1;
                Playback {
                    playing: false,
                    anchor_media: at,
                    anchor_room: r,
                    lead_in_rate: 0.0,
                    hold: Some(self.me),
                    ..cur
                }
            }
            HoldAction::Release => {
                if cur.hold.is_some() && !cur.playing {
                    self.release_hold(r, cur);
                }
                return;
            }
        };
        self.write_state(r, next);
    }

    /// Ends a buffering hold: the group resumes a seek's lead from now.
    fn release_hold(&mut self, r: RoomTime, held: Playback) {
        self.stats.releases += 1;
        let resumed = held.released_at(r + self.leads().seek);
        self.write_state(r, resumed);
    }

    fn write_state(&mut self, r: RoomTime, p: Playback) {
        let v = self.register.write(r, self.me, p);
        self.send(Destination::All, Channel::Reliable, Body::State(v.clone()));
        self.out.push_back(Output::Event(Event::StateChanged(v)));
    }

    /// Moves a scheduled start onto this player's frame grid: from a frame, at a refresh (less
    /// than half a frame and one refresh away). Viewers on another grid are no worse off: any
    /// start is as good as another for them. The grid is the one told, else the one the
    /// player last presented frames on.
    fn on_frame_grid(&self, mut p: Playback, map: &RoomMap, now: LocalTime) -> Playback {
        let scheduled_start = p.playing && p.lead_in_rate == 0.0 && p.rate == 1.0;
        let grid = self
            .frame_grid
            .or_else(|| self.controller.presented_grid(now));
        let Some(grid) = grid.filter(|_| scheduled_start) else {
            return p;
        };
        let (start, from) = grid.align(map.to_local(p.anchor_room), p.anchor_media);
        p.anchor_room = map.to_room(start);
        p.anchor_media = from;
        p
    }

    fn leads(&self) -> Leads {
        let mut owd = Span::ZERO;
        let mut prep = self.controller.prep();
        for p in self.peers.values() {
            if let Some(e) = p.clock.estimate() {
                // Half the smoothed round trip, with room for the jitter seen on this path.
                owd = owd.max(e.srtt.mul_f64(0.5) + (e.srtt - e.min_rtt));
            }
            prep = prep.max(p.prep);
        }
        let clamp = |s: Span| s.max(self.cfg.min_lead).min(self.cfg.max_lead);
        let arrive = clamp(owd.mul_f64(1.5) + Span::from_millis(40));
        Leads {
            arrive,
            start: clamp(arrive + Span::from_millis(60)),
            seek: clamp(arrive + prep),
        }
    }

    fn apply_pending_intents(&mut self, now: LocalTime) {
        while !self.pending_intents.is_empty() {
            if self.rank.is_none() && self.peers.values().all(|p| p.rank.is_none()) {
                // First act in a room nobody has acted in: we found its timeline.
                self.rank = Some(0);
                let prev = self.room_map(now);
                self.update_reference(now, prev);
                self.broadcast_hello(Channel::Reliable);
            }
            let Some(map) = self.room_map(now) else {
                return;
            };
            let Some(intent) = self.pending_intents.pop_front() else {
                return;
            };
            let r = map.to_room(now);
            let cur = self.register.get().map(|v| v.playback.clone());
            match apply_intent(cur.as_ref(), &intent, r, self.leads()) {
                Ok(p) => {
                    let p = self.on_frame_grid(p, &map, now);
                    self.stats.intents_applied += 1;
                    self.guard.forget_hold();
                    self.write_state(r, p);
                }
                Err(IntentError::NoChange | IntentError::NoMedia | IntentError::Invalid) => {
                    self.stats.intents_refused += 1;
                }
            }
        }
    }

    // ---- housekeeping after every input ----

    fn after_input(&mut self, now: LocalTime, prev_map: Option<RoomMap>) {
        self.update_reference(now, prev_map);
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
        if let Some(v) = self.register.get() {
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

    /// The reference releases a hold whose holder left, or that outlived its wait budget (the
    /// holder may have lost its connection without the channel closing yet).
    fn release_orphan_hold(&mut self, now: LocalTime) {
        if self.timebase.reference != self.me {
            return;
        }
        let Some(map) = self.room_map(now) else {
            return;
        };
        let Some(v) = self.register.get() else { return };
        let Some(holder) = v.playback.hold else {
            return;
        };
        if holder == self.me || v.playback.playing {
            return;
        }
        let age = map.to_room(now) - v.playback.anchor_room;
        let overdue = match self.cfg.buffering {
            BufferingPolicy::WaitUpTo(w) => age > w + Span::from_secs(5),
            BufferingPolicy::AlwaysWait => false,
            BufferingPolicy::NeverWait => true,
        };
        if !self.peers.contains_key(&holder) || overdue {
            self.release_hold(map.to_room(now), v.playback.clone());
        }
    }

    fn send_due_pings(&mut self, now: LocalTime) {
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.next_ping <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.ping_seq = self.ping_seq.wrapping_add(1);
            let seq = self.ping_seq;
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            let fast = p.clock.len() < self.cfg.fast_pings;
            p.next_ping = now
                + if fast {
                    self.cfg.fast_ping_interval
                } else {
                    self.cfg.ping_interval
                };
            p.pings.push_back((seq, now));
            if p.pings.len() > MAX_PENDING_PINGS {
                p.pings.pop_front();
            }
            self.send(
                Destination::One(id),
                Channel::Unreliable,
                Body::Ping { seq, t1: now },
            );
        }
    }

    /// What the peers' seeks take changes only with a hello or a departure.
    fn tell_controller_peers_seeks(&mut self) {
        let told = self.peers.values().filter_map(|p| p.seek).max();
        self.controller.set_told_seek(told);
    }

    /// The frame grid sides of the peers older than us, oldest first: the controller takes the
    /// side of the oldest announcing one for the state it plays (see [`GridSide`]). A peer
    /// not yet ranked is younger than everyone ranked.
    fn tell_controller_older_grids(&mut self) {
        let older = |rank: u64| self.rank.is_none_or(|mine| rank < mine);
        let mut sides: Vec<(u64, GridSide)> = self
            .peers
            .values()
            .filter_map(|p| Some((p.rank.filter(|r| older(*r))?, p.grid?)))
            .collect();
        sides.sort_by_key(|(rank, _)| *rank);
        self.controller
            .set_older_grid_sides(sides.into_iter().map(|(_, side)| side).collect());
    }

    fn hello(&self) -> Hello {
        Hello {
            rank: self.rank,
            timebase: Some(self.timebase),
            prep: self.controller.prep(),
            seek: self.controller.measured_seek(),
            buffering: self.guard.is_stalled(),
            error: self.controller.error(),
            frame_grid: self.controller.grid_side(),
            state: self.register.get().cloned(),
        }
    }

    /// Announces our frame grid side as soon as it is first measured for a state, or moves to
    /// the other side of the tie, so that younger viewers take it within a round trip rather
    /// than at the next periodic hello.
    fn announce_new_grid_side(&mut self) {
        let side = self.controller.grid_side();
        let step = self.controller.presentation_step();
        let moved = match (self.announced_grid, side) {
            (None, None) => false,
            (Some(last), Some(now)) => {
                last.state != now.state || (now.offset - last.offset).abs().0 * 2 > step.0
            }
            _ => true,
        };
        if moved {
            self.announced_grid = side;
            if side.is_some() {
                self.broadcast_hello(Channel::Reliable);
            }
        }
    }

    fn broadcast_hello(&mut self, channel: Channel) {
        if self.peers.is_empty() {
            return;
        }
        let h = self.hello();
        self.send(Destination::All, channel, Body::Hello(h));
    }

    fn send(&mut self, to: Destination, channel: Channel, body: Body) {
        self.out.push_back(Output::Send(Transmit {
            to,
            channel,
            msg: WireMessage::new(body),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::state::Stamp;
    use crate::sync::test_rng::Lcg;
    use crate::sync::wire::PROTOCOL_VERSION;

    /// A few engines on a perfect network: fixed 5 ms one-way delay, clocks offset by hours.
    /// No players: this tests the protocol, the simulator tests the whole.
    struct Mini {
        engines: Vec<Option<Engine>>,
        offsets: Vec<i64>,
        queue: Vec<(i64, usize, usize, WireMessage)>,
        now: i64,
        /// Every player command each engine gave, in order.
        commands: Vec<Vec<PlayerCommand>>,
    }

    const DELAY: i64 = 5_000;

    impl Mini {
        fn new(n: usize) -> Mini {
            let offsets: Vec<i64> = (0..n)
                .map(|i| (i as i64 * 7_919 - 10_000) * 1_000_000)
                .collect();
            let engines = (0..n)
                .map(|i| {
                    Some(Engine::new(
                        Config::default(),
                        PeerId(100 + i as u64),
                        LocalTime(offsets[i]),
                    ))
                })
                .collect();
            let mut m = Mini {
                engines,
                offsets,
                queue: Vec::new(),
                now: 0,
                commands: vec![Vec::new(); n],
            };
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        m.input(i, Input::PeerJoined(PeerId(100 + j as u64)));
                    }
                }
            }
            m
        }
        fn local(&self, i: usize) -> LocalTime {
            LocalTime(self.offsets[i] + self.now)
        }
        fn input(&mut self, i: usize, input: Input) {
            let local = self.local(i);
            let Some(e) = self.engines[i].as_mut() else {
                return;
            };
            e.handle_input(local, input);
            while let Some(o) = e.poll_output() {
                if let Output::Player(c) = &o {
                    self.commands[i].push(c.clone());
                }
                if let Output::Send(t) = o {
                    let targets: Vec<usize> = match t.to {
                        Destination::All => (0..self.offsets.len()).filter(|j| *j != i).collect(),
                        Destination::One(PeerId(id)) => vec![(id - 100) as usize],
                    };
                    for j in targets {
                        self.queue.push((self.now + DELAY, j, i, t.msg.clone()));
                    }
                }
            }
        }
        fn run_for(&mut self, us: i64) {
            let end = self.now + us;
            while self.now < end {
                self.now += 1_000;
                let due: Vec<_> = {
                    let (due, rest) = std::mem::take(&mut self.queue)
                        .into_iter()
                        .partition(|m| m.0 <= self.now);
                    self.queue = rest;
                    due
                };
                for (_, to, from, msg) in due {
                    let received_at = self.local(to);
                    self.input(
                        to,
                        Input::PeerMessage {
                            from: PeerId(100 + from as u64),
                            msg,
                            received_at,
                        },
                    );
                }
                for i in 0..self.engines.len() {
                    let due = self.engines[i]
                        .as_ref()
                        .and_then(|e| e.poll_timeout())
                        .is_some_and(|t| t <= self.local(i));
                    if due {
                        self.input(i, Input::Tick);
                    }
                }
            }
        }
        fn leave(&mut self, i: usize) {
            self.engines[i] = None;
            for j in 0..self.engines.len() {
                if j != i {
                    self.input(j, Input::PeerLeft(PeerId(100 + i as u64)));
                }
            }
        }
        /// Peer `i` loads the film.
        fn load(&mut self, i: usize) {
            let film = Intent::Load {
                media_id: "film".into(),
            };
            self.input(i, Input::Intent(film));
        }
        fn engine(&self, i: usize) -> &Engine {
            self.engines[i].as_ref().unwrap()
        }
    }

    #[test]
    fn peers_agree_on_room_time_and_state() {
        let mut m = Mini::new(3);
        m.run_for(2_000_000);
        m.load(1);
        m.run_for(1_000_000);
        m.input(2, Input::Intent(Intent::Play));
        m.run_for(10_000_000);
        // The first to act founded the timeline.
        assert_eq!(m.engine(0).reference(), PeerId(101));
        let rooms: Vec<i64> = (0..3)
            .map(|i| m.engine(i).room_time(m.local(i)).unwrap().0)
            .collect();
        for r in &rooms {
            // Symmetric fixed delays: the estimate is exact up to the millisecond stepping.
            assert!((r - rooms[1]).abs() < 1_000, "room times {rooms:?}");
        }
        let s0 = m.engine(0).playback().cloned();
        assert!(s0.as_ref().is_some_and(|v| v.playback.playing));
        assert!((0..3).all(|i| m.engine(i).playback().cloned() == s0));
    }

    #[test]
    fn a_newcomer_loads_the_media_before_it_knows_the_room_time() {
        let mut m = Mini::new(2);
        // Peer 0 founds the room at once: peer 1 hears the state before it has the clock
        // samples (4, one per 100 ms) that room time needs.
        m.load(0);
        m.run_for(30_000);
        assert!(m.engine(1).room_time(m.local(1)).is_none());
        assert_eq!(
            m.commands[1],
            vec![PlayerCommand::Load {
                media_id: "film".into()
            }],
            "only the load: placing the player needs room time"
        );
        m.run_for(1_000_000);
        assert!(m.engine(1).room_time(m.local(1)).is_some());
        let loads = m.commands[1]
            .iter()
            .filter(|c| matches!(c, PlayerCommand::Load { .. }))
            .count();
        assert_eq!(loads, 1, "loaded once: {:?}", m.commands[1]);
    }

    /// Peer 1 pauses, seeks and plays to each position; each start as (local instant, media
    /// position). `grid`: what its player reported.
    fn starts_with_grid(grid: Option<FrameGrid>, seeks: &[i64]) -> Vec<(LocalTime, MediaTime)> {
        let mut m = Mini::new(2);
        m.run_for(1_000_000);
        m.load(0);
        m.run_for(500_000);
        if let Some(grid) = grid {
            m.input(1, Input::FrameGrid(grid));
        }
        let mut starts = Vec::new();
        for &seek_to in seeks {
            m.input(1, Input::Intent(Intent::Pause));
            m.run_for(300_000);
            m.input(1, Input::Intent(Intent::Seek(MediaTime(seek_to))));
            m.input(1, Input::Intent(Intent::Play));
            m.run_for(300_000);
            let v = m.engine(1).playback().unwrap().playback.clone();
            let map = m.engine(1).room_map(m.local(1)).unwrap();
            starts.push((map.to_local(v.anchor_room), v.anchor_media));
        }
        starts
    }

    #[test]
    fn a_start_lands_on_the_initiators_frame_grid() {
        let refresh_us = 1e6 / 60.0;
        let seeks = [0, 12_345_678, 600_003_001];
        // A refresh at an arbitrary instant of peer 1's clock (`Mini` starts it at -2081 s).
        let vsync = LocalTime(-2_081_000_000 + 123_456);
        let grid = FrameGrid {
            vsync,
            refresh_us,
            frame: MediaTime(0),
            frame_us: refresh_us,
        };
        let off = |x: f64| (x / refresh_us - (x / refresh_us).round()).abs() * refresh_us;
        for (start, from) in starts_with_grid(Some(grid), &seeks) {
            // The microsecond rounding of the room map may leave a microsecond or two.
            assert!(
                off((start - vsync).0 as f64) <= 2.0,
                "start {start:?} off the refreshes"
            );
            assert!(off(from.0 as f64) <= 1.0, "from {from:?} off the frames");
        }
        // A peer whose player reported no grid schedules as before: starts fall anywhere.
        let plain = starts_with_grid(None, &seeks);
        assert!(
            plain
                .iter()
                .any(|(start, _)| off((*start - vsync).0 as f64) > 100.0),
            "{plain:?}"
        );
    }

    /// Peer 0 loads and plays; peer 1's player reports it is ready and joins the playing room
    /// by a seek, whose frame (one that begins 9.5 ms before the target) it shows `measured`
    /// after asking, or never for `None`; then peer 0 seeks. How far ahead peer 0 schedules
    /// that seek's start.
    fn seek_lead(measured: Option<Span>) -> Span {
        let mut m = Mini::new(2);
        m.run_for(1_000_000);
        m.load(0);
        m.input(0, Input::Intent(Intent::Play));
        m.run_for(2_000_000);
        let ready = Observation {
            media_time: MediaTime(0),
            presented_at: m.local(1),
        };
        m.input(1, Input::Observation(ready));
        let seek = m.commands[1].iter().find_map(|c| match c {
            PlayerCommand::SeekTo(to) => Some(*to),
            _ => None,
        });
        let to = seek.expect("peer 1 joins the playing room by a seek");
        if let Some(took) = measured {
            m.run_for(took.0);
            // As Chromium shows it: the frame the target falls in, which begins before it.
            let landed = Observation {
                media_time: to - Span::from_micros(9_500),
                presented_at: m.local(1),
            };
            m.input(1, Input::Observation(landed));
        }
        // Hellos carry it (every 2 s on the unreliable channel).
        m.run_for(3_000_000);
        m.input(
            0,
            Input::Intent(Intent::Seek(MediaTime::from_secs_f64(30.0))),
        );
        let v = m.engine(0).playback().unwrap().playback.clone();
        let map = m.engine(0).room_map(m.local(0)).unwrap();
        map.to_local(v.anchor_room) - m.local(0)
    }

    #[test]
    fn a_seek_is_planned_with_what_a_peer_measured_seeks_take() {
        // Neither measured a seek: both plan with the guess, whose margin is 0.52 s.
        let guessed = seek_lead(None);
        // Peer 1's seek took 200 ms: the margin is 370 ms (its mean, three deviations of a
        // quarter of it, and 20 ms), for peer 0 too, which never measured one.
        let told = seek_lead(Some(Span::from_millis(200)));
        let saved = guessed - told;
        assert!(
            (Span::from_millis(140)..=Span::from_millis(160)).contains(&saved),
            "guessed {guessed:?}, told {told:?}"
        );
        assert!(told >= Span::from_millis(370), "told {told:?}");
        // A quick one (60 ms) is not trusted below the floor: one seek says little of the next.
        let quick = seek_lead(Some(Span::from_millis(60)));
        let saved = guessed - quick;
        assert!(
            (Span::from_millis(260)..=Span::from_millis(280)).contains(&saved),
            "guessed {guessed:?}, quick {quick:?}"
        );
        assert!(quick >= Span::from_millis(250), "quick {quick:?}");
    }

    #[test]
    fn reference_leaving_keeps_room_time_continuous() {
        let mut m = Mini::new(3);
        m.run_for(1_000_000);
        m.load(0);
        m.run_for(5_000_000);
        assert_eq!(m.engine(2).reference(), PeerId(100));
        let before: Vec<i64> = (1..3)
            .map(|i| m.engine(i).room_time(m.local(i)).unwrap().0)
            .collect();
        m.leave(0);
        for i in 1..3 {
            let after = m.engine(i).room_time(m.local(i)).unwrap().0;
            assert!(
                (after - before[i - 1]).abs() < 1_000,
                "peer {i} jumped by {} us",
                after - before[i - 1]
            );
        }
        m.run_for(3_000_000);
        let refs: Vec<PeerId> = (1..3).map(|i| m.engine(i).reference()).collect();
        assert_eq!(refs[0], refs[1]);
        let r1 = m.engine(1).room_time(m.local(1)).unwrap().0;
        let r2 = m.engine(2).room_time(m.local(2)).unwrap().0;
        assert!((r1 - r2).abs() < 1_000, "{r1} vs {r2}");
        // Still on the old timeline: 3 s later, 3 s more room time.
        assert!(
            (r1 - before[0] - 3_000_000).abs() < 2_000,
            "{}",
            r1 - before[0]
        );
    }

    /// Values a hostile or broken peer might send: extremes and nonsense as often as not.
    trait Wild {
        fn i64(&mut self) -> i64;
        fn f64(&mut self) -> f64;
    }

    impl Wild for Lcg {
        fn i64(&mut self) -> i64 {
            match self.next() % 6 {
                0 => i64::MAX,
                1 => i64::MIN,
                2 => -(self.next() as i64),
                3 => 0,
                _ => self.next() as i64,
            }
        }
        fn f64(&mut self) -> f64 {
            match self.next() % 8 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -1.0,
                4 => 0.0,
                5 => 1e300,
                _ => (self.next() % 4000) as f64 / 100.0,
            }
        }
    }

    fn arbitrary(rng: &mut Lcg) -> WireMessage {
        let stamp = Stamp {
            wall: RoomTime(rng.i64()),
            counter: rng.next() as u32,
            peer: PeerId(rng.next()),
        };
        let playback = Playback {
            media: if rng.next() % 5 == 0 {
                None
            } else {
                Some("x".repeat((rng.next() % 3000) as usize))
            },
            playing: rng.next() % 2 == 0,
            rate: rng.f64(),
            anchor_media: MediaTime(rng.i64()),
            anchor_room: RoomTime(rng.i64()),
            lead_in_rate: rng.f64(),
            hold: if rng.next() % 2 == 0 {
                None
            } else {
                Some(PeerId(rng.next()))
            },
        };
        let body = match rng.next() % 4 {
            0 => Body::Ping {
                seq: rng.next() as u32,
                t1: LocalTime(rng.i64()),
            },
            1 => Body::Pong {
                seq: rng.next() as u32,
                t1: LocalTime(rng.i64()),
                t2: LocalTime(rng.i64()),
                t3: LocalTime(rng.i64()),
            },
            2 => Body::Hello(Hello {
                rank: if rng.next() % 2 == 0 {
                    None
                } else {
                    Some(rng.next())
                },
                timebase: Some(Timebase {
                    reference: PeerId(rng.next()),
                    base: Span(rng.i64()),
                }),
                prep: Span(rng.i64()),
                seek: (rng.next() % 2 == 0).then(|| Span(rng.i64())),
                buffering: rng.next() % 2 == 0,
                error: Some(Span(rng.i64())),
                frame_grid: (rng.next() % 2 == 0).then(|| GridSide {
                    state: stamp,
                    offset: Span(rng.i64() % 200_000),
                }),
                state: Some(Versioned { stamp, playback }),
            }),
            _ => Body::State(Versioned { stamp, playback }),
        };
        WireMessage {
            version: if rng.next() % 4 == 0 {
                rng.next() as u16
            } else {
                PROTOCOL_VERSION
            },
            body,
        }
    }

    /// Whatever a peer sends, nothing panics, and a message with an impossible value never
    /// changes the playback state; every refusal is counted.
    #[test]
    fn arbitrary_messages_never_panic_nor_move_the_state() {
        let mut m = Mini::new(2);
        m.run_for(1_000_000);
        m.load(0);
        m.input(0, Input::Intent(Intent::Play));
        m.run_for(5_000_000);
        let mut rng = Lcg(42);
        for _ in 0..20_000 {
            let before = m.engine(0).playback().cloned();
            let refused_before = {
                let s = m.engine(0).stats();
                s.rejected_version + s.rejected_invalid + s.rejected_future + s.unmatched_pongs
            };
            let msg = arbitrary(&mut rng);
            let valid = msg.validate().is_ok();
            let received_at = LocalTime(rng.i64());
            m.input(
                0,
                Input::PeerMessage {
                    from: PeerId(101),
                    msg,
                    received_at,
                },
            );
            let s = m.engine(0).stats();
            let refused =
                s.rejected_version + s.rejected_invalid + s.rejected_future + s.unmatched_pongs;
            if !valid {
                assert_eq!(m.engine(0).playback().cloned(), before);
                assert_eq!(refused, refused_before + 1);
            }
            // Observations and intents with garbage values are refused too.
            let obs = Observation {
                media_time: MediaTime(rng.i64()),
                presented_at: LocalTime(rng.i64()),
            };
            m.input(0, Input::Observation(obs));
            m.input(0, Input::Intent(Intent::SetRate(rng.f64())));
            m.input(0, Input::Intent(Intent::Seek(MediaTime(rng.i64()))));
        }
        let s = m.engine(0).stats();
        assert!(s.rejected_version > 0 && s.rejected_invalid > 0, "{s:?}");
        assert!(
            s.rejected_observations > 0 && s.intents_refused > 0,
            "{s:?}"
        );

        // A well-formed state from an hour in the future would win every merge forever.
        let mut v = m.engine(0).playback().cloned().unwrap();
        let later = m.engine(0).room_time(m.local(0)).unwrap() + Span::from_secs(3600);
        v.stamp.wall = later;
        v.playback.anchor_room = later;
        let before = m.engine(0).playback().cloned();
        let future = m.engine(0).stats().rejected_future;
        let msg = WireMessage::new(Body::State(v));
        let received_at = m.local(0);
        m.input(
            0,
            Input::PeerMessage {
                from: PeerId(101),
                msg,
                received_at,
            },
        );
        assert_eq!(m.engine(0).playback().cloned(), before);
        assert_eq!(m.engine(0).stats().rejected_future, future + 1);
        // The engine still works.
        assert!(m.engine(0).poll_timeout().is_some());
    }
}
