//! The queue storm: pages editing the shared queue ("Up next", `insieme::programme`) at once
//! over the simulated links, and one more page joining mid-storm from the others' snapshots,
//! as the app does when a link opens. It measures how long after the last edit every page
//! shows the same queue, and whether any edit was lost on the way.
//!
//! Pieces travel on the reliable ordered channel (the room's messages do), so loss shows up
//! as retransmission delay and head-of-line blocking, not as missing pieces. Every page's
//! room clock is within a few ms of the truth, as the sync engine keeps it.

use crate::agenda::Agenda;
use crate::fixture::BASE_US;
use crate::net::{Link, LinkSpec};
use crate::rng::Rng;
use insieme::programme::{Delta, EditError, Item, Queue};
use insieme::sync::{PeerId, RoomTime, Span};

/// The storm's parameters.
#[derive(Clone, Debug)]
pub struct QueueStorm {
    pub seed: u64,
    /// Pages editing from the start.
    pub pages: usize,
    /// Edits happen during [0, storm_s).
    pub storm_s: f64,
    /// Mean edits per second per page.
    pub edits_per_s: f64,
    /// When one more page joins (and edits too), if at all.
    pub join_s: Option<f64>,
    pub link: LinkSpec,
}

/// What the storm measured.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueStormOutcome {
    /// Edits made (refused local edits, such as a move of an entry just removed, not counted).
    pub edits: usize,
    /// Pieces sent, counting each destination, and their encoded bytes.
    pub pieces: usize,
    pub bytes: usize,
    /// Every page shows the same queue at the end.
    pub agree: bool,
    /// From the last edit to the last change anywhere, ms.
    pub converge_ms: f64,
    /// Entries or settings a page is missing or has out of date, against the merge of every
    /// piece ever made (summed over pages).
    pub lost_edits: usize,
    pub final_entries: usize,
    /// Pieces' parts refused by any page.
    pub refused: u64,
}

enum Ev {
    Edit(usize),
    Deliver(usize, Delta),
    Join,
}

struct Storm {
    sc: QueueStorm,
    rng: Rng,
    link_rng: Rng,
    links: Vec<Vec<Link>>,
    pages: Vec<Queue>,
    /// Each page's room clock error, µs.
    offsets: Vec<i64>,
    events: Agenda<Ev>,
    now: i64,
    log: Vec<Delta>,
    out: QueueStormOutcome,
    last_edit: i64,
    last_change: i64,
}

impl Storm {
    fn room_now(&self, p: usize) -> RoomTime {
        RoomTime::from_micros(BASE_US + self.now + self.offsets[p])
    }

    fn send(&mut self, from: usize, to: usize, d: Delta) {
        self.out.pieces += 1;
        self.out.bytes += postcard::to_allocvec(&d).map_or(0, |b| b.len());
        let at = self.links[from][to].reliable(&self.sc.link, &mut self.link_rng, self.now);
        self.events.push(at, Ev::Deliver(to, d));
    }

    fn next_edit(&mut self, p: usize) {
        let at = self.now + (self.rng.exp(1e6 / self.sc.edits_per_s)) as i64;
        if (at as f64) < self.sc.storm_s * 1e6 {
            self.events.push(at, Ev::Edit(p));
        }
    }

    fn edit(&mut self, p: usize) {
        self.next_edit(p);
        let now = self.room_now(p);
        let rng = &mut self.rng;
        let q = &mut self.pages[p];
        let len = q.entries().len();
        let pick = |rng: &mut Rng| {
            q.entries()
                .get(rng.below(len as u64) as usize)
                .map(|e| e.id)
        };
        let (a, b) = (pick(rng), pick(rng));
        let unknown = Err(EditError::Unknown);
        let n = rng.next_u64() % 10_000;
        let result = match rng.below(20) {
            0..=7 => q.add(
                now,
                Item {
                    url: format!("https://videos.example/{n}.mp4"),
                    title: format!("Video {n}"),
                    duration: Some(Span::from_secs(60 + n as i64)),
                    added_by: format!("Page {p}"),
                },
            ),
            8..=10 => a.zip(b).map_or(unknown, |(a, b)| q.move_before(now, a, b)),
            11..=12 => a.zip(b).map_or(unknown, |(a, b)| q.move_after(now, a, b)),
            13 => a.map_or(unknown, |a| q.move_up(now, a)),
            14 => a.map_or(unknown, |a| q.move_down(now, a)),
            15..=17 => a.map_or(unknown, |a| q.remove(a)),
            18 => {
                let on = !q.repeat();
                q.set_repeat(now, on)
            }
            _ => {
                let on = !q.shuffled();
                q.set_shuffle(now, on)
            }
        };
        let Ok(d) = result else { return };
        self.out.edits += 1;
        self.last_edit = self.now;
        self.last_change = self.now;
        for piece in d.split() {
            self.log.push(piece.clone());
            for to in 0..self.pages.len() {
                if to != p {
                    self.send(p, to, piece.clone());
                }
            }
        }
    }

