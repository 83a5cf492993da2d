//! The browser models (`insieme_sim::browsers`) against what was measured of each browser's
//! `<video>` (`docs/measurements/player.md`). Every test measures both browsers the same way and
//! holds each to its own figures, so swapping the Firefox model for the Chromium one (or the
//! reverse) fails it wherever the two differ.

use insieme::sync::PlayerCommand as C;
use insieme_sim::browsers::Browser::{self, Chromium, Firefox, FirefoxWithSound};
use insieme_sim::player::{CadenceMode, Player, PlayerSpec, Renderer, Shown};
use insieme_sim::rng::Rng;
use insieme_sim::scenarios::display_60hz;

const BROWSERS: [Browser; 3] = [Chromium, Firefox, FirefoxWithSound];
const REFRESH_MS: f64 = 1e3 / 60.0;

/// A player in `browser` playing `fps` video on a 60 Hz display, with the browser's typical
/// start latency (the middle of its range) and a rate that takes effect at once.
fn spec(browser: Browser, fps: f64) -> PlayerSpec {
    let model = browser.model();
    let (lo, hi) = model.start_latency_ms;
    model.player(PlayerSpec {
        fps,
        first_frame_s: 0.0,
        seek_latency_us: 100_000.0,
        seek_variation: 0.0,
        start_latency_us: (lo + hi) / 2.0 * 1e3,
        start_variation_us: 0.0,
        rate_tau_us: 1.0,
        load_latency_us: 0.0,
        obs_noise_us: 0.0,
        paused_report_us: 250_000.0,
        display: Some(display_60hz(7)),
        renderer: Renderer::Cadence {
            estimator: CadenceMode::Classic,
        },
        timer_us: 1.0,
        media_rate_error_ppm: 0.0,
        clock_readings: None,
    })
}

/// Loaded, set to `rate`, and `play()` called at true time `at`.
fn started(spec: PlayerSpec, rate: f64, at: i64) -> Player {
    Player::started(spec, Rng::new(11), rate, at)
}

