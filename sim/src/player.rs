//! A model of a browser video element, in true (simulated) time.
//!
//! It has the imperfections the controller must live with: seeks take 50–500 ms (each player
//! has its own typical latency, each seek varies around it), play starts late by a few tens of
//! ms, a rate change takes effect progressively (first-order response), the media clock runs on
//! the device's skewed clock (and may run off the requested rate on top of that, as a browser's
//! does when it follows the sound card's clock), frames are presented at 30 or 60 fps and reported with the
//! frame's media time and a slightly noisy presentation timestamp (as
//! `requestVideoFrameCallback` does), and it can stall.
//!
//! Optionally it presents on a display ([`DisplaySpec`]), as a browser does: a frame appears
//! only at a vsync, and the renderer keeps a steady frame cadence (Chromium's
//! `VideoRendererAlgorithm`: for 60 fps on 60 Hz, the next frame at every vsync) until the
//! cadence frame has drifted more than a set amount from the media clock, and only then drops or
//! repeats a frame. What is shown then follows the media clock in whole refresh steps, with
//! hysteresis. Without a display, frames are observed the instant the clock crosses them.
//!
//! Optionally the page also reads the media clock ([`ClockReadingSpec`]): `currentTime` with
//! the instant of the read, at every presented frame, scattered as measured in Chromium; and
//! the clock then jumps as Chromium's does when the audio renderer starts stretching the sound.
//!
//! Semantics of the commands follow `insieme::sync::PlayerCommand`, but for `PlayAt`, which
//! here is the element's `play()` called at the instant given, the motion following by the
//! start latency: the world's adapter layer calls it early by the learned start lead, as the
//! browser's player adapter does, so that the engine's `PlayAt` moves the media on time.

use crate::rng::Rng;

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

/// The media clock as a page reads it (`currentTime` and `performance.now()` in every
/// requestVideoFrameCallback while playing) and as it answers the rate, measured in headless
/// Chromium playing a video with an audio track (the media clock follows the audio renderer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockReadingSpec {
    /// Standard deviation of a reading around the true media clock at the instant of the read
    /// (measured: 0.2–0.5 ms), µs...
    pub noise_us_sd: f64,
    /// ...and while the audio renderer stretches the sound ([`is_stretched`]; measured: 2.2–3.1
    /// ms about a line through 12 readings, against 0.05 ms unstretched), µs.
    pub stretched_noise_us_sd: f64,
    /// How far the media clock is set back when the rate leaves the normal one for a stretched
    /// one, faster or slower ([`is_stretched`]; measured: 19–27 ms), µs.
    pub stretch_entry_jump_us: f64,
    /// The clock moves forward by up to this (uniformly) when the rate returns to the normal one
    /// (measured: 0–4 ms), µs.
    pub stretch_exit_gain_max_us: f64,
}

/// Within this fraction of 1.0 Chromium's audio renderer plays the sound unstretched (one
/// sample of its 20 ms window at 48 kHz), and the media clock runs at 1.0 whatever the rate:
/// viewers set to 1.001 ran at 1.0000 ± 11 ppm; 1.0 → 1.002 jumped.
pub const UNSTRETCHED_WITHIN: f64 = 1.0 / 960.0;

/// Whether the audio renderer stretches the sound at this rate. The normal rate is 1.0 whatever
/// speed the room plays at: it is the sound's own.
pub fn is_stretched(rate: f64) -> bool {
    (rate - 1.0).abs() > UNSTRETCHED_WITHIN
}

/// A seek this close to where the player stands (seconds) finds its data decoded already...
pub const NEARBY_SEEK_S: f64 = 0.5;
/// ...and takes this share of a seek's latency. In the end-to-end runs the seek to 0 s after
/// loading took 7–15 ms, and a seek to 10 s while three browsers played took 60–145 ms.
pub const NEARBY_SEEK_FACTOR: f64 = 0.1;

impl PlayerSpec {
    /// The display, if it is one a person could watch (else presentation is continuous).
    pub fn display(&self) -> Option<DisplaySpec> {
        self.display.filter(|d| {
            (1_000.0..=1e6).contains(&d.refresh_us)
                && d.phase_us.is_finite()
                && d.max_drift_us.is_finite()
                && self.fps.is_finite()
                && self.fps > 0.0
        })
    }

