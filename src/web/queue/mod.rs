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
//!
//! The Suggested tab lives in the same download. The handle only keeps, until it runs, the
//! videos this room loaded and the lists friends sent of what they watched, and reads this
//! browser's own list from storage as it is (text) to send when a link opens: reading,
//! merging and writing that list is the queue's code (`programme::history`).

mod live;
pub mod probe;
pub mod suggested;

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
/// Most friends' lists of what they watched kept while the code is on its way (one each).
const MAX_WAITING_LISTS: usize = 32;
/// Most videos loaded here kept while the code is on its way, for the room's history.
const MAX_WAITING_WATCHED: usize = 16;

/// Where this browser keeps what a room watched: one key per room, named by its topic (which
/// the endpoint sees anyway, and which says nothing of the room's secret).
fn history_key(topic: &str) -> String {
    format!("insieme.watched.{topic}")
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

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
    /// "Add to queue" from the Suggested tab: a link and its title, as added by this person
    /// (`Party::queue_link`); the error says why it was not, for the person.
    pub add: Rc<dyn Fn(String, String) -> Result<(), String>>,
    /// Which tab shows: Suggested (true) or Up next.
    pub suggested: RwSignal<bool>,
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
    /// The room loaded `url` at `at_ms` (milliseconds since 1970): one row of its history.
    fn watched(&self, url: &str, at_ms: u64);
    /// A friend's list of what they watched in this room (as it travels).
    fn friend_watched(&self, list: &str);
}

/// Everything the queue is built from.
struct QueueSeed {
    me: PeerId,
    view: QueueView,
    /// The room's topic, once known: names where its history is stored.
    topic: Option<String>,
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
    /// Friends' lists of what they watched.
    pub lists: Vec<String>,
    /// Videos the room loaded, and when.
    pub watched: Vec<(String, u64)>,
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
    /// The room's topic (see [`history_key`]), once the room's keys are derived.
    topic: Rc<RefCell<Option<String>>>,
    /// The last video the room loaded, so that each load is one row of history.
    last_media: Rc<RefCell<Option<String>>>,
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
            topic: Rc::default(),
            last_media: Rc::default(),
        }
    }

    /// The room's topic, which names where its history is kept.
    pub fn set_topic(&self, topic: String) {
        *self.topic.borrow_mut() = Some(topic);
    }

    /// What this browser recorded the room watching, as stored (and as it travels), for a
    /// friend whose link just opened; `None` if nothing (or nothing sendable) is stored.
    pub fn stored_history(&self) -> Option<String> {
        let key = history_key(self.topic.borrow().as_deref()?);
        let text = local_storage()?.get_item(&key).ok()??;
        let fits = text.len() > 2 && text.len() <= crate::programme::history::MAX_HISTORY_BYTES;
        fits.then_some(text)
    }

    /// The room's video is now `media`: a new one becomes a row of the room's history.
    pub fn follow_media(&self, media: Option<&str>) {
        let Some(url) = media else { return };
        if self.last_media.borrow().as_deref() == Some(url) {
            return;
        }
        *self.last_media.borrow_mut() = Some(url.to_owned());
        self.record_watched(url, js_sys::Date::now() as u64);
    }

    /// The room loaded `url` at `at_ms`: recorded, or kept until the code runs.
    pub fn record_watched(&self, url: &str, at_ms: u64) {
        if let Some(q) = self.live() {
            return q.0.watched(url, at_ms);
        }
        if let Stage::Idle(w) | Stage::Loading(w) = &mut *self.stage.borrow_mut() {
            if w.watched.len() < MAX_WAITING_WATCHED {
                w.watched.push((url.to_owned(), at_ms));
            }
        }
    }

    /// A friend's list of what they watched here; kept until the code runs.
    pub fn friend_watched(&self, list: String) {
        if let Some(q) = self.live() {
            return q.0.friend_watched(&list);
        }
        if let Stage::Idle(w) | Stage::Loading(w) = &mut *self.stage.borrow_mut() {
            if w.lists.len() < MAX_WAITING_LISTS {
                w.lists.push(list);
            } else {
                *self.dropped.borrow_mut() += 1;
            }
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
            topic: self.topic.borrow().clone(),
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
