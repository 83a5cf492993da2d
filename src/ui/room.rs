//! The room page: asks for a name once, then joins the party and shows the stage, the people
//! and the chat around it.

use super::chat_panel::ChatPanel;
use super::name_prompt::NamePrompt;
use super::people_list::PeopleList;
use super::reactions::{ReactionBar, ReactionLayer};
use super::stage::{SourceBox, VideoStage};
use crate::config::AppConfig;
use crate::room::host::KeyId;
use crate::room_link::RoomSecret;
use crate::sync::{Intent, MediaTime};
use crate::web::app_config::ConfigState;
use crate::web::call::{Call, CallPhase, CallSlots};
use crate::web::clipboard::{use_clipboard, CopyState};
use crate::web::identity::{new_page_identity, PageIdentity};
use crate::web::location::page_url;
use crate::web::party::{use_party, Party};
use crate::web::player::PlayerPhase;
use crate::web::player_driver::use_synced_player;
use crate::web::programme::{PROMPT_SLOT, TABS_SLOT};
use crate::web::stored_name::use_stored_name;
use leptos::html::Div;
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsCast;

#[component]
pub fn RoomPage(secret: RoomSecret, host: Option<KeyId>) -> impl IntoView {
    let link = secret.link_with_host(&page_url(), host);
    let (name, remember_name) = use_stored_name();
    let config = expect_context::<ReadSignal<ConfigState>>();
    // Rebuild the party only when joining becomes possible, not on every rename.
    let has_name = Memo::new(move |_| name.with(Option::is_some));
    let ready_config = Memo::new(move |_| match config.get() {
        ConfigState::Ready(config) => Some(config),
        _ => None,
    });
    // Made while the person types their name: this page's certificate and session id. (A
    // plain signal rather than a `LocalResource`, whose machinery costs 12 KB of download.)
    let identity = RwSignal::new_local(None::<Result<PageIdentity, String>>);
    leptos::task::spawn_local(async move { identity.set(Some(new_page_identity().await)) });
    let body = move || match (has_name.get(), ready_config.get(), identity.get()) {
        (false, _, _) => view! { <NamePrompt on_name=remember_name/> }.into_any(),
        (true, _, Some(Err(problem))) => {
            view! { <p class="hint" role="alert">{format!("Cannot join the party: {problem}")}</p> }
                .into_any()
        }
        (true, Some(config), Some(Ok(identity))) => view! {
            <PartyRoom identity secret=secret.clone() host config name on_rename=remember_name/>
        }
        .into_any(),
        (true, _, _) => {
            view! { <p class="hint" role="status">{"Getting ready…".to_owned()}</p> }.into_any()
        }
    };
    view! {
        <section class="room" aria-labelledby="room-title">
            <h1 id="room-title">"Your watch party"</h1>
            <ShareLink link/>
            {body}
        </section>
    }
}

/// The joined room: lives as long as the person stays.
#[component]
fn PartyRoom(
    identity: PageIdentity,
    secret: RoomSecret,
    host: Option<KeyId>,
    config: AppConfig,
    name: ReadSignal<Option<String>>,
    #[prop(into)] on_rename: Callback<String>,
) -> impl IntoView {
    let party = use_party(
        identity,
        secret,
        host,
        config,
        name.get_untracked().unwrap_or_default(),
    );
    let renaming = party.clone();
    Effect::new(move |previous: Option<Option<String>>| {
        let current = name.get();
        if let (Some(Some(_)), Some(new_name)) = (&previous, &current) {
            renaming.rename(new_name.clone());
        }
        current
    });
    let my_name = Signal::derive(move || name.get().unwrap_or_default());
    let problem = party.view.problem;
    view! {
        {move || problem.get().map(|why| view! {
            <p class="banner error" role="alert">"Cannot join the party: " {why}</p>
        })}
        <div class="party-layout">
            <SyncedStage party=party.clone() my_name/>
            <aside class="side">
                <PeopleList view=party.view my_name on_rename/>
                <ChatPanel party/>
            </aside>
        </div>
    }
}

/// The video stage, wired through the sync engine: the person's clicks become intents, and the
/// player follows the engine (see [`use_synced_player`]).
///
/// The call's tiles are drawn over the stage and its bar under it (by the call's own code, once
/// it runs: see [`CallStandIn`]); smart volume scales the film below the person's own volume.
#[component]
fn SyncedStage(party: Party, my_name: Signal<String>) -> impl IntoView {
    let player = use_synced_player(&party);
    let (play, pause, seek, load) = (party.clone(), party.clone(), party.clone(), party.clone());
    let playback = party.view.playback;
    let current_media = Signal::derive(move || playback.get().and_then(|p| p.media));
    let film_gain = party.call.view.film_gain;
    Effect::new(move |_| {
        let _ = player.set_volume_gain(film_gain.get());
    });
    let film_playing = Signal::derive(move || player.phase.get() == PlayerPhase::Playing);
    let people = party.view.people;
    let queuer = party.clone();
    let queue = move |(url, title): (String, String)| queuer.queue_link(&url, title);
    let can_queue = party.queue.editable;
    let has_media = Signal::derive(move || player.phase.with(PlayerPhase::has_media));
    let (bar_slot, tiles_slot) = (NodeRef::<Div>::new(), NodeRef::<Div>::new());
    let call = party.call.clone();
    // Both slots are drawn with this view, so the tiles' is there when the bar's is.
    let mount_call = move |bar| {
        if let Some(tiles) = tiles_slot.get_untracked() {
            call.mount_ui(CallSlots {
                bar,
                tiles: tiles.into(),
                film_playing,
                people,
                my_name,
            });
        }
    };
    mount_when_loaded(party.call.view.loaded, bar_slot, Rc::new(mount_call));
    view! {
        <div class="stage-column">
            <VideoStage
                player
                on_play=move |()| play.intent(Intent::Play)
                on_pause=move |()| pause.intent(Intent::Pause)
                on_seek=move |secs: f64| seek.intent(Intent::Seek(MediaTime::from_secs_f64(secs)))
            >
                <div node_ref=tiles_slot></div>
                <ReactionLayer/>
            </VideoStage>
            <ReactionBar enabled=has_media/>
            <div node_ref=bar_slot><CallStandIn call=party.call.clone() film_playing/></div>
            <div id=PROMPT_SLOT></div>
            <HostSlot party/>
            <SourceBox on_load=move |url: String| load.load_video(url)
                on_queue=queue can_queue current=current_media/>
            <div id=TABS_SLOT inner_html=TABS_STAND_IN></div>
        </div>
    }
}

