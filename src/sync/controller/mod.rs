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
//!
//! This module keeps the mode machine (idle, paused, starting, playing, pausing at an instant)
//! and ties the jobs, each in a module of its own:
//!
//! - `planning`: states into seeks and scheduled starts; seek attribution and back-off.
//! - `rate`: the rate correction (deadband, proportional term, quantized steps, trim), and
//!   steering by the media clock ([`super::clock_steering`]).
//! - `latency`: how long seeks and starts take, learned for the margins.
//! - `grid`: the presentation step and where on the frame grid the clock is steered.
//! - `landing`: a start that landed further off than the rate removes in a second is started
//!   again, once.
//! - `timers`: the named instants seeks are attributed and rate-limited by.
//!
//! Dated measurements behind these rules are in `docs/measurements/controller.md`.

mod grid;
mod landing;
mod latency;
mod planning;
mod rate;
mod timers;

use super::clock::RoomMap;
use super::clock_steering::ClockSteering;
use super::samples::cadence_mean;
use super::state::Versioned;
use super::time::{LocalTime, MediaTime, Span};
use grid::Grid;
use latency::Latencies;
use planning::Planning;
use rate::Rate;
use std::collections::VecDeque;
use timers::{Timer, TimerTable};

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
    /// How far leaving the normal rate is taken to set the player's media clock back until a
    /// correction measured it: the browser's ([`crate::sync::browser_kind`]; Chromium about
    /// 20 ms, `docs/measurements/clock.md`), zero where the glue knows of none. A player's first
    /// correction, after its first start, is where it matters: unaware of Chromium's jump, a
    /// start that landed 11 ms ahead was slowed down, the jump took it 9 ms behind, and the
    /// correction overshot and turned (0.95, then 1.05 for 430 ms).
    pub entry_jump_guess: Span,
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
            entry_jump_guess: Span::ZERO,
        }
    }
}

/// With quantized presentation: how many of the latest frames the error is the median of
/// (about 120 ms at 60 fps: short enough to see a one-step jump soon after it happens).
const QUANTIZED_ERROR_FRAMES: usize = 7;
/// The picture's error ([`Controller::picture_error`]) is unknown once no frame was shown for
/// this long: a player that stopped presenting (a hidden tab, a stuck decoder) has no picture
/// to measure.
const PICTURE_FRESH: Span = Span::from_millis(250);

/// Clock readings steer a player that shows no frames only when they come at least this often
/// (a hidden page reads its clock every 50 ms while it plays sound): a fast correction closed
/// on readings a second apart (a silent hidden page's throttled timers) overshoots by more than
/// it corrects.
const UNSEEN_READINGS_GAP: Span = Span::from_millis(150);

/// A start with no frame (nor paused position) reported for this long is seen by its clock
/// readings instead: a hidden page presents no frames (a shown one, within a frame or two).
const UNSEEN_START: Span = Span::from_millis(500);

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
    /// Starts that landed too far off for the rate and were started again ([`landing`]).
    pub start_restarts: u64,
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
        /// This start is the restart of one that landed too far off ([`landing`]): wherever it
        /// lands, the rate corrects it.
        restart: bool,
    },
    /// Moving; continuous control.
    Playing,
}

/// The drift controller for one local player.
#[derive(Clone, Debug)]
pub struct Controller {
    cfg: ControllerConfig,
    /// The media asked of the player, and whether it is still loading (until its first report).
    loaded: Option<String>,
    loading: bool,
    mode: Mode,
    /// Whether the player was last told to play (rather than to pause).
    playing_cmd: bool,
    /// Whether the player is stalled (buffering).
    stalled: bool,
    /// The latest observation.
    last_obs: Option<Observation>,
    /// When the clock was last read.
    last_reading: Option<LocalTime>,
    planning: Planning,
    rate: Rate,
    latency: Latencies,
    grid: Grid,
    /// Steering by the media clock, where the player reads it.
    clock: ClockSteering,
    /// The start just seen to move may be started again if its first error is too large for
    /// the rate ([`landing`]); cleared by that first error.
    landing_unchecked: bool,
    timers: TimerTable,
    stats: ControllerStats,
}

