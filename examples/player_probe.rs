//! `cargo xtask bench player --browser firefox|chromium [--clip NAME] [--sound]`: how one browser's
//! `<video>` behaves, measured in the browser before the engine or the simulator models it
//! (issue 19). Writes `target/bench/player-<browser>[-<clip>][-sound].json`;
//! docs/measurements/player.md keeps the dated results. `--sound` gives Firefox a sound output
//! (a PulseAudio null sink), as a viewer with speakers has; without it, headless Firefox here
//! has none and its media clock is the system clock.
//!
//! One page with a bare `<video>` of the clip (no app), driven by a script the harness injects:
//! - the timer's resolution (`performance.now()` steps);
//! - autoplay: `navigator.getAutoplayPolicy` where the browser has it, and whether an unmuted,
//!   then a muted, `play()` without a gesture is allowed; for Firefox once more in a second
//!   browser with its shipping policy (`media.autoplay.default` = 1, audible autoplay blocked);
//! - six starts from a paused, ready element: `play()` to the first `currentTime` change, to
//!   the promise, to `playing`, to the first presented frame, and the start lead (the instant
//!   the clock's steady line leaves the start position, extrapolated back);
//! - the rate response: 3 s at 1.0, then 4 s at each of 1.001, 1.0, 1.01, 1.0, 1.05, 1.0, 0.95,
//!   1.0, 0.999, 1.0: each segment's measured slope of `currentTime` (from 0.5 s in), its
//!   scatter, and the jump in the clock at the change;
//! - `requestVideoFrameCallback` at rate 1.0: `expectedDisplayTime` and `presentationTime`
//!   against the callback's `now`, the display and media steps, and where the media clock
//!   (`currentTime`, read first thing in the callback) stands at the frame's display time
//!   against the frame's `mediaTime`.
#![cfg(not(target_arch = "wasm32"))]

#[path = "../tests/e2e/harness/mod.rs"]
#[allow(dead_code, unused_imports)] // the tests use parts of the harness the probe does not
mod harness;

use anyhow::{bail, Context, Result};
use harness::media::{make_clip, test_clip, Clip};
use harness::sound_server::SoundServer;
use harness::{Browser, Engine, Place, ServerOptions, TestServer};
use insieme::stats;
use serde_json::{json, Value};
use std::time::Duration;

/// Starts the measurement in the page; results go to `window.__probe` (`done` when finished).
const PROBE: &str = r#"
const v = document.getElementById('v');
const P = window.__probe = { done: false, error: null };
const now = () => performance.now();
const sleep = ms => new Promise(r => setTimeout(r, ms));
const tick = () => new Promise(r => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });
const once = (name) => new Promise(r => v.addEventListener(name, r, { once: true }));
const frames = [];
const animationFrames = (ms) => new Promise(r => {
    const times = []; const until = now() + ms;
    const step = t => { times.push(t); if (now() < until) requestAnimationFrame(step); else r(times); };
    requestAnimationFrame(step);
});
const onFrame = (t, m) => {
    const ct = v.currentTime, at = performance.now();
    frames.push([t, m.expectedDisplayTime, m.presentationTime ?? null, m.mediaTime, m.presentedFrames,
        ct, at, v.playbackRate, v.paused ? 1 : 0]);
    v.requestVideoFrameCallback(onFrame);
};
const steps = []; let last = now();
while (steps.length < 500) { const t = now(); if (t !== last) { steps.push(t - last); last = t; } }
P.timer_steps_ms = steps;
P.autoplay_only = arguments[0];
(async () => {
    if (v.readyState < 4) await once('canplaythrough');
    P.animation_frames_paused = await animationFrames(1000);
    P.has_rvfc = 'requestVideoFrameCallback' in v;
    P.autoplay_policy = navigator.getAutoplayPolicy ? navigator.getAutoplayPolicy('mediaelement') : null;
    try { await v.play(); P.unmuted_play = 'allowed'; } catch (e) { P.unmuted_play = e.name; }
    v.pause();
    v.muted = true;
    try { await v.play(); P.muted_play = 'allowed'; } catch (e) { P.muted_play = e.name; }
    v.pause();
    v.muted = false;
    if (P.autoplay_only) { P.done = true; return; }
    v.requestVideoFrameCallback(onFrame);
    P.starts = [];
    for (let i = 0; i < 6; i++) {
        v.currentTime = 2 + i * 3;
        await once('seeked');
        await sleep(400);
        const from = v.currentTime;
        let moved = null, resolved = null, playing = null;
        v.addEventListener('playing', () => { playing = now(); }, { once: true });
        const t0 = now();
        const done = v.play().then(() => { resolved = now(); });
        while (moved === null && now() - t0 < 2000) {
            if (v.currentTime !== from) moved = now(); else await tick();
        }
        await done;
        await sleep(1200);
        P.starts.push({ from, t0, moved, resolved, playing, ended: now() });
        v.pause();
        await sleep(200);
    }
    v.currentTime = 20;
    await once('seeked');
    await sleep(300);
    P.rate_changes = [];
    P.steady_from = now();
    await v.play();
    P.animation_frames_playing = await animationFrames(3000);
    for (const rate of [1.001, 1.0, 1.01, 1.0, 1.05, 1.0, 0.95, 1.0, 0.999, 1.0]) {
        P.rate_changes.push([now(), rate]);
        v.playbackRate = rate;
        await sleep(4000);
    }
    P.rate_changes.push([now(), null]);
    v.pause();
    P.frames = frames;
    P.done = true;
})().catch(e => { P.error = String(e); P.done = true; });
return true;
"#;

