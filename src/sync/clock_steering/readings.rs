//! Reading the media clock into one error: the median of the latest readings, or, during a fast
//! correction, every reading since it began averaged along the correction's known slope.
//!
//! While the renderer stretches the sound, `currentTime` scatters by a few milliseconds, so a
//! median of a few readings is good to no better than that. During a fast correction the clock
//! moves at a known slope (the correcting rate), so every reading since the correction began
//! (or turned) is averaged along that slope ([`SlopeFit`]): after a few dozen readings it is
//! good to a fraction of a millisecond.

use crate::sync::samples::recent_median;
use crate::sync::time::{LocalTime, Span};
use std::collections::VecDeque;

/// The slope fit speaks once it holds this many readings; the median before...
const FIT_MIN: u32 = 4;
/// ...and only while the latest readings agree with it within this, µs: a clock that does not
/// move at the rate set (one that ignores it, or answers it slowly) is steered by its readings.
const FIT_AGREES: f64 = 6_000.0;
/// Readings older than this do not count as the clock being read (the player stopped reading
/// it); steering falls back to the presented frames.
const FRESH: Span = Span::from_millis(100);
/// The error is the median of this many latest readings...
const MEDIAN_OF: usize = 5;
/// ...while correcting fast, of this many (it must stop as soon as it arrives).
const MEDIAN_WHILE_FAST: usize = 3;

/// The latest readings of the clock, and the fit along a fast correction's slope.
#[derive(Clone, Debug)]
pub(super) struct Readings {
    /// (read at, error µs) of the latest readings.
    latest: VecDeque<(LocalTime, f64)>,
    last_read: Option<LocalTime>,
    /// The readings of the fast correction under way, along its slope.
    fit: Option<SlopeFit>,
}

impl Readings {
    pub(super) fn new() -> Readings {
        Readings {
            latest: VecDeque::new(),
            last_read: None,
            fit: None,
        }
    }

    /// One reading: the clock's error (µs, positive ahead) at `read_at`.
    pub(super) fn record(&mut self, read_at: LocalTime, error: f64) {
        self.last_read = Some(self.last_read.map_or(read_at, |t| t.max(read_at)));
        self.latest.push_back((read_at, error));
        if self.latest.len() > MEDIAN_OF {
            self.latest.pop_front();
        }
        if let Some(fit) = &mut self.fit {
            fit.add(read_at, error);
        }
    }

    /// Whether the player is reading its clock, so that it is what to steer by.
    pub(super) fn is_reading(&self, now: LocalTime) -> bool {
        self.last_read.is_some_and(|t| now - t <= FRESH)
    }

    /// Forgets the readings so far and any fit (the clock was moved by something else, or a
    /// correction ended); the player is still taken to be reading its clock.
    pub(super) fn clear(&mut self) {
        self.latest.clear();
        self.fit = None;
    }

    /// Averages the readings from `since` on along `slope` (µs of error per µs).
    pub(super) fn fit_along(&mut self, since: LocalTime, slope: f64) {
        self.fit = Some(SlopeFit::new(since, slope));
    }

    /// The clock's error now, when enough fresh readings are at hand: the median of the latest
    /// (fewer while `fast`), or the fit along the slope once it holds enough readings and
    /// agrees with them.
    pub(super) fn error(&self, now: LocalTime, fast: bool) -> Option<f64> {
        if !self.is_reading(now) {
            return None;
        }
        let count = if fast { MEDIAN_WHILE_FAST } else { MEDIAN_OF };
        let median = (self.latest.len() >= count).then(|| recent_median(&self.latest, count));
        let along = self.fit.and_then(|fit| fit.error_at(now));
        match (along, median) {
            (Some(along), Some(median)) if (along - median).abs() <= FIT_AGREES => Some(along),
            _ => median,
        }
    }
}

/// Readings of a clock moving at a known slope off the timeline (µs of error per µs), averaged
/// into one error: each reading less the slope's part since `since`.
#[derive(Clone, Copy, Debug)]
struct SlopeFit {
    since: LocalTime,
    slope: f64,
    sum: f64,
    count: u32,
}

impl SlopeFit {
    fn new(since: LocalTime, slope: f64) -> SlopeFit {
        SlopeFit {
            since,
            slope,
            sum: 0.0,
            count: 0,
        }
    }

    /// Takes a reading, unless it is from before the fit began.
    fn add(&mut self, read_at: LocalTime, error: f64) {
        if read_at >= self.since {
            self.sum += error - self.slope * (read_at - self.since).0 as f64;
            self.count += 1;
        }
    }

    /// The error at `now`, once enough readings are in.
    fn error_at(&self, now: LocalTime) -> Option<f64> {
        (self.count >= FIT_MIN)
            .then(|| self.sum / self.count as f64 + self.slope * (now - self.since).0 as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: i64) -> LocalTime {
        LocalTime(x * 1000)
    }

    #[test]
    fn the_fit_reads_a_moving_clock_through_scatter() {
        let mut r = Readings::new();
        // A clock gaining 5 % on the timeline from −30 ms, its readings ±4 ms off in turn.
        r.fit_along(ms(0), 0.05);
        for i in 0..40 {
            let t = i * 16;
            let scatter = if i % 2 == 0 { 4_000.0 } else { -4_000.0 };
            r.record(ms(t), -30_000.0 + 0.05 * (t * 1000) as f64 + scatter);
        }
        let error = r.error(ms(640), true).expect("fresh readings");
        let truth = -30_000.0 + 0.05 * 640_000.0;
        assert!((error - truth).abs() < 300.0, "{error} against {truth}");
    }

    #[test]
    fn a_fit_the_readings_disagree_with_is_not_used() {
        let mut r = Readings::new();
        // Fitted as moving at 5 %, but the clock ignores the rate and stays 10 ms behind.
        r.fit_along(ms(0), 0.05);
        for t in (0..=480).step_by(16) {
            r.record(ms(t), -10_000.0);
        }
        assert_eq!(r.error(ms(480), true), Some(-10_000.0));
    }

    #[test]
    fn readings_before_the_fit_began_are_not_in_it() {
        let mut fit = SlopeFit::new(ms(100), 0.0);
        fit.add(ms(50), 99_000.0);
        for t in [100, 116, 132, 148] {
            fit.add(ms(t), 1_000.0);
        }
        assert_eq!(fit.error_at(ms(200)), Some(1_000.0));
    }

    #[test]
    fn cleared_readings_give_no_error_until_enough_come_in() {
        let mut r = Readings::new();
        for t in (0..80).step_by(16) {
            r.record(ms(t), 2_000.0);
        }
        assert_eq!(r.error(ms(80), false), Some(2_000.0));
        r.clear();
        assert!(r.is_reading(ms(80)));
        assert_eq!(r.error(ms(80), false), None);
        for t in (96..144).step_by(16) {
            r.record(ms(t), 1_000.0);
        }
        // Three readings: enough while fast, not at rest.
        assert_eq!(r.error(ms(144), true), Some(1_000.0));
        assert_eq!(r.error(ms(144), false), None);
    }
}
