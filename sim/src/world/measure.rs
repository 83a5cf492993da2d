//! How the world measures what no engine can see: every viewer's true position at the same
//! true instant, sampled through the run, and the tallies taken at its end.

use super::outcome::{OffsetSample, RoomSample};
use super::World;
use insieme::room::shown_offset::{room_middle, within_ms};
use insieme::sync::presentation::picture_locked_to_refresh;
use insieme::sync::{Engine, Span};

/// Convergence tolerance used for "in sync": viewers within 20 ms of one another, as the
/// end-to-end benchmark counts it too (`examples/e2e_bench.rs`).
pub const IN_SYNC_MS: f64 = 20.0;
/// Seeks within this long after an intent or stall are attributed to it.
const CAUSE_WINDOW_US: i64 = 5_000_000;
/// A newcomer's seeks in its first moments are its join, not drift.
const JOIN_WINDOW_US: i64 = 10_000_000;
/// How long after a handover viewers are watched for a jump.
const HANDOVER_WINDOW_US: i64 = 5_000_000;

/// A reference handover under watch: when it began, the room's speed, and where each viewer
/// included then stood (ms).
pub(super) struct Handover {
    pub(super) t0: i64,
    pub(super) speed: f64,
    pub(super) base: Vec<(usize, f64)>,
}

impl World {
    /// Presents the vsyncs due right now before a sample, so that a sample never sees one
    /// viewer past a vsync and another not yet (a one-frame split that no viewer shows).
    fn present_due_vsyncs(&mut self) {
        let now = self.now;
        let due: Vec<usize> = self
            .present()
            .filter(|(_, n)| n.player.spec.display().is_some() && n.player_timer.at == Some(now))
            .map(|(i, _)| i)
            .collect();
        for slot in due {
            if let Some(n) = self.slots[slot].node.as_mut() {
                n.player_timer.serve_early();
            }
            self.wake_player(slot);
        }
    }

    /// Counts what the engine on `slot` did while its node ran, from `joined_at` until `until`.
    pub(super) fn tally(&mut self, slot: usize, engine: &Engine, joined_at: i64, until: i64) {
        let changes = engine.stats().controller.rate_changes;
        let secs = (until - joined_at).max(0) as f64 / 1e6;
        if self.sc.hostile.is_some_and(|h| h.slot == slot) {
            return;
        }
        self.out.rejected += rejected(engine);
        self.out.holds += engine.stats().holds;
        self.out.rate_changes += changes;
        self.out.fast_corrections += engine.stats().controller.fast_corrections;
        self.out.viewer_s += secs;
        let by_slot = &mut self.out.rate_changes_by_slot[slot];
        by_slot.0 += changes;
        by_slot.1 += secs;
    }

