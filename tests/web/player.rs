//! The `<video>` adapter and the stage against Chromium's real media stack, with a 4 s, 60 fps
//! VP9 clip (tests/fixtures) played from a Blob URL. Timings are measured, logged, and held to
//! what a viewer would notice: one or two 60 Hz frames.

use crate::{test_host, window};
use insieme::room::wire::MediaFailure;
use insieme::stats;
use insieme::ui::stage::{format_clock, SourceBox, VideoStage, VideoUrl, VideoUrlProblem};
use insieme::web::player::{
    now_ms, pitch_preserved, use_video_player_with_options, FrameObservation, FrameSource,
    PlayerError, PlayerPhase, SeekReport, StartReport, UseVideoPlayer, UseVideoPlayerOptions,
};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const CLIP: &[u8] = include_bytes!("../fixtures/clip-60fps.webm");
const CLIP_SECS: f64 = 4.0;
const FRAME_MS: f64 = 1000.0 / 60.0;

fn clip_url() -> String {
    let bytes = js_sys::Uint8Array::from(CLIP);
    let parts = js_sys::Array::of1(&bytes);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("video/webm");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Polls `done` every 10 ms; fails the test with `what` after `timeout_ms`.
async fn until(what: &str, timeout_ms: f64, done: impl Fn() -> bool) {
    let deadline = now_ms() + timeout_ms;
    while !done() {
        assert!(now_ms() < deadline, "timed out waiting for {what}");
        sleep(10).await;
    }
}

/// Everything the adapter reported, in order.
#[derive(Default)]
struct Log {
    frames: Vec<FrameObservation>,
    seeks: Vec<SeekReport>,
    starts: Vec<StartReport>,
}

/// A mounted `<video>` with the adapter on it, and the log of what it reported.
struct Rig {
    player: UseVideoPlayer,
    log: Rc<RefCell<Log>>,
    host: web_sys::HtmlElement,
    mounted: Option<Box<dyn std::any::Any>>,
}

impl Rig {
    fn new(sample_frames: bool) -> Rig {
        let log = Rc::new(RefCell::new(Log::default()));
        let (l1, l2, l3) = (log.clone(), log.clone(), log.clone());
        let options = UseVideoPlayerOptions::default()
            .sample_frames(sample_frames)
            .on_frame(move |f| l1.borrow_mut().frames.push(f))
            .on_seeked(move |s| l2.borrow_mut().seeks.push(s))
            .on_started(move |s| l3.borrow_mut().starts.push(s));
        let slot = Rc::new(RefCell::new(None));
        let host = test_host();
        let slot_in = slot.clone();
        let mounted = leptos::mount::mount_to(host.clone(), move || {
            let node_ref = NodeRef::<leptos::html::Video>::new();
            *slot_in.borrow_mut() = Some(use_video_player_with_options(node_ref, options));
            view! { <video node_ref=node_ref playsinline></video> }
        });
        let player = slot.borrow_mut().take().unwrap();
        Rig {
            player,
            log,
            host,
            mounted: Some(Box::new(mounted)),
        }
    }

    fn video(&self) -> web_sys::HtmlVideoElement {
        self.player.element().expect("the video is mounted")
    }

    /// Loads the test clip (muted, so Chromium lets it play without a click) and waits for it.
    async fn load_clip(&self) {
        until("the adapter to attach", 2000.0, || {
            self.player.frame_source.get_untracked().is_some()
        })
        .await;
        self.player.set_muted(true).unwrap();
        self.player.load(&clip_url()).unwrap();
        until("the clip to be ready", 10_000.0, || {
            self.player.phase.get_untracked() == PlayerPhase::Paused
        })
        .await;
    }

    fn frames_where(&self, keep: impl Fn(&FrameObservation) -> bool) -> Vec<FrameObservation> {
        self.log
            .borrow()
            .frames
            .iter()
            .copied()
            .filter(keep)
            .collect()
    }

    fn clear(&self) {
        *self.log.borrow_mut() = Log::default();
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.mounted.take();
        self.host.remove();
    }
}

fn moving(f: &FrameObservation) -> bool {
    f.source != FrameSource::Paused
}

#[wasm_bindgen_test]
async fn frames_are_observed_at_60_fps_on_the_performance_clock() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    assert_eq!(
        rig.player.duration.get_untracked().map(|d| d.round()),
        Some(CLIP_SECS)
    );
    assert_eq!(
        rig.player.frame_source.get_untracked(),
        Some(FrameSource::VideoFrameCallback)
    );
    rig.clear();
    rig.player.play_now().unwrap();
    sleep(1500).await;
    let checked_at = now_ms();
    rig.player.pause().unwrap();

    let frames = rig.frames_where(moving);
    assert!(frames.len() > 30, "only {} frames in 1.5 s", frames.len());
    for pair in frames.windows(2) {
        assert!(
            pair[1].media_time_secs > pair[0].media_time_secs,
            "media time went back: {pair:?}"
        );
        assert!(pair[1].presented_at_ms > pair[0].presented_at_ms);
    }
    let (first, last) = (frames[0], frames[frames.len() - 1]);
    let span_ms = last.presented_at_ms - first.presented_at_ms;
    let fps = (frames.len() - 1) as f64 / span_ms * 1000.0;
    // The media clock against performance.now(), past the start's warm-up (a loaded machine
    // may stall the decoder for a moment there).
    let settled = frames
        .iter()
        .find(|f| f.presented_at_ms > first.presented_at_ms + 300.0)
        .copied()
        .unwrap_or(first);
    let slope = (last.media_time_secs - settled.media_time_secs) * 1000.0
        / (last.presented_at_ms - settled.presented_at_ms);
    let median = |v: Vec<f64>| stats::median(&v).expect("frames were presented");
    let shown_step = median(
        frames
            .windows(2)
            .map(|p| p[1].presented_at_ms - p[0].presented_at_ms)
            .collect(),
    );
    let media_step = median(
        frames
            .windows(2)
            .map(|p| (p[1].media_time_secs - p[0].media_time_secs) * 1000.0)
            .collect(),
    );
    let skipped = frames
        .windows(2)
        .filter(|p| p[1].media_time_secs - p[0].media_time_secs > 1.5 * FRAME_MS / 1000.0)
        .count();
    console_log!(
        "frames: {} in {span_ms:.0} ms = {fps:.1} fps; median {shown_step:.2} ms between frames, {media_step:.2} ms of media per frame; {skipped} gaps; media/clock slope {slope:.4}",
        frames.len()
    );
    // Every frame of the 60 fps clip at the display's 60 Hz, save the ones a busy machine
    // drops: the typical step is one frame, and at least two in three frames are seen.
    assert!(
        (FRAME_MS - shown_step).abs() < 2.0,
        "{shown_step:.2} ms between frames"
    );
    assert!(
        (FRAME_MS - media_step).abs() < 2.0,
        "{media_step:.2} ms of media per frame"
    );
    assert!((40.0..=70.0).contains(&fps), "observed {fps:.1} fps");
    assert!(
        (slope - 1.0).abs() < 0.02,
        "media advanced {slope:.3}× the clock"
    );
    // Presentation times are on performance.now(): the last one is within a few frames of now.
    assert!(
        (checked_at - last.presented_at_ms).abs() < 100.0,
        "last frame shown at {:.1}, checked at {checked_at:.1}",
        last.presented_at_ms
    );
    assert!(rig.frames_where(|f| f.presented_frames.is_some()).len() == frames.len());
}

