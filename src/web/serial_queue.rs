//! Work handled one item at a time, in arrival order, by an asynchronous handler: each item
//! waits until the one before it is done. WebRTC negotiation needs this wherever a step awaits
//! (decrypting, sealing): a candidate handled before its description would be lost.
//!
//! One consumer task owns the receiving end of a channel and awaits each job before taking the
//! next, so a push made while earlier items are being handled is queued behind them with its own
//! handler, never dropped or run beside them.

use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::StreamExt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;

/// One pushed item, bound to the handler it was pushed with; run only when its turn comes.
type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>>;

/// A queue of items handled strictly one after the other. Dropping it lets the consumer finish
/// what was already pushed and then end.
pub struct SerialQueue<T> {
    jobs: UnboundedSender<Job>,
    items: PhantomData<fn(T)>,
}

impl<T: 'static> SerialQueue<T> {
    /// Creates the queue and starts its consumer task.
    pub fn new() -> Rc<Self> {
        let (jobs, pending) = unbounded();
        spawn_local(run_in_order(pending));
        Rc::new(SerialQueue {
            jobs,
            items: PhantomData,
        })
    }

    /// Queues `item`; `handle` is called with it once every item pushed before has been handled,
    /// and the item after it waits until the returned future completes.
    pub fn push<F, Fut>(self: &Rc<Self>, item: T, handle: F)
    where
        F: FnOnce(T) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let job: Job = Box::new(move || Box::pin(handle(item)));
        // Fails only once the consumer is gone, which it never is while a sender lives.
        let _ = self.jobs.unbounded_send(job);
    }
}

/// The consumer: one job at a time, until every sender is dropped and the channel is empty.
async fn run_in_order(mut pending: UnboundedReceiver<Job>) {
    while let Some(job) = pending.next().await {
        job().await;
    }
}
