//! Starting playback on time: `play()` called early by the learned start lead, with a short
//! spin to the exact instant; a refused start said, not sat on; and each start measured from
//! its first moving frame, to learn the lead from.

use super::{now_ms, FrameObservation, FrameSource, PlayerPhase, Shared, StartReport};
use crate::sync::start_lead::{AtCall, PendingStart, StartProgress};
use crate::sync::{LocalTime, MediaTime};
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlMediaElement, HtmlVideoElement};

/// `play_at` sleeps with `setTimeout` until shortly before the instant (by how late this page's
/// timers fire, `crate::sync::timer_lateness`), then spins on `performance.now()`: a start is
/// rare (a play, a resync), while the page is paused, so a short spin costs no visible frame.
/// A timer later still is not waited for by more than this beyond the planned spin (a guard,
/// not a budget).
const SPIN_OVERRUN_MS: f64 = 8.0;

impl Shared {
    /// The lead a start now would be called early by (for the element's muted state).
    pub(super) fn start_lead_ms(&self) -> f64 {
        let muted = self.video().is_some_and(|video| video.muted());
        self.start_lead.borrow().of(muted).lead().as_millis_f64()
    }

    pub(super) fn cancel_start(&self) {
        let timer = self.start_timer.borrow_mut().take();
        drop(timer);
        self.start.set(None);
    }

    /// The precise part of `play_at`: spin to the instant to call `play()` (planned to take
    /// `spin_ms`), then call it.
    pub(super) fn start_now(self: &Rc<Self>, at_ms: f64, call_at_ms: f64, spin_ms: f64) {
        let Some(video) = self.video() else {
            return;
        };
        let entered = now_ms();
        let mut now = entered;
        while now < call_at_ms && now - entered < spin_ms + SPIN_OVERRUN_MS {
            now = now_ms();
        }
        crate::web::debug_log!(
            "player: play() due at {call_at_ms:.1}, entered {entered:.1} ({spin_ms:.1} ms to \
             spin), called {now:.1}"
        );
        self.start.set(Some(
            PendingStart::new(
                LocalTime::from_millis_f64(at_ms),
                LocalTime::from_millis_f64(now),
                MediaTime::from_secs_f64(video.current_time()),
                video.playback_rate(),
                AtCall {
                    paused: video.paused(),
                    seeking: video.seeking(),
                    ready_to_play: video.ready_state() >= HtmlMediaElement::HAVE_FUTURE_DATA,
                },
            )
            .muted(video.muted()),
        ));
        self.call_play(&video);
    }

    pub(super) fn call_play(self: &Rc<Self>, video: &HtmlVideoElement) {
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

    pub(super) fn check_started(&self, start: PendingStart, frame: &FrameObservation) {
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
            .of_mut(start.muted)
            .learn_start(&start, started_at, precise);
        crate::web::debug_log!("player: {report:?}, lead {:.1} ms", self.start_lead_ms());
        self.set.last_start.set(Some(report));
        if let Some(handler) = self.options.on_started.clone() {
            handler(report);
        }
    }
}