#[wasm_bindgen_test]
async fn a_seek_lands_where_asked_and_reports_its_latency() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    for target in [2.0, 0.5, 3.25] {
        rig.clear();
        rig.player.seek_to(target).unwrap();
        until("the seek report", 3000.0, || {
            !rig.log.borrow().seeks.is_empty()
        })
        .await;
        let report = rig.log.borrow().seeks[0];
        console_log!(
            "seek to {target}: landed {:.4}, seeked after {:.1} ms, frame after {:?} ms",
            report.landed_secs,
            report.seeked_after_ms,
            report.frame_after_ms
        );
        assert_eq!(report.target_secs, target);
        // The frame shown is the one whose interval holds the target (the clip's frames sit
        // 7 ms off the 1/60 s grid, where ffmpeg put them next to the Opus pre-skip).
        let early = target - report.landed_secs;
        assert!((-1e-3..FRAME_MS / 1000.0).contains(&early), "{report:?}");
        assert!(report.seeked_after_ms > 0.0 && report.seeked_after_ms < 1000.0);
        let frame = report
            .frame_after_ms
            .expect("a paused seek presents its frame");
        assert!(frame >= report.seeked_after_ms - 2.0 * FRAME_MS && frame < 1000.0);
        assert_eq!(rig.player.last_seek.get_untracked(), Some(report));
        assert!((rig.video().current_time() - target).abs() < 0.02);
    }
    // Past the end clamps to the duration rather than failing.
    rig.player.seek_to(99.0).unwrap();
    until("the clamped seek", 3000.0, || {
        rig.player
            .last_seek
            .get_untracked()
            .is_some_and(|s| s.target_secs < 5.0 && s.target_secs > 3.9)
    })
    .await;
    assert!(matches!(
        rig.player.seek_to(f64::NAN),
        Err(PlayerError::InvalidArgument(_))
    ));
}

