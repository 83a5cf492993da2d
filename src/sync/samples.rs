//! Windows of timed errors, `(local instant, error in µs)`, and the two ways the engine reads
//! one: the median of the latest samples (for errors that move in whole frames, and for the
//! media clock's scattered readings) and a line fit read at an instant (for continuous errors).

use super::time::LocalTime;
use crate::stats;
use std::collections::VecDeque;

/// Median of the latest `count` errors in the window: follows a one-step jump within a few
/// samples and ignores a single late or early one. For an even count, the mean of the two
/// middle errors ([`stats::median_interpolated`]). Zero for an empty window.
pub(crate) fn recent_median(window: &VecDeque<(LocalTime, f64)>, count: usize) -> f64 {
    let latest: Vec<f64> = window.iter().rev().take(count).map(|(_, e)| *e).collect();
    stats::median_interpolated(&latest).unwrap_or(0.0)
}

/// The time-weighted mean of the latest errors over a whole number of cadences of `places`
/// frames (at least one): where the picture was, on average, against the timeline. Between
/// two presented frames the picture's position moves from one frame's error to the next
/// (what an observer interpolating the frames sees), so each interval counts the mean of its
/// two ends for as long as it lasted. Over whole cadences this is exact whatever the frame
/// rate (24 fps on 60 Hz: frames held three and two refreshes, their errors alternating half
/// a refresh apart); over a part of one it would lean to one side. `None` with fewer frames
/// than one cadence needs.
pub(crate) fn cadence_mean(window: &VecDeque<(LocalTime, f64)>, places: usize) -> Option<f64> {
    let places = places.max(1);
    let intervals = window.len().checked_sub(1)? / places * places;
    if intervals == 0 {
        return None;
    }
    let first = window.len() - 1 - intervals;
    let (mut weighted, mut span) = (0.0, 0.0);
    for (&(t0, e0), &(t1, e1)) in window.iter().skip(first).zip(window.iter().skip(first + 1)) {
        let dt = (t1 - t0).0.max(0) as f64;
        weighted += (e0 + e1) / 2.0 * dt;
        span += dt;
    }
    if span > 0.0 {
        Some(weighted / span)
    } else {
        // Frames reported at one instant: their plain mean.
        let latest = window.iter().skip(first);
        Some(latest.clone().map(|(_, e)| e).sum::<f64>() / latest.count() as f64)
    }
}

/// Least-squares line through the window's errors, read at `now`: averages frame-timing noise
/// and accounts for the error's current trend (the rate being applied). Zero for an empty
/// window.
pub(crate) fn line_at(window: &VecDeque<(LocalTime, f64)>, now: LocalTime) -> f64 {
    let Some(&(t0, _)) = window.front() else {
        return 0.0;
    };
    let n = window.len() as f64;
    let tm = window.iter().map(|(t, _)| (*t - t0).0 as f64).sum::<f64>() / n;
    let em = window.iter().map(|(_, e)| *e).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (t, e) in window {
        let dx = (*t - t0).0 as f64 - tm;
        sxx += dx * dx;
        sxy += dx * (e - em);
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    em + slope * ((now - t0).0 as f64 - tm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(samples: &[(i64, f64)]) -> VecDeque<(LocalTime, f64)> {
        samples.iter().map(|&(t, e)| (LocalTime(t), e)).collect()
    }

    #[test]
    fn the_median_is_of_the_latest_samples_only() {
        let w = window(&[(0, 100.0), (1, 5.0), (2, -20.0), (3, 7.0)]);
        // The latest three: 5, -20, 7.
        assert_eq!(recent_median(&w, 3), 5.0);
        // An even count takes the middle two's mean.
        assert_eq!(recent_median(&w, 2), -6.5);
        // More than there are: all of them.
        assert_eq!(recent_median(&w, 10), 6.0);
        assert_eq!(recent_median(&VecDeque::new(), 5), 0.0);
    }

    #[test]
    fn a_single_outlier_does_not_move_the_median() {
        let w = window(&[(0, 1.0), (1, 2.0), (2, -20_000.0), (3, 1.5), (4, 2.5)]);
        assert_eq!(recent_median(&w, 5), 1.5);
    }

    #[test]
    fn the_line_is_read_at_the_instant_asked() {
        // An error growing by 2 µs per µs, read ahead of the last sample.
        let w = window(&[(0, 0.0), (10, 20.0), (20, 40.0), (30, 60.0)]);
        assert!((line_at(&w, LocalTime(40)) - 80.0).abs() < 1e-9);
        // One instant only: its error, whatever the instant.
        let w = window(&[(5, 3.0), (5, 5.0)]);
        assert_eq!(line_at(&w, LocalTime(50)), 4.0);
        assert_eq!(line_at(&VecDeque::new(), LocalTime(50)), 0.0);
    }

    #[test]
    fn the_cadence_mean_is_where_the_picture_was_on_average() {
        // 24 fps on 60 Hz: frames held 3 and 2 refreshes (50 and 33.3 ms), their errors
        // alternating 8.3 ms apart around -2 ms. Over whole cadences: their middle.
        let mut w = VecDeque::new();
        let mut t = 0;
        for i in 0..9 {
            let error = if i % 2 == 0 { -6_167.0 } else { 2_167.0 };
            w.push_back((LocalTime(t), error));
            t += if i % 2 == 0 { 50_000 } else { 33_333 };
        }
        let mean = cadence_mean(&w, 2).unwrap();
        assert!((mean + 2_000.0).abs() < 1.0, "{mean}");
        // With one more frame, the oldest is left out to keep whole cadences: the same.
        w.push_back((LocalTime(t), 2_167.0));
        let mean = cadence_mean(&w, 2).unwrap();
        assert!((mean + 2_000.0).abs() < 1.0, "{mean}");
        // 25 fps: five places a refresh. Over four of the five frames of a cadence the mean
        // leans to one side; over the whole cadence it does not.
        let places = [-6_667.0, -3_333.0, 0.0, 3_333.0, 6_667.0];
        let w: VecDeque<(LocalTime, f64)> = (0..11)
            .map(|i| (LocalTime(i * 40_000), places[(i as usize * 2) % 5]))
            .collect();
        let whole = cadence_mean(&w, 5).unwrap();
        assert!(whole.abs() < 1.0, "{whole}");
        let part: VecDeque<_> = w.iter().copied().take(4).collect();
        let leaning = cadence_mean(&part, 1).unwrap();
        assert!(leaning.abs() > 400.0, "{leaning}");
    }

    #[test]
    fn the_cadence_mean_needs_one_whole_cadence() {
        let w = window(&[(0, 1.0), (10, 2.0), (20, 3.0)]);
        assert_eq!(cadence_mean(&w, 5), None);
        assert_eq!(cadence_mean(&VecDeque::new(), 1), None);
        // Frames reported at one instant: their plain mean.
        assert_eq!(cadence_mean(&window(&[(5, 3.0), (5, 5.0)]), 1), Some(4.0));
        // A frame a whole refresh late counts for as long as it was shown, no more.
        let w = window(&[(0, 0.0), (10, 0.0), (20, 0.0), (30, -10.0), (40, 0.0)]);
        assert_eq!(cadence_mean(&w, 1), Some(-2.5));
    }
}
