//! The controller's named instants, in one table instead of loose deadline fields.
//!
//! Modelled on quinn-proto's `TimerTable`: an enum names each timer, and an array indexed by it
//! holds the instant it expires at (`None`: not running). None of these wakes the controller:
//! each is read when a seek is decided (which cause it is attributed to, whether back-off lets
//! it happen). The instants the controller must be woken at belong to its mode and to the clock
//! steering, and [`Controller::deadline`](super::Controller::deadline) lists them by name; so the
//! table has no `next_timeout`: putting these instants into the controller's deadline would wake
//! the engine for nothing.

use crate::sync::time::LocalTime;

/// The controller's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Timer {
    /// Until then, seeks are attributed to the state change just planned
    /// ([`SeekCause::Intent`](super::SeekCause::Intent)).
    IntentGrace,
    /// Until then, seeks are attributed to joining the room or its timeline changing
    /// ([`SeekCause::Join`](super::SeekCause::Join)).
    JoinGrace,
    /// Until then, seeks are attributed to this player's stall
    /// ([`SeekCause::Stall`](super::SeekCause::Stall)).
    StallGrace,
    /// No seek that no intent asked for before then: the back-off between such seeks, so
    /// there is no seek loop.
    SeekBackoff,
}

impl Timer {
    /// Every timer, in table order.
    pub(super) const ALL: [Timer; 4] = [
        Timer::IntentGrace,
        Timer::JoinGrace,
        Timer::StallGrace,
        Timer::SeekBackoff,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// When each [`Timer`] expires.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct TimerTable {
    data: [Option<LocalTime>; Timer::ALL.len()],
}

impl TimerTable {
    /// Starts `timer`, or moves it, to expire at `at`.
    pub(super) fn set(&mut self, timer: Timer, at: LocalTime) {
        self.data[timer.index()] = Some(at);
    }

    /// Stops `timer`.
    pub(super) fn stop(&mut self, timer: Timer) {
        self.data[timer.index()] = None;
    }

    /// When `timer` expires, if it runs.
    pub(super) fn get(&self, timer: Timer) -> Option<LocalTime> {
        self.data[timer.index()]
    }

    /// Whether `timer` runs and has not expired at `now`.
    pub(super) fn is_running(&self, timer: Timer, now: LocalTime) -> bool {
        self.get(timer).is_some_and(|at| now < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_order_is_the_enum_order() {
        for (i, timer) in Timer::ALL.into_iter().enumerate() {
            assert_eq!(timer.index(), i, "{timer:?}");
        }
    }

    #[test]
    fn a_timer_runs_from_set_until_it_expires_or_is_stopped() {
        let mut t = TimerTable::default();
        assert_eq!(t.get(Timer::JoinGrace), None);
        assert!(!t.is_running(Timer::JoinGrace, LocalTime(0)));
        t.set(Timer::JoinGrace, LocalTime(100));
        assert_eq!(t.get(Timer::JoinGrace), Some(LocalTime(100)));
        assert!(t.is_running(Timer::JoinGrace, LocalTime(99)));
        assert!(
            !t.is_running(Timer::JoinGrace, LocalTime(100)),
            "expired at its instant"
        );
        // Setting again moves it; the others are untouched.
        t.set(Timer::JoinGrace, LocalTime(200));
        assert!(t.is_running(Timer::JoinGrace, LocalTime(150)));
        assert!(!t.is_running(Timer::IntentGrace, LocalTime(150)));
        t.stop(Timer::JoinGrace);
        assert_eq!(t.get(Timer::JoinGrace), None);
        assert!(!t.is_running(Timer::JoinGrace, LocalTime(150)));
    }
}
