//! The Suggested tab: the deployer's catalogue, what this room watched here and what friends
//! recently watched, searchable by title; "Add to queue" puts one in Up next. Part of the
//! queue's own download, like `up_next`.

use super::up_next::thumbnail;
use crate::programme::suggest::{rows, Row, Source};
use crate::programme::title::clock;
use crate::web::queue::probe::probe;
use crate::web::queue::suggested::Sources;
use crate::web::queue::PanelActions;
use leptos::prelude::*;

pub fn panel(sources: Sources, editable: ReadSignal<bool>, actions: PanelActions) -> impl IntoView {
    let shown = actions.suggested;
    let add = StoredValue::new_local(actions.add);
    let (query, set_query) = signal(String::new());
    let (problem, set_problem) = signal(None::<String>);
    let list = Memo::new(move |_| {
        let q = query.get();
        sources.catalog.with(|c| {
            sources
                .here
                .with(|h| sources.friends.with(|f| rows(c, h, f, &q)))
        })
    });
    let group = move |source: Source, heading: &'static str| {
        let these = move || {
            list.with(|l| {
                l.iter()
                    .filter(|r| r.source == source)
                    .cloned()
                    .collect::<Vec<_>>()
            })
        };
        let add_row = move |row: Row| {
            let added = add.with_value(|add| add(row.url.clone(), row.title.clone()));
            set_problem.set(added.err());
        };
        move || {
            let these = these();
            (!these.is_empty()).then(|| {
                view! {
                    <h3>{heading}</h3>
                    <ul class="suggestions">
                        {these.into_iter().map(|row| suggestion_row(row, editable, add_row)).collect_view()}
                    </ul>
                }
            })
        }
    };
    let empty = move || {
        list.with(Vec::is_empty).then(|| {
            let text = if query.with(String::is_empty) {
                "Nothing to suggest yet: the videos this room watches will show here."
            } else {
                "No suggestion has that title."
            };
            view! { <p class="hint">{text}</p> }
        })
    };
    view! {
        <section class="panel suggested" role="tabpanel" id="panel-suggested"
            aria-labelledby="tab-suggested" hidden=move || !shown.get()>
            <input type="search" class="search" aria-label="Search suggestions"
                placeholder="Search by title" prop:value=query
                on:input=move |ev| set_query.set(event_target_value(&ev))/>
            {group(Source::Catalog, "From the catalogue")}
            {group(Source::WatchedHere, "Watched in this room")}
            {group(Source::Friends, "Friends watched")}
            {empty}
            <p class="error" role="alert">{problem}</p>
        </section>
    }
}

fn suggestion_row(
    row: Row,
    editable: ReadSignal<bool>,
    add: impl Fn(Row) + Copy + 'static,
) -> impl IntoView {
    // Probed only when the deployer gave no picture or length.
    let known = (row.thumbnail.is_none() || row.duration.is_none()).then(|| probe(&row.url));
    let given = row.duration.map(|d| d.as_secs_f64());
    let duration = move || {
        given
            .or_else(|| known.and_then(|k| k.with(|p| p.duration)))
            .map(clock)
    };
    let picture = match known {
        Some(k) => thumbnail(k.into(), row.thumbnail.clone()).into_any(),
        None => thumbnail(Signal::stored(Default::default()), row.thumbnail.clone()).into_any(),
    };
    let title = row.title.clone();
    view! {
        <li>
            {picture}
            <span class="title">{title}</span>
            <span class="duration">{duration}</span>
            <button disabled=move || !editable.get() on:click=move |_| add(row.clone())>
                "Add to queue"
            </button>
        </li>
    }
}
