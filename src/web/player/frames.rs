//! The per-frame observation loop: `requestVideoFrameCallback` where the browser has it (exact
//! media time and display time of every presented frame), otherwise `currentTime` sampled once
//! per animation frame while playing (coarser: the sample is taken at the start of a frame, not
//! when the video frame is shown).

use super::bindings::{
    cancel_video_frame, has_video_frame_callback, request_video_frame, VideoFrameMetadata,
};
use super::{ClockSample, FrameObservation, FrameSource};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlVideoElement;

type FrameHandler = Box<dyn Fn(FrameObservation)>;
/// rVFC calls `(now, metadata)`; rAF calls `(now)` and the second argument is `undefined`.
type FrameCallback = Closure<dyn FnMut(f64, JsValue)>;

/// Runs for as long as it is alive; dropping it cancels the pending callback.
pub struct FrameLoop {
    inner: Rc<LoopInner>,
}

struct LoopInner {
    video: HtmlVideoElement,
    source: FrameSource,
    /// The id of the pending rVFC or rAF request.
    pending: Cell<Option<u32>>,
    callback: RefCell<Option<FrameCallback>>,
    on_frame: FrameHandler,
    /// Last sampled `currentTime`, so the fallback reports only frames that moved.
    last_sample: Cell<f64>,
}

impl FrameLoop {
    /// Starts observing `video`; `prefer_sampling` forces the fallback (tests, broken browsers).
    pub fn start(
        video: HtmlVideoElement,
        prefer_sampling: bool,
        on_frame: impl Fn(FrameObservation) + 'static,
    ) -> FrameLoop {
        let source = if !prefer_sampling && has_video_frame_callback(&video) {
            FrameSource::VideoFrameCallback
        } else {
            FrameSource::Sampled
        };
        let inner = Rc::new(LoopInner {
            video,
            source,
            pending: Cell::new(None),
            callback: RefCell::new(None),
            on_frame: Box::new(on_frame),
            last_sample: Cell::new(f64::NAN),
        });
        let weak: Weak<LoopInner> = Rc::downgrade(&inner);
        let callback =
            Closure::<dyn FnMut(f64, JsValue)>::new(move |now: f64, metadata: JsValue| {
                if let Some(inner) = weak.upgrade() {
                    inner.pending.set(None);
                    inner.request();
                    inner.on_callback(now, metadata);
                }
            });
        *inner.callback.borrow_mut() = Some(callback);
        inner.request();
        FrameLoop { inner }
    }

    /// Which kind of observations this loop delivers.
    pub fn source(&self) -> FrameSource {
        self.inner.source
    }
}

impl Drop for FrameLoop {
    fn drop(&mut self) {
        self.inner.cancel();
        // Break the closure's hold on nothing but a weak pointer; freeing it now is what stops
        // any callback the browser might still have queued from reaching Rust.
        self.inner.callback.borrow_mut().take();
    }
}

impl LoopInner {
    fn request(&self) {
        let callback = self.callback.borrow();
        let Some(callback) = callback.as_ref() else {
            return;
        };
        let function: &js_sys::Function = callback.as_ref().unchecked_ref();
        let id = match self.source {
            FrameSource::VideoFrameCallback => request_video_frame(&self.video, function),
            _ => web_sys::window()
                .and_then(|w| w.request_animation_frame(function).ok())
                .map(|id| id as u32),
        };
        self.pending.set(id);
    }

    fn cancel(&self) {
        let Some(id) = self.pending.take() else {
            return;
        };
        match self.source {
            FrameSource::VideoFrameCallback => {
                cancel_video_frame(&self.video, id);
            }
            _ => {
                if let Some(window) = web_sys::window() {
                    let _ = window.cancel_animation_frame(id as i32);
                }
            }
        }
    }

    fn on_callback(&self, now: f64, metadata: JsValue) {
        let observation = match self.source {
            FrameSource::VideoFrameCallback => {
                let clock = read_clock(&self.video);
                let metadata: VideoFrameMetadata = metadata.unchecked_into();
                let presented_at_ms = metadata.expected_display_time();
                let media_time_secs = metadata.media_time();
                let presented_frames = metadata.presented_frames();
                FrameObservation {
                    clock,
                    media_time_secs,
                    presented_at_ms: if presented_at_ms.is_finite() {
                        presented_at_ms
                    } else {
                        now
                    },
                    presented_frames: presented_frames
                        .is_finite()
                        .then_some(presented_frames as u64),
                    source: FrameSource::VideoFrameCallback,
                }
            }
            _ => {
                let video = &self.video;
                let position = video.current_time();
                if video.paused() || video.seeking() || position == self.last_sample.get() {
                    return;
                }
                self.last_sample.set(position);
                FrameObservation {
                    media_time_secs: position,
                    presented_at_ms: now,
                    presented_frames: None,
                    source: FrameSource::Sampled,
                    clock: None,
                }
            }
        };
        if observation.media_time_secs.is_finite() {
            (self.on_frame)(observation);
        }
    }
}

/// The media clock now, while it moves. Read before anything else in a callback: the instant of
/// the read is what makes it exact, and the browser keeps the value for the rest of the task.
pub(super) fn read_clock(video: &HtmlVideoElement) -> Option<ClockSample> {
    let media_time_secs = video.current_time();
    let read_at_ms = crate::web::now_ms();
    let moving = !video.paused() && !video.seeking() && video.playback_rate() > 0.0;
    (moving && media_time_secs.is_finite()).then_some(ClockSample {
        media_time_secs,
        read_at_ms,
    })
}
