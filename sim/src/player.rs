//! A model of a browser video element, in true (simulated) time.
//!
//! It has the imperfections the controller must live with: seeks take 50–500 ms (each player
//! has its own typical latency, each seek varies around it), play starts late by a few tens of
//! ms, a rate change takes effect progressively (first-order response), the media clock runs on
//! the device's skewed clock, frames are presented at 30 or 60 fps and reported with the
//! frame's media time and a slightly noisy presentation timestamp (as
//! `requestVideoFrameCallback` does), and it can stall.
//!
//! Semantics of the commands follow `insieme::sync::PlayerCommand`.

use crate::rng::Rng;

/// One player's characteristics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlayerSpec {
    pub fps: f64,
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
    /// Local clock seconds per true second (the media clock runs on the local clock).
    clock_rate: f64,
    rng: Rng,
    t: i64,
    pos: f64,
    rate_cur: f64,
    rate_target: f64,
    media: Option<String>,
    load_done: Option<i64>,
    playing: bool,
    start_at: Option<i64>,
    seek: Option<(i64, f64)>,
    stalled: bool,
    last_frame: i64,
    next_paused_report: i64,
}

impl Player {
    pub fn new(spec: PlayerSpec, clock_rate: f64, rng: Rng, now: i64) -> Player {
        Player {
            spec,
            clock_rate,
            rng,
            t: now,
            pos: 0.0,
            rate_cur: 1.0,
            rate_target: 1.0,
            media: None,
            load_done: None,
            playing: false,
            start_at: None,
            seek: None,
            stalled: false,
            last_frame: -1,
            next_paused_report: now,
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

    /// The actual playback rate right now (after the response lag).
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

    /// Applies a command at true time `now`; `play_at_true` is the command's instant converted
    /// to true time (for `PlayAt`). Returns what is shown as a direct result.
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
                self.media = Some(media_id.clone());
                let lat = self.spec.load_latency_us * self.rng.range(0.7, 1.3);
                self.load_done = Some(now + lat as i64);
                self.pos = 0.0;
                self.playing = false;
                self.start_at = None;
                self.seek = None;
                vec![]
            }
            C::SeekTo(m) => {
                let v = self.spec.seek_variation;
                let lat = self.spec.seek_latency_us * self.rng.range(1.0 - v, 1.0 + v);
                let done = now + lat as i64;
                self.seek = Some((done, m.as_secs_f64().max(0.0)));
                if let Some(s) = self.start_at {
                    let st = self.sample_start();
                    self.start_at = Some(s.max(done + st));
                }
                vec![]
            }
            C::SetRate(r) => {
                if r.is_finite() && *r > 0.0 {
                    self.rate_target = *r;
                }
                vec![]
            }
            C::PlayAt(_) => {
                if self.playing {
                    return vec![];
                }
                let mut ready = play_at_true.unwrap_or(now).max(now);
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
        if !stalled {
            if let Some(s) = self.start_at {
                self.start_at = Some(s.max(now));
            }
            self.last_frame = (self.pos * self.spec.fps).floor() as i64;
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
        }
        if let (Some(s), None, false) = (self.start_at, self.seek, self.stalled) {
            consider(s);
        }
        if self.moving() {
            let next = (self.last_frame + 1) as f64 / self.spec.fps;
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
                self.last_frame = (target * self.spec.fps).floor() as i64;
                self.next_paused_report = t + self.spec.paused_report_us as i64;
                shown.push(self.shown_now());
            }
        }
        if let (Some(s), None, false) = (self.start_at, self.seek, self.stalled) {
            if s <= t {
                self.start_at = None;
                self.playing = true;
                self.last_frame = (self.pos * self.spec.fps).floor() as i64;
            }
        }
        if self.moving() {
            let k = (self.pos * self.spec.fps + 1e-9).floor() as i64;
            if k > self.last_frame {
                let speed = self.rate_cur * self.clock_rate;
                let back = (self.pos - k as f64 / self.spec.fps) / speed * 1e6;
                shown.push(Shown {
                    media_s: k as f64 / self.spec.fps,
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

    /// Uniform noise for a presentation timestamp.
    pub fn noise(&mut self) -> f64 {
        let n = self.spec.obs_noise_us;
        self.rng.range(-n, n)
    }
}
