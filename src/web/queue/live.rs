//! The queue itself, part of the programme's download (see [`super`] and `web::programme`):
//! the pure queue and what is playing from it (`programme`), its pieces decoded and encoded,
//! the list published for the panel, the Suggested tab's sources, and the tabs and both their
//! panels (`ui::up_next`, `ui::suggested`) drawn into the page.

use super::suggested::Sources;
use super::{PanelActions, QueueEngine, QueueSeed, UpNext};
use crate::programme::title::{clean_title, title_from_url};
use crate::programme::{AtEnd, Delta, Edit, EditError, EntryId, NowPlaying, Queue};
use crate::sync::RoomTime;
use crate::ui::programme_tabs::TABS;
use crate::web::dom::by_id;
use crate::web::event_listener::Listener;
use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

/// Builds the running queue (`web::programme` calls this as its download starts).
pub(crate) fn start(seed: QueueSeed) -> Rc<dyn QueueEngine> {
    let (up_next, set_up_next) = signal(UpNext::default());
    Rc::new(Live {
        up_next,
        set_up_next,
        used: RwSignal::new(false),
        sources: Sources::new(seed.topic.clone()),
        state: RefCell::new(State {
            queue: Queue::new(seed.me),
            playing: NowPlaying::default(),
            waiting: Vec::new(),
            malformed: 0,
            panel: None,
        }),
        seed,
    })
}

struct State {
    queue: Queue,
    playing: NowPlaying,
    /// Edits made while another page was founding the room's timeline (between its hello
    /// and our first clock samples of it), made once this page has room time again.
    waiting: Vec<Edit>,
    /// Pieces that did not decode.
    malformed: u64,
    /// The tabs and panels drawn into the page, and the tabs' key listener, kept alive until
    /// drawn again.
    panel: Option<(Box<dyn Any>, Option<Listener>)>,
}

struct Live {
    state: RefCell<State>,
    seed: QueueSeed,
    up_next: ReadSignal<UpNext>,
    set_up_next: WriteSignal<UpNext>,
    /// The room used the queue: a piece of it arrived or this page edited it. Until then, or
    /// until the person chooses Suggested, only the tabs show, as the first load's stand-in
    /// drew them (the panels, even empty, would change the page as it opens).
    used: RwSignal<bool>,
    sources: Sources,
}

impl Live {
    fn use_it(&self) {
        crate::web::set_if_changed(self.used, true);
    }
}

impl Live {
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

/// `delta` cut to message size and encoded; nothing for an empty queue's snapshot.
fn pieces(delta: Delta) -> Vec<Vec<u8>> {
    let pieces = delta.split().into_iter().filter(|d| !d.is_empty());
    pieces.map(|d| d.encode()).collect()
}

impl QueueEngine for Live {
    fn merge(&self, piece: &[u8], horizon: Option<RoomTime>, media: Option<&str>) {
        self.use_it();
        let changed = {
            let mut state = self.state.borrow_mut();
            let State {
                queue,
                playing,
                malformed,
                ..
            } = &mut *state;
            match Delta::decode(piece) {
                Some(delta) => {
                    queue.merge(delta, horizon) && {
                        playing.follow(queue, media);
                        true
                    }
                }
                None => {
                    *malformed += 1;
                    false
                }
            }
        };
        if changed {
            self.publish();
        }
    }

    fn snapshot(&self) -> Vec<Vec<u8>> {
        pieces(self.state.borrow().queue.snapshot())
    }

    fn edit(&self, now: Option<RoomTime>, mut edit: Edit) -> Result<Vec<Vec<u8>>, EditError> {
        self.use_it();
        // An entry is named by its adder: the title typed, else the catalogue's, else the
        // link's file name; everyone then shows the same title.
        if let Edit::Add(item) = &mut edit {
            item.title = clean_title(&item.title);
            if item.title.is_empty() {
                item.title = self
                    .sources
                    .catalog_title(&item.url)
                    .unwrap_or_else(|| title_from_url(&item.url));
            }
        }
        if now.is_none() {
            let mut state = self.state.borrow_mut();
            if state.waiting.len() >= crate::programme::waiting::MAX_WAITING_EDITS {
                return Err(EditError::NoRoomTime);
            }
            state.waiting.push(edit);
            return Ok(Vec::new());
        }
        let delta = self.state.borrow_mut().queue.edit(now, edit)?;
        self.publish();
        Ok(pieces(delta))
    }

