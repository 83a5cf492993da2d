//! What the programme's small loops (the queue storm, the ready rush, the host relay) share
//! about the room they run in: one film, a room time far from zero, and the engine's leads on
//! their WAN links.

use insieme::sync::state::Leads;
use insieme::sync::Span;

/// A room time far from zero (µs), so that clock errors never make it negative.
pub const BASE_US: i64 = 1_000_000_000_000;

/// What the engine's leads come to on the scenarios' WAN links (RTT 120 ms).
pub const WAN_LEADS: Leads = Leads {
    arrive: Span::from_millis(140),
    start: Span::from_millis(200),
    seek: Span::from_millis(400),
    load: Span::from_millis(1140),
};

/// The film the room plays.
pub const FILM: &str = "https://videos.example/film.webm";
