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
