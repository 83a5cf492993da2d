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
use super::queue::QueueEngine;
use super::reactions::ReactionsEngine;
use super::ready::ReadyEngine;
use crate::sync::MediaTime;
use crate::web::chunk::ChunkUnavailable;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub use crate::programme::waiting::{Deferred, Waiting};

/// The ids of the places the page keeps for the programme's parts (`ui::room` draws them,
/// with the first load's stand-in of the tabs in the first): the tabs and their panels, and
/// the ready check's prompt.
pub const TABS_SLOT: &str = "programme-slot";
pub const PROMPT_SLOT: &str = "ready-slot";

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

enum Stage {
    /// Not fetched yet, or the fetch failed (the next use retries).
    Idle(Waiting),
    Loading(Waiting),
    Live(Rc<Engines>),
}

/// The programme's handle; lives as long as the party.
pub struct Programme {
    stage: RefCell<Stage>,
    /// What was dropped while waiting, past its kind's bound (`programme::waiting`).
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
