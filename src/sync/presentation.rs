//! How finely a player can place a frame in time: the step its presented frames are quantized
//! to, for [`Input::PresentationStep`](super::Input::PresentationStep), and the exact grid of
//! refreshes and frames, for [`Input::FrameGrid`](super::Input::FrameGrid).
//!
//! A browser shows a new frame only at a display refresh, so the picture can be moved in
//! steps of the refresh interval, or of the video's frame duration where frames are shorter
//! (120 fps on a 60 Hz screen). The player glue measures both and this estimator combines them:
//! medians over recent samples, so one late refresh or one skipped frame does not move the step,
//! and a new value only when it changed noticeably, so the engine is not told the same thing
//! sixty times a second.
//!
//! The frame grid's arithmetic is here as well: the exact frame duration a measured step stands
//! for, and where on the grid a set of errors falls (the offset the controller steers to, and
//! which side of half a step it keeps).

use super::time::{LocalTime, MediaTime, Span};
use crate::stats;
use std::collections::VecDeque;

/// Samples each median is taken over.
const HISTORY: usize = 31;
/// Samples needed before a median is trusted.
const MIN_SAMPLES: usize = 8;
/// Intervals outside this are not a display or a video frame rate (a paused tab, a seek).
const PLAUSIBLE_MS: std::ops::RangeInclusive<f64> = 2.0..=100.0;
/// A new step is reported only when it differs from the last reported by more than this.
const REPORT_CHANGE_MS: f64 = 0.5;

/// Combines measured display refresh intervals and video frame durations into one step.
#[derive(Debug, Default)]
pub struct StepEstimator {
    refresh_ms: VecDeque<f64>,
    frame_ms: VecDeque<f64>,
    /// The medians of the two above, worked out as a sample arrives: the player reads the step
    /// and the picture's precision at every frame, and each read would otherwise sort both.
    refresh_median: Option<f64>,
    frame_median: Option<f64>,
    reported: Option<Span>,
}

impl StepEstimator {
    pub fn new() -> StepEstimator {
        StepEstimator::default()
    }

    /// Time between two consecutive display refreshes (e.g. `requestAnimationFrame`
    /// timestamps), in ms. Implausible values are ignored.
    pub fn refresh_interval(&mut self, ms: f64) {
        push_plausible(&mut self.refresh_ms, ms);
        self.refresh_median = median(&self.refresh_ms);
    }

    /// Media time between two consecutive video frames that were both presented, in ms.
    pub fn frame_duration(&mut self, ms: f64) {
        push_plausible(&mut self.frame_ms, ms);
        self.frame_median = median(&self.frame_ms);
    }

    /// The step as now measured: the finer of the display's refresh interval and the video's
    /// frame duration; `None` until the refresh interval is known.
    pub fn step(&self) -> Option<Span> {
        let refresh = self.refresh_median?;
        let step = self
            .frame_median
            .map_or(refresh, |frame| frame.min(refresh));
        Some(Span::from_micros((step * 1000.0).round() as i64))
    }

    /// Whether the picture keeps one place on the display's refresh: each frame lasts the
    /// same whole number of refreshes (or each refresh the same whole number of frames), so
    /// every frame is shown at the same place of a refresh and a viewer's picture is exactly
    /// where its frames' times put it. `Some(false)` at film rates on a 60 Hz display (24 and
    /// 25 fps: frames of 2.5 and 2.4 refreshes, a cadence whose state varies between renderers),
    /// and at the NTSC rates, whose frames creep through a whole refresh (29.97 fps on 60 Hz:
    /// every 16.7 s). The display is taken for a whole rate: its refresh, measured from animation
    /// frames coarsened to 0.1 ms, cannot tell 59.94 Hz from 60. `None` until both are measured.
    pub fn picture_locked_to_refresh(&self) -> Option<bool> {
        let refresh_us = self.refresh_median? * 1000.0;
        let frame_us = self.frame_median? * 1000.0;
        Some(picture_locked_to_refresh(frame_us, refresh_us))
    }

    /// The display's refresh interval as measured, once known.
    pub fn refresh(&self) -> Option<Span> {
        self.refresh_median
            .map(|ms| Span::from_micros((ms * 1000.0).round() as i64))
    }

