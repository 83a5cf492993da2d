//! An owner for event listeners: it holds the closure and unregisters it when dropped, so a
//! component's or a connection's cleanup is "drop the owners" and nothing outlives it. (Timers
//! are gloo-timers', which behave the same way.) This is the one way the glue and the
//! components listen to events outside the `view!` (where `on:` is used); `use_window_listener`
//! ties one to a component's lifetime.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// An event listener that removes itself when dropped.
pub struct Listener {
    target: web_sys::EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: &web_sys::EventTarget,
        kind: &'static str,
        handler: impl FnMut(web_sys::Event) + 'static,
    ) -> Result<Listener, JsValue> {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())?;
        Ok(Listener {
            target: target.clone(),
            kind,
            closure,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
    }
}

/// Listens to `kind` on the page's window for as long as the calling component lives. A window
/// that refuses the listener is reported on the console: the page works on without it.
pub fn use_window_listener(kind: &'static str, handler: impl FnMut(web_sys::Event) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    match Listener::new(&window, kind, handler) {
        Ok(listener) => {
            // Browser values stay on the page's one thread; the wrapper only satisfies
            // `on_cleanup`'s bounds.
            let listener = send_wrapper::SendWrapper::new(listener);
            leptos::prelude::on_cleanup(move || drop(listener));
        }
        Err(error) => web_sys::console::warn_1(
            &super::describe_js_error(&format!("cannot listen to {kind}"), error).into(),
        ),
    }
}
