//! The discrete-event world: engines, clocks, players and links, driven by one seeded queue.
//!
//! Everything happens at integer microseconds of true time, in (time, sequence) order, so a
//! seed reproduces a run exactly. Each peer has a clock with an offset (up to hours) and a
//! skew; its engine only ever sees that clock. The world measures what the engines cannot:
//! every viewer's true media position at the same true instant (with a display model, the
//! position of the frame each viewer has on screen).
//!
//! This file holds the world's state and its event loop; the rest is by job:
//!
//! - `scenario`: what defines a run ([`Scenario`], [`Action`], [`ClockModel`]).
//! - `events`: what the agenda (`crate::agenda`) holds, and the timers that tell live wakes
//!   from stale ones.
//! - `adapter`: each page's glue between its engine and its player, as the browser's.
//! - `network`: messages between pages over their links, and partitions.
//! - `script`: users acting, pages joining and leaving, stalls.
//! - `measure`: what the engines cannot see, measured into an [`Outcome`] (in `outcome`).

mod adapter;
mod events;
mod measure;
pub(crate) mod network;
mod outcome;
mod scenario;
mod script;

pub use measure::IN_SYNC_MS;
pub use outcome::{OffsetSample, Outcome, RoomSample};
pub use scenario::{Action, ClockModel, Hostile, Scenario, StallSpec};

use crate::agenda::Agenda;
use crate::net::Link;
use crate::player::{CadenceMode, Player, PlayerSpec, Renderer};
use crate::rng::Rng;
use events::{Delivery, Ev, Timer};
use insieme::sync::browser_kind::BrowserKind;
use insieme::sync::start_lead::PendingStart;
use insieme::sync::{Engine, Input, LocalTime, PeerId, Stamp, StartLead};
use measure::Handover;
use std::collections::BTreeSet;

/// Sampling period of the offset metric.
const SAMPLE_US: i64 = 10_000;
/// How long past the end of a run what was under way may take to land before the engines'
/// states are compared: a few round trips on the slowest links, and a hold's release.
const SETTLE_US: i64 = 2_000_000;

/// A page open on a slot: its engine, its player, and what the glue between them keeps.
struct Node {
    id: PeerId,
    gen: u64,
    engine: Engine,
    player: Player,
    joined_at: i64,
    engine_timer: Timer,
    player_timer: Timer,
    /// How early the adapter calls `play()`, learned from this player's measured starts.
    start_lead: StartLead,
    /// The instant a `PlayAt` asked the media to move at, while its `play()` call is ahead
    /// (queued on `start_timer`)...
    start_call: Option<LocalTime>,
    start_timer: Timer,
    /// ...and once `play()` was called, until a frame shows the media moving.
    start: Option<PendingStart>,
    connected: BTreeSet<usize>,
    included: bool,
    /// Buffering as last reported to the engine.
    buffering: bool,
}

/// A device: its clock and player keep across the pages opened on it, one at a time.
struct Slot {
    clock: ClockModel,
    player: PlayerSpec,
    /// The browser as the app's glue tells it (Chromium's rules where the scenario names none).
    browser: BrowserKind,
    rng: Rng,
    gen: u64,
    node: Option<Node>,
}

/// A running simulation.
pub struct World {
    sc: Scenario,
    /// `INSIEME_SIM_TRACE` is set: print commands, events and steady seeks (read once, not per
    /// engine input).
    trace: bool,
    now: i64,
    queue: Agenda<Ev>,
    rng: Rng,
    slots: Vec<Slot>,
    links: Vec<Vec<Link>>,
    link_rng: Rng,
    partition: Option<BTreeSet<usize>>,
    /// Reliable messages across the partition, sent when it heals.
    held: Vec<Delivery>,
    /// Links between pages that joined on opposite sides of the partition, (joiner, its
    /// generation, other, its generation): they open when it heals.
    held_joins: Vec<(usize, u64, usize, u64)>,
    /// Per slot, until when (true µs) its page is starved of CPU.
    starved_until: Vec<i64>,
    /// The pages present in the order the signaling endpoint admitted them, oldest first:
    /// (slot, generation).
    admitted: Vec<(usize, u64)>,
    // metrics
    peers_seen: usize,
    group_events: Vec<i64>,
    seeks: Vec<(i64, usize, i64)>,
    pending: Option<i64>,
    pending_after: Option<Stamp>,
    lead_stamp: Option<Stamp>,
    converged_once: bool,
    handover: Option<Handover>,
    out: Outcome,
    join_times: Vec<(usize, u64, i64)>,
}

