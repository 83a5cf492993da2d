//! The HTML `<video>` adapter: what the sync engine needs from a player, and nothing it decides.
//!
//! Observations go out (the media time of every presented frame and when it is shown, on the
//! `performance.now()` clock; seek latencies; when playback really started); commands come in
//! (`load`, `seek_to`, `set_rate`, `play_at`, `pause`). The adapter knows no engine: the
//! integrator maps one onto the other. Its state (phase, duration, position, volume) is exposed
//! as signals for the stage and the people list.
//!
//! All times: media positions in seconds (`f64`, as the element speaks), local instants in
//! milliseconds on `performance.now()` (the clock `requestVideoFrameCallback` reports on).

mod bindings;
mod frames;
mod phase;
mod refresh;

pub use crate::web::now_ms;
pub use bindings::pitch_preserved;
pub use phase::{describe_media_error, next_phase, MediaEvent, PlayerPhase};

use crate::num::Clamp;
use crate::sync::start_lead::{PendingStart, StartProgress};
use crate::sync::{LocalTime, MediaTime, Span, StartLead, StepEstimator};
use crate::web::event_listener::Listener;
use bindings::keep_pitch;
use frames::FrameLoop;
use gloo_timers::callback::{Interval, Timeout};
use leptos::html::Video;
use leptos::prelude::*;
use refresh::RefreshProbe;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlVideoElement;

/// `play_at` sleeps with `setTimeout` until this close to the instant, then spins on
/// `performance.now()`: timers fire up to ~10 ms late on a busy machine, and a start is rare
/// (a play, a resync), while the page is paused, so a short spin costs no visible frame.
const SPIN_BEFORE_START_MS: f64 = 12.0;
/// Longest a late-firing timer may make the spin last (a guard, not a budget).
const MAX_SPIN_MS: f64 = 20.0;
/// How long after `seeked` to wait for the new frame before reporting the seek without it
/// (a seek to the frame already shown presents nothing new).
const SEEK_FRAME_WAIT_MS: f64 = 250.0;
/// While paused the engine still wants the position now and then (it has no frames to go on).
const PAUSED_REPORT_INTERVAL_MS: f64 = 250.0;
/// The position signal (for the seek bar) moves in steps of this, not at 60 Hz.
const POSITION_STEP_SECS: f64 = 0.1;
/// Chromium refuses rates outside this range; others clamp: reject them up front, with a reason.
const RATE_RANGE: std::ops::RangeInclusive<f64> = 0.0625..=16.0;

/// Media element events the adapter follows.
const MEDIA_EVENTS: &[&str] = &[
    "loadstart",
    "emptied",
    "loadedmetadata",
    "durationchange",
    "loadeddata",
    "canplay",
    "playing",
    "pause",
    "waiting",
    "stalled",
    "seeking",
    "seeked",
    "ended",
    "error",
    "timeupdate",
    "volumechange",
    "ratechange",
];

/// One presented frame (or, while paused, the position the element holds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameObservation {
    /// Position in the media of the frame, in seconds.
    pub media_time_secs: f64,
    /// When it is shown, in ms on the `performance.now()` clock (rVFC's `expectedDisplayTime`).
    pub presented_at_ms: f64,
    /// Frames presented since load (rVFC only): a jump of more than one means frames dropped.
    pub presented_frames: Option<u64>,
    pub source: FrameSource,
    /// The media clock read as the frame was reported, while playing (rVFC only).
    pub clock: Option<ClockSample>,
}

/// `currentTime` and the instant it was read. The media clock is continuous, where a presented
/// frame is quantized to the display's refresh; paired with the instant of the read (not the
/// callback's), it scatters by well under a millisecond in Chromium.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockSample {
    pub media_time_secs: f64,
    /// On the `performance.now()` clock.
    pub read_at_ms: f64,
}

/// How an observation was made, from the most to the least precise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameSource {
    /// `requestVideoFrameCallback`: the exact frame and its display time.
    VideoFrameCallback,
    /// `currentTime` sampled on an animation frame, where frame callbacks are missing.
    Sampled,
    /// Paused: `currentTime` now, reported a few times a second and after each pause and seek.
    Paused,
}

