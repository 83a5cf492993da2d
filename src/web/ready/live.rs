//! The ready check itself, part of the programme's download (see [`super`] and
//! `web::programme`): the pure check (`programme::ready`), its notes decoded and encoded, who
//! counts and where each person stands, and the prompt (`ui::ready_prompt`) drawn into the
//! page.

use super::{Checked, Note, PromptActions, ReadyEngine};
use crate::programme::ready::{Merged, Readiness, ReadyCheck, ReadyNote, Room, Waiting};
use crate::room::people::{LinkState, People, Person};
use crate::room::wire::ViewerPhase;
use crate::sync::{PeerId, RoomTime, Versioned};
use crate::web::set_if_changed;
use leptos::prelude::*;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Builds the running check (`web::programme` calls this as its download starts).
pub(crate) fn start(me: PeerId) -> Rc<dyn ReadyEngine> {
    let (waiting, set_waiting) = signal(None);
    let (can_ask, set_can_ask) = signal(false);
    Rc::new(Live {
        check: RefCell::new(ReadyCheck::new(me)),
        waiting,
        set_waiting,
        can_ask,
        set_can_ask,
        prompt: RefCell::new(None),
        malformed: RefCell::new(0),
        used: Cell::new(false),
    })
}

struct Live {
    check: RefCell<ReadyCheck>,
    /// The check while it waits, as the prompt shows it.
    waiting: ReadSignal<Option<Waiting>>,
    set_waiting: WriteSignal<Option<Waiting>>,
    /// The room is paused on a video with no check waiting: "Ready check" may be pressed.
    can_ask: ReadSignal<bool>,
    set_can_ask: WriteSignal<bool>,
    /// The prompt drawn into the page, kept alive until drawn again.
    prompt: RefCell<Option<Box<dyn Any>>>,
    /// Notes that did not decode, or carried impossible values.
    malformed: RefCell<u64>,
    /// The room used the check: this page opened one or heard of one. Until then the prompt
    /// offers no "Ready check" (as when this code was fetched only then).
    used: Cell<bool>,
}

impl ReadyEngine for Live {
    fn open(&self, now: Option<RoomTime>, media: &str, may_control: bool) -> Option<Note> {
        self.used.set(true);
        let note = self.check.borrow_mut().open(now?, media, may_control);
        note.map(|n| n.encode())
    }

    fn mark_ready(&self) -> Option<Note> {
        let note = self.check.borrow_mut().mark_ready();
        note.map(|n| n.encode())
    }

    fn start_anyway(&self, may_control: bool) -> Option<Note> {
        let note = self.check.borrow_mut().start_anyway(may_control);
        note.map(|n| n.encode())
    }

    fn note(&self) -> Option<Note> {
        self.check.borrow().note().map(|n| n.encode())
    }

    fn merge(
        &self,
        from: PeerId,
        note: &[u8],
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Option<Note> {
        self.used.set(true);
        let Some(note) = ReadyNote::decode(note) else {
            *self.malformed.borrow_mut() += 1;
            return None;
        };
        let mut check = self.check.borrow_mut();
        match check.merge(from, note, now, may_control) {
            Merged::Adopted => check.note().map(|n| n.encode()),
            Merged::Known | Merged::Ignored => None,
        }
    }

    fn check(
        &self,
        now: Option<RoomTime>,
        state: Option<&Versioned>,
        people: &mut People,
    ) -> Checked {
        // Who counts: linked, and whose player has not failed on the video.
        let present: Vec<PeerId> = people
            .iter()
            .filter(|p| matches!(p.link, LinkState::Connected | LinkState::Reconnecting))
            .filter(|p| !matches!(p.status.phase, ViewerPhase::Failed(_)))
            .map(|p| PeerId(p.session))
            .collect();
        let room = now.map(|now| Room {
            now,
            media: state.and_then(|v| v.playback.media.as_deref()),
            playing: state.is_some_and(|v| v.playback.playing),
            version: state.map(|v| v.stamp),
            present: &present,
        });
        let (go, waiting) = match &room {
            Some(room) => {
                let mut check = self.check.borrow_mut();
                (check.poll(room), check.view(room))
            }
            None => (None, None),
        };
        let can_ask = self.used.get()
            && waiting.is_none()
            && room.is_some_and(|r| r.media.is_some() && !r.playing);
        set_if_changed(self.set_can_ask, can_ask);
        let mut people_changed = false;
        for person in people.iter_mut() {
            let ready = readiness(person, waiting.as_ref());
            people_changed |= person.ready != ready;
            person.ready = ready;
        }
        set_if_changed(self.set_waiting, waiting);
        if let Some(why) = go {
            crate::web::debug_log!("ready check: starting ({why:?})");
        }
        Checked {
            start: go.is_some(),
            people_changed,
        }
    }

    fn refused(&self) -> u64 {
        self.check.borrow().refused() + *self.malformed.borrow()
    }

    fn mount_prompt(&self, container: web_sys::HtmlElement, actions: PromptActions) {
        let (waiting, can_ask) = (self.waiting, self.can_ask);
        let prompt = leptos::mount::mount_to(container, move || {
            crate::ui::ready_prompt::prompt(waiting, can_ask, actions)
        });
        *self.prompt.borrow_mut() = Some(Box::new(prompt));
    }
}

/// Where `person` stands in the waiting check: ready, loading (their player cannot play
/// yet) or not yet; nothing while no check waits, or if their player failed on the video.
fn readiness(person: &Person, waiting: Option<&Waiting>) -> Option<Readiness> {
    let can_play = match person.status.phase {
        ViewerPhase::Failed(_) => return None,
        ViewerPhase::Idle | ViewerPhase::Loading | ViewerPhase::Buffering => false,
        _ => true,
    };
    let marked = waiting?.ready.contains(&PeerId(person.session));
    Some(Readiness::of(marked, can_play))
}
