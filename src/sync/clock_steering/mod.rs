//! Steering by the player's media clock, where it can be read (`currentTime` in browsers).
//!
//! A renderer picks the frame for each display refresh from its media clock, so a clock held
//! within a few milliseconds of the timeline shows the timeline's frame on every refresh. The
//! presented frames alone cannot say where between two frames the clock rests: a clock resting
//! near the middle shows a picture that flickers between the two, and one resting a few
//! milliseconds from it slips a whole frame at the next hiccup. Read with the instant of the
//! read, the clock is exact to well under a millisecond.
//!
//! What the rate does to that clock, in Chromium with an audio track (the media clock follows
//! the audio renderer; the measurements are in `docs/measurements/clock.md`):
//!
//! - **Leaving the normal rate costs a jump.** Any change from 1.0 to a rate more than 0.1 %
//!   away, faster or slower, sets the clock back by about 20 ms at once: the audio renderer
//!   starts stretching. Returning to 1.0 gives back a few milliseconds, and changes between two
//!   stretched rates cost nothing. Within 0.1 % of 1.0 nothing jumps.
//! - **Within 0.1 % of 1.0 nothing moves either.** Within 1/960 of the normal rate (one sample
//!   of its 20 ms window at 48 kHz) Chromium's audio renderer plays the sound through
//!   unstretched, and the clock keeps to 1.0. So the gentle speed below moves no Chromium clock
//!   with sound, which rests wherever the last fast correction left it (within
//!   [`FAST_ENTER`]); it moves the clocks of players that follow a small rate. (Resting just
//!   outside that band, to make every correction cheap, does not work: while stretching, the
//!   readings scatter by milliseconds, and every viewer corrects fast many times a minute.)
//! - A loop that changes the rate continuously sees its own jumps as new errors and oscillates,
//!   and pulses timed from the error are undone by their own jumps.
//!
//! Hence two speeds:
//!
//! - **Gentle**: an error the picture does not show yet (under [`FAST_ENTER`], a clock still
//!   nearest the right frame) is removed at [`GENTLE_RATE`], which costs nothing however often
//!   it starts and stops: about a second per millisecond, where the player follows it.
//! - **Fast**: a larger error (the picture shows a frame off, or soon would) is removed at the
//!   full correcting rate, closed on the clock: the direction follows the error's sign (turning
//!   is free) until the clock reaches its aim, so the entry's jump is simply made up. Then the
//!   clock is left to settle ([`SETTLE`]) before anything else is decided. It turns once at
//!   most, and only towards an aim still ahead: where the two directions' learned aims cross
//!   (on a loaded host each exit carries the clock on), a clock between them is past both.
//! - **Read along the rate while fast.** While the renderer stretches the sound, the readings
//!   scatter, and a correction ended on a median of them would land milliseconds from its aim;
//!   so a fast correction is read along its slope (`readings`), and ends on the frame that
//!   crosses the aim.
//! - **The exit's gain is learned.** Returning to the normal rate moves the clock forward by a
//!   few milliseconds, so a fast correction aims that far behind the timeline: as far as the
//!   last ones gave back (`jumps`).
//! - **The entry's jump is learned, for each direction.** Each fast correction that leaves the
//!   normal rate measures how far the clock jumped (`jumps`), and the next one chooses its
//!   direction by where the clock will be after the jump and where it must end: 10 ms ahead
//!   with a 20 ms jump is corrected by speeding up, not by slowing down past the timeline and
//!   turning. Firefox with a sound output moves its clock against each change instead (8 ms
//!   back on speeding up by 5 %, 8 ms forward on slowing down, given back on returning), so
//!   each direction keeps its own jump and exit gain.
//! - **A picture stuck a frame off.** A renderer that has settled into a cadence (one frame per
//!   refresh) keeps it until its clock drifts most of a frame away, so it can show a frame off
//!   for seconds while the clock is within a few milliseconds. No gentle correction changes
//!   that picture; when the presented frames stay a frame off for [`STUCK_PATIENCE`], a fast
//!   correction is made regardless of the clock, the way the frames are off (not the way the
//!   clock's small error points): it breaks the cadence, the renderer picks frames by the clock
//!   again, and the correction, closed on the clock, ends with the clock on time.
//! - Errors are medians of the latest readings: a single late reading starts nothing, and a jump
//!   shows within a few frames.

mod jumps;
mod readings;

use super::time::{LocalTime, Span};
use jumps::Jumps;
use readings::Readings;

/// What the latest presented frames say of the picture, against where the clock puts it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Picture {
    /// Too few frames were seen lately to tell (a starved page's frame callbacks come one in
    /// 50 ms or rarer): what they said before stands. Taken for "on the frame", this is the
    /// likely reason a slowed page once stayed a whole frame off for its whole slowed spell:
    /// its stuck-picture correction never reached its patience.
    Unseen,
    /// The frame the clock says, or a picture not made of whole frames.
    AsTheClockSays,
    /// Another frame than the clock says: the frames' error, µs (positive ahead).
    FramesOff(f64),
}

