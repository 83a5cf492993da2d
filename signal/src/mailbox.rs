//! The bounded queue of frames waiting to be written to one client.
//!
//! A `Mutex<VecDeque>` and a `Notify` rather than a tokio mpsc channel: an idle connection's
//! queue is then about a hundred bytes instead of the ~1.6 KiB that a channel allocates up
//! front (a 32-slot block and cache-padded counters), which matters at 10,000 connections.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::hub::Outbound;

pub struct Mailbox {
    state: Mutex<State>,
    ready: Notify,
    capacity: usize,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Outbound>,
    closed: bool,
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The client has `capacity` frames waiting: it is not reading.
    Full,
    /// The mailbox was closed (the client was evicted).
    Closed,
}

impl Mailbox {
    pub fn new(capacity: usize) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            capacity: capacity.max(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame without waiting.
    pub fn try_send(&self, frame: Outbound) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.frames.len() >= self.capacity {
            return Err(Refused::Full);
        }
        state.frames.push_back(frame);
        drop(state);
        // Stores a permit if the reader is not waiting yet, so no wake-up is lost.
        self.ready.notify_one();
        Ok(())
    }

    /// The next frame; `None` once the mailbox is closed and drained. Cancel-safe: frames
    /// live in the queue, never in the future.
    pub async fn recv(&self) -> Option<Outbound> {
        loop {
            {
                // One lock decides both: a frame to hand out, or the end.
                let mut state = self.lock();
                if let Some(frame) = state.frames.pop_front() {
                    return Some(frame);
                }
                if state.closed {
                    return None;
                }
            }
            self.ready.notified().await;
        }
    }

    pub fn try_recv(&self) -> Option<Outbound> {
        self.lock().frames.pop_front()
    }

    /// Refuses further frames; the reader still gets those already queued, then `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bounded_in_order_and_drained_after_close() {
        let mailbox = Mailbox::new(2);
        mailbox.try_send("a".into()).unwrap();
        mailbox.try_send("b".into()).unwrap();
        assert_eq!(mailbox.try_send("c".into()), Err(Refused::Full));
        mailbox.close();
        assert_eq!(mailbox.try_send("d".into()), Err(Refused::Closed));
        assert_eq!(mailbox.recv().await.unwrap().as_str(), "a");
        assert_eq!(mailbox.recv().await.unwrap().as_str(), "b");
        assert!(mailbox.recv().await.is_none());
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken() {
        let mailbox = Mailbox::new(4);
        let reader = tokio::spawn({
            let mailbox = mailbox.clone();
            async move { mailbox.recv().await }
        });
        tokio::task::yield_now().await;
        mailbox.try_send("x".into()).unwrap();
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), reader)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(frame.unwrap().as_str(), "x");
    }
}
