//! The room timeline: which peer's clock room time follows (the reference), and the base that
//! keeps room time continuous when the reference changes.
//!
//! Room time is the reference peer's clock plus a base. The reference is the oldest peer in
//! the room: every peer has a rank (join order, learned from the peers it meets; unranked
//! newcomers come last) and the smallest (rank, id) wins, which every peer computes alike.
//! When the reference changes, the new reference picks its base so that room time does not
//! jump from its own point of view, and announces it; until the announcement arrives, the
//! others compute the same continuity from their own estimates. Room time therefore never
//! jumps by more than the clock estimation error.

use super::{Channel, Engine, Event, Output};
use crate::sync::clock::RoomMap;
use crate::sync::time::{LocalTime, RoomTime, Span};
use crate::sync::wire::Timebase;
use crate::sync::PeerId;

/// A change of room time bigger than this at one input is a jump of the timeline (two groups
/// merging, or the first sync), not drift the controller should chase.
const TIMELINE_JUMP: Span = Span::from_millis(50);

impl Engine {
    pub(super) fn room_map(&self, now: LocalTime) -> Option<RoomMap> {
        if self.rank.is_none() && self.peers.values().any(|p| p.rank.is_some()) {
            // A newcomer that has not yet met the room's timeline: our own clock is not room
            // time, and acting on it would schedule everything at the wrong instant.
            return None;
        }
        let tb = self.timebase;
        if tb.reference == self.me {
            return Some(RoomMap {
                local: now,
                room: RoomTime(now.0) + tb.base,
                skew: 0.0,
            });
        }
        if let Some(est) = self.peers.get(&tb.reference).and_then(|p| {
            p.clock
                .estimate()
                .filter(|e| e.samples >= self.cfg.min_sync_samples)
        }) {
            return Some(RoomMap {
                local: now,
                room: RoomTime(now.0) + est.offset_at(now) + tb.base,
                skew: est.skew,
            });
        }
        self.fallback.map(|m| RoomMap {
            local: now,
            room: m.to_room(now),
            skew: m.skew,
        })
    }

    fn rank_key(&self, id: PeerId) -> (u64, PeerId) {
        let rank = if id == self.me {
            self.rank
        } else {
            self.peers.get(&id).and_then(|p| p.rank)
        };
        (rank.unwrap_or(u64::MAX), id)
    }

    /// Re-elects the reference and keeps room time continuous across a change.
    pub(super) fn update_reference(&mut self, now: LocalTime, prev: Option<RoomMap>) {
        let best = std::iter::once(self.me)
            .chain(self.peers.keys().copied())
            .min_by_key(|id| self.rank_key(*id))
            .unwrap_or(self.me);
        let before = self.timebase;
        if best == self.me {
            if self.timebase.reference != self.me || !self.official {
                let base = match prev {
                    Some(m) => m.to_room(now) - RoomTime(now.0),
                    None => Span::ZERO,
                };
                self.timebase = Timebase {
                    reference: self.me,
                    base,
                };
                self.official = true;
                self.fallback = None;
                self.broadcast_hello(Channel::Reliable);
            }
        } else {
            let advertised = self.peers.get(&best).and_then(|p| p.timebase);
            match advertised {
                // The new reference announced its base: that is the timeline.
                Some(tb) if tb.reference == best => {
                    if self.timebase != tb || !self.official {
                        self.timebase = tb;
                        self.official = true;
                    }
                }
                // It still follows the reference we follow, which left: it will announce a
                // base continuing that timeline; until then, compute the same continuity from
                // our own estimates.
                Some(tb)
                    if tb.reference == self.timebase.reference
                        && tb.reference != self.me
                        && !self.peers.contains_key(&tb.reference) =>
                {
                    let est = self
                        .peers
                        .get(&best)
                        .and_then(|p| p.clock.estimate().copied());
                    match (prev, est) {
                        (Some(m), Some(e)) => {
                            self.timebase = Timebase {
                                reference: best,
                                base: m.to_room(now) - RoomTime(now.0) - e.offset_at(now),
                            };
                            self.official = false;
                        }
                        (Some(m), None) => self.fallback = Some(m),
                        (None, _) => {}
                    }
                }
                // It follows another timeline (we are new, or two groups meet): follow it too.
                Some(tb) if tb != self.timebase => {
                    if tb.reference == self.me || self.peers.contains_key(&tb.reference) {
                        self.timebase = tb;
                        self.official = false;
                    }
                }
                _ => {}
            }
            if self.peers.get(&self.timebase.reference).is_some_and(|p| {
                p.clock
                    .estimate()
                    .is_some_and(|e| e.samples >= self.cfg.min_sync_samples)
            }) {
                self.fallback = None;
            }
        }
        if self.timebase.reference != before.reference {
            self.stats.reference_changes += 1;
            self.out.push_back(Output::Event(Event::ReferenceChanged(
                self.timebase.reference,
            )));
        }
        // A jump of the timeline we play on (two groups merging, or first sync) is not drift.
        if let (Some(a), Some(b)) = (prev, self.room_map(now)) {
            if (b.to_room(now) - a.to_room(now)).abs() > TIMELINE_JUMP {
                self.controller.timeline_changed(now);
            }
        }
    }

    /// The playback state's anchor (where a scheduled change takes effect) on our clock.
    pub(super) fn anchor_local(&self, now: LocalTime) -> Option<LocalTime> {
        let map = self.room_map(now)?;
        Some(map.to_local(self.register.get()?.playback.anchor_room))
    }
}
