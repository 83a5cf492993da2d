//! Starts and slow devices (issue 19), played out in three real Chromium viewers and measured
//! from each page's own frames (`film_frames`), for the tests in `tests/e2e/starts.rs` (which
//! hold the figures to loose bounds) and for `cargo xtask bench e2e --slow` (which writes them).
//!
//! Each scenario returns what it measured; nothing here judges it. A slow viewer is a page whose
//! main thread runs several times slower (`throttle::throttle_cpu`): its timers, frame callbacks
//! and message handlers run late, as on a slow laptop, while its media pipeline goes on. A
//! buffering viewer is one whose downloads are capped below the clip's bitrate.
//!
//! Alice starts the party, so she is the oldest page the endpoint admitted: her clock is room
//! time (docs/engine.md). A slow Alice is the case where a slow viewer could pull the others.

use super::actions::{gather, load_clip};
use super::film_frames::{
    self, on_frame_after, position_at, room_line, wait_until, wall_ms, Frame, GRID_MS,
};
use super::host_load::{self, CpuShares, CpuTimes};
use super::media::{range, wait_for_sync, FILM};
use super::{Browser, Party};
use anyhow::{Context, Result};
use insieme::stats;
use std::time::Duration;

/// Alice, Bob and Carol, as the scenarios name them.
pub const NAMES: [(&str, &str); 3] = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];

/// The browsers' names of [`NAMES`], as a party is made with them.
pub fn browser_names() -> Vec<&'static str> {
    NAMES.iter().map(|(name, _)| *name).collect()
}
/// How long everyone is waited for where the suite waits (a busy host).
const SETTLE: Duration = Duration::from_secs(15);
/// Everyone within this counts as playing together for the harness's own waits.
const LOOSE_MS: f64 = 50.0;
/// Together: every viewer within one frame of the 60 fps clip of every other...
const TOGETHER_MS: f64 = 1000.0 / 60.0;
/// ...for this long.
const TOGETHER_FOR_MS: f64 = 500.0;

/// How a slow device is made of a page: its main thread slowed `rate` times, and kept busy
/// `busy_ms` of every `every_ms` (see `throttle.rs`).
#[derive(Clone, Copy, Debug)]
pub struct Slowness {
    pub rate: f64,
    pub busy_ms: f64,
    pub every_ms: f64,
}

/// The slow device of the tests and the bench: a fifth of the speed, busy 35 ms of every 50.
pub const SLOW_DEVICE: Slowness = Slowness {
    rate: 5.0,
    busy_ms: 35.0,
    every_ms: 50.0,
};

impl Slowness {
    async fn apply(&self, viewer: &Browser) -> Result<()> {
        viewer.throttle_cpu(self.rate).await?;
        viewer.saturate(self.busy_ms, self.every_ms).await
    }

    async fn lift(&self, viewer: &Browser) -> Result<()> {
        viewer.unsaturate().await?;
        viewer.throttle_cpu(1.0).await
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "cpu_throttling_rate": self.rate,
            "busy_ms": self.busy_ms,
            "every_ms": self.every_ms,
        })
    }
}

/// Percentiles of a set of offsets (ms), for reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Spread {
    pub samples: usize,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
}

impl Spread {
    /// Of the absolute values of `offsets`.
    pub fn of_abs(offsets: &[f64]) -> Spread {
        let abs: Vec<f64> = offsets.iter().map(|o| o.abs()).collect();
        let [p50, p95, max] =
            stats::percentiles(&abs, [50.0, 95.0, 100.0]).map_or([None; 3], |p| p.map(Some));
        Spread {
            samples: abs.len(),
            p50,
            p95,
            max,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "samples": self.samples,
            "p50_ms": self.p50,
            "p95_ms": self.p95,
            "max_ms": self.max,
        })
    }
}

/// The host while a scenario ran, as the benches report it.
pub fn host_json(host: Option<CpuShares>) -> serde_json::Value {
    serde_json::json!({
        "cpu_steal_percent": host.map(|h| h.steal * 100.0),
        "cpu_idle_percent": host.map(|h| h.idle * 100.0),
    })
}

