//! Reactions' interface in the first load: the six buttons (keys 1 to 6), the "Show
//! reactions" switch, and the layer over the film the reactions' own code floats them in.

use crate::reactions::ReactionKind;
use crate::web::event_listener::use_window_listener;
use crate::web::reactions::SharedReactions;
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

type ReactionsRef = StoredValue<SharedReactions, LocalStorage>;

/// The buttons and the switch, under the stage. `enabled`: there is a video to react to.
#[component]
pub fn ReactionBar(reactions: ReactionsRef, #[prop(into)] enabled: Signal<bool>) -> impl IntoView {
    use_reaction_keys(reactions, enabled);
    let show = reactions.with_value(|r| r.show);
    let buttons = ReactionKind::ALL.map(|kind| {
        view! {
            <button type="button" class="reaction-button" aria-label=kind.name() title=kind.name()
                disabled=move || !enabled.get()
                on:click=move |_| reactions.with_value(|r| r.react(kind))>{kind.emoji()}</button>
        }
    });
    view! {
        <section class="reaction-bar" aria-label="Reactions">
            {buttons}
            <label class="switch">
                <input type="checkbox" role="switch" prop:checked=move || show.get()
                    on:change=move |e| show.set(event_target_checked(&e))/>
                "Show reactions"
            </label>
        </section>
    }
}

/// The layer over the film that reactions float in; hidden while the switch is off.
#[component]
pub fn ReactionLayer(reactions: ReactionsRef) -> impl IntoView {
    let layer = NodeRef::<Div>::new();
    let show = reactions.with_value(|r| r.show);
    Effect::new(move |_| {
        if let Some(layer) = layer.get() {
            reactions.with_value(|r| r.attach_overlay(layer.into()));
        }
    });
    view! { <div class="reaction-layer" aria-hidden="true" node_ref=layer hidden=move || !show.get()></div> }
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
