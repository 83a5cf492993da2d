//! Who is watching: name, playback state, offset from the room, round-trip time and the kind of
//! path our link to them takes; or, for a friend no path reaches, why.

use super::name_prompt::NamePrompt;
use crate::room::people::{LinkState, People, Person};
use crate::room::shown_offset::{offset_label, ShownOffset};
use crate::room::wire::ViewerPhase;
use crate::signaling::payload::SessionId;
use crate::web::party::PartyView;
use leptos::prelude::*;

#[component]
pub fn PeopleList(
    view: PartyView,
    my_name: Signal<String>,
    /// Called with a new name the person typed.
    #[prop(into)]
    on_rename: Callback<String>,
) -> impl IntoView {
    let my_offset = move || offset_label(view.my_offset.get());
    let (renaming, set_renaming) = signal(false);
    let rename_form = move || {
        renaming.get().then(|| {
            let on_name = move |name: String| {
                on_rename.run(name);
                set_renaming.set(false);
            };
            view! { <NamePrompt current=my_name.get_untracked() on_name/> }
        })
    };
    view! {
        <section class="panel people" aria-labelledby="people-title">
            <h2 id="people-title">"Watching"</h2>
            <ul>
                <li class="person me">
                    <span class="name">{my_name} " (you)"</span>
                    <span class="meta">{my_offset}</span>
                    <button type="button" class="link-button" on:click=move |_| set_renaming.update(|r| *r = !*r)>
                        "Change name"
                    </button>
                    {rename_form}
                </li>
                // Keyed by session: a status or a new person redraws that row only.
                <For each=move || view.people.with(sessions) key=super::same_key
                    children=move |session| view! { <PersonRow people=view.people session/> }/>
            </ul>
            {move || match view.dropped_messages.get() {
                0 => None,
                n => Some(view! {
                    <p class="hint" data-dropped=n>{n} " messages from others were ignored: malformed, or sent too fast."</p>
                }),
            }}
            {move || view.signaling_outage.get().map(|outage| view! {
                <p class="hint" role="status">{outage.message()}</p>
            })}
        </section>
    }
}

fn sessions(people: &People) -> Vec<SessionId> {
    people.iter().map(|p| p.session).collect()
}

/// One person's row, redrawn only when what it shows of them changed.
#[component]
fn PersonRow(people: ReadSignal<People>, session: SessionId) -> impl IntoView {
    let person = Memo::new(move |_| people.with(|p| p.get(session).cloned()));
    move || person.get().map(person_row)
}

fn person_row(person: Person) -> impl IntoView {
    let state = match person.link {
        LinkState::Connecting => "connecting".to_owned(),
        LinkState::Reconnecting => "reconnecting".to_owned(),
        LinkState::Unreachable(_) => "unreachable".to_owned(),
        LinkState::Connected => phase_label(&person.status.phase),
    };
    // While a ready check waits: ready, loading (cannot play yet) or not yet.
    let ready = person.ready.map(|r| r.label());
    let status = match ready {
        Some(ready) => format!("{state} · {ready}"),
        None => state.clone(),
    };
    let reason = match person.link {
        LinkState::Unreachable(why) => Some(why),
        _ => None,
    };
    // The path is the current link's: shown only while it is up.
    let path = person.path.filter(|_| person.link == LinkState::Connected);
    let meta = match reason {
        Some(why) => format!("can't connect: {}", why.explanation()),
        None => {
            let rtt = person
                .rtt_ms
                .map(|ms| format!(" · {} ms RTT", ms.round() as i64))
                .unwrap_or_default();
            let path_label = path
                .map(|p| format!(" · {}", p.label()))
                .unwrap_or_default();
            format!(
                "{status} · {}{rtt}{path_label}",
                offset_label(ShownOffset::of(&person.status))
            )
        }
    };
    view! {
        <li class="person" data-state=state data-ready=ready
            data-path=path.map(|p| p.code()) data-reason=reason.map(|why| why.code())
            data-session=person.session.to_string()>
            <span class="name">{person.display_name().to_owned()}</span>
            <span class="meta">{meta}</span>
        </li>
    }
}

fn phase_label(phase: &ViewerPhase) -> String {
    match phase {
        ViewerPhase::Idle => "waiting".into(),
        ViewerPhase::Loading => "loading".into(),
        ViewerPhase::Paused => "paused".into(),
        ViewerPhase::Playing => "playing".into(),
        ViewerPhase::Buffering => "buffering".into(),
        ViewerPhase::AutoplayBlocked => "autoplay blocked".into(),
        ViewerPhase::Failed(why) => format!("failed: {}", why.label()),
    }
}
