//! The film's true position in each page, frame by frame, for the benchmarks that measure the
//! offset between viewers independently of the app (`bench e2e`, `bench call`).
//!
//! Each page records, with its own `requestVideoFrameCallback` on the film's `<video>`, every
//! presented frame: its media time and its display time on the shared wall clock
//! (`performance.timeOrigin + expectedDisplayTime`; all browsers run on this machine's clock).
//! The benchmarks interpolate each viewer's position from its frames every 10 ms and take the
//! largest difference between viewers.

use super::media::{range, FILM};
use super::Browser;
use anyhow::{bail, Result};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One presented frame: display time (wall ms) and media time (s).
pub type Frame = (f64, f64);

/// Spacing of the instants at which viewers' positions are compared.
pub const GRID_MS: f64 = 10.0;

/// The columns of each record the page keeps (see [`RECORDER`]).
pub const COLUMNS: [&str; 9] = [
    "display_wall_ms",
    "media_time_s",
    "playback_rate",
    "presented_frames",
    "callback_wall_ms",
    "current_time_s",
    "current_time_read_wall_ms",
    "shown_offset_ms",
    "shown_within_ms",
];

/// Starts recording the film's frames in `window.__benchFrames` (once per page); false while
/// the page has no film element yet. With each frame it also keeps the offset the page shows for
/// its own viewer in the people list (`+3 ms`, `+3 ±17 ms`: the offset and how far either way
/// it may be from the truth; null for `offset unknown`), as that viewer sees it then.
const RECORDER: &str = "
    const video = document.querySelector(arguments[0]);
    if (!video) return false;
    if (!window.__benchFrames) {
        window.__benchFrames = [];
        const shownText = () => document.querySelector('li.person.me .meta')?.textContent ?? '';
        const shownOffset = () => {
            const shown = parseFloat(shownText());
            return Number.isFinite(shown) ? shown : null;
        };
        const shownWithin = () => {
            const [, within] = shownText().split('±');
            return within === undefined ? 0 : parseFloat(within);
        };
        const onFrame = (now, meta) => {
            window.__benchFrames.push([performance.timeOrigin + meta.expectedDisplayTime, meta.mediaTime, video.playbackRate,
                meta.presentedFrames, performance.timeOrigin + now, video.currentTime,
                performance.timeOrigin + performance.now(), shownOffset(), shownWithin()]);
            video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
    }
    return true;";

/// Starts recording `viewer`'s film frames; false while its page has no film yet.
pub async fn start_recording(viewer: &Browser) -> Result<bool> {
    Ok(viewer
        .client
        .execute(RECORDER, vec![serde_json::json!(FILM)])
        .await?
        .as_bool()
        .unwrap_or(false))
}

/// The offset a viewer's page showed for itself from a wall time (ms) on: `None` for none.
pub type Shown = (f64, Option<ShownOffset>);

/// An offset a page showed, ms, and how far either way from it the page said the truth may be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShownOffset {
    pub ms: f64,
    pub within_ms: f64,
}

impl ShownOffset {
    /// How far `truth` lies outside what was shown: 0 within the range it gave.
    pub fn outside(&self, truth: f64) -> f64 {
        ((self.ms - truth).abs() - self.within_ms).max(0.0)
    }
}

/// Every viewer's recorded frames ([`recorded`]), in the order given.
pub async fn recorded_by_all(viewers: &[&Browser]) -> Result<Vec<Vec<Frame>>> {
    let mut all = Vec::new();
    for viewer in viewers {
        all.push(recorded(viewer).await?.0);
    }
    Ok(all)
}

/// What a viewer's page recorded: its frames, sorted by display time, the playbackRate at each,
/// and the whole record as the page kept it (fetched once: the record is large).
pub async fn recorded(viewer: &Browser) -> Result<(Vec<Frame>, Vec<f64>, serde_json::Value)> {
    let value = viewer
        .client
        .execute("return window.__benchFrames || []", vec![])
        .await?;
    let mut entries: Vec<(Frame, f64)> = value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            Some((
                (f.get(0)?.as_f64()?, f.get(1)?.as_f64()?),
                f.get(2)?.as_f64()?,
            ))
        })
        .collect();
    entries.sort_by(|a, b| a.0 .0.total_cmp(&b.0 .0));
    let (frames, rates) = entries.into_iter().unzip();
    Ok((frames, rates, value))
}

