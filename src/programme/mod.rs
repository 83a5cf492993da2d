//! The programme: the room's shared queue of videos ("Up next"), replicated peer to peer like
//! the playback state, with no server (pure; the browser glue only sends and renders it).
//!
//! - [`key`]: fractional position keys, bounded in length.
//! - [`entry`]: an entry (id, item, place) and the checks on one from a peer.
//! - [`removed`]: the tombstones, as ranges of ids per adder.

pub mod entry;
pub mod key;
pub mod removed;
