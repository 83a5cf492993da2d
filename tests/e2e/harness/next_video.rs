//! How together the next video starts when the queue moves on by itself (`bench e2e`'s
//! `next_video_start_spread_ms`, issue 20's target ≤ 17 ms).
//!
//! The room plays a video not from the queue; one person queues a short clip and seeks the
//! video to just before its end. When it ends, the sync reference loads the queue's first entry
//! and everyone follows (`programme::playing`). Each page records, with its own
//! `requestVideoFrameCallback`, the frames it presents of the new video while playing; a
//! viewer's start is the wall time at which its media time 0 was on screen (display time of its
//! first playing frame less that frame's media time, so a viewer whose first frame shown was the
//! second one is not counted a frame late). The spread is the largest difference between
//! viewers' starts.

use super::actions::{add_to_queue, poll_until, seek_with_slider};
use super::media::{range, FILM};
use super::{Browser, UI_TIMEOUT};
use anyhow::{ensure, Context, Result};
use std::time::Duration;

/// Records, in `window.__nextVideo`, the frames presented while playing whose source ends with
/// `arguments[1]`: display wall time (ms) and media time (s). The page may give the new video
/// a new element, and a load may drop pending callbacks, so every 20 ms it arms the film
/// element found then if it has no callback pending; duplicates are removed when read.
const RECORDER: &str = "
    const selector = arguments[0];
    const wanted = arguments[1];
    if (!document.querySelector(selector)) return false;
    window.__nextVideo = [];
    const pending = new WeakSet();
    const arm = (video) => {
        if (pending.has(video)) return;
        pending.add(video);
        video.requestVideoFrameCallback((now, meta) => {
            pending.delete(video);
            if (video.currentSrc.endsWith(wanted) && !video.paused) {
                window.__nextVideo.push([performance.timeOrigin + meta.expectedDisplayTime, meta.mediaTime]);
            }
            if (window.__nextVideo.length < 60) arm(video);
        });
    };
    const poll = setInterval(() => {
        if (window.__nextVideo.length >= 60) return clearInterval(poll);
        const video = document.querySelector(selector);
        if (video) arm(video);
    }, 20);
    return true;";

/// What one auto-advance measured.
#[derive(Debug, Clone)]
pub struct NextVideoStart {
    /// Each viewer's start (wall ms at which media time 0 was on screen), in `viewers` order.
    pub starts_wall_ms: Vec<f64>,
    /// The largest difference between two viewers' starts, ms.
    pub spread_ms: f64,
}

/// `adder` queues `next_path` (a clip the server serves), `seeker` seeks the room's video to
/// `lead_in` before its end (`duration_secs`), and the queue's auto-advance starts the clip for
/// every viewer: returns when all have played it for a while.
pub async fn measure_auto_advance(
    viewers: &[&Browser],
    adder: &Browser,
    seeker: &Browser,
    next_path: &str,
    duration_secs: f64,
    lead_in: Duration,
) -> Result<NextVideoStart> {
    add_to_queue(adder, next_path).await?;
    let entry = format!(
        "//section[contains(@class,'up-next')]//li[contains(., '{}')]",
        next_path.trim_start_matches('/')
    );
    for viewer in viewers {
        viewer
            .wait_for_xpath(&entry, UI_TIMEOUT)
            .await
            .with_context(|| format!("{} never listed {next_path} in Up next", viewer.name))?;
        let armed = viewer
            .client
            .execute(
                RECORDER,
                vec![serde_json::json!(FILM), serde_json::json!(next_path)],
            )
            .await?;
        ensure!(armed.as_bool() == Some(true), "{} has no film", viewer.name);
    }
    seek_with_slider(seeker, duration_secs - lead_in.as_secs_f64()).await?;
    let mut starts_wall_ms = Vec::new();
    for viewer in viewers {
        let frames = frames_once_playing(viewer, lead_in + Duration::from_secs(15))
            .await
            .with_context(|| format!("{} never played {next_path} after the end", viewer.name))?;
        starts_wall_ms.push(start_of(&frames).context("no frame")?);
    }
    let spread_ms = range(&starts_wall_ms);
    Ok(NextVideoStart {
        starts_wall_ms,
        spread_ms,
    })
}

/// The frames `viewer` recorded of the next video, once it has played half a second of it.
async fn frames_once_playing(viewer: &Browser, timeout: Duration) -> Result<Vec<(f64, f64)>> {
    let frames = poll_until(
        timeout,
        Duration::from_millis(100),
        || recorded(viewer),
        |frames| frames.len() >= 30,
        |frames| format!("timed out with {} frames recorded", frames.len()),
    )
    .await;
    if frames.is_err() {
        let film = viewer
            .client
            .execute(
                "const v = document.querySelector(arguments[0]);
                 return v && [v.currentSrc, v.paused, v.currentTime];",
                vec![serde_json::json!(FILM)],
            )
            .await?;
        return frames.with_context(|| format!("the film is {film}"));
    }
    frames
}

/// The frames `viewer` recorded of the next video, by display time, duplicates removed.
async fn recorded(viewer: &Browser) -> Result<Vec<(f64, f64)>> {
    let raw = viewer
        .client
        .execute("return window.__nextVideo || [];", vec![])
        .await?;
    let mut frames: Vec<(f64, f64)> = serde_json::from_value(raw)?;
    frames.sort_by(|a, b| a.0.total_cmp(&b.0));
    frames.dedup_by(|a, b| a.1 == b.1);
    Ok(frames)
}

/// When media time 0 was on screen, from the first frame presented while playing.
fn start_of(frames: &[(f64, f64)]) -> Option<f64> {
    frames
        .first()
        .map(|&(display_ms, media_s)| display_ms - media_s * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_whose_first_frame_was_the_second_is_not_counted_late() {
        // Both put media time 0 on screen at 1000 ms; the second showed frame 1 first.
        let a = start_of(&[(1000.0, 0.0), (1016.7, 0.0167)]).unwrap();
        let b = start_of(&[(1016.7, 0.0167), (1033.4, 0.0334)]).unwrap();
        assert!(range(&[a, b]) < 0.1, "{a} {b}");
        let late = start_of(&[(1033.4, 0.0167)]).unwrap();
        assert!((range(&[a, b, late]) - 16.7).abs() < 0.1);
    }
}
