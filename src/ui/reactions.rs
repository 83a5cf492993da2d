//! Reactions' interface in the first load: the six buttons (keys 1 to 6), the "Show
//! reactions" switch, and the layer over the film the reactions' own code floats them in.
//!
//! Kept to static markup and two listeners, since all of it is in the first download: one
//! click handler for the bar (each button's `value` is its key), a plain checkbox the
//! reactions' code reads and the style sheet follows (`:has`), and a `<fieldset>` that
//! disables the six at once while there is no video.

use crate::reactions::ReactionKind;
use crate::web::event_listener::use_window_listener;
use crate::web::reactions::SharedReactions;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

type ReactionsRef = StoredValue<SharedReactions, LocalStorage>;

/// The buttons and the switch, under the stage. `enabled`: there is a video to react to.
#[component]
pub fn ReactionBar(reactions: ReactionsRef, #[prop(into)] enabled: Signal<bool>) -> impl IntoView {
    use_reaction_keys(reactions, enabled);
    let buttons = ReactionKind::ALL.map(|kind| {
        view! {
            <button type="button" class="reaction-button" value=kind.key() aria-label=kind.name()
                title=kind.name()>{kind.emoji()}</button>
        }
    });
    let clicked = move |ev: leptos::ev::MouseEvent| {
        let button = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.closest("button").ok().flatten());
        let kind = button.and_then(|b| ReactionKind::from_key(&b.get_attribute("value")?));
        if let Some(kind) = kind {
            reactions.with_value(|r| r.react(kind));
        }
    };
    view! {
        <fieldset class="reaction-bar" aria-label="Reactions" disabled=move || !enabled.get()
            on:click=clicked>
            {buttons}
            <label class="switch">
                <input type="checkbox" role="switch" id="show-reactions" checked/>
                "Show reactions"
            </label>
        </fieldset>
    }
}

/// The layer over the film that reactions float in.
#[component]
pub fn ReactionLayer() -> impl IntoView {
    view! { <div class="reaction-layer" id="reaction-layer" aria-hidden="true"></div> }
}

/// Keys 1 to 6 send the reactions, except while typing (text fields keep their digits).
fn use_reaction_keys(reactions: ReactionsRef, enabled: Signal<bool>) {
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
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|t| takes_text(&t));
        if typing || !enabled.get_untracked() {
            return;
        }
        ev.prevent_default();
        reactions.with_value(|r| r.react(kind));
    });
}

/// Whether `element` is somewhere a person types (where a digit is text, not a reaction).
fn takes_text(element: &web_sys::HtmlElement) -> bool {
    if element.is_content_editable() {
        return true;
    }
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        return !matches!(
            input.type_().as_str(),
            "range" | "checkbox" | "radio" | "button" | "submit" | "reset" | "color" | "file"
        );
    }
    matches!(element.tag_name().as_str(), "TEXTAREA" | "SELECT")
}
