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

mod attachment;
mod bindings;
mod browser_frames;
mod frames;
mod options;
mod phase;
mod presentation_step;
mod refresh;
mod reports;
mod seeks;
mod starts;
mod unseen;

pub use crate::web::now_ms;
pub use bindings::pitch_preserved;
pub(crate) use browser_frames::this_browser;
pub use options::UseVideoPlayerOptions;
pub use phase::{describe_media_error, next_phase, MediaEvent, PlayerFailure, PlayerPhase};
pub use reports::{
    ClockSample, FrameObservation, FrameSource, PlayerError, SeekReport, StartReport,
};

use crate::num::Clamp;
use crate::sync::start_lead::{PendingStart, StartLeads};
use crate::sync::timer_lateness::TimerLateness;
use crate::sync::{LocalTime, MediaTime, StepEstimator};
use crate::web::set_if_changed;
use attachment::Attachment;
use bindings::keep_pitch;
use gloo_timers::callback::Timeout;
use leptos::html::Video;
use leptos::prelude::*;
use refresh::RefreshProbe;
use seeks::PendingSeek;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use web_sys::HtmlVideoElement;

/// The position signal (for the seek bar) moves in steps of this, not at 60 Hz.
const POSITION_STEP_SECS: f64 = 0.1;
/// Chromium refuses rates outside this range; others clamp: reject them up front, with a reason.
const RATE_RANGE: std::ops::RangeInclusive<f64> = 0.0625..=16.0;

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
    let browser = browser_frames::this_browser();
    let shared = Rc::new(Shared {
        browser,
        frame_count: Cell::new(None),
        node_ref,
        set,
        options,
        attachment: RefCell::new(None),
        seek: Cell::new(None),
        seek_timeout: RefCell::new(None),
        start: Cell::new(None),
        start_timer: RefCell::new(None),
        timer_lateness: RefCell::new(attachment::tick_lateness()),
        start_lead: RefCell::new(StartLeads::with_guesses(
            browser.start_lead_guess(),
            browser.muted_start_lead_guess(),
        )),
        step: RefCell::new(StepEstimator::new()),
        picture_within: Cell::new(None),
        refresh_probe: RefCell::new(None),
        last_frame: Cell::new(None),
        chosen_volume: Cell::new(1.0),
        volume_gain: Cell::new(1.0),
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
        self.with_shared(|shared, video| {
            shared.cancel_start();
            let call_at = shared
                .start_lead
                .borrow()
                .of(video.muted())
                .call_at(LocalTime::from_millis_f64(at_ms))
                .as_millis_f64();
            let wait = call_at - now_ms();
            let spin = shared.timer_lateness.borrow().spin_margin().as_millis_f64();
            if wait <= spin {
                shared.start_now(at_ms, call_at, spin);
                return Ok(());
            }
            let weak = Rc::downgrade(shared);
            let timer = Timeout::new(millis(wait - spin), move || {
                if let Some(shared) = weak.upgrade() {
                    shared.start_timer.borrow_mut().take();
                    shared.start_now(at_ms, call_at, spin);
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
        self.with_shared(|shared, video| {
            let volume = volume.clamp_to(0.0, 1.0);
            shared.chosen_volume.set(volume);
            shared.apply_volume(video);
            if volume > 0.0 && video.muted() {
                video.set_muted(false);
            }
            Ok(())
        })
    }

    /// Refuses to load what the room asked for, saying why (`why` becomes the error phase the
    /// person sees and the others are told), and empties the element.
    pub fn refuse(&self, why: String) -> Result<(), PlayerError> {
        let failure = PlayerFailure {
            reason: crate::room::wire::MediaFailure::Refused,
            message: why,
        };
        self.with_shared(|shared, video| {
            shared.cancel_start();
            shared.cancel_seek();
            shared.set.source.set(None);
            shared.set.duration.set(None);
            shared.set.position.set(0.0);
            let _ = video.remove_attribute("src");
            video.load();
            shared.set.phase.set(PlayerPhase::Error(failure));
            Ok(())
        })
    }

    /// Scales the element's volume by `gain` (0–1) below the person's own choice, which the
    /// `volume` signal keeps showing: smart volume lowers the film while friends speak.
    pub fn set_volume_gain(&self, gain: f64) -> Result<(), PlayerError> {
        if !gain.is_finite() {
            return Err(PlayerError::InvalidArgument("volume gain".into()));
        }
        self.with_shared(|shared, video| {
            shared.volume_gain.set(gain.clamp_to(0.0, 1.0));
            shared.apply_volume(video);
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

/// The adapter's state, shared by its commands and the browser callbacks (which hold it
/// weakly). Its jobs live beside this file: binding to the element (`attachment`), seeks
/// (`seeks`), starts (`starts`), the presentation step (`presentation_step`); the frames' flow
/// to the integrator is below.
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
    /// How late this page's timers fire: the start timer is set early by that, to spin the rest.
    timer_lateness: RefCell<TimerLateness>,
    /// How early `play()` is called, learned from this element's measured starts (muted and
    /// audible apart).
    start_lead: RefCell<StartLeads>,
    /// How finely frames can be placed: fed by refresh bursts and by consecutive frames.
    step: RefCell<StepEstimator>,
    /// How far either way the picture may be from its frames' times, as last reported.
    picture_within: Cell<Option<crate::sync::Span>>,
    /// The browser, where it presents frames its own way (`browser_frames`)...
    browser: crate::sync::browser_kind::BrowserKind,
    /// ...and the latest frame callback's (media time, frames presented), to learn the frame
    /// duration where frames are rarely consecutive (Firefox).
    frame_count: Cell<Option<(f64, u64)>>,
    refresh_probe: RefCell<Option<RefreshProbe>>,
    /// The previous observation, for frame durations.
    last_frame: Cell<Option<FrameObservation>>,
    /// The volume the person chose (0–1), and the gain smart volume applies below it: the
    /// element plays at their product.
    chosen_volume: Cell<f64>,
    volume_gain: Cell<f64>,
}

impl Shared {
    /// Every observation from the frame loop: the position signal, a seek or start waiting
    /// for its frame, then the integrator.
    fn on_frame(&self, mut frame: FrameObservation) {
        self.as_browser_presents(&mut frame);
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
        self.emit(self.as_held_position(frame));
    }

    /// A frame shown while the element is paused, as the position play will resume from: its
    /// `currentTime`. The frame's own media time may lie after it (a clip whose first frame
    /// begins after zero, as WebM files often do: 7 ms in the test clip) or before it (a seek
    /// into the middle of a frame shows the frame that began earlier). The engine compares a
    /// paused player's position with the timeline's, and took either for a player off its place:
    /// it planned the next start as one that needs a seek first, which a start pressed the
    /// moment the film could play leaves no time for, so the viewer caught up alone.
    ///
    /// A paused seek's frame can be presented before the element stops seeking; `currentTime`
    /// is the seek's target by then, so that frame too is held there (passed on as the frame it
    /// was, the in-browser test saw a paused film 8.7 ms before its place, now and then).
    fn as_held_position(&self, frame: FrameObservation) -> FrameObservation {
        let attachment = self.attachment.borrow();
        let Some(video) = attachment.as_ref().map(|a| &a.video) else {
            return frame;
        };
        if frame.source != FrameSource::VideoFrameCallback || !video.paused() {
            return frame;
        }
        held_at(video, frame.presented_at_ms)
    }

    fn apply_volume(&self, video: &HtmlVideoElement) {
        video.set_volume(self.chosen_volume.get() * self.volume_gain.get());
        set_if_changed(self.set.volume, self.chosen_volume.get());
    }

    /// The element's volume changed: by us (nothing new), or by someone else (the browser's own
    /// controls), whose change becomes the person's choice.
    fn on_volume_change(&self, video: &HtmlVideoElement) {
        let gain = self.volume_gain.get();
        let ours = self.chosen_volume.get() * gain;
        if (video.volume() - ours).abs() > 1e-3 && gain > 0.0 {
            self.chosen_volume
                .set((video.volume() / gain).clamp_to(0.0, 1.0));
        }
        // Smart volume moves the element up to fifty times a second: the controls showing the
        // person's volume redraw only when it is theirs that changed.
        set_if_changed(self.set.volume, self.chosen_volume.get());
        set_if_changed(self.set.muted, video.muted());
    }

    fn report_paused_position(&self, video: &HtmlVideoElement) {
        let ready = video.ready_state() >= web_sys::HtmlMediaElement::HAVE_METADATA;
        if !video.paused() || video.seeking() || !ready {
            return;
        }
        self.emit(held_at(video, now_ms()));
    }

    fn emit(&self, frame: FrameObservation) {
        if let Some(handler) = self.options.on_frame.clone() {
            handler(frame);
        }
    }
}

/// A paused element's position (`currentTime`: where play will resume), observed at `at_ms`.
fn held_at(video: &HtmlVideoElement, at_ms: f64) -> FrameObservation {
    FrameObservation {
        media_time_secs: video.current_time(),
        presented_at_ms: at_ms,
        presented_frames: None,
        source: FrameSource::Paused,
        clock: None,
    }
}

/// A delay in whole milliseconds for a browser timer (negative waits fire at once).
fn millis(ms: f64) -> u32 {
    ms.max(0.0).round() as u32
}
