//! The host's panel under the stage: the **Host controls** switch (the host's page), who has
//! the remote, **Ask for the remote** (everyone else's, in host mode), the requests the host
//! grants, and what to do when the host has left. Part of the host's own download
//! (`web::host`), drawn into the page once it runs.

use crate::room::people::People;
use crate::signaling::payload::SessionId;
use crate::web::host::{open_new_party, HostActions, HostView};
use leptos::prelude::*;

/// The panel, drawn by the host's code into the slot the room page keeps for it.
pub fn panel(v: HostView, people: ReadSignal<People>, actions: HostActions) -> impl IntoView {
    // Only the names (see `People::names`).
    let names = Memo::new(move |_| people.with(People::names));
    let name_of = move |session: SessionId| names.with(|n| n.of(session).to_owned());
    let host_ref = StoredValue::new_local(actions.clone());
    let party = StoredValue::new_local(actions);
    let switch = move || {
        v.i_am_host.get().then(|| {
            view! {
                <label class="switch">
                    <input type="checkbox" role="switch" aria-label="Host controls"
                        prop:checked=move || v.host_mode.get()
                        on:change=move |e| party.with_value(|p| (p.set_mode)(event_target_checked(&e)))/>
                    "Host controls"
                </label>
            }
        })
    };
    let status = move || {
        if !v.host_mode.get() {
            return v
                .i_am_host
                .get()
                .then_some("You are the host: Host controls give you the remote.")
                .map(|text| view! { <p class="hint">{text}</p> }.into_any());
        }
        if v.i_am_host.get() {
            return Some(
                view! { <p class="host-status" role="status">"You have the remote."</p> }
                    .into_any(),
            );
        }
        let host_gone = v.host_session.get().is_none();
        let who = if v.i_am_cohost.get() {
            "You are a co-host: you can control the room."
        } else if host_gone {
            "The host has the remote, and has left the room."
        } else {
            "The host has the remote."
        };
        let ask = (!v.i_may_control.get() && !host_gone).then(|| {
            view! {
                <button type="button" disabled=move || v.asked.get()
                    on:click=move |_| host_ref.with_value(|h| (h.ask)())>"Ask for the remote"</button>
                {move || v.asked.get().then_some(" Asked: the host can make you a co-host.")}
            }
        });
        let gone = host_gone.then(|| {
            view! {
                <p class="hint" role="status">
                    "The host has left; co-hosts keep the remote. If the host is gone for good, "
                    <button type="button" class="link" on:click=move |_| {
                        leptos::task::spawn_local(async move { let _ = open_new_party().await; })
                    }>"Reopen as a new party"</button>
                    " and share its new link."
                </p>
            }
        });
        Some(view! { <p class="host-status" role="status">{who} " " {ask}</p> {gone} }.into_any())
    };
    let asks = move || {
        v.i_am_host.get().then(|| {
            v.asks
                .get()
                .into_iter()
                .map(|session| {
                    view! {
                        <li>
                            {name_of(session)} " asks for the remote. "
                            <button type="button" on:click=move |_| host_ref.with_value(|h| (h.grant)(session, true))>"Make co-host"</button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let cohosts = move || {
        v.i_am_host.get().then(|| {
            v.cohosts
                .get()
                .into_iter()
                .map(|session| {
                    view! {
                        <li>
                            {name_of(session)} " is a co-host. "
                            <button type="button" on:click=move |_| host_ref.with_value(|h| (h.grant)(session, false))>"Take back the remote"</button>
                            " "
                            <button type="button" on:click=move |_| host_ref.with_value(|h| (h.hand_over)(session))>"Make host"</button>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="host-panel" aria-label="Host">
            {switch}
            {status}
            <ul class="host-requests">{asks}{cohosts}</ul>
            {move || v.refused.get().map(|why| view! { <p class="host-refused" role="alert">{why}</p> })}
        </section>
    }
}
