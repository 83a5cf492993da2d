//! The browsers a simulated page runs in: the one place that says what Chromium's `<video>` does
//! and what Firefox's does, each figure from `docs/measurements/player.md` ("Media clock as a
//! page reads it", "Media clock drift and rate response", "Start lead" for Chromium; "Firefox's
//! `<video>`", 2026-12-06, for Firefox). Where Firefox was not measured, the model takes
//! Chromium's figure and says so (**assumption**).
//!
//! A scenario gives each slot a [`Browser`] ([`crate::Scenario::browsers`]); its player then
//! takes the browser's [`BrowserModel`], and its page applies the browser glue's rules for that
//! browser ([`Browser::kind`], the app's own `insieme::sync::browser_kind`): the start-lead
//! guess, whether the engine is told the presentation step, and the clock told half a step
//! behind in Firefox. Slots with no browser keep the scenario's own player figures (the older
//! scenarios, Chromium-like).
//!
//! Not modelled in either: the audio sink's clock drift (Chromium's sound card, `DRIFT_PPM`, is
//! a scenario of its own; headless Firefox had no sound output, so its clock was the system
//! clock: rates measured within 150 ppm, modelled exact), and Firefox with a sound output (its
//! one measured run was on a saturated host and says nothing reliable).

use crate::player::{CadenceMode, ClockReadingSpec, PlayerSpec, Renderer, UNSTRETCHED_WITHIN};
use insieme::sync::browser_kind::BrowserKind;

/// A browser a page runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    /// Headless Chromium 156 with its fake audio output.
    Chromium,
    /// Debian's `firefox-esr` 153.8, headless, with no sound output.
    Firefox,
    /// The same with a sound output, as a viewer with speakers has.
    FirefoxWithSound,
}

/// What a browser's `<video>` and page do, as the player model takes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BrowserModel {
    /// From `play()` on a paused, ready element to moving media (the start lead), ms: each
    /// player's typical delay is drawn in this range...
    pub start_latency_ms: (f64, f64),
    /// ...and each start varies by up to this either side of it, ms.
    pub start_variation_ms: f64,
    /// Time constant of the media clock's answer to a new rate, drawn per player in this
    /// range, ms.
    pub rate_response_ms: (f64, f64),
    /// The media clock as the page reads it in each frame callback, and its jumps.
    pub clock: ClockReadingSpec,
    /// Which frame a refresh shows, and which frames the page hears of.
    pub renderer: Renderer,
    /// The resolution of `performance.now()`, µs.
    pub timer_us: f64,
    /// ± uniform error of a reported presentation time, µs.
    pub timestamp_noise_us: f64,
}

/// How quickly a rate change takes effect on Chromium's media clock, ms (the player's
/// first-order time constant): within a frame. Measured: 150 ms after a change from 1.05 to
/// 0.95 the clock had moved 14.1 and 15.8 ms of the 15 ms an instant change moves it.
pub const CHROMIUM_RATE_RESPONSE_MS: (f64, f64) = (5.0, 20.0);

/// Headless Chromium playing a video with an audio track: readings scattered by 0.3 ms (0.2–0.5
/// measured), 2.7 ms while the sound is stretched (2.2–3.1), the clock set back 20 ms on leaving
/// the normal rate (19–27, and −16…−24 beside Firefox), forward by up to 4 ms on returning to it
/// (0–4, one +5); and no rate within 1/960 of 1.0 moves it (1.001 and 0.999 ran at 1.0000).
pub fn chromium_media_clock() -> ClockReadingSpec {
    ClockReadingSpec {
        noise_us_sd: 300.0,
        stretched_noise_us_sd: 2_700.0,
        stretch_entry_jump_us: 20_000.0,
        stretch_exit_gain_max_us: 4_000.0,
        against_change_us: 0.0,
        unstretched_within: Some(UNSTRETCHED_WITHIN),
    }
}

/// Headless Firefox with no sound output: the clock is the system clock, so it follows every
/// rate tried (1.001 ran at 1.00100–1.00107, 0.999 at 0.99900–0.99902) with no jump at a change
/// (−0.7…+0.4 ms, under the readings' scatter: modelled as none). Readings scattered by
/// 0.36–1.2 ms about their line at rate 1.0, most of it the 1 ms timer: 0.5 ms here on top of
/// the timer's own 0.29 ms ([`FIREFOX_TIMER_US`]), 0.58 ms in all. Other rates' scatter was not
/// reported apart: **assumption**, the same.
pub fn firefox_media_clock() -> ClockReadingSpec {
    ClockReadingSpec {
        noise_us_sd: 500.0,
        stretched_noise_us_sd: 500.0,
        stretch_entry_jump_us: 0.0,
        stretch_exit_gain_max_us: 0.0,
        against_change_us: 0.0,
        unstretched_within: None,
    }
}

