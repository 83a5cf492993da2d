//! How finely a player can place a frame in time: the step its presented frames are quantized
//! to, for [`Input::PresentationStep`](super::Input::PresentationStep), and where on that grid
//! frames fall, for [`Input::PresentationPhase`](super::Input::PresentationPhase).
//!
//! A browser shows a new frame only at a display refresh, so the picture can be moved in
//! steps of the refresh interval, or of the video's frame duration where frames are shorter
//! (120 fps on a 60 Hz screen). The player glue measures both and this estimator combines them:
//! medians over recent samples, so one late refresh or one skipped frame does not move the step,
//! and a new value only when it changed noticeably, so the engine is not told the same thing
//! sixty times a second.

use super::time::Span;
use std::collections::VecDeque;

/// Samples each median is taken over.
const HISTORY: usize = 31;
/// Samples needed before a median is trusted.
const MIN_SAMPLES: usize = 8;
/// Intervals outside this are not a display or a video frame rate (a paused tab, a seek).
const PLAUSIBLE_MS: std::ops::RangeInclusive<f64> = 2.0..=100.0;
/// A new step or phase is reported only when it differs from the last reported by more than
/// this.
const REPORT_CHANGE_MS: f64 = 0.5;

/// Combines measured display refresh intervals and video frame durations into one step.
#[derive(Debug, Default)]
pub struct StepEstimator {
    refresh_ms: VecDeque<f64>,
    frame_ms: VecDeque<f64>,
    /// Display instant minus media time of recent frames, ms (taken modulo the step when read).
    offsets_ms: VecDeque<f64>,
    reported: Option<Span>,
    reported_phase: Option<Span>,
}

impl StepEstimator {
    pub fn new() -> StepEstimator {
        StepEstimator::default()
    }

    /// Time between two consecutive display refreshes (e.g. `requestAnimationFrame`
    /// timestamps), in ms. Implausible values are ignored.
    pub fn refresh_interval(&mut self, ms: f64) {
        push_plausible(&mut self.refresh_ms, ms);
    }

    /// Media time between two consecutive video frames that were both presented, in ms.
    pub fn frame_duration(&mut self, ms: f64) {
        push_plausible(&mut self.frame_ms, ms);
    }

    /// A frame presented: its display instant (on the local clock) and media time, in ms.
    pub fn presented(&mut self, at_ms: f64, media_ms: f64) {
        let offset = at_ms - media_ms;
        if !offset.is_finite() {
            return;
        }
        if self.offsets_ms.len() == HISTORY {
            self.offsets_ms.pop_front();
        }
        self.offsets_ms.push_back(offset);
    }

    /// Where frames fall on the step grid: presented frames are shown at local instants equal
    /// to their media time plus this, modulo the step. A property of the screen's refresh
    /// phase and the video's frame timestamps, so it holds across pauses and seeks.
    pub fn phase(&self) -> Option<Span> {
        let step = self.step()?.0 as f64 / 1000.0;
        // One frame is enough to start with (its display instant is exact, unlike a refresh
        // interval measured by a timer); the median guards once there are more.
        if step <= 0.0 {
            return None;
        }
        // A median on a circle: measured around the latest offset, so values either side of
        // the wrap-around stay neighbours.
        let reference = *self.offsets_ms.back()?;
        let mut around: Vec<f64> = self
            .offsets_ms
            .iter()
            .map(|o| wrap(o - reference, step))
            .collect();
        around.sort_by(f64::total_cmp);
        let phase = (reference + around[around.len() / 2]).rem_euclid(step);
        Some(Span::from_micros((phase * 1000.0).round() as i64))
    }

    /// The phase, when it is known and moved since this last returned it.
    pub fn changed_phase(&mut self) -> Option<Span> {
        let phase = self.phase()?;
        let step = self.step()?;
        let moved = self.reported_phase.is_none_or(|last| {
            let apart = wrap((phase - last).0 as f64, step.0 as f64).abs();
            apart > REPORT_CHANGE_MS * 1000.0
        });
        if !moved {
            return None;
        }
        self.reported_phase = Some(phase);
        Some(phase)
    }

    /// The step as now measured: the finer of the display's refresh interval and the video's
    /// frame duration; `None` until the refresh interval is known.
    pub fn step(&self) -> Option<Span> {
        let refresh = median(&self.refresh_ms)?;
        let step = median(&self.frame_ms).map_or(refresh, |frame| frame.min(refresh));
        Some(Span::from_micros((step * 1000.0).round() as i64))
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

/// `x` moved by whole periods into [-period/2, period/2).
fn wrap(x: f64, period: f64) -> f64 {
    (x + period / 2.0).rem_euclid(period) - period / 2.0
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

fn median(samples: &VecDeque<f64>) -> Option<f64> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    let mut sorted: Vec<f64> = samples.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    Some(sorted[sorted.len() / 2])
}

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
    fn phase_is_where_frames_fall_on_the_grid_even_across_the_wrap() {
        let mut e = StepEstimator::new();
        feed(&mut e, &[10.0; 10], &[10.0; 10]);
        assert_eq!(e.phase(), None, "no frames yet");
        // Frames shown 0.2 ms before or after a grid line (offsets 9.8 and 10.2, mod 10): the
        // phase is the line, not the average 5.
        for k in 0..12 {
            let at = 1000.0 + 10.0 * k as f64 + if k % 2 == 0 { 0.2 } else { -0.2 };
            e.presented(at, 30.0 + 10.0 * k as f64);
        }
        let phase = e.phase().expect("known").0;
        assert!(
            phase <= 200 || phase >= 9_800,
            "phase {phase} µs should sit on the line"
        );
        assert!(e.changed_phase().is_some());
        e.presented(1200.1, 230.0);
        assert_eq!(e.changed_phase(), None, "the same grid");
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
}
