//! The player model's behaviour: its frames, its display's cadence, its media clock.

use super::*;
use insieme::sync::{MediaTime, PlayerCommand as C};

const REFRESH: f64 = 1e6 / 60.0;

fn spec(fps: f64) -> PlayerSpec {
    PlayerSpec {
        fps,
        first_frame_s: 0.0,
        seek_latency_us: 100_000.0,
        seek_variation: 0.0,
        start_latency_us: 0.0,
        start_variation_us: 0.0,
        rate_tau_us: 1.0,
        load_latency_us: 0.0,
        obs_noise_us: 0.0,
        paused_report_us: 250_000.0,
        display: Some(DisplaySpec {
            refresh_us: REFRESH,
            phase_us: 1_234.5,
        }),
        renderer: Renderer::Cadence {
            estimator: CadenceMode::Classic,
        },
        timer_us: 1.0,
        media_rate_error_ppm: 0.0,
        clock_readings: None,
    }
}

/// Plays at `rate` for `secs` and returns each shown frame with the media clock at its
/// vsync (in seconds).
fn play(fps: f64, rate: f64, secs: f64) -> Vec<(Shown, f64)> {
    play_spec(spec(fps), rate, secs)
}

/// A player loaded, set to `rate` and told to play at true time `at`.
fn started(spec: PlayerSpec, rate: f64, at: i64) -> Player {
    Player::started(spec, Rng::new(1), rate, at)
}

fn play_spec(spec: PlayerSpec, rate: f64, secs: f64) -> Vec<(Shown, f64)> {
    let mut p = started(spec, rate, 1_000);
    let mut out = Vec::new();
    while let Some(t) = p.next_event() {
        if t > (secs * 1e6) as i64 {
            break;
        }
        let clock = p.pos_at(t);
        for s in p.wake(t) {
            // The vsync is at most 1 µs before the wake.
            out.push((s, clock));
        }
    }
    out
}

fn on_vsync(at: f64) -> bool {
    let n = (at - 1_234.5) / REFRESH;
    (n - n.round()).abs() < 1e-6
}

/// Each frame shown `refreshes` vsyncs after the one before, and the next frame at `fps`.
fn assert_cadence(shown: &[(Shown, f64)], refreshes: f64, fps: f64) {
    for w in shown.windows(2) {
        let (a, b) = (w[0].0, w[1].0);
        assert!(
            (b.at_true_us - a.at_true_us - refreshes * REFRESH).abs() < 1e-6,
            "{a:?} {b:?}"
        );
        assert!(
            (b.media_s - a.media_s - 1.0 / fps).abs() < 1e-9,
            "{a:?} {b:?}"
        );
    }
}

#[test]
fn sixty_fps_on_sixty_hz_shows_the_next_frame_at_every_vsync() {
    let shown = play(60.0, 1.0, 5.0);
    assert!(shown.len() > 280, "{}", shown.len());
    for (b, _) in &shown[1..] {
        assert!(on_vsync(b.at_true_us), "{b:?}");
    }
    assert_cadence(&shown, 1.0, 60.0);
}

#[test]
fn frames_start_where_the_video_puts_its_first() {
    let later = PlayerSpec {
        first_frame_s: 0.007,
        ..spec(60.0)
    };
    let shown = play_spec(later, 1.0, 5.0);
    assert!(shown.len() > 280, "{}", shown.len());
    for (b, clock) in &shown {
        let frames = (b.media_s - 0.007) * 60.0;
        assert!((frames - frames.round()).abs() < 1e-6, "{b:?}");
        // The frame nearest the clock at its vsync, counted from the first.
        assert!(
            (clock - b.media_s).abs() <= 0.5 / 60.0 + 1e-6,
            "{b:?} {clock}"
        );
    }
    assert_cadence(&shown, 1.0, 60.0);
}