    /// Takes one sample: who is in sync, how far apart the viewers are, whether a change has
    /// converged, and how far viewers jump across a handover.
    pub(super) fn sample(&mut self) {
        self.present_due_vsyncs();
        let now = self.now;
        let lead = self
            .honest()
            .filter_map(|(_, n)| n.engine.playback().map(|v| v.stamp))
            .max();
        if lead != self.lead_stamp {
            self.lead_stamp = lead;
            if self.pending.is_none() && self.converged_once {
                // A state change nobody scripted (a buffering hold or release).
                self.pending = Some(now);
                self.pending_after = lead;
                self.out.converge_ms.push(None);
            }
        }
        struct View {
            slot: usize,
            pos_ms: f64,
            /// What the viewer shows (`pos_ms` without a display model).
            shown_ms: f64,
            /// The picture's error its engine would tell its people list, ms.
            picture_ms: Option<f64>,
            ok: bool,
            established: bool,
            stalled: bool,
        }
        let mut views = Vec::new();
        for (slot, n) in self.honest() {
            let s = &self.slots[slot];
            let local = s.clock.local(now as f64);
            let pos_ms = n.player.pos_at(now) * 1e3;
            let agrees = n.engine.playback().map(|v| v.stamp) == lead && lead.is_some();
            let near = n
                .engine
                .expected_position(local)
                .is_some_and(|e| (e.as_secs_f64() * 1e3 - pos_ms).abs() <= IN_SYNC_MS);
            let stalled = n.player.is_stalled();
            // Doing what the state says (moving or still), not merely near its position.
            let moving_ok = n
                .engine
                .expected_speed(local)
                .is_some_and(|v| (v > 0.0) == n.player.moving());
            let ok = n.player.loaded() && agrees && near && moving_ok && !stalled;
            views.push(View {
                slot,
                pos_ms,
                shown_ms: n.player.shown_at(now) * 1e3,
                picture_ms: n.engine.picture_error(local).map(|e| e.as_millis_f64()),
                ok,
                established: n.included || now - n.joined_at > JOIN_WINDOW_US,
                stalled,
            });
        }
        for v in &views {
            let n = self.slots[v.slot].node.as_mut().unwrap();
            if v.ok && !n.included {
                n.included = true;
                if let Some(j) = self
                    .join_times
                    .iter()
                    .find(|(s, g, _)| *s == v.slot && *g == n.gen)
                {
                    if j.2 > 0 {
                        let ms = (now - j.2) as f64 / 1e3;
                        self.out.join_ms = Some(self.out.join_ms.map_or(ms, |m: f64| m.max(ms)));
                    }
                }
            }
        }
        let rooms = self.honest().filter_map(|(slot, n)| {
            let local = self.slots[slot].clock.local(now as f64);
            n.engine.room_time(local).map(|r| r.0 as f64 / 1e3)
        });
        self.out.room.push(RoomSample {
            at_s: now as f64 / 1e6,
            spread_ms: spread(rooms),
            states_agree: self.states_agree(),
        });
        // Convergence after a change: the change has taken effect (its anchor passed) and
        // everyone established is in sync with the state and with each other.
        let in_effect = self.honest().any(|(slot, n)| {
            let local = self.slots[slot].clock.local(now as f64);
            match (n.engine.playback(), n.engine.room_time(local)) {
                (Some(v), Some(r)) => Some(v.stamp) == lead && r >= v.playback.anchor_room,
                _ => false,
            }
        });
        let group: Vec<&View> = views
            .iter()
            .filter(|v| v.established && !v.stalled)
            .collect();
        if let Some(t0) = self.pending {
            let all_ok = in_effect
                && !group.is_empty()
                && group.iter().all(|v| v.ok)
                && lead >= self.pending_after;
            let spread = spread(group.iter().map(|v| v.pos_ms));
            if all_ok && spread <= IN_SYNC_MS {
                if let Some(last) = self.out.converge_ms.last_mut() {
                    *last = Some((now - t0) as f64 / 1e3);
                }
                self.pending = None;
                self.converged_once = true;
            }
        }
        if self.pending.is_none() && self.converged_once {
            let included: Vec<&View> = views
                .iter()
                .filter(|v| !v.stalled && self.slots[v.slot].node.as_ref().unwrap().included)
                .collect();
            if included.len() >= 2 {
                self.out.offsets.push(OffsetSample {
                    at_s: now as f64 / 1e6,
                    shown_ms: spread(included.iter().map(|v| v.shown_ms)),
                    clock_ms: spread(included.iter().map(|v| v.pos_ms)),
                });
                self.judge_self_estimates(
                    &included
                        .iter()
                        .map(|v| (v.slot, v.shown_ms, v.picture_ms))
                        .collect::<Vec<_>>(),
                );
            }
        }
        if let Some(h) = &self.handover {
            if now - h.t0 <= HANDOVER_WINDOW_US {
                for (slot, p0) in &h.base {
                    if let Some(n) = self.slots[*slot].node.as_ref() {
                        let expect = p0 + h.speed * (now - h.t0) as f64 / 1e3;
                        let dev = (n.player.pos_at(now) * 1e3 - expect).abs();
                        let j = self.out.jump_ms.get_or_insert(0.0);
                        *j = j.max(dev);
                    }
                }
            }
        }
    }

