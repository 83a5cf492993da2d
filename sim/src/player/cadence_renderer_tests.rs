//! The renderer's rules, driven refresh by refresh with a media clock we set.

use super::*;

const REFRESH: f64 = 1e6 / 60.0;

/// A media clock: its position (media s since the first frame) at the run's current refresh,
/// and the media seconds it moves per true second ([`Run::jump`] moves it at once).
struct Clock {
    media_s: f64,
    speed: f64,
}

/// What one refresh showed.
#[derive(Clone, Copy, Debug)]
struct Shown {
    n: i64,
    frame: i64,
    /// How late the frame's first refresh is after the frame's start on the clock, µs.
    late_us: f64,
    by_cadence: bool,
}

struct Run {
    renderer: CadenceRenderer,
    clock: Clock,
    fps: f64,
    n: i64,
    shown: Vec<Shown>,
    cadence_held: Vec<bool>,
}

impl Run {
    fn new(mode: CadenceMode, fps: f64, media_s: f64) -> Run {
        Run {
            renderer: CadenceRenderer::new(mode),
            clock: Clock {
                media_s,
                speed: 1.0,
            },
            fps,
            n: 0,
            shown: Vec::new(),
            cadence_held: Vec::new(),
        }
    }

    fn at(&self) -> ClockAt {
        ClockAt {
            vsync_us: self.n as f64 * REFRESH,
            media_s: self.clock.media_s,
            speed: self.clock.speed,
            fps: self.fps,
        }
    }

    /// Renders `count` refreshes at the clock's current speed.
    fn refreshes(&mut self, count: i64) -> &mut Self {
        for _ in 0..count {
            let at = self.at();
            let before = self.shown.last().map(|s| s.frame);
            let pick = self.renderer.render(&at, REFRESH, before);
            if before != Some(pick.frame) {
                self.shown.push(Shown {
                    n: self.n,
                    frame: pick.frame,
                    late_us: (at.media_s - pick.frame as f64 / self.fps) / at.speed * 1e6,
                    by_cadence: pick.by_cadence,
                });
            }
            self.cadence_held.push(self.renderer.has_cadence());
            self.n += 1;
            self.clock.media_s += self.clock.speed * REFRESH / 1e6;
        }
        self
    }

    fn seconds(&mut self, s: f64) -> &mut Self {
        self.refreshes((s * 60.0).round() as i64)
    }

    fn speed(&mut self, speed: f64) -> &mut Self {
        self.clock.speed = speed;
        self
    }

    /// The clock set back (negative) or forward by `ms` at once.
    fn jump(&mut self, ms: f64) -> &mut Self {
        self.clock.media_s += ms / 1e3 * self.clock.speed;
        self
    }

    /// The frames shown first at or after refresh `from`, each with how many refreshes it
    /// showed for (the last one left out: it may not be over).
    fn counts_since(&self, from: i64) -> Vec<(Shown, i64)> {
        let s: Vec<&Shown> = self.shown.iter().filter(|s| s.n >= from).collect();
        s.windows(2).map(|w| (*w[0], w[1].n - w[0].n)).collect()
    }

    /// Where the picture is against a clock running at 1 from `media_s` at refresh 0: the
    /// time-weighted mean of how late each frame's refreshes begin, µs, over refreshes
    /// `from..to` (whole cadences at 24 fps when `to - from` is a multiple of 5).
    fn picture_late_us(&self, from: i64, to: i64, media0_s: f64) -> f64 {
        let mut sum = 0.0;
        for (i, s) in self.shown.iter().enumerate() {
            // Shown from its refresh until the next frame's (the last one until `to`).
            let until = self.shown.get(i + 1).map_or(to, |next| next.n);
            let (a, b) = (s.n.max(from), until.min(to));
            if a < b {
                // Late by: the refresh it began at, against the frame's start on that clock.
                let late = s.n as f64 * REFRESH - (s.frame as f64 / self.fps - media0_s) * 1e6;
                sum += late * (b - a) as f64;
            }
        }
        sum / (to - from) as f64
    }
}

