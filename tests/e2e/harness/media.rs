//! The test clip, generated once per run with ffmpeg (Debian's package) rather than committed,
//! and the harness's own view of each viewer's playback, measured independently of the app.

use super::{Browser, Party, ServerOptions, TestServer};
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use tokio::sync::OnceCell;

/// Seconds of the clip: long enough to play, pause, seek and still have room left.
pub const CLIP_SECONDS: u32 = 90;
/// Name under which the server serves it.
pub const CLIP_PATH: &str = "/clip-60fps.webm";

/// Seconds of the short clip, for what happens when a video ends.
pub const SHORT_CLIP_SECONDS: u32 = 3;
/// Name under which the server serves the short clip.
pub const SHORT_CLIP_PATH: &str = "/clip-3s.webm";

static CLIP: OnceCell<PathBuf> = OnceCell::const_new();
static SHORT_CLIP: OnceCell<PathBuf> = OnceCell::const_new();

/// A 160×90, 60 fps VP9 + Opus clip with a test pattern and a tone.
pub async fn test_clip() -> Result<PathBuf> {
    CLIP.get_or_try_init(|| make_clip(CLIP_SECONDS, CLIP_PATH))
        .await
        .cloned()
}

/// The same as [`test_clip`], [`SHORT_CLIP_SECONDS`] long.
pub async fn short_clip() -> Result<PathBuf> {
    SHORT_CLIP
        .get_or_try_init(|| make_clip(SHORT_CLIP_SECONDS, SHORT_CLIP_PATH))
        .await
        .cloned()
}

async fn make_clip(seconds: u32, served_as: &str) -> Result<PathBuf> {
    // Cached per length, so changing a length never serves a stale clip.
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/e2e-media/{seconds}s"));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(served_as.trim_start_matches('/'));
    if path.exists() {
        return Ok(path);
    }
    let partial = dir.join("partial.webm");
    let seconds = seconds.to_string();
    let status = tokio::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=160x90:rate=60:duration={seconds}"))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "150k",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-g",
            "60",
        ])
        .args(["-c:a", "libopus", "-b:a", "32k", "-shortest"])
        .arg(&partial)
        .status()
        .await
        .context("running ffmpeg (Debian package ffmpeg) to make the test clip")?;
    if !status.success() {
        bail!("ffmpeg failed to make the test clip ({status})");
    }
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// Starts a party whose server also serves the test clip at [`CLIP_PATH`].
pub async fn party_with_clip(test_name: &str, names: &[&str]) -> Result<Party> {
    let options = ServerOptions {
        media: vec![test_clip().await?],
        ..Default::default()
    };
    Party::start_with(test_name, TestServer::start_with(options).await?, names).await
}

/// The film's `<video>` (the call's tiles have `<video>` elements of their own).
pub const FILM: &str = "video.video";

/// One viewer's playback as the page's own `<video>` reports it, stamped on the shared wall clock.
#[derive(Debug, Clone, Copy)]
pub struct PlaybackSample {
    pub position_secs: f64,
    /// `performance.timeOrigin + performance.now()`: the same clock in every browser here.
    pub wall_ms: f64,
    pub paused: bool,
    pub rate: f64,
}

pub async fn sample(browser: &Browser) -> Result<PlaybackSample> {
    let value = browser
        .client
        .execute(
            "const v = document.querySelector(arguments[0]);
             if (!v || v.readyState < 2) return null;
             return [v.currentTime, performance.timeOrigin + performance.now(), v.paused, v.playbackRate];",
            vec![serde_json::json!(FILM)],
        )
        .await?;
    let Some(values) = value.as_array() else {
        bail!("{} has no video ready", browser.name)
    };
    Ok(PlaybackSample {
        position_secs: values[0].as_f64().unwrap_or(f64::NAN),
        wall_ms: values[1].as_f64().unwrap_or(f64::NAN),
        paused: values[2].as_bool().unwrap_or(true),
        rate: values[3].as_f64().unwrap_or(1.0),
    })
}

/// The largest difference between viewers' positions, each extrapolated to the same instant.
pub fn spread_ms(samples: &[PlaybackSample]) -> f64 {
    let instant = samples.iter().map(|s| s.wall_ms).fold(f64::MIN, f64::max);
    let positions: Vec<f64> = samples
        .iter()
        .map(|s| {
            let moving = if s.paused { 0.0 } else { s.rate };
            s.position_secs * 1000.0 + (instant - s.wall_ms) * moving
        })
        .collect();
    range(&positions)
}

/// The largest value minus the smallest (0 for none).
pub fn range(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::MIN, f64::max);
    let min = values.iter().cloned().fold(f64::MAX, f64::min);
    if values.is_empty() {
        0.0
    } else {
        max - min
    }
}

/// Waits until every viewer is in the wanted play state and within `tolerance_ms` of the others
/// (and, if given, near `near_secs`); fails with the last measurements otherwise.
pub async fn wait_for_sync(
    viewers: &[&Browser],
    playing: bool,
    tolerance_ms: f64,
    near_secs: Option<f64>,
    timeout: std::time::Duration,
) -> Result<f64> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut samples = Vec::new();
        for viewer in viewers {
            match sample(viewer).await {
                Ok(s) => samples.push(s),
                Err(_) => break,
            }
        }
        if samples.len() == viewers.len() {
            let spread = spread_ms(&samples);
            let states_ok = samples.iter().all(|s| s.paused != playing);
            let near_ok =
                near_secs.is_none_or(|t| samples.iter().all(|s| (s.position_secs - t).abs() < 1.5));
            if states_ok && near_ok && spread <= tolerance_ms {
                return Ok(spread);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("not in sync (want playing={playing}, near {near_secs:?}): spread {spread:.1} ms, {samples:?}");
            }
        } else if tokio::time::Instant::now() >= deadline {
            bail!("not every viewer has the video ready");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The spread between `viewers` (see [`spread_ms`]), sampled every `every` for `duration`;
/// rounds where a viewer had no video ready are left out.
pub async fn sample_spreads(
    viewers: &[&Browser],
    duration: std::time::Duration,
    every: std::time::Duration,
) -> Result<Vec<f64>> {
    let deadline = tokio::time::Instant::now() + duration;
    let mut spreads = Vec::new();
    while tokio::time::Instant::now() < deadline {
        let mut samples = Vec::new();
        for viewer in viewers {
            if let Ok(s) = sample(viewer).await {
                samples.push(s);
            }
        }
        if samples.len() == viewers.len() {
            spreads.push(spread_ms(&samples));
        }
        tokio::time::sleep(every).await;
    }
    Ok(spreads)
}