/// How a seek went: asked at `seek_to`, done at `seeked`, visible with the next frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeekReport {
    pub target_secs: f64,
    /// Where the element actually landed (the first new frame's media time when there is one).
    pub landed_secs: f64,
    /// `seek_to` → `seeked`, ms.
    pub seeked_after_ms: f64,
    /// `seek_to` → display time of the first frame at the new position, ms, when one was shown.
    pub frame_after_ms: Option<f64>,
}

impl SeekReport {
    /// The latency that matters to a viewer: until the new frame is shown, else until `seeked`.
    pub fn latency_ms(&self) -> f64 {
        self.frame_after_ms.unwrap_or(self.seeked_after_ms)
    }
}

/// When playback asked for by `play_at` (or `play_now`) really started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartReport {
    /// The `performance.now()` time asked for.
    pub requested_at_ms: f64,
    /// When `play()` was called: ahead of the requested time by the learned start lead.
    pub called_at_ms: f64,
    /// When the media was effectively at its start position and moving: the first new frame's
    /// display time, extrapolated back to the position playback started from.
    pub started_at_ms: f64,
}

impl StartReport {
    /// Positive when playback started late.
    pub fn error_ms(&self) -> f64 {
        self.started_at_ms - self.requested_at_ms
    }
}

/// Why a command could not be carried out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlayerError {
    #[error("the video element is not on the page")]
    NotMounted,
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Browser(String),
}

type Handler<T> = Option<Rc<dyn Fn(T)>>;

/// What the integrator hears from the adapter, beyond the signals.
#[derive(Clone, Default)]
pub struct UseVideoPlayerOptions {
    on_frame: Handler<FrameObservation>,
    on_seeked: Handler<SeekReport>,
    on_started: Handler<StartReport>,
    on_presentation_step: Handler<Span>,
    sample_frames: bool,
}

impl UseVideoPlayerOptions {
    /// Called for every presented frame, and a few times a second while paused.
    pub fn on_frame(mut self, handler: impl Fn(FrameObservation) + 'static) -> Self {
        self.on_frame = Some(Rc::new(handler));
        self
    }
    /// Called once per seek, when its new frame is shown (or `seeked` if none comes).
    pub fn on_seeked(mut self, handler: impl Fn(SeekReport) + 'static) -> Self {
        self.on_seeked = Some(Rc::new(handler));
        self
    }
    /// Called once per start, when the first moving frame is shown.
    pub fn on_started(mut self, handler: impl Fn(StartReport) + 'static) -> Self {
        self.on_started = Some(Rc::new(handler));
        self
    }
    /// Called with the step presented frames are quantized to (the finer of the display's
    /// refresh interval and the video's frame duration) once measured, and again if it changes.
    pub fn on_presentation_step(mut self, handler: impl Fn(Span) + 'static) -> Self {
        self.on_presentation_step = Some(Rc::new(handler));
        self
    }
    /// Observe by sampling `currentTime` even where frame callbacks exist (to test the fallback).
    pub fn sample_frames(mut self, sample: bool) -> Self {
        self.sample_frames = sample;
        self
    }
}

/// The player: signals to read, commands to call. `Copy`, so it can be handed to components.
#[derive(Clone, Copy)]
pub struct UseVideoPlayer {
    /// Put this on the `<video>` element (the stage does).
    pub node_ref: NodeRef<Video>,
    pub phase: ReadSignal<PlayerPhase>,
    /// Seconds, once known and finite (live streams have none).
    pub duration: ReadSignal<Option<f64>>,
    /// Seconds, for the seek bar (steps of 0.1 s; observations carry the exact value).
    pub position: ReadSignal<f64>,
    /// 0.0–1.0.
    pub volume: ReadSignal<f64>,
    pub muted: ReadSignal<bool>,
    pub rate: ReadSignal<f64>,
    /// The URL last given to `load`.
    pub source: ReadSignal<Option<String>>,
    /// How observations are made on this browser, once the element is attached.
    pub frame_source: ReadSignal<Option<FrameSource>>,
    pub last_seek: ReadSignal<Option<SeekReport>>,
    pub last_start: ReadSignal<Option<StartReport>>,
    shared: StoredValue<Rc<Shared>, LocalStorage>,
}

