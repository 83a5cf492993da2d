//! Keeping the local player on the room's timeline.
//!
//! The controller compares what the player presents (observations: media time shown at a local
//! instant) with where the replicated state says it should be at that instant, and issues
//! player commands:
//!
//! - **Schedules.** A new state is turned into a plan: seek to the anchor while paused and
//!   `PlayAt` the local instant of the scheduled start; keep playing until a scheduled pause,
//!   then pause and make sure the frame is the anchor's.
//! - **Small errors** are corrected by nudging the playback rate: a feed-forward term for the
//!   measured skew between our clock and the room's (so drift never builds up), plus a
//!   proportional term that removes the error over a fixed horizon. The correction is bounded
//!   (±5 % by default) and has a deadband with hysteresis, so it never hunts.
//! - **Large errors** (joining late, a start missed, a long stall) are corrected by a seek that
//!   lands paused and starts on a scheduled instant. Seek latencies are learned from past
//!   seeks (until we made one, from the peers that have), so that the seek's own latency is
//!   never counted as drift; the player times its own starts ([`super::start_lead`]), and what
//!   they are left late by is learned for the margins. Seeks that no intent asked for are
//!   rate-limited with exponential back-off: there is no seek loop.
//!
//! Observations taken while a seek is under way, before a scheduled start, or while stalled are
//! not errors and are never used as such.
//!
//! **Quantized presentation.** A browser shows a frame only at a display refresh, and its
//! renderer keeps a steady frame cadence until the media clock has drifted most of a frame away
//! from it. The observed error then moves in whole steps (16.7 ms at 60 Hz), and an error below
//! half a step is the best any viewer can show. When the player reports its step
//! ([`Controller::set_presentation_step`]), the error is the median of the latest frames (a
//! line fit would smear each one-step jump over the window) and the deadband grows to half a
//! step: the controller moves the clock until the picture jumps to the frame nearest the
//! timeline, then stops, instead of pushing the clock back and forth across the renderer's
//! hysteresis.

use super::clock::RoomMap;
use super::clock_steering::{ClockSteering, Steer, GENTLE_RATE};
use super::presentation::FrameGrid;
use super::state::{Stamp, Versioned};
use super::time::{LocalTime, MediaTime, Span};
use super::wire::GridSide;
use crate::num::Clamp;
use std::collections::VecDeque;

/// What the player adapter must do. Semantics the adapter guarantees:
/// `PlayAt(t)` has the media moving when the local clock reaches `t` (the adapter calls
/// `play()` early by the start lead it learned, [`super::start_lead`]; at once if that has
/// passed, and only after any seek under way completes); `Pause` pauses at once and cancels a pending
/// `PlayAt`; `SeekTo` keeps the playing/paused state.
#[derive(Clone, Debug, PartialEq)]
pub enum PlayerCommand {
    /// Load a media, paused at its start; report an observation once it is ready.
    Load {
        media_id: String,
    },
    SeekTo(MediaTime),
    SetRate(f64),
    PlayAt(LocalTime),
    Pause,
}

/// The player's media clock read at a local instant (`currentTime` while playing): continuous,
/// where an [`Observation`] is quantized to the display (see [`super::clock_steering`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockReading {
    pub media_time: MediaTime,
    pub read_at: LocalTime,
}

/// What the player showed: the media time of the frame presented at a local instant (what
/// `requestVideoFrameCallback` reports). While paused, the adapter reports the position a few
/// times a second and once after every seek and pause.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub media_time: MediaTime,
    pub presented_at: LocalTime,
}

/// Why a seek was issued; only `Drift` seeks would indicate a controller failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekCause {
    /// A state change asked for it (a user's seek, a start or pause that needs a new position).
    Intent,
    /// Joining a room, or the room timeline changing under us (two groups merging).
    Join,
    /// Catching up after this player stalled.
    Stall,
    /// Nothing but accumulated error: should never happen in steady state.
    Drift,
}

/// Tuning of the controller.
#[derive(Clone, Debug, PartialEq)]
pub struct ControllerConfig {
    /// Largest deviation of the playback rate from the room's rate, as a fraction.
    pub max_rate_dev: f64,
    /// Rate correction starts when the error exceeds this...
    pub deadband_enter: Span,
    /// ...and stops once it is below this (hysteresis: no hunting around one threshold).
    pub deadband_exit: Span,
    /// The proportional term removes the error over about this long.
    pub horizon: Span,
    /// Errors beyond this are corrected by a seek instead of the rate.
    pub seek_threshold: Span,
    /// Observations averaged (by a line fit) into one error estimate.
    pub error_window: Span,
    /// Least time between two rate changes (each change can be heard on some players).
    pub min_rate_interval: Span,
    /// Smallest rate change worth sending.
    pub min_rate_step: f64,
    /// A paused player further than this from the paused position is re-seeked (once).
    pub paused_tolerance: Span,
    /// Least time between two seeks no intent asked for; doubles on each one in a row.
    pub min_seek_gap: Span,
    /// After an intent, a join or a stall, seeks are attributed to it for this long.
    pub grace: Span,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        ControllerConfig {
            max_rate_dev: 0.05,
            deadband_enter: Span::from_micros(1_000),
            deadband_exit: Span::from_micros(250),
            horizon: Span::from_millis(700),
            seek_threshold: Span::from_millis(200),
            error_window: Span::from_millis(300),
            min_rate_interval: Span::from_millis(200),
            min_rate_step: 2e-5,
            paused_tolerance: Span::from_millis(2),
            min_seek_gap: Span::from_secs(3),
            grace: Span::from_secs(5),
        }
    }
}

