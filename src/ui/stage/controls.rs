//! The stage's controls. Play, pause and seek are intents handed to the caller (the room routes
//! them through the sync engine); volume and fullscreen are personal and act directly.

use crate::num::clock_text;
use crate::web::event_listener::use_window_listener;
use crate::web::player::{PlayerPhase, UseVideoPlayer};
use leptos::html::Div;
use leptos::prelude::*;

/// `m:ss` under an hour, `h:mm:ss` from one, counting whole seconds passed (as players do: a
/// second shows once it is over); `--:--` for an unknown time.
pub fn format_clock(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "--:--".to_string();
    }
    clock_text(secs.floor() as u64)
}

/// A range input's value as the browser parses it (no float parsing in the wasm).
fn range_value(ev: &leptos::ev::Event) -> Option<f64> {
    let value = event_target::<web_sys::HtmlInputElement>(ev).value_as_number();
    value.is_finite().then_some(value)
}

/// Runs the play/pause intent the toggle stands for. After a blocked autoplay the room is
/// already playing, so the click itself (a user gesture) joins instead of asking the room.
pub fn toggle_playback(
    player: UseVideoPlayer,
    on_play: UnsyncCallback<()>,
    on_pause: UnsyncCallback<()>,
) {
    match player.phase.get_untracked() {
        PlayerPhase::AutoplayBlocked => {
            let _ = player.join_playback();
        }
        phase if phase.is_playing() => on_pause.run(()),
        _ => on_play.run(()),
    }
}

#[component]
pub fn Controls(
    player: UseVideoPlayer,
    on_play: UnsyncCallback<()>,
    on_pause: UnsyncCallback<()>,
    on_seek: UnsyncCallback<f64>,
    stage: NodeRef<Div>,
) -> impl IntoView {
    let disabled = Signal::derive(move || !player.phase.with(PlayerPhase::has_media));
    view! {
        <div class="stage-controls">
            <PlayToggle player on_play on_pause disabled/>
            <SeekBar player on_seek disabled/>
            <VolumeControl player/>
            <FullscreenButton stage player/>
        </div>
    }
}

#[component]
fn PlayToggle(
    player: UseVideoPlayer,
    on_play: UnsyncCallback<()>,
    on_pause: UnsyncCallback<()>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let playing = Signal::derive(move || player.phase.with(PlayerPhase::is_playing));
    let label = move || if playing.get() { "Pause" } else { "Play" };
    view! {
        <button type="button" class="control icon" aria-label=label disabled=disabled
            on:click=move |_| toggle_playback(player, on_play, on_pause)>
            <span class="glyph" class:glyph-pause=playing class:glyph-play=move || !playing.get()
                aria-hidden="true"></span>
        </button>
    }
}

/// The seek bar: dragging previews the time, releasing (or a keyboard step) asks to seek.
#[component]
fn SeekBar(
    player: UseVideoPlayer,
    on_seek: UnsyncCallback<f64>,
    disabled: Signal<bool>,
) -> impl IntoView {
    let (dragging, set_dragging) = signal(None::<f64>);
    let shown = move || dragging.get().unwrap_or_else(|| player.position.get());
    let total = move || player.duration.get().unwrap_or(0.0);
    let value_text = move || {
        format!(
            "{} of {}",
            format_clock(shown()),
            format_clock(player.duration.get().unwrap_or(f64::NAN))
        )
    };
    let read = |ev: &leptos::ev::Event| range_value(ev);
    view! {
        <div class="seek">
            <input type="range" class="seek-bar" aria-label="Seek" min="0" step="any"
                max=move || crate::web::number_text(total())
                prop:value=shown
                aria-valuetext=value_text
                disabled=move || disabled.get() || player.duration.with(Option::is_none)
                on:input=move |ev| set_dragging.set(read(&ev))
                on:change=move |ev| {
                    set_dragging.set(None);
                    if let Some(secs) = read(&ev) { on_seek.run(secs) }
                }/>
            <span class="time" aria-hidden="true">
                <span class="elapsed">{move || format_clock(shown())}</span>
                " / "
                <span class="total">{move || format_clock(player.duration.get().unwrap_or(f64::NAN))}</span>
            </span>
        </div>
    }
}

#[component]
fn VolumeControl(player: UseVideoPlayer) -> impl IntoView {
    let silent = move || player.muted.get() || player.volume.get() == 0.0;
    let toggle_mute = move |_| {
        let _ = if silent() {
            if player.volume.get_untracked() == 0.0 {
                player.set_volume(1.0)
            } else {
                player.set_muted(false)
            }
        } else {
            player.set_muted(true)
        };
    };
    view! {
        <div class="volume">
            <button type="button" class="control icon" aria-label=move || if silent() { "Unmute film" } else { "Mute film" }
                on:click=toggle_mute>
                <span class="glyph" class:glyph-muted=silent class:glyph-sound=move || !silent()
                    aria-hidden="true"></span>
            </button>
            <input type="range" class="volume-bar" aria-label="Volume" min="0" max="1" step="0.05"
                prop:value=move || if player.muted.get() { 0.0 } else { player.volume.get() }
                on:input=move |ev| {
                    if let Some(volume) = range_value(&ev) {
                        let _ = player.set_volume(volume);
                    }
                }/>
        </div>
    }
}

/// Fullscreen for the whole stage (video and controls); iPhones only allow it for the bare video.
#[component]
fn FullscreenButton(stage: NodeRef<Div>, player: UseVideoPlayer) -> impl IntoView {
    let (active, set_active) = signal(false);
    use_window_listener("fullscreenchange", move |_| {
        set_active.set(fullscreen_element().is_some());
    });
    let toggle = move |_| {
        if fullscreen_element().is_some() {
            if let Some(document) = web_sys::window().and_then(|w| w.document()) {
                document.exit_fullscreen();
            }
            return;
        }
        let entered = stage
            .get_untracked()
            .is_some_and(|stage| stage.request_fullscreen().is_ok());
        if !entered {
            if let Some(video) = player.element() {
                let _ = js_sys::Reflect::get(&video, &"webkitEnterFullscreen".into())
                    .ok()
                    .and_then(|f| wasm_bindgen::JsCast::dyn_into::<js_sys::Function>(f).ok())
                    .map(|f| f.call0(&video));
            }
        }
    };
    view! {
        <button type="button" class="control icon" aria-label="Fullscreen"
            aria-pressed=move || active.get().to_string() on:click=toggle>
            <span class="glyph glyph-fullscreen" aria-hidden="true"></span>
        </button>
    }
}

fn fullscreen_element() -> Option<web_sys::Element> {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.fullscreen_element())
}
