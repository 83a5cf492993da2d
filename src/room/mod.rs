//! The room as its members see it (pure): what peers send each other over their data channels,
//! who is here, and what was said.

pub mod chat;
pub mod media_source;
pub mod people;
pub mod wire;
