//! The peers: their clocks, probed with pings over the unreliable channel and measured from
//! the pongs, and what their hellos tell (rank, timeline, seek margin, stall, frame grid side),
//! announced in turn by ours. What a hello claims is believed only as far as an honest peer
//! could claim it (`docs/engine.md`, "What a member cannot do").

use super::budget::WriteBudget;
use super::{Channel, Destination, Engine, Event, Output};
use crate::sync::clock::ClockEstimator;
use crate::sync::state::Versioned;
use crate::sync::time::{LocalTime, Span};
use crate::sync::wire::{Body, GridSide, Hello, Invalid, Timebase, WireMessage};
use crate::sync::PeerId;
use std::collections::VecDeque;

/// What the engine knows about one peer.
#[derive(Clone, Debug)]
pub(super) struct Peer {
    pub(super) clock: ClockEstimator,
    pub(super) pings: VecDeque<(u32, LocalTime)>,
    pub(super) next_ping: LocalTime,
    pub(super) rank: Option<u64>,
    pub(super) timebase: Option<Timebase>,
    pub(super) prep: Span,
    /// Its measured seek margin on the current media ([`Hello::seek`]).
    pub(super) seek: Option<Span>,
    pub(super) buffering: bool,
    pub(super) error: Option<Span>,
    /// Its frame grid side for the state it plays ([`Hello::frame_grid`]).
    pub(super) grid: Option<GridSide>,
    pub(super) last_event: Option<LocalTime>,
    /// Its place in the order peers joined us: after [`Engine::ranked_at`], it joined us
    /// after we had a rank, so it is younger than us whatever rank it claims.
    pub(super) joined: u64,
    /// The best state it sent before we knew room time, to be checked once we do.
    pub(super) held: Option<Versioned>,
    /// Its last hello carried a state: it has one (see `Engine::settle_left_timeline`).
    pub(super) has_state: bool,
    /// Its budget of playback states.
    pub(super) budget: WriteBudget,
}

/// One clock exchange as a pong completes it: the four timestamps of a ping and its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PongSample {
    /// The ping's sequence number, echoed.
    seq: u32,
    /// When we sent the ping (our clock), echoed.
    t1: LocalTime,
    /// When the peer received it (its clock).
    t2: LocalTime,
    /// When the peer answered (its clock).
    t3: LocalTime,
    /// When the pong reached us (our clock).
    t4: LocalTime,
}

/// Most unanswered pings remembered per peer.
const MAX_PENDING_PINGS: usize = 64;

impl Engine {
    pub(super) fn on_joined(&mut self, now: LocalTime, id: PeerId) {
        if id == self.me || self.peers.contains_key(&id) {
            return;
        }
        self.joins += 1;
        self.peers.insert(
            id,
            Peer {
                clock: ClockEstimator::new(self.cfg.clock.clone()),
                pings: VecDeque::new(),
                next_ping: now,
                rank: None,
                timebase: None,
                prep: Span::ZERO,
                seek: None,
                buffering: false,
                error: None,
                grid: None,
                last_event: None,
                joined: self.joins,
                held: None,
                has_state: false,
                budget: WriteBudget::new(now),
            },
        );
        self.apply_seniority();
        let hello = self.hello();
        self.send(Destination::One(id), Channel::Reliable, Body::Hello(hello));
    }

    pub(super) fn on_left(&mut self, id: PeerId) {
        self.peers.remove(&id);
        // Alone again: our timeline is nobody else's any more (see `on_hello`).
        self.alone |= self.peers.is_empty() && self.rank.is_some();
        self.tell_controller_peers_seeks();
        self.tell_controller_older_grids();
    }

