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

/// The pages from `split` on are cut from the ones before from `from_s` to `to_s` (seconds):
/// what is sent across meanwhile is lost; then the links reopen and each side greets the other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Partition {
    pub split: usize,
    pub from_s: f64,
    pub to_s: f64,
}

impl Partition {
    /// Whether pages `a` and `b` are on the same side of the cut.
    pub fn same_side(&self, a: usize, b: usize) -> bool {
        (a < self.split) == (b < self.split)
    }

    /// Every (from, to) pair of `pages` across the cut, both ways: who greets whom on healing.
    pub fn pairs_across(self, pages: usize) -> impl Iterator<Item = (usize, usize)> {
        (0..pages)
            .flat_map(move |a| (0..pages).map(move |b| (a, b)))
            .filter(move |&(a, b)| !self.same_side(a, b))
    }

    /// When the cut starts and ends, in µs of the run.
    pub fn window_us(&self) -> (i64, i64) {
        ((self.from_s * 1e6) as i64, (self.to_s * 1e6) as i64)
    }
}
