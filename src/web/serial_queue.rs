//! Work handled one item at a time, in arrival order, by an asynchronous handler: each item
//! waits until the one before it is done. WebRTC negotiation needs this wherever a step awaits
//! (decrypting, sealing): a candidate handled before its description would be lost.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;

/// A queue drained by at most one task at a time.
pub struct SerialQueue<T> {
    items: RefCell<VecDeque<T>>,
    draining: Cell<bool>,
}

impl<T: 'static> SerialQueue<T> {
    pub fn new() -> Rc<Self> {
        Rc::new(SerialQueue {
            items: RefCell::new(VecDeque::new()),
            draining: Cell::new(false),
        })
    }

    /// Queues `item`; if no task is draining the queue, starts one that hands every queued item
    /// to `handle` in turn and awaits each before the next.
    pub fn push<F, Fut>(self: &Rc<Self>, item: T, handle: F)
    where
        F: Fn(T) -> Fut + 'static,
        Fut: Future<Output = ()>,
    {
        self.items.borrow_mut().push_back(item);
        if self.draining.replace(true) {
            return;
        }
        let queue = Rc::clone(self);
        spawn_local(async move {
            loop {
                let next = queue.items.borrow_mut().pop_front();
                let Some(item) = next else { break };
                handle(item).await;
            }
            queue.draining.set(false);
        });
    }
}