/// With quantized presentation: how many of the latest frames the error is the median of
/// (about 120 ms at 60 fps: short enough to see a one-step jump soon after it happens).
const QUANTIZED_ERROR_FRAMES: usize = 7;
/// With quantized presentation, correction starts this far beyond half a step, so that noise on
/// a resting error cannot start a correction.
const QUANTIZED_MARGIN: Span = Span::from_micros(1_000);
/// With quantized presentation, a player whose media clock runs off the requested rate (it
/// follows the sound card's clock, not the system's) falls a frame behind or ahead every few
/// seconds. Each such correction after a rest measures that drift (one step over the rest) and
/// trims the resting rate by this share of it...
const TRIM_GAIN: f64 = 1.0;
/// ...by at most this much per correction (a rest that began away from the band's middle
/// overestimates the drift; the cap keeps one such rest from swinging the trim)...
const MAX_TRIM_STEP: f64 = 0.003;
/// ...within this bound (audio clocks are off by hundreds of ppm, not percents)...
const MAX_TRIM: f64 = 0.005;
/// ...with a gain that halves, down to this, on each trim that reverses the last one, and
/// doubles back, up to 1, on each that goes on in its direction. A rest measures the drift
/// only roughly (a start that lands early leaves a short rest that overstates it): at full gain
/// the trim swung 1000–3000 ppm around a 2000 ppm drift, each swing the next rest's error.
const MIN_TRIM_GAIN: f64 = 1.0 / 8.0;
/// ...provided the rest lasted this long (a shorter one is a start's or a seek's leftover, or a
/// rest that began at the far edge of the band).
const MIN_REST_FOR_TRIM: Span = Span::from_secs(4);
/// A step finer than this is continuous presentation for the controller's purposes; coarser
/// than this is no display a person watches.
const STEP_RANGE: std::ops::RangeInclusive<Span> = Span::ZERO..=Span::from_millis(100);
/// A seek this close to where the player stands finds its frames decoded already: in the
/// end-to-end runs the seek to 0 s after loading took 7–15 ms, and the first seek across the
/// clip 60–145 ms. Learned from, it had the room plan the next seek's start too soon; every
/// viewer called `play()` mid-seek and started 40 ms late.
const NEARBY_SEEK: Span = Span::from_millis(500);
/// A seek shows the frame its target falls in, which begins up to a frame earlier (42 ms at
/// 24 fps): Chromium landed 9.5 and 13 ms before targets. Taken only within 2 ms, such a frame
/// went unnoticed and the seek counted as done at the next paused report, up to 250 ms later,
/// so every seek latency learned was that much too long.
const SEEK_LANDS_BEFORE: Span = Span::from_millis(45);
/// How far past half a step the frame grid offset may go before it is taken back to the other
/// side ([`Controller::grid_offset`]): readings and frame times scatter by under a millisecond.
const GRID_HYSTERESIS: Span = Span::from_micros(3_000);
/// How long the refreshes of the last presented frame stay a grid to start on: a display's
/// refresh drifted 40 ppm from `performance.now()` (2.4 ms a minute).
const PRESENTED_GRID_FRESH: Span = Span::from_secs(10);
/// The most a start aims ahead of the timeline ([`Controller::start_ahead`]).
const MAX_START_AHEAD: Span = Span::from_millis(15);
/// What a seek across the media is guessed to take before one was measured: room for a slow
/// server. Its margin ([`Latency::high`]) is 0.52 s, against the 60–145 ms a seek of the local
/// clip took in the end-to-end runs.
const SEEK_LATENCY_GUESS: Span = Span::from_millis(200);
/// The least margin a seek is planned with until this player measured [`SEEKS_TO_TRUST`] of
/// its own: one seek says little of the next. Seeks across the end-to-end clip took 60–145 ms;
/// planned with the 125 ms margin a quick one gave,
/// every viewer started 22–46 ms late and took 1.3 s to be back in sync at 5 %. Starting 0.1 s
/// later costs the room less than that.
const SEEK_MARGIN_FLOOR: Span = Span::from_millis(250);
/// Own seeks after which their spread is known well enough to plan without the floor.
const SEEKS_TO_TRUST: u32 = 3;

/// Running mean and mean deviation of a latency, for planning ahead with a safe margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    mean: f64,
    dev: f64,
    n: u32,
    /// Smallest value learned, µs.
    floor: f64,
}

impl Latency {
    fn new(guess: Span) -> Latency {
        Latency {
            mean: guess.0 as f64,
            dev: guess.0 as f64 / 2.0,
            n: 0,
            floor: 0.0,
        }
    }
    /// A latency that may come out negative: the residual of a player that compensates its
    /// own start delay (the browser glue calls `play()` early by what it measured). Clamped at
    /// zero, every early start would be forgotten and every late one kept, so the mean would
    /// creep up and every start would come early by it.
    fn residual(guess: Span) -> Latency {
        Latency {
            floor: -500_000.0,
            ..Latency::new(guess)
        }
    }
    fn update(&mut self, x: Span) {
        let x = (x.0 as f64).clamp_to(self.floor, 5e6);
        if self.n == 0 {
            self.mean = x;
            self.dev = x.abs() / 4.0;
        } else {
            let a = (1.0 / (self.n as f64 + 1.0)).max(0.2);
            let err = x - self.mean;
            self.mean += a * err;
            self.dev += a * (err.abs() - self.dev);
        }
        self.n = self.n.saturating_add(1);
    }
    /// Expected latency.
    pub fn mean(&self) -> Span {
        Span(self.mean as i64)
    }
    /// A latency rarely exceeded.
    pub fn high(&self) -> Span {
        Span((self.mean + 3.0 * self.dev) as i64) + Span::from_millis(20)
    }
}

/// Counters the UI and the simulator read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControllerStats {
    pub seeks_intent: u64,
    pub seeks_join: u64,
    pub seeks_stall: u64,
    pub seeks_drift: u64,
    pub rate_changes: u64,
    /// Fast corrections of the media clock begun (see [`super::clock_steering`]).
    pub fast_corrections: u64,
    pub starts: u64,
    /// Scheduled starts that never showed motion and were retried.
    pub start_retries: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Nothing to control (no media, or loading).
    Idle,
    /// Paused at the state's position.
    Paused,
    /// Playing until the local instant, then pausing.
    PausingAt(LocalTime),
    /// `PlayAt(play_at)` issued: waiting for motion that should start at `at` from `from`.
    Starting {
        at: LocalTime,
        play_at: LocalTime,
        from: MediaTime,
        retries: u32,
    },
    /// Moving; continuous control.
    Playing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct PendingSeek {
    target: MediaTime,
    issued: LocalTime,
    /// Whether its latency says anything of the next seeks (see [`NEARBY_SEEK`]).
    telling: bool,
}

/// What seeks across the media take on this player: learned from its own, or, until it made
/// one, taken from the peers that have (told in their hellos), or else a guess. Peers watch
/// the same media, most often from the same server, so a peer's measured seek says more of ours
/// than a guess made for any server: without it, the room planned its first seek with the
/// guess's 0.52 s margin even when a viewer who had joined mid-clip had measured 0.1 s.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SeekLatency {
    own: Latency,
    /// The largest margin a peer measured on this media.
    told: Option<Span>,
}

impl SeekLatency {
    fn new() -> SeekLatency {
        SeekLatency {
            own: Latency::new(SEEK_LATENCY_GUESS),
            told: None,
        }
    }

    /// Our own margin, once we measured a seek: what we tell peers.
    fn measured(&self) -> Option<Span> {
        (self.own.n > 0).then(|| self.own.high())
    }

    /// The margin to plan a seek with.
    fn high(&self) -> Span {
        let margin = self.measured().or(self.told).unwrap_or(self.own.high());
        if self.own.n >= SEEKS_TO_TRUST {
            margin
        } else {
            margin.max(SEEK_MARGIN_FLOOR)
        }
    }
}

