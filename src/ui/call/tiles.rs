//! The tiles of everyone in the call, drawn over the film's edge (inside the stage, so they
//! stay visible in fullscreen). On a phone the group floats and can be dragged aside.

use super::CallRef;
use crate::num::Clamp;
use crate::room::people::People;
use crate::signaling::payload::SessionId;
use crate::web::call::{CallPhase, CallView, Tile};
use leptos::html::Video;
use leptos::prelude::*;

#[component]
pub fn CallTiles(
    call: CallRef,
    people: ReadSignal<People>,
    my_name: Signal<String>,
) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    let (offset, set_offset) = signal((0.0, 0.0));
    let drag = StoredValue::new(None::<(f64, f64, f64, f64)>);
    let on_down = move |e: leptos::ev::PointerEvent| {
        // Only the group's own background starts a drag (the volume sliders keep theirs).
        if e.target() != e.current_target() {
            return;
        }
        let (x, y) = offset.get_untracked();
        drag.set_value(Some((e.client_x() as f64, e.client_y() as f64, x, y)));
    };
    let on_move = move |e: leptos::ev::PointerEvent| {
        if let Some((start_x, start_y, x, y)) = drag.get_value() {
            set_offset.set((
                x + e.client_x() as f64 - start_x,
                y + e.client_y() as f64 - start_y,
            ));
        }
    };
    let on_up = move |_| drag.set_value(None);
    let me = call.with_value(|c| c.my_session());
    let anyone = move || view.me.get().phase == CallPhase::In || view.tiles.with(|t| !t.is_empty());
    view! {
        <div class="call-tiles" class:empty=move || !anyone()
            style:transform=move || { let (x, y) = offset.get(); format!("translate({x}px, {y}px)") }
            on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointerleave=on_up>
            {move || (view.me.get().phase == CallPhase::In).then(|| {
                view! { <SelfTile call session=me my_name/> }
            })}
            <For each=move || view.tiles.get() key=|tile: &Tile| tile.session let:tile>
                <RemoteTile call session=tile.session people/>
            </For>
        </div>
    }
}

/// Our own preview, muted (we never hear ourselves).
#[component]
fn SelfTile(call: CallRef, session: SessionId, my_name: Signal<String>) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    let video = NodeRef::<Video>::new();
    Effect::new(move |_| {
        view.streams_changed.track();
        if let Some(element) = video.get() {
            element.set_muted(true);
            element.set_src_object(call.with_value(|c| c.local_stream()).as_ref());
        }
    });
    let label = move || format!("{} (you)", my_name.get());
    view! {
        <div class="tile self" role="group" aria-label=label
            data-session=session.to_string()
            data-speaking=move || speaking(view, session).to_string()
            data-muted=move || view.me.get().muted.to_string()
            data-camera=move || on_off(view.me.get().camera)
            data-video=move || shown_hidden(view.me.get().camera)
            style:--level=move || level(view, session)>
            <video class="tile-video self" node_ref=video autoplay playsinline muted></video>
            <span class="avatar" aria-hidden="true">{move || initials(&my_name.get())}</span>
            <span class="tile-name">{label}</span>
        </div>
    }
}

#[component]
fn RemoteTile(call: CallRef, session: SessionId, people: ReadSignal<People>) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    let video = NodeRef::<Video>::new();
    Effect::new(move |_| {
        view.streams_changed.track();
        let Some(element) = video.get() else { return };
        let stream = call.with_value(|c| c.remote_stream(session));
        let current = element.src_object();
        if current.as_ref() != stream.as_ref() {
            element.set_src_object(stream.as_ref());
            // Autoplay applies, but a new object after the first needs an explicit play. Its
            // promise fails harmlessly when a newer stream interrupts it.
            if let Ok(playing) = element.play() {
                leptos::task::spawn_local(async move {
                    let _ = wasm_bindgen_futures::JsFuture::from(playing).await;
                });
            }
        }
    });
    let name = move || {
        people
            .with(|p| p.get(session).map(|p| p.display_name().to_owned()))
            .unwrap_or_else(|| "Someone".to_owned())
    };
    let tile = move || {
        view.tiles
            .with(|t| t.iter().find(|t| t.session == session).copied())
    };
    let muted = move || tile().is_some_and(|t| t.presence.muted);
    let camera = move || tile().is_some_and(|t| t.presence.camera);
    let video_shown = move || tile().is_some_and(|t| t.show_video);
    let set_volume = move |e: leptos::ev::Event| {
        if let (Some(element), Ok(volume)) = (video.get(), event_target_value(&e).parse::<f64>()) {
            element.set_volume(volume.clamp_to(0.0, 1.0));
        }
    };
    view! {
        <div class="tile" role="group" aria-label=name
            data-session=session.to_string()
            data-speaking=move || speaking(view, session).to_string()
            data-muted=move || muted().to_string()
            data-camera=move || on_off(camera())
            data-video=move || shown_hidden(video_shown())
            style:--level=move || level(view, session)>
            <video class="tile-video" node_ref=video autoplay playsinline></video>
            <span class="avatar" aria-hidden="true">{move || initials(&name())}</span>
            <span class="tile-name">{name}<span class="muted-mark" aria-hidden="true">{move || if muted() { " (muted)" } else { "" }}</span></span>
            <input type="range" class="tile-volume" aria-label=move || format!("Volume of {}", name())
                min="0" max="1" step="0.05" value="1" on:input=set_volume/>
        </div>
    }
}

fn speaking(view: CallView, session: SessionId) -> bool {
    view.loudness
        .with(|l| l.iter().any(|l| l.session == session && l.speaking))
}

/// The ring's strength, 0–1, as a CSS number.
fn level(view: CallView, session: SessionId) -> String {
    let step = view.loudness.with(|l| {
        l.iter()
            .find(|l| l.session == session)
            .map_or(0, |l| l.level)
    });
    if step >= 10 {
        "1".to_owned()
    } else {
        format!("0.{step}")
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn shown_hidden(shown: bool) -> &'static str {
    if shown {
        "shown"
    } else {
        "hidden"
    }
}

/// Up to two initials for the avatar of a camera that is off.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
