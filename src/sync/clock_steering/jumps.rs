//! Learning what changing the rate does to the media clock: how far leaving the normal rate
//! sets it back (the entry's jump), and how far returning to it moves it forward (the exit's
//! gain). Both are learned from the corrections themselves, so a player without jumps learns
//! zero and is corrected as if there were none.

use crate::num::Clamp;
use crate::sync::time::LocalTime;

/// The learned jump (from its first measurement) and exit gain (from its guess) move towards
/// each new measurement by this share of the difference...
const LEARNING_SHARE: f64 = 0.3;
/// ...the jump within this range, µs (clocks are set back by tens of milliseconds; a forward
/// jump is allowed for, though not known of)...
const JUMP_RANGE: std::ops::RangeInclusive<f64> = -10_000.0..=40_000.0;
/// ...the exit's gain within this range, µs.
const EXIT_GAIN_RANGE: std::ops::RangeInclusive<f64> = -5_000.0..=10_000.0;
/// Before any was measured, the exit's gain is taken to be this, µs: the middle of what
/// returning to the normal rate gives a clock (a few milliseconds).
pub(super) const EXIT_GAIN_GUESS: f64 = 2_000.0;

/// The entry's jump and the exit's gain, as learned, and the measurements under way.
#[derive(Clone, Debug)]
pub(super) struct Jumps {
    /// How far leaving the normal rate sets the clock back, µs, as learned; and from how many
    /// fast corrections.
    entry_jump: f64,
    jumps_measured: u32,
    /// The fast correction under way left the normal rate: when, and the error and direction
    /// then, until its jump is measured.
    entry: Option<(LocalTime, f64, f64)>,
    /// How far the clock moves forward on returning to the normal rate, µs, as learned.
    exit_gain: f64,
    /// The error a fast correction ended on, until the settled clock shows what the exit gave.
    exit: Option<f64>,
}

impl Jumps {
    /// Jumps to be learned, the entry's taken to be `entry_jump_guess` µs until measured.
    pub(super) fn new(entry_jump_guess: f64) -> Jumps {
        Jumps {
            entry_jump: entry_jump_guess.clamp_to(*JUMP_RANGE.start(), *JUMP_RANGE.end()),
            jumps_measured: 0,
            entry: None,
            exit_gain: EXIT_GAIN_GUESS,
            exit: None,
        }
    }

    /// How far leaving the normal rate sets the clock back, µs, as learned so far (the guess
    /// until a fast correction measured it).
    pub(super) fn entry_jump(&self) -> f64 {
        self.entry_jump
    }

    /// How far returning to the normal rate moves the clock forward, µs, as learned so far.
    pub(super) fn exit_gain(&self) -> f64 {
        self.exit_gain
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
        let share = if self.jumps_measured == 0 {
            1.0
        } else {
            LEARNING_SHARE
        };
        self.entry_jump += share * (jump - self.entry_jump);
        self.jumps_measured = self.jumps_measured.saturating_add(1);
    }

    /// A fast correction ended, on `error` if it ended on one (not when given up).
    pub(super) fn exited(&mut self, error: Option<f64>) {
        self.exit = error;
    }

    /// The settled clock reads `error`: what the exit gave, against the error it ended on.
    pub(super) fn learn_exit(&mut self, error: f64) {
        let Some(ended_on) = self.exit.take() else {
            return;
        };
        let gain = error - ended_on;
        self.exit_gain += LEARNING_SHARE * (gain - self.exit_gain);
        self.exit_gain = self
            .exit_gain
            .clamp_to(*EXIT_GAIN_RANGE.start(), *EXIT_GAIN_RANGE.end());
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
            (j.entry_jump() - 20_000.0).abs() < 1e-6,
            "{}",
            j.entry_jump()
        );
        // Measured once only.
        j.learn_entry(LocalTime(300_000), 0.0, 0.05);
        assert!((j.entry_jump() - 20_000.0).abs() < 1e-6);
        // A 10 ms jump next: moved by the share.
        j.entered(LocalTime(0), -10_000.0, 1.0);
        j.learn_entry(LocalTime(150_000), -12_500.0, 0.05);
        let expected = 20_000.0 + LEARNING_SHARE * (10_000.0 - 20_000.0);
        assert!(
            (j.entry_jump() - expected).abs() < 1e-6,
            "{}",
            j.entry_jump()
        );
    }

    #[test]
    fn an_impossible_jump_is_clamped() {
        let mut j = Jumps::new(0.0);
        j.entered(LocalTime(0), 0.0, 1.0);
        j.learn_entry(LocalTime(0), -1e12, 0.05);
        assert_eq!(j.entry_jump(), *JUMP_RANGE.end());
    }

    #[test]
    fn the_exit_gain_is_learned_from_an_ended_correction_only() {
        let mut j = Jumps::new(0.0);
        // Given up: nothing to learn from.
        j.exited(None);
        j.learn_exit(5_000.0);
        assert_eq!(j.exit_gain(), EXIT_GAIN_GUESS);
        // Ended 2 ms behind, settled 2 ms ahead: the exit gave 4 ms.
        j.exited(Some(-2_000.0));
        j.learn_exit(2_000.0);
        let expected = EXIT_GAIN_GUESS + LEARNING_SHARE * (4_000.0 - EXIT_GAIN_GUESS);
        assert!((j.exit_gain() - expected).abs() < 1e-6);
        // Learned once per correction.
        j.learn_exit(9_000.0);
        assert!((j.exit_gain() - expected).abs() < 1e-6);
        // Forgotten when something else moved the clock.
        j.exited(Some(0.0));
        j.forget();
        j.learn_exit(9_000.0);
        assert!((j.exit_gain() - expected).abs() < 1e-6);
    }
}