    pub(super) fn on_message(
        &mut self,
        now: LocalTime,
        from: PeerId,
        msg: WireMessage,
        received_at: LocalTime,
    ) {
        self.stats.messages_in += 1;
        if !self.peers.contains_key(&from) || from == self.me {
            self.stats.rejected_unknown_peer += 1;
            return;
        }
        match msg.validate() {
            Ok(()) => {}
            Err(Invalid::Version) => {
                self.stats.rejected_version += 1;
                return;
            }
            Err(_) => {
                self.stats.rejected_invalid += 1;
                return;
            }
        }
        match msg.body {
            Body::Ping { seq, t1 } => {
                let pong = Body::Pong {
                    seq,
                    t1,
                    t2: received_at,
                    t3: now,
                };
                self.send(Destination::One(from), Channel::Unreliable, pong);
            }
            Body::Pong { seq, t1, t2, t3 } => {
                let pong = PongSample {
                    seq,
                    t1,
                    t2,
                    t3,
                    t4: received_at,
                };
                self.on_pong(now, from, pong);
            }
            Body::Hello(h) => self.on_hello(now, from, h),
            Body::State(v) => self.on_state(now, from, v, false),
        }
    }

    fn on_pong(&mut self, now: LocalTime, from: PeerId, pong: PongSample) {
        let PongSample {
            seq,
            t1,
            t2,
            t3,
            t4,
        } = pong;
        let interval = self.cfg.event_interval;
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        let Some(i) = peer.pings.iter().position(|&(s, t)| s == seq && t == t1) else {
            self.stats.unmatched_pongs += 1;
            return;
        };
        peer.pings.remove(i);
        if peer.clock.add_exchange(t1, t2.0, t3.0, t4).is_err() {
            self.stats.rejected_invalid += 1;
            return;
        }
        if peer.last_event.is_none_or(|t| now - t >= interval) {
            if let Some(e) = peer.clock.estimate() {
                peer.last_event = Some(now);
                self.out.push_back(Output::Event(Event::PeerClock {
                    peer: from,
                    offset: e.offset_at(now),
                    rtt: e.srtt,
                }));
            }
        }
    }

    fn on_hello(&mut self, now: LocalTime, from: PeerId, h: Hello) {
        if self.alone && !self.ranks_are_facts() {
            if h.rank.is_some() {
                // A room meets our timeline of one (we acted alone, or everyone left): join it
                // as a newcomer rather than hold out, or two timelines would run on side by
                // side. Whoever we knew counts as older once we rank again.
                self.rank = None;
            }
            // Or someone joins our room as a newcomer: it is a room of two.
            self.alone = false;
        }
        let Some(peer) = self.peers.get_mut(&from) else {
            return;
        };
        // A peer younger than us cannot be older than us: were it believed, a member could take
        // the reference (whose clock is room time) by claiming rank 0.
        peer.rank = match (h.rank, self.rank) {
            // Its rank is its place in the endpoint's order, whatever it claims.
            _ if self.seniority.is_some() => peer.rank,
            (Some(r), Some(mine))
                if peer.joined > self.ranked_at && (r, from) < (mine, self.me) =>
            {
                self.stats.rejected_rank += 1;
                peer.rank
            }
            (claim, _) => claim,
        };
        peer.timebase = h.timebase;
        // A seek margin or preparation is believed up to the longest lead the room schedules a
        // start with (`Config::max_lead`): more could not be honoured, and a peer that has not
        // measured its own seeks plans them with the largest margin told, so an hour's would
        // send it to the end of the video.
        let most = self.cfg.max_lead;
        peer.prep = h.prep.min(most);
        peer.seek = h.seek.map(|s| s.min(most));
        if peer.prep != h.prep || peer.seek != h.seek {
            self.stats.clamped_latencies += 1;
        }
        peer.error = h.error;
        peer.grid = h.frame_grid;
        peer.has_state = h.state.is_some();
        if peer.buffering != h.buffering {
            peer.buffering = h.buffering;
            self.out.push_back(Output::Event(Event::PeerBuffering {
                peer: from,
                buffering: h.buffering,
            }));
        }
        self.tell_controller_peers_seeks();
        // The state first: until we know room time it is held, to be checked then.
        if let Some(v) = h.state {
            self.on_state(now, from, v, true);
        }
        self.tell_controller_older_grids();
    }

