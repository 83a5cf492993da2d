//! The call's interface: the bar to join, mute, turn the camera off and leave, and the tiles
//! of everyone in the call. It renders [`Call`]'s signals and calls its methods; what to
//! capture, send and duck is decided there. Part of the call's own download: the call draws
//! it into the room page once its code runs (`Call::mount_ui`), in place of the first load's
//! stand-in of the bar (`ui::room`).

mod tiles;

pub use tiles::CallTiles;

use crate::web::call::{Call, CallPhase};
use crate::web::event_listener::use_window_listener;
use crate::web::keyboard::focused;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Held down to talk while push-to-talk is on (not Space: Space plays and pauses the film).
const TALK_KEY: &str = "t";

/// The call as components hold it: `Copy`, so views and handlers can share it (the call
/// itself lives on the page's one thread).
pub type CallRef = StoredValue<Call, LocalStorage>;

#[component]
pub fn CallBar(
    call: CallRef,
    /// Whether the film is playing, for the headphones hint.
    #[prop(into)]
    film_playing: Signal<bool>,
) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    use_talk_key(call);
    use_window_listener("pointerdown", move |_| call.with_value(Call::wake_audio));
    let phase = move || view.me.get().phase;
    let join_buttons = move || {
        let joining = phase() == CallPhase::Joining;
        let join =
            move |camera: bool| call.with_value(|c| c.join(camera, film_playing.get_untracked()));
        view! {
            <button type="button" class="primary" disabled=joining
                on:click=move |_| join(true)>"Join call"</button>
            <button type="button" disabled=joining
                on:click=move |_| join(false)>"Join with audio only"</button>
        }
    };
    let in_call_buttons = move || {
        let me = view.me.get();
        let mute_label = if me.muted { "Unmute" } else { "Mute" };
        let camera_label = if me.camera { "Camera off" } else { "Camera on" };
        view! {
            <button type="button" aria-pressed=me.muted.to_string() disabled=!me.has_microphone
                on:click=move |_| call.with_value(|c| c.set_muted(!me.muted))>{mute_label}</button>
            <button type="button"
                on:click=move |_| call.with_value(|c| c.set_camera(!me.camera))>{camera_label}</button>
            <button type="button" class="danger"
                on:click=move |_| call.with_value(Call::leave)>"Leave call"</button>
        }
    };
    view! {
        <section class="call" aria-label="Call">
            <div class="call-buttons">
                {move || if phase() == CallPhase::In { in_call_buttons().into_any() } else { join_buttons().into_any() }}
            </div>
            <label class="switch">
                <input type="checkbox" role="switch" aria-label="Smart volume"
                    prop:checked=move || view.me.get().smart_volume
                    on:change=move |e| call.with_value(|c| c.set_smart_volume(event_target_checked(&e)))/>
                "Smart volume"
            </label>
            <label class="switch" title="Hold T to talk">
                <input type="checkbox" aria-label="Push to talk"
                    prop:checked=move || view.me.get().push_to_talk
                    on:change=move |e| call.with_value(|c| c.set_push_to_talk(event_target_checked(&e)))/>
                "Push to talk (hold T)"
            </label>
            <CallMessages call/>
        </section>
    }
}

/// A failure (with "Try again"), a notice, and the one-time headphones hint.
#[component]
fn CallMessages(call: CallRef) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    let problem = move || {
        view.problem.get().map(|problem| {
            view! {
                <p class="call-problem" role="alert" data-problem=problem.code()>
                    {problem.message()}
                    " "
                    <button type="button" on:click=move |_| call.with_value(Call::retry)>"Try again"</button>
                </p>
            }
        })
    };
    let hint = move || {
        view.headphones_hint.get().then(|| {
            view! {
                <p class="call-hint" role="status">
                    "Tip: use headphones, so the film's sound does not reach your friends through your microphone. "
                    <button type="button" class="link" on:click=move |_| call.with_value(Call::dismiss_hint)>"Got it"</button>
                </p>
            }
        })
    };
    view! {
        {problem}
        {move || view.notice.get().map(|text| view! { <p class="call-notice" role="status">{text}</p> })}
        {hint}
    }
}

/// Push-to-talk's key: held down opens the microphone, released closes it. Ignored while
/// typing.
fn use_talk_key(call: CallRef) {
    for (kind, held) in [("keydown", true), ("keyup", false)] {
        use_window_listener(kind, move |event| {
            let Some(event) = event.dyn_ref::<web_sys::KeyboardEvent>() else {
                return;
            };
            if !event.key().eq_ignore_ascii_case(TALK_KEY)
                || focused(event).is_some_and(|f| f.typing())
            {
                return;
            }
            call.with_value(|c| c.hold_to_talk(held));
        });
    }
}
