//! What someone sees when the link they opened is not a room link.

use crate::room_link::RoomLinkError;
use leptos::prelude::*;

#[component]
pub fn InvalidLink(error: RoomLinkError) -> impl IntoView {
    view! {
        <section class="notice" role="alert">
            <h1>"This room link does not work"</h1>
            <p>{error.to_string()} ". Check that the whole link was copied, or start a new party."</p>
            <a class="button" href="#">"Back to start"</a>
        </section>
    }
}