/// The drift controller for one local player.
#[derive(Clone, Debug)]
pub struct Controller {
    cfg: ControllerConfig,
    loaded: Option<String>,
    loading: bool,
    mode: Mode,
    playing_cmd: bool,
    rate_cmd: f64,
    last_rate_at: Option<LocalTime>,
    last_ideal: f64,
    seek: Option<PendingSeek>,
    seek_landed: Option<LocalTime>,
    seek_lat: SeekLatency,
    start_lat: Latency,
    window: VecDeque<(LocalTime, f64)>,
    last_obs: Option<Observation>,
    planned: Option<Stamp>,
    paused_fixed: bool,
    correcting: bool,
    stalled: bool,
    intent_grace: Option<LocalTime>,
    join_grace: Option<LocalTime>,
    stall_grace: Option<LocalTime>,
    next_auto_seek: LocalTime,
    auto_seek_gap: Span,
    last_auto_seek: Option<LocalTime>,
    error: Option<Span>,
    /// The player's presentation step (zero: continuous).
    step: Span,
    /// Learned rate trim (fraction) for a player whose clock drifts; quantized frames only.
    trim: f64,
    /// The share of [`TRIM_GAIN`] the next trim moves by, and the direction of the last trim
    /// (+1: up, -1: down, 0: none yet).
    trim_gain: f64,
    last_trim_direction: f64,
    /// When the last quantized correction ended, for measuring the drift to the next one.
    resting_since: Option<LocalTime>,
    /// Steering by the media clock, where the player reads it.
    clock: ClockSteering,
    /// The frame grid offset in use, µs (see [`Controller::grid_offset`]).
    grid: Option<f64>,
    /// The grid sides older viewers announced, oldest first (see [`GridSide`]).
    older_grid_sides: Vec<GridSide>,
    /// The latest frame presented while playing: its media time, and a display refresh.
    last_presented: Option<Observation>,
    stats: ControllerStats,
}

impl Controller {
    pub fn new(cfg: ControllerConfig) -> Controller {
        let fast_rate = cfg.max_rate_dev;
        Controller {
            auto_seek_gap: cfg.min_seek_gap,
            cfg,
            loaded: None,
            loading: false,
            mode: Mode::Idle,
            playing_cmd: false,
            rate_cmd: 1.0,
            last_rate_at: None,
            last_ideal: 1.0,
            seek: None,
            seek_landed: None,
            seek_lat: SeekLatency::new(),
            start_lat: Latency::residual(Span::from_millis(30)),
            window: VecDeque::new(),
            last_obs: None,
            planned: None,
            paused_fixed: false,
            correcting: false,
            stalled: false,
            intent_grace: None,
            join_grace: None,
            stall_grace: None,
            next_auto_seek: LocalTime(i64::MIN),
            last_auto_seek: None,
            error: None,
            step: Span::ZERO,
            trim: 0.0,
            trim_gain: 1.0,
            last_trim_direction: 0.0,
            resting_since: None,
            clock: ClockSteering::new(fast_rate),
            grid: None,
            older_grid_sides: Vec::new(),
            last_presented: None,
            stats: ControllerStats::default(),
        }
    }

    /// Sets how finely the player can place a frame in time (see the module notes); `false`
    /// (and no change) for a step outside 0–100 ms.
    pub fn set_presentation_step(&mut self, step: Span) -> bool {
        if !STEP_RANGE.contains(&step) {
            return false;
        }
        self.step = step;
        true
    }

    /// The player's presentation step (zero: continuous).
    pub fn presentation_step(&self) -> Span {
        self.step
    }

    /// Whether the player's frames are quantized coarsely enough to matter.
    fn quantized(&self) -> bool {
        self.step > self.cfg.deadband_enter
    }

    /// Errors correction starts beyond and stops within: the configured deadband, widened to
    /// half a presentation step when frames are quantized.
    fn deadband(&self) -> (f64, f64) {
        let enter = self.cfg.deadband_enter.0 as f64;
        let exit = self.cfg.deadband_exit.0 as f64;
        if !self.quantized() {
            return (enter, exit);
        }
        let half = self.step.0 as f64 / 2.0;
        (enter.max(half + QUANTIZED_MARGIN.0 as f64), exit.max(half))
    }

    pub fn stats(&self) -> &ControllerStats {
        &self.stats
    }

    /// Latest filtered error (player minus room timeline; positive means ahead), while playing.
    pub fn error(&self) -> Option<Span> {
        self.error
    }

    /// Where on the frame grid the clock is steered, off the timeline (see `grid_offset`); `None`
    /// for a player whose frames are not quantized, or before any frame was seen.
    pub fn frame_grid_offset(&self) -> Option<Span> {
        self.grid
            .filter(|_| self.quantized())
            .map(|g| Span(g as i64))
    }

    /// The frame grid offset in use and the state it was measured for, to announce to
    /// younger viewers (see [`GridSide`]).
    pub fn grid_side(&self) -> Option<GridSide> {
        Some(GridSide {
            state: self.planned?,
            offset: self.frame_grid_offset()?,
        })
    }

    /// The grid sides the viewers older than this one announced, oldest first.
    pub fn set_older_grid_sides(&mut self, sides: Vec<GridSide>) {
        self.older_grid_sides = sides;
    }

    /// The grid this player presented frames on, while it played within the last
    /// [`PRESENTED_GRID_FRESH`]: a frame it presented and the refresh it was presented at, and
    /// the presentation step as both the refresh and the frame (frames are presented once per
    /// step), taken to the standard frame rate it measures (see [`standard_frame_us`]). A start
    /// moved onto it (see [`FrameGrid::align`]) puts the new timeline's frames on this screen's
    /// refreshes, far from the tie between two frames where viewers sharing the screen would
    /// each pick a side of their own.
    pub fn presented_grid(&self, now: LocalTime) -> Option<FrameGrid> {
        let last = self
            .last_presented
            .filter(|o| now - o.presented_at <= PRESENTED_GRID_FRESH)?;
        let step = standard_frame_us(self.step);
        self.quantized().then_some(FrameGrid {
            vsync: last.presented_at,
            refresh_us: step,
            frame: last.media_time,
            frame_us: step,
        })
    }

    /// Time this player needs to be ready for a start that needs a seek.
    pub fn prep(&self) -> Span {
        self.seek_lat.high() + self.start_lat.high()
    }

    /// How long a seek across the media took this player, rarely exceeded, once it has made
    /// one on the media loaded: peers that have not plan with it (see [`SeekLatency`]).
    pub fn measured_seek(&self) -> Option<Span> {
        self.seek_lat.measured()
    }

    /// The largest [`Controller::measured_seek`] among the peers, if any has measured one on
    /// this media: our seeks are planned with it until we measured our own.
    pub fn set_told_seek(&mut self, told: Option<Span>) {
        self.seek_lat.told = told;
    }

    /// Media time of the latest observation (where a stalled player froze).
    pub fn last_position(&self) -> Option<MediaTime> {
        self.last_obs.map(|o| o.media_time)
    }

    /// Forgets the plan, e.g. when the room timeline changed under us: the next update plans
    /// afresh, and seeks in the next moments are attributed to the change.
    pub fn timeline_changed(&mut self, now: LocalTime) {
        self.join_grace = Some(now + self.cfg.grace);
        self.forget_errors(now);
    }

