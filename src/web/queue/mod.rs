//! The shared queue ("Up next") as the rest of the app sees it: a small handle that is part of
//! the first download, in front of the queue's machinery (`live`: the replicated queue, what
//! plays from it, and its panel), which is a separate download.
//!
//! Most parties never queue anything, so that code is fetched the first time the room uses
//! the queue: when someone here presses "Add to queue", or a piece of a friend's queue
//! arrives. Until it runs, the handle keeps what arrived and what was asked, and replays them;
//! an empty queue needs nothing else (there is nothing to send a newcomer, nothing to play
//! next). `xtask` splits the download at [`live::start`] (the `lazy-chunks` feature); without
//! it the queue is built in and loading it is immediate.
//!
//! The handle holds no link and no engine: the party gives it room time, the pieces peers
//! send, the room's media and the end of the video, and sends or loads what it returns.

mod live;

use crate::programme::{AtEnd, Edit, EditError, Entry, EntryId};
use crate::sync::{PeerId, RoomTime};
use crate::web::chunk::ChunkUnavailable;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Most pieces kept while the queue's code is on its way: a few whole snapshots.
const MAX_WAITING_PIECES: usize = 512;
/// Most edits kept while the page cannot make them: a few clicks' worth.
const MAX_WAITING_EDITS: usize = 16;

/// The queue as the panel shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpNext {
    /// The live entries, in list order.
    pub entries: Vec<Entry>,
    /// The entry the room's video came from.
    pub playing: Option<EntryId>,
    pub repeat: bool,
    pub shuffle: bool,
}

/// Read-only signals of the queue; only the queue writes them.
#[derive(Clone, Copy)]
pub struct QueueView {
    /// Whether this page may edit: it knows room time (it has met the room).
    pub editable: ReadSignal<bool>,
    /// The queue's code runs here (the panel can be shown, [`SharedQueue::up_next`] read).
    pub loaded: ReadSignal<bool>,
}

/// What the panel's buttons do (the party's edits and "Play now").
#[derive(Clone)]
pub struct PanelActions {
    pub edit: Rc<dyn Fn(Edit)>,
    pub play: Rc<dyn Fn(EntryId)>,
}

/// What the party asks of the running queue; pieces are as they travel.
trait QueueEngine {
    fn merge(&self, piece: &[u8], horizon: Option<RoomTime>, media: Option<&str>);
    fn snapshot(&self) -> Vec<Vec<u8>>;
    /// Makes an edit (or keeps it until there is room time); returns the pieces to send.
    fn edit(&self, now: Option<RoomTime>, edit: Edit) -> Result<Vec<Vec<u8>>, EditError>;
    fn has_waiting_edits(&self) -> bool;
    fn flush(&self, now: RoomTime) -> Vec<Vec<u8>>;
    fn follow(&self, media: Option<&str>);
    fn start(&self, id: EntryId) -> Option<String>;
    fn on_end(&self, at: AtEnd) -> Option<String>;
    fn refused(&self) -> u64;
    fn mount_panel(&self, container: web_sys::HtmlElement, actions: PanelActions);
    fn up_next(&self) -> ReadSignal<UpNext>;
}

/// Everything the queue is built from.
struct QueueSeed {
    me: PeerId,
    view: QueueView,
}

/// Builds the running queue, fetching its code first where the download is split.
async fn load(seed: QueueSeed) -> Result<Rc<dyn QueueEngine>, ChunkUnavailable> {
    #[cfg(feature = "lazy-chunks")]
    let engine = live::start(seed).await;
    #[cfg(not(feature = "lazy-chunks"))]
    let engine = live::start(seed);
    engine
}

/// What arrived or was asked before the queue's code ran.
#[derive(Default)]
pub struct Waiting {
    pub pieces: Vec<Vec<u8>>,
    pub edits: Vec<Edit>,
}

enum Stage {
    /// Nobody used the queue yet (or its code could not be fetched: the next use retries).
    Idle(Waiting),
    Loading(Waiting),
    Live(Rc<dyn QueueEngine>),
}

/// A handle to the queue; cheap to clone, lives as long as the party.
#[derive(Clone)]
pub struct SharedQueue {
    me: PeerId,
    pub view: QueueView,
    set_editable: WriteSignal<bool>,
    set_loaded: WriteSignal<bool>,
    stage: Rc<RefCell<Stage>>,
    /// Pieces and edits dropped while waiting, past the bounds above.
    dropped: Rc<RefCell<u64>>,
}

