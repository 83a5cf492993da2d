//! The discrete-event world: engines, clocks, players and links, driven by one seeded queue.
//!
//! Everything happens at integer microseconds of true time, in (time, sequence) order, so a
//! seed reproduces a run exactly. Each peer has a clock with an offset (up to hours) and a
//! skew; its engine only ever sees that clock. The world measures what the engines cannot:
//! every viewer's true media position at the same true instant (with a display model, the
//! position of the frame each viewer has on screen).
//!
//! Between each engine and its player sits what the browser's player adapter does of its own
//! (`src/web/player/`): it times starts with [`insieme::sync::start_lead`], calling `play()`
//! early by the lead it learned from its measured starts, so the engine's `PlayAt` moves the
//! media at the instant asked, as it ships.

use crate::net::{Link, LinkSpec};
use crate::player::{ClockReadingSpec, DisplaySpec, Player, PlayerSpec, Shown};
use crate::rng::Rng;
use insieme::sync::start_lead::{PendingStart, StartProgress};
use insieme::sync::{
    Channel, ClockReading, Config, Destination, Engine, Input, Intent, LocalTime, MediaTime,
    Observation, Output, PeerId, PlayerCommand, Stamp, StartLead, WireMessage,
};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// A device clock: `local = offset + (1 + skew) * true`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockModel {
    pub offset_us: f64,
    pub skew: f64,
}

impl ClockModel {
    pub fn local(&self, t: f64) -> LocalTime {
        LocalTime(self.local_us(t).floor() as i64)
    }
    /// The local instant of true time `t`, unrounded (µs).
    pub fn local_us(&self, t: f64) -> f64 {
        self.offset_us + t * (1.0 + self.skew)
    }
    pub fn to_true(&self, l: LocalTime) -> i64 {
        ((l.0 as f64 - self.offset_us) / (1.0 + self.skew)).ceil() as i64
    }
}

/// Random stalls of a player.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StallSpec {
    pub mean_interval_s: f64,
    pub min_s: f64,
    pub max_s: f64,
}

/// What the script can make happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A user on this slot acts.
    Intent {
        slot: usize,
        intent: Intent,
    },
    /// A peer opens the room page on this slot (a fresh engine and id).
    Join(usize),
    /// The peer on this slot closes the page.
    Leave(usize),
    /// Whoever is the reference right now leaves.
    LeaveReference,
    /// The network splits: the listed slots on one side, everyone else on the other.
    Partition(Vec<usize>),
    Heal,
}

/// Everything that defines a run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub seed: u64,
    /// Peer slots (devices); each keeps its clock and player across rejoins.
    pub slots: usize,
    pub duration_s: f64,
    pub link: LinkSpec,
    pub skew_ppm: f64,
    pub clock_offset_s: f64,
    pub fps: Vec<f64>,
    /// Media time of every video's first frame, ms ([`PlayerSpec::first_frame_s`]).
    pub first_frame_ms: f64,
    pub seek_latency_ms: (f64, f64),
    pub start_latency_ms: (f64, f64),
    pub rate_tau_ms: (f64, f64),
    pub stalls: Option<StallSpec>,
    /// Every player presents on a display like this one (one machine: one vsync phase);
    /// `None`: continuous presentation.
    pub display: Option<DisplaySpec>,
    /// Tell each engine its player's presentation step ([`Input::PresentationStep`]) when its
    /// node starts, as the browser glue does; off, the engine assumes continuous presentation.
    pub tell_presentation_step: bool,
    /// With the step, also tell where frames fall on its grid ([`Input::PresentationPhase`],
    /// computed from the display and the slot's clock by [`PlayerSpec::frame_grid`]),
    /// where that is well defined. On by default; off only to compare.
    pub tell_presentation_phase: bool,
    /// Per slot (missing: 0), how far its player's media clock runs off the commanded rate,
    /// ppm ([`PlayerSpec::media_rate_error_ppm`]).
    pub media_rate_error_ppm: Vec<f64>,
    /// Every page reads its player's media clock at each presented frame and tells its engine
    /// ([`Input::MediaClock`], just before the frame's observation), as the browser glue does;
    /// `None`: engines see frames only.
    pub clock_readings: Option<ClockReadingSpec>,
    pub engine: Config,
    pub script: Vec<(f64, Action)>,
}

