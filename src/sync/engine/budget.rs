//! Each peer's budget of playback states: a token bucket, kept in time so that it needs no
//! floats. A peer may change the room's state a few times a second with a burst; what goes
//! over is dropped and counted, and the peer's hellos bring its latest state again once the
//! budget refills, so an honest writer over it loses nothing but time.

use crate::sync::time::{LocalTime, Span};

/// What one state costs: four a second, a person's fastest clicking, held up.
const WRITE_COST: Span = Span::from_millis(250);
/// The burst allowed on top: a storm of play, pause and seek in a couple of seconds (the
/// simulator's storm scenario gives a peer up to a dozen) still goes through whole.
const WRITE_BURST: i64 = 16;
const FULL: Span = Span(WRITE_COST.0 * WRITE_BURST);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct WriteBudget {
    left: Span,
    at: LocalTime,
}

impl WriteBudget {
    /// A full budget at `now`.
    pub(super) fn new(now: LocalTime) -> WriteBudget {
        WriteBudget {
            left: FULL,
            at: now,
        }
    }

    /// Spends one state's cost at `now` (never before the last call) if the budget has it.
    pub(super) fn spend(&mut self, now: LocalTime) -> bool {
        self.left = (self.left + (now - self.at).max(Span::ZERO)).min(FULL);
        self.at = self.at.max(now);
        let ok = self.left >= WRITE_COST;
        if ok {
            self.left = self.left - WRITE_COST;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_four_a_second() {
        let t0 = LocalTime(1_000_000);
        let mut b = WriteBudget::new(t0);
        let burst = (0..100).take_while(|_| b.spend(t0)).count();
        assert_eq!(burst as i64, WRITE_BURST);
        // Ten seconds of a write every 10 ms: four a second get through.
        let through = (1..=1000)
            .filter(|i| b.spend(t0 + Span::from_millis(10 * i)))
            .count();
        assert_eq!(through, 40);
        // Idle, it refills to the burst and no further.
        let later = t0 + Span::from_secs(3600);
        assert_eq!(
            (0..100).take_while(|_| b.spend(later)).count() as i64,
            WRITE_BURST
        );
    }
}
