//! How early a player calls `play()` so that its media moves at the instant asked for.
//!
//! A paused, ready `<video>` takes tens of milliseconds from `play()` to moving media. The
//! player adapter learns that lead from its own measured starts and calls `play()` early by it
//! (the engine is then configured with `player_keeps_start_time`). The browser adapter and the
//! simulator's player model both use this one estimator, so the sync benchmark runs the start
//! path that ships.
//!
//! Leads are [`Span`]s: a lead is a length of time on the local clock, whatever the caller's
//! own units (the browser speaks `performance.now()` milliseconds, the simulator microseconds).

use super::time::Span;
use crate::stats;
use std::collections::VecDeque;

/// The lead before any start is measured. Guessed high: leaving rate 1.0 sets Chromium's media
/// clock back by about 20 ms, so a start that lands early is caught up with by that jump and
/// little more, while one that lands late must make up the jump as well.
pub const GUESS: Span = Span::from_millis(80);
/// How many recent starts the lead is the median of: one slow start on a busy machine must not
/// make the next ones early.
pub const HISTORY: usize = 5;
/// A measured lead above this is an outlier (a tab in the background, a debugger), and one
/// below zero is no start of this player's: neither is learned.
pub const MAX: Span = Span::from_millis(250);

/// The start lead learned from measured starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartLead {
    /// The latest accepted leads, oldest first, at most [`HISTORY`].
    recent: VecDeque<Span>,
}

impl StartLead {
    pub fn new() -> StartLead {
        StartLead::default()
    }

    /// How early to call `play()`: the median of the recent measured leads (the upper middle
    /// one of an even count, see [`crate::stats`]), or [`GUESS`] before any.
    pub fn lead(&self) -> Span {
        let micros: Vec<f64> = self.recent.iter().map(|s| s.as_micros() as f64).collect();
        stats::median(&micros).map_or(GUESS, |m| Span::from_micros(m as i64))
    }

    /// Learns one measured lead (from `play()` to the media moving). Returns false, learning
    /// nothing, for an outlier outside zero to [`MAX`].
    pub fn learn(&mut self, measured: Span) -> bool {
        if measured < Span::ZERO || measured > MAX {
            return false;
        }
        if self.recent.len() == HISTORY {
            self.recent.pop_front();
        }
        self.recent.push_back(measured);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(ms: i64) -> Span {
        Span::from_millis(ms)
    }

    #[test]
    fn guesses_until_a_start_is_measured() {
        let mut lead = StartLead::new();
        assert_eq!(lead.lead(), GUESS);
        assert!(lead.learn(ms(40)));
        assert_eq!(lead.lead(), ms(40));
    }

    #[test]
    fn one_slow_start_does_not_move_the_lead() {
        let mut lead = StartLead::new();
        for m in [40, 42, 41, 43] {
            lead.learn(ms(m));
        }
        assert!(lead.learn(ms(200)));
        assert_eq!(lead.lead(), ms(42));
    }

    #[test]
    fn follows_the_latest_starts_only() {
        let mut lead = StartLead::new();
        for m in [90, 91, 92, 93, 94] {
            lead.learn(ms(m));
        }
        assert_eq!(lead.lead(), ms(92));
        // Three faster starts: the median is one of them; the oldest are forgotten.
        for m in [40, 41, 42] {
            lead.learn(ms(m));
        }
        assert_eq!(lead.lead(), ms(42));
        // An even count takes the upper middle one.
        let mut two = StartLead::new();
        two.learn(ms(40));
        two.learn(ms(60));
        assert_eq!(two.lead(), ms(60));
    }

    #[test]
    fn outliers_are_refused() {
        let mut lead = StartLead::new();
        assert!(!lead.learn(ms(-1)));
        assert!(!lead.learn(MAX + Span::from_micros(1)));
        assert_eq!(lead.lead(), GUESS);
        assert!(lead.learn(MAX));
        assert!(lead.learn(Span::ZERO));
        assert_eq!(lead.lead(), MAX);
    }
}
