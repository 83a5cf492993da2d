//! Signed intents (`insieme::room::host`) under loss, reordering and partitions, with a rogue
//! member and a late newcomer.
//!
//! Page 0 opened the room: its key is the one the link names. It switches Host controls on,
//! writes playback states, makes and unmakes co-hosts and may hand the role over; controllers
//! write states too; guests write nothing (the app refuses their intents locally). The last
//! original page is a rogue: it sends unsigned states, states "vouched for" by signatures that
//! do not verify, states signed by its own key, false host statements, and replays of the
//! genuine statements it heard. A newcomer may join late, hearing the rogue first.
//!
//! Each honest page runs the real rules, gate and register (`Authority`, `StateGate`,
//! `sync::state::Register`), fed in the app's order: a controller's statement before the state
//! it vouches for, on one reliable ordered channel; a newcomer (or a healed partition) gets the
//! log, then the vouching for the current state, then the state. Signatures are modelled: a
//! statement's key names its signer and a flag says whether its signature verifies (WebCrypto's part,
//! which the browser tests cover); the rules see only verified statements, as in the app.
//!
//! It checks, after every delivery, that no honest page's register ever holds a state the rogue
//! made, and at the end that every honest page agrees on the playback state, the host, the mode
//! and who may control.

use crate::agenda::Agenda;
use crate::fixture::{Partition, BASE_US, FILM, WAN_LEADS};
use crate::net::{Link, LinkSpec};
use crate::rng::Rng;
use insieme::room::host::gate::{Context, Verdict};
use insieme::room::host::{Accepted, Authority, KeyId, Signed, StateGate, Statement};
use insieme::sync::state::{apply_intent, Intent, Register};
use insieme::sync::{Body, MediaTime, PeerId, RoomTime, Span, Versioned, WireMessage};

/// The run's parameters.
#[derive(Clone, Debug)]
pub struct HostRelay {
    pub seed: u64,
    /// Pages at the start, the rogue (the last) included.
    pub pages: usize,
    /// Honest actions per second, each page.
    pub actions_per_s: f64,
    /// Rogue messages per second.
    pub rogue_per_s: f64,
    /// A cut between the pages, and when it heals.
    pub partition: Option<Partition>,
    /// A newcomer joins at this time (s); the rogue's link to it delivers first.
    pub join_s: Option<f64>,
    pub link: LinkSpec,
    /// Actions stop at this time (s); the run goes on until everything is delivered.
    pub duration_s: f64,
}

/// What the run saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostRelayOutcome {
    /// Every honest page ends on one playback state.
    pub agree_state: bool,
    /// ...and on one host, mode and set of controllers.
    pub agree_authority: bool,
    /// Host mode is on at the end (the run is about host mode).
    pub host_mode: bool,
    /// Times an honest page's register held a state the rogue made (must be 0).
    pub rogue_taken: usize,
    /// Rogue messages sent, and honest pages' counts of dropped ones (forged + refused +
    /// unsigned) and of harmless repeats.
    pub rogue_sent: usize,
    pub dropped: u64,
    pub stale: u64,
    /// States written by controllers, grants and handovers made.
    pub writes: usize,
    pub grants: usize,
    pub handovers: usize,
    /// States a newcomer kept aside until it knew the mode.
    pub newcomer_waited: usize,
}

#[derive(Clone, Debug)]
enum Msg {
    /// A statement, and whether its signature verifies (its signer is what the receiver's
    /// check computes from its key: [`signer_of`]).
    Signed {
        signed: Signed,
        genuine: bool,
    },
    State(Versioned),
}

enum Ev {
    Act(usize),
    Rogue,
    Deliver { to: usize, from: usize, msg: Msg },
    Cut,
    Heal,
    Join,
}

struct Page {
    authority: Authority,
    gate: StateGate,
    register: Register,
    /// The signed vouchings for the latest states (to greet with the current one).
    vouched: Vec<Signed>,
    offset: i64,
}

struct Relay {
    sc: HostRelay,
    rng: Rng,
    link_rng: Rng,
    links: Vec<Vec<Link>>,
    /// `None` for the rogue, which runs no rules.
    pages: Vec<Option<Page>>,
    rogue: usize,
    /// What the rogue heard: its register, and the genuine statements it could replay.
    rogue_register: Register,
    rogue_heard: Vec<Signed>,
    /// Every state the rogue made.
    forged: Vec<Versioned>,
    events: Agenda<Ev>,
    now: i64,
    cut: bool,
    out: HostRelayOutcome,
}

