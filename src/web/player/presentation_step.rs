//! Learning the step presented frames are quantized to: the display's refresh interval from
//! bursts of animation frames, the video's frame duration from consecutive frames; the
//! integrator hears the finer of the two whenever it changes, and how precisely the picture is
//! known from them (`BrowserKind::picture_within`).

use super::refresh::RefreshProbe;
use super::{FrameObservation, FrameSource, Shared};
use std::rc::Rc;

impl Shared {
    /// Runs a burst of refresh measurements (replacing one under way).
    pub(super) fn measure_refresh(self: &Rc<Self>) {
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
    pub(super) fn learn_frame_duration(&self, frame: &FrameObservation) {
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
        self.report_picture_within();
        // Frames that keep no phase on the refresh (Firefox) are not steered onto a grid.
        if !self.browser.frames_keep_refresh_phase() {
            return;
        }
        // The borrow ends before the handler runs: it may call straight back into the player.
        let step = self.step.borrow_mut().changed_step();
        if let (Some(step), Some(handler)) = (step, self.options.on_presentation_step.clone()) {
            handler(step);
        }
    }

    /// Tells the integrator how precisely the picture is known, when that changed.
    fn report_picture_within(&self) {
        let within = {
            let step = self.step.borrow();
            self.browser
                .picture_within(step.refresh(), step.picture_locked_to_refresh())
        };
        if within.is_none() || self.picture_within.replace(within) == within {
            return;
        }
        if let (Some(within), Some(handler)) = (within, self.options.on_picture_within.clone()) {
            handler(within);
        }
    }
}