/// The running queue, for the party.
#[derive(Clone)]
pub struct LiveQueue(Rc<dyn QueueEngine>);

impl SharedQueue {
    pub fn new(me: PeerId) -> Self {
        let (editable, set_editable) = signal(false);
        let (loaded, set_loaded) = signal(false);
        SharedQueue {
            me,
            view: QueueView { editable, loaded },
            set_editable,
            set_loaded,
            stage: Rc::new(RefCell::new(Stage::Idle(Waiting::default()))),
            dropped: Rc::default(),
        }
    }

    /// The running queue, once its code has arrived.
    pub fn live(&self) -> Option<LiveQueue> {
        match &*self.stage.borrow() {
            Stage::Live(engine) => Some(LiveQueue(engine.clone())),
            _ => None,
        }
    }

    /// Keeps a piece or an edit until the code runs; returns whether to start fetching it.
    pub fn wait(&self, piece: Option<Vec<u8>>, edit: Option<Edit>) -> bool {
        let mut stage = self.stage.borrow_mut();
        let (Stage::Idle(waiting) | Stage::Loading(waiting)) = &mut *stage else {
            return false;
        };
        let mut dropped = 0;
        match piece {
            Some(p) if waiting.pieces.len() < MAX_WAITING_PIECES => waiting.pieces.push(p),
            Some(_) => dropped += 1,
            None => {}
        }
        match edit {
            Some(e) if waiting.edits.len() < MAX_WAITING_EDITS => waiting.edits.push(e),
            Some(_) => dropped += 1,
            None => {}
        }
        *self.dropped.borrow_mut() += dropped;
        matches!(*stage, Stage::Idle(_))
    }

    /// What waits, as pieces for a newcomer (they merge like a snapshot).
    pub fn waiting_pieces(&self) -> Vec<Vec<u8>> {
        match &*self.stage.borrow() {
            Stage::Idle(w) | Stage::Loading(w) => w.pieces.clone(),
            Stage::Live(_) => Vec::new(),
        }
    }

    /// Fetches the queue's code (once); returns what waited for it, for the party to replay,
    /// or `None` if it is already running, on its way, or could not be fetched.
    pub async fn load(&self) -> Option<Waiting> {
        {
            let mut stage = self.stage.borrow_mut();
            let Stage::Idle(waiting) = &mut *stage else {
                return None;
            };
            let waiting = std::mem::take(waiting);
            *stage = Stage::Loading(waiting);
        }
        let seed = QueueSeed {
            me: self.me,
            view: self.view,
        };
        let loaded = load(seed).await;
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

    pub fn set_editable(&self, editable: bool) {
        if self.view.editable.get_untracked() != editable {
            self.set_editable.set(editable);
        }
    }

    /// Entries, ranges and settings peers sent that were refused, and pieces dropped.
    pub fn refused(&self) -> u64 {
        let live = self.live().map_or(0, |q| q.0.refused());
        live + *self.dropped.borrow()
    }

    /// The list as the panel shows it, once the queue's code runs (its signal lives in that
    /// code's download: the first load carries no code for it).
    pub fn up_next(&self) -> Option<ReadSignal<UpNext>> {
        self.live().map(|q| q.0.up_next())
    }

    /// Shows the panel in `container` (once the code runs).
    pub fn mount_panel(&self, container: web_sys::HtmlElement, actions: PanelActions) {
        if let Some(q) = self.live() {
            q.0.mount_panel(container, actions);
        }
    }
}

impl LiveQueue {
    pub fn merge(&self, piece: &[u8], horizon: Option<RoomTime>, media: Option<&str>) {
        self.0.merge(piece, horizon, media)
    }
    pub fn snapshot(&self) -> Vec<Vec<u8>> {
        self.0.snapshot()
    }
    pub fn edit(&self, now: Option<RoomTime>, edit: Edit) -> Result<Vec<Vec<u8>>, EditError> {
        self.0.edit(now, edit)
    }
    pub fn has_waiting_edits(&self) -> bool {
        self.0.has_waiting_edits()
    }
    pub fn flush(&self, now: RoomTime) -> Vec<Vec<u8>> {
        self.0.flush(now)
    }
    pub fn follow(&self, media: Option<&str>) {
        self.0.follow(media)
    }
    pub fn start(&self, id: EntryId) -> Option<String> {
        self.0.start(id)
    }
    pub fn on_end(&self, at: AtEnd) -> Option<String> {
        self.0.on_end(at)
    }
}