const WALL_MS: u64 = 1_700_000_000_000;
/// Handovers a run makes at most (each newcomer receives the whole chain).
const MAX_HANDOVERS: usize = 3;
/// The rogue starts once host mode is known everywhere (a newcomer's race is the join's).
const ROGUE_FROM_US: i64 = 3_000_000;
/// Grants and handovers stop this long before the end: a co-host's state sent while its
/// revocation is on the way is taken by the pages it reaches first and refused by the others,
/// until the next controller's write (a limit of the design, docs/programme.md).
const SETTLE_US: f64 = 5e6;

fn key(p: usize) -> KeyId {
    KeyId([p as u8 + 1; 16])
}

fn session(p: usize) -> u64 {
    p as u64 + 1
}

fn signed(statement: Statement, by: usize) -> Signed {
    Signed {
        statement,
        key: [vec![4], vec![by as u8 + 1; 64]].concat(),
        signature: vec![0; 64],
    }
}

/// What the host states as its page opens: "no Host controls" (term 0, seq 0).
fn opening() -> Statement {
    Statement::Mode {
        on: false,
        term: 0,
        seq: 0,
    }
}

/// The key id a receiver computes from a statement's public key (here: its second byte).
fn signer_of(signed: &Signed) -> KeyId {
    KeyId([signed.key[1]; 16])
}

impl Relay {
    fn room_now(&self, p: usize) -> RoomTime {
        let offset = self.pages[p].as_ref().map_or(0, |page| page.offset);
        RoomTime::from_micros(BASE_US + self.now + offset)
    }

    fn reachable(&self, a: usize, b: usize) -> bool {
        match self.sc.partition {
            Some(cut) if self.cut => cut.same_side(a, b),
            _ => true,
        }
    }

    fn send(&mut self, from: usize, to: usize, msg: Msg) {
        if to == from || to >= self.pages.len() || !self.reachable(from, to) {
            return;
        }
        let at = self.links[from][to].reliable(&self.sc.link, &mut self.link_rng, self.now);
        self.events.push(at, Ev::Deliver { to, from, msg });
    }

    fn broadcast(&mut self, from: usize, msgs: &[Msg]) {
        for to in 0..self.pages.len() {
            for msg in msgs {
                self.send(from, to, msg.clone());
            }
        }
    }

    fn next(&mut self, ev: Ev, per_s: f64) {
        let at = self.now + self.rng.exp(1e6 / per_s) as i64;
        if (at as f64) < self.sc.duration_s * 1e6 {
            self.events.push(at, ev);
        }
    }

    /// Page `p` signs `statement`, applies it and sends it to everyone, then `after`.
    fn state_signed(&mut self, p: usize, statement: Statement, after: Option<Msg>) {
        let s = signed(statement, p);
        self.accept(p, p, s.clone());
        let mut msgs = vec![Msg::Signed {
            signed: s,
            genuine: true,
        }];
        msgs.extend(after);
        self.broadcast(p, &msgs);
    }

