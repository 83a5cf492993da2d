//! The shared queue ("Up next"): what plays after the current video, for everyone to edit.
//! Part of the queue's own download: `web::queue` draws it once a room uses the queue.

use crate::programme::{Edit, Entry, EntryId};
use crate::web::queue::{PanelActions, UpNext};
use leptos::prelude::*;

pub fn panel(
    up_next: ReadSignal<UpNext>,
    editable: ReadSignal<bool>,
    actions: PanelActions,
) -> impl IntoView {
    let actions = StoredValue::new_local(actions);
    let edit = move |edit: Edit| actions.with_value(|a| (a.edit)(edit));
    // Keyed by entry: what an entry plays never changes, so a row is drawn once; a move only
    // moves it.
    let row = move |id: EntryId| {
        let entry = up_next.with_untracked(|q| q.entries.iter().find(|e| e.id == id).cloned());
        entry.map(|e| entry_row(e, up_next, editable, actions, edit))
    };
    let ids = move || up_next.with(|q| q.entries.iter().map(|e| e.id).collect::<Vec<_>>());
    let switch = move |name: &'static str, on: fn(&UpNext) -> bool, make: fn(bool) -> Edit| {
        view! {
            <label class="switch">
                <input type="checkbox" prop:checked=move || up_next.with(on)
                    disabled=move || !editable.get()
                    on:change=move |ev| edit(make(event_target_checked(&ev)))/>
                {name}
            </label>
        }
    };
    view! {
        <section class="panel up-next" aria-labelledby="up-next-title">
            <h2 id="up-next-title">"Up next"</h2>
            <ol class="queue">
                <For each=ids key=|id| *id children=row/>
            </ol>
            <div class="row">
                {switch("Repeat", |q| q.repeat, Edit::Repeat)}
                {switch("Shuffle", |q| q.shuffle, Edit::Shuffle)}
            </div>
        </section>
    }
}

fn entry_row(
    e: Entry,
    up_next: ReadSignal<UpNext>,
    editable: ReadSignal<bool>,
    actions: StoredValue<PanelActions, LocalStorage>,
    edit: impl Fn(Edit) + Copy + 'static,
) -> impl IntoView {
    let id = e.id;
    let label = if e.item.title.is_empty() {
        e.item.url
    } else {
        e.item.title
    };
    let playing = move || up_next.with(|q| q.playing == Some(id)).then_some("true");
    let locked = move || !editable.get();
    view! {
        <li aria-current=playing>
            <span class="title">{label}</span>
            <span class="by">"added by " {e.item.added_by}</span>
            <span class="row">
                <button on:click=move |_| actions.with_value(|a| (a.play)(id))>"Play now"</button>
                <button disabled=locked on:click=move |_| edit(Edit::MoveUp(id))>"Move up"</button>
                <button disabled=locked on:click=move |_| edit(Edit::MoveDown(id))>"Move down"</button>
                <button disabled=locked on:click=move |_| edit(Edit::Remove(id))>"Remove"</button>
            </span>
        </li>
    }
}