/// The call bar until the call's code runs: its buttons and switches as plain markup, whose
/// presses go to the call ("Join call" fetches its code), with one reactive part (the buttons
/// wait while joining) and the notice a failed fetch leaves. The call's own bar (`ui::call`,
/// in the call's download) replaces it once that code runs, reading the same state.
#[component]
fn CallStandIn(call: Call, film_playing: Signal<bool>) -> impl IntoView {
    const SWITCHES: &str = concat!(
        r#"<label class="switch"><input type="checkbox" role="switch" aria-label="Smart volume" value="smart-volume" checked>Smart volume</label>"#,
        r#"<label class="switch" title="Hold T to talk"><input type="checkbox" aria-label="Push to talk" value="push-to-talk">Push to talk (hold T)</label>"#,
    );
    let view = call.view;
    let call = StoredValue::new_local(call);
    // One handler for the buttons and the switches (a checkbox is already toggled when its
    // click arrives, by mouse or keyboard).
    let clicked = move |ev: leptos::ev::MouseEvent| {
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let on = target
            .dyn_ref::<web_sys::HtmlInputElement>()
            .is_some_and(|input| input.checked());
        match target.get_attribute("value").as_deref() {
            Some("camera") => call.with_value(|c| c.join(true, film_playing.get_untracked())),
            Some("audio") => call.with_value(|c| c.join(false, film_playing.get_untracked())),
            Some("smart-volume") => call.with_value(|c| c.set_smart_volume(on)),
            Some("push-to-talk") => call.with_value(|c| c.set_push_to_talk(on)),
            _ => {}
        }
    };
    let joining = move || view.me.with(|me| me.phase == CallPhase::Joining);
    view! {
        <section class="call" aria-label="Call" on:click=clicked>
            <fieldset class="call-buttons" disabled=joining inner_html=concat!(
                r#"<button type="button" class="primary" value="camera">Join call</button>"#,
                r#"<button type="button" value="audio">Join with audio only</button>"#,
            )></fieldset>
            <span class="call-switches" inner_html=SWITCHES></span>
            {move || view.notice.get().map(|text| view! { <p class="call-notice" role="status">{text}</p> })}
        </section>
    }
}

/// Where the host's own code draws its panel, in a room whose link names a host.
#[component]
fn HostSlot(party: Party) -> impl IntoView {
    party.host.clone().map(|host| {
        let loaded = host.loaded;
        let people = party.view.people;
        let setter = party.clone();
        let set_mode: Rc<dyn Fn(bool)> = Rc::new(move |on| setter.set_host_mode(on));
        let mount = move |slot| host.mount_panel(slot, people, set_mode.clone());
        view! { <ChunkSlot loaded mount=Rc::new(mount)/> }
    })
}

/// The programme's two tabs, "Up next" and "Suggested", until the programme's code (fetched
/// as the room opens: `web::programme`) draws the live ones in their place, and their panels
/// once the room uses the queue. The same tabs as the live ones (`up_next::tabs`, ids as in
/// `programme_tabs::TABS`), less their panels' ids: the panels are not drawn yet. Static: no
/// code of the first load listens to them.
const TABS_STAND_IN: &str = concat!(
    r#"<div class="tabs" role="tablist" aria-label="Programme">"#,
    r#"<button role="tab" id="tab-up-next" aria-selected="true" tabindex="0">Up next</button>"#,
    r#"<button role="tab" id="tab-suggested" aria-selected="false" tabindex="-1">Suggested</button>"#,
    "</div>",
);

/// A place in the page that an on-demand part of the app draws into once its code is here.
/// A component although only the host's slot uses it: built as one type-erased view
/// (`erase_components`), it costs the first load 411 B gzipped less than the same div and
/// call inlined into `HostSlot` (measured with `cargo xtask size`).
#[component]
fn ChunkSlot(loaded: ReadSignal<bool>, mount: Rc<dyn Fn(web_sys::HtmlElement)>) -> impl IntoView {
    let slot = NodeRef::<leptos::html::Div>::new();
    mount_when_loaded(loaded, slot, mount);
    view! { <div node_ref=slot></div> }
}

/// Has an on-demand part draw into `slot` (replacing any stand-in there) once its code is here.
fn mount_when_loaded(
    loaded: ReadSignal<bool>,
    slot: NodeRef<leptos::html::Div>,
    mount: Rc<dyn Fn(web_sys::HtmlElement)>,
) {
    let mount = StoredValue::new_local(mount);
    Effect::new(move |_| {
        if let (true, Some(slot)) = (loaded.get(), slot.get()) {
            mount.with_value(|mount| mount(slot.into()));
        }
    });
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
