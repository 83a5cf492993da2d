//! How frames reach the viewer, and what the browser glue tells the engine about it.
//!
//! Without a display, a frame is observed the instant the media clock crosses it. With one
//! ([`DisplaySpec`]), as in a browser, a frame appears only at a refresh, chosen by the
//! browser's renderer ([`Renderer`]):
//!
//! - Chromium's (`VideoRendererAlgorithm`, modelled in [`CadenceRenderer`]) presents at the
//!   display's vsyncs and keeps a steady frame cadence (for 60 fps on 60 Hz, the next frame at
//!   every vsync; 3, 2, 3, 2 refreshes at 24 fps) while its frame stays within the drift bound
//!   of the media clock, and the frame covering the refresh otherwise. What is shown follows the
//!   media clock in whole refresh steps, with hysteresis, and at film rates depends on the
//!   renderer's history as well as the clock. Every frame presented is reported.
//! - Firefox's presents at the ticks of its own refresh driver, whose phase wanders, the frame
//!   its clock is in; a frame callback comes only every few ticks.

use super::cadence_renderer::{CadenceMode, CadenceRenderer, ClockAt};
use super::{Player, PlayerSpec, Shown};

/// Salt of the renderer's random stream.
pub(super) const SCREEN_STREAM: u64 = 0x5C4E;

