//! The room's programme as the party sees it: the shared queue with its Suggested tab, the
//! ready check and the reactions, behind one small handle in the first download, in front of
//! one download of their own (`live`: the three parts' machinery and what they draw).
//!
//! Each part used to be a download of its own with its own handle, stand-in and loading
//! plumbing in the first load; one handle and one download cost the first load less. The
//! room fetches it as it opens (once the room's topic, which names where its history is
//! kept, is known: after the first paint), so no part waits for a fetch when first used.
//! Until it runs, what arrives for the programme and what is asked of it waits here, bounded
//! per kind, and the party replays it; a fetch that failed leaves the handle idle, and the
//! next use tries again. What the parts show still appears when the room first uses them
//! (the queue's panels, the ready prompt): their own code decides that, not the fetch.
//! `xtask` splits the download at [`live::start`] (the `lazy-chunks` feature); without it
//! the code is built in and loading is immediate.

mod live;

use super::party::Party;
use super::queue::{QueueEngine, MAX_WAITING_EDITS};
use super::reactions::{Incoming, ReactionsEngine};
use super::ready::ReadyEngine;
use crate::programme::Edit;
use crate::signaling::payload::SessionId;
use crate::sync::{MediaTime, PeerId};
use crate::web::chunk::ChunkUnavailable;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The ids of the places the page keeps for the programme's parts (`ui::room` draws them,
/// with the first load's stand-in of the tabs in the first): the tabs and their panels, and
/// the ready check's prompt.
pub const TABS_SLOT: &str = "programme-slot";
pub const PROMPT_SLOT: &str = "ready-slot";

/// Most queue pieces kept while the code is on its way: a few whole snapshots.
const MAX_WAITING_PIECES: usize = 512;
/// Most friends' lists of what they watched kept meanwhile (one each).
const MAX_WAITING_LISTS: usize = 32;
/// Most videos loaded here kept meanwhile, for the room's history.
const MAX_WAITING_WATCHED: usize = 16;
/// Most ready notes kept meanwhile: one per person, a few times over.
const MAX_WAITING_NOTES: usize = 64;
/// Most reaction messages kept meanwhile: a few tracks and a burst from everyone.
const MAX_WAITING_REACTIONS: usize = 64;

/// The running parts, for the party.
pub struct Engines {
    pub queue: Rc<dyn QueueEngine>,
    pub ready: Rc<dyn ReadyEngine>,
    pub reactions: Rc<dyn ReactionsEngine>,
}

/// Everything the running programme is built from: the party (whose calls its buttons make,
/// and whose view it reads), and the room's topic (where its history is stored), once known.
pub struct Seed {
    pub party: Party,
    pub topic: Option<String>,
}

/// Something for the programme that arrived or was asked before its code ran.
pub enum Deferred {
    /// A piece of a friend's queue, as it travels.
    Piece(Vec<u8>),
    /// An edit of the queue made here.
    Edit(Edit),
    /// A friend's list of what they watched in this room.
    List(String),
    /// A video this room loaded, and when (milliseconds since 1970).
    Watched(String, u64),
    /// A friend's ready note, as it travels.
    Note(PeerId, Vec<u8>),
    /// A ready check this page opened, for the video named.
    Open(String),
    /// A friend's reaction message.
    Reaction(SessionId, Incoming),
}

/// What waited for the code, for the party to replay (each kind in arrival order).
#[derive(Default)]
pub struct Waiting {
    pub pieces: Vec<Vec<u8>>,
    pub edits: Vec<Edit>,
    pub lists: Vec<String>,
    pub watched: Vec<(String, u64)>,
    pub notes: Vec<(PeerId, Vec<u8>)>,
    pub open: Option<String>,
    pub reactions: Vec<(SessionId, Incoming)>,
    /// The latest frame's media time, so the reactions' playhead starts where the film is.
    pub frame: Option<MediaTime>,
}

