//! How two browsers reach each other (pure): the ICE plan a peer connection is made with, the
//! kind of path a link ended up on, and why a friend cannot be reached.
//!
//! The browser glue (`web::mesh`) reads `config.json`, the endpoint's welcome and
//! `RTCPeerConnection.getStats()`; everything that decides something from them lives here and
//! is tested natively.

mod ice_plan;
mod path;
mod unreachable;

pub use ice_plan::{renewal_delay_secs, IcePlan};
pub use path::{
    candidate_type, selected_path, CandidateType, LinkPath, PairStats, PathKind, RelayTransport,
    StatsRecord,
};
pub use unreachable::Unreachable;