#[derive(Clone, Copy)]
struct Setters {
    phase: WriteSignal<PlayerPhase>,
    duration: WriteSignal<Option<f64>>,
    position: WriteSignal<f64>,
    volume: WriteSignal<f64>,
    muted: WriteSignal<bool>,
    rate: WriteSignal<f64>,
    source: WriteSignal<Option<String>>,
    frame_source: WriteSignal<Option<FrameSource>>,
    last_seek: WriteSignal<Option<SeekReport>>,
    last_start: WriteSignal<Option<StartReport>>,
}

/// The adapter with the default options (observe through the signals only).
pub fn use_video_player(node_ref: NodeRef<Video>) -> UseVideoPlayer {
    use_video_player_with_options(node_ref, UseVideoPlayerOptions::default())
}

/// The adapter: attaches to the element `node_ref` points at (and re-attaches if it changes),
/// detaches and frees every browser callback when the calling component is cleaned up.
pub fn use_video_player_with_options(
    node_ref: NodeRef<Video>,
    options: UseVideoPlayerOptions,
) -> UseVideoPlayer {
    let (phase, set_phase) = signal(PlayerPhase::Empty);
    let (duration, set_duration) = signal(None);
    let (position, set_position) = signal(0.0);
    let (volume, set_volume) = signal(1.0);
    let (muted, set_muted) = signal(false);
    let (rate, set_rate) = signal(1.0);
    let (source, set_source) = signal(None);
    let (frame_source, set_frame_source) = signal(None);
    let (last_seek, set_last_seek) = signal(None);
    let (last_start, set_last_start) = signal(None);
    let set = Setters {
        phase: set_phase,
        duration: set_duration,
        position: set_position,
        volume: set_volume,
        muted: set_muted,
        rate: set_rate,
        source: set_source,
        frame_source: set_frame_source,
        last_seek: set_last_seek,
        last_start: set_last_start,
    };
    let shared = Rc::new(Shared {
        node_ref,
        set,
        options,
        attachment: RefCell::new(None),
        seek: Cell::new(None),
        seek_timeout: RefCell::new(None),
        start: Cell::new(None),
        start_timer: RefCell::new(None),
        start_lead: RefCell::new(StartLead::new()),
        step: RefCell::new(StepEstimator::new()),
        refresh_probe: RefCell::new(None),
        last_frame: Cell::new(None),
        phase,
        position,
        source,
    });
    let stored = StoredValue::new_local(Rc::clone(&shared));

    Effect::new(move |_| {
        let element = node_ref.get();
        if let Some(shared) = stored.try_get_value() {
            shared.attach(element);
        }
    });
    on_cleanup(move || {
        if let Some(shared) = stored.try_get_value() {
            shared.detach();
        }
    });

    UseVideoPlayer {
        node_ref,
        phase,
        duration,
        position,
        volume,
        muted,
        rate,
        source,
        frame_source,
        last_seek,
        last_start,
        shared: stored,
    }
}

impl UseVideoPlayer {
    fn with_shared<T>(
        &self,
        f: impl FnOnce(&Rc<Shared>, &HtmlVideoElement) -> Result<T, PlayerError>,
    ) -> Result<T, PlayerError> {
        let shared = self.shared.try_get_value().ok_or(PlayerError::NotMounted)?;
        let video = shared.video().ok_or(PlayerError::NotMounted)?;
        f(&shared, &video)
    }

    /// The element, when mounted (for what the adapter does not cover).
    pub fn element(&self) -> Option<HtmlVideoElement> {
        self.shared.try_get_value().and_then(|s| s.video())
    }

