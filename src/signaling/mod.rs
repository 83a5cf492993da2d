//! What browsers say to each other through the signaling endpoint (pure; no I/O).
//!
//! Two layers: the endpoint's own protocol v1 (`endpoint`: JSON frames routing opaque data,
//! specified in signal/PROTOCOL.md), and what travels sealed inside that opaque data
//! (`payload`: hello, session descriptions, ICE candidates), which only the room's members read.
//! `admission` keeps the order the endpoint admitted the peers in (the room's ranks).

pub mod admission;
pub mod endpoint;
pub mod payload;
