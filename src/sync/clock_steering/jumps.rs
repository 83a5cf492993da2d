//! Learning what changing the rate does to the media clock: how far leaving the normal rate
//! sets it back (the entry's jump), and how far returning to it moves it forward (the exit's
//! gain). Both are learned from the corrections themselves, so a player without jumps learns
//! zero and is corrected as if there were none.
//!
//! Each is learned for each direction apart. Chromium's audio renderer sets its clock back about
//! 20 ms whichever way the rate leaves 1.0; Firefox with a sound output moves its clock against
//! the change, by about 160 ms of the change (8 ms at ±5 %: back when it speeds up, forward
//! when it slows down, and the reverse on the way back; `docs/measurements/player.md`). One
//! number for both directions would be right for one of them and 16 ms wrong for the other.

use crate::num::Clamp;
use crate::sync::time::LocalTime;

/// The learned jump and exit gain, each taken whole from its first measurement (see
/// [`Learned`]), move towards each later one by this share of the difference...
const LEARNING_SHARE: f64 = 0.3;
/// ...the jump within this range, µs (Chromium's clock is set back by tens of milliseconds,
/// Firefox's moved either way by about ten)...
const JUMP_RANGE: std::ops::RangeInclusive<f64> = -20_000.0..=40_000.0;
/// ...the exit's gain within this range, µs.
const EXIT_GAIN_RANGE: std::ops::RangeInclusive<f64> = -15_000.0..=15_000.0;
/// Before any was measured, the exit's gain is taken to be this, µs: the middle of what
/// returning to the normal rate gives a Chromium clock (a few milliseconds).
pub(super) const EXIT_GAIN_GUESS: f64 = 2_000.0;
/// What returning to the normal rate gave a Chromium clock on a quiet host, either way, µs. An
/// exit measured beyond it carried the clock on the way its correction went (a loaded host's
/// late rate change, Firefox with sound: `docs/measurements/clock.md`), which the other way
/// does the opposite way round; so the other way, until measured, takes the measured figure
/// only as far as this range.
const SHARED_EXIT_GAIN: std::ops::RangeInclusive<f64> = 0.0..=4_000.0;

/// One figure for each direction of a correction: slower (−1) and faster (+1).
#[derive(Clone, Copy, Debug, PartialEq)]
struct ByDirection<T> {
    slower: T,
    faster: T,
}

impl<T> ByDirection<T> {
    fn both(value: T) -> ByDirection<T>
    where
        T: Copy,
    {
        ByDirection {
            slower: value,
            faster: value,
        }
    }

    /// The figure for a correction in `direction` (`+1.0`: faster).
    fn get(&self, direction: f64) -> &T {
        if direction > 0.0 {
            &self.faster
        } else {
            &self.slower
        }
    }

    fn get_mut(&mut self, direction: f64) -> &mut T {
        if direction > 0.0 {
            &mut self.faster
        } else {
            &mut self.slower
        }
    }
}

/// A figure learned from measurements: taken whole from the first, then moved towards each
/// later one by [`LEARNING_SHARE`] of the difference; a guess until the first.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Learned {
    value: f64,
    measurements: u32,
}

impl Learned {
    fn guessed(value: f64) -> Learned {
        Learned {
            value,
            measurements: 0,
        }
    }

    fn learn(&mut self, measured: f64) {
        let share = if self.measurements == 0 {
            1.0
        } else {
            LEARNING_SHARE
        };
        self.measurements = self.measurements.saturating_add(1);
        self.value += share * (measured - self.value);
    }
}

impl ByDirection<Learned> {
    /// The figure for `direction` once measured that way; until then what the other way
    /// measured, as `borrowed` takes it, or else the guess.
    fn value(&self, direction: f64, borrowed: impl Fn(f64) -> f64) -> f64 {
        let (this_way, other_way) = (self.get(direction), self.get(-direction));
        if this_way.measurements > 0 || other_way.measurements == 0 {
            this_way.value
        } else {
            borrowed(other_way.value)
        }
    }
}

/// The entry's jump and the exit's gain for each direction, as learned, and the measurements
/// under way.
#[derive(Clone, Debug)]
pub(super) struct Jumps {
    /// How far leaving the normal rate sets the clock back, µs.
    entry_jump: ByDirection<Learned>,
    /// The fast correction under way left the normal rate: when, and the error and direction
    /// then, until its jump is measured.
    entry: Option<(LocalTime, f64, f64)>,
    /// How far the clock moves forward on returning to the normal rate, µs.
    exit_gain: ByDirection<Learned>,
    /// The error a fast correction ended on, and its direction, until the settled clock shows
    /// what the exit gave.
    exit: Option<(f64, f64)>,
}