    /// Starts loading `url` (absolute or relative to the page), paused at its start.
    pub fn load(&self, url: &str) -> Result<(), PlayerError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(PlayerError::InvalidArgument("no video URL given".into()));
        }
        self.with_shared(|shared, video| {
            shared.cancel_start();
            shared.cancel_seek();
            shared.set.source.set(Some(url.to_string()));
            shared.set.duration.set(None);
            shared.set.position.set(0.0);
            shared.set.phase.set(PlayerPhase::Loading);
            video.set_src(url);
            Ok(())
        })
    }

    /// Seeks to `secs` (clamped to the duration); `last_seek` / `on_seeked` report the latency.
    pub fn seek_to(&self, secs: f64) -> Result<(), PlayerError> {
        if !secs.is_finite() || secs < 0.0 {
            return Err(PlayerError::InvalidArgument(format!(
                "cannot seek to {} s",
                crate::web::number_text(secs)
            )));
        }
        self.with_shared(|shared, video| {
            let duration = video.duration();
            let target = if duration.is_finite() {
                secs.min(duration)
            } else {
                secs
            };
            // A start still ahead or awaiting its first frame now starts from the target.
            if let Some(mut start) = shared.start.get() {
                start.seeked(MediaTime::from_secs_f64(target));
                shared.start.set(Some(start));
            }
            shared.seek_timeout.borrow_mut().take();
            shared.seek.set(Some(PendingSeek {
                target_secs: target,
                asked_at_ms: now_ms(),
                seeked_at_ms: None,
            }));
            video.set_current_time(target);
            shared.set.position.set(target);
            Ok(())
        })
    }

    /// Sets the playback rate, keeping the pitch (small sync corrections must not be heard).
    pub fn set_rate(&self, rate: f64) -> Result<(), PlayerError> {
        if !RATE_RANGE.contains(&rate) {
            return Err(PlayerError::InvalidArgument(format!(
                "playback rate {} is outside {}–{}",
                crate::web::number_text(rate),
                crate::web::number_text(*RATE_RANGE.start()),
                crate::web::number_text(*RATE_RANGE.end())
            )));
        }
        self.with_shared(|_, video| {
            keep_pitch(video);
            video.set_playback_rate(rate);
            Ok(())
        })
    }

    /// Starts playback from the current position at `at_ms` on the `performance.now()` clock
    /// (at once if that has passed; after the seek under way, if any). `play()` is called early
    /// by the learned start lead so that the media moves at `at_ms`; `last_start` /
    /// `on_started` then say when it really did, so the caller can learn the residual.
    pub fn play_at(&self, at_ms: f64) -> Result<(), PlayerError> {
        if !at_ms.is_finite() {
            return Err(PlayerError::InvalidArgument(format!(
                "cannot start playback at {}",
                crate::web::number_text(at_ms)
            )));
        }
        self.with_shared(|shared, _| {
            shared.cancel_start();
            let call_at = shared
                .start_lead
                .borrow()
                .call_at(LocalTime::from_millis_f64(at_ms))
                .as_millis_f64();
            let wait = call_at - now_ms();
            if wait <= SPIN_BEFORE_START_MS {
                shared.start_now(at_ms, call_at);
                return Ok(());
            }
            let weak = Rc::downgrade(shared);
            let timer = Timeout::new(millis(wait - SPIN_BEFORE_START_MS), move || {
                if let Some(shared) = weak.upgrade() {
                    shared.start_timer.borrow_mut().take();
                    shared.start_now(at_ms, call_at);
                }
            });
            *shared.start_timer.borrow_mut() = Some(timer);
            Ok(())
        })
    }

    /// Starts playback now.
    pub fn play_now(&self) -> Result<(), PlayerError> {
        self.play_at(now_ms())
    }

    /// How early `play_at` calls `play()`: the learned time from `play()` to moving media (ms).
    pub fn start_lead_ms(&self) -> f64 {
        self.shared
            .try_get_value()
            .map_or(crate::sync::start_lead::GUESS.as_millis_f64(), |s| {
                s.start_lead_ms()
            })
    }

    /// Pauses, cancelling a scheduled start.
    pub fn pause(&self) -> Result<(), PlayerError> {
        self.with_shared(|shared, video| {
            shared.cancel_start();
            video.pause().map_err(|e| {
                PlayerError::Browser(crate::web::describe_js_error("could not pause", e))
            })?;
            if shared.phase.get_untracked() == PlayerPhase::AutoplayBlocked {
                shared.set.phase.set(PlayerPhase::Paused);
            }
            Ok(())
        })
    }

    /// After autoplay was blocked: call from a click (a user gesture) to start playing. The
    /// engine's next observations then show where playback is, and it corrects from there.
    pub fn join_playback(&self) -> Result<(), PlayerError> {
        self.with_shared(|shared, video| {
            shared.cancel_start();
            shared.call_play(video);
            Ok(())
        })
    }

    /// Sets the volume (0–1), unmuting when raised above zero.
    pub fn set_volume(&self, volume: f64) -> Result<(), PlayerError> {
        if !volume.is_finite() {
            return Err(PlayerError::InvalidArgument(format!(
                "volume {}",
                crate::web::number_text(volume)
            )));
        }
        self.with_shared(|_, video| {
            let volume = volume.clamp_to(0.0, 1.0);
            video.set_volume(volume);
            if volume > 0.0 && video.muted() {
                video.set_muted(false);
            }
            Ok(())
        })
    }

    pub fn set_muted(&self, muted: bool) -> Result<(), PlayerError> {
        self.with_shared(|_, video| {
            video.set_muted(muted);
            Ok(())
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct PendingSeek {
    target_secs: f64,
    asked_at_ms: f64,
    seeked_at_ms: Option<f64>,
}

/// The browser callbacks bound to one element; dropping it unbinds them all.
struct Attachment {
    video: HtmlVideoElement,
    _listeners: Vec<Listener>,
    frames: FrameLoop,
    _paused_reports: Option<Interval>,
}

struct Shared {
    node_ref: NodeRef<Video>,
    set: Setters,
    phase: ReadSignal<PlayerPhase>,
    position: ReadSignal<f64>,
    source: ReadSignal<Option<String>>,
    options: UseVideoPlayerOptions,
    attachment: RefCell<Option<Attachment>>,
    seek: Cell<Option<PendingSeek>>,
    seek_timeout: RefCell<Option<Timeout>>,
    start: Cell<Option<PendingStart>>,
    start_timer: RefCell<Option<Timeout>>,
    /// How early `play()` is called, learned from this element's measured starts.
    start_lead: RefCell<StartLead>,
    /// How finely frames can be placed: fed by refresh bursts and by consecutive frames.
    step: RefCell<StepEstimator>,
    refresh_probe: RefCell<Option<RefreshProbe>>,
    /// The previous observation, for frame durations.
    last_frame: Cell<Option<FrameObservation>>,
}

impl Shared {
    fn start_lead_ms(&self) -> f64 {
        self.start_lead.borrow().lead().as_millis_f64()
    }

    fn video(&self) -> Option<HtmlVideoElement> {
        if let Some(attached) = self.attachment.borrow().as_ref() {
            return Some(attached.video.clone());
        }
        self.node_ref.get_untracked()
    }

    fn detach(&self) {
        self.cancel_start();
        self.cancel_seek();
        let probe = self.refresh_probe.borrow_mut().take();
        drop(probe);
        // Take first, drop after the borrow ends: dropping runs browser calls only.
        let attachment = self.attachment.borrow_mut().take();
        drop(attachment);
    }

    fn attach(self: &Rc<Self>, element: Option<HtmlVideoElement>) {
        let same = match (self.attachment.borrow().as_ref(), element.as_ref()) {
            (Some(a), Some(e)) => a.video == *e,
            _ => false,
        };
        if same {
            return;
        }
        self.detach();
        let Some(video) = element else {
            return;
        };
        keep_pitch(&video);
        video.set_preload("auto");
        self.set.volume.set(video.volume());
        self.set.muted.set(video.muted());
        self.set.rate.set(video.playback_rate());

        let target: &web_sys::EventTarget = video.as_ref();
        let mut listeners = Vec::with_capacity(MEDIA_EVENTS.len());
        for &kind in MEDIA_EVENTS {
            let weak = Rc::downgrade(self);
            let element = video.clone();
            let listener = Listener::new(target, kind, move |_| {
                if let Some(shared) = weak.upgrade() {
                    shared.on_media_event(&element, kind);
                }
            });
            match listener {
                Ok(listener) => listeners.push(listener),
                Err(e) => web_sys::console::warn_1(
                    &crate::web::describe_js_error(&format!("could not follow `{kind}`"), e).into(),
                ),
            }
        }

        let weak = Rc::downgrade(self);
        let frames = FrameLoop::start(video.clone(), self.options.sample_frames, move |frame| {
            if let Some(shared) = weak.upgrade() {
                shared.on_frame(frame);
            }
        });
        self.set.frame_source.set(Some(frames.source()));
        self.measure_refresh();

        let weak = Rc::downgrade(self);
        let element = video.clone();
        let paused_reports = Some(Interval::new(
            millis(PAUSED_REPORT_INTERVAL_MS),
            move || {
                if let Some(shared) = weak.upgrade() {
                    shared.report_paused_position(&element);
                }
            },
        ));

        *self.attachment.borrow_mut() = Some(Attachment {
            video,
            _listeners: listeners,
            frames,
            _paused_reports: paused_reports,
        });
    }

    fn cancel_start(&self) {
        let timer = self.start_timer.borrow_mut().take();
        drop(timer);
        self.start.set(None);
    }

    fn cancel_seek(&self) {
        let timer = self.seek_timeout.borrow_mut().take();
        drop(timer);
        self.seek.set(None);
    }

    /// The precise part of `play_at`: spin to the instant to call `play()`, then call it.
    fn start_now(self: &Rc<Self>, at_ms: f64, call_at_ms: f64) {
        let Some(video) = self.video() else {
            return;
        };
        let entered = now_ms();
        let mut now = entered;
        while now < call_at_ms && now - entered < MAX_SPIN_MS {
            now = now_ms();
        }
        self.start.set(Some(PendingStart::new(
            LocalTime::from_millis_f64(at_ms),
            LocalTime::from_millis_f64(now),
            MediaTime::from_secs_f64(video.current_time()),
            video.playback_rate(),
            !video.seeking() && video.paused(),
        )));
        self.call_play(&video);
    }

    fn call_play(self: &Rc<Self>, video: &HtmlVideoElement) {
        let promise = match video.play() {
            Ok(promise) => promise,
            Err(e) => return self.on_play_refused(e),
        };
        let weak = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = JsFuture::from(promise).await {
                if let Some(shared) = weak.upgrade() {
                    shared.on_play_refused(e);
                }
            }
        });
    }

    fn on_play_refused(&self, error: JsValue) {
        let name = js_sys::Reflect::get(&error, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        match name.as_str() {
            // The browser wants a click first: say so, never sit silently out of sync.
            "NotAllowedError" => {
                self.start.set(None);
                if !matches!(self.phase.get_untracked(), PlayerPhase::Error(_)) {
                    self.set.phase.set(PlayerPhase::AutoplayBlocked);
                }
            }
            // A pause or a new load interrupted the start: that is what was asked.
            "AbortError" => {}
            // Unplayable sources also raise `error` on the element, which carries the message.
            _ => {
                self.start.set(None);
                web_sys::console::warn_1(
                    &crate::web::describe_js_error("the video would not play", error).into(),
                );
            }
        }
    }

    fn on_media_event(self: &Rc<Self>, video: &HtmlVideoElement, kind: &str) {
        let event = match kind {
            "loadstart" => Some(MediaEvent::LoadStart),
            "loadeddata" | "canplay" => Some(MediaEvent::CanShow),
            "playing" => Some(MediaEvent::Playing),
            "pause" => Some(MediaEvent::Pause),
            "waiting" => Some(MediaEvent::Waiting),
            "stalled" => Some(MediaEvent::Stalled {
                starved: video.ready_state() < web_sys::HtmlMediaElement::HAVE_FUTURE_DATA,
            }),
            "seeked" => Some(MediaEvent::Seeked {
                ended: video.ended(),
            }),
            "ended" => Some(MediaEvent::Ended),
            _ => None,
        };
        if let Some(event) = event {
            let current = self.phase.get_untracked();
            if let Some(next) = next_phase(&current, event, video.paused()) {
                if next != current {
                    self.set.phase.set(next);
                }
            }
        }
        match kind {
            "emptied" => {
                self.set.duration.set(None);
                self.set.position.set(0.0);
            }
            "loadedmetadata" | "durationchange" => {
                let duration = video.duration();
                self.set
                    .duration
                    .set((duration.is_finite() && duration > 0.0).then_some(duration));
            }
            "timeupdate" | "seeking" => self.set.position.set(video.current_time()),
            "volumechange" => {
                self.set.volume.set(video.volume());
                self.set.muted.set(video.muted());
            }
            "ratechange" => self.set.rate.set(video.playback_rate()),
            "error" => self.on_error(video),
            "pause" | "loadeddata" => self.report_paused_position(video),
            "seeked" => self.on_seeked(video),
            // The window may have moved to another screen since the last start.
            "playing" => self.measure_refresh(),
            _ => {}
        }
    }

    fn on_error(&self, video: &HtmlVideoElement) {
        self.cancel_start();
        self.cancel_seek();
        let reason = match video.error() {
            Some(error) => describe_media_error(error.code(), &error.message()),
            None => describe_media_error(0, ""),
        };
        let source = self
            .source
            .try_get_untracked()
            .flatten()
            .unwrap_or_else(|| video.current_src());
        let message = format!("Could not play {}: {reason}.", shorten(&source));
        web_sys::console::warn_1(&message.clone().into());
        self.set.phase.set(PlayerPhase::Error(message));
    }

    fn on_seeked(self: &Rc<Self>, video: &HtmlVideoElement) {
        self.set.position.set(video.current_time());
        let Some(mut seek) = self.seek.get() else {
            return;
        };
        seek.seeked_at_ms = Some(now_ms());
        self.seek.set(Some(seek));
        let has_frames = self
            .attachment
            .borrow()
            .as_ref()
            .is_some_and(|a| a.frames.source() == FrameSource::VideoFrameCallback);
        if !has_frames {
            self.finish_seek(video.current_time(), None);
            return;
        }
        let weak = Rc::downgrade(self);
        let element = video.clone();
        let timer = Some(Timeout::new(millis(SEEK_FRAME_WAIT_MS), move || {
            if let Some(shared) = weak.upgrade() {
                shared.finish_seek(element.current_time(), None);
            }
        }));
        *self.seek_timeout.borrow_mut() = timer;
        if video.paused() {
            self.report_paused_position(video);
        }
    }

    fn finish_seek(&self, landed_secs: f64, frame_at_ms: Option<f64>) {
        let Some(seek) = self.seek.take() else {
            return;
        };
        let timer = self.seek_timeout.borrow_mut().take();
        drop(timer);
        let seeked_at = seek.seeked_at_ms.unwrap_or_else(now_ms);
        let report = SeekReport {
            target_secs: seek.target_secs,
            landed_secs,
            seeked_after_ms: seeked_at - seek.asked_at_ms,
            frame_after_ms: frame_at_ms.map(|at| at - seek.asked_at_ms),
        };
        crate::web::debug_log!("player: {report:?}");
        self.set.last_seek.set(Some(report));
        if let Some(handler) = self.options.on_seeked.clone() {
            handler(report);
        }
    }

    /// Runs a burst of refresh measurements (replacing one under way).
    fn measure_refresh(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let probe = RefreshProbe::start(move |interval_ms| {
            if let Some(shared) = weak.upgrade() {
                shared.step.borrow_mut().refresh_interval(interval_ms);
                shared.report_step();
            }
        });
        let previous = self.refresh_probe.borrow_mut().replace(probe);
        drop(previous);
    }

    /// Learns the video's frame duration from two frames presented one after the other.
    fn learn_frame_duration(&self, frame: &FrameObservation) {
        let previous = self.last_frame.replace(Some(*frame));
        let Some(previous) = previous else { return };
        let consecutive = matches!(
            (previous.presented_frames, frame.presented_frames),
            (Some(a), Some(b)) if b == a + 1
        );
        if consecutive && frame.source == FrameSource::VideoFrameCallback {
            let duration_ms = (frame.media_time_secs - previous.media_time_secs) * 1000.0;
            self.step.borrow_mut().frame_duration(duration_ms);
            self.report_step();
        }
    }

    fn report_step(&self) {
        // The borrow ends before the handler runs: it may call straight back into the player.
        let step = self.step.borrow_mut().changed_step();
        if let (Some(step), Some(handler)) = (step, self.options.on_presentation_step.clone()) {
            handler(step);
        }
    }

    fn on_frame(&self, frame: FrameObservation) {
        self.learn_frame_duration(&frame);
        let shown = self.position.try_get_untracked().unwrap_or(0.0);
        if (frame.media_time_secs - shown).abs() >= POSITION_STEP_SECS {
            self.set.position.set(frame.media_time_secs);
        }
        if let Some(seek) = self.seek.get() {
            let at_target = (frame.media_time_secs - seek.target_secs).abs() < 0.05;
            if seek.seeked_at_ms.is_some() || at_target {
                self.finish_seek(frame.media_time_secs, Some(frame.presented_at_ms));
            }
        }
        if let Some(start) = self.start.get() {
            self.check_started(start, &frame);
        }
        self.emit(frame);
    }

    fn check_started(&self, start: PendingStart, frame: &FrameObservation) {
        let started_at = match start.on_frame(
            MediaTime::from_secs_f64(frame.media_time_secs),
            LocalTime::from_millis_f64(frame.presented_at_ms),
            frame.source != FrameSource::Paused,
        ) {
            StartProgress::Pending => return,
            // A frame far from where playback began belongs to something else (a seek).
            StartProgress::Lost => {
                self.start.set(None);
                return;
            }
            StartProgress::Started(at) => at,
        };
        self.start.set(None);
        let report = StartReport {
            requested_at_ms: start.requested_at.as_millis_f64(),
            called_at_ms: start.called_at.as_millis_f64(),
            started_at_ms: started_at.as_millis_f64(),
        };
        // The estimator refuses outliers.
        let precise = frame.source == FrameSource::VideoFrameCallback;
        self.start_lead
            .borrow_mut()
            .learn_start(&start, started_at, precise);
        crate::web::debug_log!("player: {report:?}, lead {:.1} ms", self.start_lead_ms());
        self.set.last_start.set(Some(report));
        if let Some(handler) = self.options.on_started.clone() {
            handler(report);
        }
    }

    fn report_paused_position(&self, video: &HtmlVideoElement) {
        let ready = video.ready_state() >= web_sys::HtmlMediaElement::HAVE_METADATA;
        if !video.paused() || video.seeking() || !ready {
            return;
        }
        self.emit(FrameObservation {
            media_time_secs: video.current_time(),
            presented_at_ms: now_ms(),
            presented_frames: None,
            source: FrameSource::Paused,
            clock: None,
        });
    }

    fn emit(&self, frame: FrameObservation) {
        if let Some(handler) = self.options.on_frame.clone() {
            handler(frame);
        }
    }
}

/// Keeps messages readable when the source is a long signed URL or a blob.
fn shorten(url: &str) -> String {
    const MAX: usize = 80;
    if url.chars().count() <= MAX {
        return url.to_string();
    }
    let head: String = url.chars().take(MAX - 1).collect();
    format!("{head}…")
}

/// A delay in whole milliseconds for a browser timer (negative waits fire at once).
fn millis(ms: f64) -> u32 {
    ms.max(0.0).round() as u32
}
