//! The ready check under the stage, drawn by the check's own download (`web::ready`): while a
//! check waits, "Ready?" with **Ready**, **Start anyway** and the countdown; otherwise, while
//! the room is paused on a video, a **Ready check** button.

use crate::programme::ready::Waiting;
use crate::web::ready::PromptActions;
use leptos::prelude::*;

pub fn prompt(
    waiting: ReadSignal<Option<Waiting>>,
    can_ask: ReadSignal<bool>,
    actions: PromptActions,
) -> impl IntoView {
    let actions = StoredValue::new_local(actions);
    // Only the texts change each second: the buttons stay the same elements while it waits.
    let active = Memo::new(move |_| waiting.with(Option::is_some));
    let seconds = move || waiting.with(|w| w.as_ref().map(|w| w.seconds_left));
    let me_ready = move || waiting.with(|w| w.as_ref().is_some_and(|w| w.me_ready));
    move || {
        if active.get() {
            view! {
                <section class="ready-check" aria-labelledby="ready-title">
                    <h2 id="ready-title">"Ready?"</h2>
                    <p class="hint" role="timer">"Starting anyway in " {seconds} " s"</p>
                    <button type="button" class="primary" disabled=me_ready
                        on:click=move |_| actions.with_value(|a| (a.ready)())>"Ready"</button>
                    <button type="button"
                        on:click=move |_| actions.with_value(|a| (a.start_anyway)())>"Start anyway"</button>
                </section>
            }
            .into_any()
        } else if can_ask.get() {
            view! {
                <button type="button" class="ready-check-button"
                    on:click=move |_| actions.with_value(|a| (a.ask)())>"Ready check"</button>
            }
            .into_any()
        } else {
            ().into_any()
        }
    }
}
