//! The programme itself, loaded on demand (see [`super`]): builds the queue, the ready check
//! and the reactions, and has each draw itself into the room's page in place of the first
//! load's stand-ins, its buttons calling the party.

use super::{Engines, Seed, PROMPT_SLOT, TABS_SLOT};
use crate::web::chunk::ChunkUnavailable;
use crate::web::dom::slot;
use crate::web::queue::{PanelActions, QueueSeed};
use crate::web::ready::PromptActions;
use leptos::prelude::*;
use std::rc::Rc;

/// Builds the running programme: the one way into this part of the download. With
/// `lazy-chunks`, `xtask` moves everything only this reaches into its own file, fetched when
/// this is first called; a failed fetch comes back as [`ChunkUnavailable`] and may be tried
/// again.
#[cfg_attr(
    feature = "lazy-chunks",
    leptos::wasm_split::wasm_split(programme, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub(super) fn start(seed: Seed) -> Result<Rc<Engines>, ChunkUnavailable> {
    let Seed { party, topic } = seed;
    let me = party.me();
    let queue = crate::web::queue::live::start(QueueSeed {
        me,
        editable: party.queue.editable,
        topic,
    });
    let ready = crate::web::ready::live::start(me);
    let sender = party.clone();
    let reactions = crate::web::reactions::live::start(me.0, move |m| sender.send_to(None, m));

    let (editor, player, adder) = (party.clone(), party.clone(), party.clone());
    if let Some(slot) = slot(TABS_SLOT) {
        queue.mount_panel(
            slot,
            PanelActions {
                edit: Rc::new(move |edit| {
                    let _ = editor.edit_queue(edit);
                }),
                play: Rc::new(move |id| player.play_entry(id)),
                add: Rc::new(move |link: String, title| adder.queue_link(&link, title)),
                suggested: RwSignal::new(false),
            },
        );
    }
    let (ready_party, anyway, ask) = (party.clone(), party.clone(), party);
    if let Some(slot) = slot(PROMPT_SLOT) {
        ready.mount_prompt(
            slot,
            PromptActions {
                ready: Rc::new(move || ready_party.mark_ready()),
                start_anyway: Rc::new(move || anyway.start_anyway()),
                ask: Rc::new(move || ask.open_ready_check()),
            },
        );
    }
    Ok(Rc::new(Engines {
        queue,
        ready,
        reactions,
    }))
}