/// Measurements of a run.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub name: String,
    /// Distinct peers that took part.
    pub peers: usize,
    /// Inter-viewer offsets (largest pairwise difference), ms, one per 10 ms sample.
    pub offsets_ms: Vec<f64>,
    /// When each of those samples was taken, true seconds.
    pub offsets_at_s: Vec<f64>,
    /// At the same samples, the spread of the viewers' media clocks themselves, ms: what a
    /// display shows only in whole frames, and what steering by the clock readings holds to a
    /// fraction of one.
    pub clock_offsets_ms: Vec<f64>,
    /// Whether the engines were told their media clocks' readings.
    pub clocks_read: bool,
    /// For each intent (or automatic state change), ms until every viewer was within 20 ms
    /// of the others and of the state; `None` if never.
    pub converge_ms: Vec<Option<f64>>,
    pub steady_hard_seeks: u64,
    pub all_seeks: u64,
    pub max_rate_dev: f64,
    /// Largest jump of a viewer across a reference handover, ms (handover scripts only).
    pub jump_ms: Option<f64>,
    /// Longest time a joiner took to first be in sync, ms.
    pub join_ms: Option<f64>,
    /// Whether every engine holds the same state at the end.
    pub final_agree: bool,
    /// Messages refused by engines (there should be none from honest peers).
    pub rejected: u64,
    /// Buffering holds requested by engines.
    pub holds: u64,
    /// Largest inter-viewer offset over the last second of the run, ms.
    pub final_spread_ms: f64,
    /// Playback rate changes all engines asked for, and the seconds engines ran in all: a
    /// controller that hunts changes the rate many times a minute.
    pub rate_changes: u64,
    /// Fast corrections of the media clock all engines began (steering by clock readings).
    pub fast_corrections: u64,
    pub viewer_s: f64,
    /// The same per slot: (rate changes, seconds present), over all its nodes.
    pub rate_changes_by_slot: Vec<(u64, f64)>,
}

impl Outcome {
    pub fn percentile(&self, p: f64) -> f64 {
        self.percentiles([p])[0]
    }
    /// Several percentiles of the offsets at once, sorting them once.
    pub fn percentiles<const N: usize>(&self, ps: [f64; N]) -> [f64; N] {
        if self.offsets_ms.is_empty() {
            return [f64::NAN; N];
        }
        let mut v = self.offsets_ms.clone();
        v.sort_by(f64::total_cmp);
        ps.map(|p| nearest_rank(&v, p))
    }
    /// Rate changes per viewer per minute of presence.
    pub fn rate_changes_per_min(&self) -> f64 {
        per_minute(self.rate_changes, self.viewer_s)
    }
    /// Fast clock corrections per viewer per minute of presence.
    pub fn fast_corrections_per_min(&self) -> f64 {
        per_minute(self.fast_corrections, self.viewer_s)
    }
    /// Rate changes per minute of presence of the viewers on one slot.
    pub fn slot_rate_changes_per_min(&self, slot: usize) -> f64 {
        self.rate_changes_by_slot
            .get(slot)
            .map_or(0.0, |&(n, s)| per_minute(n, s))
    }
    /// Share of samples (0–1) in which viewers were more than `ms` apart.
    pub fn share_over(&self, ms: f64) -> f64 {
        self.share_over_when(ms, |_| true)
    }
    /// The same, over the samples taken at true times (s) for which `when` holds.
    pub fn share_over_when(&self, ms: f64, when: impl Fn(f64) -> bool) -> f64 {
        let (mut n, mut over) = (0usize, 0usize);
        for (x, t) in self.offsets_ms.iter().zip(&self.offsets_at_s) {
            if when(*t) {
                n += 1;
                over += usize::from(*x > ms);
            }
        }
        if n == 0 {
            0.0
        } else {
            over as f64 / n as f64
        }
    }
    /// Percentile `p` of the media clocks' spread over the samples taken at true times (s) for
    /// which `when` holds; NaN without such samples.
    pub fn clock_percentile_when(&self, p: f64, when: impl Fn(f64) -> bool) -> f64 {
        let mut v: Vec<f64> = self
            .clock_offsets_ms
            .iter()
            .zip(&self.offsets_at_s)
            .filter(|(_, t)| when(**t))
            .map(|(x, _)| *x)
            .collect();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(f64::total_cmp);
        nearest_rank(&v, p)
    }
    pub fn max_offset(&self) -> f64 {
        self.offsets_ms.iter().copied().fold(f64::NAN, f64::max)
    }
    /// The longest convergence; a change that never converged counts as the rest of the run.
    pub fn worst_converge_ms(&self, run_ms: f64) -> f64 {
        self.converge_ms
            .iter()
            .map(|c| c.unwrap_or(run_ms))
            .fold(0.0, f64::max)
    }
}

/// Convergence tolerance used for "in sync" (from the issue).
pub const IN_SYNC_MS: f64 = 20.0;
/// Seeks within this long after an intent or stall are attributed to it.
const CAUSE_WINDOW_US: i64 = 5_000_000;
/// A newcomer's seeks in its first moments are its join, not drift.
const JOIN_WINDOW_US: i64 = 10_000_000;
/// Sampling period of the offset metric.
const SAMPLE_US: i64 = 10_000;
/// How long past the end of a run what was under way may take to land before the engines'
/// states are compared: a few round trips on the slowest links, and a hold's release.
const SETTLE_US: i64 = 2_000_000;
/// How long after a handover viewers are watched for a jump.
const HANDOVER_WINDOW_US: i64 = 5_000_000;

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

