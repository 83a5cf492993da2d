//! The playback rate: small errors are corrected by nudging it.
//!
//! A feed-forward term follows the measured skew between our clock and the room's (so drift
//! never builds up), and a proportional term removes the error over a fixed horizon. The
//! correction is bounded (±5 % by default) and has a deadband with hysteresis, so it never
//! hunts. On quantized presentation the deadband grows to half a step, the correction runs at
//! full speed until the picture jumps to the nearest frame, and the resting rate is trimmed
//! against the drift each rest measures. Where the player reads its media clock, the clock is
//! steered instead ([`crate::sync::clock_steering`]).

use super::{Controller, Observation, PlayerCommand, QUANTIZED_ERROR_FRAMES};
use crate::num::Clamp;
use crate::sync::clock::RoomMap;
use crate::sync::clock_steering::{Steer, GENTLE_RATE};
use crate::sync::samples::{line_at, recent_median};
use crate::sync::state::Versioned;
use crate::sync::time::{LocalTime, Span};
use std::collections::VecDeque;

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
/// the trim swings around the drift, each swing the next rest's error.
const MIN_TRIM_GAIN: f64 = 1.0 / 8.0;
/// ...provided the rest lasted this long (a shorter one is a start's or a seek's leftover, or a
/// rest that began at the far edge of the band).
const MIN_REST_FOR_TRIM: Span = Span::from_secs(4);

/// The rate commanded, the errors it corrects, and the correction under way.
#[derive(Clone, Debug)]
pub(super) struct Rate {
    /// The rate last sent to the player.
    pub(super) commanded: f64,
    /// When it was sent.
    last_sent: Option<LocalTime>,
    /// The rate the timeline asks for (its speed, with the skew), as last followed.
    pub(super) ideal: f64,
    /// (presented at, error µs) of the frames presented within the error window.
    pub(super) window: VecDeque<(LocalTime, f64)>,
    /// Latest filtered error (player minus room timeline; positive means ahead), while playing.
    pub(super) error: Option<Span>,
    /// Whether a correction is under way: between leaving the deadband and re-entering it.
    pub(super) correcting: bool,
    /// When the last quantized correction ended, for measuring the drift to the next one.
    pub(super) resting_since: Option<LocalTime>,
    /// Learned against a player whose clock drifts; quantized frames only.
    trim: Trim,
}

impl Rate {
    pub(super) fn new() -> Rate {
        Rate {
            commanded: 1.0,
            last_sent: None,
            ideal: 1.0,
            window: VecDeque::new(),
            error: None,
            correcting: false,
            resting_since: None,
            trim: Trim::new(),
        }
    }

    /// A plan takes over (a start, a pause, a seek): no correction is under way, and no rest
    /// measures drift.
    pub(super) fn reset_correction(&mut self) {
        self.correcting = false;
        self.resting_since = None;
        self.error = None;
    }

    /// A quantized correction starts after a rest: the player drifted one step (in the
    /// direction of `error`) over the rest, so trim the resting rate against that drift.
    fn learn_trim(&mut self, now: LocalTime, error: f64, step: Span, quantized: bool) {
        let Some(since) = self.resting_since.take() else {
            return;
        };
        let rest = now - since;
        // Drift shows as one step at a time; an error of several steps is the machine stalling
        // the player (every viewer at once, on a busy machine), which no trim should learn.
        let one_step = error.abs() < step.0 as f64 * 1.5;
        if !quantized || rest < MIN_REST_FOR_TRIM || !one_step {
            return;
        }
        self.trim
            .against(error.signum() * step.0 as f64 / rest.0 as f64);
    }
}

/// The resting rate's learned trim (a fraction of the rate).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Trim {
    value: f64,
    /// The share of [`TRIM_GAIN`] the next trim moves by...
    gain: f64,
    /// ...and the direction of the last trim (+1: up, -1: down, 0: none yet).
    last_direction: f64,
}