/// A gentle correction starts beyond this error: beyond the scatter of readings at the normal
/// rate.
const GENTLE_ENTER: Span = Span::from_micros(2_000);
/// The gentle rate's deviation from the normal one: the largest that moves the clock without a
/// jump.
pub const GENTLE_RATE: f64 = 0.001;
/// Beyond this error the correction is fast: a renderer picks the next frame at half a frame
/// (8.3 ms at 60 fps), and a reading lags the clock by a frame or so.
const FAST_ENTER: Span = Span::from_micros(7_000);
/// A gentle correction ends once the clock reads within this of the timeline, or past it.
const EXIT: Span = Span::from_micros(500);
/// A fast correction ends once the clock reaches its aim (behind the timeline by the exit's
/// gain); one that finds the clock past the aim by more than this turns instead (the entry's
/// jump overshot).
const FAST_EXIT: Span = Span::from_micros(2_500);
/// A fast correction neither ends nor turns this soon after it began: the readings are still
/// moving by the entry's jump, and passing through the timeline on the way means nothing.
const ENTRY_TRANSIENT: Span = Span::from_millis(150);
/// The presented frames must show a frame off this long before a fast correction is made for
/// them alone (the renderer takes a few frames to follow any correction).
const STUCK_PATIENCE: Span = Span::from_millis(300);
/// After a turn between two stretched rates, readings this soon are not averaged (the turn
/// itself moves the clock by a millisecond or two).
const TURN_TRANSIENT: Span = Span::from_millis(50);
/// A fast correction is abandoned after this long (a clock that does not answer the rate).
const MAX_FAST: Span = Span::from_secs(3);
/// After a fast correction, readings this soon are not used to start another correction.
const SETTLE: Span = Span::from_millis(300);
/// After a start, this soon: the clock moves at the normal rate from its first frame, and its
/// readings are as exact as ever, while a start that landed late costs more the longer it
/// waits.
const SETTLE_AFTER_START: Span = Span::from_millis(100);

/// What the rate should be, relative to the resting rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Steer {
    /// Leave it as it is.
    Hold,
    /// The resting rate.
    Rest,
    /// [`GENTLE_RATE`] off it, in this direction (`+1.0`: faster).
    Gentle(f64),
    /// The full correcting deviation off it, in this direction.
    Fast(f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Resting,
    Gentle(f64),
    Fast(Fast),
}

/// A fast correction under way.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Fast {
    /// `+1.0`: faster.
    direction: f64,
    began: LocalTime,
    /// When it turned, if it did: a correction turns once at most.
    turned_at: Option<LocalTime>,
}

/// Clock errors and the correction under way.
#[derive(Clone, Debug)]
pub struct ClockSteering {
    readings: Readings,
    phase: Phase,
    /// Readings before this do not start a correction.
    settled_at: Option<LocalTime>,
    /// Since when the presented frames show a frame off, and in which direction.
    stuck_since: Option<(LocalTime, f64)>,
    /// The correcting rate's deviation a fast correction runs at.
    fast_rate: f64,
    /// What leaving and returning to the normal rate do to the clock, as learned.
    jumps: Jumps,
}

impl ClockSteering {
    /// A steering whose fast corrections run at `rate_dev` (a fraction) off the resting rate,
    /// on a player whose clock leaving the normal rate is taken to jump back by
    /// `entry_jump_guess` µs until a correction measured it.
    pub fn new(rate_dev: f64, entry_jump_guess: f64) -> ClockSteering {
        ClockSteering {
            readings: Readings::new(),
            phase: Phase::Resting,
            settled_at: None,
            stuck_since: None,
            fast_rate: rate_dev,
            jumps: Jumps::new(entry_jump_guess),
        }
    }

    /// How far the clock is set back whichever way the rate leaves the normal one, µs, as
    /// learned so far: what a start can aim ahead by.
    pub fn entry_jump(&self) -> f64 {
        self.jumps.common_entry_jump()
    }

    /// One reading: the clock's error (µs, positive ahead) at `read_at`.
    pub fn record(&mut self, read_at: LocalTime, error: f64) {
        self.readings.record(read_at, error);
    }

    /// Whether the player is reading its clock, so that it is what to steer by.
    pub fn is_reading(&self, now: LocalTime) -> bool {
        self.readings.is_reading(now)
    }

    /// Starts afresh after anything but this steering moved the clock or set the rate (a seek,
    /// a start, a stall, a new timeline, a scheduled rate change): what was measured is
    /// forgotten, a correction under way is over, and the clock settles before the next.
    pub fn restart(&mut self, now: LocalTime) {
        self.readings.clear();
        self.stuck_since = None;
        self.jumps.forget();
        self.phase = Phase::Resting;
        self.settled_at = Some(now + SETTLE);
    }

