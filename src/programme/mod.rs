//! The programme: the room's shared queue of videos ("Up next"), replicated peer to peer like
//! the playback state, with no server (pure; the browser glue only sends and renders it).
//!
//! Anyone adds, moves and removes entries and flips repeat and shuffle; every page applies
//! its own edits at once and sends them as small pieces of state, and every page merges what
//! arrives by a join, so all pages that have seen the same edits show the same list in the
//! same order, whatever the order of arrival. A newcomer gets the whole state the same way.
//! `docs/programme.md` explains the design.
//!
//! - [`key`]: fractional position keys, bounded in length.
//! - [`entry`]: an entry (id, item, place) and the checks on one from a peer.
//! - [`removed`]: the tombstones, as ranges of ids per adder.
//! - [`delta`]: the one message, a piece of state, cut to the room's message size.
//! - [`queue`]: the state and its merge, the caps and the counters.
//! - `edit`: this page's edits.
//! - `order`: the list, the play order (shuffled or not) and what plays next.
//! - [`playing`]: which entry the room's video is, and what starts when it ends.
//! - [`ready`]: the ready check before a film starts.
//! - [`title`]: an entry's title, typed or from its link's file name.
//! - [`catalog`], [`history`], [`suggest`], [`fold`]: the Suggested tab: the deployer's
//!   catalogue, what the room watched (here and at friends'), the list filtered by a search,
//!   and the search's folding of case and accents.
//! - [`waiting`]: what waits, bounded, for the programme's code (one download with the
//!   ready check and reactions) while it is fetched.

pub mod catalog;
pub mod delta;
mod edit;
pub mod entry;
pub mod fold;
pub mod history;
pub mod key;
mod order;
pub mod playing;
pub mod queue;
pub mod ready;
pub mod removed;
pub mod suggest;
#[cfg(test)]
mod tests;
pub mod title;
pub mod waiting;

pub use delta::Delta;
pub use edit::{Edit, EditError};
pub use entry::{Entry, EntryId, Item};
pub use playing::{AtEnd, NowPlaying};
pub use queue::{Queue, QueueStats, MAX_ENTRIES};