/// Every viewer starts recording its film's frames (waiting for its film to appear).
async fn record_frames(viewers: &[&Browser]) -> Result<()> {
    for viewer in viewers {
        wait_until(
            || async { film_frames::start_recording(viewer).await.unwrap_or(false) },
            SETTLE,
        )
        .await
        .with_context(|| format!("{}'s film never appeared", viewer.name))?;
    }
    Ok(())
}

/// `viewer`'s offset (ms, signed) from the room's line through `others`' frames, every 10 ms of
/// [from, to) at which it was playing steadily; and how many instants there were in all.
fn offsets_from_room(
    viewer: &[Frame],
    others: &[&Vec<Frame>],
    from: f64,
    to: f64,
) -> (Vec<f64>, usize) {
    let points: Vec<(f64, f64)> = others
        .iter()
        .flat_map(|o| o.iter())
        .copied()
        .filter(|f| f.0 >= from && f.0 < to)
        .collect();
    let steps = ((to - from) / GRID_MS).ceil().max(0.0) as usize;
    let Some(room) = room_line(&points) else {
        return (Vec::new(), steps);
    };
    let offsets = (0..steps)
        .filter_map(|i| {
            let t = from + i as f64 * GRID_MS;
            Some((position_at(viewer, t)? - room(t)) * 1000.0)
        })
        .collect();
    (offsets, steps)
}

/// A frame's media time less its display time (ms): constant while it plays at the wall
/// clock's rate.
fn lead(f: &Frame) -> f64 {
    f.1 * 1000.0 - f.0
}

/// Where `frames` were heading before a change: the position they held over `before` (median
/// of media − wall), to move on at exactly the wall clock's rate, which is room time's (every
/// browser here runs on this machine's clock); `None` without frames then.
fn heading(frames: &[Frame], before: (f64, f64)) -> Option<f64> {
    let held: Vec<f64> = frames
        .iter()
        .filter(|f| f.0 >= before.0 && f.0 < before.1)
        .map(lead)
        .collect();
    stats::median(&held)
}

/// How far `frames` strayed (ms, signed, per frame shown in [from, to)) from `heading` (see
/// [`heading`]). A slow viewer pulling the others would show here as a drift.
fn strayed_from(frames: &[Frame], heading: f64, from: f64, to: f64) -> Vec<f64> {
    frames
        .iter()
        .filter(|f| f.0 >= from && f.0 < to)
        .map(|f| lead(f) - heading)
        .collect()
}

/// The median, for each whole second of [from, to), of how far `frames` strayed from
/// `heading` (see [`strayed_from`]): a drift, with one frame's presentation jitter averaged out.
fn seconds_strayed(frames: &[Frame], heading: f64, from: f64, to: f64) -> Vec<Option<f64>> {
    let seconds = ((to - from) / 1000.0).floor().max(0.0) as usize;
    (0..seconds)
        .map(|i| {
            let second = from + i as f64 * 1000.0;
            stats::median(&strayed_from(frames, heading, second, second + 1000.0))
        })
        .collect()
}

/// The value furthest from zero (signed).
fn furthest(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    values
        .into_iter()
        .fold(None, |worst: Option<f64>, v| match worst {
            Some(w) if w.abs() >= v.abs() => Some(w),
            _ => Some(v),
        })
}

/// How far the room moved, each second, from where it was heading: what every one of `each`
/// (per viewer, per second) strayed alike, in the same direction (the smallest of them), since a
/// pull moves everyone while one viewer's own hiccup moves only it. Signed; `None` for a second
/// some viewer showed no frame in.
fn room_strayed_each_second(each: &[Vec<Option<f64>>]) -> Vec<Option<f64>> {
    let seconds = each.iter().map(Vec::len).min().unwrap_or(0);
    (0..seconds)
        .map(|i| {
            let strayed: Vec<f64> = each.iter().map(|e| e[i]).collect::<Option<_>>()?;
            let alike = strayed.iter().all(|s| s.signum() == strayed[0].signum());
            let least = strayed
                .iter()
                .map(|s| s.abs())
                .fold(f64::INFINITY, f64::min);
            Some(if alike {
                strayed[0].signum() * least
            } else {
                0.0
            })
        })
        .collect()
}

