//! Insieme: watch a video together, in sync, peer to peer, from the browser.
//!
//! The pure core (room links, configuration, how peers reach each other, the mesh's decisions,
//! the video call's decisions, the sync engine, sample statistics) builds and tests natively; the
//! browser glue (`web`) and the interface (`ui`) exist only in the wasm build.

pub mod base64url;
pub mod call;
pub mod config;
pub mod connectivity;
pub mod json;
pub mod keyboard;
pub mod mesh;
pub mod num;
pub mod programme;
pub mod reactions;
pub mod room;
pub mod room_link;
pub mod signaling;
pub mod stats;
pub mod sync;

#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod web;
