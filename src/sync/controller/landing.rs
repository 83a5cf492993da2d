//! A start that lands further off the timeline than the rate removes in about a second is
//! started again, once.
//!
//! The player calls `play()` early by the start lead it learned ([`crate::sync::start_lead`]),
//! and before its first measured start by a guess (80 ms in Chromium). A page whose `play()`
//! takes far longer (a saturated page: 122–189 ms) lands 60–130 ms late, and the ±5 % rate
//! needs seconds for that (4.6–5.8 s to the others' frame, `docs/measurements/slow.md`). A
//! faster first correction overshot in Chromium and broke the ±5 % bound, so instead the start
//! is made again: a catch-up (a seek to where the timeline will be, a scheduled start) timed
//! with the lead that very start just taught the player. Only once per start: a page whose lead
//! keeps changing would otherwise start again and again; the rate corrects whatever the second
//! landing leaves.

use super::{Controller, Mode, PlayerCommand};
use crate::sync::clock::RoomMap;
use crate::sync::state::Versioned;
use crate::sync::time::{LocalTime, Span};
use std::collections::VecDeque;

/// A landing the full correcting rate would need longer than this to remove is started again:
/// the second to be on the frame.
pub(super) const RESTART_BEYOND: Span = Span::from_secs(1);
/// Whether a start that landed `error` off the timeline (positive: ahead) is started again,
/// on a player whose media clock is set back by `entry_jump` (µs, as learned by
/// [`crate::sync::clock_steering`], or guessed) when a correction leaves the normal rate,
/// corrected at `max_rate_dev`.
pub(super) fn restarts(error: Span, entry_jump: f64, max_rate_dev: f64) -> bool {
    if max_rate_dev.is_nan() || max_rate_dev <= 0.0 {
        return false;
    }
    // The correction's own jump sets the clock back first: a late start pays it on top, an
    // early one is corrected by it in part.
    let to_remove = (error.0 as f64 - entry_jump).abs();
    to_remove / max_rate_dev > RESTART_BEYOND.0 as f64
}

impl Controller {
    /// Takes the first error (µs, positive ahead) measured after a start: when the start is
    /// not itself a restart and the error is too far off for the rate ([`restarts`]), catches
    /// up, once. Returns whether it did (the error is then no longer to be corrected).
    pub(super) fn restart_if_landed_off(
        &mut self,
        now: LocalTime,
        error: f64,
        v: &Versioned,
        map: &RoomMap,
        out: &mut VecDeque<PlayerCommand>,
    ) -> bool {
        // A first start is exactly when no correction measured the jump: the browser's guess
        // counts then (a Chromium start 50 ms late needs 1.4 s at 5 %, not 1 s).
        let entry_jump = if self.clock.is_reading(now) {
            self.clock.entry_jump()
        } else {
            0.0 // the frames steer: the rate moves the media smoothly
        };
        if !std::mem::take(&mut self.landing_unchecked)
            || !restarts(Span(error as i64), entry_jump, self.cfg.max_rate_dev)
            || v.playback.speed_at(map.to_room(now)) <= 0.0
            || self.latency.seeking()
        {
            return false;
        }
        let cause = self.cause_at(now);
        self.catch_up(now, v, map, cause, out);
        if let Mode::Starting { restart, .. } = &mut self.mode {
            *restart = true;
        }
        self.stats.start_restarts += 1;
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
    fn only_a_landing_the_rate_needs_over_a_second_for_is_started_again() {
        // At 5 %, a second removes 50 ms.
        assert!(!restarts(ms(-49), 0.0, 0.05));
        assert!(restarts(ms(-51), 0.0, 0.05));
        assert!(restarts(ms(51), 0.0, 0.05));
        // The saturated page's landings, 60–130 ms late.
        assert!(restarts(ms(-60), 0.0, 0.05));
        assert!(restarts(ms(-130), 0.0, 0.05));
        // At a wider bound the rate is quick enough; with none, nothing is.
        assert!(!restarts(ms(-60), 0.0, 0.10));
        assert!(!restarts(ms(-130), 0.0, 0.0));
    }

    #[test]
    fn the_clocks_entry_jump_counts() {
        // With a 20 ms jump learned: 35 ms late is 55 ms for the rate to remove, 60 ms ahead
        // only 40 ms.
        assert!(restarts(ms(-35), 20_000.0, 0.05));
        assert!(!restarts(ms(60), 20_000.0, 0.05));
    }
}
