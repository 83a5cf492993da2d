//! The landing page: one button that starts a party.

use crate::web::host::open_new_party;
use leptos::prelude::*;

#[component]
pub fn Landing() -> impl IntoView {
    let (problem, set_problem) = signal(None::<String>);
    let start_party = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(message) = open_new_party().await {
                set_problem.set(Some(message));
            }
        })
    };
    view! {
        <section class="landing">
            <h1>"Watch together, on the same frame."</h1>
            <p class="lede">
                "Start a party, share the link, and everyone sees the same video at the same moment. "
                "No account, no install: your browsers talk to each other directly."
            </p>
            <button class="primary" on:click=start_party>"Start a watch party"</button>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </section>
    }
}