/// When a node's engine or player next wants waking, and the token of the one queued wake
/// that is still live: re-arming for another instant, or serving it early, makes the queued
/// one stale.
#[derive(Default)]
struct Timer {
    token: u64,
    at: Option<i64>,
}

impl Timer {
    /// Sets the timer for `t`: the token to queue its wake with, or `None` if already set so.
    fn arm(&mut self, t: i64) -> Option<u64> {
        if self.at == Some(t) {
            return None;
        }
        self.token += 1;
        self.at = Some(t);
        Some(self.token)
    }

    /// Whether the queued wake with `token` is the live one; if so, it is spent.
    fn fire(&mut self, token: u64) -> bool {
        let live = self.token == token;
        if live {
            self.at = None;
        }
        live
    }

    /// The wake is served now, ahead of its queued event, which goes stale.
    fn serve_early(&mut self) {
        self.token += 1;
        self.at = None;
    }

    /// The wake is called off: its queued event goes stale.
    fn cancel(&mut self) {
        self.serve_early();
    }
}

struct Slot {
    clock: ClockModel,
    player: PlayerSpec,
    rng: Rng,
    gen: u64,
    node: Option<Node>,
}

/// A message on its way from one node to another, each named by slot and generation.
#[derive(Debug)]
struct Delivery {
    to: usize,
    to_gen: u64,
    from: usize,
    from_gen: u64,
    msg: WireMessage,
}