/// The worst drift (µs of true time: from the clock to the frame's span, 0 inside it) of the
/// frames shown at `rate` when first shown, and how many frames were dropped.
fn drift_and_drops(rate: f64, secs: f64) -> (f64, usize) {
    let shown = play(60.0, rate, secs);
    let span_drift = |m: f64, c: f64| (m - c).max(c - m - 1.0 / 60.0).max(0.0);
    let worst = shown
        .iter()
        .map(|(s, c)| span_drift(s.media_s, *c) / rate * 1e6)
        .fold(0.0, f64::max);
    let drops = shown
        .windows(2)
        .filter(|w| w[1].0.media_s - w[0].0.media_s > 1.5 / 60.0)
        .count();
    (worst, drops)
}

#[test]
fn a_small_rate_keeps_the_cadence_to_the_drift_bound_and_a_large_one_drops_it() {
    // 0.15 % faster: within the estimator's tolerance (16.7 ms over 8 s, 0.21 %), so the
    // cadence holds each frame one refresh until the drift bound (1/60 s) forces a drop.
    let (worst, drops) = drift_and_drops(1.0015, 30.0);
    assert!(worst <= 1e6 / 60.0 + 1.0, "{worst}");
    assert!(worst > 12_000.0, "hysteresis well past the frame: {worst}");
    // 45 ms gained in 30 s: the first drop once the clock is past the frame's span by the
    // bound (25 to 42 ms from where it began), then one every 16.7 ms.
    assert!((1..=2).contains(&drops), "{drops}");
    // 3 % faster: no cadence, so each refresh shows the frame covering most of it, never more
    // than half a refresh from the clock, and a frame is dropped every 33 frames.
    let (worst, drops) = drift_and_drops(1.03, 10.0);
    assert!(worst <= 1e6 / 120.0 + 1.0, "{worst}");
    assert!((14..=20).contains(&drops), "{drops}");
}

#[test]
fn thirty_fps_holds_each_frame_for_two_vsyncs() {
    let shown = play(30.0, 1.0, 5.0);
    assert!(shown.len() > 140, "{}", shown.len());
    assert_cadence(&shown, 2.0, 30.0);
}

#[test]
fn a_media_rate_error_slows_the_media_clock() {
    let slow = PlayerSpec {
        media_rate_error_ppm: -2_000.0,
        ..spec(60.0)
    };
    let (exact, drifting) = (play(60.0, 1.0, 20.0), play_spec(slow, 1.0, 20.0));
    let clock_at = |shown: &[(Shown, f64)], t: f64| {
        shown
            .iter()
            .rev()
            .find(|(s, _)| s.at_true_us <= t)
            .map(|(_, c)| *c)
            .unwrap()
    };
    // 2000 ppm of 19 s: 38 ms, more than two frames behind.
    let lag = clock_at(&exact, 19.5e6) - clock_at(&drifting, 19.5e6);
    assert!((lag - 0.038).abs() < 0.001, "{lag}");
}

/// (Vsync instant − media time) of every frame shown, modulo the exact step.
fn grid_offsets(fps: f64) -> Vec<f64> {
    let step = spec(fps).frame_grid_us().unwrap_or(REFRESH.min(1e6 / fps));
    play(fps, 1.0, 5.0)
        .iter()
        .map(|(s, _)| (s.at_true_us - s.media_s * 1e6).rem_euclid(step))
        .collect()
}

#[test]
fn frames_fall_at_one_place_on_the_grid_when_it_is_whole() {
    for fps in [60.0, 30.0] {
        let offsets = grid_offsets(fps);
        assert!(offsets.len() > 100);
        for o in &offsets {
            // The display's own phase (1234.5 µs): every frame exactly on it.
            let apart = (o - 1_234.5).abs();
            assert!(apart < 1e-3, "{fps} fps: {o}");
        }
        // What the engine is told, with the local clock equal to true time: a vsync on the
        // display's own phase and its exact refresh.
        let told = spec(fps).frame_grid(0.0, |t| t).unwrap();
        assert_eq!(told.vsync.0, 1_235, "{fps} fps");
        assert!((told.refresh_us - REFRESH).abs() < 1e-6, "{told:?}");
    }
    // 24 fps on 60 Hz: frames last 2.5 refreshes, so they fall at two places in turn; no
    // single phase describes them and none is told.
    assert_eq!(spec(24.0).frame_grid_us(), None);
    assert_eq!(spec(24.0).frame_grid(0.0, |t| t), None);
    let offsets = grid_offsets(24.0);
    let far = offsets.iter().filter(|o| (*o - offsets[0]).abs() > 1_000.0);
    assert!(far.count() > offsets.len() / 3, "{offsets:?}");
    // 120 fps on 60 Hz: the step is the frame, vsyncs every other step.
    assert_eq!(spec(120.0).frame_grid_us(), Some(REFRESH / 2.0));
}