#[test]
fn cadences_are_the_estimators_patterns() {
    let pattern = |fps: f64| pattern_for(REFRESH, 1e6 / fps, (1e6 / fps / 2.0).max(REFRESH));
    assert_eq!(pattern(24.0), Cadence::Pattern(vec![3, 2]));
    assert_eq!(pattern(24_000.0 / 1001.0), Cadence::Pattern(vec![3, 2]));
    assert_eq!(pattern(25.0), Cadence::Pattern(vec![2, 3, 2, 3, 2]));
    assert_eq!(pattern(30.0), Cadence::Pattern(vec![2]));
    assert_eq!(pattern(30_000.0 / 1001.0), Cadence::Pattern(vec![2]));
    assert_eq!(pattern(60.0), Cadence::Pattern(vec![1]));
    // 24 fps sped up: kept within the drift bound over 8 s (20.8 ms / 8 s = 0.26 %), not past.
    let at = |rate: f64| pattern_for(REFRESH, 1e6 / 24.0 / rate, 1e6 / 48.0 / rate);
    assert_eq!(at(1.002), Cadence::Pattern(vec![3, 2]));
    assert_eq!(at(0.998), Cadence::Pattern(vec![3, 2]));
    assert_eq!(at(1.003), Cadence::None);
    assert_eq!(at(0.997), Cadence::None);
    assert_eq!(at(1.05), Cadence::None);
}

#[test]
fn the_drift_bound_is_half_a_frame_once_durations_are_known() {
    let mut r = Run::new(CadenceMode::Classic, 24.0, 0.5);
    assert_eq!(r.renderer.max_drift_us, DEFAULT_DRIFT_US);
    r.seconds(1.0);
    assert!((r.renderer.max_drift_us - 1e6 / 48.0).abs() < 1.0);
    let mut r = Run::new(CadenceMode::Classic, 60.0, 0.5);
    r.seconds(1.0);
    assert!((r.renderer.max_drift_us - REFRESH).abs() < 1.0);
}

#[test]
fn film_on_sixty_hz_is_held_three_then_two_refreshes() {
    for mode in [CadenceMode::Classic, CadenceMode::Bresenham] {
        let mut r = Run::new(mode, 24.0, 0.5);
        r.seconds(20.0);
        let counts = r.counts_since(60);
        assert!(counts.len() > 400);
        for w in counts.windows(2) {
            assert_eq!(w[0].1 + w[1].1, 5, "{mode:?}: {w:?}");
            assert!(w[1].0.by_cadence, "{mode:?}: {w:?}");
        }
        // One state all along: the 3-refresh frames begin equally late.
        let late: Vec<f64> = counts
            .iter()
            .filter(|(_, c)| *c == 3)
            .map(|(s, _)| s.late_us)
            .collect();
        assert!(late.iter().all(|l| (l - late[0]).abs() < 1.0), "{late:?}");
    }
}

/// A renderer whose cadence was taken at a head frame chosen by when it started, then held at
/// the same clock: its state (how late its 3-refresh frames begin, µs).
fn state_after(start_n: i64, secs: f64) -> (Run, f64) {
    let mut r = Run::new(CadenceMode::Classic, 24.0, 0.0);
    // The same clock for all: media 0 at refresh 0; the renderer starts at refresh `start_n`.
    r.n = start_n;
    r.clock.media_s = start_n as f64 * REFRESH / 1e6;
    r.seconds(secs);
    let counts = r.counts_since(r.n - 600);
    let late = counts.iter().find(|(_, c)| *c == 3).unwrap().0.late_us;
    (r, late)
}

#[test]
fn renderers_on_one_clock_can_hold_states_half_a_refresh_apart_for_good() {
    // Starting a refresh apart, the cadence is taken at a head frame a refresh later or not:
    // the 3-refresh frames then begin at different places, and each keeps its own.
    let states: Vec<f64> = (0..5).map(|start| state_after(start, 60.0).1).collect();
    let distinct = {
        let mut s = states.clone();
        s.sort_by(f64::total_cmp);
        s.dedup_by(|a, b| (*a - *b).abs() < 100.0);
        s
    };
    assert!(distinct.len() >= 2, "{states:?}");
    for pair in distinct.windows(2) {
        let apart = pair[1] - pair[0];
        let steps = apart / (REFRESH / 2.0);
        assert!((steps - steps.round()).abs() < 0.01, "{states:?}");
    }
}

