//! What the scenario's script makes happen: users acting, pages opening and closing (a joiner
//! connects to everyone present), the reference leaving, the network splitting and healing, and
//! the random stalls of the players.

use super::events::Ev;
use super::measure::Handover;
use super::{Action, Node, Timer, World};
use crate::player::Player;
use insieme::sync::{Engine, Input, PeerId, StartLead};
use std::collections::BTreeSet;

impl World {
    /// Carries out one of the script's actions.
    pub(super) fn act(&mut self, action: Action) {
        match action {
            Action::Intent { slot, intent } => {
                let Some(node) = self.slots[slot].node.as_ref() else {
                    return;
                };
                let refused = node.engine.stats().intents_refused;
                self.group_events.push(self.now);
                self.drive(slot, Input::Intent(intent));
                let node = self.slots[slot].node.as_ref().unwrap();
                if node.engine.stats().intents_refused == refused {
                    // Converged means: on the state this intent made (or a later one). An
                    // intent superseded before it converged is not measured on its own.
                    if self.pending.is_some() {
                        self.out.converge_ms.pop();
                    }
                    self.pending = Some(self.now);
                    self.pending_after = node.engine.playback().map(|v| v.stamp);
                    self.out.converge_ms.push(None);
                }
            }
            Action::Join(slot) => self.join(slot),
            Action::Leave(slot) => self.leave(slot),
            Action::LeaveReference => {
                let now = self.now;
                // The reference as the first present peer sees it.
                let Some(r) = self.present().next().map(|(_, n)| n.engine.reference()) else {
                    return;
                };
                let Some((slot, node)) = self.present().find(|(_, n)| n.id == r) else {
                    return;
                };
                let clock = self.slots[slot].clock;
                let speed = (1.0 + clock.skew)
                    * node
                        .engine
                        .expected_speed(clock.local(now as f64))
                        .unwrap_or(0.0);
                let base = self
                    .present()
                    .filter(|(s, n)| *s != slot && n.included)
                    .map(|(s, n)| (s, n.player.pos_at(now) * 1e3))
                    .collect();
                self.handover = Some(Handover {
                    t0: now,
                    speed,
                    base,
                });
                self.out.jump_ms = Some(0.0);
                self.leave(slot);
            }
            Action::Partition(side) => {
                self.group_events.push(self.now);
                self.partition = Some(side.into_iter().collect());
            }
            Action::Heal => {
                self.group_events.push(self.now);
                self.heal();
                for (who, who_gen, o, og) in std::mem::take(&mut self.held_joins) {
                    self.open_link(who, who_gen, o, og);
                }
            }
            Action::Act(slot) => {
                if self.slots[slot].node.is_some() {
                    self.drive(slot, Input::Act);
                }
            }
            Action::Starve { slot, for_s } => {
                self.group_events.push(self.now);
                let until = self.now + (for_s * 1e6) as i64;
                self.starved_until[slot] = self.starved_until[slot].max(until);
            }
        }
    }

    /// A page opens on `slot`: a fresh engine and id, connected to everyone present after a
    /// handshake.
    fn join(&mut self, slot: usize) {
        if self.slots[slot].node.is_some() {
            return;
        }
        let s = &mut self.slots[slot];
        s.gen += 1;
        let id = PeerId(self.rng.next_u64());
        // A liar picks the smallest id (its client chooses it), to win every tie of ranks.
        let id = match self.sc.hostile {
            Some(h) if h.slot == slot => PeerId(1),
            _ => id,
        };
        let local = s.clock.local(self.now as f64);
        let prng = s.rng.fork(s.gen);
        let mut engine = self.sc.engine.clone();
        if self.sc.browsers.get(slot).is_some() {
            // The glue's guess of the browser's clock jump; a slot with the scenario's own
            // figures models no browser's clock, and keeps the engine's default.
            engine.controller.entry_jump_guess = s.browser.entry_jump_guess();
        }
        s.node = Some(Node {
            id,
            gen: s.gen,
            engine: Engine::new(engine, id, local),
            player: Player::new(s.player, 1.0 + s.clock.skew, prng, self.now),
            joined_at: self.now,
            engine_timer: Timer::default(),
            player_timer: Timer::default(),
            start_lead: StartLead::with_guess(s.browser.start_lead_guess()),
            start_call: None,
            start_timer: Timer::default(),
            start: None,
            connected: BTreeSet::new(),
            included: false,
            buffering: false,
        });
        self.peers_seen += 1;
        self.join_times.push((slot, s.gen, self.now));
        let gen = s.gen;
        // Frames that keep no phase on the refresh (Firefox) are not steered onto a grid: its
        // glue tells the engine no step.
        let step = Some(s.player.presentation_step())
            .filter(|_| s.browser.frames_keep_refresh_phase())
            .flatten();
        let clock = s.clock;
        let grid = s.player.frame_grid(self.now as f64, |t| clock.local_us(t));
        let others: Vec<(usize, u64)> = self
            .present()
            .filter(|(i, _)| *i != slot)
            .map(|(i, n)| (i, n.gen))
            .collect();
        for (o, og) in others {
            let cut = self
                .partition
                .as_ref()
                .is_some_and(|side| side.contains(&slot) != side.contains(&o));
            if cut {
                self.held_joins.push((slot, gen, o, og));
            } else {
                self.open_link(slot, gen, o, og);
            }
        }
        self.admitted.push((slot, gen));
        self.tell_order();
        if let (true, Some(step)) = (self.sc.tell_presentation_step, step) {
            self.drive(slot, Input::PresentationStep(step));
            if let (true, Some(grid)) = (self.sc.tell_presentation_phase, grid) {
                self.drive(slot, Input::FrameGrid(grid));
            }
        }
        self.drive(slot, Input::Tick);
        self.schedule_stall(slot);
    }

