//! Finding the page's own elements by id: the one way the glue reaches a place `ui` drew.

use wasm_bindgen::JsCast;

/// The element with `id` in the page, as a `T` (`HtmlElement`, `HtmlInputElement`...): `None`
/// when there is no document, no such element, or it is not a `T`.
pub fn by_id<T: JsCast>(id: &str) -> Option<T> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into()
        .ok()
}

/// The place `id` the page drew for a part fetched on demand to draw into. A missing one is a
/// fault of the page's layout, not of the network: logged as an error (the part then shows
/// nothing there), never skipped in silence.
pub fn slot(id: &str) -> Option<web_sys::HtmlElement> {
    let slot = by_id(id);
    if slot.is_none() {
        web_sys::console::error_1(&format!("no #{id} in the page to draw into").into());
    }
    slot
}