/// Plays `browser`'s player at `rate` until `until` (true µs) and returns every frame its page
/// heard of (a frame callback), each with the media clock at that instant, and the player.
fn play(browser: Browser, fps: f64, rate: f64, until: i64) -> (Vec<(Shown, f64)>, Player) {
    let mut p = started(spec(browser, fps), rate, 1_000);
    let mut heard = Vec::new();
    while let Some(t) = p.next_event().filter(|t| *t <= until) {
        let clock = p.pos_at(t);
        heard.extend(p.wake(t).into_iter().map(|s| (s, clock)));
    }
    (heard, p)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    insieme::stats::percentile(values, p).expect("values")
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[test]
fn firefox_starts_within_milliseconds_of_play_chromium_tens_of_milliseconds_later() {
    for browser in BROWSERS {
        let mut p = started(spec(browser, 60.0), 1.0, 1_000);
        let mut moved_at = None;
        while let Some(t) = p.next_event().filter(|t| *t <= 500_000) {
            p.wake(t);
            if p.moving() && moved_at.is_none() {
                moved_at = Some((t - 1_000) as f64 / 1e3);
            }
        }
        let ms = moved_at.expect("it starts");
        // Measured start leads: Firefox −0.6…+22 ms, mostly 1–5; Chromium 62–94 ms with three
        // players on two busy cores (74–92 in the probe beside Firefox).
        match browser {
            Firefox => assert!((0.0..=10.0).contains(&ms), "{browser:?}: {ms} ms"),
            // With a sound output, `play()` to a moving clock took 16–23 ms (p50).
            FirefoxWithSound => assert!((10.0..=30.0).contains(&ms), "{browser:?}: {ms} ms"),
            Chromium => assert!((57.0..=99.0).contains(&ms), "{browser:?}: {ms} ms"),
        }
    }
}

#[test]
fn firefox_follows_a_rate_within_a_thousandth_of_one_chromium_keeps_to_one() {
    let t = 5_000_000;
    for browser in BROWSERS {
        for rate in [1.001, 0.999] {
            let (_, p) = play(browser, 60.0, rate, t);
            let runs_at = p.pos_at(t + 1_000_000) - p.pos_at(t);
            // Firefox (no sound output): 1.001 ran at 1.00100–1.00107, 0.999 at
            // 0.99900–0.99902. Chromium with sound: 1.0000 for both.
            let expected = match browser {
                Firefox | FirefoxWithSound => rate,
                Chromium => 1.0,
            };
            assert!(
                (runs_at - expected).abs() < 1e-6,
                "{browser:?} at {rate}: {runs_at}"
            );
        }
    }
}

#[test]
fn leaving_the_normal_rate_sets_chromium_back_and_leaves_firefox_be() {
    let t = 2_000_000;
    for browser in BROWSERS {
        let (_, mut p) = play(browser, 60.0, 1.0, t);
        let before = p.pos_at(t);
        p.command(t, &C::SetRate(1.05), None);
        let jump_ms = (p.pos_at(t) - before) * 1e3;
        // Chromium: −16…−27 ms on leaving 1.0; Firefox: −0.7…+0.4 ms (none modelled); Firefox
        // with a sound output: −7.0 and −8.6 ms, 161 ms of the change modelled.
        match browser {
            Firefox => assert!(jump_ms.abs() < 1e-6, "{browser:?}: {jump_ms}"),
            FirefoxWithSound => assert!((jump_ms + 8.05).abs() < 1e-6, "{browser:?}: {jump_ms}"),
            Chromium => assert!((jump_ms + 20.0).abs() < 1e-6, "{browser:?}: {jump_ms}"),
        }
    }
}

#[test]
fn readings_scatter_as_each_browser_read_its_clock() {
    let t = 2_000_000;
    for browser in BROWSERS {
        for rate in [1.0, 1.05] {
            let (_, mut p) = play(browser, 60.0, rate, t);
            let errors_us: Vec<f64> = (0..4_000)
                .map(|_| (p.read_clock(t).expect("read while playing") - p.pos_at(t)) * 1e6)
                .collect();
            let (_, sd) = mean_sd(&errors_us);
            // Chromium: 0.3 ms (2.7 ms while the sound is stretched). Firefox: 0.5 ms at any
            // rate, on top of its 1 ms timer (the page's, applied where it reports).
            let expected = match (browser, rate == 1.0) {
                (Firefox | FirefoxWithSound, _) => 500.0,
                (Chromium, true) => 300.0,
                (Chromium, false) => 2_700.0,
            };
            assert!(
                (sd - expected).abs() < expected * 0.07,
                "{browser:?} at {rate}: {sd} µs"
            );
        }
    }
    assert_eq!(Firefox.model().timer_us, 1_000.0);
    assert_eq!(Chromium.model().timer_us, 100.0);
}

#[test]
fn firefox_calls_back_for_one_refresh_in_two_or_three_chromium_for_every_frame() {
    for browser in BROWSERS {
        let (heard, _) = play(browser, 60.0, 1.0, 10_000_000);
        let gaps_ms: Vec<f64> = heard
            .windows(2)
            .map(|w| (w[1].0.at_true_us - w[0].0.at_true_us) / 1e3)
            .collect();
        assert!(gaps_ms.len() > 150, "{browser:?}: {}", gaps_ms.len());
        let (lo, hi) = (percentile(&gaps_ms, 5.0), percentile(&gaps_ms, 95.0));
        // Firefox: 33–50 ms apart (p5–p95); Chromium: every 16.7 ms.
        match browser {
            Firefox | FirefoxWithSound => {
                assert!(lo >= 32.0, "{browser:?}: {lo}");
                assert!(hi <= 51.0, "{browser:?}: {hi}");
                let three = gaps_ms.iter().filter(|g| **g > 41.0).count();
                let share = three as f64 / gaps_ms.len() as f64;
                assert!((0.3..=0.7).contains(&share), "{browser:?}: {share}");
            }
            Chromium => {
                assert!((lo - REFRESH_MS).abs() < 1e-3, "{browser:?}: {lo}");
                assert!((hi - REFRESH_MS).abs() < 1e-3, "{browser:?}: {hi}");
            }
        }
    }
}

#[test]
fn firefox_shows_the_frame_its_clock_is_in_at_no_fixed_phase_chromium_holds_one() {
    for browser in BROWSERS {
        let (heard, _) = play(browser, 60.0, 1.0, 60_000_000);
        // The media clock at the frame's display time less the frame's media time, ms.
        let d: Vec<f64> = heard
            .iter()
            .map(|(s, clock)| (clock - s.media_s) * 1e3)
            .collect();
        let [p5, p50, p95] = [5.0, 50.0, 95.0].map(|p| percentile(&d, p));
        match browser {
            // Measured: uniform over the frame, p5 0.4–0.8, p50 6.9–8.3, p95 15.1–15.8 ms.
            Firefox | FirefoxWithSound => {
                assert!(d.iter().all(|x| (-0.01..REFRESH_MS + 0.01).contains(x)));
                assert!(
                    p5 < 2.0 && (5.5..=11.0).contains(&p50) && p95 > 14.5,
                    "{browser:?}: {p5} {p50} {p95}"
                );
            }
            // Measured: 1.3–2.1 ms (p5–p95): a cadence held on the refresh, in one phase.
            Chromium => assert!(p95 - p5 < 1.0, "{browser:?}: {p5} {p95}"),
        }
        let spread = (p5, p50, p95);
        eprintln!("{browser:?}: clock at display less the frame: p5/p50/p95 {spread:?} ms");
    }
}

/// What Firefox's picture, updated at refreshes in no fixed phase, costs against its clock: it
/// shows on average where the clock was half a refresh ago, at 60 fps and at 24 fps alike (the
/// end-to-end bench, steering Firefox's clock as Chromium's: it sat 7.2 and 10.3 ms behind the
/// Chromium viewers, hence the glue's half-step rule). Chromium's picture holds one phase
/// against its clock, so its lag is a constant the frame grid decides.
#[test]
fn firefox_pictures_lag_its_clock_by_half_a_refresh_on_average() {
    for browser in BROWSERS {
        for fps in [60.0, 24.0] {
            let (_, mut p) = play(browser, fps, 1.0, 2_000_000);
            let mut lags_ms = Vec::new();
            let mut t = 2_000_000;
            while t < 60_000_000 {
                while let Some(w) = p.next_event().filter(|w| *w <= t) {
                    p.wake(w);
                }
                lags_ms.push((p.shown_at(t) - p.pos_at(t)) * 1e3);
                t += 10_000;
            }
            let (mean, _) = mean_sd(&lags_ms);
            // Sampled at one instant of each 10 ms, the picture carried forward at rate 1 from
            // its display: against the clock, a constant within each frame's showing.
            match browser {
                Firefox | FirefoxWithSound => assert!(
                    (mean + REFRESH_MS / 2.0).abs() < 2.0,
                    "{browser:?} at {fps} fps: {mean} ms"
                ),
                Chromium => {
                    // Where the cadence puts frames on the refresh: the nearest to the clock,
                    // so within half a frame or half a refresh of it, and one value all run at
                    // 60 fps.
                    assert!(mean.abs() <= 0.5e3 / fps.min(60.0), "{browser:?}: {mean}");
                    if fps == 60.0 {
                        let (lo, hi) = (percentile(&lags_ms, 1.0), percentile(&lags_ms, 99.0));
                        assert!(hi - lo < 0.5, "{browser:?}: {lo}…{hi}");
                    }
                }
            }
        }
    }
}
