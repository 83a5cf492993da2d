//! Measures the display's refresh interval with a short burst of `requestAnimationFrame`
//! callbacks (one per refresh). Frame callbacks alone cannot tell it: a 30 fps video on a 60 Hz
//! screen presents a new frame every second refresh. A burst, not a loop, because the interval
//! only changes when the window moves to another screen; the adapter runs one per start.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Refresh intervals one burst measures.
const BURST_INTERVALS: u32 = 24;

type Callback = Closure<dyn FnMut(f64)>;

/// A running burst; dropping it cancels the pending callback.
pub struct RefreshProbe {
    inner: Rc<ProbeInner>,
}

struct ProbeInner {
    pending: Cell<Option<i32>>,
    callback: RefCell<Option<Callback>>,
    last_at_ms: Cell<Option<f64>>,
    remaining: Cell<u32>,
    on_interval: Box<dyn Fn(f64)>,
}

impl RefreshProbe {
    /// Calls `on_interval` with each measured interval (ms) until the burst ends.
    pub fn start(on_interval: impl Fn(f64) + 'static) -> RefreshProbe {
        let inner = Rc::new(ProbeInner {
            pending: Cell::new(None),
            callback: RefCell::new(None),
            last_at_ms: Cell::new(None),
            remaining: Cell::new(BURST_INTERVALS),
            on_interval: Box::new(on_interval),
        });
        let weak: Weak<ProbeInner> = Rc::downgrade(&inner);
        let callback = Closure::<dyn FnMut(f64)>::new(move |at_ms: f64| {
            if let Some(inner) = weak.upgrade() {
                inner.on_refresh(at_ms);
            }
        });
        *inner.callback.borrow_mut() = Some(callback);
        inner.request();
        RefreshProbe { inner }
    }
}

impl Drop for RefreshProbe {
    fn drop(&mut self) {
        if let (Some(id), Some(window)) = (self.inner.pending.take(), web_sys::window()) {
            let _ = window.cancel_animation_frame(id);
        }
        self.inner.callback.borrow_mut().take();
    }
}

impl ProbeInner {
    fn request(&self) {
        let callback = self.callback.borrow();
        let (Some(callback), Some(window)) = (callback.as_ref(), web_sys::window()) else {
            return;
        };
        let id = window
            .request_animation_frame(callback.as_ref().unchecked_ref())
            .ok();
        self.pending.set(id);
    }

    fn on_refresh(&self, at_ms: f64) {
        self.pending.set(None);
        if let Some(last) = self.last_at_ms.replace(Some(at_ms)) {
            (self.on_interval)(at_ms - last);
            self.remaining.set(self.remaining.get().saturating_sub(1));
        }
        if self.remaining.get() > 0 {
            self.request();
        }
    }
}