/// Plays 1.3 s from the start and returns how fast the media advanced against
/// `performance.now()`: by `currentTime` (median of 100 ms steps, immune to a brief stall) and by
/// the presented frames (past the start's warm-up).
async fn measure_rate(rig: &Rig, video: &web_sys::HtmlVideoElement) -> (f64, f64) {
    rig.player.seek_to(0.0).unwrap();
    sleep(100).await;
    rig.clear();
    rig.player.play_now().unwrap();
    until("playing", 3000.0, || {
        rig.player.phase.get_untracked() == PlayerPhase::Playing
    })
    .await;
    sleep(300).await;
    let mut samples = vec![(now_ms(), video.current_time())];
    let frames_from = rig.log.borrow().frames.len();
    for _ in 0..10 {
        sleep(100).await;
        samples.push((now_ms(), video.current_time()));
    }
    rig.player.pause().unwrap();
    let slopes: Vec<f64> = samples
        .windows(2)
        .map(|w| (w[1].1 - w[0].1) * 1000.0 / (w[1].0 - w[0].0))
        .collect();
    let frames: Vec<_> = rig.log.borrow().frames[frames_from..]
        .iter()
        .copied()
        .filter(moving)
        .collect();
    let (first, last) = (frames[0], frames[frames.len() - 1]);
    let frame_slope = (last.media_time_secs - first.media_time_secs) * 1000.0
        / (last.presented_at_ms - first.presented_at_ms);
    let slope = stats::median(&slopes).expect("ten steps were timed");
    (slope, frame_slope)
}

#[wasm_bindgen_test]
async fn set_rate_changes_the_playback_rate_and_keeps_the_pitch() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    rig.player.set_rate(1.25).unwrap();
    let video = rig.video();
    assert_eq!(video.playback_rate(), 1.25);
    assert_eq!(pitch_preserved(&video), Some(true));
    until("the rate signal", 1000.0, || {
        rig.player.rate.get_untracked() == 1.25
    })
    .await;

    // The slope can only come out right if the rate was applied; a machine too busy to decode
    // at 75 frames/s can make it come out wrong, so it gets three tries from the start.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let (element_slope, frame_slope) = measure_rate(&rig, &video).await;
        console_log!(
            "at rate 1.25 the media advanced {element_slope:.4}× the clock (currentTime), {frame_slope:.4}× (presented frames)"
        );
        tries.push((element_slope, frame_slope));
        if (element_slope - 1.25).abs() < 0.03 && (frame_slope - 1.25).abs() < 0.1 {
            break;
        }
    }
    let (element_slope, frame_slope) = tries[tries.len() - 1];
    assert!(
        (element_slope - 1.25).abs() < 0.03 && (frame_slope - 1.25).abs() < 0.1,
        "media advanced {tries:.3?}× (currentTime, frames)"
    );

    assert!(matches!(
        rig.player.set_rate(100.0),
        Err(PlayerError::InvalidArgument(_))
    ));
    assert!(rig.player.set_rate(0.98).is_ok());
    assert_eq!(video.playback_rate(), 0.98);
}

