//! The room as its members see it (pure): what peers send each other over their data channels,
//! who is here, what was said, and how much each member may make the others do.

pub mod chat;
pub mod host;
pub mod limits;
pub mod media_source;
pub mod people;
pub mod shown_offset;
pub mod wire;