impl Jumps {
    /// Jumps to be learned, the entry's taken to be `entry_jump_guess` µs either way until
    /// measured.
    pub(super) fn new(entry_jump_guess: f64) -> Jumps {
        let guess = entry_jump_guess.clamp_to(*JUMP_RANGE.start(), *JUMP_RANGE.end());
        Jumps {
            entry_jump: ByDirection::both(Learned::guessed(guess)),
            entry: None,
            exit_gain: ByDirection::both(Learned::guessed(EXIT_GAIN_GUESS)),
            exit: None,
        }
    }

    /// How far leaving the normal rate in `direction` sets the clock back, µs, as learned so
    /// far (see [`ByDirection::value`]).
    pub(super) fn entry_jump(&self, direction: f64) -> f64 {
        // The same both ways, as in Chromium, until shown otherwise.
        self.entry_jump.value(direction, |other_way| other_way)
    }

    /// How far the clock is set back whichever way the rate leaves the normal one (none where
    /// one direction moves it forward), µs.
    pub(super) fn common_entry_jump(&self) -> f64 {
        self.entry_jump(1.0).min(self.entry_jump(-1.0)).max(0.0)
    }

    /// How far returning to the normal rate from `direction` moves the clock forward, µs, as
    /// learned so far; until measured that way, the other way's figure within
    /// [`SHARED_EXIT_GAIN`], or else the guess.
    pub(super) fn exit_gain(&self, direction: f64) -> f64 {
        self.exit_gain.value(direction, |other_way| {
            other_way.clamp_to(*SHARED_EXIT_GAIN.start(), *SHARED_EXIT_GAIN.end())
        })
    }

    /// Drops the measurements under way: something else moved the clock.
    pub(super) fn forget(&mut self) {
        self.entry = None;
        self.exit = None;
    }

    /// A fast correction in `direction` left the normal rate at `now`, the error then `error`.
    pub(super) fn entered(&mut self, now: LocalTime, error: f64, direction: f64) {
        self.entry = Some((now, error, direction));
    }

    /// Once the entry's transient is over, how far the clock jumped: where it reads (`error`)
    /// against where `fast_rate` alone would have taken it.
    pub(super) fn learn_entry(&mut self, now: LocalTime, error: f64, fast_rate: f64) {
        let Some((began, error_then, direction)) = self.entry.take() else {
            return;
        };
        let moved = direction * fast_rate * (now - began).0 as f64;
        let jump = (error_then + moved - error).clamp_to(*JUMP_RANGE.start(), *JUMP_RANGE.end());
        self.entry_jump.get_mut(direction).learn(jump);
    }

    /// A fast correction in `direction` ended, on `error` if it ended on one (not when given
    /// up).
    pub(super) fn exited(&mut self, error: Option<f64>, direction: f64) {
        self.exit = error.map(|error| (error, direction));
    }

