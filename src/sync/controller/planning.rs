//! Planning: turning a state into seeks and scheduled starts.
//!
//! A new state becomes a plan: seek to the anchor while paused and `PlayAt` the local instant
//! of the scheduled start; keep playing until a scheduled pause, then pause and make sure the
//! frame is the anchor's. Large errors (joining late, a start missed, a long stall) are
//! corrected by a seek that lands paused and starts on a scheduled instant, far enough ahead
//! for the learned seek and start latencies. Each seek is attributed to a cause, and seeks no
//! intent asked for are rate-limited with exponential back-off: there is no seek loop.

use super::timers::Timer;
use super::{Controller, Mode, PlayerCommand, SeekCause};
use crate::num::Clamp;
use crate::sync::clock::RoomMap;
use crate::sync::state::{Stamp, Versioned};
use crate::sync::time::{LocalTime, MediaTime, Span};
use std::collections::VecDeque;

/// The most a start aims ahead of the timeline ([`Controller::start_ahead`]).
const MAX_START_AHEAD: Span = Span::from_millis(15);
/// Room left after a catch-up's seek and start, beyond their learned latencies.
const CATCH_UP_SLACK: Span = Span::from_millis(30);
/// Room left before a scheduled start, beyond the seek and start latencies it needs.
const START_SLACK: Span = Span::from_millis(5);
/// Seeks no intent asked for within this of the last are "in a row" for the back-off...
const BACKOFF_RUN: Span = Span::from_secs(30);
/// ...whose gap doubles up to this.
const MAX_SEEK_GAP: Span = Span::from_secs(60);

/// What the plan was made for, and the seek back-off.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Planning {
    /// The state the plan was made for (`None`: plan afresh at the next update).
    pub(super) planned: Option<Stamp>,
    /// Whether a paused player found off its position was re-seeked already (only once).
    pub(super) paused_fixed: bool,
    /// The gap the back-off keeps after the next seek no intent asked for.
    auto_seek_gap: Span,
    /// When the last seek no intent asked for was issued.
    last_auto_seek: Option<LocalTime>,
    /// Whether the latest seek was a catch-up of our own ([`Controller::catch_up`]) with a
    /// room already moving, rather than one for a start or a pause of the group.
    pub(super) catching_up: bool,
}

impl Planning {
    pub(super) fn new(min_seek_gap: Span) -> Planning {
        Planning {
            planned: None,
            paused_fixed: false,
            auto_seek_gap: min_seek_gap,
            last_auto_seek: None,
            catching_up: false,
        }
    }
}

impl Controller {
    /// Turns a new state into commands.
    pub(super) fn plan(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let p = &v.playback;
        let la = map.to_local(p.anchor_room);
        let running = self.moving() && !self.latency.seeking() && self.playing_cmd;
        self.planning.paused_fixed = false;
        if p.playing {
            if la > now && p.lead_in_rate == 0.0 {
                // A scheduled start from a held position.
                let need_seek = self.playing_cmd
                    || self.latency.seeking()
                    || self.last_obs.is_none_or(|o| {
                        (o.media_time - p.anchor_media).abs() > self.cfg.paused_tolerance
                    });
                let prep = if need_seek {
                    self.latency.seek_margin()
                } else {
                    Span::ZERO
                } + self.latency.start_lateness()
                    + START_SLACK;
                if la - now < prep {
                    self.catch_up(now, v, map, cause, out);
                    return;
                }
                let seek = need_seek.then_some(cause);
                let speed = p.rate * (1.0 + map.skew);
                self.restart_at(now, la, p.anchor_media, speed, seek, out);
            } else if running {
                self.mode = Mode::Playing;
            } else {
                self.catch_up(now, v, map, cause, out);
            }
        } else if la > now && p.lead_in_rate > 0.0 && running {
            self.mode = Mode::PausingAt(la);
        } else {
            self.stop_at(now, p.anchor_media, cause, out);
        }
    }

    /// Seeks (paused) to where the timeline will be once the seek and start are done, and
    /// schedules the start for that instant.
    pub(super) fn catch_up(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let p = &v.playback;
        let land =
            now + self.latency.seek_margin() + self.latency.start_lateness() + CATCH_UP_SLACK;
        let room_land = map.to_room(land);
        let x = p.position_at(room_land);
        if p.speed_at(room_land) == 0.0 {
            self.stop_at(now, x, cause, out);
            return;
        }
        let speed = p.speed_at(room_land) * (1.0 + map.skew);
        self.restart_at(now, land, x, speed, Some(cause), out);
        self.planning.catching_up = true;
    }