#[derive(Debug)]
enum Ev {
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

/// A queued event, ordered by (time, sequence) alone.
struct Queued {
    at: i64,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Handover {
    t0: i64,
    speed: f64,
    base: Vec<(usize, f64)>,
}

/// A running simulation.
pub struct World {
    sc: Scenario,
    /// `INSIEME_SIM_TRACE` is set: print commands, events and steady seeks (read once, not per
    /// engine input).
    trace: bool,
    now: i64,
    seq: u64,
    queue: BinaryHeap<Reverse<Queued>>,
    rng: Rng,
    slots: Vec<Slot>,
    links: Vec<Vec<Link>>,
    link_rng: Rng,
    partition: Option<BTreeSet<usize>>,
    /// Reliable messages across the partition, sent when it heals.
    held: Vec<Delivery>,
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
            let player = PlayerSpec {
                fps,
                first_frame_s: sc.first_frame_ms / 1e3,
                seek_latency_us: r.range(sc.seek_latency_ms.0, sc.seek_latency_ms.1) * 1e3,
                seek_variation: 0.2,
                start_latency_us: r.range(sc.start_latency_ms.0, sc.start_latency_ms.1) * 1e3,
                start_variation_us: 5_000.0,
                rate_tau_us: r.range(sc.rate_tau_ms.0, sc.rate_tau_ms.1) * 1e3,
                load_latency_us: 400_000.0,
                obs_noise_us: 1_000.0,
                paused_report_us: 250_000.0,
                display: sc.display,
                media_rate_error_ppm: sc.media_rate_error_ppm.get(i).copied().unwrap_or(0.0),
                clock_readings: sc.clock_readings,
            };
            slots.push(Slot {
                clock,
                player,
                rng: r,
                gen: 0,
                node: None,
            });
        }
        let mut link_rng = rng.fork(1_000_001);
        let n = sc.slots;
        let mut links: Vec<Vec<Link>> = (0..n)
            .map(|_| {
                (0..n)
                    .map(|_| Link::pair(&sc.link, &mut link_rng).0)
                    .collect()
            })
            .collect();
        for a in 0..n {
            for b in (a + 1)..n {
                let (ab, ba) = Link::pair(&sc.link, &mut link_rng);
                links[a][b] = ab;
                links[b][a] = ba;
            }
        }
        let mut w = World {
            trace: std::env::var_os("INSIEME_SIM_TRACE").is_some(),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            rng,
            slots,
            links,
            link_rng,
            partition: None,
            held: Vec::new(),
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
                clocks_read: sc.clock_readings.is_some(),
                rate_changes_by_slot: vec![(0, 0.0); n],
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
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at: t.max(self.now),
            seq: self.seq,
            ev,
        }));
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
        while self.queue.peek().is_some_and(|q| q.0.at <= until) {
            let Some(Reverse(Queued { at, ev, .. })) = self.queue.pop() else {
                break;
            };
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
            let Some(next) = self.queue.peek().map(|q| q.0.at).filter(|t| *t <= until) else {
                return false;
            };
            self.run_until(next, |ev| {
                !matches!(ev, Ev::Act(_) | Ev::Sample | Ev::StallStart { .. })
            });
        }
    }

    fn states_agree(&self) -> bool {
        let states: Vec<_> = self
            .present()
            .map(|(_, n)| n.engine.playback().cloned())
            .collect();
        states.windows(2).all(|w| w[0] == w[1])
    }

    fn alive(&self, slot: usize, gen: u64) -> bool {
        self.slots[slot].node.as_ref().is_some_and(|n| n.gen == gen)
    }

    fn handle(&mut self, ev: Ev) {
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
                if self.alive(slot, gen)
                    && self.slots[slot]
                        .node
                        .as_mut()
                        .unwrap()
                        .engine_timer
                        .fire(token)
                {
                    self.drive(slot, Input::Tick);
                }
            }
            Ev::PlayerWake { slot, gen, token } => {
                if self.alive(slot, gen)
                    && self.slots[slot]
                        .node
                        .as_mut()
                        .unwrap()
                        .player_timer
                        .fire(token)
                {
                    self.wake_player(slot);
                }
            }
            Ev::PlayCall { slot, gen, token } => {
                if self.alive(slot, gen)
                    && self.slots[slot]
                        .node
                        .as_mut()
                        .unwrap()
                        .start_timer
                        .fire(token)
                {
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
                self.act(action);
            }
            Ev::Sample => {
                self.sample();
                self.push(self.now + SAMPLE_US, Ev::Sample);
            }
            Ev::StallStart { slot, gen } => {
                if !self.alive(slot, gen) {
                    return;
                }
                let spec = self
                    .sc
                    .stalls
                    .expect("stalls are only scheduled when specified");
                let node = self.slots[slot].node.as_mut().unwrap();
                if node.player.moving() {
                    node.player.set_stalled(self.now, true);
                    node.included = false;
                    self.group_events.push(self.now);
                    let d = self.slots[slot].rng.range(spec.min_s, spec.max_s);
                    self.push(self.now + (d * 1e6) as i64, Ev::StallEnd { slot, gen });
                    self.report_buffering(slot);
                    self.schedule_player(slot);
                } else {
                    self.schedule_stall(slot);
                }
            }
            Ev::StallEnd { slot, gen } => {
                if !self.alive(slot, gen) {
                    return;
                }
                self.slots[slot]
                    .node
                    .as_mut()
                    .unwrap()
                    .player
                    .set_stalled(self.now, false);
                self.group_events.push(self.now);
                self.report_buffering(slot);
                self.schedule_player(slot);
                self.schedule_stall(slot);
            }
        }
    }

    /// Serves the player's wake (its timer already spent).
    fn wake_player(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let shown = node.player.wake(self.now);
        self.show(slot, shown);
        self.report_buffering(slot);
        self.schedule_player(slot);
    }

    /// Tells the engine on `slot` when its player starts or stops buffering.
    fn report_buffering(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let buffering = node.player.is_buffering();
        if buffering != node.buffering {
            node.buffering = buffering;
            self.drive(slot, Input::Buffering(buffering));
        }
    }

    /// Presents the vsyncs due right now before a sample, so that a sample never sees one
    /// viewer past a vsync and another not yet (a one-frame split that no viewer shows).
    fn present_due_vsyncs(&mut self) {
        let now = self.now;
        let due: Vec<usize> = self
            .present()
            .filter(|(_, n)| n.player.spec.display().is_some() && n.player_timer.at == Some(now))
            .map(|(i, _)| i)
            .collect();
        for slot in due {
            if let Some(n) = self.slots[slot].node.as_mut() {
                n.player_timer.serve_early();
            }
            self.wake_player(slot);
        }
    }

    /// Counts what the engine on `slot` did while its node ran, from `joined_at` until `until`.
    fn tally(&mut self, slot: usize, engine: &Engine, joined_at: i64, until: i64) {
        let changes = engine.stats().controller.rate_changes;
        let secs = (until - joined_at).max(0) as f64 / 1e6;
        self.out.rejected += rejected(engine);
        self.out.holds += engine.stats().holds;
        self.out.rate_changes += changes;
        self.out.fast_corrections += engine.stats().controller.fast_corrections;
        self.out.viewer_s += secs;
        let by_slot = &mut self.out.rate_changes_by_slot[slot];
        by_slot.0 += changes;
        by_slot.1 += secs;
    }

    fn schedule_stall(&mut self, slot: usize) {
        if let Some(spec) = self.sc.stalls {
            let gen = self.slots[slot].gen;
            let d = self.slots[slot].rng.exp(spec.mean_interval_s);
            self.push(self.now + (d * 1e6) as i64, Ev::StallStart { slot, gen });
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Intent { slot, intent } => {
                let Some(node) = self.slots[slot].node.as_ref() else {
                    return;
                };
                let refused = node.engine.stats().intents_refused;
                self.group_events.push(self.now);
                self.drive(slot, Input::Intent(intent));
                let node = self.slots[slot].node.as_ref().unwrap();
                if node.engine.stats().intents_refused == refused {
                    // Converged means: on the state this intent made (or a later one). An
                    // intent superseded before it converged is not measured on its own.
                    if self.pending.is_some() {
                        self.out.converge_ms.pop();
                    }
                    self.pending = Some(self.now);
                    self.pending_after = node.engine.playback().map(|v| v.stamp);
                    self.out.converge_ms.push(None);
                }
            }
            Action::Join(slot) => self.join(slot),
            Action::Leave(slot) => self.leave(slot),
            Action::LeaveReference => {
                let now = self.now;
                // The reference as the first present peer sees it.
                let Some(r) = self.present().next().map(|(_, n)| n.engine.reference()) else {
                    return;
                };
                let Some((slot, node)) = self.present().find(|(_, n)| n.id == r) else {
                    return;
                };
                let clock = self.slots[slot].clock;
                let speed = (1.0 + clock.skew)
                    * node
                        .engine
                        .expected_speed(clock.local(now as f64))
                        .unwrap_or(0.0);
                let base = self
                    .present()
                    .filter(|(s, n)| *s != slot && n.included)
                    .map(|(s, n)| (s, n.player.pos_at(now) * 1e3))
                    .collect();
                self.handover = Some(Handover {
                    t0: now,
                    speed,
                    base,
                });
                self.out.jump_ms = Some(0.0);
                self.leave(slot);
            }
            Action::Partition(side) => {
                self.group_events.push(self.now);
                self.partition = Some(side.into_iter().collect());
            }
            Action::Heal => {
                self.group_events.push(self.now);
                self.partition = None;
                for d in std::mem::take(&mut self.held) {
                    let t = self.links[d.from][d.to].reliable(
                        &self.sc.link,
                        &mut self.link_rng,
                        self.now,
                    );
                    self.push(t, Ev::Deliver(d));
                }
            }
        }
    }

    fn present(&self) -> impl Iterator<Item = (usize, &Node)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (i, n)))
    }

    fn join(&mut self, slot: usize) {
        if self.slots[slot].node.is_some() {
            return;
        }
        let s = &mut self.slots[slot];
        s.gen += 1;
        let id = PeerId(self.rng.next_u64());
        let local = s.clock.local(self.now as f64);
        let prng = s.rng.fork(s.gen);
        s.node = Some(Node {
            id,
            gen: s.gen,
            engine: Engine::new(self.sc.engine.clone(), id, local),
            player: Player::new(s.player, 1.0 + s.clock.skew, prng, self.now),
            joined_at: self.now,
            engine_timer: Timer::default(),
            player_timer: Timer::default(),
            start_lead: StartLead::new(),
            start_call: None,
            start_timer: Timer::default(),
            start: None,
            connected: BTreeSet::new(),
            included: false,
            buffering: false,
        });
        self.peers_seen += 1;
        self.join_times.push((slot, s.gen, self.now));
        let gen = s.gen;
        let step = s.player.presentation_step();
        let clock = s.clock;
        let grid = s.player.frame_grid(self.now as f64, |t| clock.local_us(t));
        // Data channels open on both sides after an ICE/DTLS handshake of a few round trips.
        let others: Vec<(usize, u64)> = self
            .present()
            .filter(|(i, _)| *i != slot)
            .map(|(i, n)| (i, n.gen))
            .collect();
        for (o, og) in others {
            let setup = (4.0 * self.links[slot][o].base_us.max(self.links[o][slot].base_us)) as i64
                + 50_000;
            let t = self.now + setup;
            self.push(
                t,
                Ev::Joined {
                    to: o,
                    to_gen: og,
                    who: slot,
                    who_gen: gen,
                },
            );
            self.push(
                t,
                Ev::Joined {
                    to: slot,
                    to_gen: gen,
                    who: o,
                    who_gen: og,
                },
            );
        }
        if let (true, Some(step)) = (self.sc.tell_presentation_step, step) {
            self.drive(slot, Input::PresentationStep(step));
            if let (true, Some(grid)) = (self.sc.tell_presentation_phase, grid) {
                self.drive(slot, Input::FrameGrid(grid));
            }
        }
        self.drive(slot, Input::Tick);
        self.schedule_stall(slot);
    }

    fn leave(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.take() else {
            return;
        };
        self.tally(slot, &node.engine, node.joined_at, self.now);
        let others: Vec<(usize, u64)> = self.present().map(|(i, n)| (i, n.gen)).collect();
        for (o, og) in others {
            let t = self.now + self.links[slot][o].base_us as i64 + 20_000;
            self.push(
                t,
                Ev::Left {
                    to: o,
                    to_gen: og,
                    who: node.id,
                },
            );
            if let Some(n) = self.slots[o].node.as_mut() {
                n.connected.remove(&slot);
            }
        }
    }

    fn drive(&mut self, slot: usize, input: Input) {
        let now = self.now;
        let local = self.slots[slot].clock.local(now as f64);
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        node.engine.handle_input(local, input);
        let mut outs = Vec::new();
        while let Some(o) = node.engine.poll_output() {
            outs.push(o);
        }
        let trace = self.trace;
        for o in outs {
            if trace && !matches!(o, Output::Send(_)) {
                let n = self.slots[slot].node.as_ref().unwrap();
                let e = &n.engine;
                // The media clock's true error, beside what the engine believes it is.
                let clock_ms = e
                    .expected_position(local)
                    .map(|x| (n.player.pos_at(now) - x.as_secs_f64()) * 1e3);
                eprintln!(
                    "{:>10.3} s{slot} {:?} [rank {:?} tb {:?} room {:?} clock {:?} ms, engine {:?}]",
                    now as f64 / 1e6,
                    o,
                    e.rank(),
                    e.timebase(),
                    e.room_time(local),
                    clock_ms,
                    e.playback_error()
                );
            }
            match o {
                Output::Send(tx) => self.route(slot, tx.to, tx.channel, tx.msg),
                Output::Player(cmd) => self.command(slot, cmd),
                Output::Event(_) => {}
            }
        }
        // A command may have started a seek while playing.
        self.report_buffering(slot);
        let clock = self.slots[slot].clock;
        let node = self.slots[slot].node.as_mut().unwrap();
        if let Some(t) = node.engine.poll_timeout() {
            let t = clock.to_true(t).max(now + 100);
            if let Some(token) = node.engine_timer.arm(t) {
                let gen = node.gen;
                self.push(t, Ev::EngineWake { slot, gen, token });
            }
        }
    }

    fn route(&mut self, from: usize, to: Destination, channel: Channel, msg: WireMessage) {
        let node = self.slots[from].node.as_ref().unwrap();
        let from_gen = node.gen;
        let targets: Vec<usize> = match to {
            Destination::All => node.connected.iter().copied().collect(),
            Destination::One(id) => node
                .connected
                .iter()
                .copied()
                .filter(|s| self.slots[*s].node.as_ref().is_some_and(|n| n.id == id))
                .collect(),
        };
        for t in targets {
            let cut = self
                .partition
                .as_ref()
                .is_some_and(|side| side.contains(&from) != side.contains(&t));
            let d = Delivery {
                to: t,
                to_gen: self.slots[t].gen,
                from,
                from_gen,
                msg: msg.clone(),
            };
            let link = &mut self.links[from][t];
            let at = match (channel, cut) {
                (Channel::Unreliable, true) => None,
                (Channel::Reliable, true) => {
                    self.held.push(d);
                    continue;
                }
                (Channel::Unreliable, false) => {
                    link.unreliable(&self.sc.link, &mut self.link_rng, self.now)
                }
                (Channel::Reliable, false) => {
                    Some(link.reliable(&self.sc.link, &mut self.link_rng, self.now))
                }
            };
            if let Some(at) = at {
                self.push(at, Ev::Deliver(d));
            }
        }
    }

    /// Carries out an engine's command as the browser's player adapter does.
    fn command(&mut self, slot: usize, cmd: PlayerCommand) {
        let now = self.now;
        let clock = self.slots[slot].clock;
        let local = clock.local(now as f64);
        let node = self.slots[slot].node.as_mut().unwrap();
        match &cmd {
            PlayerCommand::SeekTo(to) => {
                self.seeks.push((now, slot, node.joined_at));
                // A start awaiting its first frame now starts from the target.
                if let Some(start) = node.start.as_mut() {
                    start.seeked(*to);
                }
            }
            PlayerCommand::SetRate(r) => {
                if let Some(base) = node.engine.expected_speed(local).filter(|b| *b > 0.0) {
                    self.out.max_rate_dev = self.out.max_rate_dev.max((r / base - 1.0).abs());
                }
            }
            PlayerCommand::Load { .. } | PlayerCommand::Pause => Self::cancel_start(node),
            PlayerCommand::PlayAt(at) => {
                // `play()` early by the learned lead: now if that has passed, else on a timer.
                Self::cancel_start(node);
                node.start_call = Some(*at);
                let call_at = clock.to_true(node.start_lead.call_at(*at));
                if call_at > now {
                    if let Some(token) = node.start_timer.arm(call_at) {
                        let gen = node.gen;
                        self.push(call_at, Ev::PlayCall { slot, gen, token });
                    }
                } else {
                    self.call_play(slot);
                }
                return;
            }
        }
        let shown = node.player.command(now, &cmd, None);
        self.show(slot, shown);
        self.schedule_player(slot);
    }

    /// A start called off (a pause, a load, a new start): neither its `play()` call nor its
    /// first frame is awaited.
    fn cancel_start(node: &mut Node) {
        node.start_timer.cancel();
        node.start_call = None;
        node.start = None;
    }

    /// The adapter calls `play()` now for the start asked for by `start_call`.
    fn call_play(&mut self, slot: usize) {
        let now = self.now;
        let local = self.slots[slot].clock.local(now as f64);
        let node = self.slots[slot].node.as_mut().unwrap();
        let Some(requested) = node.start_call.take() else {
            return;
        };
        let p = &node.player;
        node.start = Some(PendingStart::new(
            requested,
            local,
            MediaTime::from_secs_f64(p.pos_at(now)),
            p.playback_rate(),
            !p.is_seeking() && p.is_paused(),
        ));
        let shown = node
            .player
            .command(now, &PlayerCommand::PlayAt(local), Some(now));
        self.show(slot, shown);
        self.schedule_player(slot);
    }

    /// Reports what the player on `slot` just showed to its engine: each frame, preceded by the
    /// media clock read in the same callback where the page reads it.
    fn show(&mut self, slot: usize, shown: Vec<Shown>) {
        let now = self.now;
        let clock = self.slots[slot].clock;
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        let gen = node.gen;
        let trace = self.trace;
        let mut reports = Vec::new();
        for s in shown {
            if let Some(media_s) = node.player.read_clock(now) {
                reports.push(Input::MediaClock(ClockReading {
                    media_time: MediaTime::from_secs_f64(media_s),
                    read_at: clock.local(now as f64),
                }));
            }
            let at = s.at_true_us + node.player.noise();
            let media_time = MediaTime::from_secs_f64(s.media_s);
            let presented_at = clock.local(at);
            if let Some(start) = node.start {
                // Every frame the page sees is timed by requestVideoFrameCallback: precise.
                match start.on_frame(media_time, presented_at, node.player.moving()) {
                    StartProgress::Pending => {}
                    StartProgress::Lost => node.start = None,
                    StartProgress::Started(started_at) => {
                        node.start = None;
                        let learned = node.start_lead.learn_start(&start, started_at, true);
                        if trace {
                            eprintln!(
                                "{:>10.3} s{slot} started {:+.1} ms from the asked instant, \
                                 play() {:.1} ms ahead; learned {learned}, lead {:.1} ms",
                                now as f64 / 1e6,
                                (started_at - start.requested_at).as_millis_f64(),
                                (start.requested_at - start.called_at).as_millis_f64(),
                                node.start_lead.lead().as_millis_f64()
                            );
                        }
                    }
                }
            }
            reports.push(Input::Observation(Observation {
                media_time,
                presented_at,
            }));
        }
        for report in reports {
            self.push(now, Ev::Report { slot, gen, report });
        }
    }

    fn schedule_player(&mut self, slot: usize) {
        let now = self.now;
        let Some(node) = self.slots[slot].node.as_mut() else {
            return;
        };
        if let Some(t) = node.player.next_event() {
            let t = t.max(now + 1);
            if let Some(token) = node.player_timer.arm(t) {
                let gen = node.gen;
                self.push(t, Ev::PlayerWake { slot, gen, token });
            }
        }
    }

    fn sample(&mut self) {
        self.present_due_vsyncs();
        let now = self.now;
        let lead = self
            .present()
            .filter_map(|(_, n)| n.engine.playback().map(|v| v.stamp))
            .max();
        if lead != self.lead_stamp {
            self.lead_stamp = lead;
            if self.pending.is_none() && self.converged_once {
                // A state change nobody scripted (a buffering hold or release).
                self.pending = Some(now);
                self.pending_after = lead;
                self.out.converge_ms.push(None);
            }
        }
        struct View {
            slot: usize,
            pos_ms: f64,
            /// What the viewer shows (`pos_ms` without a display model).
            shown_ms: f64,
            ok: bool,
            established: bool,
            stalled: bool,
        }
        let mut views = Vec::new();
        for (slot, s) in self.slots.iter().enumerate() {
            let Some(n) = s.node.as_ref() else { continue };
            let local = s.clock.local(now as f64);
            let pos_ms = n.player.pos_at(now) * 1e3;
            let agrees = n.engine.playback().map(|v| v.stamp) == lead && lead.is_some();
            let near = n
                .engine
                .expected_position(local)
                .is_some_and(|e| (e.as_secs_f64() * 1e3 - pos_ms).abs() <= IN_SYNC_MS);
            let stalled = n.player.is_stalled();
            // Doing what the state says (moving or still), not merely near its position.
            let moving_ok = n
                .engine
                .expected_speed(local)
                .is_some_and(|v| (v > 0.0) == n.player.moving());
            let ok = n.player.loaded() && agrees && near && moving_ok && !stalled;
            views.push(View {
                slot,
                pos_ms,
                shown_ms: n.player.shown_at(now) * 1e3,
                ok,
                established: n.included || now - n.joined_at > JOIN_WINDOW_US,
                stalled,
            });
        }
        for v in &views {
            let n = self.slots[v.slot].node.as_mut().unwrap();
            if v.ok && !n.included {
                n.included = true;
                if let Some(j) = self
                    .join_times
                    .iter()
                    .find(|(s, g, _)| *s == v.slot && *g == n.gen)
                {
                    if j.2 > 0 {
                        let ms = (now - j.2) as f64 / 1e3;
                        self.out.join_ms = Some(self.out.join_ms.map_or(ms, |m: f64| m.max(ms)));
                    }
                }
            }
        }
        // Convergence after a change: the change has taken effect (its anchor passed) and
        // everyone established is in sync with the state and with each other.
        let in_effect = self.present().any(|(slot, n)| {
            let local = self.slots[slot].clock.local(now as f64);
            match (n.engine.playback(), n.engine.room_time(local)) {
                (Some(v), Some(r)) => Some(v.stamp) == lead && r >= v.playback.anchor_room,
                _ => false,
            }
        });
        let group: Vec<&View> = views
            .iter()
            .filter(|v| v.established && !v.stalled)
            .collect();
        if let Some(t0) = self.pending {
            let all_ok = in_effect
                && !group.is_empty()
                && group.iter().all(|v| v.ok)
                && lead >= self.pending_after;
            let spread = spread(group.iter().map(|v| v.pos_ms));
            if all_ok && spread <= IN_SYNC_MS {
                if let Some(last) = self.out.converge_ms.last_mut() {
                    *last = Some((now - t0) as f64 / 1e3);
                }
                self.pending = None;
                self.converged_once = true;
            }
        }
        if self.pending.is_none() && self.converged_once {
            let included: Vec<&View> = views
                .iter()
                .filter(|v| !v.stalled && self.slots[v.slot].node.as_ref().unwrap().included)
                .collect();
            if included.len() >= 2 {
                let shown = spread(included.iter().map(|v| v.shown_ms));
                self.out.offsets_ms.push(shown);
                self.out.offsets_at_s.push(now as f64 / 1e6);
                let clocks = spread(included.iter().map(|v| v.pos_ms));
                self.out.clock_offsets_ms.push(clocks);
            }
        }
        if let Some(h) = &self.handover {
            if now - h.t0 <= HANDOVER_WINDOW_US {
                for (slot, p0) in &h.base {
                    if let Some(n) = self.slots[*slot].node.as_ref() {
                        let expect = p0 + h.speed * (now - h.t0) as f64 / 1e3;
                        let dev = (n.player.pos_at(now) * 1e3 - expect).abs();
                        let j = self.out.jump_ms.get_or_insert(0.0);
                        *j = j.max(dev);
                    }
                }
            }
        }
    }

    /// Takes the run's measurements at its end.
    fn measure(&mut self) {
        let end = (self.sc.duration_s * 1e6) as i64;
        for slot in 0..self.slots.len() {
            if let Some(n) = self.slots[slot].node.take() {
                self.tally(slot, &n.engine, n.joined_at, end);
                self.slots[slot].node = Some(n);
            }
        }
        let now = self.now;
        self.out.final_spread_ms = spread(
            self.present()
                .filter(|(_, n)| n.player.loaded())
                .map(|(_, n)| n.player.pos_at(now) * 1e3),
        );
        self.out.peers = self.peers_seen;
        self.out.all_seeks = self.seeks.len() as u64;
        let events = &self.group_events;
        // A seek neither caused by a group event shortly before nor part of a join.
        let steady = self.seeks.iter().filter(|(t, _, joined)| {
            let caused = events.iter().any(|e| *e <= *t && t - e <= CAUSE_WINDOW_US);
            !caused && t - joined > JOIN_WINDOW_US
        });
        let trace = self.trace;
        self.out.steady_hard_seeks = steady
            .inspect(|(t, slot, _)| {
                if trace {
                    eprintln!("steady seek at {:.3} s on slot {slot}", *t as f64 / 1e6);
                }
            })
            .count() as u64;
    }
}

/// `count` events over `secs` seconds of presence, per minute (0 without presence).
fn per_minute(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 * 60.0 / secs
    } else {
        0.0
    }
}

/// Percentile `p` of sorted, non-empty `v`: the nearest sample.
fn nearest_rank(v: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}

fn spread(v: impl Iterator<Item = f64>) -> f64 {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if hi >= lo {
        hi - lo
    } else {
        0.0
    }
}

fn rejected(e: &Engine) -> u64 {
    let s = e.stats();
    if std::env::var_os("INSIEME_SIM_TRACE_REJECT").is_some() {
        eprintln!("{:?}", s);
    }
    s.rejected_version
        + s.rejected_invalid
        + s.rejected_future
        + s.unmatched_pongs
        + s.rejected_observations
}