impl Controller {
    pub fn new(cfg: ControllerConfig) -> Controller {
        let (fast_rate, entry_jump_guess) = (cfg.max_rate_dev, cfg.entry_jump_guess.0 as f64);
        Controller {
            planning: Planning::new(cfg.min_seek_gap),
            cfg,
            loaded: None,
            loading: false,
            mode: Mode::Idle,
            playing_cmd: false,
            stalled: false,
            last_obs: None,
            last_reading: None,
            rate: Rate::new(),
            latency: Latencies::new(),
            grid: Grid::new(),
            clock: ClockSteering::new(fast_rate, entry_jump_guess),
            landing_unchecked: false,
            timers: TimerTable::default(),
            stats: ControllerStats::default(),
        }
    }

    pub fn stats(&self) -> &ControllerStats {
        &self.stats
    }

    /// Latest filtered error (player minus room timeline; positive means ahead), while playing.
    pub fn error(&self) -> Option<Span> {
        self.rate.error
    }

    /// How far the picture is from the timeline (positive: ahead), as presented frames show
    /// it: their media time against the timeline at the instant each was shown, averaged over
    /// whole cadences of the frame grid ([`cadence_mean`]), so it moves only when the picture
    /// does, whatever the frame rate. No grid offset is taken off: this is the picture's raw
    /// error, the same for viewers showing the same frames at the same refreshes, and what each
    /// viewer sends the others; the offset people see is it less the room's median of them
    /// (issue 19).
    ///
    /// [`Controller::error`] is what the controller steers by: where the player reads its media
    /// clock, the clock's error. A renderer can keep its picture a frame or more off that clock
    /// (a cadence it holds, a decoder that lags), and the clock's error then reads zero while
    /// the picture is off; this reads the picture. `None` unless playing on the timeline with a
    /// frame shown within [`PICTURE_FRESH`] of `now`.
    pub fn picture_error(&self, now: LocalTime) -> Option<Span> {
        self.rate.error?; // not while a seek, a start or a stall is under way
        let &(latest, _) = self.rate.window.back()?;
        if !self.moving() || self.stalled || now - latest > PICTURE_FRESH {
            return None;
        }
        let places = if self.quantized() {
            self.grid.places()
        } else {
            1
        };
        let mean = cadence_mean(&self.rate.window, places as usize)?;
        Some(Span(mean.round() as i64))
    }

    /// Time this player needs to be ready for a start that needs a seek.
    pub fn prep(&self) -> Span {
        self.latency.prep()
    }

    /// How long a seek across the media took this player, rarely exceeded, once it has made
    /// one on the media loaded: peers that have not plan with it.
    pub fn measured_seek(&self) -> Option<Span> {
        self.latency.measured_seek()
    }

    /// The largest [`Controller::measured_seek`] among the peers, if any has measured one on
    /// this media: our seeks are planned with it until we measured our own.
    pub fn set_told_seek(&mut self, told: Option<Span>) {
        self.latency.set_told_seek(told);
    }

    /// Media time of the latest observation (where a stalled player froze).
    pub fn last_position(&self) -> Option<MediaTime> {
        self.last_obs.map(|o| o.media_time)
    }

    /// Forgets the plan, e.g. when the room timeline changed under us: the next update plans
    /// afresh, and seeks in the next moments are attributed to the change.
    pub fn timeline_changed(&mut self, now: LocalTime) {
        self.timers.set(Timer::JoinGrace, now + self.cfg.grace);
        self.landing_unchecked = false;
        self.forget_errors(now);
    }

    /// Whether a seek we asked for has not shown its first frame yet.
    pub fn seeking(&self) -> bool {
        self.latency.seeking()
    }