    /// How finely frames are placed in time: the refresh interval, or the frame duration where
    /// that is shorter (what the browser glue tells the engine); `None` without a display.
    pub fn presentation_step(&self) -> Option<insieme::sync::Span> {
        let d = self.display()?;
        let us = d.refresh_us.min(1e6 / self.fps);
        Some(insieme::sync::Span::from_micros(us.round() as i64))
    }

    /// The exact length of the frame grid (the step before rounding to a microsecond), when
    /// frames fall at one fixed place on it: both the refresh interval and the frame duration
    /// are whole multiples of the step (60 or 30 fps on 60 Hz, 120 fps on 60 Hz). Then a frame
    /// `k` (media time `k / fps`) is only ever shown at a vsync `n` with
    /// `vsync(n) - k / fps` the same modulo the step, whichever frame the cadence picks. Not so
    /// for 24 fps on 60 Hz (frames 2.5 refreshes long: two places, alternately): `None`.
    pub fn frame_grid_us(&self) -> Option<f64> {
        let d = self.display()?;
        let frame_us = 1e6 / self.fps;
        let step_us = d.refresh_us.min(frame_us);
        let whole = |x: f64| ((x / step_us) - (x / step_us).round()).abs() < 1e-6;
        (whole(d.refresh_us) && whole(frame_us)).then_some(step_us)
    }

    /// What the browser glue would tell the engine as [`insieme::sync::Input::FrameGrid`]
    /// around true time `near_us`: a vsync on the local clock (`to_local`: true µs to local µs),
    /// the refresh interval and the frame duration in local µs. `None` when frames do not fall
    /// at one fixed place on the grid ([`PlayerSpec::frame_grid_us`]).
    pub fn frame_grid(
        &self,
        near_us: f64,
        to_local: impl Fn(f64) -> f64,
    ) -> Option<insieme::sync::FrameGrid> {
        let d = self.display()?;
        self.frame_grid_us()?;
        let vsync = d.vsync(d.first_from(near_us.ceil() as i64));
        // Local µs per true µs: the refresh as the device's own clock measures it.
        let scale = to_local(1e6) - to_local(0.0);
        let frame_us = 1e6 / self.fps;
        Some(insieme::sync::FrameGrid {
            vsync: insieme::sync::LocalTime(to_local(vsync).round() as i64),
            refresh_us: d.refresh_us * scale / 1e6,
            frame: insieme::sync::MediaTime::from_secs_f64(self.first_frame_s),
            frame_us,
        })
    }
}

/// A display: vsyncs at true instants `phase + n * refresh`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DisplaySpec {
    pub refresh_us: f64,
    pub phase_us: f64,
    /// The renderer keeps its cadence while the cadence frame is within this of the media clock
    /// (Chromium's max_acceptable_drift, about 15 ms).
    pub max_drift_us: f64,
}

impl DisplaySpec {
    fn vsync(&self, n: i64) -> f64 {
        self.phase_us + n as f64 * self.refresh_us
    }

    /// The first vsync at or after true time `t`.
    fn first_from(&self, t: i64) -> i64 {
        ((t as f64 - self.phase_us) / self.refresh_us).ceil() as i64
    }
}

/// What a display shows (unused without one).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Screen {
    /// The frame on screen.
    frame: Option<i64>,
    /// Media time and true vsync instant of the latest frame presented while moving.
    presented: Option<(f64, f64)>,
    /// The renderer's cadence position (in frames) at the latest vsync; `None` until the first
    /// vsync of a motion, which shows the frame nearest the clock.
    cadence: Option<f64>,
    /// The next vsync to present at, while moving.
    next_vsync: Option<i64>,
}

impl Screen {
    /// Motion stopped: the picture stays, the cadence starts afresh with the next motion.
    fn halt(&mut self) {
        self.presented = None;
        self.cadence = None;
        self.next_vsync = None;
    }
}

/// A frame (or paused position) shown: media time and the true instant it was shown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shown {
    pub media_s: f64,
    pub at_true_us: f64,
}

