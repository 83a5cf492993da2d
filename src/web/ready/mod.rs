//! The ready check as the party sees it: a small handle in the first download, in front of
//! the check itself (`live`: `programme::ready` and the "Ready?" prompt), a download of its
//! own fetched when the room first needs it (this page loads a video or asks, or a friend's
//! note arrives). Until it runs, the notes that arrive wait here and are replayed.
//!
//! The handle holds no link and no engine: the party gives it room time, the room's state
//! and the people, sends the notes it returns (encoded, as they travel) and issues the start.

mod live;

use crate::room::people::People;
use crate::sync::{PeerId, RoomTime, Versioned};
use crate::web::chunk::ChunkUnavailable;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Most notes kept while the code is on its way: one per person, a few times over.
const MAX_WAITING_NOTES: usize = 64;

/// What the prompt's buttons do (the party's).
#[derive(Clone)]
pub struct PromptActions {
    pub ready: Rc<dyn Fn()>,
    pub start_anyway: Rc<dyn Fn()>,
    pub ask: Rc<dyn Fn()>,
}

/// The check after the party asked it.
pub struct Checked {
    /// This page starts the film now.
    pub start: bool,
    /// Someone's place in the check changed (the people given were updated).
    pub people_changed: bool,
}

/// A note as it travels.
type Note = Vec<u8>;

/// What the party asks of the running check.
trait ReadyEngine {
    fn open(&self, now: RoomTime, media: &str, may_control: bool) -> Option<Note>;
    fn mark_ready(&self) -> Option<Note>;
    fn start_anyway(&self, may_control: bool) -> Option<Note>;
    fn note(&self) -> Option<Note>;
    /// Merges a friend's note; returns what to pass on (a check newly heard of).
    fn merge(
        &self,
        from: PeerId,
        note: &[u8],
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Option<Note>;
    /// Decides whether to start, updates the prompt, and each person's readiness in
    /// `people`. `now` is room time, `None` while unknown; `state` the playback register's.
    fn check(
        &self,
        now: Option<RoomTime>,
        state: Option<&Versioned>,
        people: &mut People,
    ) -> Checked;
    fn refused(&self) -> u64;
    fn mount_prompt(&self, container: web_sys::HtmlElement, actions: PromptActions);
}

/// Builds the running check, fetching its code first where the download is split.
async fn load(me: PeerId) -> Result<Rc<dyn ReadyEngine>, ChunkUnavailable> {
    #[cfg(feature = "lazy-chunks")]
    let engine = live::start(me).await;
    #[cfg(not(feature = "lazy-chunks"))]
    let engine = live::start(me);
    engine
}

/// What arrived or was asked before the check's code ran: friends' notes, and the video this
/// page asked about (it loaded one, or pressed "Ready check"), replayed once it does.
#[derive(Default)]
pub struct Waiting {
    pub notes: Vec<(PeerId, Note)>,
    pub open: Option<String>,
}

enum Stage {
    /// Not needed yet (or its code could not be fetched: the next use retries).
    Idle(Waiting),
    Loading(Waiting),
    Live(Rc<dyn ReadyEngine>),
}

/// A handle to the ready check; cheap to clone, lives as long as the party.
#[derive(Clone)]
pub struct ReadyHandle {
    me: PeerId,
    stage: Rc<RefCell<Stage>>,
    /// The check's code runs here (the prompt can be shown).
    pub loaded: ReadSignal<bool>,
    set_loaded: WriteSignal<bool>,
    dropped: Rc<RefCell<u64>>,
}

/// The running check, for the party.
#[derive(Clone)]
pub struct LiveReady(Rc<dyn ReadyEngine>);

impl ReadyHandle {
    pub fn new(me: PeerId) -> Self {
        let (loaded, set_loaded) = signal(false);
        ReadyHandle {
            me,
            stage: Rc::new(RefCell::new(Stage::Idle(Waiting::default()))),
            loaded,
            set_loaded,
            dropped: Rc::default(),
        }
    }

    pub fn live(&self) -> Option<LiveReady> {
        match &*self.stage.borrow() {
            Stage::Live(engine) => Some(LiveReady(engine.clone())),
            _ => None,
        }
    }

    /// Keeps a friend's note, or the video to ask about, until the code runs; returns
    /// whether to start fetching it.
    pub fn wait(&self, note: Option<(PeerId, Note)>, open: Option<String>) -> bool {
        let mut stage = self.stage.borrow_mut();
        let (Stage::Idle(waiting) | Stage::Loading(waiting)) = &mut *stage else {
            return false;
        };
        match note {
            Some(n) if waiting.notes.len() < MAX_WAITING_NOTES => waiting.notes.push(n),
            Some(_) => *self.dropped.borrow_mut() += 1,
            None => {}
        }
        if open.is_some() {
            waiting.open = open;
        }
        matches!(*stage, Stage::Idle(_))
    }

    /// Fetches the check's code (once); returns the notes that waited for it, or `None` if
    /// it is already running, on its way, or could not be fetched.
    pub async fn load(&self) -> Option<Waiting> {
        {
            let mut stage = self.stage.borrow_mut();
            let Stage::Idle(waiting) = &mut *stage else {
                return None;
            };
            let waiting = std::mem::take(waiting);
            *stage = Stage::Loading(waiting);
        }
        let loaded = load(self.me).await;
        let mut stage = self.stage.borrow_mut();
        let Stage::Loading(waiting) =
            std::mem::replace(&mut *stage, Stage::Idle(Waiting::default()))
        else {
            return None;
        };
        match loaded {
            Ok(engine) => {
                *stage = Stage::Live(engine);
                drop(stage);
                self.set_loaded.set(true);
                Some(waiting)
            }
            Err(ChunkUnavailable) => {
                *stage = Stage::Idle(waiting);
                None
            }
        }
    }

    /// Notes refused by the check, and dropped while waiting for its code.
    pub fn refused(&self) -> u64 {
        self.live().map_or(0, |r| r.0.refused()) + *self.dropped.borrow()
    }

    /// Shows the prompt in `container` (once the code runs).
    pub fn mount_prompt(&self, container: web_sys::HtmlElement, actions: PromptActions) {
        if let Some(r) = self.live() {
            r.0.mount_prompt(container, actions);
        }
    }
}

impl LiveReady {
    pub fn open(&self, now: RoomTime, media: &str, may_control: bool) -> Option<Note> {
        self.0.open(now, media, may_control)
    }
    pub fn mark_ready(&self) -> Option<Note> {
        self.0.mark_ready()
    }
    pub fn start_anyway(&self, may_control: bool) -> Option<Note> {
        self.0.start_anyway(may_control)
    }
    pub fn note(&self) -> Option<Note> {
        self.0.note()
    }
    pub fn merge(
        &self,
        from: PeerId,
        note: &[u8],
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Option<Note> {
        self.0.merge(from, note, now, may_control)
    }
    pub fn check(
        &self,
        now: Option<RoomTime>,
        state: Option<&Versioned>,
        people: &mut People,
    ) -> Checked {
        self.0.check(now, state, people)
    }
}