/// The first instant from `since` on at which every viewer was within [`TOGETHER_MS`] of every
/// other and stayed so for [`TOGETHER_FOR_MS`] (ms after `since`), if any.
fn together_after(records: &[Vec<Frame>], since: f64, until: f64) -> Option<f64> {
    let mut held_from: Option<f64> = None;
    for (t, positions) in film_frames::grid(records, since, until, position_at) {
        let together = positions.is_some_and(|p| range(&p) * 1000.0 <= TOGETHER_MS);
        held_from = if together {
            held_from.or(Some(t))
        } else {
            None
        };
        if held_from.is_some_and(|start| t - start >= TOGETHER_FOR_MS) {
            return held_from.map(|start| start - since);
        }
    }
    None
}

/// The display time of `frames`' first frame at or after `since` (its first frame once playing:
/// a paused page presents none).
fn first_frame_from(frames: &[Frame], since: f64) -> Option<f64> {
    frames.iter().map(|f| f.0).find(|&t| t >= since)
}

/// The three gather: Alice, Bob and Carol, in that order.
async fn gather_three(party: &Party) -> Result<[&Browser; 3]> {
    gather(party, &NAMES).await?;
    Ok(NAMES.map(|(name, _)| party.person(name)))
}

/// The three gather; Alice loads the clip; everyone waits paused on its first frame.
async fn gather_and_load(party: &Party) -> Result<[&Browser; 3]> {
    let everyone = gather_three(party).await?;
    load_clip(everyone[0]).await?;
    wait_for_sync(&everyone, false, LOOSE_MS, Some(0.0), SETTLE).await?;
    Ok(everyone)
}

/// How a scenario ended: when, the host's load over it, and every viewer's frames.
struct Ending {
    ended_at: f64,
    host: Option<CpuShares>,
    records: Vec<Vec<Frame>>,
}

/// Everyone plays on `more`; then the scenario ends: the host's load since `cpu_at_start`, and
/// the frames each viewer recorded.
async fn play_on(
    everyone: &[&Browser],
    more: Duration,
    cpu_at_start: Option<CpuTimes>,
) -> Result<Ending> {
    tokio::time::sleep(more).await;
    let ended_at = wall_ms();
    let host = host_load::shares_since(cpu_at_start);
    Ok(Ending {
        ended_at,
        host,
        records: film_frames::recorded_by_all(everyone).await?,
    })
}

/// One viewer slowed while the three play.
pub struct SlowViewer {
    /// Who was slowed ("alice" is the room's clock).
    pub slow: String,
    pub slowness: Slowness,
    /// How far each of the two others strayed from where it was heading, while the slow one was
    /// slowed and for the seconds after (per frame).
    pub others_strayed: Vec<(String, Spread)>,
    /// The same, as the worst one-second median (a drift, jitter averaged out), signed.
    pub others_worst_second_ms: Vec<(String, Option<f64>)>,
    /// How far the two others strayed alike (the room moving, not one of them hiccuping): the
    /// worst second, signed. A slow viewer pulling the others shows here.
    pub room_worst_second_ms: Option<f64>,
    /// The same for each second from the slowing on, to find the moment in the pages' consoles
    /// (whose lines carry wall times).
    pub room_each_second_ms: Vec<Option<f64>>,
    /// Wall times (ms since the epoch, as the consoles' lines) the slow one was slowed and freed.
    pub slowed_at_ms: f64,
    pub freed_at_ms: f64,
    /// The slow viewer's offset from the room's line through the others' frames while slowed.
    pub slow_offset: Spread,
    /// Its mean signed offset then (ms): behind is negative.
    pub slow_mean_ms: Option<f64>,
    /// The share of the 10 ms instants at which the slow page's own frame record placed it (the
    /// recorder runs on its slowed main thread: late callbacks leave gaps).
    pub slow_known_share: f64,
    /// Once no longer slowed, how long until it was on the room's frame (and stayed 0.5 s).
    pub back_on_frame_ms: Option<f64>,
    pub host: Option<CpuShares>,
}

