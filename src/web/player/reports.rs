//! What the adapter reports: presented frames (with the media clock read beside them), how
//! each seek and start went, and why a command could not be carried out.

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
    /// No frame: the media clock of a hidden page, which presents none (in `clock`).
    Unseen,
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