    /// Pauses if playing, seeks to `from` when `seek` names a cause, and schedules a start
    /// from there at `at`, running at `speed`: the one way a plan or a catch-up starts.
    fn restart_at(
        &mut self,
        now: LocalTime,
        at: LocalTime,
        from: MediaTime,
        speed: f64,
        seek: Option<SeekCause>,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        if self.playing_cmd {
            out.push_back(PlayerCommand::Pause);
            self.playing_cmd = false;
        }
        if let Some(cause) = seek {
            self.seek_to(now, from, cause, out);
        }
        self.set_speed_for(now, speed, out);
        self.schedule_start(at, from, out);
        self.rate.ideal = speed;
    }

    /// A catch-up for an error too large for the rate, unless a seek is under way or the
    /// back-off holds the next one.
    pub(super) fn catch_up_if_allowed(
        &mut self,
        now: LocalTime,
        v: &Versioned,
        map: &RoomMap,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        if !self.latency.seeking() && !self.timers.is_running(Timer::SeekBackoff, now) {
            let cause = self.cause_at(now);
            self.catch_up(now, v, map, cause, out);
        }
    }

    /// Pauses and puts the player exactly on `x`.
    pub(super) fn stop_at(
        &mut self,
        now: LocalTime,
        x: MediaTime,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        let mut need_seek = self
            .last_obs
            .is_none_or(|o| (o.media_time - x).abs() > self.cfg.paused_tolerance)
            || self.latency.seeking();
        if self.playing_cmd {
            out.push_back(PlayerCommand::Pause);
            self.playing_cmd = false;
            need_seek = true;
        }
        if need_seek {
            self.seek_to(now, x, cause, out);
        }
        self.planning.paused_fixed = false;
        self.mode = Mode::Paused;
        self.rate.error = None;
    }

    /// Makes the player start at a local instant with a media time given by the plan.
    fn schedule_start(
        &mut self,
        at: LocalTime,
        from: MediaTime,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        // Rate first, so the start already runs at the right speed.
        // The player calls `play()` early by the lead it learned (see `crate::sync::start_lead`):
        // what is measured here is what is left over, for the margins only. Compensating it
        // as well would make every start after the first early by whatever the first was late.
        let play_at = at - self.start_ahead();
        out.push_back(PlayerCommand::PlayAt(play_at));
        self.playing_cmd = true;
        self.rate.reset_correction();
        self.landing_unchecked = false;
        self.mode = Mode::Starting {
            at,
            play_at,
            from,
            retries: 0,
            restart: false,
        };
    }

    /// How far ahead of the timeline a start aims. A browser's start lands some milliseconds
    /// either side of the instant asked for, and the first correction after it costs the clock
    /// the learned entry jump (see [`crate::sync::clock_steering`]): a start ahead by up to the
    /// jump is corrected by the jump itself, one behind pays the jump on top. So starts aim
    /// ahead by half the jump: most land where the jump alone, or nothing, corrects.
    fn start_ahead(&self) -> Span {
        Span((self.clock.entry_jump() / 2.0).clamp_to(0.0, MAX_START_AHEAD.0 as f64) as i64)
    }

    /// Seeks to `to`, attributed to `cause`; a seek no intent asked for starts the back-off.
    pub(super) fn seek_to(
        &mut self,
        now: LocalTime,
        to: MediaTime,
        cause: SeekCause,
        out: &mut VecDeque<PlayerCommand>,
    ) {
        out.push_back(PlayerCommand::SeekTo(to));
        self.planning.catching_up = false;
        self.latency
            .seek_issued(now, to, self.last_obs.map(|o| o.media_time));
        self.forget_errors(now);
        self.rate.error = None;
        self.rate.resting_since = None;
        match cause {
            SeekCause::Intent => self.stats.seeks_intent += 1,
            SeekCause::Join => self.stats.seeks_join += 1,
            SeekCause::Stall => self.stats.seeks_stall += 1,
            SeekCause::Drift => self.stats.seeks_drift += 1,
        }
        if cause != SeekCause::Intent {
            // Back-off for seeks nobody asked for: a second one soon after doubles the gap.
            let planning = &mut self.planning;
            let recent = planning
                .last_auto_seek
                .is_some_and(|t| now - t < BACKOFF_RUN);
            planning.auto_seek_gap = if recent {
                (planning.auto_seek_gap + planning.auto_seek_gap).min(MAX_SEEK_GAP)
            } else {
                self.cfg.min_seek_gap
            };
            planning.last_auto_seek = Some(now);
            self.timers
                .set(Timer::SeekBackoff, now + planning.auto_seek_gap);
        }
    }

    /// What a seek made now is attributed to: a stall whose grace runs, else an intent whose
    /// grace runs, else a join whose grace runs, else drift.
    pub(super) fn cause_at(&self, now: LocalTime) -> SeekCause {
        if self.timers.is_running(Timer::StallGrace, now) {
            SeekCause::Stall
        } else if self.timers.is_running(Timer::IntentGrace, now) {
            SeekCause::Intent
        } else if self.timers.is_running(Timer::JoinGrace, now) {
            SeekCause::Join
        } else {
            SeekCause::Drift
        }
    }
}