#[test]
fn a_seek_while_playing_shows_its_frame_at_the_next_vsync() {
    let mut p = Player::new(spec(60.0), 1.0, Rng::new(1), 0);
    p.command(
        0,
        &C::Load {
            media_id: "m".into(),
        },
        None,
    );
    p.wake(0);
    p.command(0, &C::PlayAt(insieme::sync::LocalTime(0)), Some(0));
    while let Some(t) = p.next_event().filter(|t| *t < 500_000) {
        p.wake(t);
    }
    assert!(p.moving());
    p.command(500_000, &C::SeekTo(MediaTime::from_secs_f64(30.0)), None);
    let mut first = None;
    while let Some(t) = p.next_event() {
        if t > 1_000_000 || first.is_some() {
            break;
        }
        first = p.wake(t).into_iter().find(|s| s.media_s >= 30.0);
    }
    let first = first.expect("a frame after the seek");
    assert!(on_vsync(first.at_true_us), "{first:?}");
    assert!((first.at_true_us - 600_000.0) < REFRESH, "{first:?}");
    assert!((first.media_s - 30.0) * 1e6 < REFRESH, "{first:?}");
}

/// Wakes `p` until it shows a frame (true µs `until` at the latest); whether it did.
fn until_a_frame(p: &mut Player, until: i64) -> bool {
    while let Some(t) = p.next_event().filter(|t| *t <= until) {
        if !p.wake(t).is_empty() {
            return true;
        }
    }
    false
}

#[test]
fn a_pause_keeps_the_renderers_cadence_and_a_seek_starts_it_afresh() {
    // 24 fps: the cadence ([3, 2]) is taken 100 ms of refreshes after the durations show it.
    let mut p = started(spec(24.0), 1.0, 1_000);
    while let Some(t) = p.next_event().filter(|t| *t < 2_000_000) {
        p.wake(t);
    }
    assert!(p.screen.has_cadence());
    // A pause (as a stall) keeps what the renderer measured: its first frame after it is
    // already the cadence's.
    p.command(2_000_000, &C::Pause, None);
    p.command(
        2_500_000,
        &C::PlayAt(insieme::sync::LocalTime(0)),
        Some(2_500_000),
    );
    assert!(until_a_frame(&mut p, 3_000_000));
    assert!(p.screen.has_cadence());
    // A seek flushes the frames: the renderer starts with no cadence, as at a load.
    p.command(3_000_000, &C::SeekTo(MediaTime::from_secs_f64(30.0)), None);
    assert!(until_a_frame(&mut p, 3_500_000));
    assert!(p.moving());
    assert!(!p.screen.has_cadence());
}

/// A player whose clock is read as Chromium's was measured, with a rate that takes effect
/// at once (so that only the jumps move the clock off its course).
fn read_spec() -> PlayerSpec {
    PlayerSpec {
        clock_readings: Some(crate::browsers::chromium_media_clock()),
        ..spec(60.0)
    }
}