    /// The player just started moving, and the steering was [restarted](Self::restart): it
    /// settles only [`SETTLE_AFTER_START`].
    pub fn started(&mut self, now: LocalTime) {
        self.settled_at = Some(now + SETTLE_AFTER_START);
    }

    /// The clock's error now, when enough fresh readings are at hand: while correcting fast,
    /// along the correction's slope once the fit holds enough of them.
    pub fn error(&self, now: LocalTime) -> Option<f64> {
        self.readings.error(now, self.correcting_fast())
    }

    /// Whether a fast correction is under way.
    pub fn correcting_fast(&self) -> bool {
        matches!(self.phase, Phase::Fast(_))
    }

    /// When a fast correction under way is abandoned.
    pub fn deadline(&self) -> Option<LocalTime> {
        match self.phase {
            Phase::Fast(fast) => Some(fast.began + MAX_FAST),
            _ => None,
        }
    }

    /// What the presented frames show (see [`Picture`]).
    pub fn frames_off(&mut self, now: LocalTime, picture: Picture) {
        self.stuck_since = match (picture, self.stuck_since) {
            (Picture::Unseen, kept) => kept,
            (Picture::AsTheClockSays, _) => None,
            (Picture::FramesOff(error), Some((since, was))) if error.signum() == was.signum() => {
                Some((since, was))
            }
            (Picture::FramesOff(error), _) => Some((now, error)),
        };
    }

    /// Gives up a fast correction the clock has not answered within [`MAX_FAST`]; `true` when
    /// it did, and the rate is to return to rest.
    pub fn give_up_if_overdue(&mut self, now: LocalTime) -> bool {
        let overdue = self.deadline().is_some_and(|deadline| now >= deadline);
        if overdue {
            self.settle(now, None);
        }
        overdue
    }

    /// Decides what to do with the rate, given the error now (`None`: no fresh error).
    pub fn steer(&mut self, now: LocalTime, error: Option<f64>) -> Steer {
        if self.give_up_if_overdue(now) {
            return Steer::Rest;
        }
        let Some(error) = error else {
            return Steer::Hold;
        };
        if let Phase::Fast(fast) = self.phase {
            return self.steer_fast(now, error, fast);
        }
        if self.settled_at.is_some_and(|t| now < t) {
            return Steer::Hold;
        }
        self.jumps.learn_exit(error);
        let toward = -error.signum();
        match self.phase {
            _ if error.abs() > FAST_ENTER.0 as f64 => {
                let direction = self.fast_direction(error);
                self.begin_fast(now, error, direction)
            }
            // The picture is a frame off while the clock reads near time: the frames say which
            // way to break the cadence.
            _ if self.is_stuck(now) => {
                let frames_error = self.stuck_since.map_or(error, |(_, off)| off);
                self.begin_fast(now, error, -frames_error.signum())
            }
            Phase::Gentle(direction) if -direction * error <= EXIT.0 as f64 => {
                self.phase = Phase::Resting;
                Steer::Rest
            }
            Phase::Gentle(direction) if direction == toward => Steer::Hold,
            _ if error.abs() > GENTLE_ENTER.0 as f64 => {
                self.phase = Phase::Gentle(toward);
                Steer::Gentle(toward)
            }
            _ => Steer::Hold,
        }
    }

    /// Begins a fast correction of `error` in `direction`.
    fn begin_fast(&mut self, now: LocalTime, error: f64, direction: f64) -> Steer {
        self.stuck_since = None;
        self.phase = Phase::Fast(Fast {
            direction,
            began: now,
            turned_at: None,
        });
        self.jumps.entered(now, error, direction);
        self.fit_along(now + ENTRY_TRANSIENT, direction);
        Steer::Fast(direction)
    }

