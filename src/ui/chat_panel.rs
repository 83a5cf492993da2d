//! The room's chat.

use crate::room::chat::{prepare_outgoing, ChatLine};
use crate::web::party::Party;
use leptos::prelude::*;

#[component]
pub fn ChatPanel(party: Party) -> impl IntoView {
    let chat = party.view.chat;
    let (typed, set_typed) = signal(String::new());
    let send = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if let Some(text) = prepare_outgoing(&typed.get_untracked()) {
            party.send_chat(text);
            set_typed.set(String::new());
        }
    };
    // Keyed by line number: a new line adds one row, and a line never changes once drawn.
    let line = move |seq: u64| chat.with_untracked(|log| log.get(seq).map(chat_line));
    view! {
        <section class="panel chat" aria-labelledby="chat-title">
            <h2 id="chat-title">"Chat"</h2>
            <ol class="lines" aria-live="polite">
                <For each=move || chat.with(|log| log.seqs().collect::<Vec<_>>()) key=super::same_key children=line/>
            </ol>
            <form class="row" on:submit=send>
                <input aria-label="Message" placeholder="Say something…" maxlength="1000"
                    prop:value=typed on:input=move |e| set_typed.set(event_target_value(&e))/>
                <button type="submit">"Send"</button>
            </form>
        </section>
    }
}

fn chat_line(line: &ChatLine) -> impl IntoView {
    view! {
        <li class:mine=line.mine>
            <span class="author">{line.author.clone()}</span>
            <time>{clock_time(line.at_ms)}</time>
            <p>{line.text.clone()}</p>
        </li>
    }
}

/// `HH:MM` in the person's local time zone.
fn clock_time(at_ms: f64) -> String {
    let date = js_sys::Date::new(&at_ms.into());
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}
