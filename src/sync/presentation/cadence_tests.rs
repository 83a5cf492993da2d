//! The frame grid at every common frame rate on a 60 Hz display: frames shown as a renderer
//! shows them (the frame under the clock half a refresh on, at each refresh), their errors fed
//! to [`offset_on_grid`] as the controller feeds them, and the clock placed where it says.

use super::{cadence_places, grid_side, offset_on_grid};

const REFRESH: f64 = 1e6 / 60.0;
/// The controller's error window: 300 ms of frames.
const WINDOW_US: f64 = 300_000.0;

/// A deterministic jitter of up to ±`amplitude` µs (a display time read a little early or late).
struct Jitter(u64);

impl Jitter {
    fn next(&mut self, amplitude: f64) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * amplitude
    }
}

/// Frames of a `fps` film whose first frame starts at media `first_us`, shown on a 60 Hz display
/// from true time `from_us` to `to_us` with the media clock `clock_us` ahead of the timeline
/// (the timeline is at `t` at true time `t`): each frame's (display time, error), the error
/// being its start less the timeline when it first appears, display times jittered.
fn shown(
    fps: f64,
    first_us: f64,
    clock_us: f64,
    (from_us, to_us): (f64, f64),
    jitter: &mut Jitter,
) -> Vec<(f64, f64)> {
    let frame = 1e6 / fps;
    let mut last = None;
    let mut out = Vec::new();
    let mut k = (from_us / REFRESH).ceil();
    while k * REFRESH < to_us {
        let vsync = k * REFRESH;
        // The frame covering most of this refresh's interval: the one under its midpoint.
        let j = ((vsync + clock_us + REFRESH / 2.0 - first_us) / frame).floor();
        if last != Some(j) {
            last = Some(j);
            let at = vsync + jitter.next(300.0);
            out.push((at, first_us + j * frame - at));
        }
        k += 1.0;
    }
    out
}

/// The least distance, over the refreshes of `span`, from the midpoint of a refresh's interval
/// on a clock `clock_us` ahead of the timeline to the nearest frame boundary: how far the
/// picture is from flipping to another frame.
fn margin(fps: f64, first_us: f64, clock_us: f64, (from_us, to_us): (f64, f64)) -> f64 {
    let frame = 1e6 / fps;
    let mut least = f64::INFINITY;
    let mut k = (from_us / REFRESH).ceil();
    while k * REFRESH < to_us {
        let into = (k * REFRESH + clock_us + REFRESH / 2.0 - first_us).rem_euclid(frame);
        least = least.min(into.min(frame - into));
        k += 1.0;
    }
    least
}

const RATES: [f64; 7] = [
    24_000.0 / 1_001.0,
    24.0,
    25.0,
    30_000.0 / 1_001.0,
    30.0,
    50.0,
    60.0,
];

/// The frame duration a measured gap stands for, as the controller takes it (see `Grid`).
fn places_for(fps: f64) -> u32 {
    cadence_places((1e6 / fps).round(), REFRESH.round())
}

#[test]
fn the_cadence_is_found_for_common_frame_rates() {
    let expected = [2, 2, 5, 1, 1, 5, 1];
    for (fps, q) in RATES.into_iter().zip(expected) {
        assert_eq!(places_for(fps), q, "{fps} fps");
    }
    // A refresh measured from coarsened animation frame times, 16.6 or 16.7 ms.
    for step in [16_600.0, 16_700.0] {
        let found: Vec<u32> = RATES
            .into_iter()
            .map(|fps| cadence_places((1e6 / fps).round(), step))
            .collect();
        assert_eq!(found, expected, "step {step}");
    }
    // 120 fps on 60 Hz presents every other frame: one place, a refresh apart.
    assert_eq!(cadence_places(REFRESH, 1e6 / 120.0), 1);
    // Nothing sensible: one place.
    assert_eq!(cadence_places(f64::NAN, REFRESH), 1);
    // 22 fps on 60 Hz: 30/11 refreshes a frame, a cadence too long to look for.
    assert_eq!(cadence_places(1e6 / 22.0, REFRESH), 1);
}