    /// The direction a fast correction of `error` takes: of those that reach their aim with no
    /// turn, the one with the least to travel. Going `direction`, the entry's jump takes the
    /// clock to `error - jump`, and the correction ends at its aim, `-exit_gain` (what the
    /// exit gives back); the rate moves the clock `direction`-wards only. With the same jump
    /// both ways (Chromium) this is the side of `error - jump` the aim lies on; with a clock
    /// moved against the change (Firefox with sound, a jump and an exit gain of `direction` ×
    /// 8 ms) it is the plain direction of the error, the jump made up by the exit.
    fn fast_direction(&self, error: f64) -> f64 {
        let travel = |direction: f64| {
            let after_jump = error - self.jumps.entry_jump(direction);
            let aim = -self.jumps.exit_gain(direction);
            direction * (aim - after_jump)
        };
        let (faster, slower) = (travel(1.0), travel(-1.0));
        let choose_faster = match (faster >= 0.0, slower >= 0.0) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => faster <= slower,
            // Neither without a turn (jumps learned far apart): the one that turns least.
            (false, false) => faster >= slower,
        };
        if choose_faster {
            1.0
        } else {
            -1.0
        }
    }

    /// The fast correction under way: it ends once the clock reaches its aim, behind the
    /// timeline by what the exit gives back, and turns if the clock is well past it, once,
    /// and only if the other way's aim still lies ahead. Where the learned aims cross (each
    /// way's exit carries the clock on, as a change that takes effect late does), a clock
    /// between them is past both: turning there would find it past the new aim at once, and
    /// turn back at every reading.
    fn steer_fast(&mut self, now: LocalTime, error: f64, fast: Fast) -> Steer {
        let Fast {
            direction,
            began,
            turned_at,
        } = fast;
        if now < began + ENTRY_TRANSIENT || turned_at.is_some_and(|t| now < t + TURN_TRANSIENT) {
            return Steer::Hold;
        }
        self.jumps.learn_entry(now, error, self.fast_rate);
        // How far beyond the aim going `direction` the clock has come.
        let past = |direction: f64| direction * (error + self.jumps.exit_gain(direction));
        let past_aim = past(direction);
        if past_aim < 0.0 {
            return Steer::Hold;
        }
        let turn = past_aim > FAST_EXIT.0 as f64 && turned_at.is_none() && past(-direction) < 0.0;
        if turn {
            self.phase = Phase::Fast(Fast {
                direction: -direction,
                began,
                turned_at: Some(now),
            });
            self.fit_along(now + TURN_TRANSIENT, -direction);
            Steer::Fast(-direction)
        } else {
            self.settle(now, Some(error))
        }
    }

    /// Averages the readings from `since` on along the slope of a fast correction in
    /// `direction`.
    fn fit_along(&mut self, since: LocalTime, direction: f64) {
        self.readings.fit_along(since, direction * self.fast_rate);
    }

    fn is_stuck(&self, now: LocalTime) -> bool {
        self.stuck_since
            .is_some_and(|(since, _)| now - since >= STUCK_PATIENCE)
    }

    /// Ends a fast correction, on `error` if it ended on one (not when given up): the rate
    /// returns to rest and the clock settles.
    fn settle(&mut self, now: LocalTime, error: Option<f64>) -> Steer {
        if let Phase::Fast(fast) = self.phase {
            self.jumps.exited(error, fast.direction);
        }
        self.phase = Phase::Resting;
        self.readings.clear();
        self.stuck_since = None;
        self.settled_at = Some(now + SETTLE);
        Steer::Rest
    }
}

#[cfg(test)]
mod tests {
    use super::jumps::EXIT_GAIN_GUESS;
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    const FRAME_MS: i64 = 16;

    /// A steering correcting at ±5 %, as the controller's default.
    fn steering() -> ClockSteering {
        ClockSteering::new(0.05, 0.0)
    }

    fn ms(x: i64) -> LocalTime {
        LocalTime(x * 1000)
    }

    /// A media clock as measured in Chromium: it moves at the rate it is set to, leaving the
    /// normal rate for a stretched one sets it back by `entry_jump` µs, and returning moves it
    /// forward by `exit_gain` µs.
    struct Clock {
        error: f64,
        deviation: f64,
        entry_jump: f64,
        exit_gain: f64,
        /// Firefox with a sound output: every rate change moves the clock against it by this
        /// many µs per unit of rate (about 160 ms: 8 ms at ±5 %).
        against_change: f64,
    }

    impl Clock {
        fn set(&mut self, deviation: f64) {
            self.error -= (deviation - self.deviation) * self.against_change;
            let stretched = |d: f64| d.abs() > GENTLE_RATE;
            match (stretched(self.deviation), stretched(deviation)) {
                (false, true) => self.error -= self.entry_jump,
                (true, false) => self.error += self.exit_gain,
                _ => {}
            }
            self.deviation = deviation;
        }
    }

    /// Reads `clock` every frame for `for_ms`, steering it; every steer but `Hold`, with its
    /// time.
    fn steer_for(s: &mut ClockSteering, clock: &mut Clock, for_ms: i64) -> Vec<(i64, Steer)> {
        steer_between(s, clock, 0, for_ms)
    }

    /// As [`steer_for`], from `from_ms` to `to_ms` (both read).
    fn steer_between(
        s: &mut ClockSteering,
        clock: &mut Clock,
        from_ms: i64,
        to_ms: i64,
    ) -> Vec<(i64, Steer)> {
        let mut steers = Vec::new();
        for t in (from_ms..=to_ms).step_by(FRAME_MS as usize) {
            clock.error += clock.deviation * (FRAME_MS * 1000) as f64;
            s.record(ms(t), clock.error);
            let steer = s.steer(ms(t), s.error(ms(t)));
            match steer {
                Steer::Hold => continue,
                Steer::Rest => clock.set(0.0),
                Steer::Gentle(direction) => clock.set(direction * GENTLE_RATE),
                Steer::Fast(direction) => clock.set(direction * 0.05),
            }
            steers.push((t, steer));
        }
        steers
    }

    /// How many of `steers` are fast: one per fast correction that never turned.
    fn fast_steers(steers: &[(i64, Steer)]) -> usize {
        steers
            .iter()
            .filter(|(_, steer)| matches!(steer, Steer::Fast(_)))
            .count()
    }