    fn has_waiting_edits(&self) -> bool {
        !self.state.borrow().waiting.is_empty()
    }

    fn flush(&self, now: RoomTime) -> Vec<Vec<u8>> {
        let waiting = std::mem::take(&mut self.state.borrow_mut().waiting);
        let mut out = Vec::new();
        for edit in waiting {
            // One that no longer applies (its entry was removed meanwhile) is dropped.
            out.extend(self.edit(Some(now), edit).into_iter().flatten());
        }
        out
    }

    fn follow(&self, media: Option<&str>) {
        let changed = {
            let mut state = self.state.borrow_mut();
            let State { queue, playing, .. } = &mut *state;
            playing.follow(queue, media)
        };
        if changed {
            self.publish();
        }
    }

    fn start(&self, id: EntryId) -> Option<String> {
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

    fn on_end(&self, at: AtEnd) -> Option<String> {
        let next = {
            let mut state = self.state.borrow_mut();
            let State { queue, playing, .. } = &mut *state;
            playing.on_end(queue, at)?
        };
        self.publish();
        Some(next.item.url)
    }

    fn refused(&self) -> u64 {
        let state = self.state.borrow();
        state.queue.stats().refused() + state.malformed + self.sources.refused.get_value()
    }

    fn mount_panel(&self, container: web_sys::HtmlElement, actions: PanelActions) {
        let (up_next, editable, sources, used) =
            (self.up_next, self.seed.editable, self.sources, self.used);
        // In place of the first load's stand-in of the tabs, keeping the keyboard's place: a
        // tab focused there (chosen with the arrows) is focused again here.
        let focused = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .map(|e| e.id())
            .filter(|id| TABS.contains(&id.as_str()));
        container.set_inner_html("");
        let shown = actions.suggested;
        let panel = leptos::mount::mount_to(container, move || {
            // The panels show once the room used the queue or the person chose Suggested, and
            // stay: derived from both (latched), rather than an effect copying one into the other.
            let drawn = Memo::new(move |was: Option<&bool>| {
                was.copied().unwrap_or(false) || used.get() || shown.get()
            });
            let tabs = crate::ui::up_next::tabs(shown);
            let actions = StoredValue::new_local(actions);
            let panels = move || {
                drawn.get().then(|| {
                    let (a, b) = (actions.get_value(), actions.get_value());
                    let suggested = crate::ui::suggested::panel(sources, editable, a);
                    let up_next = crate::ui::up_next::panel(up_next, editable, b);
                    (up_next, suggested)
                })
            };
            (tabs, panels)
        });
        // One listener for the page's life serves the tabs' keys (`programme_tabs`).
        let keys = web_sys::window()
            .and_then(|w| Listener::new(&w, "keydown", crate::ui::programme_tabs::on_tab_key).ok());
        self.state.borrow_mut().panel = Some((Box::new(panel), keys));
        if let Some(tab) = focused.and_then(|id| by_id::<web_sys::HtmlElement>(&id)) {
            let _ = tab.focus();
        }
    }

    fn watched(&self, url: &str, at_ms: u64) {
        let queued = self
            .state
            .borrow()
            .queue
            .find_url(url)
            .map(|e| e.item.title.clone());
        let title = queued
            .filter(|t| !t.is_empty())
            .or_else(|| self.sources.catalog_title(url))
            .unwrap_or_else(|| title_from_url(url));
        self.sources.watched(url, title, at_ms);
    }

    fn friend_watched(&self, list: &str) {
        self.sources.friend_watched(list);
    }
}
