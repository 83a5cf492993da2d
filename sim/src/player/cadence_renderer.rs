//! Which frame Chromium's renderer shows at each display refresh ([`super::Renderer::Cadence`];
//! Firefox's, [`super::Renderer::ClockFrame`], keeps no such state), as Chromium picks it
//! (`media/filters/video_renderer_algorithm.cc` and `video_cadence_estimator.cc`, read for
//! issue 19; this is our own model of what they do, not their code).
//!
//! - **Frames in wall time.** Each queued frame's span [start, end] is its media timestamps
//!   mapped through the media clock and its current rate, so the spans move with the clock
//!   (a clock set back 20 ms moves every span 20 ms later at once).
//! - **Drift bound.** A frame's drift at a refresh is the distance from the refresh's start to
//!   the frame's span (0 inside it). The bound is half the average frame duration, at least
//!   1/60 s: 20.8 ms at 24 fps, 16.7 ms at 60 (15 ms until a duration is known).
//! - **Cadence.** While the estimator has a cadence (e.g. [3, 2] for 24 fps on 60 Hz), frame
//!   `counter` is meant to be shown `cadence[counter % len]` times; the head frame is kept while
//!   shown fewer times than that, then the next frame with a positive count is the candidate.
//! - **Restart from coverage.** When the candidate drifts past the bound, the frame covering
//!   most of the refresh is shown instead, and the cadence's counter restarts at 0 from the
//!   frame shown. A change of cadence also restarts it, at the head frame.
//! - **Estimator.** Frame durations (wall time: media duration over the rate) feed a 32-frame
//!   moving average. The classic estimator finds a cadence k/n (n ≤ 5) only while that average
//!   is close enough to it that the drift bound would take at least 8 s to reach (±0.26 % at
//!   24 fps on 60 Hz); a new cadence (or none) is taken once it held 100 ms of refreshes. The
//!   Bresenham variant (Chromium's `kBresenhamCadence` feature) keeps the exact ratio and takes
//!   a new one only when it moved more than 0.8 %.
//!
//! The consequence the sync engine lives with: at 24 fps several renderer states half a refresh
//! apart are stable for the same clock, and which one a renderer holds depends on its history.

use std::collections::VecDeque;

/// Chromium's bound before any frame duration is known (ATSC IS/191), µs.
pub const DEFAULT_DRIFT_US: f64 = 15_000.0;
/// The bound is never below this (1/60 s), µs.
const MIN_DRIFT_US: f64 = 1e6 / 60.0;
/// Frame durations averaged.
const AVERAGE_OF: usize = 32;
/// A cadence is taken only if the drift bound would take this long to reach with it, µs.
const MIN_TIME_TO_MAX_DRIFT_US: f64 = 8e6;
/// A new cadence must be seen for this long of refreshes before it is taken, µs.
const CADENCE_HYSTERESIS_US: i64 = 100_000;
/// The longest cadence pattern the classic estimator looks for.
const MAX_CADENCE_LEN: usize = 5;
/// Durations whose deviation exceeds this share of a refresh mark a variable frame rate (no
/// cadence) ...
const VARIABLE_FPS_SHARE: f64 = 0.55;
/// ... until it falls below this share.
const CONSTANT_FPS_SHARE: f64 = 0.45;
/// Bresenham: a change of the ideal cadence smaller than this fraction is ignored.
const BRESENHAM_ROUNDING: f64 = 0.008;
/// Two frames' coverages within this are a tie, won by the earlier, µs.
const COVERAGE_JITTER_US: f64 = 500.0;
/// Frames decoded ahead of the head frame.
const QUEUE_AHEAD: i64 = 3;

/// Which cadence estimator the renderer runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CadenceMode {
    /// k/n patterns within the 8 s drift tolerance (Chromium's default estimator).
    #[default]
    Classic,
    /// The exact ratio, re-taken when it moves more than 0.8 % (`kBresenhamCadence`).
    Bresenham,
}

/// The media clock at a refresh, which places every frame in wall time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockAt {
    /// The refresh's start (true µs).
    pub vsync_us: f64,
    /// Media seconds since the first frame, at the refresh's start.
    pub media_s: f64,
    /// Media seconds per true second.
    pub speed: f64,
    pub fps: f64,
}

