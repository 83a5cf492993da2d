//! Read-only state of the engine, for the UI and the simulator's checks.

use super::{Engine, Stats};
use crate::sync::clock::ClockEstimate;
use crate::sync::state::Versioned;
use crate::sync::time::{LocalTime, MediaTime, RoomTime, Span};
use crate::sync::wire::Timebase;
use crate::sync::PeerId;

/// Read-only view of a peer for the UI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeerView {
    pub id: PeerId,
    /// Clock estimate (offset of its clock from ours, skew, round-trip time), once measured.
    pub clock: Option<ClockEstimate>,
    pub rank: Option<u64>,
    pub buffering: bool,
    /// Its playback offset from the room as it last reported it (positive: ahead).
    pub playback_error: Option<Span>,
}

impl Engine {
    /// This peer's id.
    pub fn id(&self) -> PeerId {
        self.me
    }

    /// The room's playback state, with its stamp.
    pub fn playback(&self) -> Option<&Versioned> {
        self.register.get()
    }

    /// Room time at local time `now`, once in sync with the reference.
    pub fn room_time(&self, now: LocalTime) -> Option<RoomTime> {
        self.room_map(now).map(|m| m.to_room(now))
    }

    /// Where the media should be at local time `now`, by the room's state.
    pub fn expected_position(&self, now: LocalTime) -> Option<MediaTime> {
        let map = self.room_map(now)?;
        let v = self.register.get()?;
        v.playback.media.as_ref()?;
        Some(v.playback.position_at(map.to_room(now)))
    }

    /// The room's media speed at local time `now` (0 while paused).
    pub fn expected_speed(&self, now: LocalTime) -> Option<f64> {
        let map = self.room_map(now)?;
        Some(self.register.get()?.playback.speed_at(map.to_room(now)))
    }

    /// Our player's latest measured offset from the room (positive: ahead).
    pub fn playback_error(&self) -> Option<Span> {
        self.controller.error()
    }

    /// How far our picture is from the room (positive: ahead), as presented frames show it:
    /// what the viewer is told and tells the others (see the controller's `picture_error`; the
    /// [`Engine::playback_error`] steered by can read zero while the picture is a frame off).
    pub fn picture_error(&self, now: LocalTime) -> Option<Span> {
        self.controller.picture_error(now)
    }

    /// Where on the frame grid this player's clock is steered, off the timeline.
    pub fn frame_grid_offset(&self) -> Option<Span> {
        self.controller.frame_grid_offset()
    }

    /// The peer whose clock room time follows.
    pub fn reference(&self) -> PeerId {
        self.timebase.reference
    }

    /// The room timeline: reference and base.
    pub fn timebase(&self) -> Timebase {
        self.timebase
    }

    /// Our join order in the room (`None` until we met the room or acted in it).
    pub fn rank(&self) -> Option<u64> {
        self.rank
    }

    /// The peers we are connected to.
    pub fn peers(&self) -> impl Iterator<Item = PeerView> + '_ {
        self.peers.iter().map(|(id, p)| PeerView {
            id: *id,
            clock: p.clock.estimate().copied(),
            rank: p.rank,
            buffering: p.buffering,
            playback_error: p.error,
        })
    }

    /// Counters, including refused inputs.
    pub fn stats(&self) -> Stats {
        Stats {
            controller: *self.controller.stats(),
            ..self.stats
        }
    }
}