#[test]
fn a_slow_walk_keeps_the_cadence_and_pushes_every_state_to_one_place() {
    // Renderers in different states on the same clock: the clock walks 0.2 % faster for 25 s
    // (50 ms), within the estimator's tolerance, then back at 0.2 % slower for the same time.
    let mut ends = Vec::new();
    for start in 0..5 {
        let (mut r, _) = state_after(start, 10.0);
        let from = r.cadence_held.len();
        r.speed(1.002)
            .seconds(25.0)
            .speed(0.998)
            .seconds(25.0)
            .speed(1.0);
        r.seconds(5.0);
        assert!(
            r.cadence_held[from..].iter().all(|h| *h),
            "the cadence is never dropped"
        );
        let end = r.n;
        // Where the picture sits against the unwalked clock (media = refresh time).
        ends.push(r.picture_late_us(end - 300, end, 0.0));
    }
    for e in &ends {
        assert!((e - ends[0]).abs() < 100.0, "one state for all: {ends:?}");
    }
}

#[test]
fn pushed_against_the_bound_the_state_moves_half_a_refresh_at_a_time() {
    let (mut r, _) = state_after(0, 10.0);
    let restarts = r.renderer.restarts;
    let mut wheres = Vec::new();
    for _ in 0..10 {
        // 2 ms/s for 2.5 s: 5 ms of clock each time.
        r.speed(1.002).seconds(2.5).speed(1.0).seconds(2.5);
        let n = r.n;
        wheres.push(r.picture_late_us(n - 150, n, 0.0));
    }
    // The picture against the unwalked clock only ever changes by half refreshes, never
    // more than one at a time, and it moved several times: ahead of the clock (earlier).
    for w in wheres.windows(2) {
        let step = (w[1] - w[0]) / (REFRESH / 2.0);
        assert!(
            (step - step.round()).abs() < 0.02 && step.round().abs() <= 1.0,
            "{wheres:?}"
        );
    }
    assert!(
        wheres.last().unwrap() < &(wheres[0] - REFRESH),
        "{wheres:?}"
    );
    assert!(r.renderer.restarts > restarts);
}

#[test]
fn a_fast_rate_drops_the_cadence_until_the_average_is_back() {
    let mut r = Run::new(CadenceMode::Classic, 24.0, 0.5);
    r.seconds(5.0);
    assert!(r.renderer.has_cadence());
    let at = r.cadence_held.len();
    r.speed(1.05).seconds(1.0).speed(1.0);
    let back = r.cadence_held.len();
    r.seconds(3.0);
    let dropped = r.cadence_held[at..].iter().position(|h| !h).unwrap();
    assert!(dropped < 30, "dropped after {dropped} refreshes");
    let retaken = r.cadence_held[back..].iter().position(|h| *h).unwrap();
    // 32 frames of 41.7 ms to flush the average, and 100 ms of hysteresis: about 1.3 s.
    let retaken_s = retaken as f64 / 60.0;
    assert!((1.1..=1.6).contains(&retaken_s), "{retaken_s}");
    // Meanwhile each frame was shown by coverage: within half a refresh of its start.
    for s in r
        .shown
        .iter()
        .filter(|s| s.n > back as i64 + 10 && s.n < back as i64 + 60)
    {
        assert!(!s.by_cadence);
        assert!(s.late_us.abs() <= REFRESH / 2.0 + 1.0, "{s:?}");
    }
}

#[test]
fn bresenham_keeps_its_cadence_through_small_rates_and_retakes_it_after_large_ones() {
    let mut r = Run::new(CadenceMode::Bresenham, 24.0, 0.5);
    r.seconds(5.0);
    let at = r.cadence_held.len();
    let restarts = r.renderer.restarts;
    r.speed(1.005).seconds(1.0).speed(1.0).seconds(2.0);
    assert!(r.cadence_held[at..].iter().all(|h| *h));
    // A 0.5 % rate for a second moves the clock 5 ms: no restart needed from the middle.
    assert!(r.renderer.restarts <= restarts + 1);
    let counter = r.renderer.counter_base;
    r.speed(1.05).seconds(1.0).speed(1.0).seconds(2.0);
    assert_ne!(r.renderer.counter_base, counter, "restarted at a new head");
}

#[test]
fn a_clock_set_back_past_the_bound_restarts_the_cadence_from_coverage() {
    let (mut r, _) = state_after(0, 10.0);
    let restarts = r.renderer.restarts;
    r.jump(-30.0).seconds(5.0);
    assert!(r.renderer.restarts > restarts);
    assert!(r.renderer.has_cadence());
    let counts = r.counts_since(r.n - 240);
    for w in counts.windows(2) {
        assert_eq!(w[0].1 + w[1].1, 5, "{w:?}");
    }
}