    /// Whether a seek we asked for has not shown its first frame yet.
    pub fn seeking(&self) -> bool {
        self.seek.is_some()
    }

    /// The local player stalled (buffering) or recovered.
    pub fn set_stalled(&mut self, now: LocalTime, stalled: bool) {
        self.stalled = stalled;
        self.forget_errors(now);
        self.stall_grace = Some(now + self.cfg.grace);
        if !stalled {
            // Catching up after a stall is expected; do not make it wait for back-off.
            self.next_auto_seek = now;
        }
    }

    /// When the controller next needs an update without any input.
    pub fn deadline(&self) -> Option<LocalTime> {
        let mode = match self.mode {
            Mode::PausingAt(t) => Some(t),
            // A stalled player cannot start; its recovery will be reported.
            Mode::Starting { .. } if self.stalled => None,
            Mode::Starting { at, .. } => Some(at + self.start_timeout()),
            _ => None,
        };
        [mode, self.clock.deadline()].into_iter().flatten().min()
    }

    fn start_timeout(&self) -> Span {
        Span::from_secs(2) + self.prep()
    }

    /// Loads the media of `state` if the player has another (or none); called before every
    /// [`update`](Self::update). Of everything the controller does, only this needs no room
    /// timeline: a newcomer loads as soon as it hears the state, and the media's metadata
    /// arrives while its clock is still being measured (a few hundred milliseconds) rather than
    /// after.
    pub fn load_media(&mut self, state: &Versioned, out: &mut VecDeque<PlayerCommand>) {
        let Some(media) = &state.playback.media else {
            return;
        };
        if self.loaded.as_ref() == Some(media) {
            return;
        }
        out.push_back(PlayerCommand::Load {
            media_id: media.clone(),
        });
        self.loaded = Some(media.clone());
        // Another media, perhaps from another server: what our seeks take is unknown (the
        // peers' tell us anew with their next hellos).
        self.seek_lat.own = Latency::new(SEEK_LATENCY_GUESS);
        self.grid = None;
        self.loading = true;
        self.mode = Mode::Idle;
        self.playing_cmd = false;
        self.seek = None;
        self.planned = None;
        self.last_obs = None;
    }

    /// Brings the plan in line with the state, once its media is loaded
    /// ([`load_media`](Self::load_media)): plan for a new state, fire timers.
    pub fn update(
        &mut self,
        now: LocalTime,
        desired: Option<(&Versioned, &RoomMap)>,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let Some((v, map)) = desired else { return };
        let p = &v.playback;
        if p.media.is_none() || self.loaded != p.media || self.loading {
            return;
        }
        if self.moving() && self.clock.give_up_if_overdue(now) {
            // A correction the clock did not answer in time.
            let speed = p.speed_at(map.to_room(now));
            self.send_rate(now, self.resting_rate(speed, map), out);
        }
        if self.planned != Some(v.stamp) {
            let cause = if self.planned.is_none() {
                self.join_grace = Some(now + self.cfg.grace);
                SeekCause::Join
            } else {
                self.intent_grace = Some(now + self.cfg.grace);
                SeekCause::Intent
            };
            self.planned = Some(v.stamp);
            // A new state anchors the timeline anew, and where it falls between refreshes with
            // it: the grid offset is measured afresh (kept, one viewer carried its old side
            // through a seek and showed a frame apart for 6 s).
            self.grid = None;
            self.plan(now, v, map, cause, out);
            return;
        }
        match self.mode {
            Mode::PausingAt(t) if now >= t => {
                out.push_back(PlayerCommand::Pause);
                self.playing_cmd = false;
                self.mode = Mode::Paused;
                self.error = None;
            }
            Mode::Starting { at, retries, .. }
                if !self.stalled && now >= at + self.start_timeout() =>
            {
                // The start never showed: try again from the timeline, a bounded number of
                // times (a player that refuses to play must not be hammered).
                self.stats.start_retries += 1;
                if retries < 3 {
                    let cause = self.cause_at(now);
                    self.catch_up(now, v, map, cause, out);
                    if let Mode::Starting { retries: r, .. } = &mut self.mode {
                        *r = retries + 1;
                    }
                } else {
                    self.mode = Mode::Idle;
                }
            }
            Mode::Playing if !self.stalled => {
                // Follow a scheduled rate change or a new skew estimate at once.
                let ideal = p.speed_at(map.to_room(now)) * (1.0 + map.skew);
                if (ideal - self.last_ideal).abs() > 1e-9 {
                    let step = ideal - self.last_ideal;
                    self.last_ideal = ideal;
                    if step.abs() > 1e-3 {
                        self.set_rate(now, ideal, out);
                    }
                }
            }
            _ => {}
        }
    }

    /// Feeds one player observation.
    pub fn observe(
        &mut self,
        now: LocalTime,
        obs: Observation,
        desired: Option<(&Versioned, &RoomMap)>,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        if self.loading {
            // First report after a load: the media is ready; plan from scratch.
            self.loading = false;
            self.planned = None;
            self.last_obs = Some(obs);
            self.update(now, desired, out);
            return;
        }
        self.last_obs = Some(obs);
        if self.stalled {
            return;
        }
        if let Some(s) = self.seek {
            let d = obs.media_time - s.target;
            if obs.presented_at >= s.issued && d >= -SEEK_LANDS_BEFORE && d <= Span::from_secs(1) {
                // The first frame after the seek: its latency, net of any motion since.
                let landed = obs.presented_at - Span(d.0.max(0));
                if s.telling {
                    self.seek_lat.own.update(landed - s.issued);
                }
                self.seek = None;
                self.seek_landed = Some(landed);
            } else {
                return;
            }
        }
        let Some((v, map)) = desired else { return };
        let p = &v.playback;
        match self.mode {
            Mode::Starting {
                at, play_at, from, ..
            } => {
                let moved = obs.media_time - from;
                if moved > Span::from_micros(500) {
                    let started = obs.presented_at - moved.mul_f64(1.0 / self.rate_cmd.max(1e-3));
                    // Latency counts from when the player could first start: the later of the
                    // command's instant and the seek's landing.
                    let ready = self.seek_landed.map_or(play_at, |l| l.max(play_at));
                    self.start_lat.update(started - ready);
                    let _ = at;
                    self.stats.starts += 1;
                    self.mode = Mode::Playing;
                    self.forget_errors(now);
                    self.clock.started(now);
                    self.last_ideal = p.speed_at(map.to_room(now)) * (1.0 + map.skew);
                    if !p.playing && map.to_local(p.anchor_room) > now {
                        self.mode = Mode::PausingAt(map.to_local(p.anchor_room));
                    }
                }
            }
            Mode::Paused => {
                let at = map.to_room(obs.presented_at);
                let want = p.position_at(at);
                if (obs.media_time - want).abs() > self.cfg.paused_tolerance
                    && !self.paused_fixed
                    && p.speed_at(at) == 0.0
                {
                    self.paused_fixed = true;
                    self.seek_to(now, want, SeekCause::Intent, out);
                }
            }
            Mode::Playing | Mode::PausingAt(_) => {
                self.last_presented = Some(obs);
                self.correct(now, obs, v, map, out)
            }
            Mode::Idle => {}
        }
    }

