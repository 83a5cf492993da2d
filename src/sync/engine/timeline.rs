//! The room timeline: which peer's clock room time follows (the reference), and the base that
//! keeps room time continuous when the reference changes.
//!
//! Room time is the reference peer's clock plus a base. The reference is the oldest peer in
//! the room: every peer has a rank and the smallest (rank, id) wins, which every peer computes
//! alike. Ranks are places in the endpoint's order of admission once the glue tells it
//! (`seniority.rs`); until then they are join orders learned from the peers met (unranked
//! newcomers come last), claims, so two rules keep a member from taking the reference: a peer that joined
//! us after we had a rank is not believed older than us, and the peer the older peers name as
//! their reference stays it (a newcomer cannot tell which of two claims of rank 0 is true, but
//! the room can). When the reference changes, the new reference picks its base so that room
//! time does not jump from its own point of view, and announces it; until the announcement
//! arrives, the others compute the same continuity from their own estimates. Room time
//! therefore never jumps by more than the clock estimation error, and an announcement that
//! would step it further is refused.

use super::{Channel, Engine, Event, Output};
use crate::sync::clock::RoomMap;
use crate::sync::state::Register;
use crate::sync::time::{LocalTime, RoomTime, Span};
use crate::sync::wire::Timebase;
use crate::sync::PeerId;
use std::cmp::Reverse;

/// A change of room time bigger than this at one input is a jump of the timeline (two groups
/// merging, or the first sync), not drift the controller should chase.
const TIMELINE_JUMP: Span = Span::from_millis(50);

/// Largest step of room time a timebase announcement may make where room time must go on
/// continuously: the successor of a reference that left announcing its base (an honest one
/// continues the timeline up to the error of two clock estimates, a few milliseconds on a
/// WAN; this leaves five times the jump the controller takes for drift), or the reference we
/// follow moving its base (only on taking the reference back, by as little; bounded from the
/// base we first followed, so that small steps do not add up). A step beyond is refused and we
/// keep our own continuation; otherwise the reference could send everyone anywhere in the
/// video.
const MAX_TIMEBASE_STEP: Span = Span::from_millis(250);

/// What to make of the reference's announced timebase.
enum Announced {
    Follow,
    Refuse,
    /// Not yet checkable: no clock estimate of the announcer.
    Wait,
}