    /// How far the offset each viewer's people list shows (its picture's error less the median
    /// of everyone's, `insieme::room::people`) is from its true offset (what it shows less the
    /// median of what everyone shows, as `bench e2e` measures it), for the viewers in sync
    /// (`(slot, shown ms, picture error ms)`). The page rounds to whole ms and hears the others'
    /// errors a little late; here every engine's is current.
    fn judge_self_estimates(&mut self, viewers: &[(usize, f64, Option<f64>)]) {
        let shown: Vec<f64> = viewers.iter().map(|v| v.1).collect();
        // Each page's picture error and precision, and the room's middle of them, as
        // `People::offset_from_room` takes them: the coarser precision is what the list shows.
        let within: Vec<f64> = viewers
            .iter()
            .map(|v| self.picture_within_ms(v.0))
            .collect();
        let told: Vec<(f64, f64)> = viewers
            .iter()
            .zip(&within)
            .filter_map(|(v, &w)| Some((v.2?, w)))
            .collect();
        let (Some(room), room_told) = (
            insieme::stats::median_interpolated(&shown),
            room_middle(&told),
        ) else {
            return;
        };
        for (&(slot, shown_ms, picture_ms), within_ms) in viewers.iter().zip(within) {
            let truth = shown_ms - room;
            let by_slot = &mut self.out.true_offset_by_slot[slot];
            by_slot.0 += truth;
            by_slot.1 += 1;
            match (picture_ms, room_told) {
                (Some(mine), Some((room_told, room_within))) => {
                    let error = (mine - room_told - truth).abs();
                    self.out.self_estimate_errors_ms.push(error);
                    let shown_within = within_ms.max(room_within.ceil());
                    self.out
                        .self_estimate_outside_ms
                        .push((error - shown_within).max(0.0));
                }
                _ => self.out.self_estimate_unknown += 1,
            }
        }
    }

    /// How far either way the page on `slot` says its picture may be from its error, whole ms,
    /// as the app works it out (`BrowserKind::picture_within`) from the refresh and the frame
    /// duration, which the simulator takes as measured from the start; 0 with no display (a
    /// picture presented continuously is where its clock is).
    fn picture_within_ms(&self, slot: usize) -> f64 {
        let s = &self.slots[slot];
        let Some(display) = s.player.display else {
            return 0.0;
        };
        let locked = picture_locked_to_refresh(1e6 / s.player.fps, display.refresh_us);
        let refresh = Span::from_micros(display.refresh_us.round() as i64);
        s.browser
            .picture_within(Some(refresh), Some(locked))
            .map_or(0.0, |within| f64::from(within_ms(within)))
    }

    /// Takes the run's measurements at its end.
    pub(super) fn measure(&mut self) {
        let end = (self.sc.duration_s * 1e6) as i64;
        for slot in 0..self.slots.len() {
            if let Some(n) = self.slots[slot].node.take() {
                self.tally(slot, &n.engine, n.joined_at, end);
                self.slots[slot].node = Some(n);
            }
        }
        let now = self.now;
        self.out.final_spread_ms = spread(
            self.honest()
                .filter(|(_, n)| n.player.loaded())
                .map(|(_, n)| n.player.pos_at(now) * 1e3),
        );
        let playing = self
            .honest()
            .all(|(_, n)| n.engine.playback().is_some_and(|v| v.playback.playing));
        self.out.final_playing = playing;
        self.out.peers = self.peers_seen;
        self.out.all_seeks = self.seeks.len() as u64;
        let events = &self.group_events;
        // A seek neither caused by a group event shortly before nor part of a join.
        let steady = self.seeks.iter().filter(|(t, _, joined)| {
            let caused = events.iter().any(|e| *e <= *t && t - e <= CAUSE_WINDOW_US);
            !caused && t - joined > JOIN_WINDOW_US
        });
        let trace = self.trace;
        self.out.steady_hard_seeks = steady
            .inspect(|(t, slot, _)| {
                if trace {
                    eprintln!("steady seek at {:.3} s on slot {slot}", *t as f64 / 1e6);
                }
            })
            .count() as u64;
    }
}

/// The largest difference between any two of `v` (0 when empty).
fn spread(v: impl Iterator<Item = f64>) -> f64 {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in v {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if hi >= lo {
        hi - lo
    } else {
        0.0
    }
}

/// Messages the engine refused (`INSIEME_SIM_TRACE_REJECT` prints its stats).
fn rejected(e: &Engine) -> u64 {
    let s = e.stats();
    if std::env::var_os("INSIEME_SIM_TRACE_REJECT").is_some() {
        eprintln!("{:?}", s);
    }
    s.rejected_version
        + s.rejected_invalid
        + s.rejected_future
        + s.unmatched_pongs
        + s.rejected_observations
        + s.rejected_not_sender
        + s.rejected_rate
        + s.rejected_rank
        + s.rejected_timebase
        + s.clamped_latencies
        + s.stale_writes
}
