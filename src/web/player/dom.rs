//! Small owners for browser callbacks: each holds its closure and unregisters it when dropped, so
//! the adapter's cleanup is "drop the owner" and nothing outlives the component.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Now on the `performance.now()` clock (ms since the page's time origin): the local monotonic
/// clock every time this adapter reports is measured on.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

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

/// A `setTimeout` that is cleared when dropped (dropping it from inside its own callback is safe:
/// wasm-bindgen defers freeing a closure that is running).
pub struct Timeout {
    id: i32,
    _closure: Closure<dyn FnMut()>,
}

impl Timeout {
    pub fn new(delay_ms: f64, handler: impl FnOnce() + 'static) -> Result<Timeout, JsValue> {
        let mut handler = Some(handler);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(handler) = handler.take() {
                handler();
            }
        });
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let id = window.set_timeout_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            delay_ms.max(0.0).round() as i32,
        )?;
        Ok(Timeout {
            id,
            _closure: closure,
        })
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_timeout_with_handle(self.id);
        }
    }
}

/// A `setInterval` that is cleared when dropped.
pub struct Interval {
    id: i32,
    _closure: Closure<dyn FnMut()>,
}

impl Interval {
    pub fn new(period_ms: f64, handler: impl FnMut() + 'static) -> Result<Interval, JsValue> {
        let closure = Closure::<dyn FnMut()>::new(handler);
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        let id = window.set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            period_ms.max(1.0).round() as i32,
        )?;
        Ok(Interval {
            id,
            _closure: closure,
        })
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.id);
        }
    }
}