impl World {
    pub fn new(sc: Scenario) -> World {
        let mut rng = Rng::new(sc.seed);
        let mut slots = Vec::new();
        for i in 0..sc.slots {
            let mut r = rng.fork(i as u64);
            let clock = ClockModel {
                offset_us: r.range(-sc.clock_offset_s, sc.clock_offset_s) * 1e6,
                skew: r.range(-sc.skew_ppm, sc.skew_ppm) * 1e-6,
            };
            let fps = sc.fps[r.below(sc.fps.len() as u64) as usize];
            let browser = sc.browsers.get(i).copied();
            let model = browser.map(|b| b.model());
            let start_ms = model.map_or(sc.start_latency_ms, |m| m.start_latency_ms);
            let tau_ms = model.map_or(sc.rate_tau_ms, |m| m.rate_response_ms);
            let player = PlayerSpec {
                fps,
                first_frame_s: sc.first_frame_ms / 1e3,
                seek_latency_us: r.range(sc.seek_latency_ms.0, sc.seek_latency_ms.1) * 1e3,
                seek_variation: 0.2,
                start_latency_us: r.range(start_ms.0, start_ms.1) * 1e3,
                start_variation_us: 5_000.0,
                rate_tau_us: r.range(tau_ms.0, tau_ms.1) * 1e3,
                load_latency_us: 400_000.0,
                obs_noise_us: 1_000.0,
                paused_report_us: 250_000.0,
                display: sc.display,
                renderer: Renderer::Cadence {
                    estimator: CadenceMode::Classic,
                },
                timer_us: 1.0,
                media_rate_error_ppm: sc.media_rate_error_ppm.get(i).copied().unwrap_or(0.0),
                clock_readings: sc.clock_readings,
            };
            let player = model.map_or(player, |m| m.player(player));
            slots.push(Slot {
                clock,
                player,
                browser: browser
                    .filter(|_| sc.browser_rules)
                    .map_or(BrowserKind::Other, |b| b.kind()),
                rng: r,
                gen: 0,
                node: None,
            });
        }
        let mut link_rng = rng.fork(1_000_001);
        let n = sc.slots;
        let links = network::links(&sc.link, n, &mut link_rng);
        let mut w = World {
            trace: std::env::var_os("INSIEME_SIM_TRACE").is_some(),
            now: 0,
            queue: Agenda::new(),
            rng,
            slots,
            links,
            link_rng,
            partition: None,
            held: Vec::new(),
            held_joins: Vec::new(),
            starved_until: vec![0; n],
            admitted: Vec::new(),
            peers_seen: 0,
            group_events: Vec::new(),
            seeks: Vec::new(),
            pending: None,
            pending_after: None,
            lead_stamp: None,
            converged_once: false,
            handover: None,
            out: Outcome {
                name: sc.name.to_string(),
                clocks_read: sc.clock_readings.is_some() || !sc.browsers.is_empty(),
                rate_changes_by_slot: vec![(0, 0.0); n],
                true_offset_by_slot: vec![(0.0, 0); n],
                ..Outcome::default()
            },
            join_times: Vec::new(),
            sc,
        };
        let acts: Vec<i64> = w.sc.script.iter().map(|(t, _)| (t * 1e6) as i64).collect();
        for (i, t) in acts.into_iter().enumerate() {
            w.push(t, Ev::Act(i));
        }
        w.push(SAMPLE_US, Ev::Sample);
        w
    }

    fn push(&mut self, t: i64, ev: Ev) {
        self.queue.push(t.max(self.now), ev);
    }

    /// Runs the whole scenario and returns its measurements.
    pub fn run(mut self) -> Outcome {
        let end = (self.sc.duration_s * 1e6) as i64;
        self.run_until(end, |_| true);
        self.measure();
        self.out.final_agree = self.settle(end + SETTLE_US);
        self.out
    }

    /// Handles queued events up to `until`, those `keep` refuses dropped.
    fn run_until(&mut self, until: i64, keep: impl Fn(&Ev) -> bool) {
        while let Some((at, ev)) = self.queue.pop_due(until) {
            if keep(&ev) {
                self.now = at;
                self.handle(ev);
            }
        }
    }

