//! The local user's intents, scheduled ahead on the room timeline (and onto this player's
//! frame grid), and the states peers send, checked (writer, far future, budget) and merged
//! into the replicated register.

use super::{Channel, Destination, Engine, Event, Output};
use crate::sync::clock::RoomMap;
use crate::sync::state::{apply_intent, Intent, IntentError, Leads, Playback, Versioned};
use crate::sync::time::{LocalTime, RoomTime, Span};
use crate::sync::wire::Body;
use crate::sync::PeerId;

/// Most intents remembered while waiting to be in sync.
const MAX_PENDING_INTENTS: usize = 8;

/// Time a viewer is given to fetch a new media and decode its first frame before a start of
/// it (`Intent::Start`), unless its seeks and starts take longer. Not measured per viewer yet:
/// a file on a CDN, over a home link, shows its first frame within about a second, and the
/// room's previous video has just ended, so a second's pause between videos costs little.
const LOAD_PREP: Span = Span::from_secs(1);

impl Engine {
    pub(super) fn queue_intent(&mut self, intent: Intent) {
        if self.pending_intents.len() < MAX_PENDING_INTENTS {
            self.pending_intents.push_back(intent);
        } else {
            self.stats.intents_refused += 1;
        }
    }

    /// The first act in a room nobody has acted in founds its timeline: we take rank 0 and
    /// become its reference, room time continuing from where it was.
    pub(super) fn found_timeline(&mut self, now: LocalTime) {
        if self.rank.is_none() && self.peers.values().all(|p| p.rank.is_none()) {
            self.rank = Some(0);
            self.ranked_at = self.joins;
            self.alone = self.peers.is_empty();
            let prev = self.room_map(now);
            self.update_reference(now, prev);
            self.broadcast_hello(Channel::Reliable);
        }
    }

    pub(super) fn apply_pending_intents(&mut self, now: LocalTime) {
        while !self.pending_intents.is_empty() {
            self.found_timeline(now);
            let Some(map) = self.room_map(now) else {
                return;
            };
            let Some(intent) = self.pending_intents.pop_front() else {
                return;
            };
            let r = map.to_room(now);
            let cur = self.register.get().map(|v| v.playback.clone());
            match apply_intent(cur.as_ref(), &intent, r, self.leads()) {
                Ok(p) => {
                    let p = self.on_frame_grid(p, &map, now);
                    self.stats.intents_applied += 1;
                    self.guard.forget_hold();
                    self.write_state(r, p);
                }
                Err(IntentError::NoChange | IntentError::NoMedia | IntentError::Invalid) => {
                    self.stats.intents_refused += 1;
                }
            }
        }
    }

    /// A state from peer `from`: its own write, or (`relayed`) the state its hello carries,
    /// which may be another writer's (how a newcomer learns a departed writer's state).
    pub(super) fn on_state(&mut self, now: LocalTime, from: PeerId, v: Versioned, relayed: bool) {
        if !self.register.beats_current(&v) {
            return;
        }
        // A writer sends its own states. A hello relays the room's state, whoever wrote it (so
        // a newcomer learns a departed writer's, and a state a writer showed only some peers
        // reaches all), but never one of ours we do not have: we wrote it, so we would.
        let writer = v.stamp.peer;
        if writer != from && (!relayed || writer == self.me) {
            self.stats.rejected_not_sender += 1;
            return;
        }
        if !self.knows_room_time(now) {
            // A newcomer cannot yet tell a state from the far future: adopted now, it would
            // win every merge and go out in our hellos to every later joiner.
            let Some(p) = self.peers.get_mut(&from) else {
                return;
            };
            if p.held.as_ref().is_none_or(|h| v.beats(h)) {
                p.held = Some(v);
            }
            self.stats.states_held += 1;
            return;
        }
        self.accept_state(now, from, v);
    }

    /// Whether states can be checked: we met the room and know its time.
    fn knows_room_time(&self, now: LocalTime) -> bool {
        self.rank.is_some() && self.room_map(now).is_some()
    }

    /// Checks the states held while room time was unknown, once it is known.
    pub(super) fn check_held_states(&mut self, now: LocalTime) {
        if !self.peers.values().any(|p| p.held.is_some()) || !self.knows_room_time(now) {
            return;
        }
        while let Some(from) = self
            .peers
            .iter()
            .find(|(_, p)| p.held.is_some())
            .map(|(id, _)| *id)
        {
            if let Some(v) = self.peers.get_mut(&from).and_then(|p| p.held.take()) {
                self.accept_state(now, from, v);
            }
        }
    }

    /// Merges a state from `from`, at a time room time is known, unless it is stamped or
    /// anchored beyond the far-future limit or over `from`'s budget of writes.
    fn accept_state(&mut self, now: LocalTime, from: PeerId, v: Versioned) {
        if let Some(map) = self.room_map(now) {
            let horizon = map.to_room(now) + self.cfg.max_future;
            if v.stamp.wall > horizon || v.playback.anchor_room > horizon {
                self.stats.rejected_future += 1;
                return;
            }
        }
        if !self.register.beats_current(&v) {
            return;
        }
        let Some(p) = self.peers.get_mut(&from) else {
            return;
        };
        if !p.budget.spend(now) {
            self.stats.rejected_rate += 1;
            return;
        }
        if self.register.merge(v.clone()) {
            self.stats.states_adopted += 1;
            if self.guard.is_holding() && v.playback.hold != Some(self.me) {
                self.guard.forget_hold();
            }
            self.out.push_back(Output::Event(Event::StateChanged(v)));
        }
    }

    pub(super) fn write_state(&mut self, r: RoomTime, p: Playback) {
        let Some(v) = self.register.write(r, self.me, p) else {
            self.stats.stale_writes += 1;
            return;
        };
        self.send(Destination::All, Channel::Reliable, Body::State(v.clone()));
        self.out.push_back(Output::Event(Event::StateChanged(v)));
    }

    /// Moves a scheduled start onto this player's frame grid: from a frame, at a refresh (less
    /// than half a frame and one refresh away). Viewers on another grid are no worse off: any
    /// start is as good as another for them. The grid is the one told, else the one the
    /// player last presented frames on.
    fn on_frame_grid(&self, mut p: Playback, map: &RoomMap, now: LocalTime) -> Playback {
        let scheduled_start = p.playing && p.lead_in_rate == 0.0 && p.rate == 1.0;
        let grid = self
            .frame_grid
            .or_else(|| self.controller.presented_grid(now));
        let Some(grid) = grid.filter(|_| scheduled_start) else {
            return p;
        };
        let (start, from) = grid.align(map.to_local(p.anchor_room), p.anchor_media);
        p.anchor_room = map.to_room(start);
        p.anchor_media = from;
        p
    }

    pub(super) fn leads(&self) -> Leads {
        let mut owd = Span::ZERO;
        let mut prep = self.controller.prep();
        for p in self.peers.values() {
            if let Some(e) = p.clock.estimate() {
                // Half the smoothed round trip, with room for the jitter seen on this path.
                owd = owd.max(e.srtt.mul_f64(0.5) + (e.srtt - e.min_rtt));
            }
            prep = prep.max(p.prep);
        }
        let clamp = |s: Span| s.max(self.cfg.min_lead).min(self.cfg.max_lead);
        let arrive = clamp(owd.mul_f64(1.5) + Span::from_millis(40));
        Leads {
            arrive,
            start: clamp(arrive + Span::from_millis(60)),
            seek: clamp(arrive + prep),
            load: clamp(arrive + prep.max(LOAD_PREP)),
        }
    }
}
