//! The party's host (pure): who may hold the remote, and which signed things prove it.
//!
//! The person who starts a party makes a signing key (ECDSA P-256, in the browser, never
//! exported) and puts the hash of its public key in the link ([`KeyId`]); so everyone with
//! the link knows the host, and no member can claim to be it. The host can switch the room to
//! **Host controls**: then only the host and the co-hosts it names may change the playback
//! state or the queue, and every such change travels with a signature that every page checks
//! before the change touches its register (docs/programme.md, "The host").
//!
//! This module decides; the browser's `web::host` signs and verifies with WebCrypto and feeds
//! it only records whose signature it has checked, with the signer's key id it computed.
//! - [`key`]: key ids, public keys and signatures as they travel;
//! - [`record`]: the signed statements and the bytes a signature covers;
//! - [`authority`]: the rules (host, handovers, mode, grants) and `may_control`;
//! - [`gate`]: which playback states and queue pieces may reach the engine in host mode;
//! - [`guest_hold`]: the one unsigned write host mode accepts, a guest's bounded buffering hold;
//! - [`newcomer`]: states held until a page knows whether Host controls are on.

pub mod authority;
pub mod gate;
pub mod guest_hold;
pub mod key;
pub mod newcomer;
pub mod record;

#[cfg(test)]
mod gate_tests;
#[cfg(test)]
mod tests;

pub use authority::{Accepted, Authority, HostStats, Refused};
pub use gate::StateGate;
pub use key::{KeyId, KEY_ID_BYTES, PUBLIC_KEY_BYTES, SIGNATURE_BYTES};
pub use record::{HostMessage, Signed, Statement};
