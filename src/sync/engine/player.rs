//! What the local player reports (presented frames, its media clock, its frame grid), checked
//! and handed to the drift controller with the state it should follow.

use super::Engine;
use crate::sync::clock::RoomMap;
use crate::sync::controller::{ClockReading, Controller, Observation, PlayerCommand};
use crate::sync::presentation::FrameGrid;
use crate::sync::state::Versioned;
use crate::sync::time::{LocalTime, MediaTime, Span};
use std::collections::VecDeque;

/// The state the local player should follow and the map to the room's clock, when known.
type Desired<'a> = Option<(&'a Versioned, &'a RoomMap)>;

impl Engine {
    pub(super) fn on_observation(&mut self, now: LocalTime, obs: Observation) {
        self.hand_to_controller(
            now,
            obs.media_time,
            obs.presented_at,
            |controller, desired, out| controller.observe(now, obs, desired, out),
        );
    }

    pub(super) fn on_clock_reading(&mut self, now: LocalTime, reading: ClockReading) {
        self.hand_to_controller(
            now,
            reading.media_time,
            reading.read_at,
            |controller, desired, out| controller.observe_clock(now, reading, desired, out),
        );
    }

    /// Hands what the player reported (`position` at `at`) to the controller, with the state it
    /// should follow; refused and counted unless it can be true: in the media, at an instant
    /// near now.
    fn hand_to_controller(
        &mut self,
        now: LocalTime,
        position: MediaTime,
        at: LocalTime,
        feed: impl FnOnce(&mut Controller, Desired<'_>, &mut VecDeque<PlayerCommand>),
    ) {
        let plausible = position.is_sane()
            && position >= MediaTime(0)
            && at.is_sane()
            && at <= now + Span::from_secs(1)
            && now - at <= Span::from_secs(10);
        if !plausible {
            self.stats.rejected_observations += 1;
            return;
        }
        let map = self.room_map(now);
        let desired = self.register.get().zip(map);
        let desired = desired.as_ref().map(|(v, m)| (*v, m));
        feed(&mut self.controller, desired, &mut self.player);
    }

    pub(super) fn on_presentation_step(&mut self, step: Span) {
        if !self.controller.set_presentation_step(step) {
            self.stats.rejected_observations += 1;
        }
    }

    pub(super) fn on_player_frame_grid(&mut self, grid: FrameGrid) {
        if grid.is_plausible() {
            self.frame_grid = Some(grid);
        } else {
            self.stats.rejected_observations += 1;
        }
    }
}
