//! The shared queue ("Up next") in the page: the pure queue and what is playing from it
//! (`programme`), published as read-only signals. The party feeds it room time, the pieces
//! peers send, the room's media and the end of the video, and carries out what it returns
//! (pieces to send, a video to load): this holds no link and no engine.

use crate::programme::{AtEnd, Delta, Edit, EditError, Entry, EntryId, NowPlaying, Queue};
use crate::room::wire::PeerMessage;
use crate::sync::{PeerId, RoomTime};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

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

/// Read-only signals of the queue; only [`SharedQueue`] writes them.
#[derive(Clone, Copy)]
pub struct QueueView {
    pub up_next: ReadSignal<UpNext>,
    /// Whether this page may edit: it knows room time (it has met the room).
    pub editable: ReadSignal<bool>,
}

/// Most edits kept while the page cannot stamp them: a few clicks' worth.
const MAX_PENDING_EDITS: usize = 16;

struct State {
    queue: Queue,
    playing: NowPlaying,
    /// Edits made while another page was founding the room's timeline (between its hello
    /// and our first clock samples of it), made once this page has room time again.
    pending: Vec<Edit>,
}

/// The page's copy of the queue; cheap to clone.
#[derive(Clone)]
pub struct SharedQueue {
    state: Rc<RefCell<State>>,
    pub view: QueueView,
    set_up_next: WriteSignal<UpNext>,
    set_editable: WriteSignal<bool>,
}

impl SharedQueue {
    pub fn new(me: PeerId) -> Self {
        let (up_next, set_up_next) = signal(UpNext::default());
        let (editable, set_editable) = signal(false);
        SharedQueue {
            state: Rc::new(RefCell::new(State {
                queue: Queue::new(me),
                playing: NowPlaying::default(),
                pending: Vec::new(),
            })),
            view: QueueView { up_next, editable },
            set_up_next,
            set_editable,
        }
    }

    /// The whole queue, as messages for a newcomer.
    pub fn snapshot(&self) -> Vec<PeerMessage> {
        let snapshot = self.state.borrow().queue.snapshot();
        messages(snapshot)
    }

    /// Makes a local edit; returns the messages for everyone. Without room time the edit
    /// waits for [`SharedQueue::flush`].
    pub fn edit(&self, now: Option<RoomTime>, edit: Edit) -> Result<Vec<PeerMessage>, EditError> {
        if now.is_none() {
            let mut state = self.state.borrow_mut();
            if state.pending.len() >= MAX_PENDING_EDITS {
                return Err(EditError::NoRoomTime);
            }
            state.pending.push(edit);
            return Ok(Vec::new());
        }
        let delta = self.state.borrow_mut().queue.edit(now, edit)?;
        self.publish();
        Ok(messages(delta))
    }

    pub fn has_pending(&self) -> bool {
        !self.state.borrow().pending.is_empty()
    }

    /// Makes the edits that waited for room time (those that no longer apply are dropped);
    /// returns the messages for everyone.
    pub fn flush(&self, now: RoomTime) -> Vec<PeerMessage> {
        let pending = std::mem::take(&mut self.state.borrow_mut().pending);
        let mut out = Vec::new();
        for edit in pending {
            out.extend(self.edit(Some(now), edit).into_iter().flatten());
        }
        out
    }

    /// A piece from a peer. `horizon` is room time, `None` until this page has met the
    /// room's timeline; `media` is the room's video.
    pub fn merge(&self, piece: Delta, horizon: Option<RoomTime>, media: Option<&str>) {
        let changed = {
            let mut state = self.state.borrow_mut();
            let State { queue, playing, .. } = &mut *state;
            queue.merge(piece, horizon) && {
                playing.follow(queue, media);
                true
            }
        };
        if changed {
            self.publish();
        }
    }

    /// The room's video is now `media`.
    pub fn follow(&self, media: Option<&str>) {
        let changed = {
            let mut state = self.state.borrow_mut();
            let State { queue, playing, .. } = &mut *state;
            playing.follow(queue, media)
        };
        if changed {
            self.publish();
        }
    }

    /// "Play now": the link to load for entry `id`, if it is still there.
    pub fn start(&self, id: EntryId) -> Option<String> {
        let url = {
            let mut state = self.state.borrow_mut();
            let entry = state.queue.get(id)?.clone();
            let url = entry.item.url.clone();
            state.playing.start(entry);
            url
        };
        self.publish();
        Some(url)
    }

    /// The link to load now if the video ended and this page is to start the next.
    pub fn on_end(&self, at: AtEnd) -> Option<String> {
        let next = {
            let mut state = self.state.borrow_mut();
            let State { queue, playing, .. } = &mut *state;
            playing.on_end(queue, at)?
        };
        self.publish();
        Some(next.item.url)
    }

    pub fn set_editable(&self, editable: bool) {
        if self.view.editable.get_untracked() != editable {
            self.set_editable.set(editable);
        }
    }

    /// Entries, ranges and settings peers sent that were refused.
    pub fn refused(&self) -> u64 {
        self.state.borrow().queue.stats().refused()
    }

    fn publish(&self) {
        let up_next = {
            let state = self.state.borrow();
            UpNext {
                entries: state.queue.entries().to_vec(),
                playing: state.playing.entry(),
                repeat: state.queue.repeat(),
                shuffle: state.queue.shuffled(),
            }
        };
        self.set_up_next.set(up_next);
    }
}

/// `delta` cut to message size; nothing for an empty queue's snapshot.
fn messages(delta: Delta) -> Vec<PeerMessage> {
    let pieces = delta.split().into_iter().filter(|d| !d.is_empty());
    pieces.map(PeerMessage::Queue).collect()
}
