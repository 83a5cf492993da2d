//! The media clock of a page nobody sees. A hidden page (a background tab, a minimized window)
//! gets no frame callbacks, so the frame loop reports nothing, while its sound plays on; so the
//! adapter's timer reads the clock instead, for the engine to keep the sound on the room's
//! timeline. (Timers still run in a hidden page: in Chromium at their rate while it plays
//! sound, once a second otherwise, when it pauses a silent film anyway.)

use super::frames::read_clock;
use super::{FrameObservation, FrameSource, Shared};
use web_sys::HtmlVideoElement;

impl Shared {
    /// Reports the media clock, with no frame, while the page is hidden and the media moves.
    pub(super) fn report_unseen_clock(&self, video: &HtmlVideoElement) {
        // Visible is the usual case: ask that first, before the clock's four JS calls.
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden());
        if !hidden {
            return;
        }
        let Some(clock) = read_clock(video) else {
            return;
        };
        let mut report = FrameObservation {
            media_time_secs: clock.media_time_secs,
            presented_at_ms: clock.read_at_ms,
            presented_frames: None,
            source: FrameSource::Unseen,
            clock: Some(clock),
        };
        self.as_browser_presents(&mut report);
        self.emit(report);
    }
}
