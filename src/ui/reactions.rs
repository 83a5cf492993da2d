//! Reactions' interface in the first load: the six buttons (keys 1 to 6), the "Show
//! reactions" switch, and the layer over the film the reactions' own code floats them in.
//!
//! All of it is in the first download, so it is kept to almost no code: the bar's markup is
//! one static string (six buttons whose `value` is their key, and a plain checkbox the
//! reactions' code reads and the style sheet follows with `:has`), one click handler for the
//! bar, and a `<fieldset>` that disables the six at once while there is no video.

use crate::reactions::reaction::{ReactionKind, BAR_HTML};
use crate::web::event_listener::use_window_listener;
use crate::web::keyboard::focused;
use crate::web::reactions::SharedReactions;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The buttons and the switch, under the stage. `enabled`: there is a video to react to.
#[component]
pub fn ReactionBar(
    reactions: SharedReactions,
    #[prop(into)] enabled: Signal<bool>,
) -> impl IntoView {
    use_reaction_keys(reactions.clone());
    let clicked = move |ev: leptos::ev::MouseEvent| {
        let button = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button").ok().flatten());
        if let Some(kind) = button.and_then(|b| ReactionKind::from_key(&b.get_attribute("value")?))
        {
            reactions.react(kind);
        }
    };
    view! {
        <fieldset class="reaction-bar" aria-label="Reactions" disabled=move || !enabled.get()
            on:click=clicked inner_html=BAR_HTML></fieldset>
    }
}

/// The layer over the film that reactions float in.
#[component]
pub fn ReactionLayer() -> impl IntoView {
    view! { <div class="reaction-layer" id="reaction-layer" aria-hidden="true"></div> }
}

/// Keys 1 to 6 send the reactions, except while typing (text fields keep their digits).
/// Before the video's first frame they do nothing (there is nothing to anchor a reaction to).
fn use_reaction_keys(reactions: SharedReactions) {
    use_window_listener("keydown", move |ev| {
        let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() else {
            return;
        };
        if ev.default_prevented() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.repeat() {
            return;
        }
        let Some(kind) = ReactionKind::from_key(&ev.key()) else {
            return;
        };
        if !focused(ev).is_some_and(|f| f.typing()) {
            reactions.react(kind);
        }
    });
}
