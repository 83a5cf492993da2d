//! A model of a browser video element, in true (simulated) time.
//!
//! It has the imperfections the controller must live with: seeks take 50–500 ms (each player
//! has its own typical latency, each seek varies around it), play starts late by a few tens of
//! ms, a rate change takes effect progressively (first-order response), the media clock runs on
//! the device's skewed clock (and may run off the requested rate on top of that, as a browser's
//! does when it follows the sound card's clock), frames are presented at 30 or 60 fps and
//! reported with the frame's media time and a slightly noisy presentation timestamp (as
//! `requestVideoFrameCallback` does), and it can stall.
//!
//! This file holds the element's state and how commands and time move it; the rest is by job:
//!
//! - `latency`: how long loads, seeks and starts take.
//! - `presentation`: when frames reach the viewer, optionally only at a display's refreshes
//!   ([`DisplaySpec`]), which frame Chromium's or Firefox's renderer shows there and which the
//!   page hears of ([`Renderer`]), and the frame grid the browser glue tells the engine.
//! - `cadence_renderer`: Chromium's renderer, the state it keeps from vsync to vsync (its
//!   cadence, the frame durations it measured) and its pick at each ([`CadenceMode`]).
//! - `media_clock`: optionally, the media clock as the page reads it, and its jumps in a
//!   browser with sound ([`ClockReadingSpec`]).
//!
//! The browsers' figures are in `crate::browsers`.
//!
//! Semantics of the commands follow `insieme::sync::PlayerCommand`, but for `PlayAt`, which
//! here is the element's `play()` called at the instant given, the motion following by the
//! start latency: the world's adapter layer calls it early by the learned start lead, as the
//! browser's player adapter does, so that the engine's `PlayAt` moves the media on time.

mod cadence_renderer;
mod latency;
mod media_clock;
mod presentation;
#[cfg(test)]
mod tests;

pub use cadence_renderer::CadenceMode;
pub use latency::{NEARBY_SEEK_FACTOR, NEARBY_SEEK_S};
pub use media_clock::{ClockReadingSpec, UNSTRETCHED_WITHIN};
pub use presentation::{DisplaySpec, Renderer};

use crate::rng::Rng;
use media_clock::CLOCK_STREAM;
use presentation::{Screen, SCREEN_STREAM};

/// One player's characteristics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayerSpec {
    pub fps: f64,
    /// Media time of the first frame, s: frame `k` starts at `first_frame_s + k / fps`. Not
    /// always zero: the end-to-end clip's frames start at 7 ms (its Opus track's pre-skip).
    pub first_frame_s: f64,
    /// Typical seek latency of this player, and the ± fraction by which each seek varies.
    pub seek_latency_us: f64,
    pub seek_variation: f64,
    /// Typical delay from "play" to motion, and its ± variation.
    pub start_latency_us: f64,
    pub start_variation_us: f64,
    /// Time constant of the response to a rate change.
    pub rate_tau_us: f64,
    pub load_latency_us: f64,
    /// ± uniform error of reported presentation timestamps.
    pub obs_noise_us: f64,
    /// Period of position reports while paused.
    pub paused_report_us: f64,
    /// The display frames are presented on; `None`: presentation is continuous.
    pub display: Option<DisplaySpec>,
    /// How the browser picks the frame shown at a refresh, and which it reports (with a
    /// display only).
    pub renderer: Renderer,
    /// The resolution of the page's clock (`performance.now()`), µs: every instant the page
    /// reports is a multiple of it (1: exact).
    pub timer_us: f64,
    /// How far the media clock runs off the commanded rate, in ppm (negative: slow): the media
    /// advances at rate × (1 + this × 1e-6) on top of the device clock's skew. Browsers drive
    /// the media clock from the sound card's clock, not the system clock; the engine is not
    /// told.
    pub media_rate_error_ppm: f64,
    /// The page reads the media clock at every presented frame, and the clock behaves as a
    /// browser's with sound under rate changes; `None`: frames are all the engine sees, and the
    /// clock answers every rate change smoothly.
    pub clock_readings: Option<ClockReadingSpec>,
}

/// A frame (or paused position) shown: media time and the true instant it was shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shown {
    pub media_s: f64,
    pub at_true_us: f64,
}

/// The simulated player.
#[derive(Clone, Debug)]
pub struct Player {
    pub spec: PlayerSpec,
    /// Media seconds per true second at rate 1: the device clock's rate (the media clock runs on
    /// the local clock) times the player's own media rate error.
    clock_rate: f64,
    rng: Rng,
    /// Scatter of the clock readings and the stretch jumps: a stream of its own, so that turning
    /// the readings on moves no other draw (seeks, starts, frame timestamps).
    clock_rng: Rng,
    /// The renderer's own draws (Firefox's refresh ticks and frame callbacks), likewise apart.
    screen_rng: Rng,
    t: i64,
    pos: f64,
    rate_cur: f64,
    rate_target: f64,
    /// The rate last set (`playbackRate`), which `rate_target` is the media clock's answer to.
    playback_rate: f64,
    media: Option<String>,
    load_done: Option<i64>,
    playing: bool,
    start_at: Option<i64>,
    /// When the page called `play()` for the pending start (the instant it asked for); from
    /// then on, a seek still under way makes the browser wait for data.
    play_called: Option<i64>,
    seek: Option<(i64, f64)>,
    stalled: bool,
    last_frame: i64,
    next_paused_report: i64,
    screen: Screen,
}