impl SlowViewer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "slow": self.slow,
            "slowness": self.slowness.json(),
            "others_strayed": self.others_strayed.iter()
                .map(|(name, s)| serde_json::json!({ "viewer": name, "strayed": s.json() }))
                .collect::<Vec<_>>(),
            "others_worst_second_ms": self.others_worst_second_ms.iter()
                .map(|(name, w)| serde_json::json!({ "viewer": name, "ms": w }))
                .collect::<Vec<_>>(),
            "room_worst_second_ms": self.room_worst_second_ms,
            "room_each_second_ms": self.room_each_second_ms,
            "slowed_at_wall_ms": self.slowed_at_ms,
            "freed_at_wall_ms": self.freed_at_ms,
            "slow_offset_while_throttled": self.slow_offset.json(),
            "slow_mean_offset_while_throttled_ms": self.slow_mean_ms,
            "slow_frames_known_share": self.slow_known_share,
            "slow_back_on_frame_ms": self.back_on_frame_ms,
            "host": host_json(self.host),
        })
    }
}

/// The three play; after a few seconds `slow` is made a slow device for `slowed_for`, then set
/// free, and the three play on five seconds more.
pub async fn slow_viewer(
    party: &Party,
    slow: &str,
    slowness: Slowness,
    slowed_for: Duration,
) -> Result<SlowViewer> {
    const BEFORE: Duration = Duration::from_secs(3);
    const AFTER: Duration = Duration::from_secs(5);
    let everyone = gather_three(party).await?;
    super::actions::play_clip_together(&everyone).await?;
    record_frames(&everyone).await?;
    let recording_from = wall_ms();
    tokio::time::sleep(BEFORE).await;

    let slowed = party.person(slow);
    let cpu_at_start = CpuTimes::read();
    let slowed_at = wall_ms();
    slowness.apply(slowed).await?;
    tokio::time::sleep(slowed_for).await;
    let freed_at = wall_ms();
    slowness.lift(slowed).await?;
    let Ending {
        ended_at,
        host,
        records,
    } = play_on(&everyone, AFTER, cpu_at_start).await?;
    let slow_index = NAMES
        .iter()
        .position(|(name, _)| *name == slow)
        .context("the slow viewer is not one of the three")?;
    let before = (recording_from + 500.0, slowed_at);
    let mut others_strayed = Vec::new();
    let mut others_worst_second_ms = Vec::new();
    let mut others = Vec::new();
    let mut seconds = Vec::new();
    for (i, frames) in records.iter().enumerate() {
        if i == slow_index {
            continue;
        }
        // Without frames before the slowing, there is no heading to stray from: no figures.
        let (strayed, each_second) = match heading(frames, before) {
            Some(heading) => (
                strayed_from(frames, heading, slowed_at, ended_at),
                seconds_strayed(frames, heading, slowed_at, ended_at),
            ),
            None => (Vec::new(), Vec::new()),
        };
        others_strayed.push((NAMES[i].0.to_owned(), Spread::of_abs(&strayed)));
        others_worst_second_ms.push((
            NAMES[i].0.to_owned(),
            furthest(each_second.iter().flatten().copied()),
        ));
        seconds.push(each_second);
        others.push(frames);
    }
    let slow_frames = &records[slow_index];
    let (offsets, steps) = offsets_from_room(slow_frames, &others, slowed_at, freed_at);
    let slow_mean_ms =
        (!offsets.is_empty()).then(|| offsets.iter().sum::<f64>() / offsets.len() as f64);
    let room_each_second = room_strayed_each_second(&seconds);
    Ok(SlowViewer {
        slow: slow.to_owned(),
        slowness,
        others_strayed,
        others_worst_second_ms,
        room_worst_second_ms: furthest(room_each_second.iter().flatten().copied()),
        room_each_second_ms: room_each_second,
        slowed_at_ms: slowed_at,
        freed_at_ms: freed_at,
        slow_offset: Spread::of_abs(&offsets),
        slow_mean_ms,
        slow_known_share: offsets.len() as f64 / steps.max(1) as f64,
        back_on_frame_ms: on_frame_after(slow_frames, &others, freed_at),
        host,
    })
}

/// A start, and how the three played after it.
pub struct Start {
    /// What the scenario was ("saturated", "on canplay", "while buffering").
    pub kind: &'static str,
    /// Each viewer's first frame after the press, ms after it.
    pub first_frame_ms: Vec<(String, Option<f64>)>,
    /// From the first frame anyone showed, how long until all three were within a frame of each
    /// other for 0.5 s.
    pub together_ms: Option<f64>,
    /// The viewer the scenario is about (the saturated one, the buffering one): how long from
    /// its own first frame until it was on the others' frame for 0.5 s.
    pub subject: String,
    pub subject_on_frame_ms: Option<f64>,
    /// The spread between the three from a second after the first frame on, p50/p95/max.
    pub spread_after_a_second: Spread,
    /// What else the scenario noted (the buffering viewer's readyState at the press...).
    pub notes: serde_json::Value,
    pub host: Option<CpuShares>,
}