/// Headless Firefox with a sound output (a PulseAudio null sink, `bench player --browser firefox
/// --sound`): the clock follows every rate as without one, but each change moves it against
/// the change, at once: 7.0–8.6 ms back on going from 1.0 to 1.05, 7.2–9.4 ms forward on
/// returning, 7.6–9.7 ms forward on going to 0.95, 6.9–7.9 ms back on returning, 1.4–1.5 ms
/// back at 1.01 (3 runs, 2026-12-07): about 161 ms of the change, as if the clock told the
/// sound leaving the speakers ~161 ms after it was played at the rate then. Readings at 1.0
/// scattered as without sound once the first seconds were over: **assumption**, the same.
pub fn firefox_with_sound_media_clock() -> ClockReadingSpec {
    ClockReadingSpec {
        against_change_us: 161_000.0,
        ..firefox_media_clock()
    }
}

/// `performance.now()` moves in steps of 1 ms in Firefox (reduced timer precision)...
pub const FIREFOX_TIMER_US: f64 = 1_000.0;
/// ...and of 0.1 ms in Chromium.
pub const CHROMIUM_TIMER_US: f64 = 100.0;

impl BrowserModel {
    /// A player in this browser: `spec` (the scenario's: frame rate, seeks, display, and the
    /// player's typical start latency and rate response, which the caller draws in this
    /// model's ranges) with this browser's own start variation, clock readings, renderer,
    /// timer and timestamps.
    pub fn player(&self, spec: PlayerSpec) -> PlayerSpec {
        PlayerSpec {
            start_variation_us: self.start_variation_ms * 1e3,
            clock_readings: Some(self.clock),
            renderer: self.renderer,
            timer_us: self.timer_us,
            obs_noise_us: self.timestamp_noise_us,
            ..spec
        }
    }
}

impl Browser {
    /// What the app's browser glue takes this browser for (from its user agent).
    pub fn kind(self) -> BrowserKind {
        match self {
            Browser::Chromium => BrowserKind::Other,
            Browser::Firefox | Browser::FirefoxWithSound => BrowserKind::Firefox,
        }
    }

    pub fn model(self) -> BrowserModel {
        match self {
            Browser::Chromium => BrowserModel {
                // 62–94 ms with three players on two busy cores, as the mixed scenarios run
                // (37–54 ms alone); the probe's six starts beside Firefox: 74–92 ms.
                start_latency_ms: (62.0, 94.0),
                // The simulator's standing figure (the probe's six starts spread ±9 ms).
                start_variation_ms: 5.0,
                rate_response_ms: CHROMIUM_RATE_RESPONSE_MS,
                clock: chromium_media_clock(),
                // A callback for every frame, every 16.7 ms at 60 fps on 60 Hz. Which cadence
                // estimator Chromium 156 runs was not determined (docs/measurements/e2e.md, "the
                // renderer's own state at film rates"): **assumption**, the classic one.
                renderer: Renderer::Cadence {
                    estimator: CadenceMode::Classic,
                },
                timer_us: CHROMIUM_TIMER_US,
                // The simulator's standing figure (presentationTime 0.1–3.6 ms after the
                // callback's `now`).
                timestamp_noise_us: 1_000.0,
            },
            Browser::Firefox => BrowserModel {
                // The start lead (the clock's steady line extrapolated back to the start
                // position) was −0.6…+22 ms, mostly 1–5 ms: typical 1–5 ms, each start ±5 ms
                // (0–10 ms; the rare 22 ms start is not modelled).
                start_latency_ms: (1.0, 5.0),
                start_variation_ms: 5.0,
                // Not measured (4 s at each rate, no step response): **assumption**, Chromium's.
                rate_response_ms: CHROMIUM_RATE_RESPONSE_MS,
                clock: firefox_media_clock(),
                renderer: Renderer::ClockFrame {
                    // `requestAnimationFrame` ran every 16–17 ms (p5–p95): each tick that long
                    // after the one before, on no display's vsync. The frame shown is the one the
                    // clock is in, in no fixed phase: the clock at the frame's display time less
                    // the frame's media time spread uniformly over the frame (p5 0.4–0.8, p50
                    // 6.9–8.3, p95 15.1–15.8 ms at 60 fps). Ticks 16.5 ms apart on average slip
                    // a frame against 60 fps video every 1.7 s, which spreads it so; that the
                    // slip comes from there is the **assumption** (its cause was not measured).
                    tick_us: (16_000.0, 17_000.0),
                    // Frame callbacks for one refresh in two or three (33–50 ms apart,
                    // `presentedFrames` +2–3).
                    callback_ticks: (2, 3),
                },
                timer_us: FIREFOX_TIMER_US,
                // `expectedDisplayTime` was always the callback's `now` + 16.66 ms; how `now`
                // scatters about the true refresh was not measured: **assumption**, Chromium's.
                timestamp_noise_us: 1_000.0,
            },
            Browser::FirefoxWithSound => BrowserModel {
                // `play()` to a moving clock: p50 16–23 ms (3 runs) against 6 ms without sound;
                // the start lead could not be fitted on most starts: **assumption**, those.
                start_latency_ms: (15.0, 25.0),
                clock: firefox_with_sound_media_clock(),
                ..Browser::Firefox.model()
            },
        }
    }
}
