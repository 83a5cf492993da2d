//! A few sync engines on a perfect network, for the engine's tests and any other module's that
//! needs whole engines talking: fixed 5 ms one-way delay, clocks offset by hours, no players.
//! It tests the protocol; the simulator (`sim/`) tests the whole.

use super::controller::PlayerCommand;
use super::engine::{Config, Destination, Engine, Input, Output};
use super::state::Intent;
use super::time::LocalTime;
use super::wire::WireMessage;
use super::PeerId;

/// One-way delay of every message, in microseconds.
pub(crate) const DELAY: i64 = 5_000;

/// Engines `0..n`, with ids `100 + i`, all joined to each other; time steps by a millisecond.
#[derive(Clone)]
pub(crate) struct Mini {
    engines: Vec<Option<Engine>>,
    offsets: Vec<i64>,
    queue: Vec<(i64, usize, usize, WireMessage)>,
    now: i64,
    /// Every player command each engine gave, in order.
    pub(crate) commands: Vec<Vec<PlayerCommand>>,
}

impl Mini {
    /// `n` engines, each told every other joined.
    pub(crate) fn new(n: usize) -> Mini {
        let offsets: Vec<i64> = (0..n)
            .map(|i| (i as i64 * 7_919 - 10_000) * 1_000_000)
            .collect();
        let engines = (0..n)
            .map(|i| {
                Some(Engine::new(
                    Config::default(),
                    PeerId(100 + i as u64),
                    LocalTime(offsets[i]),
                ))
            })
            .collect();
        let mut m = Mini {
            engines,
            offsets,
            queue: Vec::new(),
            now: 0,
            commands: vec![Vec::new(); n],
        };
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    m.input(i, Input::PeerJoined(PeerId(100 + j as u64)));
                }
            }
        }
        m
    }

    /// Engine `i`'s local clock now.
    pub(crate) fn local(&self, i: usize) -> LocalTime {
        LocalTime(self.offsets[i] + self.now)
    }

    /// Feeds engine `i` (unless it left), queues what it sends, records its player commands.
    pub(crate) fn input(&mut self, i: usize, input: Input) {
        let local = self.local(i);
        let Some(e) = self.engines[i].as_mut() else {
            return;
        };
        e.handle_input(local, input);
        while let Some(o) = e.poll_output() {
            if let Output::Player(c) = &o {
                self.commands[i].push(c.clone());
            }
            if let Output::Send(t) = o {
                let targets: Vec<usize> = match t.to {
                    Destination::All => (0..self.offsets.len()).filter(|j| *j != i).collect(),
                    Destination::One(PeerId(id)) => vec![(id - 100) as usize],
                };
                for j in targets {
                    self.queue.push((self.now + DELAY, j, i, t.msg.clone()));
                }
            }
        }
    }

    /// Runs `us` microseconds: delivers the messages due, ticks every engine whose timeout came.
    pub(crate) fn run_for(&mut self, us: i64) {
        let end = self.now + us;
        while self.now < end {
            self.now += 1_000;
            let due: Vec<_> = {
                let (due, rest) = std::mem::take(&mut self.queue)
                    .into_iter()
                    .partition(|m| m.0 <= self.now);
                self.queue = rest;
                due
            };
            for (_, to, from, msg) in due {
                let received_at = self.local(to);
                self.input(
                    to,
                    Input::PeerMessage {
                        from: PeerId(100 + from as u64),
                        msg,
                        received_at,
                    },
                );
            }
            for i in 0..self.engines.len() {
                let due = self.engines[i]
                    .as_ref()
                    .and_then(|e| e.poll_timeout())
                    .is_some_and(|t| t <= self.local(i));
                if due {
                    self.input(i, Input::Tick);
                }
            }
        }
    }

    /// Engine `i` leaves: the others are told.
    pub(crate) fn leave(&mut self, i: usize) {
        self.engines[i] = None;
        for j in 0..self.engines.len() {
            if j != i {
                self.input(j, Input::PeerLeft(PeerId(100 + i as u64)));
            }
        }
    }

    /// Peer `i` loads the film.
    pub(crate) fn load(&mut self, i: usize) {
        let film = Intent::Load {
            media_id: "film".into(),
        };
        self.input(i, Input::Intent(film));
    }

    /// Engine `i`; panics if it left.
    pub(crate) fn engine(&self, i: usize) -> &Engine {
        self.engines[i].as_ref().unwrap()
    }
}