    /// The step, when it is known and differs from the one this last returned.
    pub fn changed_step(&mut self) -> Option<Span> {
        let step = self.step()?;
        let moved = self.reported.is_none_or(|last| {
            (step - last).abs() > Span::from_micros((REPORT_CHANGE_MS * 1000.0) as i64)
        });
        if !moved {
            return None;
        }
        self.reported = Some(step);
        Some(step)
    }
}

/// The exact grid a player shows frames on: refreshes every `refresh_us` from `vsync` (a recent
/// refresh, on the local clock), and frames every `frame_us` of media time from `frame` (the
/// media time of one frame: a video's frames need not start at zero). Exact means to a
/// fraction of a microsecond: a start placed on it after a seek a minute away must still fall
/// on a refresh, and a microsecond off per frame would be 3.6 ms off per minute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameGrid {
    pub vsync: LocalTime,
    pub refresh_us: f64,
    pub frame: MediaTime,
    pub frame_us: f64,
}

impl FrameGrid {
    /// Plausible refresh intervals and frame durations, µs (10–500 Hz, 10–500 fps).
    const PLAUSIBLE_US: std::ops::RangeInclusive<f64> = 2_000.0..=100_000.0;

    /// Whether the grid describes a display and a video at all.
    pub fn is_plausible(&self) -> bool {
        self.vsync.is_sane()
            && self.frame.is_sane()
            && Self::PLAUSIBLE_US.contains(&self.refresh_us)
            && Self::PLAUSIBLE_US.contains(&self.frame_us)
    }

    /// A start from `from` at local `start`, moved onto the grid: `from` to the nearest frame
    /// (less than half a frame away), `start` to the first refresh at or after it (less than a
    /// refresh later). Playing on from there at normal speed, the timeline reaches a frame
    /// exactly at a refresh: every viewer on this grid shows the same frame, as far as can be
    /// from the tie between two.
    pub fn align(&self, start: LocalTime, from: MediaTime) -> (LocalTime, MediaTime) {
        let frames = ((from - self.frame).0 as f64 / self.frame_us).round();
        let frame = self.frame.0 as f64 + frames * self.frame_us;
        let refreshes = ((start - self.vsync).0 as f64 / self.refresh_us).ceil();
        let on_refresh = self.vsync.0 as f64 + refreshes * self.refresh_us;
        (
            LocalTime(on_refresh.round() as i64),
            MediaTime(frame.round().max(0.0) as i64),
        )
    }
}

/// How far past half a step the frame grid offset may go before it is taken back to the other
/// side ([`offset_near`]): readings and frame times scatter by under a millisecond.
const GRID_HYSTERESIS: Span = Span::from_micros(3_000);

/// Frame rates video is made at, fps: NTSC's 1000/1001 ones and the whole ones.
const STANDARD_FRAME_RATES: [f64; 12] = [
    24_000.0 / 1_001.0,
    24.0,
    25.0,
    30_000.0 / 1_001.0,
    30.0,
    48.0,
    50.0,
    60_000.0 / 1_001.0,
    60.0,
    100.0,
    120_000.0 / 1_001.0,
    120.0,
];

/// How near a standard frame duration a step must be to be taken for it: the NTSC rates are
/// 0.1 % off the whole ones, and a measured step is a few microseconds off the true one; just
/// short of halfway between.
const STANDARD_WITHIN: f64 = 4.5e-4;

/// The exact frame duration a measured `step` stands for, µs: the standard one within
/// [`STANDARD_WITHIN`], else the step. A step is measured to the microsecond (16 667 µs for
/// 16 666.67), and a start aligned with it ten minutes of media away would fall 12 ms off the
/// frames.
pub(crate) fn standard_frame_us(step: Span) -> f64 {
    let step = step.0 as f64;
    STANDARD_FRAME_RATES
        .iter()
        .map(|fps| 1e6 / fps)
        .find(|exact| (step - exact).abs() <= exact * STANDARD_WITHIN)
        .unwrap_or(step)
}