    /// Whether that seek is a catch-up of our own with a room already moving (we fell behind,
    /// or a start came too late to make): the room waits for no stall in it.
    pub fn catching_up(&self) -> bool {
        self.seeking() && self.planning.catching_up
    }

    /// The local player stalled (buffering) or recovered.
    pub fn set_stalled(&mut self, now: LocalTime, stalled: bool) {
        self.stalled = stalled;
        // The first error after a stall is the stall's, not the start's.
        self.landing_unchecked = false;
        self.forget_errors(now);
        self.timers.set(Timer::StallGrace, now + self.cfg.grace);
        if !stalled {
            // Catching up after a stall is expected; do not make it wait for back-off.
            self.timers.stop(Timer::SeekBackoff);
        }
    }

    /// When the controller next needs an update without any input: the earliest of its
    /// wake-ups, each named below.
    pub fn deadline(&self) -> Option<LocalTime> {
        // The scheduled pause.
        let pause = match self.mode {
            Mode::PausingAt(t) => Some(t),
            _ => None,
        };
        // A start that never showed motion is retried. A stalled player cannot start; its
        // recovery will be reported.
        let start_retry = match self.mode {
            Mode::Starting { at, .. } if !self.stalled => Some(at + self.start_timeout()),
            _ => None,
        };
        // A fast correction the media clock does not answer is abandoned.
        let fast_correction = self.clock.deadline();
        [pause, start_retry, fast_correction]
            .into_iter()
            .flatten()
            .min()
    }