    fn cause_at(&self, now: LocalTime) -> SeekCause {
        let within = |g: Option<LocalTime>| g.is_some_and(|g| now < g);
        if within(self.stall_grace) {
            SeekCause::Stall
        } else if within(self.intent_grace) {
            SeekCause::Intent
        } else if within(self.join_grace) {
            SeekCause::Join
        } else {
            SeekCause::Drift
        }
    }

    /// Whether the player moves on the timeline (playing, or playing until a scheduled pause).
    fn moving(&self) -> bool {
        matches!(self.mode, Mode::Playing | Mode::PausingAt(_))
    }

    /// Errors measured before a seek, a start, a stall or a timeline change say nothing of the
    /// player after it.
    fn forget_errors(&mut self, now: LocalTime) {
        self.window.clear();
        self.clock.restart(now);
    }

    /// Feeds one reading of the player's media clock; while the player keeps reading it, it is
    /// what the controller steers by. Readings are errors only while moving on the timeline.
    pub fn observe_clock(
        &mut self,
        reading: ClockReading,
        desired: Option<(&Versioned, &RoomMap)>,
    ) {
        let Some((v, map)) = desired else { return };
        if !self.moving() || self.stalled || self.seek.is_some() || self.loading {
            return;
        }
        let target = v.playback.position_at(map.to_room(reading.read_at));
        let error = (reading.media_time - target).0 as f64;
        self.clock.record(reading.read_at, error);
    }

    /// Steering by the media clock (see [`super::clock_steering`]): one excursion at the full
    /// correcting rate for each error beyond the deadband, until the clock reads on time.
    fn correct_by_clock(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let grid = self.grid_offset();
        let error = self.clock.error(now).map(|error| error - grid);
        self.clock.frames_off(now, self.frames_off_grid(grid));
        let speed = v.playback.speed_at(map.to_room(now));
        if let Some(error) = error {
            self.error = Some(Span(error as i64));
            if error.abs() > self.cfg.seek_threshold.0 as f64 && speed > 0.0 {
                if self.seek.is_none() && now >= self.next_auto_seek {
                    let cause = self.cause_at(now);
                    self.catch_up(now, v, map, cause, out);
                }
                return;
            }
        }
        let rest = self.resting_rate(speed, map);
        self.last_ideal = speed * (1.0 + map.skew);
        let was_fast = self.clock.correcting_fast();
        let steer = self.clock.steer(now, error);
        if matches!(steer, Steer::Fast(_)) && !was_fast {
            self.stats.fast_corrections += 1;
        }
        let deviation = match steer {
            Steer::Hold => return,
            Steer::Rest => 0.0,
            Steer::Gentle(direction) => {
                // Within GENTLE_RATE of the normal rate, wherever skew and trim put the resting
                // rate: one step past it costs the clock a jump.
                let resting = map.skew + self.trim;
                let gentle = resting + direction * GENTLE_RATE;
                if resting.abs() <= GENTLE_RATE {
                    gentle.clamp_to(-GENTLE_RATE, GENTLE_RATE) - resting
                } else {
                    direction * GENTLE_RATE
                }
            }
            Steer::Fast(direction) => direction * self.cfg.max_rate_dev,
        };
        let rate = self.bounded_rate(speed, rest + speed * deviation);
        self.send_rate(now, rate, out);
    }

    /// Where on the frame grid the timeline falls at the instants frames are shown (µs, within
    /// half a step either way): what the clock is steered to, rather than the timeline itself.
    ///
    /// A renderer shows, at each refresh, the frame whose start is nearest its clock. A clock on
    /// the timeline can therefore sit anywhere up to half a frame from the frame it shows, and
    /// at half a frame the smallest error flips the picture to the next frame (seen: a viewer
    /// resting 1 ms from the timeline but 9 ms from its frame showed the next frame for 17 s).
    /// The presented frames' errors are whole frames plus this offset, the same for every frame
    /// and every viewer on the same refresh grid; moving the clock by it puts every frame start
    /// exactly on a refresh, half a frame from either tie, and viewers sharing a screen's
    /// refreshes all move alike.
    ///
    /// An offset near half a step is as near one frame as the next: measured afresh each time,
    /// noise put it at +8 ms for one viewer and −8 ms for another (or for one, then the other),
    /// and they chased each other a frame apart for seconds. So the offset is kept: the next is
    /// the one of its equals (a whole step apart) nearest the last, up to [`GRID_HYSTERESIS`]
    /// past half a step; viewers that agreed stay agreed as the offset crosses half a step. It
    /// is kept through the moments the errors are forgotten within one state (a correction, a
    /// stall), which move the clock, not the grid; a new state measures it afresh.
    fn grid_offset(&mut self) -> f64 {
        if !self.quantized() {
            return 0.0;
        }
        if self.window.is_empty() {
            return self.grid.unwrap_or(0.0);
        }
        let step = self.step.0 as f64;
        let wrapped = offset_on_grid(self.window.iter().map(|&(_, error)| error), step);
        let oldest_side = self
            .older_grid_sides
            .iter()
            .find(|side| Some(side.state) == self.planned)
            .map(|side| side.offset.0 as f64);
        let offset = grid_side(wrapped, self.grid, oldest_side, step);
        self.grid = Some(offset);
        offset
    }

    /// Whether the latest presented frames show another frame than the grid says: their median
    /// error beyond `grid` (µs), when it is half a step or more.
    fn frames_off_grid(&self, grid: f64) -> Option<f64> {
        if !self.quantized() || self.window.len() < QUANTIZED_ERROR_FRAMES {
            return None;
        }
        let off = recent_median(&self.window, QUANTIZED_ERROR_FRAMES) - grid;
        (off.abs() >= self.step.0 as f64 / 2.0).then_some(off)
    }

    /// The rate that keeps a player on the timeline with no error to correct.
    fn resting_rate(&self, speed: f64, map: &RoomMap) -> f64 {
        self.bounded_rate(speed, speed * (1.0 + map.skew + self.trim))
    }

    /// Moves the resting rate against a measured drift of the player's clock (a fraction of
    /// the rate; positive: it ran fast).
    /// A trim that reverses the last one overshot: it moves by half the gain the last did;
    /// one in the same direction fell short, and moves by twice (see [`MIN_TRIM_GAIN`]).
    fn trim_against(&mut self, drift: f64) {
        if drift == 0.0 || !drift.is_finite() {
            return;
        }
        let direction = -drift.signum();
        self.trim_gain = if direction * self.last_trim_direction < 0.0 {
            (self.trim_gain / 2.0).max(MIN_TRIM_GAIN)
        } else {
            (self.trim_gain * 2.0).min(1.0)
        };
        self.last_trim_direction = direction;
        let step = (drift * TRIM_GAIN * self.trim_gain).clamp_to(-MAX_TRIM_STEP, MAX_TRIM_STEP);
        self.trim = (self.trim - step).clamp_to(-MAX_TRIM, MAX_TRIM);
    }