impl Player {
    /// A player on a device whose clock runs `clock_rate` local seconds per true second.
    pub fn new(spec: PlayerSpec, clock_rate: f64, rng: Rng, now: i64) -> Player {
        Player {
            spec,
            // The media clock: the device's, and off that by the player's own error.
            clock_rate: clock_rate * (1.0 + spec.media_rate_error_ppm * 1e-6),
            clock_rng: rng.clone().fork(CLOCK_STREAM),
            screen_rng: rng.clone().fork(SCREEN_STREAM),
            rng,
            t: now,
            pos: 0.0,
            rate_cur: 1.0,
            rate_target: 1.0,
            playback_rate: 1.0,
            media: None,
            load_done: None,
            playing: false,
            start_at: None,
            play_called: None,
            seek: None,
            stalled: false,
            last_frame: -1,
            next_paused_report: now,
            screen: Screen::default(),
        }
    }

    /// A player on an exact clock, loaded at true time 0 (at once, if its load latency is 0),
    /// set to `rate`, and `play()` called at `at`: where the model's own tests start.
    pub fn started(spec: PlayerSpec, rng: Rng, rate: f64, at: i64) -> Player {
        use insieme::sync::PlayerCommand as C;
        let mut p = Player::new(spec, 1.0, rng, 0);
        let load = C::Load {
            media_id: "m".into(),
        };
        p.command(0, &load, None);
        p.wake(0);
        p.command(0, &C::SetRate(rate), None);
        p.command(at, &C::PlayAt(insieme::sync::LocalTime(0)), Some(at));
        p
    }

    pub fn loaded(&self) -> bool {
        self.media.is_some() && self.load_done.is_none()
    }

    /// Whether the media clock is advancing.
    pub fn moving(&self) -> bool {
        self.loaded() && self.playing && self.seek.is_none() && !self.stalled
    }

    pub fn is_stalled(&self) -> bool {
        self.stalled
    }

    /// Whether a seek is under way (`seeking`).
    pub fn is_seeking(&self) -> bool {
        self.seek.is_some()
    }

    /// Whether the element is paused: not playing, and no `play()` called since the last pause
    /// or load (`paused`).
    pub fn is_paused(&self) -> bool {
        !self.playing && self.play_called.is_none()
    }

    /// The playback rate last set (`playbackRate`).
    pub fn playback_rate(&self) -> f64 {
        self.playback_rate
    }

    /// Whether the page reports buffering: a stall, or a seek under way once `play()` was
    /// called, during which the browser waits for data (`waiting`) as it does for a stall.
    pub fn is_buffering(&self) -> bool {
        let unpaused = self.playing || self.play_called.is_some_and(|c| c <= self.t);
        self.stalled || (self.loaded() && unpaused && self.seek.is_some())
    }

    /// Media position (seconds) at true time `t >= self.t`, without changing anything.
    pub fn pos_at(&self, t: i64) -> f64 {
        if self.moving() {
            self.pos + self.integrate(t - self.t).0
        } else {
            self.pos
        }
    }

    /// Media advance and new rate after `dt` microseconds of motion.
    fn integrate(&self, dt: i64) -> (f64, f64) {
        let dt = dt.max(0) as f64;
        let tau = self.spec.rate_tau_us.max(1.0);
        let decay = (-dt / tau).exp();
        let d_rate = self.rate_cur - self.rate_target;
        let area_us = self.rate_target * dt + d_rate * tau * (1.0 - decay);
        (
            area_us * self.clock_rate / 1e6,
            self.rate_target + d_rate * decay,
        )
    }

    fn advance(&mut self, t: i64) {
        if t <= self.t {
            return;
        }
        let (dpos, rate) = self.integrate(t - self.t);
        if self.moving() {
            self.pos += dpos;
        }
        self.rate_cur = rate;
        self.t = t;
    }

    fn shown_now(&self) -> Shown {
        Shown {
            media_s: self.pos,
            at_true_us: self.t as f64,
        }
    }