#[wasm_bindgen_test]
async fn play_at_starts_within_two_frames_of_the_requested_time() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    // The first start teaches the adapter how long `play()` takes here; the rest must land.
    // Judged by the median, so that one start that a busy machine delayed (other builds share
    // these two cores) does not decide; the worst is bounded too.
    let (mut errors, mut call_errors) = (Vec::new(), Vec::new());
    for (round, lead_ms) in [300.0, 200.0, 120.0, 500.0, 250.0, 180.0]
        .into_iter()
        .enumerate()
    {
        let from = round as f64 * 0.5;
        rig.player.seek_to(from).unwrap();
        until("the seek", 3000.0, || {
            rig.player
                .last_seek
                .get_untracked()
                .is_some_and(|s| s.target_secs == from)
        })
        .await;
        rig.clear();
        let start_lead = rig.player.start_lead_ms();
        let at = now_ms() + lead_ms;
        rig.player.play_at(at).unwrap();
        sleep((lead_ms / 3.0) as i32).await;
        assert!(
            rig.frames_where(moving).is_empty(),
            "playback began before its time"
        );
        until("the start report", 3000.0, || {
            !rig.log.borrow().starts.is_empty()
        })
        .await;
        let start = rig.log.borrow().starts[0];
        rig.player.pause().unwrap();
        console_log!(
            "play_at(+{lead_ms} ms): play() called {:+.2} ms (lead {start_lead:.1}), media moving {:+.2} ms from the asked time",
            start.called_at_ms - at,
            start.error_ms()
        );
        // The engine keeps time in whole microseconds, so the asked time comes back rounded.
        assert!(
            (start.requested_at_ms - at).abs() < 0.001,
            "asked for {at}, the report says {}",
            start.requested_at_ms
        );
        let call_error = start.called_at_ms - (at - start_lead);
        assert!(call_error > -0.5, "play() called {call_error:.2} ms early");
        call_errors.push(call_error);
        assert_eq!(rig.player.last_start.get_untracked(), Some(start));
        if round > 0 {
            errors.push(start.error_ms());
        }
        sleep(100).await;
    }
    let median = |v: &[f64]| stats::median(v).expect("starts were timed");
    let abs_errors: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    // Timers fire late on a busy machine (these tests share two cores with builds), so the bound
    // is "well within a frame", not a timing target; precision is measured by `bench e2e`.
    assert!(
        median(&call_errors) < FRAME_MS / 2.0,
        "play() called late: {call_errors:.2?} ms"
    );
    assert!(
        median(&abs_errors) <= FRAME_MS,
        "starts off the requested time by {errors:.1?} ms"
    );
    assert!(
        abs_errors.iter().all(|e| *e <= 8.0 * FRAME_MS),
        "a start far off: {errors:.1?} ms"
    );
}

#[wasm_bindgen_test]
async fn pause_stops_frame_observations_and_reports_the_held_position() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    rig.player.play_now().unwrap();
    until("playing", 3000.0, || {
        rig.player.phase.get_untracked() == PlayerPhase::Playing
    })
    .await;
    sleep(300).await;
    rig.player.pause().unwrap();
    until("paused", 2000.0, || {
        rig.player.phase.get_untracked() == PlayerPhase::Paused
    })
    .await;
    sleep(100).await;
    rig.clear();
    sleep(800).await;
    assert!(
        rig.frames_where(moving).is_empty(),
        "frames kept coming after pause: {:?}",
        rig.frames_where(moving)
    );
    let held = rig.frames_where(|f| f.source == FrameSource::Paused);
    assert!(
        held.len() >= 2,
        "the paused position is reported a few times a second"
    );
    let position = rig.video().current_time();
    assert!(held.iter().all(|f| f.media_time_secs == position));
}