    /// `rate` kept within the largest deviation from `speed`, a hair inside so that float
    /// rounding can never take it past.
    fn bounded_rate(&self, speed: f64, rate: f64) -> f64 {
        let dev = self.cfg.max_rate_dev * (1.0 - 1e-9);
        rate.clamp_to(speed * (1.0 - dev), speed * (1.0 + dev))
    }

    /// Continuous control while playing.
    fn correct(
        &mut self,
        now: LocalTime,
        obs: Observation,
        v: &Versioned,
        map: &RoomMap,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let p = &v.playback;
        let target = p.position_at(map.to_room(obs.presented_at));
        let e = (obs.media_time - target).0 as f64;
        self.window.push_back((obs.presented_at, e));
        while let Some(&(t, _)) = self.window.front() {
            if now - t > self.cfg.error_window {
                self.window.pop_front();
            } else {
                break;
            }
        }
        if self.clock.is_reading(now) {
            self.correct_by_clock(now, v, map, out);
            return;
        }
        if self.window.len() < 4 {
            return;
        }
        let e_now = if self.quantized() {
            recent_median(&self.window, QUANTIZED_ERROR_FRAMES)
        } else {
            line_at(&self.window, now)
        };
        self.error = Some(Span(e_now as i64));

        let speed = p.speed_at(map.to_room(now));
        if e_now.abs() > self.cfg.seek_threshold.0 as f64 && speed > 0.0 {
            if self.seek.is_none() && now >= self.next_auto_seek {
                let cause = self.cause_at(now);
                self.catch_up(now, v, map, cause, out);
            }
            return;
        }
        let ideal = speed * (1.0 + map.skew);
        let since = self.last_rate_at.map_or(Span(i64::MAX), |t| now - t);
        let (enter, exit) = self.deadband();
        // On quantized frames, reaching the band means the picture just jumped to the nearest
        // frame: stop at once, for every further frame at the correcting rate moves the clock
        // towards the renderer's next jump.
        let reached = self.quantized() && self.correcting && e_now.abs() < exit;
        if since < self.cfg.min_rate_interval && !reached {
            return;
        }
        if self.correcting {
            if e_now.abs() < exit {
                self.correcting = false;
                self.resting_since = Some(now);
            }
        } else if e_now.abs() > enter {
            self.correcting = true;
            self.learn_trim(now, e_now);
        }
        let corr = if self.correcting && self.quantized() {
            // The error only changes when a frame is dropped or repeated, so a proportional
            // term has nothing to taper on: move at full correcting speed until the jump.
            -e_now.signum() * self.cfg.max_rate_dev
        } else if self.correcting {
            (-e_now / self.cfg.horizon.0 as f64)
                .clamp_to(-self.cfg.max_rate_dev, self.cfg.max_rate_dev)
        } else {
            0.0
        };
        let rate = self.bounded_rate(speed, ideal + speed * (corr + self.trim));
        self.last_ideal = ideal;
        if (rate - self.rate_cmd).abs() > self.cfg.min_rate_step * speed.max(1e-3) {
            self.set_rate(now, rate, out);
        }
    }

    /// A quantized correction starts after a rest: the player drifted one step (in the
    /// direction of `error`) over the rest, so trim the resting rate against that drift.
    fn learn_trim(&mut self, now: LocalTime, error: f64) {
        let Some(since) = self.resting_since.take() else {
            return;
        };
        let rest = now - since;
        // Drift shows as one step at a time; an error of several steps is the machine stalling
        // the player (every viewer at once, on a busy machine), which no trim should learn.
        let one_step = error.abs() < self.step.0 as f64 * 1.5;
        if !self.quantized() || rest < MIN_REST_FOR_TRIM || !one_step {
            return;
        }
        self.trim_against(error.signum() * self.step.0 as f64 / rest.0 as f64);
    }

    /// Sets the rate for anything but steering by the clock, which then starts afresh.
    fn set_rate(&mut self, now: LocalTime, rate: f64, out: &mut VecDeque<PlayerCommand>) {
        self.send_rate(now, rate, out);
        self.clock.restart(now);
    }

    fn send_rate(&mut self, now: LocalTime, rate: f64, out: &mut VecDeque<PlayerCommand>) {
        if rate > 0.0 && rate.is_finite() {
            out.push_back(PlayerCommand::SetRate(rate));
            self.rate_cmd = rate;
            self.last_rate_at = Some(now);
            self.stats.rate_changes += 1;
        }
    }

    fn seek_to(
        &mut self,
        now: LocalTime,
        to: MediaTime,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        out.push_back(PlayerCommand::SeekTo(to));
        self.seek = Some(PendingSeek {
            target: to,
            issued: now,
            telling: self
                .last_obs
                .is_some_and(|o| (o.media_time - to).abs() > NEARBY_SEEK),
        });
        self.seek_landed = None;
        self.forget_errors(now);
        self.error = None;
        self.resting_since = None;
        match cause {
            SeekCause::Intent => self.stats.seeks_intent += 1,
            SeekCause::Join => self.stats.seeks_join += 1,
            SeekCause::Stall => self.stats.seeks_stall += 1,
            SeekCause::Drift => self.stats.seeks_drift += 1,
        }
        if cause != SeekCause::Intent {
            // Back-off for seeks nobody asked for: a second one soon after doubles the gap.
            let recent = self
                .last_auto_seek
                .is_some_and(|t| now - t < Span::from_secs(30));
            self.auto_seek_gap = if recent {
                (self.auto_seek_gap + self.auto_seek_gap).min(Span::from_secs(60))
            } else {
                self.cfg.min_seek_gap
            };
            self.last_auto_seek = Some(now);
            self.next_auto_seek = now + self.auto_seek_gap;
        }
    }

    /// Makes the player start at a local instant with a media time given by the plan.
    fn schedule_start(
        &mut self,
        at: LocalTime,
        from: MediaTime,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        // Rate first, so the start already runs at the right speed.
        // The player calls `play()` early by the lead it learned (see `super::start_lead`):
        // what is measured here is what is left over, for the margins only. Compensating it
        // as well would make every start after the first early by whatever the first was late.
        let play_at = at - self.start_ahead();
        out.push_back(PlayerCommand::PlayAt(play_at));
        self.playing_cmd = true;
        self.correcting = false;
        self.resting_since = None;
        self.error = None;
        self.mode = Mode::Starting {
            at,
            play_at,
            from,
            retries: 0,
        };
    }