/// Salt of the clock readings' random stream.
const CLOCK_STREAM: u64 = 0xC10C;

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

    fn sample_start(&mut self) -> i64 {
        let v = self.spec.start_variation_us;
        (self.spec.start_latency_us + self.rng.range(-v, v)).max(0.0) as i64
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
                let lat = self.spec.load_latency_us * self.rng.range(0.7, 1.3);
                self.load_done = Some(now + lat as i64);
                self.pos = 0.0;
                self.playing = false;
                self.start_at = None;
                self.play_called = None;
                self.seek = None;
                vec![]
            }
            C::SeekTo(m) => {
                let v = self.spec.seek_variation;
                let mut lat = self.spec.seek_latency_us * self.rng.range(1.0 - v, 1.0 + v);
                if (m.as_secs_f64() - self.pos).abs() < NEARBY_SEEK_S {
                    lat *= NEARBY_SEEK_FACTOR;
                }
                let done = now + lat as i64;
                self.seek = Some((done, m.as_secs_f64().max(0.0)));
                self.screen.halt();
                if let Some(s) = self.start_at {
                    let st = self.sample_start();
                    self.start_at = Some(s.max(done + st));
                }
                vec![]
            }
            C::SetRate(r) => {
                if r.is_finite() && *r > 0.0 {
                    self.jump_on_stretch(self.rate_target, *r);
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
                let st = self.sample_start();
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

    /// The rate the media clock runs at when `playbackRate` is `rate`: with [`ClockReadingSpec`]
    /// (Chromium with sound), 1.0 for any rate the sound plays unstretched at.
    fn clock_rate_at(&self, rate: f64) -> f64 {
        if self.spec.clock_readings.is_some() && !is_stretched(rate) {
            1.0
        } else {
            rate
        }
    }

    /// The media clock's jump when a rate change starts or ends the audio renderer's stretching
    /// (only with [`ClockReadingSpec`], and only while the sound plays). The rate set is
    /// `playbackRate`, which takes effect at once for the renderer, whatever the response of
    /// the motion.
    fn jump_on_stretch(&mut self, from: f64, to: f64) {
        let Some(spec) = self.spec.clock_readings else {
            return;
        };
        if !self.moving() {
            return;
        }
        let jump_us = match (is_stretched(from), is_stretched(to)) {
            (false, true) => -spec.stretch_entry_jump_us,
            (true, false) => self.clock_rng.range(0.0, spec.stretch_exit_gain_max_us),
            _ => return,
        };
        self.pos = (self.pos + jump_us / 1e6).max(0.0);
    }

    /// The media clock as the page reads it at true time `now` (`currentTime`, seconds), where
    /// it reads it: with [`ClockReadingSpec`], while moving, scattered around the true clock.
    pub fn read_clock(&mut self, now: i64) -> Option<f64> {
        let spec = self.spec.clock_readings?;
        if !self.moving() {
            return None;
        }
        let sd = if is_stretched(self.rate_target) {
            spec.stretched_noise_us_sd
        } else {
            spec.noise_us_sd
        };
        let scatter_us = self.clock_rng.normal() * sd;
        Some(self.pos_at(now) + scatter_us / 1e6)
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
            let n = self
                .screen
                .next_vsync
                .unwrap_or_else(|| d.first_from(self.t));
            consider(d.vsync(n).ceil() as i64);
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

    /// What the viewer sees at true time `t >= self.t`, in media seconds. With a display and
    /// while moving: the frame on screen carried forward at rate 1 since its vsync (the way the
    /// browser benchmark reads a page's frames), so a viewer one frame behind shows a whole
    /// frame's offset. Otherwise the media clock itself.
    pub fn shown_at(&self, t: i64) -> f64 {
        match self.screen.presented {
            Some((media_s, at)) if self.moving() && self.spec.display().is_some() => {
                media_s + (t as f64 - at).max(0.0) / 1e6
            }
            _ => self.pos_at(t),
        }
    }

    /// The frame showing media time `media_s` (the last to start at or before it; the first
    /// before that).
    fn frame_at(&self, media_s: f64) -> i64 {
        (((media_s - self.spec.first_frame_s) * self.spec.fps + 1e-9).floor() as i64).max(0)
    }

    /// Media time at which frame `k` starts, s.
    fn frame_start(&self, k: i64) -> f64 {
        self.spec.first_frame_s + k as f64 / self.spec.fps
    }

    /// Motion has begun at `t` (or goes on): vsyncs from the first at or after `t` present.
    fn begin_vsyncs(&mut self, t: i64) {
        if let (true, None, Some(d)) = (self.moving(), self.screen.next_vsync, self.spec.display())
        {
            self.screen.next_vsync = Some(d.first_from(t));
        }
    }

    /// Presents at every vsync up to `t` (the clock has been advanced to `t` and was moving).
    fn present_due(&mut self, t: i64, shown: &mut Vec<Shown>) {
        let Some(d) = self.spec.display() else { return };
        let Some(mut n) = self.screen.next_vsync else {
            return;
        };
        while d.vsync(n) <= t as f64 {
            self.present(&d, d.vsync(n), t, shown);
            n += 1;
        }
        self.screen.next_vsync = Some(n);
    }

    /// The renderer's choice at the vsync at true time `v <= t = self.t`: the cadence frame
    /// while it is within the drift bound of the media clock, else (and at a motion's first
    /// vsync) the frame nearest the clock. A frame that differs from the one on screen is shown
    /// and reported with `v` as its presentation time.
    fn present(&mut self, d: &DisplaySpec, v: f64, t: i64, shown: &mut Vec<Shown>) {
        let fps = self.spec.fps;
        let speed = (self.rate_cur * self.clock_rate).max(1e-3);
        // The media clock at the vsync, counted from the first frame.
        let clock = self.pos - (t as f64 - v).max(0.0) * speed / 1e6 - self.spec.first_frame_s;
        // Cadence positions advance by this many frames per vsync (1 for 60 fps on 60 Hz,
        // 0.5 for 30 fps: each frame for two vsyncs); a frame is shown while the cadence is
        // within it.
        let per_vsync = fps * d.refresh_us / 1e6;
        let drift_us = |c: f64| (c / fps - clock).abs() / speed * 1e6;
        let grid = per_vsync.min(1.0);
        let mut c = self
            .screen
            .cadence
            .map(|c| c + per_vsync)
            .filter(|c| drift_us(*c) <= d.max_drift_us)
            .unwrap_or_else(|| (clock * fps / grid).round() * grid);
        let mut frame = ((c + 1e-9).floor() as i64).max(0);
        if let Some(on) = self.screen.frame.filter(|on| *on > frame) {
            // A playing video never steps back: hold the frame on screen instead.
            frame = on;
            c = on as f64;
        }
        self.screen.cadence = Some(c);
        if self.screen.frame != Some(frame) {
            let media_s = self.frame_start(frame);
            self.screen.frame = Some(frame);
            self.screen.presented = Some((media_s, v));
            shown.push(Shown {
                media_s,
                at_true_us: v,
            });
        }
    }

    /// Uniform noise for a presentation timestamp.
    pub fn noise(&mut self) -> f64 {
        let n = self.spec.obs_noise_us;
        self.rng.range(-n, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use insieme::sync::{MediaTime, PlayerCommand as C};

    const REFRESH: f64 = 1e6 / 60.0;

    fn spec(fps: f64) -> PlayerSpec {
        PlayerSpec {
            fps,
            first_frame_s: 0.0,
            seek_latency_us: 100_000.0,
            seek_variation: 0.0,
            start_latency_us: 0.0,
            start_variation_us: 0.0,
            rate_tau_us: 1.0,
            load_latency_us: 0.0,
            obs_noise_us: 0.0,
            paused_report_us: 250_000.0,
            display: Some(DisplaySpec {
                refresh_us: REFRESH,
                phase_us: 1_234.5,
                max_drift_us: 15_000.0,
            }),
            media_rate_error_ppm: 0.0,
            clock_readings: None,
        }
    }

    /// Plays at `rate` for `secs` and returns each shown frame with the media clock at its
    /// vsync (in seconds).
    fn play(fps: f64, rate: f64, secs: f64) -> Vec<(Shown, f64)> {
        play_spec(spec(fps), rate, secs)
    }

    /// A player loaded, set to `rate` and told to play at true time `at`.
    fn started(spec: PlayerSpec, rate: f64, at: i64) -> Player {
        let mut p = Player::new(spec, 1.0, Rng::new(1), 0);
        p.command(
            0,
            &C::Load {
                media_id: "m".into(),
            },
            None,
        );
        p.wake(0);
        p.command(0, &C::SetRate(rate), None);
        p.command(at, &C::PlayAt(insieme::sync::LocalTime(0)), Some(at));
        p
    }

    fn play_spec(spec: PlayerSpec, rate: f64, secs: f64) -> Vec<(Shown, f64)> {
        let mut p = started(spec, rate, 1_000);
        let mut out = Vec::new();
        while let Some(t) = p.next_event() {
            if t > (secs * 1e6) as i64 {
                break;
            }
            let clock = p.pos_at(t);
            for s in p.wake(t) {
                // The vsync is at most 1 µs before the wake.
                out.push((s, clock));
            }
        }
        out
    }

    fn on_vsync(at: f64) -> bool {
        let n = (at - 1_234.5) / REFRESH;
        (n - n.round()).abs() < 1e-6
    }

    /// Each frame shown `refreshes` vsyncs after the one before, and the next frame at `fps`.
    fn assert_cadence(shown: &[(Shown, f64)], refreshes: f64, fps: f64) {
        for w in shown.windows(2) {
            let (a, b) = (w[0].0, w[1].0);
            assert!(
                (b.at_true_us - a.at_true_us - refreshes * REFRESH).abs() < 1e-6,
                "{a:?} {b:?}"
            );
            assert!(
                (b.media_s - a.media_s - 1.0 / fps).abs() < 1e-9,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn sixty_fps_on_sixty_hz_shows_the_next_frame_at_every_vsync() {
        let shown = play(60.0, 1.0, 5.0);
        assert!(shown.len() > 280, "{}", shown.len());
        for (b, _) in &shown[1..] {
            assert!(on_vsync(b.at_true_us), "{b:?}");
        }
        assert_cadence(&shown, 1.0, 60.0);
    }

    #[test]
    fn frames_start_where_the_video_puts_its_first() {
        let later = PlayerSpec {
            first_frame_s: 0.007,
            ..spec(60.0)
        };
        let shown = play_spec(later, 1.0, 5.0);
        assert!(shown.len() > 280, "{}", shown.len());
        for (b, clock) in &shown {
            let frames = (b.media_s - 0.007) * 60.0;
            assert!((frames - frames.round()).abs() < 1e-6, "{b:?}");
            // The frame nearest the clock at its vsync, counted from the first.
            assert!(
                (clock - b.media_s).abs() <= 0.5 / 60.0 + 1e-6,
                "{b:?} {clock}"
            );
        }
        assert_cadence(&shown, 1.0, 60.0);
    }

    #[test]
    fn a_frame_is_dropped_only_past_the_drift_bound() {
        let shown = play(60.0, 1.03, 10.0);
        // Drift in true time: media seconds over the rate.
        let drifts: Vec<f64> = shown
            .iter()
            .map(|(s, c)| (s.media_s - c) / 1.03 * 1e6)
            .collect();
        let worst = drifts.iter().map(|d| d.abs()).fold(0.0, f64::max);
        assert!(worst <= 15_000.0 + 1.0, "{worst}");
        // Hysteresis: the cadence is kept well past half a frame before a frame is dropped.
        assert!(worst > 12_000.0, "{worst}");
        let drops = shown
            .windows(2)
            .filter(|w| w[1].0.media_s - w[0].0.media_s > 1.5 / 60.0)
            .count();
        // 3 % faster for ~10 s: about 18 frames gained, each a drop.
        assert!((14..=20).contains(&drops), "{drops}");
    }

    #[test]
    fn thirty_fps_holds_each_frame_for_two_vsyncs() {
        let shown = play(30.0, 1.0, 5.0);
        assert!(shown.len() > 140, "{}", shown.len());
        assert_cadence(&shown, 2.0, 30.0);
    }

    #[test]
    fn a_media_rate_error_slows_the_media_clock() {
        let slow = PlayerSpec {
            media_rate_error_ppm: -2_000.0,
            ..spec(60.0)
        };
        let (exact, drifting) = (play(60.0, 1.0, 20.0), play_spec(slow, 1.0, 20.0));
        let clock_at = |shown: &[(Shown, f64)], t: f64| {
            shown
                .iter()
                .rev()
                .find(|(s, _)| s.at_true_us <= t)
                .map(|(_, c)| *c)
                .unwrap()
        };
        // 2000 ppm of 19 s: 38 ms, more than two frames behind.
        let lag = clock_at(&exact, 19.5e6) - clock_at(&drifting, 19.5e6);
        assert!((lag - 0.038).abs() < 0.001, "{lag}");
    }

    /// (Vsync instant − media time) of every frame shown, modulo the exact step.
    fn grid_offsets(fps: f64) -> Vec<f64> {
        let step = spec(fps).frame_grid_us().unwrap_or(REFRESH.min(1e6 / fps));
        play(fps, 1.0, 5.0)
            .iter()
            .map(|(s, _)| (s.at_true_us - s.media_s * 1e6).rem_euclid(step))
            .collect()
    }

    #[test]
    fn frames_fall_at_one_place_on_the_grid_when_it_is_whole() {
        for fps in [60.0, 30.0] {
            let offsets = grid_offsets(fps);
            assert!(offsets.len() > 100);
            for o in &offsets {
                // The display's own phase (1234.5 µs): every frame exactly on it.
                let apart = (o - 1_234.5).abs();
                assert!(apart < 1e-3, "{fps} fps: {o}");
            }
            // What the engine is told, with the local clock equal to true time: a vsync on the
            // display's own phase and its exact refresh.
            let told = spec(fps).frame_grid(0.0, |t| t).unwrap();
            assert_eq!(told.vsync.0, 1_235, "{fps} fps");
            assert!((told.refresh_us - REFRESH).abs() < 1e-6, "{told:?}");
        }
        // 24 fps on 60 Hz: frames last 2.5 refreshes, so they fall at two places in turn; no
        // single phase describes them and none is told.
        assert_eq!(spec(24.0).frame_grid_us(), None);
        assert_eq!(spec(24.0).frame_grid(0.0, |t| t), None);
        let offsets = grid_offsets(24.0);
        let far = offsets.iter().filter(|o| (*o - offsets[0]).abs() > 1_000.0);
        assert!(far.count() > offsets.len() / 3, "{offsets:?}");
        // 120 fps on 60 Hz: the step is the frame, vsyncs every other step.
        assert_eq!(spec(120.0).frame_grid_us(), Some(REFRESH / 2.0));
    }

    #[test]
    fn a_seek_while_playing_shows_its_frame_at_the_next_vsync() {
        let mut p = Player::new(spec(60.0), 1.0, Rng::new(1), 0);
        p.command(
            0,
            &C::Load {
                media_id: "m".into(),
            },
            None,
        );
        p.wake(0);
        p.command(0, &C::PlayAt(insieme::sync::LocalTime(0)), Some(0));
        while let Some(t) = p.next_event().filter(|t| *t < 500_000) {
            p.wake(t);
        }
        assert!(p.moving());
        p.command(500_000, &C::SeekTo(MediaTime::from_secs_f64(30.0)), None);
        let mut first = None;
        while let Some(t) = p.next_event() {
            if t > 1_000_000 || first.is_some() {
                break;
            }
            first = p.wake(t).into_iter().find(|s| s.media_s >= 30.0);
        }
        let first = first.expect("a frame after the seek");
        assert!(on_vsync(first.at_true_us), "{first:?}");
        assert!((first.at_true_us - 600_000.0) < REFRESH, "{first:?}");
        assert!((first.media_s - 30.0) * 1e6 < REFRESH, "{first:?}");
    }

    /// A player whose clock is read as Chromium's was measured, with a rate that takes effect
    /// at once (so that only the jumps move the clock off its course).
    fn read_spec() -> PlayerSpec {
        PlayerSpec {
            clock_readings: Some(crate::scenarios::chromium_media_clock()),
            ..spec(60.0)
        }
    }

    /// The scatter (sd, µs) of many readings at `t` of a player playing at `rate`.
    fn reading_scatter_us(p: &mut Player, t: i64) -> f64 {
        let errors_us: Vec<f64> = (0..4_000)
            .map(|_| (p.read_clock(t).expect("read while playing") - p.pos_at(t)) * 1e6)
            .collect();
        let n = errors_us.len() as f64;
        let mean = errors_us.iter().sum::<f64>() / n;
        assert!(mean.abs() < 100.0, "{mean}");
        (errors_us.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n).sqrt()
    }

    /// A player loaded and set to `rate`, playing from true time 0 and woken up to `until`.
    fn playing(spec: PlayerSpec, rate: f64, until: i64) -> Player {
        let mut p = started(spec, rate, 0);
        while let Some(t) = p.next_event().filter(|t| *t <= until) {
            p.wake(t);
        }
        p
    }

    #[test]
    fn near_the_normal_rate_the_media_clock_keeps_to_it() {
        // Chromium plays the sound unstretched within 1/960 of 1.0, and its clock keeps time.
        let t = 10_000_000;
        for (rate, runs_at) in [(1.001, 1.0), (0.999, 1.0), (1.0011, 1.0011), (0.95, 0.95)] {
            let p = playing(read_spec(), rate, t);
            let moved = (p.pos_at(t + 1_000_000) - p.pos_at(t)) / 1.0;
            assert!((moved - runs_at).abs() < 1e-9, "at {rate}: {moved}");
        }
        // Without the browser's clock modelled, every rate is the rate.
        let p = playing(spec(60.0), 1.001, t);
        assert!((p.pos_at(t + 1_000_000) - p.pos_at(t) - 1.001).abs() < 1e-9);
    }

    /// How far (ms) the media clock moves at the instant the rate changes from `from` to `to`.
    fn jump_ms(spec: PlayerSpec, from: f64, to: f64) -> f64 {
        let t = 1_000_000;
        let mut p = playing(spec, from, t);
        assert!(p.moving());
        let before = p.pos_at(t);
        p.command(t, &C::SetRate(to), None);
        (p.pos_at(t) - before) * 1e3
    }

    #[test]
    fn clock_readings_scatter_around_the_media_clock_while_playing() {
        let t = 1_000_000;
        let mut p = playing(read_spec(), 1.0, t);
        let sd = reading_scatter_us(&mut p, t);
        assert!((sd - 300.0).abs() < 20.0, "{sd}");
        // Stretching the sound, the readings scatter by 2.7 ms.
        let sd = reading_scatter_us(&mut playing(read_spec(), 1.05, t), t);
        assert!((sd - 2_700.0).abs() < 150.0, "{sd}");

        p.command(t, &C::Pause, None);
        assert_eq!(p.read_clock(t), None, "a paused clock is not read");
        let mut unread = playing(spec(60.0), 1.0, t);
        assert_eq!(unread.read_clock(t), None, "readings are off by default");
    }

    #[test]
    fn leaving_the_normal_rate_sets_the_media_clock_back() {
        // As measured in Chromium: leaving 1.0 by more than 0.1 %, faster or slower, costs
        // 20 ms; within 0.1 %, or between two stretched rates, nothing; returning gives back
        // up to 4 ms.
        for (from, to) in [(1.0, 1.05), (1.0, 0.95), (1.0, 1.002), (1.0005, 0.998)] {
            let jump = jump_ms(read_spec(), from, to);
            assert!((jump + 20.0).abs() < 1e-6, "{from} -> {to}: {jump}");
        }
        for (from, to) in [(1.0, 1.001), (1.0, 0.999), (1.05, 0.95), (0.95, 1.05)] {
            let jump = jump_ms(read_spec(), from, to);
            assert!(jump.abs() < 1e-6, "{from} -> {to}: {jump}");
        }
        for (from, to) in [(1.05, 1.0), (0.95, 1.0005)] {
            let jump = jump_ms(read_spec(), from, to);
            assert!((0.0..=4.0).contains(&jump), "{from} -> {to}: {jump}");
        }
        // Only a playing clock jumps, and only a clock modelled as a browser's with sound.
        let t = 1_000_000;
        let mut paused = playing(read_spec(), 1.0, t);
        paused.command(t, &C::Pause, None);
        let still = paused.pos_at(t);
        paused.command(t, &C::SetRate(1.05), None);
        assert_eq!(paused.pos_at(t), still);
        assert!(jump_ms(spec(60.0), 1.0, 1.05).abs() < 1e-6);
    }
}