/// Steers like the controller, for 20 s of a film: every 100 ms the grid offset is measured
/// from the last 300 ms of frames, kept on its side ([`grid_side`]), and the clock moved
/// there at once. Returns the offsets in use and, for each, the margin the clock then has over
/// the next 100 ms.
fn steer(fps: f64, first_us: f64, start_clock_us: f64) -> Vec<(f64, f64)> {
    let places = places_for(fps);
    let spacing = REFRESH / places as f64;
    let mut jitter = Jitter(fps.to_bits() ^ first_us.to_bits() ^ start_clock_us.to_bits());
    let mut clock = start_clock_us;
    let mut offset: Option<f64> = None;
    let mut out = Vec::new();
    let mut now = 1_000_000.0;
    while now < 21_000_000.0 {
        let frames = shown(fps, first_us, clock, (now - WINDOW_US, now), &mut jitter);
        let errors = frames.iter().map(|&(_, e)| e);
        let wrapped = offset_on_grid(errors, REFRESH, places).expect("a grid");
        let g = grid_side(wrapped, offset, None, spacing);
        offset = Some(g);
        clock = g;
        out.push((g, margin(fps, first_us, clock, (now, now + 100_000.0))));
        now += 100_000.0;
    }
    out
}

#[test]
fn the_clock_steered_to_the_grid_is_as_far_from_a_flip_as_the_cadence_allows() {
    for fps in RATES {
        let best = REFRESH / (2.0 * places_for(fps) as f64);
        for (first_us, clock_us) in [(0.0, 0.0), (7_000.0, 3_100.0), (250_000.0, -6_000.0)] {
            let worst = steer(fps, first_us, clock_us)
                .into_iter()
                .map(|(_, margin)| margin)
                .fold(f64::INFINITY, f64::min);
            // Display times jitter by ±0.3 ms, and 29.97 and 23.976 fps creep by 1 ms/s.
            assert!(
                worst > best - 1_000.0,
                "{fps} fps, frames from {first_us} µs, clock {clock_us} µs: margin {worst} µs of {best}"
            );
        }
    }
}

#[test]
fn the_grid_offset_does_not_flip_between_places() {
    for fps in RATES {
        let offsets: Vec<f64> = steer(fps, 7_000.0, 0.0)
            .into_iter()
            .map(|(g, _)| g)
            .collect();
        // One place to the next (a whole spacing) only where a creeping rate has taken the
        // offset past the hysteresis, once per spacing crept; else it holds within the jitter.
        let spacing = REFRESH / places_for(fps) as f64;
        let jumps = offsets
            .windows(2)
            .filter(|pair| (pair[1] - pair[0]).abs() > 1_000.0)
            .count();
        // 29.97 and 23.976 fps frames creep 1 ms/s against the refreshes.
        let creeping = (fps - fps.round()).abs() > 1e-6;
        let allowed = if creeping {
            (20_000.0 / spacing).ceil() as usize + 1
        } else {
            0
        };
        assert!(
            jumps <= allowed,
            "{fps} fps: {jumps} jumps of more than 1 ms in 20 s (spacing {spacing} µs): {offsets:?}"
        );
    }
}

#[test]
fn the_place_does_not_depend_on_where_the_clock_was() {
    // Measured from frames shown with the clock anywhere, the grid is the same place (modulo
    // the spacing): it belongs to the frames and the display, not to the clock.
    for fps in RATES {
        let places = places_for(fps);
        let spacing = REFRESH / places as f64;
        let place = |clock_us: f64| {
            let mut jitter = Jitter(1);
            let frames = shown(fps, 7_000.0, clock_us, (1e6, 1e6 + WINDOW_US), &mut jitter);
            offset_on_grid(frames.iter().map(|&(_, e)| e), REFRESH, places).unwrap()
        };
        let reference = place(0.0);
        for clock_us in [-8_000.0, -3_000.0, 2_500.0, 6_000.0, 11_000.0] {
            let apart = (place(clock_us) - reference).rem_euclid(spacing);
            let apart = apart.min(spacing - apart);
            assert!(apart < 400.0, "{fps} fps, clock {clock_us}: {apart} µs");
        }
    }
}

#[test]
fn errors_of_no_grid_place_nothing() {
    // Errors spread evenly around the refresh: no cadence to steer to.
    let errors = (0..12).map(|i| i as f64 * REFRESH / 12.0);
    assert_eq!(offset_on_grid(errors, REFRESH, 1), None);
    assert_eq!(offset_on_grid([1_000.0].into_iter(), REFRESH, 1), None);
}
