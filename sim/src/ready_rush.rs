//! The ready check's rush (`insieme::programme::ready`): one page loads a video and opens a
//! check; the others press Ready at random moments over WAN links (or never, or leave), some
//! links may be cut for a while and reopened; every page decides on its own when to start,
//! and a start is a `Play` written on a real playback register (`insieme::sync::state`),
//! sent with the notes on the reliable ordered channel, as the app does.
//!
//! It checks what must always hold: every page still there ends on one playback state,
//! playing, with the check over everywhere. And it counts what the design keeps rare: how
//! many starts were issued for one check, and how often a page saw a start it had begun to
//! show replaced by a later one (a visible restart).
//!
//! Its own small loop over the simulator's links, like the queue storm: room clocks are
//! within a few ms of the truth, as the sync engine keeps them.

use crate::agenda::Agenda;
use crate::fixture::{Partition, BASE_US, FILM, WAN_LEADS};
use crate::net::{Link, LinkSpec};
use crate::rng::Rng;
use insieme::programme::ready::{Merged, ReadyCheck, ReadyNote, Room};
use insieme::sync::state::{apply_intent, Intent, Register, Versioned};
use insieme::sync::{PeerId, RoomTime};

/// The rush's parameters.
#[derive(Clone, Debug)]
pub struct ReadyRush {
    pub seed: u64,
    pub pages: usize,
    /// Pages press Ready at a uniform moment in this window, seconds after the load.
    pub ready_window_s: (f64, f64),
    /// Pages (by index, never 0, the opener) that never press Ready.
    pub never_ready: Vec<usize>,
    /// Pages that leave, and when (s).
    pub leave: Vec<(usize, f64)>,
    /// A cut between the pages, and when it heals.
    pub partition: Option<Partition>,
    pub link: LinkSpec,
    /// How long the run lasts (s).
    pub duration_s: f64,
}

/// What the rush measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadyRushOutcome {
    /// Every page still there ends on the same playback state, and it plays.
    pub agree: bool,
    pub playing: bool,
    /// Every page still there sees the check over.
    pub check_over: bool,
    /// Starts issued (a `Play` written by some page's decision).
    pub starts: usize,
    /// Times a page adopted a playing state after the start instant of the one it had was
    /// past: the picture would jump back to the new start.
    pub restarts: usize,
    /// From the last Ready pressed to the winning start instant, ms (room time).
    pub start_after_last_ready_ms: f64,
    /// From the load to the winning start instant, ms.
    pub start_after_load_ms: f64,
}

#[derive(Clone, Debug)]
enum Msg {
    Note(ReadyNote),
    State(Versioned),
}

enum Ev {
    Ready(usize),
    Deliver { to: usize, from: usize, msg: Msg },
    Tick(usize),
    Leave(usize),
    Cut,
    Heal,
}

struct Page {
    check: ReadyCheck,
    register: Register,
    /// Room clock error, µs.
    offset: i64,
    gone: bool,
}

struct Rush {
    sc: ReadyRush,
    rng: Rng,
    link_rng: Rng,
    links: Vec<Vec<Link>>,
    pages: Vec<Page>,
    events: Agenda<Ev>,
    now: i64,
    cut: bool,
    starts: usize,
    restarts: usize,
    last_ready: i64,
}

/// Each page looks at the countdown this often (the app: once a second, and on every event).
const TICK_US: i64 = 250_000;

impl Rush {
    fn room_now(&self, p: usize) -> RoomTime {
        RoomTime::from_micros(BASE_US + self.now + self.pages[p].offset)
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        match self.sc.partition {
            Some(cut) if self.cut => cut.same_side(a, b),
            _ => true,
        }
    }

