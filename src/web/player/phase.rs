//! Where the local player stands, and how media events move it. Pure: no browser types, so the
//! rules read in one place.

use crate::room::wire::MediaFailure;

/// Why the video failed here: the code the others are told, and the message this viewer
/// reads (with the browser's own detail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerFailure {
    pub reason: MediaFailure,
    pub message: String,
}

/// What the local `<video>` is doing, as the interface and the people list show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PlayerPhase {
    /// No video chosen yet.
    #[default]
    Empty,
    /// A source was set; not enough is loaded to show a frame.
    Loading,
    /// Ready, not playing (also after a pause).
    Paused,
    Playing,
    /// Wanted to play but ran out of data (`waiting`, or `stalled` with nothing ahead).
    Buffering,
    Ended,
    /// The browser refused to start without a click: the stage offers "Join playback".
    AutoplayBlocked,
    /// The source failed, with a message a person can act on.
    Error(PlayerFailure),
}

impl PlayerPhase {
    /// Short lowercase name for status lines and the people list.
    pub fn label(&self) -> &'static str {
        match self {
            PlayerPhase::Empty => "no video",
            PlayerPhase::Loading => "loading",
            PlayerPhase::Paused => "paused",
            PlayerPhase::Playing => "playing",
            PlayerPhase::Buffering => "buffering",
            PlayerPhase::Ended => "ended",
            PlayerPhase::AutoplayBlocked => "autoplay-blocked",
            PlayerPhase::Error(_) => "error",
        }
    }

    /// True while the player means to be moving: the play/pause toggle then offers "Pause".
    pub fn is_playing(&self) -> bool {
        matches!(self, PlayerPhase::Playing | PlayerPhase::Buffering)
    }

    /// True once a frame can be shown (the controls become usable).
    pub fn has_media(&self) -> bool {
        !matches!(
            self,
            PlayerPhase::Empty | PlayerPhase::Loading | PlayerPhase::Error(_)
        )
    }
}

/// The media element events that move the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    LoadStart,
    /// `loadeddata` or `canplay`: a frame is available.
    CanShow,
    Playing,
    Pause,
    Waiting,
    /// `stalled`; `starved` tells whether nothing is buffered ahead (`readyState` < 3).
    Stalled {
        starved: bool,
    },
    Seeked {
        ended: bool,
    },
    Ended,
}

/// The phase after `event`, given whether the element is paused; `None` keeps the current one.
pub fn next_phase(current: &PlayerPhase, event: MediaEvent, paused: bool) -> Option<PlayerPhase> {
    use PlayerPhase as P;
    if let P::Error(_) = current {
        // Only a new load (which sets Loading itself) leaves the error.
        return (event == MediaEvent::LoadStart).then_some(P::Loading);
    }
    match event {
        MediaEvent::LoadStart => Some(P::Loading),
        MediaEvent::CanShow => match current {
            P::Loading | P::Buffering | P::Empty if paused => Some(P::Paused),
            P::Buffering => Some(P::Playing),
            _ => None,
        },
        MediaEvent::Playing => Some(P::Playing),
        MediaEvent::Pause => match current {
            P::Ended | P::Loading | P::Empty => None,
            _ => Some(P::Paused),
        },
        MediaEvent::Waiting if !paused => Some(P::Buffering),
        MediaEvent::Waiting => None,
        MediaEvent::Stalled { starved } if starved && !paused && *current == P::Playing => {
            Some(P::Buffering)
        }
        MediaEvent::Stalled { .. } => None,
        MediaEvent::Seeked { ended } => match current {
            P::Ended if !ended => Some(if paused { P::Paused } else { P::Playing }),
            _ => None,
        },
        MediaEvent::Ended => Some(P::Ended),
    }
}

/// A person-readable reason for a `MediaError` code, with the browser's own detail if any.
pub fn describe_media_error(code: u16, detail: &str) -> String {
    let reason = match code {
        1 => "loading was aborted",
        2 => "a network error interrupted the download",
        3 => "the file could not be decoded (damaged, or a codec this browser lacks)",
        4 => "the link does not lead to a video this browser can play (unreachable, not a media file, or an unsupported format)",
        _ => "the browser reported an unknown media error",
    };
    let detail = detail.trim();
    if detail.is_empty() {
        reason.to_string()
    } else {
        format!("{reason} ({detail})")
    }
}