    /// One correction's steers, and the clock's error (µs) at its end.
    struct Correction {
        steers: Vec<(i64, Steer)>,
        ended: f64,
    }

    /// Sets `clock`'s error to each of `start_errors` (µs) in turn, `each_ms` apart, and lets
    /// `s` correct it, one running clock throughout.
    fn correct_each(
        s: &mut ClockSteering,
        clock: &mut Clock,
        start_errors: &[f64],
        each_ms: i64,
    ) -> Vec<Correction> {
        let mut corrections = Vec::new();
        for (i, &start_error) in start_errors.iter().enumerate() {
            clock.error = start_error;
            let from = i as i64 * each_ms;
            let steers = steer_between(s, clock, from, from + each_ms - FRAME_MS);
            corrections.push(Correction {
                steers,
                ended: clock.error,
            });
        }
        corrections
    }

    fn clock(error_ms: f64) -> Clock {
        Clock {
            error: error_ms * 1000.0,
            deviation: 0.0,
            entry_jump: 20_000.0,
            exit_gain: 0.0,
            against_change: 0.0,
        }
    }

    #[test]
    fn an_error_within_the_deadband_is_left_alone() {
        let mut c = clock(1.5);
        assert_eq!(steer_for(&mut steering(), &mut c, 5_000), vec![]);
    }

    #[test]
    fn an_error_the_picture_does_not_show_is_removed_gently() {
        let mut c = clock(-4.0);
        let steers = steer_for(&mut steering(), &mut c, 6_000);
        let kinds: Vec<Steer> = steers.iter().map(|s| s.1).collect();
        assert_eq!(kinds, vec![Steer::Gentle(1.0), Steer::Rest], "{steers:?}");
        // 3.5 ms at 0.1 % takes 3.5 s.
        let took = steers[1].0 - steers[0].0;
        assert!((3_400..=3_700).contains(&took), "{took}");
        assert!(c.error.abs() <= 600.0, "ends on the timeline: {}", c.error);
    }

    #[test]
    fn a_frame_off_is_removed_fast_and_the_entry_jump_made_up() {
        let mut c = clock(-10.0);
        let steers = steer_for(&mut steering(), &mut c, 6_000);
        assert_eq!(
            steers[0],
            (64, Steer::Fast(1.0)),
            "as soon as five readings agree"
        );
        assert_eq!(fast_steers(&steers), 1, "one fast correction: {steers:?}");
        // 10 ms plus the 20 ms jump at 5 % is 600 ms; then at most a gentle finish.
        let (rested, _) = steers[1];
        assert!((520..=700).contains(&(rested - 64)), "{steers:?}");
        assert!(c.error.abs() <= 2_600.0, "{}", c.error);
        assert_eq!(steers.last().map(|s| s.1), Some(Steer::Rest));
    }

    #[test]
    fn a_fast_correction_turns_when_the_entry_jump_overshoots() {
        // Ahead by 12 ms: slowing down, the jump alone takes the clock 8 ms behind.
        let mut c = clock(12.0);
        let steers = steer_for(&mut steering(), &mut c, 3_000);
        let kinds: Vec<Steer> = steers.iter().take(3).map(|s| s.1).collect();
        assert_eq!(
            kinds,
            vec![Steer::Fast(-1.0), Steer::Fast(1.0), Steer::Rest]
        );
        assert!(c.error.abs() <= 2_600.0, "{}", c.error);
    }

    #[test]
    fn passing_the_timeline_during_the_entry_jump_ends_nothing() {
        let mut s = steering();
        let mut steer = |t: i64, error_ms: f64| {
            s.record(ms(t), error_ms * 1000.0);
            s.steer(ms(t), s.error(ms(t)))
        };
        for t in (0..64).step_by(16) {
            assert_eq!(steer(t, 15.0), Steer::Hold);
        }
        assert_eq!(steer(64, 15.0), Steer::Fast(-1.0));
        // The jump shows over a few frames, through the timeline and past it.
        for (i, error) in [10.0, 5.0, 1.0, 0.0, -1.0, -4.0, -7.0, -8.0]
            .into_iter()
            .enumerate()
        {
            let t = 80 + 16 * i as i64;
            assert_eq!(steer(t, error), Steer::Hold, "at {t} ms");
        }
        assert_eq!(
            steer(224, -6.0),
            Steer::Fast(1.0),
            "turns once the jump is over"
        );
        // The turn moves the clock too: nothing is decided on its first readings.
        for t in [240, 256, 272] {
            assert_eq!(steer(t, -2.0), Steer::Hold, "at {t} ms");
        }
        assert_eq!(steer(288, -2.0), Steer::Rest);
    }