    /// The others `p` is connected to.
    fn present(&self, p: usize) -> Vec<PeerId> {
        (0..self.pages.len())
            .filter(|&q| q != p && !self.pages[q].gone && self.reachable(p, q))
            .map(|q| PeerId(q as u64))
            .collect()
    }

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        if to == from || self.pages[to].gone || !self.reachable(from, to) {
            return;
        }
        let at = self.links[from][to].reliable(&self.sc.link, &mut self.link_rng, self.now);
        self.events.push(at, Ev::Deliver { to, from, msg });
    }

    fn broadcast(&mut self, from: usize, msg: Msg) {
        for to in 0..self.pages.len() {
            self.send(from, to, msg.clone());
        }
    }

    /// Page `p` asks its check whether to start, and starts if so.
    fn decide(&mut self, p: usize) {
        let now = self.room_now(p);
        let present = self.present(p);
        let page = &mut self.pages[p];
        let state = page.register.get().cloned();
        let room = Room {
            now,
            media: state.as_ref().and_then(|v| v.playback.media.as_deref()),
            playing: state.as_ref().is_some_and(|v| v.playback.playing),
            version: state.as_ref().map(|v| v.stamp),
            present: &present,
        };
        if page.check.poll(&room).is_none() {
            return;
        }
        let cur = state.map(|v| v.playback);
        let Ok(next) = apply_intent(cur.as_ref(), &Intent::Play, now, WAN_LEADS) else {
            return;
        };
        if let Some(v) = page.register.write(now, PeerId(p as u64), next) {
            self.starts += 1;
            self.broadcast(p, Msg::State(v));
        }
    }

    fn adopt(&mut self, p: usize, v: Versioned) {
        let now = self.room_now(p);
        let page = &mut self.pages[p];
        let before = page.register.get().map(|v| v.playback.clone());
        if page.register.merge(v.clone())
            && v.playback.playing
            && before.is_some_and(|b| b.playing && b.anchor_room <= now)
        {
            self.restarts += 1;
        }
    }

    fn deliver(&mut self, to: usize, from: usize, msg: Msg) {
        if self.pages[to].gone || self.pages[from].gone {
            return;
        }
        match msg {
            Msg::State(v) => self.adopt(to, v),
            Msg::Note(note) => {
                let now = Some(self.room_now(to));
                let page = &mut self.pages[to];
                let merged = page.check.merge(PeerId(from as u64), note, now, &|_| true);
                if merged == Merged::Adopted {
                    if let Some(relay) = page.check.note() {
                        self.broadcast(to, Msg::Note(relay));
                    }
                }
            }
        }
        self.decide(to);
    }

    /// The links reopen: each side sends the other its state and its note, as on a link
    /// opening (the engine's hello, the party's note).
    fn heal(&mut self) {
        self.cut = false;
        let Some(cut) = self.sc.partition else {
            return;
        };
        for (a, b) in cut.pairs_across(self.pages.len()) {
            if self.pages[a].gone {
                continue;
            }
            if let Some(v) = self.pages[a].register.get().cloned() {
                self.send(a, b, Msg::State(v));
            }
            if let Some(note) = self.pages[a].check.note() {
                self.send(a, b, Msg::Note(note));
            }
        }
    }

    fn run(mut self) -> ReadyRushOutcome {
        let n = self.pages.len();
        // Page 0 loads the film and opens a check at once, as "Load video" does.
        let now = self.room_now(0);
        let load = Intent::Load {
            media_id: FILM.into(),
        };
        let loaded = apply_intent(None, &load, now, WAN_LEADS).expect("a load applies");
        let v = self.pages[0]
            .register
            .write(now, PeerId(0), loaded)
            .expect("the first write wins");
        self.broadcast(0, Msg::State(v));
        let note = self.pages[0].check.open(now, FILM, true).expect("may");
        self.broadcast(0, Msg::Note(note));
        let (lo, hi) = self.sc.ready_window_s;
        let never = self.sc.never_ready.clone();
        for p in (0..n).filter(|p| !never.contains(p)) {
            let at = (self.rng.range(lo, hi) * 1e6) as i64;
            self.events.push(at, Ev::Ready(p));
        }
        for (p, at) in self.sc.leave.clone() {
            self.events.push((at * 1e6) as i64, Ev::Leave(p));
        }
        if let Some(cut) = self.sc.partition {
            // Messages in flight at the cut still arrive: they were sent before.
            let (from, to) = cut.window_us();
            self.events.push(from, Ev::Cut);
            self.events.push(to, Ev::Heal);
        }
        for p in 0..n {
            let first = self.rng.below(TICK_US as u64) as i64;
            self.events.push(first, Ev::Tick(p));
        }
        let end = (self.sc.duration_s * 1e6) as i64;
        while let Some((at, ev)) = self.events.pop_due(end) {
            self.now = at;
            match ev {
                Ev::Ready(p) if !self.pages[p].gone => {
                    self.last_ready = self.last_ready.max(self.now);
                    let note = self.pages[p].check.mark_ready();
                    // The start, if this makes everyone, goes out before the mark.
                    self.decide(p);
                    if let Some(note) = note {
                        self.broadcast(p, Msg::Note(note));
                    }
                }
                Ev::Deliver { to, from, msg } => self.deliver(to, from, msg),
                Ev::Tick(p) if !self.pages[p].gone => {
                    self.decide(p);
                    self.events.push(self.now + TICK_US, Ev::Tick(p));
                }
                Ev::Leave(p) => {
                    self.pages[p].gone = true;
                    for q in 0..n {
                        if !self.pages[q].gone {
                            self.decide(q);
                        }
                    }
                }
                Ev::Cut => {
                    self.cut = true;
                    for q in 0..n {
                        self.decide(q);
                    }
                }
                Ev::Heal => self.heal(),
                _ => {}
            }
        }
        self.outcome()
    }

    fn outcome(mut self) -> ReadyRushOutcome {
        let staying: Vec<usize> = (0..self.pages.len())
            .filter(|&p| !self.pages[p].gone)
            .collect();
        let states: Vec<Option<Versioned>> = staying
            .iter()
            .map(|&p| self.pages[p].register.get().cloned())
            .collect();
        let won = states[0].clone();
        let agree = states.iter().all(|s| *s == won);
        let playing = won.as_ref().is_some_and(|v| v.playback.playing);
        let check_over = staying.iter().all(|&p| {
            let now = self.room_now(p);
            let state = self.pages[p].register.get().cloned();
            let room = Room {
                now,
                media: state.as_ref().and_then(|v| v.playback.media.as_deref()),
                playing: state.as_ref().is_some_and(|v| v.playback.playing),
                version: state.as_ref().map(|v| v.stamp),
                present: &[],
            };
            self.pages[p].check.view(&room).is_none()
        });
        let start = won.map_or(0, |v| v.playback.anchor_room.as_micros() - BASE_US);
        ReadyRushOutcome {
            agree,
            playing,
            check_over,
            starts: self.starts,
            restarts: self.restarts,
            start_after_last_ready_ms: (start - self.last_ready) as f64 / 1e3,
            start_after_load_ms: start as f64 / 1e3,
        }
    }
}

/// Runs the rush.
pub fn run(sc: ReadyRush) -> ReadyRushOutcome {
    let mut rng = Rng::new(sc.seed);
    let mut link_rng = rng.fork(2);
    let links = crate::world::network::links(&sc.link, sc.pages, &mut link_rng);
    let pages = (0..sc.pages)
        .map(|p| Page {
            check: ReadyCheck::new(PeerId(p as u64)),
            register: Register::new(),
            offset: rng.range(-2_000.0, 2_000.0) as i64,
            gone: false,
        })
        .collect();
    Rush {
        rng,
        link_rng,
        links,
        pages,
        events: Agenda::new(),
        now: 0,
        cut: false,
        starts: 0,
        restarts: 0,
        last_ready: 0,
        sc,
    }
    .run()
}

/// Eight pages on WAN links (RTT 120 ms, 2 % loss), all ready within 1 to 6 s.
pub fn ready_rush(seed: u64) -> ReadyRush {
    ReadyRush {
        seed,
        pages: 8,
        ready_window_s: (1.0, 6.0),
        never_ready: Vec::new(),
        leave: Vec::new(),
        partition: None,
        link: crate::scenarios::wan_link(),
        duration_s: 45.0,
    }
}