    /// A newcomer takes its rank once it knows room time (the room's reference answered
    /// enough pings): by then every peer it joined with has told its own, and it ranks after
    /// them all, as they will believe (a rank better than theirs they would refuse).
    pub(super) fn take_rank(&mut self) {
        if self.rank.is_some() {
            return;
        }
        let Some(max) = self.peers.values().filter_map(|p| p.rank).max() else {
            return;
        };
        let synced = self
            .peers
            .get(&self.timebase.reference)
            .and_then(|p| p.clock.estimate())
            .is_some_and(|e| e.samples >= self.cfg.min_sync_samples);
        if synced {
            self.rank = Some(max.saturating_add(1));
            self.ranked_at = self.joins;
            self.broadcast_hello(Channel::Reliable);
            // Which peers are older than us depends on it.
            self.tell_controller_older_grids();
        }
    }

    pub(super) fn send_due_pings(&mut self, now: LocalTime) {
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.next_ping <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.ping_seq = self.ping_seq.wrapping_add(1);
            let seq = self.ping_seq;
            let Some(p) = self.peers.get_mut(&id) else {
                continue;
            };
            let fast = p.clock.len() < self.cfg.fast_pings;
            p.next_ping = now
                + if fast {
                    self.cfg.fast_ping_interval
                } else {
                    self.cfg.ping_interval
                };
            p.pings.push_back((seq, now));
            if p.pings.len() > MAX_PENDING_PINGS {
                p.pings.pop_front();
            }
            self.send(
                Destination::One(id),
                Channel::Unreliable,
                Body::Ping { seq, t1: now },
            );
        }
    }

    /// What the peers' seeks take changes only with a hello or a departure.
    fn tell_controller_peers_seeks(&mut self) {
        let told = self.peers.values().filter_map(|p| p.seek).max();
        self.controller.set_told_seek(told);
    }

    /// The frame grid sides of the peers older than us, oldest first: the controller takes the
    /// side of the oldest announcing one for the state it plays (see [`GridSide`]). A peer
    /// not yet ranked is younger than everyone ranked.
    pub(super) fn tell_controller_older_grids(&mut self) {
        let older = |rank: u64| self.rank.is_none_or(|mine| rank < mine);
        let mut sides: Vec<(u64, GridSide)> = self
            .peers
            .values()
            .filter_map(|p| Some((p.rank.filter(|r| older(*r))?, p.grid?)))
            .collect();
        sides.sort_by_key(|(rank, _)| *rank);
        self.controller
            .set_older_grid_sides(sides.into_iter().map(|(_, side)| side).collect());
    }

    fn hello(&self) -> Hello {
        Hello {
            rank: self.rank,
            timebase: Some(self.timebase),
            prep: self.controller.prep(),
            seek: self.controller.measured_seek(),
            buffering: self.guard.is_stalled(),
            error: self.controller.error(),
            frame_grid: self.controller.grid_side(),
            state: self.register.get().cloned(),
        }
    }

    /// Announces our frame grid side as soon as it is first measured for a state, moves to
    /// the other side of the tie, or creeps an eighth of a step from what we announced, so
    /// that younger viewers take it within a round trip rather than at the next periodic hello.
    /// Creeping: at 29.97 or 23.976 fps on 60 Hz where frames begin among the refreshes moves
    /// 1 ms a second, and a younger viewer takes the side nearest what we last announced; held
    /// to a stale value it would change sides on its own, seconds before or after we do, and
    /// show a frame apart meanwhile.
    pub(super) fn announce_new_grid_side(&mut self) {
        let side = self.controller.grid_side();
        let step = self.controller.presentation_step();
        let moved = match (self.announced_grid, side) {
            (None, None) => false,
            (Some(last), Some(now)) => {
                last.state != now.state || (now.offset - last.offset).abs().0 * 8 > step.0
            }
            _ => true,
        };
        if moved {
            self.announced_grid = side;
            if side.is_some() {
                self.broadcast_hello(Channel::Reliable);
            }
        }
    }

    pub(super) fn broadcast_hello(&mut self, channel: Channel) {
        if self.peers.is_empty() {
            return;
        }
        let h = self.hello();
        self.send(Destination::All, channel, Body::Hello(h));
    }
}
