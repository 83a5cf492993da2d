//! How late this page's timers fire, so that a start's timer is set early enough to spin to its
//! instant.
//!
//! The player sleeps on a timer until shortly before it calls `play()`, then spins on the clock
//! to the exact instant. A timer cannot fire while a long task holds the page's main thread: on
//! a saturated page (busy 35 ms of every 50 and slowed fivefold, `docs/measurements/slow.md`)
//! the start's timer fired 56–114 ms late, past the 12 ms the spin used to cover, and the start
//! landed that much late. Measured from the player's own repeating timer, the margin follows the
//! page: 12 ms on an idle page, the longest recent lateness and a little more on a busy one,
//! bounded, for a spin blocks the page for as long as it lasts.

use super::time::{LocalTime, Span};
use std::collections::VecDeque;

/// The spin's margin on a page whose timers fire on time: timers fire up to ~10 ms late on a
/// busy machine.
pub const MIN_MARGIN: Span = Span::from_millis(12);
/// The most a start's spin is planned for: a page whose timers are later than this is starved
/// beyond what blocking it further can mend. It covers the saturated page's 56–114 ms
/// (2026-12-07).
pub const MAX_MARGIN: Span = Span::from_millis(150);
/// Added to the longest recent lateness: the next long task may run a little longer.
const SLACK: Span = Span::from_millis(8);
/// How many recent firings the margin looks back over (about a second of the player's 47 ms
/// timer).
const RECENT: usize = 20;
/// A gap this many periods long is a throttled page (a hidden tab fires timers once a second),
/// not a lateness a spin could cover: it is not counted.
const THROTTLED_PERIODS: i64 = 4;

/// Lateness of the firings of a timer that repeats every `period`, recent ones only.
#[derive(Clone, Debug)]
pub struct TimerLateness {
    period: Span,
    last_fired: Option<LocalTime>,
    recent: VecDeque<Span>,
}

impl TimerLateness {
    /// For a timer that repeats every `period`.
    pub fn every(period: Span) -> TimerLateness {
        TimerLateness {
            period,
            last_fired: None,
            recent: VecDeque::new(),
        }
    }

    /// The timer fired at `at`: how much longer than its period the gap from its previous
    /// firing was.
    pub fn fired(&mut self, at: LocalTime) {
        let Some(last) = self.last_fired.replace(at) else {
            return;
        };
        let gap = at - last;
        if gap < Span::ZERO || gap.0 > self.period.0.saturating_mul(THROTTLED_PERIODS) {
            return;
        }
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        self.recent.push_back((gap - self.period).max(Span::ZERO));
    }

    /// How long before `play()` is due the start's timer is set, to spin the rest.
    pub fn spin_margin(&self) -> Span {
        let latest = self.recent.iter().copied().max().unwrap_or(Span::ZERO);
        (latest + SLACK).max(MIN_MARGIN).min(MAX_MARGIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_at(lateness: &mut TimerLateness, ms: &[i64]) {
        for &ms in ms {
            lateness.fired(LocalTime::from_micros(ms * 1000));
        }
    }

    #[test]
    fn an_idle_page_spins_the_least() {
        let mut lateness = TimerLateness::every(Span::from_millis(50));
        assert_eq!(lateness.spin_margin(), MIN_MARGIN, "nothing measured yet");
        fire_at(&mut lateness, &[0, 50, 101, 150, 201]);
        assert_eq!(lateness.spin_margin(), MIN_MARGIN);
    }

    #[test]
    fn a_page_busy_in_long_tasks_spins_past_them() {
        let mut lateness = TimerLateness::every(Span::from_millis(50));
        // A 35 ms task held one firing back; the next came on the interval's own schedule.
        fire_at(&mut lateness, &[0, 50, 135, 150, 200]);
        assert_eq!(lateness.spin_margin(), Span::from_millis(35 + 8));
    }

    #[test]
    fn the_margin_is_bounded_and_forgets() {
        let mut lateness = TimerLateness::every(Span::from_millis(50));
        fire_at(&mut lateness, &[0, 195]);
        assert_eq!(lateness.spin_margin(), MAX_MARGIN, "145 ms late: capped");
        let on_time: Vec<i64> = (1..=RECENT as i64).map(|n| 195 + n * 50).collect();
        fire_at(&mut lateness, &on_time);
        assert_eq!(lateness.spin_margin(), MIN_MARGIN, "a second on time later");
    }

    #[test]
    fn a_throttled_or_backwards_gap_is_not_lateness() {
        let mut lateness = TimerLateness::every(Span::from_millis(50));
        // A hidden tab's timer once a second, then a clock that went backwards.
        fire_at(&mut lateness, &[0, 1000, 2000, 1990]);
        assert_eq!(lateness.spin_margin(), MIN_MARGIN);
    }
}