    /// Whether every engine present holds the same state once what was under way at the end
    /// has landed: no one acts or begins to stall any more, while messages in flight, timers
    /// and stalls already begun go on, until the states agree or `until`. A run that ends
    /// while a hold is being released would otherwise count as diverged.
    fn settle(&mut self, until: i64) -> bool {
        loop {
            if self.states_agree() {
                return true;
            }
            let Some(next) = self.queue.next_at().filter(|t| *t <= until) else {
                return false;
            };
            self.run_until(next, |ev| {
                !matches!(ev, Ev::Act(_) | Ev::Sample | Ev::StallStart { .. })
            });
        }
    }

    fn states_agree(&self) -> bool {
        let states: Vec<_> = self
            .honest()
            .map(|(_, n)| n.engine.playback().cloned())
            .collect();
        states.windows(2).all(|w| w[0] == w[1])
    }

    fn alive(&self, slot: usize, gen: u64) -> bool {
        self.slots[slot].node.as_ref().is_some_and(|n| n.gen == gen)
    }

    fn present(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (i, n)))
    }

    /// The pages present but the hostile one: those measured.
    fn honest(&self) -> impl Iterator<Item = (usize, &Node)> {
        let hostile = self.sc.hostile.map(|h| h.slot);
        self.present().filter(move |(i, _)| Some(*i) != hostile)
    }

    /// Whether the wake queued with `token` for the node `gen` on `slot` is still live on its
    /// `timer`; if so, it is spent.
    fn fire(
        &mut self,
        slot: usize,
        gen: u64,
        token: u64,
        timer: impl FnOnce(&mut Node) -> &mut Timer,
    ) -> bool {
        match self.slots[slot].node.as_mut() {
            Some(node) if node.gen == gen => timer(node).fire(token),
            _ => false,
        }
    }

    /// Serves one event, at `self.now`.
    fn handle(&mut self, ev: Ev) {
        if let Some(slot) = ev.page() {
            let until = self.starved_until[slot];
            if self.now < until {
                // Handled once the page runs again, after what waited before it.
                self.push(until, ev);
                return;
            }
        }
        match ev {
            Ev::Deliver(Delivery {
                to,
                to_gen,
                from,
                from_gen,
                msg,
            }) => {
                if self.alive(to, to_gen) && self.alive(from, from_gen) {
                    let from_id = self.slots[from].node.as_ref().map(|n| n.id).unwrap();
                    let received_at = self.slots[to].clock.local(self.now as f64);
                    self.drive(
                        to,
                        Input::PeerMessage {
                            from: from_id,
                            msg,
                            received_at,
                        },
                    );
                }
            }
            Ev::Joined {
                to,
                to_gen,
                who,
                who_gen,
            } => {
                if self.alive(to, to_gen) && self.alive(who, who_gen) {
                    let id = self.slots[who].node.as_ref().unwrap().id;
                    self.slots[to].node.as_mut().unwrap().connected.insert(who);
                    self.drive(to, Input::PeerJoined(id));
                }
            }
            Ev::Left { to, to_gen, who } => {
                if self.alive(to, to_gen) {
                    self.drive(to, Input::PeerLeft(who));
                }
            }
            Ev::EngineWake { slot, gen, token } => {
                if self.fire(slot, gen, token, |n| &mut n.engine_timer) {
                    self.drive(slot, Input::Tick);
                }
            }
            Ev::PlayerWake { slot, gen, token } => {
                if self.fire(slot, gen, token, |n| &mut n.player_timer) {
                    self.wake_player(slot);
                }
            }
            Ev::PlayCall { slot, gen, token } => {
                if self.fire(slot, gen, token, |n| &mut n.start_timer) {
                    self.call_play(slot);
                }
            }
            Ev::Report { slot, gen, report } => {
                if self.alive(slot, gen) {
                    self.drive(slot, report);
                }
            }
            Ev::Act(i) => {
                let (_, action) = self.sc.script[i].clone();
                if let Some(until) = action.page().map(|s| self.starved_until[s]) {
                    if self.now < until {
                        // The click waits behind whatever the starved page has to handle.
                        self.push(until, Ev::Act(i));
                        return;
                    }
                }
                self.act(action);
            }
            Ev::Order { slot, gen, order } => {
                if self.alive(slot, gen) {
                    self.drive(slot, Input::Seniority(order));
                }
            }
            Ev::Sample => {
                self.sample();
                self.push(self.now + SAMPLE_US, Ev::Sample);
            }
            Ev::StallStart { slot, gen } => self.stall_start(slot, gen),
            Ev::StallEnd { slot, gen } => self.stall_end(slot, gen),
        }
    }
}