    /// The endpoint tells every page present the order it admitted them in (its `welcome` to
    /// a newcomer, its `joined` and `left` notices to the others), a link's delay later; the
    /// endpoint is reachable from both sides of a partition.
    fn tell_order(&mut self) {
        if !self.sc.endpoint_order {
            return;
        }
        let order: Vec<PeerId> = self
            .admitted
            .iter()
            .filter_map(|(s, _)| self.slots[*s].node.as_ref().map(|n| n.id))
            .collect();
        let at = self.now + self.sc.link.one_way_us as i64;
        for (slot, gen) in self.admitted.clone() {
            let order = order.clone();
            self.push(at, Ev::Order { slot, gen, order });
        }
    }

    /// The link between the page `who` (generation `who_gen`) and the page `o` (`og`) opens
    /// on both sides after an ICE/DTLS handshake of a few round trips.
    fn open_link(&mut self, who: usize, who_gen: u64, o: usize, og: u64) {
        let setup =
            (4.0 * self.links[who][o].base_us.max(self.links[o][who].base_us)) as i64 + 50_000;
        let t = self.now + setup;
        self.push(
            t,
            Ev::Joined {
                to: o,
                to_gen: og,
                who,
                who_gen,
            },
        );
        self.push(
            t,
            Ev::Joined {
                to: who,
                to_gen: who_gen,
                who: o,
                who_gen: og,
            },
        );
    }

    /// The page on `slot` closes; the others hear of it after a message's delay.
    fn leave(&mut self, slot: usize) {
        let Some(node) = self.slots[slot].node.take() else {
            return;
        };
        self.tally(slot, &node.engine, node.joined_at, self.now);
        self.admitted.retain(|(s, g)| (*s, *g) != (slot, node.gen));
        self.tell_order();
        let others: Vec<(usize, u64)> = self.present().map(|(i, n)| (i, n.gen)).collect();
        for (o, og) in others {
            let t = self.now + self.links[slot][o].base_us as i64 + 20_000;
            self.push(
                t,
                Ev::Left {
                    to: o,
                    to_gen: og,
                    who: node.id,
                },
            );
            if let Some(n) = self.slots[o].node.as_mut() {
                n.connected.remove(&slot);
            }
        }
    }

    /// Draws when the player on `slot` next stalls (with stalls in the scenario).
    fn schedule_stall(&mut self, slot: usize) {
        if let Some(spec) = self.sc.stalls {
            let gen = self.slots[slot].gen;
            let d = self.slots[slot].rng.exp(spec.mean_interval_s);
            self.push(self.now + (d * 1e6) as i64, Ev::StallStart { slot, gen });
        }
    }

    /// A random stall begins on `slot`, if its node is still `gen` and its media moving (else
    /// the next is drawn).
    pub(super) fn stall_start(&mut self, slot: usize, gen: u64) {
        if !self.alive(slot, gen) {
            return;
        }
        let spec = self
            .sc
            .stalls
            .expect("stalls are only scheduled when specified");
        let node = self.slots[slot].node.as_mut().unwrap();
        if node.player.moving() {
            node.player.set_stalled(self.now, true);
            node.included = false;
            self.group_events.push(self.now);
            let d = self.slots[slot].rng.range(spec.min_s, spec.max_s);
            self.push(self.now + (d * 1e6) as i64, Ev::StallEnd { slot, gen });
            self.report_buffering(slot);
            self.schedule_player(slot);
        } else {
            self.schedule_stall(slot);
        }
    }

    /// The stall on `slot` ends, if its node is still `gen`; the next is drawn.
    pub(super) fn stall_end(&mut self, slot: usize, gen: u64) {
        if !self.alive(slot, gen) {
            return;
        }
        self.slots[slot]
            .node
            .as_mut()
            .unwrap()
            .player
            .set_stalled(self.now, false);
        self.group_events.push(self.now);
        self.report_buffering(slot);
        self.schedule_player(slot);
        self.schedule_stall(slot);
    }
}
