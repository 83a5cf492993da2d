//! The keys of the programme's two tabs, "Up next" and "Suggested" (the WAI-ARIA tabs
//! pattern): the Left and Right arrows move to the other tab, wrapping round, Home and End to
//! the first and the last, and the panel follows the focus. One handler, listening on the
//! window for the room's life from when the queue's code draws the live tabs (in place of the
//! first load's static stand-in, with the same ids): a key focuses the tab it lands on and
//! clicks it, so a key chooses exactly as a click does. The rule itself is `keyboard::tab_for_key`; the stage's arrow keys
//! leave a focused tab alone (`keyboard::Focused::handles`).

use crate::keyboard::tab_for_key;
use crate::web::dom::by_id;
use wasm_bindgen::JsCast;

/// The tabs' ids, in order (each controls the panel `panel-<name>`).
pub const TABS: [&str; 2] = ["tab-up-next", "tab-suggested"];

/// A key pressed anywhere on the page (a window `keydown` listener): on one of the tabs,
/// moves the focus to the tab the key names, and clicks it, taking the key from the page.
pub fn on_tab_key(ev: web_sys::Event) {
    let Some(ev) = ev.dyn_ref::<web_sys::KeyboardEvent>() else {
        return;
    };
    let id = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|t| t.id());
    let Some(current) = id.and_then(|id| TABS.iter().position(|tab| *tab == id)) else {
        return;
    };
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let Some(to) = tab_for_key(&ev.key(), current, TABS.len()) else {
        return;
    };
    ev.prevent_default();
    if let Some(tab) = by_id::<web_sys::HtmlElement>(TABS[to]) {
        let _ = tab.focus();
        tab.click();
    }
}