impl PlayerSpec {
    /// The display, if it is one a person could watch (else presentation is continuous).
    pub fn display(&self) -> Option<DisplaySpec> {
        self.display.filter(|d| {
            (1_000.0..=1e6).contains(&d.refresh_us)
                && d.phase_us.is_finite()
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

/// How a browser picks the frame to show at a refresh, and which frames its page hears of
/// (`requestVideoFrameCallback`). The measurements behind each: `crate::browsers`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Renderer {
    /// Chromium's: at each vsync of the display, the frame its renderer (`CadenceRenderer`, in
    /// `player::cadence_renderer`) picks with this cadence estimator: the cadence frame while it
    /// is within the drift bound of the media clock, else the frame covering the refresh. Every
    /// frame presented is reported, timed at its vsync.
    Cadence { estimator: CadenceMode },
    /// Firefox's: at each tick of its refresh driver, the frame its media clock is in. Each
    /// tick comes `tick_us` (uniform) after the one before, on no display's vsync, so where
    /// the clock stands in the frame shown drifts. A frame callback comes at the first new
    /// frame `callback_ticks` (uniform, inclusive) ticks or more after the previous one, and
    /// always for a motion's first frame.
    ClockFrame {
        tick_us: (f64, f64),
        callback_ticks: (u32, u32),
    },
}

/// A display: vsyncs at true instants `phase + n * refresh`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DisplaySpec {
    pub refresh_us: f64,
    pub phase_us: f64,
}

impl DisplaySpec {
    /// The true instant of vsync `n`.
    pub(super) fn vsync(&self, n: i64) -> f64 {
        self.phase_us + n as f64 * self.refresh_us
    }

    /// The first vsync at or after true time `t`.
    pub(super) fn first_from(&self, t: i64) -> i64 {
        ((t as f64 - self.phase_us) / self.refresh_us).ceil() as i64
    }
}

/// What a display shows (unused without one).
#[derive(Clone, Debug, Default)]
pub(super) struct Screen {
    /// The frame on screen.
    pub(super) frame: Option<i64>,
    /// Media time and true vsync instant of the latest frame presented while moving.
    presented: Option<(f64, f64)>,
    /// Chromium's renderer state ([`Renderer::Cadence`]): its cadence and the frame durations
    /// it measured, from its first vsync until a seek or a load flushes its frames.
    cadence: Option<CadenceRenderer>,
    /// The next vsync to present at, while moving ([`Renderer::Cadence`])...
    pub(super) next_vsync: Option<i64>,
    /// ...or the next tick of the refresh driver, true µs ([`Renderer::ClockFrame`]), and how
    /// many ticks are left before a frame callback may come.
    next_tick: Option<f64>,
    ticks_to_callback: u32,
}

impl Screen {
    /// Motion stopped (a pause, a stall): the picture stays, and Chromium's renderer keeps its
    /// cadence and what it measured; Firefox's ticks start afresh with the next motion.
    pub(super) fn halt(&mut self) {
        self.presented = None;
        self.next_vsync = None;
        self.next_tick = None;
        self.ticks_to_callback = 0;
    }

    /// A seek flushed the renderer's frames: its state starts afresh at the next vsync.
    pub(super) fn flush(&mut self) {
        self.halt();
        self.cadence = None;
    }

    /// Whether Chromium's renderer holds a cadence.
    #[cfg(test)]
    pub(super) fn has_cadence(&self) -> bool {
        self.cadence
            .as_ref()
            .is_some_and(CadenceRenderer::has_cadence)
    }
}

impl Player {
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
    pub(super) fn frame_at(&self, media_s: f64) -> i64 {
        (((media_s - self.spec.first_frame_s) * self.spec.fps + 1e-9).floor() as i64).max(0)
    }

    /// Media time at which frame `k` starts, s.
    pub(super) fn frame_start(&self, k: i64) -> f64 {
        self.spec.first_frame_s + k as f64 / self.spec.fps
    }

    /// Motion has begun at `t` (or goes on): refreshes from the first at or after `t` present
    /// (a refresh driver's tick, in no particular phase, within a refresh of `t`).
    pub(super) fn begin_vsyncs(&mut self, t: i64) {
        let Some(d) = self.spec.display().filter(|_| self.moving()) else {
            return;
        };
        match self.spec.renderer {
            Renderer::Cadence { .. } if self.screen.next_vsync.is_none() => {
                self.screen.next_vsync = Some(d.first_from(t));
            }
            Renderer::ClockFrame { tick_us, .. } if self.screen.next_tick.is_none() => {
                let phase = self.screen_rng.range(0.0, tick_us.1);
                self.screen.next_tick = Some(t as f64 + phase);
                self.screen.ticks_to_callback = 0;
            }
            _ => {}
        }
    }

    /// When the next refresh presents, true µs, while moving with a display.
    pub(super) fn next_refresh(&self, d: &DisplaySpec) -> f64 {
        match self.spec.renderer {
            Renderer::Cadence { .. } => d.vsync(
                self.screen
                    .next_vsync
                    .unwrap_or_else(|| d.first_from(self.t)),
            ),
            Renderer::ClockFrame { .. } => self.screen.next_tick.unwrap_or(self.t as f64),
        }
    }

    /// Presents at every refresh up to `t` (the clock has been advanced to `t` and was moving).
    pub(super) fn present_due(&mut self, t: i64, shown: &mut Vec<Shown>) {
        let Some(d) = self.spec.display() else { return };
        match self.spec.renderer {
            Renderer::Cadence { estimator } => {
                let Some(mut n) = self.screen.next_vsync else {
                    return;
                };
                while d.vsync(n) <= t as f64 {
                    self.present(&d, estimator, d.vsync(n), t, shown);
                    n += 1;
                }
                self.screen.next_vsync = Some(n);
            }
            Renderer::ClockFrame {
                tick_us,
                callback_ticks,
            } => {
                let Some(mut v) = self.screen.next_tick else {
                    return;
                };
                while v <= t as f64 {
                    self.present_clock_frame(v, t, callback_ticks, shown);
                    v += self.screen_rng.range(tick_us.0, tick_us.1);
                }
                self.screen.next_tick = Some(v);
            }
        }
    }

    /// Firefox's choice at the tick at true time `v <= t = self.t`: the frame the media clock is
    /// in (never one before the frame on screen). A new frame is reported when a frame callback
    /// is due.
    fn present_clock_frame(
        &mut self,
        v: f64,
        t: i64,
        callback_ticks: (u32, u32),
        shown: &mut Vec<Shown>,
    ) {
        let speed = (self.rate_cur * self.clock_rate).max(1e-3);
        let clock = self.pos - (t as f64 - v).max(0.0) * speed / 1e6;
        let mut frame = self.frame_at(clock);
        if let Some(on) = self.screen.frame.filter(|on| *on > frame) {
            frame = on;
        }
        self.screen.ticks_to_callback = self.screen.ticks_to_callback.saturating_sub(1);
        if self.screen.frame == Some(frame) {
            return;
        }
        let media_s = self.frame_start(frame);
        self.screen.frame = Some(frame);
        self.screen.presented = Some((media_s, v));
        if self.screen.ticks_to_callback == 0 {
            let (lo, hi) = callback_ticks;
            let spread = u64::from(hi.saturating_sub(lo)) + 1;
            self.screen.ticks_to_callback = lo + self.screen_rng.below(spread) as u32;
            shown.push(Shown {
                media_s,
                at_true_us: v,
            });
        }
    }

    /// Chromium's choice at the vsync at true time `v <= t = self.t`, its renderer running
    /// `estimator` (and starting afresh after a seek or a load). A frame that differs from the
    /// one on screen is shown and reported with `v` as its presentation time.
    fn present(
        &mut self,
        d: &DisplaySpec,
        estimator: CadenceMode,
        v: f64,
        t: i64,
        shown: &mut Vec<Shown>,
    ) {
        let speed = (self.rate_cur * self.clock_rate).max(1e-3);
        let clock = ClockAt {
            vsync_us: v,
            // The media clock at the vsync, counted from the first frame.
            media_s: self.pos - (t as f64 - v).max(0.0) * speed / 1e6 - self.spec.first_frame_s,
            speed,
            fps: self.spec.fps,
        };
        let frame = self
            .screen
            .cadence
            .get_or_insert_with(|| CadenceRenderer::new(estimator))
            .render(&clock, d.refresh_us, self.screen.frame)
            .frame;
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