    /// How far ahead of the timeline a start aims. A browser's start lands up to 15 ms either
    /// side of the instant asked for (`play()` took 64–97 ms in headless Chromium), and the
    /// first correction after it costs the clock the learned entry jump (see
    /// [`super::clock_steering`]): a start ahead by up to the jump is corrected by the jump
    /// itself, one behind pays the jump on top (seen: 20 ms late took 0.85 s to correct). So
    /// starts aim ahead by half the jump: most land where the jump alone, or nothing, corrects.
    fn start_ahead(&self) -> Span {
        Span((self.clock.entry_jump() / 2.0).clamp_to(0.0, MAX_START_AHEAD.0 as f64) as i64)
    }

    /// Seeks (paused) to where the timeline will be once the seek and start are done, and
    /// schedules the start for that instant.
    fn catch_up(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let p = &v.playback;
        let land = now + self.seek_lat.high() + self.start_lat.mean() + Span::from_millis(30);
        let room_land = map.to_room(land);
        let x = p.position_at(room_land);
        if p.speed_at(room_land) == 0.0 {
            self.stop_at(now, x, cause, out);
            return;
        }
        if self.playing_cmd {
            out.push_back(PlayerCommand::Pause);
            self.playing_cmd = false;
        }
        self.seek_to(now, x, cause, out);
        self.set_speed_for(now, p.speed_at(room_land) * (1.0 + map.skew), out);
        self.schedule_start(land, x, out);
        self.last_ideal = p.speed_at(room_land) * (1.0 + map.skew);
    }

    fn set_speed_for(&mut self, now: LocalTime, rate: f64, out: &mut VecDeque<PlayerCommand>) {
        if (rate - self.rate_cmd).abs() > 1e-9 {
            self.set_rate(now, rate, out);
        }
    }

    /// Pauses and puts the player exactly on `x`.
    fn stop_at(
        &mut self,
        now: LocalTime,
        x: MediaTime,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let mut need_seek = self
            .last_obs
            .is_none_or(|o| (o.media_time - x).abs() > self.cfg.paused_tolerance)
            || self.seek.is_some();
        if self.playing_cmd {
            out.push_back(PlayerCommand::Pause);
            self.playing_cmd = false;
            need_seek = true;
        }
        if need_seek {
            self.seek_to(now, x, cause, out);
            self.paused_fixed = false;
        } else {
            self.paused_fixed = false;
        }
        self.mode = Mode::Paused;
        self.error = None;
    }

    /// Turns a new state into commands.
    fn plan(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let p = &v.playback;
        let la = map.to_local(p.anchor_room);
        let running = self.moving() && self.seek.is_none() && self.playing_cmd;
        self.paused_fixed = false;
        if p.playing {
            if la > now && p.lead_in_rate == 0.0 {
                // A scheduled start from a held position.
                let need_seek = self.playing_cmd
                    || self.seek.is_some()
                    || self.last_obs.is_none_or(|o| {
                        (o.media_time - p.anchor_media).abs() > self.cfg.paused_tolerance
                    });
                let prep = if need_seek {
                    self.seek_lat.high()
                } else {
                    Span::ZERO
                } + self.start_lat.mean()
                    + Span::from_millis(5);
                if la - now < prep {
                    self.catch_up(now, v, map, cause, out);
                    return;
                }
                if self.playing_cmd {
                    out.push_back(PlayerCommand::Pause);
                    self.playing_cmd = false;
                }
                if need_seek {
                    self.seek_to(now, p.anchor_media, cause, out);
                }
                self.set_speed_for(now, p.rate * (1.0 + map.skew), out);
                self.schedule_start(la, p.anchor_media, out);
                self.last_ideal = p.rate * (1.0 + map.skew);
            } else if running {
                self.mode = Mode::Playing;
            } else {
                self.catch_up(now, v, map, cause, out);
            }
        } else if la > now && p.lead_in_rate > 0.0 && running {
            self.mode = Mode::PausingAt(la);
        } else {
            self.stop_at(now, p.anchor_media, cause, out);
        }
    }
}

/// Frame rates video is made at, fps: NTSC's 1000/1001 ones and the whole ones.
const STANDARD_FRAME_RATES: [f64; 12] = [
    24_000.0 / 1_001.0,
    24.0,
    25.0,
    30_000.0 / 1_001.0,
    30.0,
    48.0,
    50.0,
    60_000.0 / 1_001.0,
    60.0,
    100.0,
    120_000.0 / 1_001.0,
    120.0,
];

/// How near a standard frame duration a step must be to be taken for it: the NTSC rates are
/// 0.1 % off the whole ones, and a step measured in the end-to-end runs was 4 µs (0.026 %) off
/// the true one; just short of halfway between.
const STANDARD_WITHIN: f64 = 4.5e-4;

/// The exact frame duration a measured `step` stands for, µs: the standard one within
/// [`STANDARD_WITHIN`], else the step. A step is measured to the microsecond (16 667 µs for
/// 16 666.67), and a start aligned with it ten minutes of media away fell 12 ms off the frames.
fn standard_frame_us(step: Span) -> f64 {
    let step = step.0 as f64;
    STANDARD_FRAME_RATES
        .iter()
        .map(|fps| 1e6 / fps)
        .find(|exact| (step - exact).abs() <= exact * STANDARD_WITHIN)
        .unwrap_or(step)
}

/// Where `errors` (µs) fall within a step, as one offset within half a step either way: the
/// median of the errors, each wrapped into that range. Errors scattered across the wrap point
/// (an offset of half a step) sort to both ends, and the median is one of them: the same offset.
fn offset_on_grid(errors: impl Iterator<Item = f64>, step: f64) -> f64 {
    let mut wrapped: Vec<f64> = errors.map(|x| x - (x / step).round() * step).collect();
    if wrapped.is_empty() {
        return 0.0;
    }
    wrapped.sort_by(f64::total_cmp);
    wrapped[wrapped.len() / 2]
}

/// Which of `wrapped` (µs, within half a `step` either way) and its equals a whole step apart
/// is the grid offset: the one nearest the oldest viewer's (`oldest`: what it announced for
/// this state), however far past half a step, so that the picture is the one the oldest viewer
/// shows; without one, the one nearest the `last` offset in use, within the hysteresis.
fn grid_side(wrapped: f64, last: Option<f64>, oldest: Option<f64>, step: f64) -> f64 {
    match (oldest, last) {
        (Some(oldest), _) => nearest_equal(wrapped, oldest, step),
        (None, Some(last)) => offset_near(wrapped, last, step),
        (None, None) => wrapped,
    }
}

/// Of `wrapped` (µs, within half a `step` either way) and its equals a whole step apart, the
/// one nearest `last`, unless that is more than [`GRID_HYSTERESIS`] past half a step.
fn offset_near(wrapped: f64, last: f64, step: f64) -> f64 {
    let nearest = nearest_equal(wrapped, last, step);
    if nearest.abs() <= step / 2.0 + GRID_HYSTERESIS.0 as f64 {
        nearest
    } else {
        wrapped
    }
}