    /// Applies a command at true time `now`; `play_at_true` is when `play()` is called, in true
    /// time (for `PlayAt`; the adapter calls it at `now`). Returns what is shown as a direct
    /// result.
    pub fn command(
        &mut self,
        now: i64,
        cmd: &insieme::sync::PlayerCommand,
        play_at_true: Option<i64>,
    ) -> Vec<Shown> {
        use insieme::sync::PlayerCommand as C;
        self.advance(now);
        match cmd {
            C::Load { media_id } => {
                self.screen = Screen::default();
                self.media = Some(media_id.clone());
                let lat = self.sample_load_us();
                self.load_done = Some(now + lat as i64);
                self.pos = 0.0;
                self.playing = false;
                self.start_at = None;
                self.play_called = None;
                self.seek = None;
                vec![]
            }
            C::SeekTo(m) => {
                let lat = self.sample_seek_us(m.as_secs_f64());
                let done = now + lat as i64;
                self.seek = Some((done, m.as_secs_f64().max(0.0)));
                self.screen.flush();
                if let Some(s) = self.start_at {
                    let st = self.sample_start_us();
                    self.start_at = Some(s.max(done + st));
                }
                vec![]
            }
            C::SetRate(r) => {
                if r.is_finite() && *r > 0.0 {
                    self.jump_on_rate_change(self.rate_target, *r);
                    self.rate_target = self.clock_rate_at(*r);
                    self.playback_rate = *r;
                }
                vec![]
            }
            C::PlayAt(_) => {
                if self.playing {
                    return vec![];
                }
                let mut ready = play_at_true.unwrap_or(now).max(now);
                self.play_called = Some(ready);
                if let Some((d, _)) = self.seek {
                    ready = ready.max(d);
                }
                if let Some(d) = self.load_done {
                    ready = ready.max(d);
                }
                let st = self.sample_start_us();
                self.start_at = Some(ready + st);
                vec![]
            }
            C::Pause => {
                let was = self.moving();
                self.playing = false;
                self.start_at = None;
                self.play_called = None;
                self.screen.halt();
                if was {
                    vec![self.shown_now()]
                } else {
                    vec![]
                }
            }
        }
    }

    /// Freezes or unfreezes the media clock (buffering).
    pub fn set_stalled(&mut self, now: i64, stalled: bool) {
        self.advance(now);
        self.stalled = stalled;
        if stalled {
            self.screen.halt();
        } else {
            if let Some(s) = self.start_at {
                self.start_at = Some(s.max(now));
            }
            self.last_frame = self.frame_at(self.pos);
            self.begin_vsyncs(now);
        }
    }

    /// When something next happens without a command.
    pub fn next_event(&self) -> Option<i64> {
        let mut t: Option<i64> = None;
        let mut consider = |x: i64| t = Some(t.map_or(x, |t| t.min(x)));
        if let Some(d) = self.load_done {
            consider(d);
            return t;
        }
        self.media.as_ref()?;
        if let Some((d, _)) = self.seek {
            consider(d);
            // The browser starts waiting for the seek's data when `play()` is called.
            if let Some(c) = self.play_called.filter(|c| *c > self.t) {
                consider(c);
            }
        }
        if let (Some(s), None, false) = (self.start_at, self.seek, self.stalled) {
            consider(s);
        }
        if let (true, Some(d)) = (self.moving(), self.spec.display()) {
            consider(self.next_refresh(&d).ceil() as i64);
        } else if self.moving() {
            let next = self.frame_start(self.last_frame + 1);
            let speed = (self.rate_cur.min(self.rate_target) * self.clock_rate).max(1e-3);
            let dt = ((next - self.pos) / speed * 1e6).ceil().max(1.0);
            consider(self.t + dt as i64);
        } else if self.seek.is_none() && !self.stalled {
            consider(self.next_paused_report.max(self.t + 1));
        }
        t
    }

    /// Processes everything due at true time `t`; returns what was shown.
    pub fn wake(&mut self, t: i64) -> Vec<Shown> {
        self.advance(t);
        let mut shown = Vec::new();
        if let Some(d) = self.load_done {
            if d <= t {
                self.load_done = None;
                self.next_paused_report = t + self.spec.paused_report_us as i64;
                self.screen.frame = Some(self.frame_at(self.pos));
                shown.push(self.shown_now());
            }
            return shown;
        }
        if self.media.is_none() {
            return shown;
        }
        if let Some((d, target)) = self.seek {
            if d <= t {
                self.seek = None;
                self.pos = target;
                self.last_frame = self.frame_at(target);
                self.next_paused_report = t + self.spec.paused_report_us as i64;
                if self.spec.display().is_some() && self.playing && !self.stalled {
                    // Playing on: the new frame is shown at the next vsync, as the first
                    // frame of the motion (requestVideoFrameCallback reports it then).
                    self.screen.frame = None;
                } else {
                    self.screen.frame = Some(self.frame_at(target));
                    shown.push(self.shown_now());
                }
            }
        }
        if let (Some(s), None, false) = (self.start_at, self.seek, self.stalled) {
            if s <= t {
                self.start_at = None;
                self.play_called = None;
                self.playing = true;
                self.last_frame = self.frame_at(self.pos);
            }
        }
        if self.moving() && self.spec.display().is_some() {
            self.begin_vsyncs(t);
            self.present_due(t, &mut shown);
        } else if self.moving() {
            let k = self.frame_at(self.pos);
            if k > self.last_frame {
                let speed = self.rate_cur * self.clock_rate;
                let back = (self.pos - self.frame_start(k)) / speed * 1e6;
                shown.push(Shown {
                    media_s: self.frame_start(k),
                    at_true_us: t as f64 - back,
                });
                self.last_frame = k;
            }
        } else if self.seek.is_none() && !self.stalled && t >= self.next_paused_report {
            self.next_paused_report = t + self.spec.paused_report_us as i64;
            shown.push(self.shown_now());
        }
        shown
    }
}
