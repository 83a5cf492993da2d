//! The video stage: the `<video>` element, its custom controls, what the player is waiting for
//! (loading, buffering, an error, a click to join), and the box to choose a video.
//!
//! The stage never starts, pauses or seeks the video itself: those are intents (`on_play`,
//! `on_pause`, `on_seek`) that the room sends through the sync engine, which then commands the
//! player. Only personal settings (volume, fullscreen) act directly.

mod controls;
mod source_box;
mod video_url;

pub use controls::{format_clock, Controls};
pub use source_box::SourceBox;
pub use video_url::{VideoUrl, VideoUrlProblem};

use crate::num::Clamp;
use crate::web::event_listener::use_window_listener;
use crate::web::keyboard::focused;
use crate::web::player::{PlayerPhase, UseVideoPlayer};
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Arrow keys move this far.
const KEY_SEEK_STEP_SECS: f64 = 5.0;

#[component]
pub fn VideoStage(
    /// From `use_video_player`; the stage puts its `node_ref` on the `<video>`.
    player: UseVideoPlayer,
    #[prop(into)] on_play: UnsyncCallback<()>,
    #[prop(into)] on_pause: UnsyncCallback<()>,
    /// Seconds into the media.
    #[prop(into)]
    on_seek: UnsyncCallback<f64>,
    /// Drawn over the film inside the stage, so it stays visible in fullscreen (the call's
    /// tiles).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let stage = NodeRef::<Div>::new();
    use_stage_keys(player, on_play, on_pause, on_seek);
    let status = move || player.phase.get().label();
    view! {
        <div class="video-stage" node_ref=stage data-phase=status>
            <video class="video" node_ref=player.node_ref playsinline preload="auto"
                on:click=move |_| controls::toggle_playback(player, on_play, on_pause)></video>
            <StageMessage player/>
            {children.map(|overlay| overlay())}
            <Controls player on_play on_pause on_seek stage/>
        </div>
    }
}

/// What the player is waiting for, over the video; "Join playback" when autoplay was blocked.
#[component]
fn StageMessage(player: UseVideoPlayer) -> impl IntoView {
    let join = move |_| {
        let _ = player.join_playback();
    };
    move || {
        match player.phase.get() {
        PlayerPhase::Empty => view! {
            <div class="stage-message"><p>"No video yet: paste a link below to watch it together."</p></div>
        }
        .into_any(),
        PlayerPhase::Loading => view! {
            <div class="stage-message" role="status"><span class="spinner" aria-hidden="true"></span><p>"Loading the video…"</p></div>
        }
        .into_any(),
        PlayerPhase::Buffering => view! {
            <div class="stage-message" role="status"><span class="spinner" aria-hidden="true"></span><p>"Buffering…"</p></div>
        }
        .into_any(),
        PlayerPhase::Error(failure) => view! {
            <div class="stage-message failed" role="alert"><p>{failure.message}</p></div>
        }
        .into_any(),
        PlayerPhase::AutoplayBlocked => view! {
            <div class="stage-message blocked" role="alert">
                <p>"Your browser waits for a click before playing sound."</p>
                <button type="button" class="primary" on:click=join>"Join playback"</button>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    }
    }
}

/// Space toggles playback and the arrows seek by 5 s, wherever focus is except where those keys
/// already mean something (`keyboard::Focused::handles`: where the person types, sliders and
/// radio buttons for the arrows, what can be pressed for Space).
fn use_stage_keys(
    player: UseVideoPlayer,
    on_play: UnsyncCallback<()>,
    on_pause: UnsyncCallback<()>,
    on_seek: UnsyncCallback<f64>,
) {
    use_window_listener("keydown", move |ev| {
        let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() else {
            return;
        };
        if ev.default_prevented() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if !player.phase.with_untracked(PlayerPhase::has_media) {
            return;
        }
        let key = ev.key();
        let step = match key.as_str() {
            "ArrowLeft" => -KEY_SEEK_STEP_SECS,
            "ArrowRight" => KEY_SEEK_STEP_SECS,
            " " | "Spacebar" => 0.0,
            _ => return,
        };
        if focused(ev).is_some_and(|f| f.handles(&key)) {
            return;
        }
        ev.prevent_default();
        if step == 0.0 {
            controls::toggle_playback(player, on_play, on_pause);
            return;
        }
        let position = player.position.get_untracked();
        let end = player.duration.get_untracked().unwrap_or(f64::INFINITY);
        on_seek.run((position + step).clamp_to(0.0, end));
    });
}
