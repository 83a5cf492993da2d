//! Reactions' interface in the first load: the six buttons (keys 1 to 6), the "Show
//! reactions" switch, and the layer over the film the reactions' own code floats them in.
//!
//! All of it is in the first download, so it is kept to almost no code: the bar's markup is
//! one static string (six buttons whose `value` is their key, and a plain checkbox the
//! reactions' code reads and the style sheet follows with `:has`), and a `<fieldset>` that
//! disables the six at once while there is no video. The reactions' code (part of the
//! programme's download, fetched as the room opens) listens to the buttons and the keys.

use crate::reactions::reaction::BAR_HTML;
use crate::web::reactions::BAR_ID;
use leptos::prelude::*;

/// The buttons and the switch, under the stage. `enabled`: there is a video to react to.
#[component]
pub fn ReactionBar(#[prop(into)] enabled: Signal<bool>) -> impl IntoView {
    view! {
        <fieldset class="reaction-bar" id=BAR_ID aria-label="Reactions"
            disabled=move || !enabled.get() inner_html=BAR_HTML></fieldset>
    }
}

/// The layer over the film that reactions float in.
#[component]
pub fn ReactionLayer() -> impl IntoView {
    view! { <div class="reaction-layer" id="reaction-layer" aria-hidden="true"></div> }
}