    fn act(&mut self, p: usize) {
        self.next(Ev::Act(p), self.sc.actions_per_s);
        let now = self.room_now(p);
        let Some(page) = self.pages[p].as_ref() else {
            return;
        };
        let a = &page.authority;
        let i_am_host = a.host() == key(p);
        let seq = a.next_seq(WALL_MS + (self.now / 1_000) as u64);
        let term = a.term();
        if !a.may_control(session(p)) && !i_am_host {
            return; // A guest's intent is refused by its own page.
        }
        let honest: Vec<usize> = (0..self.pages.len())
            .filter(|&q| q != p && q != self.rogue)
            .collect();
        let other = honest[self.rng.below(honest.len() as u64) as usize];
        let known = a.key_of(session(other)).is_some();
        let choice = self.rng.below(10);
        let roles_may_change = (self.now as f64) < self.sc.duration_s * 1e6 - SETTLE_US;
        if i_am_host && !a.host_mode() {
            let mode = Statement::Mode {
                on: true,
                term,
                seq,
            };
            return self.state_signed(p, mode, None);
        }
        if i_am_host && choice < 2 && known && roles_may_change {
            let granted = !a.may_control(session(other));
            self.out.grants += 1;
            let grant = Statement::Grant {
                key: key(other),
                session: session(other),
                granted,
                term,
                seq,
            };
            return self.state_signed(p, grant, None);
        }
        if i_am_host
            && choice == 2
            && known
            && roles_may_change
            && a.may_control(session(other))
            && self.out.handovers < MAX_HANDOVERS
            && self.rng.chance(0.3)
        {
            self.out.handovers += 1;
            let handover = Statement::Handover {
                to: key(other),
                session: session(other),
                term,
            };
            return self.state_signed(p, handover, None);
        }
        // A playback change, signed, then the state itself.
        let page = self.pages[p].as_mut().expect("honest");
        let cur = page.register.get().map(|v| v.playback.clone());
        let intent = match (cur.as_ref(), self.rng.below(4)) {
            (None, _) | (_, 0) => Intent::Load {
                media_id: FILM.into(),
            },
            (_, 1) => Intent::Play,
            (_, 2) => Intent::Pause,
            (_, _) => Intent::Seek(MediaTime::from_secs_f64(self.rng.range(0.0, 600.0))),
        };
        let Ok(next) = apply_intent(cur.as_ref(), &intent, now, WAN_LEADS) else {
            return;
        };
        let Some(v) = page.register.write(now, PeerId(session(p)), next) else {
            return;
        };
        self.out.writes += 1;
        self.state_signed(p, Statement::State(v.clone()), Some(Msg::State(v)));
    }

    /// The rogue sends one of its tricks to everyone.
    fn rogue_act(&mut self) {
        self.next(Ev::Rogue, self.sc.rogue_per_s);
        let now = RoomTime::from_micros(BASE_US + self.now);
        let r = self.rogue;
        // A state of its own making, in the name of some honest writer.
        let base = self
            .rogue_register
            .get()
            .map(|v| v.playback.clone())
            .unwrap_or_else(insieme::sync::Playback::empty);
        let intent = Intent::Seek(MediaTime::from_secs_f64(self.rng.range(0.0, 600.0)));
        let loaded = apply_intent(
            Some(&base),
            &Intent::Load {
                media_id: "https://rogue.example/ad.webm".into(),
            },
            now,
            WAN_LEADS,
        );
        let next = match self.rng.below(2) {
            0 => apply_intent(Some(&base), &intent, now, WAN_LEADS).or(loaded),
            _ => loaded,
        };
        let Ok(next) = next else { return };
        let victim = session(self.rng.below(self.sc.pages as u64 - 1) as usize);
        let Some(v) = self.rogue_register.write(now, PeerId(victim), next) else {
            return;
        };
        self.forged.push(v.clone());
        let msgs = match self.rng.below(5) {
            0 => vec![Msg::State(v)],
            // A vouching whose signature does not verify.
            1 => vec![
                Msg::Signed {
                    signed: signed(Statement::State(v.clone()), 0),
                    genuine: false,
                },
                Msg::State(v),
            ],
            // Signed by its own key: genuine, but not a controller's.
            2 => vec![
                Msg::Signed {
                    signed: signed(Statement::State(v.clone()), r),
                    genuine: true,
                },
                Msg::State(v),
            ],
            // A claim to be host: switch host mode off.
            3 => vec![Msg::Signed {
                signed: signed(
                    Statement::Mode {
                        on: false,
                        term: 0,
                        seq: u64::MAX / 2,
                    },
                    r,
                ),
                genuine: true,
            }],
            // A replay of something genuine it heard.
            _ if !self.rogue_heard.is_empty() => {
                let i = self.rng.below(self.rogue_heard.len() as u64) as usize;
                let signed = self.rogue_heard[i].clone();
                vec![Msg::Signed {
                    signed,
                    genuine: true,
                }]
            }
            _ => Vec::new(),
        };
        self.out.rogue_sent += msgs.len();
        self.broadcast(r, &msgs);
    }