    #[test]
    fn a_picture_stuck_a_frame_off_is_corrected_fast_though_the_clock_is_on_time() {
        let mut s = steering();
        let mut steers = Vec::new();
        for t in (0..=1_000).step_by(16) {
            s.record(ms(t), -1_000.0);
            // The frames show a frame behind from 200 ms on.
            let picture = if t >= 200 {
                Picture::FramesOff(-16_700.0)
            } else {
                Picture::AsTheClockSays
            };
            s.frames_off(ms(t), picture);
            match s.steer(ms(t), s.error(ms(t))) {
                Steer::Hold => {}
                steer => steers.push((t, steer)),
            }
        }
        assert_eq!(
            steers.first().map(|s| s.1),
            Some(Steer::Fast(1.0)),
            "{steers:?}"
        );
        let began = steers[0].0;
        assert!((500..=532).contains(&began), "after the patience: {began}");
    }

    #[test]
    fn a_picture_seen_a_frame_off_now_and_then_is_stuck_all_along() {
        // A starved page: the frames are a frame behind from 200 ms on, but only one reading in
        // four has enough of them to tell; the others leave the picture unseen.
        let mut s = steering();
        let mut began = None;
        for t in (0..=1_500).step_by(16) {
            s.record(ms(t), -1_000.0);
            let picture = match t {
                ..200 => Picture::AsTheClockSays,
                _ if (t / 16) % 4 == 0 => Picture::FramesOff(-16_700.0),
                _ => Picture::Unseen,
            };
            s.frames_off(ms(t), picture);
            if let steer @ Steer::Fast(_) = s.steer(ms(t), s.error(ms(t))) {
                began = Some((t, steer));
                break;
            }
        }
        let (t, steer) = began.expect("the stuck picture is corrected");
        assert_eq!(steer, Steer::Fast(1.0));
        assert!((500..=600).contains(&t), "after the patience: {t}");
    }

    #[test]
    fn a_learned_entry_jump_chooses_the_direction() {
        let mut s = steering();
        // A first correction, 10 ms behind, measures the 20 ms jump.
        let mut c = clock(-10.0);
        steer_for(&mut s, &mut c, 2_000);
        let jump = s.jumps.entry_jump(1.0);
        assert!((jump - 20_000.0).abs() < 3_000.0, "learned {jump}");
        // 12 ms ahead: the jump alone takes the clock 8 ms behind, so it speeds up at once.
        c.error = 12_000.0;
        let steers = steer_for(&mut s, &mut c, 2_000);
        let kinds: Vec<Steer> = steers.iter().take(2).map(|s| s.1).collect();
        assert_eq!(kinds, vec![Steer::Fast(1.0), Steer::Rest], "{steers:?}");
        assert!(c.error.abs() <= 2_600.0, "{}", c.error);
    }

    #[test]
    fn a_guessed_entry_jump_chooses_the_first_direction() {
        // A first start landed 11 ms ahead on Chromium's clock. Guessing no jump, the first
        // correction slows down, the jump takes the clock 9 ms behind, and it turns.
        let mut unaware = steering();
        let mut c = clock(11.0);
        let steers = steer_for(&mut unaware, &mut c, 2_000);
        assert_eq!(steers.first().map(|s| s.1), Some(Steer::Fast(-1.0)));
        assert!(
            steers.iter().any(|s| s.1 == Steer::Fast(1.0)),
            "it turns: {steers:?}"
        );
        // Guessing Chromium's 20 ms, it speeds up at once, and once.
        let mut guessing = ClockSteering::new(0.05, 20_000.0);
        let mut c = clock(11.0);
        let steers = steer_for(&mut guessing, &mut c, 2_000);
        let kinds: Vec<Steer> = steers.iter().take(2).map(|s| s.1).collect();
        assert_eq!(kinds, vec![Steer::Fast(1.0), Steer::Rest], "{steers:?}");
        assert!(c.error.abs() <= 2_600.0, "{}", c.error);
    }

    /// Firefox with a sound output: its clock moves against every rate change by about 160 ms
    /// of it (8 ms back when speeding up by 5 %, 8 ms forward when slowing down, and the reverse
    /// on returning), whatever Chromium's jumps are. Once each direction was measured, every
    /// correction is one excursion that ends on the timeline, either way.
    #[test]
    fn a_clock_moved_against_the_change_is_corrected_either_way_without_turning() {
        let mut s = ClockSteering::new(0.05, 0.0);
        let mut c = Clock {
            entry_jump: 0.0,
            against_change: 160_000.0,
            ..clock(0.0)
        };
        // The last two lie within the jump (8 ms) of the timeline: choosing by the entry's jump
        // alone would speed up from 7.6 ms ahead, land 0.4 ms behind, and turn.
        let start_errors = [
            -12_000.0, 12_000.0, -12_000.0, 12_000.0, -10_000.0, 9_000.0, 7_600.0, -7_600.0,
        ];
        let corrections = correct_each(&mut s, &mut c, &start_errors, 2_000);
        // The first of each direction measures its jumps; from the third on, one fast steer
        // each (no turn), and the clock within 2 ms of the timeline after it.
        for (i, one) in corrections.iter().enumerate().skip(2) {
            let (steers, error) = (&one.steers, one.ended);
            assert_eq!(fast_steers(steers), 1, "correction {i} turned: {steers:?}");
            assert!(
                error.abs() <= 2_000.0,
                "correction {i} ended {error} µs off: {steers:?}"
            );
        }
    }