    /// The newcomer's links open: every page sends it its snapshot, and from now on it is
    /// one of the pages.
    fn join(&mut self) {
        let me = self.pages.len();
        self.pages.push(Queue::new(PeerId(me as u64 + 1)));
        self.offsets.push(self.rng.range(-2_000.0, 2_000.0) as i64);
        for from in 0..me {
            for piece in self.pages[from].snapshot().split() {
                self.send(from, me, piece);
            }
        }
        self.next_edit(me);
    }

    fn run(mut self) -> QueueStormOutcome {
        for p in 0..self.sc.pages {
            self.next_edit(p);
        }
        if let Some(t) = self.sc.join_s {
            self.events.push((t * 1e6) as i64, Ev::Join);
        }
        while let Some((at, ev)) = self.events.pop() {
            self.now = at;
            match ev {
                Ev::Edit(p) => self.edit(p),
                Ev::Join => self.join(),
                Ev::Deliver(to, d) => {
                    let now = self.room_now(to);
                    if self.pages[to].merge(d, Some(now)) {
                        self.last_change = self.now;
                    }
                }
            }
        }
        let mut truth = Queue::new(PeerId(0));
        for d in &self.log {
            truth.merge(d.clone(), None);
        }
        let want = truth.snapshot();
        let mut out = self.out;
        for q in &self.pages {
            let got = q.snapshot();
            out.lost_edits += want
                .entries
                .iter()
                .filter(|e| !got.entries.contains(e))
                .count()
                + got
                    .entries
                    .iter()
                    .filter(|e| !want.entries.contains(e))
                    .count()
                + usize::from(got.repeat != want.repeat)
                + usize::from(got.shuffle != want.shuffle);
            out.refused += q.stats().refused();
        }
        out.agree = self.pages.iter().all(|q| q.snapshot() == want);
        out.converge_ms = (self.last_change - self.last_edit) as f64 / 1e3;
        out.final_entries = want.entries.len();
        out
    }
}

/// Runs the storm.
pub fn run(sc: QueueStorm) -> QueueStormOutcome {
    let mut rng = Rng::new(sc.seed);
    let mut link_rng = rng.fork(1);
    let total = sc.pages + usize::from(sc.join_s.is_some());
    let links = crate::world::network::links(&sc.link, total, &mut link_rng);
    let offsets = (0..sc.pages)
        .map(|_| rng.range(-2_000.0, 2_000.0) as i64)
        .collect();
    let pages = (0..sc.pages)
        .map(|p| Queue::new(PeerId(p as u64 + 1)))
        .collect();
    Storm {
        rng,
        link_rng,
        links,
        pages,
        offsets,
        events: Agenda::new(),
        now: 0,
        log: Vec::new(),
        out: QueueStormOutcome {
            edits: 0,
            pieces: 0,
            bytes: 0,
            agree: false,
            converge_ms: 0.0,
            lost_edits: 0,
            final_entries: 0,
            refused: 0,
        },
        last_edit: 0,
        last_change: 0,
        sc,
    }
    .run()
}

/// The storm of the tests: 8 pages, one edit a second each for 30 s, WAN links (2 % loss),
/// a ninth page joining at 15 s.
pub fn queue_storm(seed: u64) -> QueueStorm {
    QueueStorm {
        seed,
        pages: 8,
        storm_s: 30.0,
        edits_per_s: 1.0,
        join_s: Some(15.0),
        link: crate::scenarios::wan_link(),
    }
}
