//! Where the call's tiles go: a container over the film's edge (inside the stage, so it stays
//! visible in fullscreen). The call draws the tiles into it (see `web::call::tile_elements`
//! for why not as views); this component says when. On a phone the group floats and can be
//! dragged aside.

use super::CallRef;
use crate::room::people::People;
use crate::web::call::CallPhase;
use leptos::html::Div;
use leptos::prelude::*;

#[component]
pub fn CallTiles(
    call: CallRef,
    people: ReadSignal<People>,
    my_name: Signal<String>,
) -> impl IntoView {
    let view = call.with_value(|c| c.view);
    let container = NodeRef::<Div>::new();
    // Only the names: the people list changes with every status and clock sample, and the tiles
    // show none of those (on a starved call page every redraw counts).
    let names = Memo::new(move |_| people.with(People::names));
    Effect::new(move |_| {
        // Everything a tile shows: redraw when any of it changes.
        view.tiles.track();
        view.loudness.track();
        view.streams_changed.track();
        view.me.track();
        let my_name = my_name.get();
        let Some(element) = container.get() else {
            return;
        };
        names.with(|names| {
            call.with_value(|c| {
                c.draw_tiles(&element, &my_name, |session| names.of(session).to_owned())
            })
        });
    });
    // Whole CSS pixels: formatting them needs no float formatting in the wasm.
    let (offset, set_offset) = signal((0i32, 0i32));
    let drag = StoredValue::new(None::<(i32, i32, i32, i32)>);
    let on_down = move |e: leptos::ev::PointerEvent| {
        // Only the group's own background starts a drag (the volume sliders keep theirs).
        if e.target() != e.current_target() {
            return;
        }
        let (x, y) = offset.get_untracked();
        drag.set_value(Some((e.client_x(), e.client_y(), x, y)));
    };
    let on_move = move |e: leptos::ev::PointerEvent| {
        if let Some((start_x, start_y, x, y)) = drag.get_value() {
            set_offset.set((x + e.client_x() - start_x, y + e.client_y() - start_y));
        }
    };
    let on_up = move |_| drag.set_value(None);
    let anyone = move || view.me.get().phase == CallPhase::In || view.tiles.with(|t| !t.is_empty());
    view! {
        <div class="call-tiles" node_ref=container class:empty=move || !anyone()
            style:transform=move || { let (x, y) = offset.get(); format!("translate({x}px, {y}px)") }
            on:pointerdown=on_down on:pointermove=on_move on:pointerup=on_up on:pointerleave=on_up>
        </div>
    }
}