impl Start {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind,
            "first_frame_after_press_ms": self.first_frame_ms.iter()
                .map(|(name, ms)| serde_json::json!({ "viewer": name, "ms": ms }))
                .collect::<Vec<_>>(),
            "together_after_first_frame_ms": self.together_ms,
            "subject": self.subject,
            "subject_on_frame_after_its_first_frame_ms": self.subject_on_frame_ms,
            "spread_from_a_second_after_start": self.spread_after_a_second.json(),
            "notes": self.notes,
            "host": host_json(self.host),
        })
    }

    /// Measures a start pressed at `pressed_at`, from everyone's frames up to `ended_at`.
    fn measure(
        kind: &'static str,
        records: &[Vec<Frame>],
        subject: usize,
        pressed_at: f64,
        ended_at: f64,
        host: Option<CpuShares>,
    ) -> Start {
        let firsts: Vec<Option<f64>> = records
            .iter()
            .map(|r| first_frame_from(r, pressed_at))
            .collect();
        let started = firsts
            .iter()
            .flatten()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let others = film_frames::all_but(records, subject);
        let subject_on_frame_ms =
            firsts[subject].and_then(|first| on_frame_after(&records[subject], &others, first));
        let spread = if started.is_finite() {
            film_frames::spreads_of(records, started + 1000.0, ended_at, position_at)
        } else {
            Vec::new()
        };
        Start {
            kind,
            first_frame_ms: NAMES
                .iter()
                .zip(&firsts)
                .map(|((name, _), first)| ((*name).to_owned(), first.map(|f| f - pressed_at)))
                .collect(),
            together_ms: started
                .is_finite()
                .then(|| together_after(records, started, ended_at))
                .flatten(),
            subject: NAMES[subject].0.to_owned(),
            subject_on_frame_ms,
            spread_after_a_second: Spread::of_abs(&spread),
            notes: serde_json::Value::Null,
            host,
        }
    }
}

/// Carol's page is made a slow device, and she presses Play; she stays slow `slowed_for`, and
/// the three play on four seconds more.
pub async fn saturated_start(
    party: &Party,
    slowness: Slowness,
    slowed_for: Duration,
) -> Result<Start> {
    let everyone = gather_and_load(party).await?;
    record_frames(&everyone).await?;
    let carol = everyone[2];
    let cpu_at_start = CpuTimes::read();
    slowness.apply(carol).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pressed_at = wall_ms();
    carol.click_button("Play").await?;
    tokio::time::sleep(slowed_for).await;
    let freed_at = wall_ms();
    slowness.lift(carol).await?;
    let Ending {
        ended_at,
        host,
        records,
    } = play_on(&everyone, Duration::from_secs(4), cpu_at_start).await?;
    let mut start = Start::measure("saturated", &records, 2, pressed_at, ended_at, host);
    let (offsets, _) = offsets_from_room(
        &records[2],
        &[&records[0], &records[1]],
        pressed_at + 1000.0,
        freed_at,
    );
    start.notes = serde_json::json!({
        "slowness": slowness.json(),
        "slowed_for_ms": slowed_for.as_millis() as f64,
        "saturated_offset_while_slowed_from_a_second_after_press": Spread::of_abs(&offsets).json(),
        "saturated_on_frame_after_freed_ms": on_frame_after(&records[2], &records[..2], freed_at),
    });
    Ok(start)
}

/// Presses the film's Play button the moment the film can play (`canplay`), or as soon after
/// as the button is enabled; keeps the wall time it pressed in `window.__pressedOnCanplay`.
const PLAY_ON_CANPLAY: &str = "
    const film = arguments[0];
    document.addEventListener('canplay', (event) => {
        if (!event.target.matches || !event.target.matches(film) || window.__pressedOnCanplay) return;
        const press = () => {
            const play = document.querySelector('button[aria-label=\"Play\"]:not([disabled])');
            if (!play) { setTimeout(press, 0); return; }
            window.__pressedOnCanplay = performance.timeOrigin + performance.now();
            play.click();
        };
        press();
    }, true);";