    /// Page `p` judges a verified statement from `from`'s link.
    fn accept(&mut self, p: usize, from: usize, s: Signed) {
        let page = self.pages[p].as_mut().expect("honest");
        let signer = signer_of(&s);
        if let Ok(Accepted::State(v)) = page.authority.accept(session(from), signer, s.clone()) {
            page.gate.attest(v);
            if page.vouched.len() == 4 {
                page.vouched.remove(0);
            }
            page.vouched.push(s);
        }
        // The host's or a co-host's link told this page the mode: what waited goes on.
        if page.authority.mode_settled() && !page.gate.newcomer.settled() {
            let kept = page.gate.newcomer.settle();
            self.out.newcomer_waited += kept.len();
            for (from, v) in kept {
                self.check_state(p, from as usize - 1, v);
            }
        }
    }

    fn check_state(&mut self, p: usize, from: usize, v: Versioned) {
        let now = self.room_now(p);
        let page = self.pages[p].as_mut().expect("honest");
        let current = page.register.get().cloned();
        let cx = Context {
            mode: page.authority.mode(),
            from: session(from),
            current: current.as_ref(),
            now: Some(now),
            now_ms: self.now as f64 / 1e3,
        };
        if let Verdict::Pass(WireMessage {
            body: Body::State(v),
            ..
        }) = page.gate.check(cx, WireMessage::new(Body::State(v)))
        {
            page.register.merge(v);
        }
    }

    fn deliver(&mut self, to: usize, from: usize, msg: Msg) {
        if to == self.rogue {
            match msg {
                Msg::State(v) => {
                    self.rogue_register.merge(v);
                }
                Msg::Signed {
                    signed,
                    genuine: true,
                } => self.rogue_heard.push(signed),
                Msg::Signed { .. } => {}
            }
            return;
        }
        match msg {
            Msg::Signed { signed, genuine } => {
                // The receiver's check: the signature verifies (the key id is then its hash).
                if !genuine {
                    let page = self.pages[to].as_mut().expect("honest");
                    return page.authority.count_forged();
                }
                self.accept(to, from, signed);
            }
            Msg::State(v) => self.check_state(to, from, v),
        }
        let held = self.pages[to]
            .as_ref()
            .and_then(|p| p.register.get())
            .is_some_and(|v| self.forged.contains(v));
        if held {
            self.out.rogue_taken += 1;
        }
    }

    /// What page `a` sends `b` when their link opens: its log, the vouching for its current
    /// state, the state.
    fn greet(&mut self, a: usize, b: usize) {
        let Some(page) = self.pages[a].as_ref() else {
            return;
        };
        let current = page.register.get().cloned();
        let mut msgs: Vec<Msg> = page
            .authority
            .log()
            .iter()
            .filter(|s| match s.statement {
                Statement::KeyOf { session: s } => s == session(a),
                _ => true,
            })
            .chain(page.vouched.iter().filter(
                |s| matches!(&s.statement, Statement::State(v) if Some(v) == current.as_ref()),
            ))
            .map(|s| Msg::Signed {
                signed: s.clone(),
                genuine: true,
            })
            .collect();
        msgs.extend(current.map(Msg::State));
        for msg in msgs {
            self.send(a, b, msg);
        }
    }

    fn heal(&mut self) {
        self.cut = false;
        let Some(cut) = self.sc.partition else {
            return;
        };
        for (a, b) in cut.pairs_across(self.pages.len()) {
            self.greet(a, b);
        }
    }

    fn new_page(&mut self, p: usize) -> Page {
        Page {
            authority: Authority::new(key(0)),
            gate: StateGate::default(),
            register: Register::new(),
            vouched: Vec::new(),
            offset: if p == 0 {
                0
            } else {
                self.rng.range(-2_000.0, 2_000.0) as i64
            },
        }
    }

    fn join(&mut self) {
        let me = self.pages.len();
        let page = self.new_page(me);
        self.pages.push(Some(page));
        // The rogue's link opens first: a replay of the host's genuine "no Host controls"
        // arrives before anyone's greeting, then its forged state.
        let opening = signed(opening(), 0);
        self.events.push(
            self.now + 500,
            Ev::Deliver {
                to: me,
                from: self.rogue,
                msg: Msg::Signed {
                    signed: opening,
                    genuine: true,
                },
            },
        );
        let rogue_state = self.rogue_register.get().cloned().map(|mut v| {
            v.stamp.wall += Span::from_millis(1);
            v.playback.media = Some("https://rogue.example/ad.webm".into());
            v
        });
        if let Some(v) = rogue_state {
            self.forged.push(v.clone());
            self.events.push(
                self.now + 1_000,
                Ev::Deliver {
                    to: me,
                    from: self.rogue,
                    msg: Msg::State(v),
                },
            );
        }
        for a in 0..me {
            self.greet(a, me);
        }
        let announce = Statement::KeyOf {
            session: session(me),
        };
        self.state_signed(me, announce, None);
        self.next(Ev::Act(me), self.sc.actions_per_s);
    }