impl Waiting {
    /// Keeps `what` unless its kind is at its bound; returns whether it was kept.
    fn keep(&mut self, what: Deferred) -> bool {
        fn push<T>(list: &mut Vec<T>, most: usize, item: T) -> bool {
            let room = list.len() < most;
            if room {
                list.push(item);
            }
            room
        }
        match what {
            Deferred::Piece(p) => push(&mut self.pieces, MAX_WAITING_PIECES, p),
            Deferred::Edit(e) => push(&mut self.edits, MAX_WAITING_EDITS, e),
            Deferred::List(l) => push(&mut self.lists, MAX_WAITING_LISTS, l),
            // This page's own record, not a peer's message: past the bound it is not counted.
            Deferred::Watched(url, at) => {
                push(&mut self.watched, MAX_WAITING_WATCHED, (url, at));
                true
            }
            Deferred::Note(from, n) => push(&mut self.notes, MAX_WAITING_NOTES, (from, n)),
            Deferred::Open(media) => {
                self.open = Some(media);
                true
            }
            Deferred::Reaction(from, r) => {
                push(&mut self.reactions, MAX_WAITING_REACTIONS, (from, r))
            }
        }
    }
}

enum Stage {
    /// Not fetched yet, or the fetch failed (the next use retries).
    Idle(Waiting),
    Loading(Waiting),
    Live(Rc<Engines>),
}

/// The programme's handle; lives as long as the party.
pub struct Programme {
    stage: RefCell<Stage>,
    /// What was dropped while waiting, past the bounds above.
    dropped: Cell<u64>,
}

impl Default for Programme {
    fn default() -> Self {
        Programme {
            stage: RefCell::new(Stage::Idle(Waiting::default())),
            dropped: Cell::new(0),
        }
    }
}

impl Programme {
    /// The running parts, once the code has arrived.
    pub fn live(&self) -> Option<Rc<Engines>> {
        match &*self.stage.borrow() {
            Stage::Live(engines) => Some(engines.clone()),
            _ => None,
        }
    }

    /// Keeps `what` until the code runs; returns whether to start fetching it (nobody has,
    /// or the last fetch failed). Past its kind's bound it is dropped and counted.
    pub fn wait(&self, what: Deferred) -> bool {
        let mut stage = self.stage.borrow_mut();
        let (Stage::Idle(waiting) | Stage::Loading(waiting)) = &mut *stage else {
            return false;
        };
        if !waiting.keep(what) {
            self.dropped.set(self.dropped.get() + 1);
        }
        matches!(*stage, Stage::Idle(_))
    }

    /// The player presented a frame at `at`: kept for the reactions while the code is on
    /// its way (never a reason to fetch it), handed to them once it runs.
    pub fn on_frame(&self, at: MediaTime) {
        let live = match &mut *self.stage.borrow_mut() {
            Stage::Idle(waiting) | Stage::Loading(waiting) => {
                waiting.frame = Some(at);
                return;
            }
            Stage::Live(engines) => engines.clone(),
        };
        live.reactions.on_frame(at);
    }

    /// The queue pieces still waiting, for a newcomer (they merge like a snapshot).
    pub fn waiting_pieces(&self) -> Vec<Vec<u8>> {
        match &*self.stage.borrow() {
            Stage::Idle(w) | Stage::Loading(w) => w.pieces.clone(),
            Stage::Live(_) => Vec::new(),
        }
    }

    /// What was dropped while waiting.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }

    /// Fetches the code (once) and starts it; returns what waited, for the party to replay,
    /// or `None` if it is already running, on its way, or could not be fetched.
    pub async fn load(&self, seed: Seed) -> Option<Waiting> {
        {
            let mut stage = self.stage.borrow_mut();
            let Stage::Idle(waiting) = &mut *stage else {
                return None;
            };
            *stage = Stage::Loading(std::mem::take(waiting));
        }
        #[cfg(feature = "lazy-chunks")]
        let loaded = live::start(seed).await;
        #[cfg(not(feature = "lazy-chunks"))]
        let loaded = live::start(seed);
        let mut stage = self.stage.borrow_mut();
        let Stage::Loading(waiting) =
            std::mem::replace(&mut *stage, Stage::Idle(Waiting::default()))
        else {
            return None;
        };
        match loaded {
            Ok(engines) => {
                *stage = Stage::Live(engines);
                Some(waiting)
            }
            Err(ChunkUnavailable) => {
                *stage = Stage::Idle(waiting);
                None
            }
        }
    }
}
