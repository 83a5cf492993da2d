//! Binding the adapter to its `<video>` and unbinding it: the media events it follows and what
//! each one changes, the frame loop, and the timer that reports the position while paused and
//! the clock while the page is hidden.

use super::bindings::keep_pitch;
use super::frames::FrameLoop;
use super::{
    describe_media_error, millis, next_phase, MediaEvent, PlayerFailure, PlayerPhase, Shared,
};
use crate::room::wire::MediaFailure;
use crate::sync::timer_lateness::TimerLateness;
use crate::sync::{LocalTime, Span};
use crate::web::event_listener::Listener;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use std::rc::Rc;
use web_sys::HtmlVideoElement;

/// The adapter's own timer: how late this page's timers fire is measured on it, the clock of a
/// hidden page is read at each tick (see `unseen`)... A period no common one divides (the
/// refresh's 16.7 ms, a page's 50 ms chores): a tick in step with a periodic load can fire in
/// the same free moment each time and see no lateness. (At 50 ms, on the test's page busy 35 ms
/// of every 50, first starts were still called 15–56 ms late; at 47 ms the margin measured there
/// was 40–48 ms.)
const TICK_MS: f64 = 47.0;
/// ...and, while paused, the position reported at every this many (the engine still wants it
/// now and then: it has no frames to go on).
const PAUSED_REPORT_TICKS: u32 = 5;

/// How late the tick fires, measured by the tick itself, for the start timer's margin
/// ([`TimerLateness`]): the tick's period is known here only.
pub(super) fn tick_lateness() -> TimerLateness {
    TimerLateness::every(Span::from_micros((TICK_MS * 1000.0) as i64))
}

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

/// The browser callbacks bound to one element; dropping it unbinds them all.
pub(super) struct Attachment {
    pub(super) video: HtmlVideoElement,
    _listeners: Vec<Listener>,
    pub(super) frames: FrameLoop,
    _ticks: Option<Interval>,
}

impl Shared {
    pub(super) fn video(&self) -> Option<HtmlVideoElement> {
        if let Some(attached) = self.attachment.borrow().as_ref() {
            return Some(attached.video.clone());
        }
        self.node_ref.get_untracked()
    }

    pub(super) fn detach(&self) {
        self.cancel_start();
        self.cancel_seek();
        let probe = self.refresh_probe.borrow_mut().take();
        drop(probe);
        // Take first, drop after the borrow ends: dropping runs browser calls only.
        let attachment = self.attachment.borrow_mut().take();
        drop(attachment);
    }

    pub(super) fn attach(self: &Rc<Self>, element: Option<HtmlVideoElement>) {
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
        self.apply_volume(&video);
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
        let mut count = 0;
        let ticks = Some(Interval::new(millis(TICK_MS), move || {
            count = (count + 1) % PAUSED_REPORT_TICKS;
            if let Some(shared) = weak.upgrade() {
                shared
                    .timer_lateness
                    .borrow_mut()
                    .fired(LocalTime::from_millis_f64(super::now_ms()));
                shared.report_unseen_clock(&element);
                if count == 0 {
                    shared.report_paused_position(&element);
                }
            }
        }));

        *self.attachment.borrow_mut() = Some(Attachment {
            video,
            _listeners: listeners,
            frames,
            _ticks: ticks,
        });
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
            "volumechange" => self.on_volume_change(video),
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
        let (code, reason) = match video.error() {
            Some(error) => (
                error.code(),
                describe_media_error(error.code(), &error.message()),
            ),
            None => (0, describe_media_error(0, "")),
        };
        let source = self
            .source
            .try_get_untracked()
            .flatten()
            .unwrap_or_else(|| video.current_src());
        let message = format!("Could not play {}: {reason}.", shorten(&source));
        web_sys::console::warn_1(&message.clone().into());
        self.set.phase.set(PlayerPhase::Error(PlayerFailure {
            reason: MediaFailure::from_media_error(code),
            message,
        }));
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
