//! The ready check under the stage: while a check waits, "Ready?" with **Ready**, **Start
//! anyway** and the countdown; otherwise, while the room is paused on a video, a **Ready
//! check** button. What the buttons do is the party's (`programme::ready` decides).

use crate::web::party::Party;
use leptos::prelude::*;

#[component]
pub fn ReadyPrompt(party: Party) -> impl IntoView {
    let waiting = party.view.ready;
    let playback = party.view.playback;
    let party = StoredValue::new_local(party);
    // Only the texts change each second: the buttons stay the same elements while it waits.
    let active = Memo::new(move |_| waiting.with(Option::is_some));
    let seconds = move || waiting.with(|w| w.as_ref().map(|w| w.seconds_left));
    let me_ready = move || waiting.with(|w| w.as_ref().is_some_and(|w| w.me_ready));
    let paused_on_video =
        move || playback.with(|p| p.as_ref().is_some_and(|p| p.media.is_some() && !p.playing));
    move || {
        if active.get() {
            view! {
                <section class="ready-check" aria-labelledby="ready-title">
                    <h2 id="ready-title">"Ready?"</h2>
                    <p class="hint" role="timer">"Starting anyway in " {seconds} " s"</p>
                    <button type="button" class="primary" disabled=me_ready
                        on:click=move |_| party.with_value(Party::ready)>"Ready"</button>
                    <button type="button"
                        on:click=move |_| party.with_value(Party::start_anyway)>"Start anyway"</button>
                </section>
            }
            .into_any()
        } else if paused_on_video() {
            view! {
                <button type="button" class="ready-check-button"
                    on:click=move |_| party.with_value(Party::open_ready_check)>"Ready check"</button>
            }
            .into_any()
        } else {
            ().into_any()
        }
    }
}
