//! How early a player calls `play()` so that its media moves at the instant asked for.
//!
//! A paused, ready `<video>` takes tens of milliseconds from `play()` to moving media. The
//! player adapter learns that lead from its own measured starts and calls `play()` early by it,
//! so that a `PlayAt` moves the media at the instant asked (the controller counts on that, and
//! measures only what is left over, for its margins). The browser adapter and the simulator's
//! player model both time their starts with this module: the call instant
//! ([`StartLead::call_at`]), the start under way ([`PendingStart`]: what counts as its first
//! moving frame, and whether it measures the lead), and the estimator ([`StartLead`]); so the
//! sync benchmark runs the start path that ships.
//!
//! Leads are [`Span`]s: a lead is a length of time on the local clock, whatever the caller's
//! own units (the browser speaks `performance.now()` milliseconds, the simulator microseconds).

use super::time::{LocalTime, MediaTime, Span};
use crate::stats;
use std::collections::VecDeque;

/// The lead before any start is measured. Guessed high: leaving rate 1.0 sets Chromium's media
/// clock back by about 20 ms, so a start that lands early is caught up with by that jump and
/// little more, while one that lands late must make up the jump as well.
pub const GUESS: Span = Span::from_millis(80);
/// The lead before any start is measured, in Firefox: its media moved 1–28 ms after `play()`
/// (start lead 0–22 ms extrapolated, mostly 2–5 ms; `docs/measurements/player.md`), so
/// Chromium's guess made its first start land about 70 ms early.
pub const FIREFOX_GUESS: Span = Span::from_millis(10);
/// The lead before any muted start is measured, in Chromium: the background test's muted viewer
/// had its media move 33–47 ms after `play()` (12 starts, 2026-12-06) where its audible starts
/// took 65–97 ms, so with one lead for both its muted starts landed 2–55 ms early, which the
/// ±5 % rate then took most of the second to remove (`docs/measurements/background.md`;
/// likely Chromium sending a muted element's sound to no device, so no audio output has to
/// start: not checked). Firefox keeps its own guess either way (unmeasured muted).
pub const MUTED_GUESS: Span = Span::from_millis(45);
/// How many recent starts the lead is the median of: one slow start on a busy machine must not
/// make the next ones early.
pub const HISTORY: usize = 5;
/// A measured lead above this is an outlier (a tab in the background, a debugger), and one
/// below zero is no start of this player's: neither is learned.
pub const MAX: Span = Span::from_millis(250);
/// A frame this far past a start's position shows the media moving (not a paused report or
/// the start frame again)...
const MOVED: Span = Span::from_micros(100);
/// ...and one further than this belongs to something else (a seek), not to the start.
const MOVED_TOO_FAR: Span = Span::from_secs(1);

/// The start lead learned from measured starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartLead {
    /// The latest accepted leads, oldest first, at most [`HISTORY`].
    recent: VecDeque<Span>,
    /// The lead before any is measured.
    guess: Span,
}

impl Default for StartLead {
    fn default() -> StartLead {
        StartLead::with_guess(GUESS)
    }
}

impl StartLead {
    pub fn new() -> StartLead {
        StartLead::default()
    }

    /// A lead that is `guess` until a start is measured.
    pub fn with_guess(guess: Span) -> StartLead {
        StartLead {
            recent: VecDeque::new(),
            guess,
        }
    }

    /// How early to call `play()`: the median of the recent measured leads (the upper middle
    /// one of an even count, see [`crate::stats`]), or the guess before any.
    pub fn lead(&self) -> Span {
        let micros: Vec<f64> = self.recent.iter().map(|s| s.as_micros() as f64).collect();
        stats::median(&micros).map_or(self.guess, |m| Span::from_micros(m as i64))
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

    /// When to call `play()` for the media to move at `at`.
    pub fn call_at(&self, at: LocalTime) -> LocalTime {
        at - self.lead()
    }

    /// Learns the lead `start` measured, if it measured one: started at `started_at` (from
    /// [`PendingStart::on_frame`]), told by a `precise` frame (timed by its presentation, as
    /// `requestVideoFrameCallback` times it, not by a timer). Returns whether it was learned.
    pub fn learn_start(
        &mut self,
        start: &PendingStart,
        started_at: LocalTime,
        precise: bool,
    ) -> bool {
        start.measures_lead && precise && self.learn(started_at - start.called_at)
    }
}

/// A player's start leads, audible and muted apart: a muted Chromium film moves about twice as
/// fast after `play()` ([`MUTED_GUESS`]), so one history for both would make the starts of
/// whichever state is rarer land off by the difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartLeads {
    audible: StartLead,
    muted: StartLead,
}

impl StartLeads {
    /// Leads that are `audible` and `muted` until a start of each is measured.
    pub fn with_guesses(audible: Span, muted: Span) -> StartLeads {
        StartLeads {
            audible: StartLead::with_guess(audible),
            muted: StartLead::with_guess(muted),
        }
    }

    /// The lead of a start made with the element `muted` or not.
    pub fn of(&self, muted: bool) -> &StartLead {
        if muted {
            &self.muted
        } else {
            &self.audible
        }
    }