    /// The settled clock reads `error`: what the exit gave, against the error it ended on.
    pub(super) fn learn_exit(&mut self, error: f64) {
        let Some((ended_on, direction)) = self.exit.take() else {
            return;
        };
        let gain = (error - ended_on).clamp_to(*EXIT_GAIN_RANGE.start(), *EXIT_GAIN_RANGE.end());
        self.exit_gain.get_mut(direction).learn(gain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_jump_is_taken_whole_and_later_ones_by_a_share() {
        let mut j = Jumps::new(0.0);
        // 10 ms behind, speeding up at 5 % for 150 ms (+7.5 ms): read 22.5 ms behind.
        j.entered(LocalTime(0), -10_000.0, 1.0);
        j.learn_entry(LocalTime(150_000), -22_500.0, 0.05);
        assert!(
            (j.entry_jump(1.0) - 20_000.0).abs() < 1e-6,
            "{}",
            j.entry_jump(1.0)
        );
        // Measured once only; the other direction, not measured yet, taken to be the same.
        j.learn_entry(LocalTime(300_000), 0.0, 0.05);
        assert!((j.entry_jump(1.0) - 20_000.0).abs() < 1e-6);
        assert!((j.entry_jump(-1.0) - 20_000.0).abs() < 1e-6);
        // A 10 ms jump next: moved by the share.
        j.entered(LocalTime(0), -10_000.0, 1.0);
        j.learn_entry(LocalTime(150_000), -12_500.0, 0.05);
        let expected = 20_000.0 + LEARNING_SHARE * (10_000.0 - 20_000.0);
        assert!(
            (j.entry_jump(1.0) - expected).abs() < 1e-6,
            "{}",
            j.entry_jump(1.0)
        );
    }

    #[test]
    fn an_impossible_jump_is_clamped() {
        let mut j = Jumps::new(0.0);
        j.entered(LocalTime(0), 0.0, 1.0);
        j.learn_entry(LocalTime(0), -1e12, 0.05);
        assert_eq!(j.entry_jump(1.0), *JUMP_RANGE.end());
    }

    #[test]
    fn the_exit_gain_is_learned_from_an_ended_correction_only() {
        let mut j = Jumps::new(0.0);
        // Given up: nothing to learn from.
        j.exited(None, 1.0);
        j.learn_exit(5_000.0);
        assert_eq!(j.exit_gain(1.0), EXIT_GAIN_GUESS);
        // Ended 2 ms behind, settled 2 ms ahead: the exit gave 4 ms, taken whole the first time.
        j.exited(Some(-2_000.0), 1.0);
        j.learn_exit(2_000.0);
        assert!((j.exit_gain(1.0) - 4_000.0).abs() < 1e-6);
        // Then by a share: 6 ms next.
        j.exited(Some(-2_000.0), 1.0);
        j.learn_exit(4_000.0);
        let expected = 4_000.0 + LEARNING_SHARE * (6_000.0 - 4_000.0);
        assert!((j.exit_gain(1.0) - expected).abs() < 1e-6);
        assert_eq!(
            j.exit_gain(-1.0),
            *SHARED_EXIT_GAIN.end(),
            "the other direction, not measured, takes it as far as a quiet Chromium gives"
        );
        // Learned once per correction.
        j.learn_exit(9_000.0);
        assert!((j.exit_gain(1.0) - expected).abs() < 1e-6);
        // Forgotten when something else moved the clock.
        j.exited(Some(0.0), 1.0);
        j.forget();
        j.learn_exit(9_000.0);
        assert!((j.exit_gain(1.0) - expected).abs() < 1e-6);
    }

    #[test]
    fn an_exit_that_carried_the_clock_on_is_not_taken_for_the_other_way() {
        // A loaded Chromium: a correction slowing down ended 2.3 ms behind, and the settled
        // clock read 10 ms behind (the exit carried it on by 7.7 ms).
        let mut j = Jumps::new(20_000.0);
        j.exited(Some(-2_300.0), -1.0);
        j.learn_exit(-10_000.0);
        assert!((j.exit_gain(-1.0) + 7_700.0).abs() < 1e-6);
        // Taken as it is, a correction speeding up would aim 7.7 ms ahead of the timeline and
        // end there, and its own exit would carry it on to 15 ms ahead (the browser did).
        assert_eq!(j.exit_gain(1.0), 0.0);
    }

    #[test]
    fn a_clock_moved_against_the_change_is_learned_each_way() {
        // Firefox with a sound output: speeding up sets the clock back 8 ms, slowing down sets
        // it forward 8 ms, and returning gives each back.
        let mut j = Jumps::new(0.0);
        j.entered(LocalTime(0), -10_000.0, 1.0);
        j.learn_entry(LocalTime(150_000), -10_500.0, 0.05);
        j.entered(LocalTime(0), 10_000.0, -1.0);
        j.learn_entry(LocalTime(150_000), 10_500.0, 0.05);
        assert!(
            (j.entry_jump(1.0) - 8_000.0).abs() < 1e-6,
            "{}",
            j.entry_jump(1.0)
        );
        assert!(
            (j.entry_jump(-1.0) + 8_000.0).abs() < 1e-6,
            "{}",
            j.entry_jump(-1.0)
        );
        assert_eq!(j.common_entry_jump(), 0.0, "no set-back both ways share");
        for _ in 0..20 {
            j.exited(Some(-8_000.0), 1.0);
            j.learn_exit(0.0);
            j.exited(Some(8_000.0), -1.0);
            j.learn_exit(0.0);
        }
        assert!(
            (j.exit_gain(1.0) - 8_000.0).abs() < 100.0,
            "{}",
            j.exit_gain(1.0)
        );
        assert!(
            (j.exit_gain(-1.0) + 8_000.0).abs() < 100.0,
            "{}",
            j.exit_gain(-1.0)
        );
    }
}