    /// How long after its instant a start that never showed motion is retried.
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
        self.latency.new_media();
        self.grid.offset = None;
        self.grid.new_media();
        self.loading = true;
        self.mode = Mode::Idle;
        self.playing_cmd = false;
        self.planning.planned = None;
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
        if self.planning.planned != Some(v.stamp) {
            let (grace, cause) = if self.planning.planned.is_none() {
                (Timer::JoinGrace, SeekCause::Join)
            } else {
                (Timer::IntentGrace, SeekCause::Intent)
            };
            self.timers.set(grace, now + self.cfg.grace);
            self.planning.planned = Some(v.stamp);
            // A new state anchors the timeline anew, and where it falls between refreshes with
            // it: the grid offset is measured afresh (an old side carried through a seek can
            // leave a viewer showing a frame apart for seconds).
            self.grid.offset = None;
            self.plan(now, v, map, cause, out);
            return;
        }
        match self.mode {
            Mode::PausingAt(t) if now >= t => {
                out.push_back(PlayerCommand::Pause);
                self.playing_cmd = false;
                self.mode = Mode::Paused;
                self.rate.error = None;
            }
            Mode::Starting {
                at,
                retries,
                restart,
                ..
            } if !self.stalled && now >= at + self.start_timeout() => {
                // The start never showed: try again from the timeline, a bounded number of
                // times (a player that refuses to play must not be hammered).
                self.stats.start_retries += 1;
                if retries < 3 {
                    let cause = self.cause_at(now);
                    self.catch_up(now, v, map, cause, out);
                    if let Mode::Starting {
                        retries: r,
                        restart: again,
                        ..
                    } = &mut self.mode
                    {
                        *r = retries + 1;
                        // The retry of a restart is still that restart: never a second one.
                        *again = restart;
                    }
                } else {
                    self.mode = Mode::Idle;
                }
            }
            Mode::Playing if !self.stalled => self.follow_timeline(now, v, map, out),
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
            self.planning.planned = None;
            self.last_obs = Some(obs);
            self.update(now, desired, out);
            return;
        }
        self.last_obs = Some(obs);
        if self.stalled {
            return;
        }
        if !self.latency.seek_settled_by(obs) {
            return;
        }
        let Some((v, map)) = desired else { return };
        let p = &v.playback;
        match self.mode {
            Mode::Starting {
                play_at,
                from,
                restart,
                ..
            } => {
                let moved = obs.media_time - from;
                if moved > Span::from_micros(500) {
                    let started =
                        obs.presented_at - moved.mul_f64(1.0 / self.rate.commanded.max(1e-3));
                    self.latency.started(started, play_at);
                    self.stats.starts += 1;
                    self.mode = Mode::Playing;
                    self.landing_unchecked = !restart;
                    self.forget_errors(now);
                    self.clock.started(now);
                    self.rate.ideal = p.speed_at(map.to_room(now)) * (1.0 + map.skew);
                    if !p.playing && map.to_local(p.anchor_room) > now {
                        self.mode = Mode::PausingAt(map.to_local(p.anchor_room));
                    }
                }
            }
            Mode::Paused => {
                let at = map.to_room(obs.presented_at);
                let want = p.position_at(at);
                if (obs.media_time - want).abs() > self.cfg.paused_tolerance
                    && !self.planning.paused_fixed
                    && p.speed_at(at) == 0.0
                {
                    self.planning.paused_fixed = true;
                    self.seek_to(now, want, SeekCause::Intent, out);
                }
            }
            Mode::Playing | Mode::PausingAt(_) => {
                self.grid.presented(obs);
                self.correct(now, obs, v, map, out)
            }
            Mode::Idle => {}
        }
    }

    /// Feeds one reading of the player's media clock; while the player keeps reading it, it is
    /// what the controller steers by. Readings are errors only while moving on the timeline.
    ///
    /// They steer on their own where the player presents no frames but plays on (a hidden tab:
    /// no frame callbacks, yet its sound goes on), when they come often enough
    /// ([`UNSEEN_READINGS_GAP`]): so its sound keeps to the timeline, and the picture is on time
    /// when frames come back. Where frames come, each frame's observation
    /// steers, with the clock read just before it.
    pub fn observe_clock(
        &mut self,
        now: LocalTime,
        reading: ClockReading,
        desired: Option<(&Versioned, &RoomMap)>,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let previous = self.last_reading.replace(reading.read_at);
        if matches!(self.mode, Mode::Starting { .. }) && !self.stalled {
            // A start (and the seek before it) waits for a frame showing motion; a hidden page
            // shows none, and would retry the start until it gave up. Where no frame came for
            // UNSEEN_START, the moving clock is the motion.
            let unseen = self
                .last_obs
                .is_none_or(|o| reading.read_at - o.presented_at > UNSEEN_START);
            if unseen {
                let obs = Observation {
                    media_time: reading.media_time,
                    presented_at: reading.read_at,
                };
                self.observe(now, obs, desired, out);
            }
            return;
        }
        let Some((v, map)) = desired else { return };
        if !self.moving() || self.stalled || self.latency.seeking() || self.loading {
            return;
        }
        let target = v.playback.position_at(map.to_room(reading.read_at));
        let error = (reading.media_time - target).0 as f64;
        self.clock.record(reading.read_at, error);
        let often = previous.is_some_and(|t| reading.read_at - t <= UNSEEN_READINGS_GAP);
        if often && !self.presenting(now) {
            // The frames from before say nothing of the picture that comes back.
            self.rate.window.clear();
            self.correct_by_clock(now, v, map, out);
        }
    }

    /// Whether the player showed a frame within [`PICTURE_FRESH`] of `now`.
    fn presenting(&self, now: LocalTime) -> bool {
        self.last_obs
            .is_some_and(|o| now - o.presented_at <= PICTURE_FRESH)
    }

    /// Whether the player moves on the timeline (playing, or playing until a scheduled pause).
    fn moving(&self) -> bool {
        matches!(self.mode, Mode::Playing | Mode::PausingAt(_))
    }

    /// Errors measured before a seek, a start, a stall or a timeline change say nothing of the
    /// player after it.
    fn forget_errors(&mut self, now: LocalTime) {
        self.rate.window.clear();
        self.clock.restart(now);
    }
}
