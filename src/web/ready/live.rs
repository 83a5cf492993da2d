//! The ready check itself, loaded on demand (see [`super`]): the pure check
//! (`programme::ready`), what the prompt shows, and the prompt (`ui::ready_prompt`) drawn into
//! the page.

use super::{Checked, PromptActions, ReadyEngine};
use crate::programme::ready::{Merged, ReadyCheck, ReadyNote, Room, Waiting};
use crate::sync::{PeerId, RoomTime};
use crate::web::chunk::ChunkUnavailable;
use leptos::prelude::*;
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

/// Builds the running check: the one way into this part of the download. With
/// `lazy-chunks`, `xtask` moves everything only this reaches into its own file, fetched when
/// this is first called; a failed fetch comes back as [`ChunkUnavailable`].
#[cfg_attr(
    feature = "lazy-chunks",
    leptos::wasm_split::wasm_split(ready, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub(super) fn start(me: PeerId) -> Result<Rc<dyn ReadyEngine>, ChunkUnavailable> {
    let (waiting, set_waiting) = signal(None);
    let (can_ask, set_can_ask) = signal(false);
    Ok(Rc::new(Live {
        check: RefCell::new(ReadyCheck::new(me)),
        waiting,
        set_waiting,
        can_ask,
        set_can_ask,
        prompt: RefCell::new(None),
    }))
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
}

impl ReadyEngine for Live {
    fn open(&self, now: RoomTime, media: &str, may_control: bool) -> Option<ReadyNote> {
        self.check.borrow_mut().open(now, media, may_control)
    }

    fn mark_ready(&self) -> Option<ReadyNote> {
        self.check.borrow_mut().mark_ready()
    }

    fn start_anyway(&self, may_control: bool) -> Option<ReadyNote> {
        self.check.borrow_mut().start_anyway(may_control)
    }

    fn note(&self) -> Option<ReadyNote> {
        self.check.borrow().note()
    }

    fn merge(
        &self,
        from: PeerId,
        note: ReadyNote,
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Option<ReadyNote> {
        let mut check = self.check.borrow_mut();
        match check.merge(from, note, now, may_control) {
            Merged::Adopted => check.note(),
            Merged::Known | Merged::Ignored => None,
        }
    }

    fn check(&self, room: Option<&Room>) -> Checked {
        let (go, waiting) = match room {
            Some(room) => {
                let mut check = self.check.borrow_mut();
                (check.poll(room), check.view(room))
            }
            None => (None, None),
        };
        let can_ask = waiting.is_none() && room.is_some_and(|r| r.media.is_some() && !r.playing);
        if self.can_ask.get_untracked() != can_ask {
            self.set_can_ask.set(can_ask);
        }
        let ready = waiting.as_ref().map(|w| w.ready.clone());
        if self.waiting.with_untracked(|w| *w != waiting) {
            self.set_waiting.set(waiting);
        }
        Checked { go, ready }
    }

    fn refused(&self) -> u64 {
        self.check.borrow().refused()
    }

    fn mount_prompt(&self, container: web_sys::HtmlElement, actions: PromptActions) {
        let (waiting, can_ask) = (self.waiting, self.can_ask);
        let prompt = leptos::mount::mount_to(container, move || {
            crate::ui::ready_prompt::prompt(waiting, can_ask, actions)
        });
        *self.prompt.borrow_mut() = Some(Box::new(prompt));
    }
}