/// The longest cadence looked for: frames lasting p/q refreshes with q up to this (24 fps on
/// 60 Hz is 5/2, 25 and 50 fps are 12/5 and 6/5, 48 fps 5/4). A longer one is taken as q = 1:
/// where frame starts fall then wanders slowly, and is followed as it goes.
const MAX_CADENCE: u32 = 6;
/// How near a whole number q times the frame-to-step ratio must be, as a share of it: 29.97
/// fps on 60 Hz is 2.002 refreshes a frame (q = 1, its starts creeping through a refresh every
/// 16.7 s), and a step measured from `requestAnimationFrame` times coarsened to 0.1 ms reads
/// 16.6 or 16.7 ms for 16.667 (0.4 % off: 25 fps then looks 11.98 refreshes in five frames).
/// The nearest wrong cadence of a common rate is 8 % off.
const CADENCE_WITHIN: f64 = 0.006;

/// In how many places among a step's length presented frames begin: q, for frames `frame_us`
/// apart lasting p/q steps of `step_us` (1 for 60 or 30 fps on 60 Hz, 2 for 24 or 23.976 fps,
/// 5 for 25 or 50 fps). Frame starts then fall on a lattice `step_us / q` fine, and its place
/// within that spacing is the frame grid.
pub(crate) fn cadence_places(frame_us: f64, step_us: f64) -> u32 {
    let ratio = frame_us / step_us;
    if !ratio.is_finite() || ratio <= 0.0 {
        return 1;
    }
    (1..=MAX_CADENCE)
        .find(|&q| {
            let steps = ratio * q as f64;
            (steps - steps.round()).abs() <= CADENCE_WITHIN * steps
        })
        .unwrap_or(1)
}

/// Whether frames `frame_us` long keep one place on refreshes `refresh_us` apart (see
/// [`StepEstimator::picture_locked_to_refresh`]): a whole number of either per the other, and
/// not an NTSC rate, which creeps through a whole-rate display's refresh.
pub fn picture_locked_to_refresh(frame_us: f64, refresh_us: f64) -> bool {
    let standard = standard_frame_us(Span::from_micros(frame_us.round() as i64));
    let ntsc = [24.0, 30.0, 60.0, 120.0]
        .iter()
        .any(|whole| (standard - 1001.0 * 1e3 / whole).abs() < 1.0);
    let (longer, shorter) = (frame_us.max(refresh_us), frame_us.min(refresh_us));
    !ntsc && cadence_places(longer, shorter) == 1
}

/// Where on the grid the clock is best placed, given the errors (µs) of presented frames: an
/// offset within half a lattice spacing (`step / places`, see [`cadence_places`]) either way;
/// `None` when the errors show no grid at all (scattered evenly: too few, or no cadence).
///
/// A renderer shows at each refresh the frame that covers most of the refresh's interval
/// (Chromium's `VideoRendererAlgorithm`), i.e. the frame under the clock half a refresh on; a
/// frame therefore first appears at a refresh whose clock lies within half a refresh of its
/// start, and the errors of presented frames spread over the refresh around the clock. The
/// places they take form a lattice of `places` points a refresh; the clock is safest where the
/// midpoint of every refresh interval falls farthest from a frame boundary, which is the middle
/// of the lattice: at its points when `places` is odd (60, 30, 25, 50 fps), midway between two
/// when it is even (24 fps: two places half a refresh apart, the clock a quarter refresh from
/// each). That is the mean of the errors over one whole cadence, taken modulo the spacing. It is
/// measured here as a circular mean with the spacing as period, so it needs no whole cadence,
/// and a frame shown a whole refresh late (a dropped refresh) counts like the others.
///
/// The median of single errors wrapped to a refresh, which this replaced, flips between the
/// two places at 24 fps, and the clock steered to either puts half the frames on a tie.
pub(crate) fn offset_on_grid(
    errors: impl Iterator<Item = f64>,
    step: f64,
    places: u32,
) -> Option<f64> {
    let spacing = step / places.max(1) as f64;
    let errors: Vec<f64> = errors.filter(|e| e.is_finite()).collect();
    if errors.len() < 2 {
        return None;
    }
    // A circular mean with the spacing as period, without trigonometry (which would cost the
    // first download 5 KB of `libm`): each error taken to its equal nearest a reference, the
    // mean of those, twice over (the second time around the first mean, in case the first
    // error was a stray one).
    let mut point = errors[0];
    let mut spread = 0.0;
    let n = errors.len() as f64;
    for _ in 0..2 {
        let reference = point;
        let near = |e: &f64| reference + wrap(e - reference, spacing);
        point = errors.iter().map(near).sum::<f64>() / n;
        spread = errors.iter().map(|e| (near(e) - point).abs()).sum::<f64>() / n;
    }
    // Errors spread around the whole spacing place nothing.
    if spread > spacing * MAX_GRID_SPREAD {
        return None;
    }
    let middle = if places % 2 == 0 {
        point + spacing / 2.0
    } else {
        point
    };
    Some(wrap(middle, spacing))
}