    /// Chromium on a loaded host (a start-on-canplay bench run, 2026-12-07): leaving the normal
    /// rate still sets the clock back about 20 ms, and every change also takes effect about
    /// 150 ms late (the stretched sound already queued plays out), which reads as the clock
    /// moving against each change: 7.5 ms at ±5 %, and the reverse on returning. The learned
    /// aims then cross (a correction speeding up ends 7.5 ms short, one slowing down 7.5 ms
    /// short the other way). No correction turns more than once, no two rate changes come
    /// within 50 ms, and once the first correction measured the jumps each later one ends near
    /// the timeline.
    #[test]
    fn a_clock_whose_changes_take_effect_late_is_corrected_without_hunting() {
        let mut s = ClockSteering::new(0.05, 20_000.0);
        let mut c = Clock {
            against_change: 150_000.0,
            ..clock(0.0)
        };
        let start_errors = [45_000.0, -10_000.0, 15_000.0, -12_000.0, 15_000.0, 9_000.0];
        let corrections = correct_each(&mut s, &mut c, &start_errors, 3_000);
        for (i, (one, start_error)) in corrections.iter().zip(start_errors).enumerate() {
            let steers = &one.steers;
            // A fast steer right after another is a turn; a rest ends the correction.
            let most_turns = steers
                .split(|(_, steer)| !matches!(steer, Steer::Fast(_)))
                .map(|one| one.len().saturating_sub(1))
                .max();
            assert!(
                most_turns <= Some(1),
                "a correction from {start_error} µs turned {most_turns:?} times: {steers:?}"
            );
            // The first correction measures the jumps; each later one ends near the timeline.
            assert!(
                i == 0 || one.ended.abs() <= 2_000.0,
                "a correction from {start_error} µs ended {} µs off: {steers:?}",
                one.ended
            );
        }
        let rate_changes: Vec<(i64, Steer)> =
            corrections.into_iter().flat_map(|one| one.steers).collect();
        for pair in rate_changes.windows(2) {
            assert!(
                pair[1].0 - pair[0].0 >= 50,
                "rate changed twice within 50 ms: {pair:?}"
            );
        }
    }

    #[test]
    fn a_clock_between_crossed_aims_ends_the_correction_instead_of_turning_at_every_reading() {
        let mut s = ClockSteering::new(0.05, 20_000.0);
        // Exits learned as a loaded Chromium showed them: each carries the clock on 7.5 ms the
        // way the correction went, so speeding up aims 7.5 ms behind, slowing down 7.5 ms ahead.
        for direction in [1.0, -1.0] {
            s.jumps.exited(Some(0.0), direction);
            s.jumps.learn_exit(direction * 7_500.0);
        }
        let mut steers = Vec::new();
        for t in (0..=1_000).step_by(FRAME_MS as usize) {
            // 15 ms ahead; once a correction began, readings scattered around the timeline.
            let error = match steers.first() {
                None => 15_000.0,
                Some(_) if (t / FRAME_MS) % 2 == 0 => 600.0,
                Some(_) => -600.0,
            };
            s.record(ms(t), error);
            match s.steer(ms(t), s.error(ms(t))) {
                Steer::Hold => {}
                steer => steers.push((t, steer)),
            }
        }
        let kinds: Vec<Steer> = steers.iter().map(|s| s.1).collect();
        assert!(
            matches!(kinds[..], [Steer::Fast(_), Steer::Rest, ..]),
            "past both aims, the correction ends: {steers:?}"
        );
    }

    /// Frames in the three seconds a scattered correction is followed for.
    const SCATTER_FRAMES: usize = 3_000 / FRAME_MS as usize + 1;