impl ClockAt {
    /// When frame `k` starts showing on the wall clock, as the renderer maps it, µs.
    fn start_of(&self, k: i64) -> f64 {
        self.vsync_us + (k as f64 / self.fps - self.media_s) / self.speed * 1e6
    }

    /// The frame under the clock at the refresh.
    fn frame_now(&self) -> i64 {
        (self.media_s * self.fps + 1e-9).floor() as i64
    }
}

/// The frame on screen and how many refreshes it has been shown for.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Head {
    frame: i64,
    shown: u32,
}

/// The cadence estimator's state.
#[derive(Clone, Debug, PartialEq)]
enum Cadence {
    None,
    Pattern(Vec<u32>),
    /// Refreshes per frame, exactly (Bresenham).
    Ratio(f64),
}

/// One Chromium renderer's state: what its `VideoRendererAlgorithm` keeps between refreshes.
#[derive(Clone, Debug)]
pub struct CadenceRenderer {
    mode: CadenceMode,
    /// The frame on screen; `None` before the first refresh since the renderer was made.
    head: Option<Head>,
    /// The cadence taken.
    cadence: Cadence,
    /// The frame whose cadence counter is 0.
    counter_base: i64,
    /// A cadence seen but not yet taken, and for how many refreshes.
    pending: Cadence,
    held: i64,
    /// The latest wall-clock frame durations, µs, and the last frame that gave one.
    durations: VecDeque<f64>,
    sampled_through: Option<i64>,
    /// The drift bound: half the average duration, at least 1/60 s ([`DEFAULT_DRIFT_US`]
    /// before any), µs.
    max_drift_us: f64,
    /// The durations vary too much for any cadence (with hysteresis between two shares).
    variable: bool,
    /// How many times the cadence's counter restarted from a coverage pick (for tests).
    pub restarts: u64,
}

/// What the renderer decided at one refresh.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    pub frame: i64,
    /// Whether a cadence chose it.
    pub by_cadence: bool,
}

impl CadenceRenderer {
    pub fn new(mode: CadenceMode) -> CadenceRenderer {
        CadenceRenderer {
            mode,
            head: None,
            cadence: Cadence::None,
            counter_base: 0,
            pending: Cadence::None,
            held: 0,
            durations: VecDeque::new(),
            sampled_through: None,
            max_drift_us: DEFAULT_DRIFT_US,
            variable: false,
            restarts: 0,
        }
    }

    /// Whether the estimator holds a cadence.
    pub fn has_cadence(&self) -> bool {
        self.cadence != Cadence::None
    }

    /// The frame shown at a refresh of `refresh_us` starting at `clock.vsync_us`; never one
    /// before `floor` (a playing video does not step back), nor before the head frame.
    pub fn render(&mut self, clock: &ClockAt, refresh_us: f64, floor: Option<i64>) -> Pick {
        let first = match self.head {
            Some(h) => h.frame,
            None => clock.frame_now().max(floor.unwrap_or(0)).max(0) - 1,
        }
        .max(floor.unwrap_or(0))
        .max(0);
        let last = (first + QUEUE_AHEAD).max(clock.frame_now() + 2);
        self.sample_durations(clock, last);
        let Some(head) = self.head else {
            // The first refresh of a motion: the frame covering it best.
            let frame = self.by_coverage(clock, refresh_us, first, last).0;
            self.head = Some(Head { frame, shown: 1 });
            return Pick {
                frame,
                by_cadence: false,
            };
        };
        if self.update_cadence(refresh_us) {
            self.counter_base = head.frame;
        }
        let candidate = self.cadence_frame(head, last);
        let drift = |k: i64| self.drift_us(clock, k);
        let mut pick = candidate;
        if candidate.is_none_or(|k| drift(k) > self.max_drift_us) {
            let (best, second) = self.by_coverage(clock, refresh_us, first, last);
            pick = Some(match (candidate, second) {
                // Dropped for its drift: the runner-up if it drifts no more.
                (Some(c), Some(s)) if c == best && drift(s) <= drift(c) => s,
                _ => best,
            });
        }
        if pick.is_none_or(|k| drift(k) > self.max_drift_us) {
            pick = Some(self.by_drift(clock, first, last));
        }
        let frame = pick.unwrap_or(head.frame);
        if candidate.is_some_and(|c| c != frame) {
            // A glitch in the cadence: its sequence restarts from the frame shown.
            self.counter_base = frame;
            self.restarts += 1;
        }
        self.head = Some(if frame == head.frame {
            Head {
                frame,
                shown: head.shown + 1,
            }
        } else {
            Head { frame, shown: 1 }
        });
        Pick {
            frame,
            by_cadence: candidate == Some(frame),
        }
    }