/// How far (mean absolute deviation, a share of the spacing) the errors may spread around
/// their place for it to be a grid: display times jitter by a fraction of a millisecond, while
/// errors of no grid at all spread evenly, a quarter of the spacing.
const MAX_GRID_SPREAD: f64 = 0.2;

/// `x` taken by whole `period`s into half a period either way.
fn wrap(x: f64, period: f64) -> f64 {
    x - (x / period).round() * period
}

/// Which of `wrapped` (µs, within half a `step` either way) and its equals a whole step apart
/// is the grid offset (`step`: the lattice spacing, [`offset_on_grid`]): the one nearest the oldest viewer's (`oldest`: what it announced for
/// this state), however far past half a step, so that the picture is the one the oldest viewer
/// shows; without one, the one nearest the `last` offset in use, within the hysteresis.
pub(crate) fn grid_side(wrapped: f64, last: Option<f64>, oldest: Option<f64>, step: f64) -> f64 {
    match (oldest, last) {
        (Some(oldest), _) => nearest_equal(wrapped, oldest, step),
        (None, Some(last)) => offset_near(wrapped, last, step),
        (None, None) => wrapped,
    }
}

/// Of `wrapped` (µs, within half a `step` either way) and its equals a whole step apart, the
/// one nearest `last`, unless that is more than [`GRID_HYSTERESIS`] past half a step.
fn offset_near(wrapped: f64, last: f64, step: f64) -> f64 {
    let nearest = nearest_equal(wrapped, last, step);
    // A quarter of the spacing at most: at 25 fps the places are 3.3 ms apart.
    let hysteresis = (GRID_HYSTERESIS.0 as f64).min(step / 4.0);
    if nearest.abs() <= step / 2.0 + hysteresis {
        nearest
    } else {
        wrapped
    }
}

/// Of `offset` and its equals a whole `step` apart, the one nearest `to`.
fn nearest_equal(offset: f64, to: f64, step: f64) -> f64 {
    offset + ((to - offset) / step).round() * step
}

fn push_plausible(samples: &mut VecDeque<f64>, ms: f64) {
    if !PLAUSIBLE_MS.contains(&ms) {
        return;
    }
    if samples.len() == HISTORY {
        samples.pop_front();
    }
    samples.push_back(ms);
}

/// The median ([`stats::median`]) of the samples, once there are enough to trust.
fn median(samples: &VecDeque<f64>) -> Option<f64> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    stats::median(&samples.iter().copied().collect::<Vec<_>>())
}

