//! Reactions as the rest of the app sees them: what the party asks of the reactions'
//! machinery (`live`: the track, the playhead, the overlay that floats them over the film,
//! and the bar's buttons and keys 1 to 6), which is part of the programme's download
//! (`web::programme`, which also keeps the messages that arrive, and the latest frame, until
//! that code runs, and replays them so the playhead starts where the film is).
//!
//! The first load draws the bar as plain markup (`ui::reactions`): its buttons do nothing
//! until that code listens to them, which it does as the room opens; before the video's first
//! frame they would do nothing anyway. "Show reactions" is a plain checkbox
//! (`#show-reactions`) the overlay reads and the style sheet follows: no signal, no reactive
//! code in the first load.

pub(crate) mod live;

use crate::sync::MediaTime;

pub use crate::reactions::Incoming;

/// The id of the bar's `<fieldset>` (drawn by `ui::reactions`), whose clicks the code hears.
pub const BAR_ID: &str = "reaction-bar";

/// What the party asks of the running reactions (the person's presses go straight to them).
pub trait ReactionsEngine {
    fn set_video(&self, media: Option<&str>);
    fn on_frame(&self, at: MediaTime);
    fn receive(&self, from: crate::signaling::payload::SessionId, incoming: Incoming);
    /// What a newcomer gets: the current video's track.
    fn snapshot(&self) -> Option<crate::room::wire::PeerMessage>;
    /// Reaction messages refused.
    fn refused(&self) -> u64;
}