/// The scatter (sd, µs) of many readings at `t` of a player playing at `rate`.
fn reading_scatter_us(p: &mut Player, t: i64) -> f64 {
    let errors_us: Vec<f64> = (0..4_000)
        .map(|_| (p.read_clock(t).expect("read while playing") - p.pos_at(t)) * 1e6)
        .collect();
    let n = errors_us.len() as f64;
    let mean = errors_us.iter().sum::<f64>() / n;
    assert!(mean.abs() < 100.0, "{mean}");
    (errors_us.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// A player loaded and set to `rate`, playing from true time 0 and woken up to `until`.
fn playing(spec: PlayerSpec, rate: f64, until: i64) -> Player {
    let mut p = started(spec, rate, 0);
    while let Some(t) = p.next_event().filter(|t| *t <= until) {
        p.wake(t);
    }
    p
}

#[test]
fn near_the_normal_rate_the_media_clock_keeps_to_it() {
    // Chromium plays the sound unstretched within 1/960 of 1.0, and its clock keeps time.
    let t = 10_000_000;
    for (rate, runs_at) in [(1.001, 1.0), (0.999, 1.0), (1.0011, 1.0011), (0.95, 0.95)] {
        let p = playing(read_spec(), rate, t);
        let moved = (p.pos_at(t + 1_000_000) - p.pos_at(t)) / 1.0;
        assert!((moved - runs_at).abs() < 1e-9, "at {rate}: {moved}");
    }
    // Without the browser's clock modelled, every rate is the rate.
    let p = playing(spec(60.0), 1.001, t);
    assert!((p.pos_at(t + 1_000_000) - p.pos_at(t) - 1.001).abs() < 1e-9);
}

/// How far (ms) the media clock moves at the instant the rate changes from `from` to `to`.
fn jump_ms(spec: PlayerSpec, from: f64, to: f64) -> f64 {
    let t = 1_000_000;
    let mut p = playing(spec, from, t);
    assert!(p.moving());
    let before = p.pos_at(t);
    p.command(t, &C::SetRate(to), None);
    (p.pos_at(t) - before) * 1e3
}

#[test]
fn clock_readings_scatter_around_the_media_clock_while_playing() {
    let t = 1_000_000;
    let mut p = playing(read_spec(), 1.0, t);
    let sd = reading_scatter_us(&mut p, t);
    assert!((sd - 300.0).abs() < 20.0, "{sd}");
    // Stretching the sound, the readings scatter by 2.7 ms.
    let sd = reading_scatter_us(&mut playing(read_spec(), 1.05, t), t);
    assert!((sd - 2_700.0).abs() < 150.0, "{sd}");

    p.command(t, &C::Pause, None);
    assert_eq!(p.read_clock(t), None, "a paused clock is not read");
    let mut unread = playing(spec(60.0), 1.0, t);
    assert_eq!(unread.read_clock(t), None, "readings are off by default");
}

#[test]
fn leaving_the_normal_rate_sets_the_media_clock_back() {
    // As Chromium's clock is modelled (`chromium_media_clock`): leaving 1.0 by more than
    // 0.1 %, faster or slower, costs 20 ms; within 0.1 %, or between two stretched rates,
    // nothing; returning gives back up to 4 ms.
    for (from, to) in [(1.0, 1.05), (1.0, 0.95), (1.0, 1.002), (1.0005, 0.998)] {
        let jump = jump_ms(read_spec(), from, to);
        assert!((jump + 20.0).abs() < 1e-6, "{from} -> {to}: {jump}");
    }
    for (from, to) in [(1.0, 1.001), (1.0, 0.999), (1.05, 0.95), (0.95, 1.05)] {
        let jump = jump_ms(read_spec(), from, to);
        assert!(jump.abs() < 1e-6, "{from} -> {to}: {jump}");
    }
    for (from, to) in [(1.05, 1.0), (0.95, 1.0005)] {
        let jump = jump_ms(read_spec(), from, to);
        assert!((0.0..=4.0).contains(&jump), "{from} -> {to}: {jump}");
    }
    // Only a playing clock jumps, and only a clock modelled as a browser's with sound.
    let t = 1_000_000;
    let mut paused = playing(read_spec(), 1.0, t);
    paused.command(t, &C::Pause, None);
    let still = paused.pos_at(t);
    paused.command(t, &C::SetRate(1.05), None);
    assert_eq!(paused.pos_at(t), still);
    assert!(jump_ms(spec(60.0), 1.0, 1.05).abs() < 1e-6);
}