impl Trim {
    fn new() -> Trim {
        Trim {
            value: 0.0,
            gain: 1.0,
            last_direction: 0.0,
        }
    }

    /// Moves the trim against a measured drift of the player's clock (a fraction of the rate;
    /// positive: it ran fast). A trim that reverses the last one overshot: it moves by half
    /// the gain the last did; one in the same direction fell short, and moves by twice (see
    /// [`MIN_TRIM_GAIN`]).
    fn against(&mut self, drift: f64) {
        if drift == 0.0 || !drift.is_finite() {
            return;
        }
        let direction = -drift.signum();
        self.gain = if direction * self.last_direction < 0.0 {
            (self.gain / 2.0).max(MIN_TRIM_GAIN)
        } else {
            (self.gain * 2.0).min(1.0)
        };
        self.last_direction = direction;
        let step = (drift * TRIM_GAIN * self.gain).clamp_to(-MAX_TRIM_STEP, MAX_TRIM_STEP);
        self.value = (self.value - step).clamp_to(-MAX_TRIM, MAX_TRIM);
    }
}

impl Controller {
    /// Errors correction starts beyond and stops within: the configured deadband, widened to
    /// half a presentation step when frames are quantized.
    fn deadband(&self) -> (f64, f64) {
        let enter = self.cfg.deadband_enter.0 as f64;
        let exit = self.cfg.deadband_exit.0 as f64;
        if !self.quantized() {
            return (enter, exit);
        }
        let half = self.grid.step.0 as f64 / 2.0;
        (enter.max(half + QUANTIZED_MARGIN.0 as f64), exit.max(half))
    }

    /// Follows a scheduled rate change or a new skew estimate at once, while playing.
    pub(super) fn follow_timeline(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let ideal = v.playback.speed_at(map.to_room(now)) * (1.0 + map.skew);
        if (ideal - self.rate.ideal).abs() > 1e-9 {
            let step = ideal - self.rate.ideal;
            self.rate.ideal = ideal;
            if step.abs() > 1e-3 {
                self.set_rate(now, ideal, out);
            }
        }
    }

    /// Continuous control while playing, from one presented frame.
    pub(super) fn correct(
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
        self.rate.window.push_back((obs.presented_at, e));
        while let Some(&(t, _)) = self.rate.window.front() {
            if now - t > self.cfg.error_window {
                self.rate.window.pop_front();
            } else {
                break;
            }
        }
        if self.clock.is_reading(now) {
            self.correct_by_clock(now, v, map, out);
            return;
        }
        if self.rate.window.len() < 4 {
            return;
        }
        let e_now = if self.quantized() {
            recent_median(&self.rate.window, QUANTIZED_ERROR_FRAMES)
        } else {
            line_at(&self.rate.window, now)
        };
        self.rate.error = Some(Span(e_now as i64));
        if self.restart_if_landed_off(now, e_now, v, map, out) {
            return;
        }

        let speed = p.speed_at(map.to_room(now));
        if e_now.abs() > self.cfg.seek_threshold.0 as f64 && speed > 0.0 {
            self.catch_up_if_allowed(now, v, map, out);
            return;
        }
        let ideal = speed * (1.0 + map.skew);
        let since = self.rate.last_sent.map_or(Span(i64::MAX), |t| now - t);
        let (enter, exit) = self.deadband();
        // On quantized frames, reaching the band means the picture just jumped to the nearest
        // frame: stop at once, for every further frame at the correcting rate moves the clock
        // towards the renderer's next jump.
        let reached = self.quantized() && self.rate.correcting && e_now.abs() < exit;
        if since < self.cfg.min_rate_interval && !reached {
            return;
        }
        if self.rate.correcting {
            if e_now.abs() < exit {
                self.rate.correcting = false;
                self.rate.resting_since = Some(now);
            }
        } else if e_now.abs() > enter {
            self.rate.correcting = true;
            let (step, quantized) = (self.grid.step, self.quantized());
            self.rate.learn_trim(now, e_now, step, quantized);
        }
        let corr = if self.rate.correcting && self.quantized() {
            // The error only changes when a frame is dropped or repeated, so a proportional
            // term has nothing to taper on: move at full correcting speed until the jump.
            -e_now.signum() * self.cfg.max_rate_dev
        } else if self.rate.correcting {
            (-e_now / self.cfg.horizon.0 as f64)
                .clamp_to(-self.cfg.max_rate_dev, self.cfg.max_rate_dev)
        } else {
            0.0
        };
        let rate = self.bounded_rate(speed, ideal + speed * (corr + self.rate.trim.value));
        self.rate.ideal = ideal;
        if (rate - self.rate.commanded).abs() > self.cfg.min_rate_step * speed.max(1e-3) {
            self.set_rate(now, rate, out);
        }
    }

