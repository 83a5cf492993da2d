//! The element a key was pressed on, as `crate::keyboard`'s rules see it: the one reading of
//! the focus behind every shortcut's "is the person typing?".

use crate::keyboard::Focused;
use wasm_bindgen::JsCast;

/// What `event`'s target is, as far as keys go; `None` when it is not an element (a key
/// pressed with nothing focused reaches the window from the body, which is an element).
pub fn focused(event: &web_sys::Event) -> Option<Focused> {
    let element = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    let input_type = element
        .dyn_ref::<web_sys::HtmlInputElement>()
        .map(|input| input.type_())
        .unwrap_or_default();
    let editable = element
        .dyn_ref::<web_sys::HtmlElement>()
        .is_some_and(|e| e.is_content_editable());
    Some(Focused {
        tag: element.tag_name(),
        input_type,
        editable,
        role: element.get_attribute("role").unwrap_or_default(),
    })
}
