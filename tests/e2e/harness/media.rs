//! The test clip, generated once per run with ffmpeg (Debian's package) rather than committed,
//! and the harness's own view of each viewer's playback, measured independently of the app.

use super::{Browser, Party, Place, ServerOptions, TestServer};
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

/// Seconds of the long clip, for the calls: joining three calls beside a film took over a
/// minute on a busy host, and the 90 s clip ended (the film rightly paused) before the check.
pub const LONG_CLIP_SECONDS: u32 = 240;
/// Name under which the server serves the long clip.
pub const LONG_CLIP_PATH: &str = "/clip-240s.webm";

static CLIP: OnceCell<PathBuf> = OnceCell::const_new();
static SHORT_CLIP: OnceCell<PathBuf> = OnceCell::const_new();
static LONG_CLIP: OnceCell<PathBuf> = OnceCell::const_new();

/// A 160×90, 60 fps VP9 + Opus clip with a test pattern and a tone.
pub async fn test_clip() -> Result<PathBuf> {
    CLIP.get_or_try_init(|| make_clip(Clip::Webm60))
        .await
        .cloned()
}

/// The same as [`test_clip`], [`SHORT_CLIP_SECONDS`] long.
pub async fn short_clip() -> Result<PathBuf> {
    SHORT_CLIP
        .get_or_try_init(|| make_clip_lasting(Clip::Webm60, SHORT_CLIP_SECONDS, SHORT_CLIP_PATH))
        .await
        .cloned()
}

/// The same as [`test_clip`], [`LONG_CLIP_SECONDS`] long.
pub async fn long_clip() -> Result<PathBuf> {
    LONG_CLIP
        .get_or_try_init(|| make_clip_lasting(Clip::Webm60, LONG_CLIP_SECONDS, LONG_CLIP_PATH))
        .await
        .cloned()
}

/// The clips the end-to-end bench can play (`cargo xtask bench e2e --clip NAME`), each made at
/// test time with Debian's ffmpeg: a test pattern and a 440 Hz tone, [`CLIP_SECONDS`] long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // the other clips are played by the benchmark, not the tests
pub enum Clip {
    /// 160×90, 60 fps VP9 + Opus: the tests' clip, and the bench's by default.
    Webm60,
    /// 160×90, 25 fps VP9 + Opus.
    Webm25,
    /// 160×90, 24 fps H.264 (libx264) + AAC, `+faststart`.
    Mp4At24,
    /// 160×90, 30000/1001 fps H.264 + AAC.
    Mp4At2997,
    /// 960×540, 60 fps H.264 + AAC: a picture that takes the decoder real work.
    Mp4At60Hd,
    /// As `Mp4At24`, but its first frame's timestamp is 0.25 s, not zero.
    Mp4At24Late,
    /// 160×90, 30 fps H.264 + AAC: frames two refreshes long, exactly.
    Mp4At30,
    /// 1280×720, 30 fps H.264 + AAC: an HD picture.
    Mp4At30Hd,
}

#[allow(dead_code)] // listed and looked up by the benchmark's `--clip`
impl Clip {
    pub const ALL: [Clip; 8] = [
        Clip::Webm60,
        Clip::Webm25,
        Clip::Mp4At24,
        Clip::Mp4At2997,
        Clip::Mp4At60Hd,
        Clip::Mp4At24Late,
        Clip::Mp4At30,
        Clip::Mp4At30Hd,
    ];

