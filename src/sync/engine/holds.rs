//! Holding the group while our player stalls, and releasing the hold: the engine's side of the
//! [`StallGuard`](crate::sync::buffering::StallGuard), which decides when.

use super::{Channel, Engine};
use crate::sync::buffering::{self, HoldAction, OwnSeek};
use crate::sync::state::Playback;
use crate::sync::time::{LocalTime, RoomTime};

impl Engine {
    pub(super) fn on_buffering(&mut self, now: LocalTime, stalled: bool) {
        if stalled == self.guard.is_stalled() {
            return;
        }
        // A stall that is the wait for data of a seek we asked for (read before the controller
        // hears of the stall) matters only once the group starts (when, on our clock), and not
        // at all if we seek to catch up alone with a room already moving.
        let own_seek = if !self.controller.seeking() {
            OwnSeek::None
        } else if self.controller.catching_up() {
            OwnSeek::CatchingUp
        } else {
            OwnSeek::ForStart(self.anchor_local(now).unwrap_or(now))
        };
        self.controller.set_stalled(now, stalled);
        if let Some(action) = self.guard.report(now, stalled, own_seek) {
            self.hold_action(now, action);
        }
        self.broadcast_hello(Channel::Reliable);
    }

    /// Whether the room is playing and not held: whether there is anything to hold.
    pub(super) fn group_playing(&self) -> bool {
        self.register
            .get()
            .is_some_and(|v| v.playback.playing && v.playback.hold.is_none())
    }

    pub(super) fn hold_action(&mut self, now: LocalTime, action: HoldAction) {
        let Some(map) = self.room_map(now) else {
            return;
        };
        let Some(cur) = self.register.get().map(|v| v.playback.clone()) else {
            return;
        };
        let r = map.to_room(now);
        let next = match action {
            HoldAction::Hold => {
                let frozen = self.controller.last_position();
                let Some(next) = buffering::held(cur, r, frozen, self.me) else {
                    return;
                };
                self.stats.holds += 1;
                next
            }
            HoldAction::Release => {
                if cur.hold.is_some() && !cur.playing {
                    self.release_hold(r, cur);
                }
                return;
            }
        };
        self.write_state(r, next);
    }

    /// Ends a buffering hold: the group resumes a seek's lead from now.
    pub(super) fn release_hold(&mut self, r: RoomTime, held: Playback) {
        self.stats.releases += 1;
        let resumed = held.released_at(r + self.leads().seek);
        self.write_state(r, resumed);
    }

    /// The reference releases a hold whose holder left, or that outlived its wait budget (the
    /// holder may have lost its connection without the channel closing yet).
    pub(super) fn release_orphan_hold(&mut self, now: LocalTime) {
        if self.timebase.reference != self.me {
            return;
        }
        let Some(map) = self.room_map(now) else {
            return;
        };
        let Some(v) = self.register.get() else { return };
        let Some(holder) = v.playback.hold else {
            return;
        };
        if holder == self.me || v.playback.playing {
            return;
        }
        let age = map.to_room(now) - v.playback.anchor_room;
        let overdue = self.cfg.buffering.hold_overdue(age);
        if !self.peers.contains_key(&holder) || overdue {
            self.release_hold(map.to_room(now), v.playback.clone());
        }
    }
}
