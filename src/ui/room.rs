//! The room page: where a party happens. For now it holds the link to share.

use crate::room_link::RoomSecret;
use crate::web::clipboard::{use_clipboard, CopyState};
use crate::web::location::page_url;
use leptos::prelude::*;

#[component]
pub fn RoomPage(secret: RoomSecret) -> impl IntoView {
    let link = secret.link(&page_url());
    view! {
        <section class="room" aria-labelledby="room-title">
            <h1 id="room-title">"Your watch party"</h1>
            <ShareLink link/>
            <div class="stage empty">
                <p>"You are in the room. Send the link to your friends: anyone who opens it joins you here."</p>
            </div>
        </section>
    }
}

/// The room link with a copy button; if the clipboard is refused, the link is selected instead so
/// that copying by hand is one keystroke.
#[component]
fn ShareLink(link: String) -> impl IntoView {
    let clipboard = use_clipboard();
    let input = NodeRef::<leptos::html::Input>::new();
    let copy_link = {
        let link = link.clone();
        move |_| clipboard.copy(link.clone())
    };
    Effect::new(move |_| {
        if clipboard.state.get() == CopyState::Failed {
            if let Some(input) = input.get() {
                input.select();
            }
        }
    });
    let feedback = move || match clipboard.state.get() {
        CopyState::Idle => "",
        CopyState::Copied => "Link copied. Paste it to your friends.",
        CopyState::Failed => {
            "Copying was blocked by the browser: the link is selected, press Ctrl+C."
        }
    };
    view! {
        <div class="share">
            <label for="room-link">"Invite friends with this link"</label>
            <div class="share-row">
                <input id="room-link" node_ref=input readonly value=link
                    on:focus=move |_| { if let Some(i) = input.get() { i.select() } }/>
                <button class="primary" on:click=copy_link>"Copy room link"</button>
            </div>
            <p class="hint" aria-live="polite">{feedback}</p>
        </div>
    }
}