    /// Frames up to `last` are queued: each frame with a successor gives its wall duration once.
    fn sample_durations(&mut self, clock: &ClockAt, last: i64) {
        let from = self.sampled_through.map_or(last - 1, |k| k + 1);
        for k in from..last {
            self.durations
                .push_back(clock.start_of(k + 1) - clock.start_of(k));
            if self.durations.len() > AVERAGE_OF {
                self.durations.pop_front();
            }
            self.sampled_through = Some(k);
        }
        if let Some(average) = self.average_duration_us() {
            self.max_drift_us = (average / 2.0).max(MIN_DRIFT_US);
        }
    }

    fn average_duration_us(&self) -> Option<f64> {
        (!self.durations.is_empty())
            .then(|| self.durations.iter().sum::<f64>() / self.durations.len() as f64)
    }

    /// The durations' standard deviation, µs.
    fn deviation_us(&self, average: f64) -> f64 {
        let n = self.durations.len() as f64;
        (self
            .durations
            .iter()
            .map(|d| (d - average).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    }

    /// The estimator at one refresh; `true` when it took a new cadence (or dropped one).
    fn update_cadence(&mut self, refresh_us: f64) -> bool {
        let Some(average) = self.average_duration_us() else {
            return false;
        };
        let deviation = self.deviation_us(average);
        if deviation > VARIABLE_FPS_SHARE * refresh_us {
            self.variable = true;
        } else if deviation < CONSTANT_FPS_SHARE * refresh_us {
            self.variable = false;
        }
        if self.variable {
            self.held = 0;
            let had = self.has_cadence();
            self.cadence = Cadence::None;
            return had;
        }
        let interval_us = refresh_us.round() as i64;
        match self.mode {
            CadenceMode::Classic => {
                let new = pattern_for(refresh_us, average, self.max_drift_us);
                if new == self.cadence {
                    self.held = 0;
                    return false;
                }
                if new == self.pending {
                    self.held += 1;
                    if self.held * interval_us >= CADENCE_HYSTERESIS_US {
                        self.cadence = new;
                        return true;
                    }
                    return false;
                }
                self.pending = new;
                self.held = 1;
                false
            }
            CadenceMode::Bresenham => {
                self.held += 1;
                if self.held * interval_us < CADENCE_HYSTERESIS_US {
                    return false;
                }
                let current = match self.cadence {
                    Cadence::Ratio(r) => r,
                    _ => 0.0,
                };
                let new = average / refresh_us;
                if (current - new).abs() / current.max(new) <= BRESENHAM_ROUNDING {
                    return false;
                }
                self.cadence = Cadence::Ratio(new);
                self.held = 0;
                true
            }
        }
    }

    /// How many refreshes the cadence means frame `k` to be shown for.
    fn ideal_count(&self, k: i64) -> u32 {
        let counter = k - self.counter_base;
        match &self.cadence {
            Cadence::None => 0,
            Cadence::Pattern(p) => p[counter.rem_euclid(p.len() as i64) as usize],
            Cadence::Ratio(r) => {
                // Chromium shifts the index by one (refreshes shorter than frames), so that the
                // sequence reads as the classic one: [3, 2] at 2.5.
                let i = (counter + 1) as f64;
                ((r * (i + 1.0)).floor() - (r * i).floor()).max(0.0) as u32
            }
        }
    }

    /// The frame the cadence would show: the head while shown fewer times than meant, else the
    /// next frame meant to be shown at all.
    fn cadence_frame(&self, head: Head, last: i64) -> Option<i64> {
        if !self.has_cadence() {
            return None;
        }
        if head.shown < self.ideal_count(head.frame) {
            return Some(head.frame);
        }
        (head.frame + 1..=last).find(|k| self.ideal_count(*k) > 0)
    }

    /// Distance from the refresh's start to frame `k`'s span, µs (0 inside it).
    fn drift_us(&self, clock: &ClockAt, k: i64) -> f64 {
        let (start, end) = (clock.start_of(k), clock.start_of(k + 1));
        if end < clock.vsync_us {
            clock.vsync_us - end
        } else if start > clock.vsync_us {
            start - clock.vsync_us
        } else {
            0.0
        }
    }

    /// The frame among `first..=last` covering most of the refresh (ties within 0.5 ms to the
    /// earlier), and the runner-up with any coverage.
    fn by_coverage(
        &self,
        clock: &ClockAt,
        refresh_us: f64,
        first: i64,
        last: i64,
    ) -> (i64, Option<i64>) {
        let (lo, hi) = (clock.vsync_us, clock.vsync_us + refresh_us);
        let cover = |k: i64| (clock.start_of(k + 1).min(hi) - clock.start_of(k).max(lo)).max(0.0);
        let mut ranked: Vec<(i64, f64)> = (first..=last)
            .map(|k| (k, cover(k)))
            .filter(|(_, c)| *c > 0.0)
            .collect();
        // Best first; the earlier frame first among equals.
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        match ranked.as_slice() {
            [] => (self.by_drift(clock, first, last), None),
            [(best, _)] => (*best, None),
            [(best, cb), (second, cs), ..] => {
                if second < best && cb - cs <= COVERAGE_JITTER_US {
                    (*second, Some(*best))
                } else {
                    (*best, Some(*second))
                }
            }
        }
    }

    /// The frame among `first..=last` drifting least from the refresh (the later among equals).
    fn by_drift(&self, clock: &ClockAt, first: i64, last: i64) -> i64 {
        let mut best = (first, f64::INFINITY);
        for k in first..=last {
            let d = self.drift_us(clock, k);
            if d <= best.1 {
                best = (k, d);
            }
        }
        best.0
    }
}

/// The classic estimator's cadence for frames `frame_us` long on refreshes `refresh_us` long:
/// the shortest k/n pattern (n ≤ 5) close enough to the exact ratio that the drift bound takes
/// at least 8 s to reach, spread as evenly as possible; none if no n has one.
fn pattern_for(refresh_us: f64, frame_us: f64, max_drift_us: f64) -> Cadence {
    let perfect = frame_us / refresh_us;
    if max_drift_us >= MIN_TIME_TO_MAX_DRIFT_US {
        return Cadence::Pattern(spread((perfect.round() as u32).max(1), 1));
    }
    let ratio = max_drift_us / MIN_TIME_TO_MAX_DRIFT_US;
    let (lowest, highest) = (perfect / (1.0 + ratio), perfect / (1.0 - ratio));
    let mut best: Option<(f64, u32, u32)> = None;
    for n in 1..=MAX_CADENCE_LEN as u32 {
        let n_f = n as f64;
        if (lowest * n_f).floor() < (highest * n_f).floor() {
            let k = (perfect * n_f).round() as u32;
            let error = (1.0 - perfect * n_f / k as f64).abs();
            if best.is_none_or(|(e, _, _)| error < e * 0.99) {
                best = Some((error, k, n));
            }
        }
    }
    match best {
        Some((_, k, n)) => Cadence::Pattern(spread(k, n)),
        None => Cadence::None,
    }
}

/// `n` counts summing to `k`, each k/n or k/n + 1, as evenly spread as possible, the first at
/// least 1.
fn spread(k: u32, n: u32) -> Vec<u32> {
    let (k, n) = (i64::from(k), i64::from(n));
    let quotient = k / n;
    let (mut target, mut actual) = (0i64, 0i64);
    (0..n)
        .map(|i| {
            target += k;
            let current = target - actual;
            let count = if (i == 0 && k < n) || current * 2 >= n * (quotient * 2 + 1) {
                quotient + 1
            } else {
                quotient
            };
            actual += count * n;
            count as u32
        })
        .collect()
}

#[cfg(test)]
#[path = "cadence_renderer_tests.rs"]
mod tests;