/// Alice loads the clip and presses Play the moment her film can play; the three play on ten
/// seconds.
pub async fn start_on_canplay(party: &Party) -> Result<Start> {
    let everyone = gather_three(party).await?;
    let alice = everyone[0];
    alice
        .client
        .execute(PLAY_ON_CANPLAY, vec![serde_json::json!(FILM)])
        .await?;
    let cpu_at_start = CpuTimes::read();
    let loaded_at = wall_ms();
    load_clip(alice).await?;
    record_frames(&everyone).await?;
    let Ending {
        ended_at,
        host,
        records,
    } = play_on(&everyone, Duration::from_secs(10), cpu_at_start).await?;
    let pressed_at = alice
        .client
        .execute("return window.__pressedOnCanplay ?? null", vec![])
        .await?
        .as_f64()
        .context("Alice's page never pressed Play on canplay")?;
    // The viewer furthest from the others is the one this start is about.
    let means = film_frames::mean_offsets_from_first(&records, pressed_at + 1000.0, ended_at);
    let median = stats::median(&means).unwrap_or(0.0);
    let subject = (0..3)
        .max_by(|&a, &b| {
            (means[a] - median)
                .abs()
                .total_cmp(&(means[b] - median).abs())
        })
        .unwrap_or(0);
    let mut start = Start::measure("on canplay", &records, subject, pressed_at, ended_at, host);
    start.notes = serde_json::json!({
        "pressed_after_load_clicked_ms": pressed_at - loaded_at,
        "mean_offset_from_alice_ms": means,
    });
    Ok(start)
}

/// The film's readyState in `viewer`'s page (`None` without a film).
async fn ready_state(viewer: &Browser) -> Result<Option<u64>> {
    Ok(viewer
        .client
        .execute(
            "return document.querySelector(arguments[0])?.readyState ?? null",
            vec![serde_json::json!(FILM)],
        )
        .await?
        .as_u64())
}

/// Carol's downloads are capped at `cap` bytes a second; Alice loads the clip and, once Alice
/// and Bob show its first frame, Bob presses Play while Carol still buffers. After `held_for`
/// the cap is lifted, and the three play on eight seconds more.
pub async fn start_while_buffering(party: &Party, cap: f64, held_for: Duration) -> Result<Start> {
    let everyone = gather_three(party).await?;
    let [alice, bob, carol] = everyone;
    carol.throttle_downloads(Some(cap)).await?;
    let cpu_at_start = CpuTimes::read();
    load_clip(alice).await?;
    wait_for_sync(&[alice, bob], false, LOOSE_MS, Some(0.0), SETTLE).await?;
    record_frames(&everyone).await?;
    let carol_ready_at_press = ready_state(carol).await?;
    let pressed_at = wall_ms();
    bob.click_button("Play").await?;
    tokio::time::sleep(held_for).await;
    let carol_ready_at_release = ready_state(carol).await?;
    let freed_at = wall_ms();
    carol.throttle_downloads(None).await?;
    let Ending {
        ended_at,
        host,
        records,
    } = play_on(&everyone, Duration::from_secs(8), cpu_at_start).await?;
    let mut start = Start::measure("while buffering", &records, 2, pressed_at, ended_at, host);
    // Did the two with the film wait for Carol? Their first frames, and how far they got.
    let played_while_held: Vec<Option<f64>> = records[..2]
        .iter()
        .map(|r| {
            let during: Vec<&Frame> = r
                .iter()
                .filter(|f| f.0 >= pressed_at && f.0 < freed_at)
                .collect();
            Some((during.last()?.1 - during.first()?.1) * 1000.0)
        })
        .collect();
    start.notes = serde_json::json!({
        "download_cap_bytes_per_s": cap,
        "held_for_ms": held_for.as_millis() as f64,
        "carol_ready_state_at_press": carol_ready_at_press,
        "carol_ready_state_at_release": carol_ready_at_release,
        "alice_bob_media_ms_played_while_carol_held": played_while_held,
        "together_after_release_ms": together_after(&records, freed_at, ended_at),
    });
    Ok(start)
}
