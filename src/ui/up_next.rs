//! The shared queue ("Up next"): what plays after the current video, for everyone to edit.
//! Part of the programme's download: `web::queue` draws the tabs as the room opens and the
//! panels once the room uses the queue. Rows
//! are reordered by the Move buttons (keyboard) or by dragging one onto another.

use crate::programme::title::clock;
use crate::programme::title::title_from_url;
use crate::programme::{Edit, Entry, EntryId};
use crate::ui::programme_tabs::TABS;
use crate::web::queue::probe::{probe, Thumb};
use crate::web::queue::{PanelActions, UpNext};
use leptos::prelude::*;

/// The tabs "Up next" and "Suggested" (the first load shows a static stand-in until this
/// code runs): the chosen one is the tab the Tab key reaches (a roving tabindex), and the
/// arrows, Home and End move between them (`programme_tabs`, listening since the stand-in).
pub fn tabs(suggested: RwSignal<bool>) -> impl IntoView {
    let tab = move |id: &'static str, name: &'static str, on: bool| {
        let chosen = move || suggested.get() == on;
        view! {
            <button role="tab" id=id aria-controls=if on { "panel-suggested" } else { "panel-up-next" }
                aria-selected=move || chosen().to_string()
                tabindex=move || if chosen() { "0" } else { "-1" }
                on:click=move |_| suggested.set(on)>{name}</button>
        }
    };
    view! {
        <div class="tabs" role="tablist" aria-label="Programme">
            {tab(TABS[0], "Up next", false)}
            {tab(TABS[1], "Suggested", true)}
        </div>
    }
}

pub fn panel(
    up_next: ReadSignal<UpNext>,
    editable: ReadSignal<bool>,
    actions: PanelActions,
) -> impl IntoView {
    let hidden = actions.suggested;
    let actions = StoredValue::new_local(actions);
    let edit = move |edit: Edit| actions.with_value(|a| (a.edit)(edit));
    // The row being dragged, if any.
    let dragging = RwSignal::new(None::<EntryId>);
    // Keyed by entry: what an entry plays never changes, so a row is drawn once; a move only
    // moves it.
    let row = move |id: EntryId| {
        let entry = up_next.with_untracked(|q| q.entries.iter().find(|e| e.id == id).cloned());
        let drag = Drag {
            dragging,
            up_next,
            editable,
            edit,
        };
        entry.map(|e| entry_row(e, up_next, editable, actions, drag))
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
        <section class="panel up-next" role="tabpanel" id="panel-up-next"
            aria-labelledby="tab-up-next" hidden=move || hidden.get()>
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

/// Drag and drop between rows: a row dropped on another goes just before it when dragged up,
/// just after it when dragged down (where the pointer shows it).
#[derive(Clone, Copy)]
struct Drag<F: Fn(Edit) + Copy + 'static> {
    dragging: RwSignal<Option<EntryId>>,
    up_next: ReadSignal<UpNext>,
    editable: ReadSignal<bool>,
    edit: F,
}

impl<F: Fn(Edit) + Copy + 'static> Drag<F> {
    fn drop_on(self, target: EntryId) {
        let Some(moving) = self.dragging.get_untracked() else {
            return;
        };
        self.dragging.set(None);
        let place = |id| {
            self.up_next
                .with_untracked(|q| q.entries.iter().position(|e| e.id == id))
        };
        if let (Some(from), Some(to)) = (place(moving), place(target)) {
            if from < to {
                (self.edit)(Edit::MoveAfter(moving, target));
            } else if from > to {
                (self.edit)(Edit::MoveBefore(moving, target));
            }
        }
    }
}

fn entry_row<F: Fn(Edit) + Copy + 'static>(
    e: Entry,
    up_next: ReadSignal<UpNext>,
    editable: ReadSignal<bool>,
    actions: StoredValue<PanelActions, LocalStorage>,
    drag: Drag<F>,
) -> impl IntoView {
    let (id, edit) = (e.id, drag.edit);
    // Entries from a version that sent no title are named by their link.
    let title = if e.item.title.is_empty() {
        title_from_url(&e.item.url)
    } else {
        e.item.title
    };
    let known = probe(&e.item.url);
    let given = e.item.duration.map(|d| d.as_secs_f64());
    let duration = move || known.with(|p| p.duration).or(given).map(clock);
    let playing = move || up_next.with(|q| q.playing == Some(id)).then_some("true");
    let locked = move || !editable.get();
    view! {
        <li aria-current=playing draggable=move || (!locked()).to_string()
            class:dragging=move || drag.dragging.get() == Some(id)
            on:dragstart=move |ev: leptos::ev::DragEvent| {
                if let Some(data) = ev.data_transfer() {
                    let _ = data.set_data("text/plain", "");
                    data.set_effect_allowed("move");
                }
                drag.dragging.set(Some(id));
            }
            on:dragend=move |_| drag.dragging.set(None)
            on:dragover=move |ev: leptos::ev::DragEvent| {
                if drag.dragging.get_untracked().is_some() && drag.editable.get_untracked() {
                    ev.prevent_default();
                }
            }
            on:drop=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                drag.drop_on(id);
            }>
            {thumbnail(known.into(), None)}
            <span class="title">{title}</span>
            <span class="duration">{duration}</span>
            <span class="by">"added by " {e.item.added_by}</span>
            <span class="url">{e.item.url}</span>
            <span class="row">
                <button on:click=move |_| actions.with_value(|a| (a.play)(id))>"Play now"</button>
                <button disabled=locked on:click=move |_| edit(Edit::MoveUp(id))>"Move up"</button>
                <button disabled=locked on:click=move |_| edit(Edit::MoveDown(id))>"Move down"</button>
                <button disabled=locked on:click=move |_| edit(Edit::Remove(id))>"Remove"</button>
            </span>
        </li>
    }
}

/// A thumbnail: the deployer's image when given, else the frame this browser drew, else a
/// neutral placeholder (while probing, or when the frame may not be read). Decorative: the
/// title beside it names the video.
pub fn thumbnail(
    known: Signal<crate::web::queue::probe::Probe>,
    given: Option<String>,
) -> impl IntoView {
    move || {
        let src = given
            .clone()
            .or_else(|| match known.with(|p| p.thumb.clone()) {
                Thumb::Image(data) => Some(data),
                Thumb::Pending | Thumb::Placeholder => None,
            });
        match src {
            Some(src) => view! { <img class="thumb" alt="" src=src/> }.into_any(),
            None => view! { <span class="thumb placeholder" aria-hidden="true"></span> }.into_any(),
        }
    }
}