    /// The name `--clip` takes.
    pub fn name(self) -> &'static str {
        match self {
            Clip::Webm60 => "webm-60",
            Clip::Webm25 => "webm-25",
            Clip::Mp4At24 => "mp4-24",
            Clip::Mp4At2997 => "mp4-2997",
            Clip::Mp4At60Hd => "mp4-60-540p",
            Clip::Mp4At24Late => "mp4-24-late",
            Clip::Mp4At30 => "mp4-30",
            Clip::Mp4At30Hd => "mp4-30-720p",
        }
    }

    pub fn from_name(name: &str) -> Option<Clip> {
        Clip::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        match self {
            Clip::Webm60 | Clip::Mp4At60Hd => 60.0,
            Clip::Webm25 => 25.0,
            Clip::Mp4At24 | Clip::Mp4At24Late => 24.0,
            Clip::Mp4At2997 => 30000.0 / 1001.0,
            Clip::Mp4At30 | Clip::Mp4At30Hd => 30.0,
        }
    }

    /// Where the server serves it (the default clip keeps [`CLIP_PATH`]).
    pub fn path(self) -> String {
        match self {
            Clip::Webm60 => CLIP_PATH.to_owned(),
            Clip::Webm25 => "/clip-25fps.webm".to_owned(),
            other => format!("/clip-{}.mp4", other.name()),
        }
    }

    /// ffmpeg's inputs and encoding, between `-y` and the output file.
    fn ffmpeg_args(self, seconds: u32) -> Vec<String> {
        let (size, rate) = match self {
            Clip::Webm60 => ("160x90", "60"),
            Clip::Webm25 => ("160x90", "25"),
            Clip::Mp4At24 | Clip::Mp4At24Late => ("160x90", "24"),
            Clip::Mp4At2997 => ("160x90", "30000/1001"),
            Clip::Mp4At60Hd => ("960x540", "60"),
            Clip::Mp4At30 => ("160x90", "30"),
            Clip::Mp4At30Hd => ("1280x720", "30"),
        };
        let mut args: Vec<String> = [
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("testsrc2=size={size}:rate={rate}:duration={seconds}"),
            "-f".to_owned(),
            "lavfi".to_owned(),
            "-i".to_owned(),
            format!("sine=frequency=440:duration={seconds}"),
        ]
        .into();
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        match self {
            Clip::Webm60 | Clip::Webm25 => {
                let gop = if self == Clip::Webm60 { "60" } else { "25" };
                args.extend(words(
                    "-c:v libvpx-vp9 -b:v 150k -deadline realtime -cpu-used 8 -g",
                ));
                args.push(gop.to_owned());
                args.extend(words("-c:a libopus -b:a 32k -shortest"));
            }
            _ => {
                let rate = match self {
                    Clip::Mp4At60Hd => "1500k",
                    Clip::Mp4At30Hd => "2500k",
                    _ => "150k",
                };
                // libx264's `main` profile at `veryfast` makes B-frames (3 at most; about two
                // frames in three of a 24 fps clip): every MP4 clip here is one with B-frames.
                args.extend(words(
                    "-c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -g 48 -b:v",
                ));
                args.push(rate.to_owned());
                args.extend(words("-c:a aac -b:a 64k -shortest -movflags +faststart"));
                if self == Clip::Mp4At24Late {
                    args.extend(words("-output_ts_offset 0.25"));
                }
            }
        }
        args
    }
}

/// Makes `clip`, [`CLIP_SECONDS`] long.
pub async fn make_clip(clip: Clip) -> Result<PathBuf> {
    make_clip_lasting(clip, CLIP_SECONDS, &clip.path()).await
}

/// Makes `clip`, `seconds` long, to be served as `served_as` (cached per length, so changing
/// a length never serves a stale clip).
async fn make_clip_lasting(clip: Clip, seconds: u32, served_as: &str) -> Result<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/e2e-media/{seconds}s"));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(served_as.trim_start_matches('/'));
    if path.exists() {
        return Ok(path);
    }
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("webm");
    let partial = dir.join(format!("partial-{}.{extension}", clip.name()));
    let status = tokio::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y"])
        .args(clip.ffmpeg_args(seconds))
        .arg(&partial)
        .status()
        .await
        .context("running ffmpeg (Debian package ffmpeg) to make the test clip")?;
    if !status.success() {
        bail!("ffmpeg failed to make the {} clip ({status})", clip.name());
    }
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// Starts a party whose server also serves the test clip at [`CLIP_PATH`].
pub async fn party_with_clip(test_name: &str, names: &[&str]) -> Result<Party> {
    party_with(Clip::Webm60, test_name, names).await
}

/// Starts a party whose server also serves `clip` at [`Clip::path`], and the short clip at
/// [`SHORT_CLIP_PATH`] (what the bench queues to follow it).
pub async fn party_with(clip: Clip, test_name: &str, names: &[&str]) -> Result<Party> {
    Party::start_with(test_name, server_with(clip).await?, names).await
}

/// Like [`party_with`], each person in the browser their place names (Firefox or Chromium).
pub async fn party_with_browsers(
    clip: Clip,
    test_name: &str,
    people: &[(&str, Place)],
) -> Result<Party> {
    Party::start_at(test_name, server_with(clip).await?, people).await
}

/// A test server that also serves `clip`.
async fn server_with(clip: Clip) -> Result<TestServer> {
    let media = if clip == Clip::Webm60 {
        test_clip().await?
    } else {
        make_clip(clip).await?
    };
    let options = ServerOptions {
        media: vec![media, short_clip().await?],
        ..Default::default()
    };
    TestServer::start_with(options).await
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