/// Columns of each frame row the probe records.
const T: usize = 0; // the callback's `now`
const EXPECTED: usize = 1; // expectedDisplayTime
const PRESENTED: usize = 2; // presentationTime
const MEDIA: usize = 3; // mediaTime (s)
const COUNT: usize = 4; // presentedFrames
const CURRENT: usize = 5; // currentTime (s), read first in the callback
const READ_AT: usize = 6; // performance.now() just after that read
const RATE: usize = 7;
const PAUSED: usize = 8;

type Row = Vec<f64>;

#[tokio::main]
async fn main() -> Result<()> {
    let arg = |flag: &str| std::env::args().skip_while(|a| a != flag).nth(1);
    let engine = match arg("--browser") {
        None => Engine::Firefox,
        Some(name) => Engine::from_name(&name)
            .with_context(|| format!("no browser `{name}`; choose firefox or chromium"))?,
    };
    let clip = match arg("--clip") {
        None => Clip::Webm60,
        Some(name) => Clip::from_name(&name).with_context(|| format!("no clip `{name}`"))?,
    };
    // A sound output (PulseAudio's null sink) for Firefox, which has none here otherwise and
    // then runs its media clock on the system clock (`harness::sound_server`).
    let sound = if std::env::args().any(|a| a == "--sound") {
        if engine != Engine::Firefox {
            bail!("--sound is for Firefox: headless Chromium has its own fake audio output");
        }
        Some(SoundServer::start().await?)
    } else {
        None
    };
    let mut suffix = match clip {
        Clip::Webm60 => String::new(),
        other => format!("-{}", other.name()),
    };
    if sound.is_some() {
        suffix.push_str("-sound");
    }
    let out = harness::bench_output::out_path(&format!(
        "target/bench/player-{}{suffix}.json",
        engine.name()
    ));
    println!(
        "player probe: {} playing {} ({:.3} fps), about a minute",
        engine.name(),
        clip.name(),
        clip.fps()
    );

    let page_dir = tempfile::tempdir()?;
    let page = page_dir.path().join("probe.html");
    std::fs::write(
        &page,
        format!(
            "<!doctype html><meta charset=utf-8><title>probe</title>\
             <video id=v preload=auto src=\"{}\" width=320 height=180></video>",
            clip.path()
        ),
    )?;
    let media = if clip == Clip::Webm60 {
        test_clip().await?
    } else {
        make_clip(clip).await?
    };
    let server = TestServer::start_with(ServerOptions {
        media: vec![media, page],
        ..Default::default()
    })
    .await?;
    let url = format!("{}/probe.html", server.url);

    let place = Place {
        engine,
        firefox_env: sound
            .as_ref()
            .map(SoundServer::client_env)
            .unwrap_or_default(),
        ..Default::default()
    };
    let browser = Browser::launch_at("probe", &place).await?;
    let probed = probe(&browser, &url, false, sound.as_ref()).await;
    browser.close().await;
    let probed = probed?;

    // Firefox's shipping autoplay policy (the tests' profile allows autoplay).
    let shipping_autoplay = if engine == Engine::Firefox {
        let place = Place {
            firefox_prefs: vec![("media.autoplay.default".into(), json!(1))],
            ..Place::firefox()
        };
        let browser = Browser::launch_at("probe-autoplay", &place).await?;
        let result = probe(&browser, &url, true, None).await;
        browser.close().await;
        let result = result?;
        json!({
            "media.autoplay.default": 1,
            "policy": result["autoplay_policy"],
            "unmuted_play": result["unmuted_play"],
            "muted_play": result["muted_play"],
        })
    } else {
        Value::Null
    };

    let report = analyse(engine, clip, &probed, shipping_autoplay)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    harness::bench_output::write_report(&out, &report)?;
    let raw_out = out.with_extension("raw.json");
    std::fs::write(&raw_out, serde_json::to_string(&probed)?)?;
    println!("wrote {} and {}", out.display(), raw_out.display());
    Ok(())
}

