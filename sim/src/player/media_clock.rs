//! The media clock as the page reads it, and as it answers the rate.
//!
//! Optionally the page reads the media clock ([`ClockReadingSpec`]): `currentTime` with the
//! instant of the read, at every frame callback, scattered as the browser's readings were; and
//! where an audio renderer drives the clock (Chromium with sound), the clock then keeps to 1.0
//! near the normal rate and jumps when the renderer starts or stops stretching the sound. The
//! browsers' figures are in `crate::browsers`.

use super::Player;

/// The media clock as a page reads it (`currentTime` and `performance.now()` in every
/// requestVideoFrameCallback while playing) and as it answers the rate: in headless Chromium
/// playing a video with an audio track, the media clock follows the audio renderer; in headless
/// Firefox with no sound output, the system clock. What was measured, which
/// `crate::browsers` follows: `docs/measurements/player.md`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockReadingSpec {
    /// Standard deviation of a reading around the true media clock at the instant of the read,
    /// µs...
    pub noise_us_sd: f64,
    /// ...and while the audio renderer stretches the sound ([`ClockReadingSpec::stretches`]), µs: the readings
    /// scatter far more then.
    pub stretched_noise_us_sd: f64,
    /// How far the media clock is set back when the rate leaves the normal one for a stretched
    /// one, faster or slower ([`ClockReadingSpec::stretches`]), µs.
    pub stretch_entry_jump_us: f64,
    /// The clock moves forward by up to this (uniformly) when the rate returns to the normal one,
    /// µs.
    pub stretch_exit_gain_max_us: f64,
    /// How far any rate change moves the clock against it, µs per unit of rate (the clock set
    /// back `(to - from) × this`): Firefox with a sound output, whose clock moved 8 ms at each
    /// change of 5 % (`crate::browsers::firefox_with_sound_media_clock`); 0 elsewhere.
    pub against_change_us: f64,
    /// Within this fraction of 1.0 an audio renderer plays the sound unstretched and the clock
    /// runs at 1.0 whatever the rate ([`UNSTRETCHED_WITHIN`] in Chromium); `None`: nothing
    /// stretches (no sound output drives the clock), so the clock runs at every rate set and
    /// the two jumps above never happen.
    pub unstretched_within: Option<f64>,
}

impl ClockReadingSpec {
    /// Whether the audio renderer stretches the sound at this rate (never without one). The
    /// normal rate is 1.0 whatever speed the room plays at: it is the sound's own.
    pub fn stretches(&self, rate: f64) -> bool {
        self.unstretched_within
            .is_some_and(|within| (rate - 1.0).abs() > within)
    }
}

/// Within this fraction of 1.0 Chromium's audio renderer plays the sound unstretched (one
/// sample of its 20 ms window at 48 kHz), and the media clock runs at 1.0 whatever the rate.
pub const UNSTRETCHED_WITHIN: f64 = 1.0 / 960.0;

/// Salt of the clock readings' random stream.
pub(super) const CLOCK_STREAM: u64 = 0xC10C;

impl Player {
    /// The rate the media clock runs at when `playbackRate` is `rate`: with an audio renderer
    /// driving the clock ([`ClockReadingSpec::unstretched_within`]: Chromium with sound), 1.0
    /// for any rate the sound plays unstretched at.
    pub(super) fn clock_rate_at(&self, rate: f64) -> f64 {
        match self.spec.clock_readings {
            Some(c) if c.unstretched_within.is_some() && !c.stretches(rate) => 1.0,
            _ => rate,
        }
    }

    /// The media clock's jump at a rate change: where it starts or ends the audio renderer's
    /// stretching, and where the clock moves against every change (only with
    /// [`ClockReadingSpec`], and only while the sound plays). The rate set is `playbackRate`,
    /// which takes effect at once for the renderer, whatever the response of the motion.
    pub(super) fn jump_on_rate_change(&mut self, from: f64, to: f64) {
        let Some(spec) = self.spec.clock_readings else {
            return;
        };
        if !self.moving() {
            return;
        }
        let against_us = -(to - from) * spec.against_change_us;
        let stretch_us = match (spec.stretches(from), spec.stretches(to)) {
            (false, true) => -spec.stretch_entry_jump_us,
            (true, false) => self.clock_rng.range(0.0, spec.stretch_exit_gain_max_us),
            _ => 0.0,
        };
        self.pos = (self.pos + (against_us + stretch_us) / 1e6).max(0.0);
    }

    /// The media clock as the page reads it at true time `now` (`currentTime`, seconds), where
    /// it reads it: with [`ClockReadingSpec`], while moving, scattered around the true clock.
    pub fn read_clock(&mut self, now: i64) -> Option<f64> {
        let spec = self.spec.clock_readings?;
        if !self.moving() {
            return None;
        }
        let sd = if spec.stretches(self.rate_target) {
            spec.stretched_noise_us_sd
        } else {
            spec.noise_us_sd
        };
        let scatter_us = self.clock_rng.normal() * sd;
        Some(self.pos_at(now) + scatter_us / 1e6)
    }
}