/// The offsets the page showed for its own viewer (see [`RECORDER`]), by the wall time of the
/// frame callback that read them, from the whole record [`recorded`] returned.
pub fn shown_offsets(raw: &serde_json::Value) -> Vec<Shown> {
    let mut shown: Vec<Shown> = raw
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let offset = f.get(7).and_then(|v| v.as_f64()).map(|ms| ShownOffset {
                ms,
                // Records from before the precision was kept read as exact.
                within_ms: f.get(8).and_then(|v| v.as_f64()).unwrap_or(0.0),
            });
            Some((f.get(4)?.as_f64()?, offset))
        })
        .collect();
    shown.sort_by(|a, b| a.0.total_cmp(&b.0));
    shown
}

/// What the page showed at wall time `t`: the latest reading at or before it.
/// `None` if the page showed none, or read none in the 100 ms before (no frames: not playing).
pub fn shown_at(shown: &[Shown], t: f64) -> Option<ShownOffset> {
    let next = shown.partition_point(|s| s.0 <= t);
    let latest = shown.get(next.checked_sub(1)?)?;
    (t - latest.0 <= 100.0).then_some(latest.1).flatten()
}

/// A viewer's media position at wall time `t`, interpolated between the frames around it; `None`
/// when it was not moving steadily then (paused, seeking, not yet started: frames > 100 ms apart).
pub fn position_at(frames: &[Frame], t: f64) -> Option<f64> {
    let next = frames.partition_point(|f| f.0 <= t);
    let (before, after) = (frames.get(next.checked_sub(1)?)?, frames.get(next)?);
    if after.0 - before.0 > 100.0 || after.1 < before.1 {
        return None;
    }
    let fraction = (t - before.0) / (after.0 - before.0);
    Some(before.1 + fraction * (after.1 - before.1))
}

/// Every 10 ms of [from, to): the instant, and every viewer's position then (by `at`), or
/// `None` if any of them was not moving steadily.
pub fn grid<'a>(
    records: &'a [Vec<Frame>],
    from: f64,
    to: f64,
    at: fn(&[Frame], f64) -> Option<f64>,
) -> impl Iterator<Item = (f64, Option<Vec<f64>>)> + 'a {
    let steps = ((to - from) / GRID_MS).ceil().max(0.0) as usize;
    (0..steps).map(move |i| {
        let t = from + i as f64 * GRID_MS;
        (t, records.iter().map(|r| at(r, t)).collect())
    })
}

/// Spread (ms) between all viewers every 10 ms of [from, to), where all were playing.
pub fn spreads_of(
    records: &[Vec<Frame>],
    from: f64,
    to: f64,
    at: fn(&[Frame], f64) -> Option<f64>,
) -> Vec<f64> {
    grid(records, from, to, at)
        .filter_map(|(_, positions)| Some(range(&positions?) * 1000.0))
        .collect()
}

/// Each viewer's mean signed offset (ms) from the first, over the instants all were playing.
pub fn mean_offsets_from_first(records: &[Vec<Frame>], from: f64, to: f64) -> Vec<f64> {
    let mut sums = vec![0.0; records.len()];
    let mut count = 0.0;
    for positions in grid(records, from, to, position_at).filter_map(|(_, p)| p) {
        for (sum, position) in sums.iter_mut().zip(&positions) {
            *sum += (position - positions[0]) * 1000.0;
        }
        count += 1.0;
    }
    sums.into_iter()
        .map(|s| if count > 0.0 { s / count } else { 0.0 })
        .collect()
}

