//! Reactions on the frame (issue 20), pure: six reactions that float over the video for
//! everyone, anchored to the media time at which they were sent, so that when the room
//! rewinds past one it shows again at the same moment of the film (a time-coded track).
//!
//! - [`reaction`]: the six kinds, a reaction (id, kind, media time) and the checks on one
//!   from a peer.
//! - [`track`]: one video's reactions, deduplicated and bounded (oldest dropped).
//! - [`playhead`]: which reactions are due as the playhead moves (play, seek, rewind, pause).
//! - [`message`]: the two messages (a live reaction, a track for a newcomer) and their bounds.
//! - [`room`]: the three together for a page: its own reactions, what peers send, what to
//!   show on each frame.
//!
//! The browser glue (`web::reactions`) only feeds it frames and messages and draws what it
//! returns. `docs/reactions.md` explains the choices.

pub mod message;
pub mod playhead;
pub mod reaction;
pub mod room;
pub mod track;

pub use message::{Incoming, LiveReaction, TrackMessage};
pub use playhead::Playhead;
pub use reaction::{video_key, Reaction, ReactionId, ReactionKind, VideoKey};
pub use room::{ReactionStats, Reactions};
pub use track::{Track, MAX_TRACK};
