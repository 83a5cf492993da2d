//! Following a seek from `seek_to` to `seeked` and to the first frame at its target, to report
//! how long it took.

use super::{millis, now_ms, FrameSource, SeekReport, Shared};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use std::rc::Rc;
use web_sys::HtmlVideoElement;

/// How long after `seeked` to wait for the new frame before reporting the seek without it
/// (a seek to the frame already shown presents nothing new).
const SEEK_FRAME_WAIT_MS: f64 = 250.0;

/// A seek asked for, until its new frame is shown (or `seeked` came and the wait ran out).
#[derive(Debug, Clone, Copy)]
pub(super) struct PendingSeek {
    pub(super) target_secs: f64,
    pub(super) asked_at_ms: f64,
    pub(super) seeked_at_ms: Option<f64>,
}

impl Shared {
    pub(super) fn cancel_seek(&self) {
        let timer = self.seek_timeout.borrow_mut().take();
        drop(timer);
        self.seek.set(None);
    }

    pub(super) fn on_seeked(self: &Rc<Self>, video: &HtmlVideoElement) {
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

    pub(super) fn finish_seek(&self, landed_secs: f64, frame_at_ms: Option<f64>) {
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
}