    fn run(mut self) -> HostRelayOutcome {
        let (n, rogue) = (self.sc.pages, self.rogue);
        // Each honest page announces its key; the host states "no Host controls" as its page
        // opens (term 0, seq 0), then its first action switches them on.
        for p in (0..n).filter(|&p| p != rogue) {
            let announce = Statement::KeyOf {
                session: session(p),
            };
            self.state_signed(p, announce, None);
        }
        self.state_signed(0, opening(), None);
        let on = Statement::Mode {
            on: true,
            term: 0,
            seq: WALL_MS,
        };
        self.state_signed(0, on, None);
        for p in (0..n).filter(|&p| p != rogue) {
            self.next(Ev::Act(p), self.sc.actions_per_s);
        }
        self.events.push(ROGUE_FROM_US, Ev::Rogue);
        if let Some(cut) = self.sc.partition {
            let (from, to) = cut.window_us();
            self.events.push(from, Ev::Cut);
            self.events.push(to, Ev::Heal);
        }
        if let Some(t) = self.sc.join_s {
            self.events.push((t * 1e6) as i64, Ev::Join);
        }
        while let Some((at, ev)) = self.events.pop() {
            self.now = at;
            match ev {
                Ev::Act(p) => self.act(p),
                Ev::Rogue => self.rogue_act(),
                Ev::Deliver { to, from, msg } => self.deliver(to, from, msg),
                Ev::Cut => self.cut = true,
                Ev::Heal => self.heal(),
                Ev::Join => self.join(),
            }
        }
        self.outcome()
    }

    fn outcome(self) -> HostRelayOutcome {
        let honest: Vec<&Page> = self.pages.iter().flatten().collect();
        let sessions: Vec<u64> = (0..self.pages.len()).map(session).collect();
        let summary = |p: &Page| {
            let a = &p.authority;
            let controllers: Vec<bool> = sessions.iter().map(|s| a.may_control(*s)).collect();
            (a.host(), a.mode(), controllers)
        };
        let first = honest[0];
        let mut out = self.out;
        out.agree_state = honest
            .iter()
            .all(|p| p.register.get() == first.register.get());
        out.agree_authority = honest.iter().all(|p| summary(p) == summary(first));
        out.host_mode = first.authority.host_mode();
        for p in &honest {
            let stats = p.authority.stats();
            out.dropped += u64::from(stats.dropped());
            out.stale += u64::from(stats.stale);
        }
        out
    }
}

/// Runs the scenario.
pub fn run(sc: HostRelay) -> HostRelayOutcome {
    let mut rng = Rng::new(sc.seed);
    let mut link_rng = rng.fork(3);
    let slots = sc.pages + usize::from(sc.join_s.is_some());
    let links = crate::world::network::links(&sc.link, slots, &mut link_rng);
    let rogue = sc.pages - 1;
    let mut relay = Relay {
        rng,
        link_rng,
        links,
        pages: Vec::new(),
        rogue,
        rogue_register: Register::new(),
        rogue_heard: Vec::new(),
        forged: Vec::new(),
        events: Agenda::new(),
        now: 0,
        cut: false,
        out: HostRelayOutcome::default(),
        sc,
    };
    for p in 0..relay.sc.pages {
        let page = (p != rogue).then(|| relay.new_page(p));
        relay.pages.push(page);
    }
    relay.run()
}

/// Six pages (the last a rogue) on WAN links (RTT 120 ms, 2 % loss) for 30 s, a newcomer at
/// 12 s.
pub fn host_relay(seed: u64) -> HostRelay {
    HostRelay {
        seed,
        pages: 6,
        actions_per_s: 0.5,
        rogue_per_s: 4.0,
        partition: None,
        join_s: Some(12.0),
        link: crate::scenarios::wan_link(),
        duration_s: 30.0,
    }
}