impl Engine {
    pub(super) fn room_map(&self, now: LocalTime) -> Option<RoomMap> {
        if self.rank.is_none() && self.peers.values().any(|p| p.rank.is_some()) {
            // A newcomer that has not yet met the room's timeline: our own clock is not room
            // time, and acting on it would schedule everything at the wrong instant.
            return None;
        }
        let tb = self.timebase;
        if tb.reference == self.me && self.ranks_are_facts() && self.older_peer_linked() {
            // The same with ranks as facts: an older peer is here, whose timeline (or the
            // oldest's) we have not met yet.
            return None;
        }
        if tb.reference == self.me {
            // Unofficial: we follow another now, whose timeline we do not know yet.
            if !self.official {
                return None;
            }
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

    /// The reference: the peer most named as such by the peers older than us that met the room
    /// (not counting its own word), and of those, or if nobody present is named, the best
    /// (rank, id).
    fn elect(&self) -> PeerId {
        // Only a peer that announced a timeline can be followed.
        let candidates = self
            .peers
            .iter()
            .filter(|(_, p)| p.timebase.is_some())
            .map(|(id, _)| *id);
        if self.ranks_are_facts() {
            // Ranks are the endpoint's order: the oldest wins, whatever anyone votes.
            return std::iter::once(self.me)
                .chain(candidates)
                .min_by_key(|id| self.rank_key(*id))
                .unwrap_or(self.me);
        }
        let votes = |c: &PeerId| {
            self.peers
                .iter()
                .filter(|(id, p)| {
                    *id != c
                        && (self.rank.is_none() || p.joined <= self.ranked_at)
                        && p.rank.is_some()
                        && p.timebase.is_some_and(|tb| tb.reference == *c)
                })
                .count()
        };
        std::iter::once(self.me)
            .chain(candidates)
            .min_by_key(|id| (Reverse(votes(id)), self.rank_key(*id)))
            .unwrap_or(self.me)
    }

    /// Whether to follow `tb`, announced by the reference we elected. Where room time must
    /// go on (our reference left, or we already follow this one) it may not step it.
    fn check_announced(&self, now: LocalTime, prev: Option<RoomMap>, tb: Timebase) -> Announced {
        let ours = self.timebase.reference;
        if ours == tb.reference && self.official {
            // It moves its base only on taking the reference back (a continuation again),
            // never far from where we first followed it.
            return if (tb.base - self.first_base).abs() <= MAX_TIMEBASE_STEP {
                Announced::Follow
            } else {
                Announced::Refuse
            };
        }
        let gone = ours != self.me && !self.peers.contains_key(&ours);
        let (Some(prev), true) = (prev, ours == tb.reference || gone) else {
            return Announced::Follow;
        };
        let Some(est) = self
            .peers
            .get(&tb.reference)
            .and_then(|p| p.clock.estimate())
        else {
            return Announced::Wait;
        };
        let room = RoomTime(now.0) + est.offset_at(now) + tb.base;
        if (room - prev.to_room(now)).abs() <= MAX_TIMEBASE_STEP {
            Announced::Follow
        } else {
            Announced::Refuse
        }
    }

    /// Our reference left and `best` has not announced a base we can follow: continue the
    /// timeline from our own estimate of `best`, or extrapolate it until we have one.
    fn continue_timeline(&mut self, now: LocalTime, prev: Option<RoomMap>, best: PeerId) {
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

    /// Re-elects the reference and keeps room time continuous across a change.
    pub(super) fn update_reference(&mut self, now: LocalTime, prev: Option<RoomMap>) {
        let best = self.elect();
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
            let ours = self.timebase.reference;
            let gone = ours != self.me && !self.peers.contains_key(&ours);
            match advertised {
                // The new reference announced its base: that is the timeline, unless it would
                // step room time.
                Some(tb) if tb.reference == best && (self.timebase != tb || !self.official) => {
                    match self.check_announced(now, prev, tb) {
                        Announced::Follow => {
                            if self.timebase.reference != tb.reference || !self.official {
                                self.first_base = tb.base;
                            }
                            if self.timebase.reference != tb.reference && !gone {
                                // Not a successor continuing our timeline: another group's.
                                self.leave_timeline(prev);
                            }
                            self.timebase = tb;
                            self.official = true;
                        }
                        Announced::Refuse => {
                            if self.refused_timebase != Some(tb) {
                                self.refused_timebase = Some(tb);
                                self.stats.rejected_timebase += 1;
                            }
                            if gone {
                                self.continue_timeline(now, prev, best);
                            }
                        }
                        Announced::Wait => self.continue_timeline(now, prev, best),
                    }
                }
                // It still follows the reference we follow, which left: it will announce a base
                // continuing that timeline; until then, compute the same continuity from our
                // own estimates.
                Some(Timebase { reference, .. }) if gone && reference == ours => {
                    self.continue_timeline(now, prev, best)
                }
                // It follows another timeline (we are new, or two groups meet): follow it too.
                Some(tb) if tb != self.timebase => {
                    if tb.reference == self.me || self.peers.contains_key(&tb.reference) {
                        if tb.reference != self.timebase.reference {
                            self.leave_timeline(prev);
                        }
                        self.timebase = tb;
                        self.official = false;
                    }
                }
                _ => {}
            }
            if self.timebase.reference == self.me {
                // Another is the reference, and we cannot follow its timeline yet: ours is
                // not room time.
                self.official = false;
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
        if prev.is_some() && self.room_map(now).is_none() {
            // We had room time and lost it: an older peer arrived whose timeline we have not
            // met yet (ranks as facts), or we follow another group's and cannot measure it yet.
            self.leave_timeline(prev);
        }
    }

    /// We follow another group's timeline from now on (it does not continue ours): remember
    /// ours until the new one is measurable.
    fn leave_timeline(&mut self, prev: Option<RoomMap>) {
        if self.left_timeline.is_none() {
            self.left_timeline = prev;
        }
    }

    /// Once the timeline we moved to is measurable (after the election and our rank, before
    /// the states held meanwhile are checked): if it is not ours continued (further apart
    /// than any honest continuation, [`MAX_TIMEBASE_STEP`]), our state and its stamps are of a
    /// timeline the room no longer runs on. Kept, it would be read on the new one (its anchor
    /// anywhere in the video), and its stamps, from another clock, could beat every later write
    /// or be refused as from the far future by the group we joined, leaving two states for
    /// good. So it is forgotten, and we take the room's state as a newcomer does (from the
    /// hellos; held until room time is known). A group merging onto ours sends us its state in
    /// its first hellos, before it forgets it: of the two, the later stamp on our timeline wins
    /// (if ours has none, it may refuse that state as far-future: then the merging group
    /// writes its state again on our timeline).
    pub(super) fn settle_left_timeline(&mut self, now: LocalTime) {
        let Some(left) = self.left_timeline else {
            return;
        };
        let Some(map) = self.room_map(now) else {
            return;
        };
        self.left_timeline = None;
        let shift = map.to_room(now) - left.to_room(now);
        if shift.abs() <= MAX_TIMEBASE_STEP {
            return;
        }
        let ours = self.register.get().map(|v| v.playback.clone());
        self.register = Register::new();
        self.guard.forget_hold();
        let Some(mut playback) = ours else {
            return;
        };
        self.stats.timelines_left += 1;
        let room_has_one = self
            .peers
            .get(&self.timebase.reference)
            .is_some_and(|p| p.has_state);
        if !room_has_one && self.timebase.reference != self.me {
            // The group we joined has no state (its reference's hello brought none): ours,
            // moved onto its timeline, becomes the room's, as a write of ours there (each of
            // our group writes it; the latest wins, as ever), rather than nobody's.
            playback.anchor_room += shift;
            self.write_state(map.to_room(now), playback);
        }
    }

    /// The playback state's anchor (where a scheduled change takes effect) on our clock.
    pub(super) fn anchor_local(&self, now: LocalTime) -> Option<LocalTime> {
        let map = self.room_map(now)?;
        Some(map.to_local(self.register.get()?.playback.anchor_room))
    }
}