    /// The lead a start made with the element `muted` or not learns from, as
    /// [`StartLead::learn_start`] (a start says whether it was muted: [`PendingStart::muted`]).
    pub fn of_mut(&mut self, muted: bool) -> &mut StartLead {
        if muted {
            &mut self.muted
        } else {
            &mut self.audible
        }
    }
}

/// The element as `play()` found it, which decides whether the start can measure the lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtCall {
    pub paused: bool,
    pub seeking: bool,
    /// It had data to play on (`readyState` of `HAVE_FUTURE_DATA` or more): not still loading.
    pub ready_to_play: bool,
}

impl AtCall {
    /// Only a start from a paused, settled, loaded element measures the lead. An element still
    /// loading presents its first frame when the data comes, at the clip's first frame time
    /// (7 ms into the tests' clip, not the 0 it reads), and that first picture looks like media
    /// that moved: a Chromium page that pressed Play the moment its film could play learned a
    /// lead of 0.6 ms from it, and its next start landed 70 ms late (`bench e2e --slow`,
    /// 2026-12-06). A seek under way would add its own latency.
    pub fn measures_lead(self) -> bool {
        self.paused && !self.seeking && self.ready_to_play
    }
}

/// A start under way: `play()` was called, and no frame has shown the media moving yet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PendingStart {
    /// When the media was asked to move.
    pub requested_at: LocalTime,
    /// When `play()` was called: ahead of `requested_at` by the lead, or later if that had
    /// passed.
    pub called_at: LocalTime,
    /// The position at the call (or of a seek since), which the first moving frame is counted
    /// from...
    pub from: MediaTime,
    /// ...at the playback rate at the call.
    pub rate: f64,
    /// Whether the start measures the lead: the element was paused, settled and loaded when
    /// `play()` was called ([`AtCall::measures_lead`]), and no seek overlapped the start since
    /// (its latency would be the seek's as much as the start's).
    pub measures_lead: bool,
    /// Whether the element was muted at the call, which lead it measures ([`StartLeads`]).
    pub muted: bool,
}

/// What a frame says of a [`PendingStart`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StartProgress {
    /// The media has not moved yet: the start is still pending.
    Pending,
    /// The start is over, but says nothing: the frame is too far from where it began (a seek)
    /// or the rate is none.
    Lost,
    /// The media was at the start's position and moving at this instant: the frame's
    /// presentation, extrapolated back over the media it moved.
    Started(LocalTime),
}

impl PendingStart {
    /// `play()` called at `called_at` for the media to move at `requested_at`, from `from` at
    /// `rate`, on an element found as `at_call`.
    pub fn new(
        requested_at: LocalTime,
        called_at: LocalTime,
        from: MediaTime,
        rate: f64,
        at_call: AtCall,
    ) -> PendingStart {
        PendingStart {
            requested_at,
            called_at,
            from,
            rate,
            measures_lead: at_call.measures_lead(),
            muted: false,
        }
    }

    /// The same start, called on an element `muted` or not.
    pub fn muted(self, muted: bool) -> PendingStart {
        PendingStart { muted, ..self }
    }

    /// A seek to `target` while the start is pending: it starts from there, and measures no
    /// lead.
    pub fn seeked(&mut self, target: MediaTime) {
        self.from = target;
        self.measures_lead = false;
    }

