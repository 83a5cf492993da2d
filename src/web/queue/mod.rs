//! The shared queue ("Up next") as the rest of the app sees it: what the first download keeps
//! of it (whether this page may edit, the room's topic, the last video it recorded), in front
//! of the queue's machinery (`live`: the replicated queue, what plays from it, and its panel),
//! which is part of the programme's download (`web::programme`, which also keeps what arrives
//! for the queue until that code runs).
//!
//! The handle holds no link and no engine: the party gives the running queue room time, the
//! pieces peers send, the room's media and the end of the video, and sends or loads what it
//! returns.
//!
//! The Suggested tab lives in the same download. The first load only reads this browser's
//! own list of what the room watched from storage as it is (text) to send when a link opens:
//! reading, merging and writing that list is the queue's code (`programme::history`).

pub(crate) mod live;
pub mod probe;
pub mod suggested;

use crate::programme::{AtEnd, Edit, EditError, Entry, EntryId};
use crate::sync::{PeerId, RoomTime};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

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
pub trait QueueEngine {
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
    /// Draws the tabs in `container`, in place of the first load's stand-in, and their
    /// panels once the room uses the queue.
    fn mount_panel(&self, container: web_sys::HtmlElement, actions: PanelActions);
    /// The room loaded `url` at `at_ms` (milliseconds since 1970): one row of its history.
    fn watched(&self, url: &str, at_ms: u64);
    /// A friend's list of what they watched in this room (as it travels).
    fn friend_watched(&self, list: &str);
}

/// Everything the queue is built from.
pub(crate) struct QueueSeed {
    pub me: PeerId,
    /// Whether this page may edit (the first load writes it).
    pub editable: ReadSignal<bool>,
    /// The room's topic, once known: names where its history is stored.
    pub topic: Option<String>,
}

/// What the first load keeps of the queue; lives as long as the party.
pub struct SharedQueue {
    /// Whether this page may edit: it knows room time (it has met the room).
    pub editable: ReadSignal<bool>,
    set_editable: WriteSignal<bool>,
    /// The room's topic (see [`history_key`]), once the room's keys are derived.
    topic: RefCell<Option<String>>,
    /// The last video the room loaded, so that each load is one row of history.
    last_media: RefCell<Option<String>>,
}

impl Default for SharedQueue {
    fn default() -> Self {
        let (editable, set_editable) = signal(false);
        SharedQueue {
            editable,
            set_editable,
            topic: RefCell::default(),
            last_media: RefCell::default(),
        }
    }
}

impl SharedQueue {
    /// The room's topic, which names where its history is kept.
    pub fn set_topic(&self, topic: String) {
        *self.topic.borrow_mut() = Some(topic);
    }

    pub fn topic(&self) -> Option<String> {
        self.topic.borrow().clone()
    }

    /// What this browser recorded the room watching, as stored (and as it travels), for a
    /// friend whose link just opened; `None` if nothing (or nothing sendable) is stored.
    pub fn stored_history(&self) -> Option<String> {
        let key = history_key(self.topic.borrow().as_deref()?);
        let text = local_storage()?.get_item(&key).ok()??;
        let fits = text.len() > 2 && text.len() <= crate::programme::history::MAX_HISTORY_BYTES;
        fits.then_some(text)
    }

    /// The room's video is now `media`: a new one is returned, to become a row of the
    /// room's history.
    pub fn new_media(&self, media: Option<&str>) -> Option<String> {
        let url = media?;
        if self.last_media.borrow().as_deref() == Some(url) {
            return None;
        }
        *self.last_media.borrow_mut() = Some(url.to_owned());
        Some(url.to_owned())
    }

    pub fn set_editable(&self, editable: bool) {
        crate::web::set_if_changed(self.set_editable, editable);
    }
}