    /// Steering by the media clock (see [`crate::sync::clock_steering`]): one excursion at the
    /// full correcting rate for each error beyond the deadband, until the clock reads on time.
    pub(super) fn correct_by_clock(
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
            self.rate.error = Some(Span(error as i64));
            if self.restart_if_landed_off(now, error, v, map, out) {
                return;
            }
            if error.abs() > self.cfg.seek_threshold.0 as f64 && speed > 0.0 {
                self.catch_up_if_allowed(now, v, map, out);
                return;
            }
        }
        let rest = self.resting_rate(speed, map);
        self.rate.ideal = speed * (1.0 + map.skew);
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
                let resting = map.skew + self.rate.trim.value;
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

    /// The rate that keeps a player on the timeline with no error to correct.
    pub(super) fn resting_rate(&self, speed: f64, map: &RoomMap) -> f64 {
        self.bounded_rate(speed, speed * (1.0 + map.skew + self.rate.trim.value))
    }

    /// `rate` kept within the largest deviation from `speed`, a hair inside so that float
    /// rounding can never take it past.
    fn bounded_rate(&self, speed: f64, rate: f64) -> f64 {
        let dev = self.cfg.max_rate_dev * (1.0 - 1e-9);
        rate.clamp_to(speed * (1.0 - dev), speed * (1.0 + dev))
    }

    /// Sets the rate the timeline asks for, unless it is already commanded.
    pub(super) fn set_speed_for(
        &mut self,
        now: LocalTime,
        rate: f64,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        if (rate - self.rate.commanded).abs() > 1e-9 {
            self.set_rate(now, rate, out);
        }
    }

    /// Sets the rate for anything but steering by the clock, which then starts afresh.
    fn set_rate(&mut self, now: LocalTime, rate: f64, out: &mut VecDeque<PlayerCommand>) {
        self.send_rate(now, rate, out);
        self.clock.restart(now);
    }

    /// Commands a rate; a rate that is not a positive number is never sent.
    pub(super) fn send_rate(
        &mut self,
        now: LocalTime,
        rate: f64,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        if rate > 0.0 && rate.is_finite() {
            out.push_back(PlayerCommand::SetRate(rate));
            self.rate.commanded = rate;
            self.rate.last_sent = Some(now);
            self.stats.rate_changes += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Trim, MIN_TRIM_GAIN};

    #[test]
    fn a_trim_that_reverses_the_last_halves_its_gain_and_one_that_goes_on_doubles_it() {
        let mut c = Trim::new();
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
            c.against(drift * 1e-6);
            assert!(
                (c.value * 1e6 - trim).abs() < 1e-6,
                "{i}: trim {}",
                c.value * 1e6
            );
            assert_eq!(c.gain, gain, "{i}");
        }
        // No drift measured: nothing moves, and the direction is kept.
        c.against(0.0);
        assert!((c.value * 1e6 - 2_000.0).abs() < 1e-6);
        c.against(100.0 * 1e-6);
        assert_eq!(c.gain, 0.5);
    }
}