/// A viewer's timeline at `t`: the least-squares line through its frames within ±250 ms.
pub fn timeline_at(frames: &[Frame], t: f64) -> Option<f64> {
    position_at(frames, t)?; // only where it was moving steadily
    let lo = frames.partition_point(|f| f.0 < t - 250.0);
    let hi = frames.partition_point(|f| f.0 <= t + 250.0);
    let window = &frames[lo..hi];
    if window.len() < 8 {
        return None;
    }
    let n = window.len() as f64;
    let (mx, my) = (
        window.iter().map(|f| f.0 - t).sum::<f64>() / n,
        window.iter().map(|f| f.1).sum::<f64>() / n,
    );
    let sxx: f64 = window.iter().map(|f| (f.0 - t - mx).powi(2)).sum();
    let sxy: f64 = window.iter().map(|f| (f.0 - t - mx) * (f.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    Some(my - slope * mx)
}

/// On the room's frame: nearer to it than half a frame of the tests' 60 fps clip.
pub const ON_FRAME_MS: f64 = 1000.0 / 60.0 / 2.0;
/// ...and staying there this long (a frame that only passes by is not being on it).
pub const ON_FRAME_FOR_MS: f64 = 500.0;

/// A least-squares line through `points` (wall ms, media s), refitted without the points more
/// than [`ON_FRAME_MS`] from the first fit: the room's timeline as a few viewers play it, where
/// one of them may stall for a moment on a busy host (that is its error, not the room's).
/// Returns the position (s) on it at any wall time.
pub fn room_line(points: &[(f64, f64)]) -> Option<impl Fn(f64) -> f64> {
    fn fit(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
        if points.len() < 8 {
            return None;
        }
        let n = points.len() as f64;
        let t0 = points[0].0;
        let mx = points.iter().map(|p| p.0 - t0).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - t0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - t0 - mx) * (p.1 - my)).sum();
        (sxx > 0.0).then(|| (t0, sxy / sxx, my - sxy / sxx * mx))
    }
    let (t0, slope, at0) = fit(points)?;
    let near: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|p| ((p.1 - (at0 + slope * (p.0 - t0))) * 1000.0).abs() <= ON_FRAME_MS)
        .collect();
    let (t0, slope, at0) = fit(&near)?;
    Some(move |t: f64| at0 + slope * (t - t0))
}

/// How long after `since` (ms) `viewer`'s picture came to show the frame one of `others` showed
/// then, and stayed on it for [`ON_FRAME_FOR_MS`]; `None` if it did not within the record.
///
/// Against each of the others' own pictures, not a line through them: the room may hold or
/// re-seek meanwhile (a stall of 250 ms holds everyone), which no straight line follows, and
/// one of them hiccuping on a busy host leaves the other to compare with.
pub fn on_frame_after<F: AsRef<[Frame]>>(
    viewer: &[Frame],
    others: &[F],
    since: f64,
) -> Option<f64> {
    let end = viewer.last()?.0;
    let on_frame = |t: f64| -> Option<bool> {
        let own = position_at(viewer, t)?;
        let mut theirs = others
            .iter()
            .filter_map(|other| position_at(other.as_ref(), t))
            .peekable();
        theirs.peek()?;
        Some(theirs.any(|p| ((own - p) * 1000.0).abs() < ON_FRAME_MS))
    };
    let mut t = since;
    while t + ON_FRAME_FOR_MS <= end {
        let window =
            (0..(ON_FRAME_FOR_MS / GRID_MS) as usize).map(|i| on_frame(t + i as f64 * GRID_MS));
        let known: Vec<bool> = window.flatten().collect();
        if known.len() as f64 >= ON_FRAME_FOR_MS / GRID_MS * 0.8 && known.iter().all(|&on| on) {
            return Some(t - since);
        }
        t += GRID_MS;
    }
    None
}

/// Every record but viewer `i`'s: the others it is compared with.
pub fn all_but(records: &[Vec<Frame>], i: usize) -> Vec<&[Frame]> {
    records
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, r)| r.as_slice())
        .collect()
}

/// Now on the wall clock the pages stamp their frames with (ms since the Unix epoch).
pub fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_default()
}

/// Polls `condition` every 50 ms until it holds, for at most `timeout`.
pub async fn wait_until<F, Fut>(mut condition: F, timeout: Duration) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        if tokio::time::Instant::now() > deadline {
            bail!("timed out");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
