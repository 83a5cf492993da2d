//! The browser's own way of presenting frames, applied to what the adapter reports (see
//! `crate::sync::browser_kind`): in Firefox, the clock is told half a presentation step behind
//! its reading, and the frame duration is learned from frames that are rarely consecutive.

use super::{FrameObservation, Shared};
use crate::sync::browser_kind::{frame_secs_between, BrowserKind};

/// The browser this page runs in, from its user agent.
pub(crate) fn this_browser() -> BrowserKind {
    let user_agent = web_sys::window().and_then(|w| w.navigator().user_agent().ok());
    BrowserKind::from_user_agent(user_agent.as_deref().unwrap_or_default())
}

impl Shared {
    /// Adjusts a presented frame's clock reading for this browser before the engine hears it.
    pub(super) fn as_browser_presents(&self, frame: &mut FrameObservation) {
        if self.browser.frames_keep_refresh_phase() {
            return;
        }
        if let Some(count) = frame.presented_frames {
            let latest = (frame.media_time_secs, count);
            if let Some(earlier) = self.frame_count.replace(Some(latest)) {
                if let Some(secs) = frame_secs_between(earlier, latest) {
                    // The step estimator takes the finer of this and the refresh interval
                    // (never reported to the engine here: see `report_step`).
                    self.step.borrow_mut().frame_duration(secs * 1000.0);
                }
            }
        }
        let step_secs = self.step.borrow().step().map(|s| s.as_secs_f64());
        if let Some(clock) = frame.clock.as_mut() {
            clock.media_time_secs = self
                .browser
                .clock_for_engine(clock.media_time_secs, step_secs);
        }
    }
}