#[cfg(test)]
mod cadence_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(estimator: &mut StepEstimator, refresh: &[f64], frames: &[f64]) {
        for &ms in refresh {
            estimator.refresh_interval(ms);
        }
        for &ms in frames {
            estimator.frame_duration(ms);
        }
    }

    #[test]
    fn unknown_until_enough_refreshes_are_measured() {
        let mut e = StepEstimator::new();
        feed(&mut e, &[16.7; MIN_SAMPLES - 1], &[16.7; 20]);
        assert_eq!(e.step(), None);
        e.refresh_interval(16.7);
        assert_eq!(e.step(), Some(Span::from_micros(16_700)));
    }

    #[test]
    fn the_finer_of_refresh_and_frame_duration() {
        // 30 fps on 60 Hz: the picture moves in refresh steps.
        let mut e = StepEstimator::new();
        feed(&mut e, &[16.667; 10], &[33.333; 10]);
        assert_eq!(e.step(), Some(Span::from_micros(16_667)));
        // 120 fps on 60 Hz: in frame steps.
        let mut e = StepEstimator::new();
        feed(&mut e, &[16.667; 10], &[8.333; 10]);
        assert_eq!(e.step(), Some(Span::from_micros(8_333)));
    }

    #[test]
    fn the_picture_keeps_its_place_only_where_frames_last_whole_refreshes() {
        // Refreshes as animation frames measure them on 60 Hz: 16.6 or 16.7 ms.
        let refresh = [16.7, 16.6, 16.7, 16.7, 16.6, 16.7, 16.7, 16.6, 16.7];
        let locked = |fps: f64| {
            let mut e = StepEstimator::new();
            feed(&mut e, &refresh, &[1000.0 / fps; 10]);
            e.picture_locked_to_refresh()
        };
        for fps in [60.0, 30.0, 120.0, 15.0] {
            assert_eq!(locked(fps), Some(true), "{fps} fps");
        }
        // Cadences (24: 2.5 refreshes a frame; 25 and 50: 2.4 and 1.2; 48: 1.25), and the NTSC
        // rates creeping through the refresh.
        for fps in [
            24.0,
            25.0,
            50.0,
            48.0,
            24_000.0 / 1_001.0,
            30_000.0 / 1_001.0,
        ] {
            assert_eq!(locked(fps), Some(false), "{fps} fps");
        }
        assert_eq!(locked(60_000.0 / 1_001.0), Some(false));
        // Unknown until both the refresh and the frame duration are measured.
        let mut e = StepEstimator::new();
        feed(&mut e, &refresh, &[]);
        assert_eq!(e.picture_locked_to_refresh(), None);
        assert_eq!(e.refresh(), Some(Span::from_micros(16_700)));
        let mut e = StepEstimator::new();
        feed(&mut e, &[], &[16.667; 10]);
        assert_eq!(e.picture_locked_to_refresh(), None);
        assert_eq!(e.refresh(), None);
    }

    #[test]
    fn a_late_refresh_or_a_skipped_frame_does_not_move_it() {
        let mut e = StepEstimator::new();
        feed(
            &mut e,
            &[16.7, 33.4, 16.6, 16.7, 50.0, 16.7, 16.8, 16.7, 16.7],
            &[],
        );
        assert_eq!(e.step(), Some(Span::from_micros(16_700)));
        // A background tab's gap and a seek's jump are not intervals at all.
        feed(&mut e, &[1000.0, 0.0, f64::NAN, -5.0], &[]);
        assert_eq!(e.step(), Some(Span::from_micros(16_700)));
    }

    #[test]
    fn a_start_ten_minutes_of_media_away_still_lands_on_a_refresh_and_a_frame() {
        let refresh = 1e6 / 60.0;
        let grid = FrameGrid {
            vsync: LocalTime(5_000_000),
            refresh_us: refresh,
            frame: MediaTime(0),
            frame_us: refresh,
        };
        let (start, from) = grid.align(LocalTime(30_000_123), MediaTime(600_004_000));
        let refreshes = (start.0 - 5_000_000) as f64 / refresh;
        assert!((refreshes - refreshes.round()).abs() < 0.01, "{refreshes}");
        let frames = from.0 as f64 / refresh;
        assert!((frames - frames.round()).abs() < 0.01, "{frames}");
        assert!(start >= LocalTime(30_000_123) && start.0 < 30_000_123 + 16_667);
        assert!((from.0 - 600_004_000).abs() <= 8_334);
    }

    #[test]
    fn a_start_lands_on_frames_that_do_not_start_at_zero() {
        let refresh = 1e6 / 60.0;
        // A frame seen at 30.007 s: the video's frames start at 7 ms.
        let grid = FrameGrid {
            vsync: LocalTime(5_000_000),
            refresh_us: refresh,
            frame: MediaTime(30_007_000),
            frame_us: refresh,
        };
        for to in [0, 3_000, 600_004_000] {
            let (_, from) = grid.align(LocalTime(6_000_000), MediaTime(to));
            let frames = (from.0 - 7_000) as f64 / refresh;
            assert!((frames - frames.round()).abs() < 0.01, "{to}: {from:?}");
            assert!((from.0 - to).abs() <= 8_334, "{to}: {from:?}");
        }
    }

    #[test]
    fn reports_only_changes() {
        let mut e = StepEstimator::new();
        feed(&mut e, &[16.7; 10], &[]);
        assert_eq!(e.changed_step(), Some(Span::from_micros(16_700)));
        feed(&mut e, &[16.6; 3], &[]);
        assert_eq!(e.changed_step(), None, "0.1 ms is noise");
        // The window moves to a 120 Hz screen.
        feed(&mut e, &[8.33; HISTORY], &[]);
        assert_eq!(e.changed_step(), Some(Span::from_micros(8_330)));
        assert_eq!(e.changed_step(), None);
    }

    const STEP: f64 = 16_667.0;

    #[test]
    fn a_grid_offset_near_half_a_step_keeps_its_side() {
        // Measured at +8.0 ms after −7.9 ms: the same place a step over, kept on its side.
        assert!((offset_near(8_000.0, -7_900.0, STEP) - (8_000.0 - STEP)).abs() < 1e-6);
        assert!((offset_near(-8_100.0, 8_200.0, STEP) - (STEP - 8_100.0)).abs() < 1e-6);
        // Moving on past half a step by a little, it follows...
        assert!((offset_near(-6_000.0, 10_000.0, STEP) - (STEP - 6_000.0)).abs() < 1e-6);
        // ...but not beyond the hysteresis: then it is taken back to the other side.
        assert_eq!(offset_near(-5_000.0, 11_300.0, STEP), -5_000.0);
        // Away from half a step nothing changes.
        assert_eq!(offset_near(3_000.0, -7_900.0, STEP), 3_000.0);
        assert_eq!(offset_near(-2_000.0, 1_000.0, STEP), -2_000.0);
    }

    #[test]
    fn a_measured_step_stands_for_the_exact_standard_frame() {
        let exact = |step_us: i64, fps: f64| {
            let us = standard_frame_us(Span::from_micros(step_us));
            (us - 1e6 / fps).abs() < 1e-6
        };
        assert!(exact(16_667, 60.0));
        assert!(exact(16_663, 60.0));
        assert!(exact(16_674, 60.0));
        assert!(exact(16_683, 60_000.0 / 1_001.0));
        assert!(exact(33_367, 30_000.0 / 1_001.0));
        assert!(exact(41_667, 24.0));
        // A 75 Hz screen's refresh is no frame rate: the step as measured.
        assert_eq!(standard_frame_us(Span::from_micros(13_333)), 13_333.0);
    }

    #[test]
    fn the_oldest_viewers_side_of_the_tie_is_taken() {
        // The oldest viewer steers to +8.3 ms; this one measures the same place as −8.2 ms.
        let taken = grid_side(-8_200.0, None, Some(8_300.0), STEP);
        assert!((taken - (STEP - 8_200.0)).abs() < 1e-6, "{taken}");
        // Over this viewer's own last side, and beyond the hysteresis (another screen, whose
        // refreshes fall elsewhere: the frame nearest the oldest viewer's is the one to show).
        let taken = grid_side(-4_000.0, Some(-4_100.0), Some(8_300.0), STEP);
        assert!((taken - (STEP - 4_000.0)).abs() < 1e-6, "{taken}");
        // Alone, the own side is kept, as before.
        assert_eq!(grid_side(-8_200.0, Some(-8_100.0), None, STEP), -8_200.0);
        assert_eq!(grid_side(-8_200.0, None, None, STEP), -8_200.0);
        // A side on the same half as ours changes nothing.
        assert_eq!(grid_side(2_000.0, None, Some(3_000.0), STEP), 2_000.0);
    }

    #[test]
    fn the_grid_offset_ignores_whole_frames() {
        let errors = [-3_000.0, -3_000.0 + STEP, -3_000.0 - 2.0 * STEP, -2_900.0];
        let offset = offset_on_grid(errors.into_iter(), STEP, 1).unwrap();
        // The (circular) mean of -3.0, -3.0, -3.0 and -2.9 ms.
        assert!((offset + 2_975.0).abs() < 1.0, "{offset}");
    }

    #[test]
    fn an_offset_at_the_wrap_point_stays_together() {
        // Half a step either way is the same offset: errors scattered across it.
        let errors = [8_200.0, -8_300.0, 8_250.0, -8_350.0 + STEP, 8_300.0];
        let offset = offset_on_grid(errors.into_iter(), STEP, 1).unwrap();
        let distance = (offset.abs() - 8_270.0).abs();
        assert!(distance < 100.0, "{offset}");
    }
}
