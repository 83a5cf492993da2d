//! The keys of the programme's two tabs, "Up next" and "Suggested" (the WAI-ARIA tabs
//! pattern): the Left and Right arrows move to the other tab, wrapping round, Home and End to
//! the first and the last, and the panel follows the focus. One handler for the first load's
//! stand-in of the tabs and the live tabs the queue's code draws, so both behave alike; the
//! rule itself is `keyboard::tab_for_key`.

use crate::keyboard::tab_for_key;
use wasm_bindgen::JsCast;

/// The tabs' ids, in order (each controls the panel `panel-<name>`).
pub const TABS: [&str; 2] = ["tab-up-next", "tab-suggested"];

/// A key pressed in the tab list: moves the focus to the tab it names and calls `choose` with
/// that tab's index. A key it uses is kept from the page's shortcuts (the stage's arrows seek).
pub fn on_tab_key(ev: &web_sys::KeyboardEvent, choose: impl Fn(usize)) {
    if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
        return;
    }
    let target = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let Some(current) = target.and_then(|t| TABS.iter().position(|id| *id == t.id())) else {
        return;
    };
    let Some(to) = tab_for_key(&ev.key(), current, TABS.len()) else {
        return;
    };
    ev.prevent_default();
    let tab = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(TABS[to]))
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(tab) = tab {
        let _ = tab.focus();
    }
    choose(to);
}