    proptest! {
        #![proptest_config(deterministic(64))]

        /// `scatter`: each frame's reading error as a share of the scatter's full width, from
        /// −½ to ½ (shrinks toward readings without scatter).
        #[test]
        fn a_fast_correction_read_along_its_slope_ends_on_its_aim_through_scattered_readings(
            scatter in prop::collection::vec(-0.5..0.5f64, SCATTER_FRAMES)
        ) {
            // While the sound is stretched, Chromium's readings scatter by about 2.7 ms (sd; here
            // uniform within ±4.7 ms); at the normal rate by 0.3 ms.
            let mut s = steering();
            let mut c = clock(-30.0);
            let mut ended = None;
            for (t, share) in (0..=3_000).step_by(FRAME_MS as usize).zip(&scatter) {
                c.error += c.deviation * (FRAME_MS * 1000) as f64;
                let width = if c.deviation.abs() > GENTLE_RATE {
                    9_400.0
                } else {
                    1_000.0
                };
                s.record(ms(t), c.error + share * width);
                match s.steer(ms(t), s.error(ms(t))) {
                    Steer::Hold => {}
                    Steer::Fast(direction) => c.set(direction * 0.05),
                    Steer::Rest => {
                        ended = Some(c.error);
                        break;
                    }
                    Steer::Gentle(_) => unreachable!("nothing gentle before the end"),
                }
            }
            // It aims behind the timeline by the exit's gain, guessed at 2 ms before any was
            // learned, and ends within two frames at the fast rate of it (one frame in most
            // runs; two in about one in seventy scatters); a median of the scattered readings
            // ended anywhere within ±4 ms of it.
            let ended = ended.expect("the correction ends");
            let aim = -s.jumps.exit_gain(1.0);
            let frame_at_fast_rate = 0.05 * (FRAME_MS * 1000) as f64;
            prop_assert!(
                (ended - aim).abs() <= 2.0 * frame_at_fast_rate,
                "ended at {} µs",
                ended
            );
        }
    }

    #[test]
    fn the_exit_gain_is_learned_and_aimed_for() {
        let mut s = steering();
        assert_eq!(s.jumps.exit_gain(1.0), EXIT_GAIN_GUESS);
        let mut c = Clock {
            exit_gain: 4_000.0,
            ..clock(-10.0)
        };
        // Eight corrections of 10 ms, 2 s apart, on one running clock.
        for t in (0..16_000).step_by(FRAME_MS as usize) {
            if t % 2_000 == 0 {
                c.error = -10_000.0;
            }
            c.error += c.deviation * (FRAME_MS * 1000) as f64;
            s.record(ms(t), c.error);
            match s.steer(ms(t), s.error(ms(t))) {
                Steer::Hold => {}
                Steer::Rest => c.set(0.0),
                Steer::Gentle(direction) => c.set(direction * GENTLE_RATE),
                Steer::Fast(direction) => c.set(direction * 0.05),
            }
        }
        let gain = s.jumps.exit_gain(1.0);
        assert!((gain - 4_000.0).abs() <= 300.0, "learned {gain}");
        // Aimed 4 ms behind, the correction ends on the timeline once the exit gave its 4 ms.
        assert!(c.error.abs() <= 1_000.0, "{}", c.error);
    }

    #[test]
    fn one_late_reading_starts_nothing() {
        let mut s = steering();
        for t in (0..=1_000).step_by(16) {
            let error = if t == 496 { -20_000.0 } else { 0.0 };
            s.record(ms(t), error);
            assert_eq!(s.steer(ms(t), s.error(ms(t))), Steer::Hold);
        }
    }

    #[test]
    fn after_a_fast_correction_the_clock_settles_before_the_next() {
        let mut s = steering();
        let mut t = 0;
        let mut steer_at = |s: &mut ClockSteering, error: f64| {
            t += 16;
            s.record(ms(t), error);
            (t, s.steer(ms(t), s.error(ms(t))))
        };
        let fast = (0..10)
            .map(|_| steer_at(&mut s, -9_000.0))
            .find(|x| x.1 != Steer::Hold);
        assert_eq!(fast.map(|x| x.1), Some(Steer::Fast(1.0)));
        let rest = (0..10)
            .map(|_| steer_at(&mut s, 0.0))
            .find(|x| x.1 != Steer::Hold);
        let (rested_at, steer) = rest.expect("the clock reads on time");
        assert_eq!(steer, Steer::Rest);
        // The return to rest sets the clock back 9 ms: nothing for a while, then fast again.
        let next = (0..40)
            .map(|_| steer_at(&mut s, -9_000.0))
            .find(|x| x.1 != Steer::Hold);
        let (next_at, steer) = next.expect("corrected after settling");
        assert_eq!(steer, Steer::Fast(1.0));
        assert!(next_at >= rested_at + 300, "{rested_at} {next_at}");
    }

    #[test]
    fn a_fast_correction_the_clock_ignores_is_abandoned() {
        let mut s = steering();
        let mut steers = Vec::new();
        for t in (0..=4_000).step_by(16) {
            s.record(ms(t), -10_000.0);
            match s.steer(ms(t), s.error(ms(t))) {
                Steer::Hold => {}
                steer => steers.push((t, steer)),
            }
        }
        assert_eq!(steers[0].1, Steer::Fast(1.0));
        assert_eq!(steers[1].1, Steer::Rest);
        assert!(steers[1].0 - steers[0].0 >= 3_000, "{steers:?}");
        assert_eq!(
            s.deadline(),
            Some(ms(steers[2].0) + MAX_FAST),
            "and tried again"
        );
    }

    #[test]
    fn the_clock_is_not_steered_by_once_it_is_no_longer_read() {
        let mut s = steering();
        s.record(ms(0), 5_000.0);
        assert!(s.is_reading(ms(50)));
        assert!(!s.is_reading(ms(200)));
        assert_eq!(s.error(ms(200)), None);
    }
}