/// A paused film is observed where play will resume (`currentTime`), not at the media time of
/// the frame it shows: the clip's first frame begins 7 ms in, and a seek into the middle of a
/// frame shows the one that began before. The engine took either for a player off its place.
#[wasm_bindgen_test]
async fn a_paused_film_is_observed_where_it_will_resume_not_at_the_frame_it_shows() {
    let rig = Rig::new(false);
    rig.load_clip().await;
    sleep(300).await;
    let check = |when: &str| {
        let position = rig.video().current_time();
        let frames = rig.frames_where(|_| true);
        assert!(!frames.is_empty(), "{when}: nothing observed");
        let elsewhere: Vec<_> = frames
            .iter()
            .filter(|f| f.source != FrameSource::Paused || f.media_time_secs != position)
            .collect();
        assert!(
            elsewhere.is_empty(),
            "{when}: observed off the held position {position}: {elsewhere:?}"
        );
    };
    check("loaded");
    // Half-way through the frame that begins at 7 ms + 29/60 s.
    let mid_frame = 0.007 + 29.5 / 60.0;
    rig.clear();
    rig.player.seek_to(mid_frame).unwrap();
    until("the seek report", 3000.0, || {
        !rig.log.borrow().seeks.is_empty()
    })
    .await;
    sleep(300).await;
    assert!((rig.video().current_time() - mid_frame).abs() < 1e-3);
    check("seeked mid-frame");
}

#[wasm_bindgen_test]
async fn a_broken_url_ends_in_the_error_phase_with_a_reason() {
    let rig = Rig::new(false);
    until("the adapter to attach", 2000.0, || {
        rig.player.frame_source.get_untracked().is_some()
    })
    .await;
    rig.player.load("/no-such-video.webm").unwrap();
    until("the error", 5000.0, || {
        matches!(rig.player.phase.get_untracked(), PlayerPhase::Error(_))
    })
    .await;
    let PlayerPhase::Error(failure) = rig.player.phase.get_untracked() else {
        unreachable!()
    };
    // The others are told only the code; the message, for this viewer, says more.
    assert_eq!(failure.reason, MediaFailure::Unplayable);
    let message = failure.message;
    console_log!("missing file: {message}");
    assert!(message.contains("/no-such-video.webm"), "{message}");
    assert!(message.contains("does not lead to a video"), "{message}");

    // Bytes that are not a video: a different reason, and commands still do not panic.
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&b"not a video at all"[..]));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    rig.player
        .load(&web_sys::Url::create_object_url_with_blob(&blob).unwrap())
        .unwrap();
    until("the second error", 5000.0, || {
        matches!(rig.player.phase.get_untracked(), PlayerPhase::Error(ref f) if f.message.contains("blob:"))
    })
    .await;
    let _ = rig.player.play_now();
    let _ = rig.player.seek_to(1.0);
    sleep(100).await;
    assert!(matches!(
        rig.player.phase.get_untracked(),
        PlayerPhase::Error(_)
    ));
    assert!(rig.player.load("  ").is_err());
}

#[wasm_bindgen_test]
async fn without_frame_callbacks_current_time_is_sampled() {
    let rig = Rig::new(true);
    rig.load_clip().await;
    assert_eq!(
        rig.player.frame_source.get_untracked(),
        Some(FrameSource::Sampled)
    );
    rig.player.play_now().unwrap();
    sleep(800).await;
    rig.player.pause().unwrap();
    let frames = rig.frames_where(moving);
    console_log!("sampled fallback: {} observations in 0.8 s", frames.len());
    assert!(frames.len() > 10);
    assert!(frames.iter().all(|f| f.source == FrameSource::Sampled));
    assert!(frames
        .windows(2)
        .all(|p| p[1].media_time_secs > p[0].media_time_secs));
    // A sampled start is still reported (coarser: to the animation frame).
    let start = rig
        .player
        .last_start
        .get_untracked()
        .expect("a start report");
    // Coarse by nature: the sample is taken on an animation frame, and nothing is learned.
    assert!(start.error_ms().abs() < 8.0 * FRAME_MS, "{start:?}");
}