/// Opens the probe page, runs [`PROBE`] and returns what it recorded; with `sound`, also the
/// applications seen playing into it meanwhile (`sound_streams_seen`), and fails if none was:
/// figures taken without a sound output would pass for ones with it.
async fn probe(
    browser: &Browser,
    url: &str,
    autoplay_only: bool,
    sound: Option<&SoundServer>,
) -> Result<Value> {
    let mut streams_seen = std::collections::BTreeSet::new();
    browser.open(url).await?;
    browser
        .client
        .execute(PROBE, vec![json!(autoplay_only)])
        .await
        .context("starting the probe")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let done = browser
            .client
            .execute("return window.__probe.done", vec![])
            .await?;
        if let Some(sound) = sound {
            streams_seen.extend(sound.playing_applications()?);
        }
        if done.as_bool() == Some(true) {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the probe did not finish in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut result = browser
        .client
        .execute("return window.__probe", vec![])
        .await?;
    if let Some(error) = result["error"].as_str() {
        bail!("the probe failed in the page: {error}");
    }
    if sound.is_some() {
        if streams_seen.is_empty() {
            bail!("the browser played nothing into the sound server's null sink");
        }
        result["sound_streams_seen"] = json!(streams_seen);
    }
    Ok(result)
}

fn rows(probed: &Value) -> Vec<Row> {
    probed["frames"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            row.as_array().map(|cells| {
                cells
                    .iter()
                    .map(|c| c.as_f64().unwrap_or(f64::NAN))
                    .collect()
            })
        })
        .collect()
}