    /// What a frame showing `media` presented at `presented_at` says of the start; `playing`:
    /// the frame comes from the playing element (not a report of the paused position).
    pub fn on_frame(
        &self,
        media: MediaTime,
        presented_at: LocalTime,
        playing: bool,
    ) -> StartProgress {
        let moved = media - self.from;
        if !playing || moved <= MOVED {
            return StartProgress::Pending;
        }
        if moved > MOVED_TOO_FAR || !(self.rate > 0.0) {
            return StartProgress::Lost;
        }
        StartProgress::Started(presented_at - moved.mul_f64(1.0 / self.rate))
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
    fn a_guess_holds_until_the_players_own_start_is_measured() {
        let mut lead = StartLead::with_guess(FIREFOX_GUESS);
        assert_eq!(lead.lead(), FIREFOX_GUESS);
        let at = LocalTime::from_millis_f64(1_000.0);
        assert_eq!(lead.call_at(at), LocalTime::from_millis_f64(990.0));
        assert!(lead.learn(ms(4)));
        assert_eq!(lead.lead(), ms(4));
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

    fn pending(settled: bool) -> PendingStart {
        let at = LocalTime::from_millis_f64(1_000.0);
        let lead = StartLead::new();
        PendingStart::new(
            at,
            lead.call_at(at),
            MediaTime::from_secs_f64(10.0),
            2.0,
            AtCall {
                paused: true,
                seeking: !settled,
                ready_to_play: true,
            },
        )
    }

    #[test]
    fn only_a_paused_settled_loaded_element_measures_the_lead() {
        let loaded = AtCall {
            paused: true,
            seeking: false,
            ready_to_play: true,
        };
        assert!(loaded.measures_lead());
        for other in [
            AtCall {
                paused: false,
                ..loaded
            },
            AtCall {
                seeking: true,
                ..loaded
            },
            AtCall {
                ready_to_play: false,
                ..loaded
            },
        ] {
            assert!(!other.measures_lead(), "{other:?}");
        }
    }

    /// The page that pressed Play on `canplay` (2026-12-06): `play()` called at 1610.0 ms on a
    /// film still loading at 0, whose first picture (media 7 ms) was presented at 1617.6 ms.
    #[test]
    fn a_start_on_a_loading_element_learns_no_lead_from_its_first_picture() {
        let requested = LocalTime::from_millis_f64(1_685.85);
        let called = LocalTime::from_millis_f64(1_610.0);
        let loading = AtCall {
            paused: true,
            seeking: false,
            ready_to_play: false,
        };
        let start = PendingStart::new(
            requested,
            called,
            MediaTime::from_secs_f64(0.0),
            1.0,
            loading,
        );
        let first_picture = start.on_frame(
            MediaTime::from_secs_f64(0.007),
            LocalTime::from_millis_f64(1_617.6),
            true,
        );
        let StartProgress::Started(at) = first_picture else {
            panic!("{first_picture:?}");
        };
        let mut lead = StartLead::new();
        assert!(!lead.learn_start(&start, at, true));
        assert_eq!(
            lead.lead(),
            GUESS,
            "the guess stands until a real start is measured"
        );
        // The same start on a loaded element would have learned the 0.6 ms lead.
        let loaded = PendingStart::new(
            requested,
            called,
            MediaTime::from_secs_f64(0.0),
            1.0,
            AtCall {
                ready_to_play: true,
                ..loading
            },
        );
        assert!(lead.learn_start(&loaded, at, true));
        assert!(lead.lead() < Span::from_millis(1));
    }

    #[test]
    fn play_is_called_early_by_the_lead() {
        let mut lead = StartLead::new();
        let at = LocalTime::from_millis_f64(1_000.0);
        assert_eq!(lead.call_at(at), at - GUESS);
        lead.learn(ms(40));
        assert_eq!(lead.call_at(at), at - ms(40));
    }

    #[test]
    fn the_first_moving_frame_ends_a_start() {
        let start = pending(true);
        let media = |s: f64| MediaTime::from_secs_f64(s);
        let t = LocalTime::from_millis_f64(1_050.0);
        // A paused report, or a frame that has not moved: still pending.
        assert_eq!(
            start.on_frame(media(10.5), t, false),
            StartProgress::Pending
        );
        assert_eq!(start.on_frame(media(10.0), t, true), StartProgress::Pending);
        // 100 ms of media at rate 2: started 50 ms before the frame was presented.
        assert_eq!(
            start.on_frame(media(10.1), t, true),
            StartProgress::Started(LocalTime::from_millis_f64(1_000.0))
        );
        // A frame far away is a seek's: the start is over, and says nothing.
        assert_eq!(start.on_frame(media(12.0), t, true), StartProgress::Lost);
    }

    #[test]
    fn only_a_settled_start_with_a_precise_frame_is_learned() {
        let started = LocalTime::from_millis_f64(1_000.0);
        let mut lead = StartLead::new();
        // Called 80 ms early, moving at the instant asked: an 80 ms lead.
        assert!(!lead.learn_start(&pending(true), started, false));
        assert!(!lead.learn_start(&pending(false), started, true));
        let mut seeked = pending(true);
        seeked.seeked(MediaTime::from_secs_f64(30.0));
        assert_eq!(seeked.from, MediaTime::from_secs_f64(30.0));
        assert!(!lead.learn_start(&seeked, started, true));
        assert_eq!(lead, StartLead::new());
        assert!(lead.learn_start(&pending(true), started - ms(30), true));
        assert_eq!(lead.lead(), ms(50));
    }

    /// The background test's muted viewer (2026-12-06): its audible start took 88 ms from
    /// `play()` to moving media, its muted one 41 ms.
    #[test]
    fn muted_and_audible_starts_keep_their_own_leads() {
        let mut leads = StartLeads::with_guesses(GUESS, MUTED_GUESS);
        assert_eq!(leads.of(true).lead(), MUTED_GUESS);
        let loaded = AtCall {
            paused: true,
            seeking: false,
            ready_to_play: true,
        };
        let at = |ms: f64| LocalTime::from_millis_f64(ms);
        let audible = PendingStart::new(at(1_624.8), at(1_545.2), MediaTime(0), 1.0, loaded);
        assert!(leads
            .of_mut(audible.muted)
            .learn_start(&audible, at(1_633.5), true));
        assert_eq!(leads.of(false).lead(), Span::from_micros(88_300));
        assert_eq!(
            leads.of(true).lead(),
            MUTED_GUESS,
            "an audible start says nothing of muted ones"
        );
        let muted =
            PendingStart::new(at(16_715.0), at(16_626.7), MediaTime(0), 1.0, loaded).muted(true);
        assert!(leads
            .of_mut(muted.muted)
            .learn_start(&muted, at(16_667.4), true));
        assert_eq!(leads.of(true).lead(), Span::from_micros(40_700));
        assert_eq!(leads.of(false).lead(), Span::from_micros(88_300));
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