#[wasm_bindgen_test]
async fn playing_with_sound_unasked_is_blocked_or_plays_never_silent() {
    // Unmuted play() without a click: Chromium's default policy refuses it; the phase must say
    // so (for the "Join playback" prompt) rather than sit paused. With autoplay allowed, it plays.
    let rig = Rig::new(false);
    rig.load_clip().await;
    rig.player.set_muted(false).unwrap();
    rig.player.play_now().unwrap();
    until("blocked or playing", 3000.0, || {
        matches!(
            rig.player.phase.get_untracked(),
            PlayerPhase::AutoplayBlocked | PlayerPhase::Playing
        )
    })
    .await;
    console_log!(
        "unmuted play() without a gesture: {:?}",
        rig.player.phase.get_untracked()
    );
    if rig.player.phase.get_untracked() == PlayerPhase::AutoplayBlocked {
        assert!(rig.player.last_start.get_untracked().is_none());
        rig.player.pause().unwrap();
        assert_eq!(rig.player.phase.get_untracked(), PlayerPhase::Paused);
    }
}

#[wasm_bindgen_test]
async fn unmounting_frees_the_player_and_commands_fail_cleanly() {
    let mut rig = Rig::new(false);
    rig.load_clip().await;
    rig.player.play_now().unwrap();
    sleep(200).await;
    rig.mounted.take();
    let count = rig.log.borrow().frames.len();
    sleep(400).await;
    assert_eq!(
        rig.log.borrow().frames.len(),
        count,
        "observed after unmount"
    );
    assert_eq!(rig.player.seek_to(1.0), Err(PlayerError::NotMounted));
    assert_eq!(rig.player.pause(), Err(PlayerError::NotMounted));
}

/// The user's intents the stage sent, in order.
#[derive(Debug, Clone, PartialEq)]
enum Intent {
    Play,
    Pause,
    Seek(f64),
}

struct StageRig {
    player: UseVideoPlayer,
    intents: Rc<RefCell<Vec<Intent>>>,
    host: web_sys::HtmlElement,
    _mounted: Box<dyn std::any::Any>,
}

impl StageRig {
    fn new() -> StageRig {
        let intents = Rc::new(RefCell::new(Vec::new()));
        let slot = Rc::new(RefCell::new(None));
        let (slot_in, i1, i2, i3) = (
            slot.clone(),
            intents.clone(),
            intents.clone(),
            intents.clone(),
        );
        let host = test_host();
        let mounted = leptos::mount::mount_to(host.clone(), move || {
            let player = use_video_player_with_options(NodeRef::new(), Default::default());
            *slot_in.borrow_mut() = Some(player);
            view! {
                <VideoStage player
                    on_play=move || i1.borrow_mut().push(Intent::Play)
                    on_pause=move || i2.borrow_mut().push(Intent::Pause)
                    on_seek=move |secs| i3.borrow_mut().push(Intent::Seek(secs))/>
            }
        });
        let player = slot.borrow_mut().take().unwrap();
        StageRig {
            player,
            intents,
            host,
            _mounted: Box::new(mounted),
        }
    }

    /// The element of that tag whose accessible name (aria-label, else text) is `name`.
    fn find(&self, tag: &str, name: &str) -> Option<web_sys::HtmlElement> {
        fn walk(element: web_sys::Element, found: &mut Vec<web_sys::Element>) {
            let mut child = element.first_element_child();
            while let Some(c) = child {
                child = c.next_element_sibling();
                found.push(c.clone());
                walk(c, found);
            }
        }
        let mut all = Vec::new();
        walk(self.host.clone().into(), &mut all);
        all.into_iter()
            .filter(|e| e.tag_name().eq_ignore_ascii_case(tag))
            .find(|e| match e.get_attribute("aria-label") {
                Some(label) => label == name,
                None => e.text_content().as_deref() == Some(name),
            })
            .map(|e| e.unchecked_into())
    }

    fn named(&self, tag: &str, name: &str) -> web_sys::HtmlElement {
        self.find(tag, name)
            .unwrap_or_else(|| panic!("no {tag} named {name:?} in {}", self.host.inner_html()))
    }

    fn press(&self, key: &str) {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        init.set_cancelable(true);
        let event =
            web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
        window()
            .document()
            .unwrap()
            .body()
            .unwrap()
            .dispatch_event(&event)
            .unwrap();
    }
}