/// p5, p50, p95 (and the count) of `values`, rounded to µs.
fn spread(values: &[f64]) -> Value {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    match stats::percentiles(&values, [5.0, 50.0, 95.0]) {
        Some([p5, p50, p95]) => json!({
            "p5": round(p5), "p50": round(p50), "p95": round(p95), "n": values.len(),
        }),
        None => Value::Null,
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Least squares `y = a + b·x`; with the residuals' standard deviation.
struct Line {
    a: f64,
    b: f64,
    residual_sd: f64,
}

fn fit(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    if points.len() < 3 {
        return None;
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let residual_sd = (points
        .iter()
        .map(|p| (p.1 - a - b * p.0).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    Some(Line { a, b, residual_sd })
}

impl Line {
    fn at(&self, x: f64) -> f64 {
        self.a + self.b * x
    }
}

/// The media clock's readings (read time ms, `currentTime` ms) of rows in `[from, to)`, playing.
fn clock_points(rows: &[Row], from: f64, to: f64) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r[READ_AT] >= from && r[READ_AT] < to && r[PAUSED] == 0.0)
        .map(|r| (r[READ_AT], r[CURRENT] * 1000.0))
        .collect()
}

fn analyse(engine: Engine, clip: Clip, probed: &Value, autoplay: Value) -> Result<Value> {
    let rows = rows(probed);
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut timer_steps: Vec<f64> = probed["timer_steps_ms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(number)
        .collect();
    stats::sort(&mut timer_steps);

    // Starts.
    let animation_steps = |key: &str| {
        let times: Vec<f64> = probed[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(number)
            .collect();
        let steps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        spread(&steps)
    };

    let mut starts = Vec::new();
    for start in probed["starts"].as_array().into_iter().flatten() {
        let t0 = number(&start["t0"]);
        let from_ms = number(&start["from"]) * 1000.0;
        let ended = number(&start["ended"]);
        let first_frame = rows
            .iter()
            .filter(|r| r[T] >= t0 && r[T] < ended && r[MEDIA] * 1000.0 > from_ms + 1.0)
            .map(|r| r[EXPECTED])
            .next();
        // The clock's steady line (from 0.4 s after play()) extrapolated back to the start.
        let lead = fit(&clock_points(&rows, t0 + 400.0, ended))
            .map(|line| (from_ms - line.a) / line.b - t0);
        starts.push(json!({
            "to_clock_moving_ms": number(&start["moved"]) - t0,
            "to_promise_ms": number(&start["resolved"]) - t0,
            "to_playing_event_ms": number(&start["playing"]) - t0,
            "to_first_new_frame_displayed_ms": first_frame.map(|f| f - t0),
            "start_lead_ms": lead,
        }));
    }
    let start_stat = |key: &str| {
        let values: Vec<f64> = starts.iter().filter_map(|s| s[key].as_f64()).collect();
        spread(&values)
    };

    // Rates.
    let changes: Vec<(f64, Option<f64>)> = probed["rate_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (number(&c[0]), c[1].as_f64()))
        .collect();
    let steady_from = number(&probed["steady_from"]);
    let mut segments = vec![(steady_from, 1.0)];
    segments.extend(changes.iter().filter_map(|&(at, rate)| Some((at, rate?))));
    let mut rate_rows = Vec::new();
    let mut previous: Option<Line> = None;
    for (i, &(at, rate)) in segments.iter().enumerate() {
        let until = changes
            .iter()
            .map(|c| c.0)
            .find(|&c| c > at)
            .unwrap_or(f64::INFINITY);
        let line = fit(&clock_points(&rows, at + 500.0, until));
        // Frames presented in the same window: does the picture follow the clock?
        let frame_points: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r[EXPECTED] >= at + 500.0 && r[EXPECTED] < until && r[PAUSED] == 0.0)
            .map(|r| (r[EXPECTED], r[MEDIA] * 1000.0))
            .collect();
        let frames_line = fit(&frame_points);
        let jump = match (&previous, &line) {
            (Some(old), Some(new)) if i > 0 => Some(new.at(at) - old.at(at)),
            _ => None,
        };
        rate_rows.push(json!({
            "set_rate": rate,
            "clock_rate": line.as_ref().map(|l| l.b),
            "clock_rate_error_ppm": line.as_ref().map(|l| round((l.b - rate) / rate * 1e6)),
            "clock_readings_sd_ms": line.as_ref().map(|l| round(l.residual_sd)),
            "frames_rate": frames_line.as_ref().map(|l| l.b),
            "clock_jump_at_change_ms": jump.map(round),
        }));
        previous = line;
    }

    // Frame callbacks at 1.0, in the steady 3 s before the first rate change.
    let first_change = changes.first().map_or(f64::INFINITY, |c| c.0);
    let steady: Vec<&Row> = rows
        .iter()
        .filter(|r| r[T] >= steady_from + 500.0 && r[T] < first_change && r[PAUSED] == 0.0)
        .collect();
    let diff = |a: usize, b: usize| -> Vec<f64> { steady.iter().map(|r| r[a] - r[b]).collect() };
    let steps = |col: usize, scale: f64| -> Vec<f64> {
        steady
            .windows(2)
            .map(|w| (w[1][col] - w[0][col]) * scale)
            .collect()
    };
    let skipped: usize = steady
        .windows(2)
        .filter(|w| w[1][COUNT] - w[0][COUNT] > 1.0)
        .count();
    // Where the clock stands at the frame's expected display time, minus the frame's mediaTime.
    let clock_minus_frame: Vec<f64> = steady
        .iter()
        .map(|r| (r[CURRENT] * 1000.0 + (r[EXPECTED] - r[READ_AT]) * r[RATE]) - r[MEDIA] * 1000.0)
        .collect();
    let clock_line = fit(&clock_points(&rows, steady_from + 500.0, first_change));

    Ok(json!({
        "browser": engine.name(),
        "clip": clip.name(),
        "clip_fps": clip.fps(),
        "timer_step_ms": spread(&timer_steps),
        "has_request_video_frame_callback": probed["has_rvfc"],
        "animation_frame_step_ms": {
            "paused": animation_steps("animation_frames_paused"),
            "playing": animation_steps("animation_frames_playing"),
        },
        "autoplay_tests_profile": {
            "policy": probed["autoplay_policy"],
            "unmuted_play": probed["unmuted_play"],
            "muted_play": probed["muted_play"],
        },
        "autoplay_shipping_policy": autoplay,
        // Who played into the null sink while it ran (`--sound`); null: no sound output.
        "sound_streams_seen": probed["sound_streams_seen"],
        "starts": {
            "to_clock_moving_ms": start_stat("to_clock_moving_ms"),
            "to_promise_ms": start_stat("to_promise_ms"),
            "to_playing_event_ms": start_stat("to_playing_event_ms"),
            "to_first_new_frame_displayed_ms": start_stat("to_first_new_frame_displayed_ms"),
            "start_lead_ms": start_stat("start_lead_ms"),
            "each": starts,
        },
        "rates": rate_rows,
        "frame_callbacks_at_1": {
            "frames": steady.len(),
            "skipped_presented_frames": skipped,
            "expected_display_minus_now_ms": spread(&diff(EXPECTED, T)),
            "presentation_minus_now_ms": spread(&diff(PRESENTED, T)),
            "read_at_minus_now_ms": spread(&diff(READ_AT, T)),
            "display_step_ms": spread(&steps(EXPECTED, 1.0)),
            "media_step_ms": spread(&steps(MEDIA, 1000.0)),
            "clock_at_display_minus_frame_media_ms": spread(&clock_minus_frame),
            "clock_readings_sd_ms": clock_line.as_ref().map(|l| round(l.residual_sd)),
            "clock_rate": clock_line.as_ref().map(|l| l.b),
        },
    }))
}