/// Of `offset` and its equals a whole `step` apart, the one nearest `to`.
fn nearest_equal(offset: f64, to: f64, step: f64) -> f64 {
    offset + ((to - offset) / step).round() * step
}

/// Least-squares line through the window's errors, read at `now`: averages frame-timing noise
/// and accounts for the error's current trend (the rate being applied).
fn line_at(window: &VecDeque<(LocalTime, f64)>, now: LocalTime) -> f64 {
    let n = window.len() as f64;
    let t0 = window[0].0;
    let tm = window.iter().map(|(t, _)| (*t - t0).0 as f64).sum::<f64>() / n;
    let em = window.iter().map(|(_, e)| *e).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (t, e) in window {
        let dx = (*t - t0).0 as f64 - tm;
        sxx += dx * dx;
        sxy += dx * (e - em);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    em + slope * ((now - t0).0 as f64 - tm)
}

/// Median of the latest `count` errors in the window: follows a one-step jump within a few
/// frames and ignores a single late or early frame.
pub(super) fn recent_median(window: &VecDeque<(LocalTime, f64)>, count: usize) -> f64 {
    let mut latest: Vec<f64> = window.iter().rev().take(count).map(|(_, e)| *e).collect();
    latest.sort_by(f64::total_cmp);
    let mid = latest.len() / 2;
    if latest.len() % 2 == 1 {
        latest[mid]
    } else {
        (latest[mid - 1] + latest[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::{
        grid_side, offset_near, offset_on_grid, standard_frame_us, Controller, ControllerConfig,
        MIN_TRIM_GAIN,
    };
    use crate::sync::time::Span;

    #[test]
    fn a_trim_that_reverses_the_last_halves_its_gain_and_one_that_goes_on_doubles_it() {
        let mut c = Controller::new(ControllerConfig::default());
        // (drift measured over a rest, ppm; trim after it, ppm; gain after it)
        let steps = [
            // Ran 2000 ppm slow: the first trim takes all of it.
            (-2_000.0, 2_000.0, 1.0),
            // Overshot: now 1000 ppm fast. The trim reverses: half the gain.
            (1_000.0, 1_500.0, 0.5),
            (-400.0, 1_600.0, 0.25),
            (800.0, 1_500.0, 0.125),
            // No lower than an eighth.
            (-800.0, 1_600.0, MIN_TRIM_GAIN),
            // Going on in one direction doubles it back...
            (-400.0, 1_700.0, 0.25),
            (-200.0, 1_800.0, 0.5),
            (-100.0, 1_900.0, 1.0),
            // ...up to 1.
            (-100.0, 2_000.0, 1.0),
        ];
        for (i, (drift, trim, gain)) in steps.into_iter().enumerate() {
            c.trim_against(drift * 1e-6);
            assert!(
                (c.trim * 1e6 - trim).abs() < 1e-6,
                "{i}: trim {}",
                c.trim * 1e6
            );
            assert_eq!(c.trim_gain, gain, "{i}");
        }
        // No drift measured: nothing moves, and the direction is kept.
        c.trim_against(0.0);
        assert!((c.trim * 1e6 - 2_000.0).abs() < 1e-6);
        c.trim_against(100.0 * 1e-6);
        assert_eq!(c.trim_gain, 0.5);
    }

    const STEP: f64 = 16_667.0;

    #[test]
    fn a_grid_offset_near_half_a_step_keeps_its_side() {
        // Measured at +8.0 ms after −7.9 ms: the same place a step over, kept on its side.
        assert!((offset_near(8_000.0, -7_900.0, STEP) - (8_000.0 - STEP)).abs() < 1e-6);
        assert!((offset_near(-8_100.0, 8_200.0, STEP) - (STEP - 8_100.0)).abs() < 1e-6);
        // Moving on past half a step by a little, it follows...
        assert!((offset_near(-6_000.0, 10_000.0, STEP) - (STEP - 6_000.0)).abs() < 1e-6);
        // ...but not beyond the hysteresis: then it is taken back to the other side.
        assert_eq!(offset_near(-5_000.0, 11_300.0, STEP), -5_000.0);
        // Away from half a step nothing changes.
        assert_eq!(offset_near(3_000.0, -7_900.0, STEP), 3_000.0);
        assert_eq!(offset_near(-2_000.0, 1_000.0, STEP), -2_000.0);
    }

    #[test]
    fn a_measured_step_stands_for_the_exact_standard_frame() {
        let exact = |step_us: i64, fps: f64| {
            let us = standard_frame_us(Span::from_micros(step_us));
            (us - 1e6 / fps).abs() < 1e-6
        };
        assert!(exact(16_667, 60.0));
        assert!(exact(16_663, 60.0));
        assert!(exact(16_674, 60.0));
        assert!(exact(16_683, 60_000.0 / 1_001.0));
        assert!(exact(33_367, 30_000.0 / 1_001.0));
        assert!(exact(41_667, 24.0));
        // A 75 Hz screen's refresh is no frame rate: the step as measured.
        assert_eq!(standard_frame_us(Span::from_micros(13_333)), 13_333.0);
    }

    #[test]
    fn the_oldest_viewers_side_of_the_tie_is_taken() {
        // The oldest viewer steers to +8.3 ms; this one measures the same place as −8.2 ms.
        let taken = grid_side(-8_200.0, None, Some(8_300.0), STEP);
        assert!((taken - (STEP - 8_200.0)).abs() < 1e-6, "{taken}");
        // Over this viewer's own last side, and beyond the hysteresis (another screen, whose
        // refreshes fall elsewhere: the frame nearest the oldest viewer's is the one to show).
        let taken = grid_side(-4_000.0, Some(-4_100.0), Some(8_300.0), STEP);
        assert!((taken - (STEP - 4_000.0)).abs() < 1e-6, "{taken}");
        // Alone, the own side is kept, as before.
        assert_eq!(grid_side(-8_200.0, Some(-8_100.0), None, STEP), -8_200.0);
        assert_eq!(grid_side(-8_200.0, None, None, STEP), -8_200.0);
        // A side on the same half as ours changes nothing.
        assert_eq!(grid_side(2_000.0, None, Some(3_000.0), STEP), 2_000.0);
    }

    #[test]
    fn the_grid_offset_ignores_whole_frames() {
        let errors = [-3_000.0, -3_000.0 + STEP, -3_000.0 - 2.0 * STEP, -2_900.0];
        let offset = offset_on_grid(errors.into_iter(), STEP);
        assert!((offset + 3_000.0).abs() < 1.0, "{offset}");
    }

    #[test]
    fn an_offset_at_the_wrap_point_stays_together() {
        // Half a step either way is the same offset: errors scattered across it.
        let errors = [8_200.0, -8_300.0, 8_250.0, -8_350.0 + STEP, 8_300.0];
        let offset = offset_on_grid(errors.into_iter(), STEP);
        let distance = (offset.abs() - 8_270.0).abs();
        assert!(distance < 100.0, "{offset}");
    }
}