impl Drop for StageRig {
    fn drop(&mut self) {
        self.host.remove();
    }
}

#[wasm_bindgen_test]
async fn the_stage_names_its_controls_and_sends_intents_instead_of_playing() {
    let stage = StageRig::new();
    let video: web_sys::HtmlElement = stage
        .host
        .query_selector("video")
        .unwrap()
        .expect("the stage renders a video")
        .unchecked_into();
    assert!(video.has_attribute("playsinline"));
    assert!(stage.host.text_content().unwrap().contains("No video yet"));

    until("the adapter to attach", 2000.0, || {
        stage.player.frame_source.get_untracked().is_some()
    })
    .await;
    stage.player.set_muted(true).unwrap();
    until("the muted signal", 1000.0, || {
        stage.player.muted.get_untracked()
    })
    .await;
    stage.player.load(&clip_url()).unwrap();
    until("ready", 10_000.0, || {
        stage.player.phase.get_untracked() == PlayerPhase::Paused
    })
    .await;
    sleep(50).await;

    let seek: web_sys::HtmlInputElement = stage.named("input", "Seek").unchecked_into();
    assert_eq!(seek.type_(), "range");
    assert!(!seek.disabled());
    assert!(stage.host.text_content().unwrap().contains("0:00 / 0:04"));
    let volume: web_sys::HtmlInputElement = stage.named("input", "Volume").unchecked_into();
    assert_eq!(volume.type_(), "range");
    stage.named("button", "Unmute film");
    stage.named("button", "Fullscreen");

    // Play is an intent: the stage asks, the video does not move on its own.
    stage.named("button", "Play").click();
    sleep(100).await;
    assert_eq!(*stage.intents.borrow(), vec![Intent::Play]);
    assert!(stage.player.element().unwrap().paused());

    // Once the room starts the player, the toggle offers Pause and sends that.
    stage.player.play_now().unwrap();
    until("playing", 3000.0, || {
        stage.player.phase.get_untracked() == PlayerPhase::Playing
    })
    .await;
    sleep(20).await;
    assert!(stage.find("button", "Play").is_none());
    stage.named("button", "Pause").click();
    assert_eq!(stage.intents.borrow().last(), Some(&Intent::Pause));
    stage.player.pause().unwrap();
    until("paused", 2000.0, || {
        stage.player.phase.get_untracked() == PlayerPhase::Paused
    })
    .await;

    // Keyboard: space toggles, arrows seek by 5 s within the clip.
    stage.intents.borrow_mut().clear();
    stage.player.seek_to(1.0).unwrap();
    until("the seek", 2000.0, || {
        stage.player.last_seek.get_untracked().is_some()
    })
    .await;
    stage.press(" ");
    stage.press("ArrowRight");
    stage.press("ArrowLeft");
    let end = stage.player.duration.get_untracked().unwrap();
    assert_eq!(
        *stage.intents.borrow(),
        vec![Intent::Play, Intent::Seek(end), Intent::Seek(0.0)]
    );

    // Typing in a text field is not a shortcut.
    stage.intents.borrow_mut().clear();
    seek.focus().unwrap();
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(" ");
    init.set_bubbles(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    seek.dispatch_event(&event).unwrap();
    assert!(stage.intents.borrow().is_empty());

    // Releasing the seek bar asks to seek there.
    seek.set_value("2.5");
    seek.dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    assert_eq!(*stage.intents.borrow(), vec![Intent::Seek(2.5)]);
}

#[wasm_bindgen_test]
async fn a_blocked_autoplay_shows_join_playback_which_plays_on_click() {
    let stage = StageRig::new();
    until("the adapter to attach", 2000.0, || {
        stage.player.frame_source.get_untracked().is_some()
    })
    .await;
    stage.player.load(&clip_url()).unwrap();
    until("ready", 10_000.0, || {
        stage.player.phase.get_untracked() == PlayerPhase::Paused
    })
    .await;
    stage.player.play_now().unwrap();
    until("blocked or playing", 3000.0, || {
        matches!(
            stage.player.phase.get_untracked(),
            PlayerPhase::AutoplayBlocked | PlayerPhase::Playing
        )
    })
    .await;
    if stage.player.phase.get_untracked() != PlayerPhase::AutoplayBlocked {
        console_log!("this browser autoplays with sound: no prompt to test");
        return;
    }
    sleep(20).await;
    let join = stage.named("button", "Join playback");
    // A synthetic click is not a user gesture, so Chromium may still refuse; what matters is
    // that the button is there and that pressing it never leaves the phase silently stuck.
    join.click();
    sleep(300).await;
    let phase = stage.player.phase.get_untracked();
    console_log!("after Join playback (synthetic click): {phase:?}");
    assert!(matches!(
        phase,
        PlayerPhase::AutoplayBlocked | PlayerPhase::Playing
    ));
}

#[wasm_bindgen_test]
fn video_urls_are_checked_with_clear_reasons() {
    for ok in [
        "https://example.com/movie.mp4",
        "  http://media.example.org:8080/a/b.webm?token=x#t=10  ",
        "clips/intro.ogg",
        "/videos/party.webm",
        "//cdn.example.com/x.mp4",
    ] {
        assert_eq!(
            VideoUrl::parse(ok).map(|u| u.into_string()),
            Ok(ok.trim().to_string()),
            "{ok}"
        );
    }
    assert_eq!(VideoUrl::parse("   "), Err(VideoUrlProblem::Empty));
    assert_eq!(
        VideoUrl::parse("https://exa mple.com/a.mp4"),
        Err(VideoUrlProblem::HasSpaces)
    );
    assert_eq!(
        VideoUrl::parse("file:///home/me/movie.mp4"),
        Err(VideoUrlProblem::Scheme("file".into()))
    );
    assert_eq!(
        VideoUrl::parse("https:///a.mp4"),
        Err(VideoUrlProblem::NoHost)
    );
    assert_eq!(
        VideoUrl::parse("https://www.youtube.com/watch?v=x"),
        Err(VideoUrlProblem::Page("youtube.com".into()))
    );
    assert!(VideoUrlProblem::Scheme("ftp".into())
        .to_string()
        .contains("Only http:// and https://"));
}

#[wasm_bindgen_test]
fn clock_text_is_minutes_or_hours() {
    assert_eq!(format_clock(0.0), "0:00");
    assert_eq!(format_clock(4.0), "0:04");
    assert_eq!(format_clock(65.9), "1:05");
    assert_eq!(format_clock(3600.0), "1:00:00");
    assert_eq!(format_clock(7322.0), "2:02:02");
    assert_eq!(format_clock(f64::NAN), "--:--");
}

#[wasm_bindgen_test]
async fn the_source_box_loads_valid_links_and_explains_bad_ones() {
    let loaded = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = loaded.clone();
    let host = test_host();
    let _mounted = leptos::mount::mount_to(host.clone(), move || {
        view! { <SourceBox on_load=move |url: String| sink.borrow_mut().push(url)/> }
    });
    let input: web_sys::HtmlInputElement = host
        .query_selector("#video-url")
        .unwrap()
        .expect("the Video URL box")
        .unchecked_into();
    let label = host
        .query_selector("label[for=video-url]")
        .unwrap()
        .unwrap();
    assert_eq!(label.text_content().unwrap(), "Video URL");
    let button: web_sys::HtmlElement = host
        .query_selector("button")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(button.text_content().unwrap(), "Load video");
    let type_in = |text: &str| {
        input.set_value(text);
        input
            .dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    };

    type_in("ftp://example.com/a.mp4");
    button.click();
    sleep(20).await;
    assert!(loaded.borrow().is_empty());
    let problem = host.query_selector("[role=alert]").unwrap().unwrap();
    assert!(
        problem
            .text_content()
            .unwrap()
            .contains("Only http:// and https://"),
        "{:?}",
        problem.text_content()
    );
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));

    type_in(" https://example.com/a.webm ");
    button.click();
    sleep(20).await;
    assert_eq!(
        *loaded.borrow(),
        vec!["https://example.com/a.webm".to_string()]
    );
    assert_eq!(problem.text_content().unwrap(), "");
    host.remove();
}
