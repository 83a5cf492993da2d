//! A few sync engines on a perfect network, for the engine's tests and any other module's that
//! needs whole engines talking: fixed 5 ms one-way delay, clocks offset by hours, no players.
//! It tests the protocol; the simulator (`sim/`) tests the whole.
//!
//! An engine may arrive late ([`Mini::arrive`]) and may run a modified client: a tamper
//! function rewrites what it sends ([`Mini::tamper`]), and [`Mini::inject`] delivers a message
//! in any peer's name.

use super::controller::PlayerCommand;
use super::engine::{Config, Destination, Engine, Input, Output};
use super::state::Intent;
use super::state::Versioned;
use super::time::{LocalTime, RoomTime, Span};
use super::wire::{Body, Hello, WireMessage};
use super::PeerId;
use std::rc::Rc;

/// A hello from a member that claims `rank` and relays `state`, with nothing else to say.
pub(crate) fn hello_relaying(rank: Option<u64>, state: Option<Versioned>) -> Hello {
    Hello {
        rank,
        timebase: None,
        prep: Span::ZERO,
        seek: None,
        buffering: false,
        error: None,
        frame_grid: None,
        state,
    }
}

/// One-way delay of every message, in microseconds.
pub(crate) const DELAY: i64 = 5_000;

/// Rewrites a message an engine sends: given the engine, its local time now and the message.
pub(crate) type Tamper = Rc<dyn Fn(&Engine, LocalTime, &mut WireMessage)>;

/// Engines `0..n`, with ids `100 + i` (late arrivals: any id), all joined to each other; time
/// steps by a millisecond.
#[derive(Clone)]
pub(crate) struct Mini {
    engines: Vec<Option<Engine>>,
    /// What every engine is made with.
    config: Config,
    ids: Vec<PeerId>,
    offsets: Vec<i64>,
    tampers: Vec<Option<Tamper>>,
    queue: Vec<(i64, usize, usize, WireMessage)>,
    now: i64,
    /// Every player command each engine gave, in order.
    pub(crate) commands: Vec<Vec<PlayerCommand>>,
}

impl Mini {
    /// `n` engines, each told every other joined.
    pub(crate) fn new(n: usize) -> Mini {
        Mini::with_config(n, Config::default())
    }

    /// `n` engines made with `config`, each told every other joined.
    pub(crate) fn with_config(n: usize, config: Config) -> Mini {
        let mut m = Mini {
            engines: Vec::new(),
            config,
            ids: Vec::new(),
            offsets: Vec::new(),
            tampers: Vec::new(),
            queue: Vec::new(),
            now: 0,
            commands: Vec::new(),
        };
        for i in 0..n {
            m.add(PeerId(100 + i as u64));
        }
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    m.input(i, Input::PeerJoined(m.ids[j]));
                }
            }
        }
        m
    }

    fn add(&mut self, id: PeerId) -> usize {
        let i = self.engines.len();
        let offset = (i as i64 * 7_919 - 10_000) * 1_000_000;
        let local = LocalTime(offset + self.now);
        self.engines
            .push(Some(Engine::new(self.config.clone(), id, local)));
        self.ids.push(id);
        self.offsets.push(offset);
        self.tampers.push(None);
        self.commands.push(Vec::new());
        i
    }

    /// A new engine `id` opens the room now: its links to everyone present open at once.
    /// Returns its index.
    pub(crate) fn arrive(&mut self, id: PeerId) -> usize {
        let i = self.add_unlinked(id);
        self.link(i);
        i
    }

    /// A new engine `id` opens the room, its links still opening ([`Mini::link`]).
    pub(crate) fn add_unlinked(&mut self, id: PeerId) -> usize {
        self.add(id)
    }

    /// Engine `i`'s links to everyone else present open now.
    pub(crate) fn link(&mut self, i: usize) {
        for j in 0..self.engines.len() {
            if j != i && self.engines[j].is_some() {
                self.input(j, Input::PeerJoined(self.ids[i]));
                self.input(i, Input::PeerJoined(self.ids[j]));
            }
        }
    }

    /// The link between engines `i` and `j` opens now (groups that form apart, then meet).
    pub(crate) fn link_pair(&mut self, i: usize, j: usize) {
        self.input(j, Input::PeerJoined(self.ids[i]));
        self.input(i, Input::PeerJoined(self.ids[j]));
    }

    /// Every engine present is told the endpoint's order of admission: `order` (indices,
    /// oldest first), as the browser glue tells it ([`Input::Seniority`]).
    pub(crate) fn admit(&mut self, order: &[usize]) {
        let ids: Vec<_> = order.iter().map(|i| self.ids[*i]).collect();
        for i in 0..self.engines.len() {
            self.input(i, Input::Seniority(ids.clone()));
        }
    }

    /// From now on, engine `i` sends what `f` makes of each message.
    pub(crate) fn tamper(
        &mut self,
        i: usize,
        f: impl Fn(&Engine, LocalTime, &mut WireMessage) + 'static,
    ) {
        self.tampers[i] = Some(Rc::new(f));
    }

    /// Engine `i`'s local clock now.
    pub(crate) fn local(&self, i: usize) -> LocalTime {
        LocalTime(self.offsets[i] + self.now)
    }

    /// Engine `i`'s room time now.
    pub(crate) fn room(&self, i: usize) -> RoomTime {
        self.engine(i).room_time(self.local(i)).unwrap()
    }

    /// The id of engine `i`.
    pub(crate) fn id(&self, i: usize) -> PeerId {
        self.ids[i]
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
            if let Output::Send(mut t) = o {
                if let Some(f) = &self.tampers[i] {
                    f(e, local, &mut t.msg);
                }
                let targets: Vec<usize> = match t.to {
                    Destination::All => (0..self.ids.len()).filter(|j| *j != i).collect(),
                    Destination::One(id) => {
                        self.ids.iter().position(|x| *x == id).into_iter().collect()
                    }
                };
                for j in targets {
                    self.queue.push((self.now + DELAY, j, i, t.msg.clone()));
                }
            }
        }
    }

    /// Delivers `body` to engine `to` now, as sent by `from` (who may be anyone).
    pub(crate) fn inject(&mut self, to: usize, from: PeerId, body: Body) {
        let received_at = self.local(to);
        let msg = WireMessage::new(body);
        self.input(
            to,
            Input::PeerMessage {
                from,
                msg,
                received_at,
            },
        );
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
                if self.engines[from].is_none() {
                    continue;
                }
                self.input(
                    to,
                    Input::PeerMessage {
                        from: self.ids[from],
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
                self.input(j, Input::PeerLeft(self.ids[i]));
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

    /// The engines present, by index.
    pub(crate) fn present(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.engines.len()).filter(|i| self.engines[*i].is_some())
    }
}
