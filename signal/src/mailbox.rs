//! The bounded queue of frames waiting to be written to one client, and the byte budgets every
//! queue draws on: its own, and one for the whole process.
//!
//! Bounded in bytes, not only in frames: frames are up to `--max-frame-bytes` (32 KiB), so a
//! queue bounded only by its frame count (256) could hold 8 MiB for a client that stopped
//! reading, and a few dozen such clients hundreds of MiB. The process-wide budget is the last
//! line: however many clients stop reading, the queues together never hold more than it.
//!
//! Two kinds of frames go in. A `data` frame that does not fit is refused as [`Refused::Busy`]:
//! its sender is told and the frame dropped, and the recipient keeps its place (see
//! `hub::Membership::relay` for why the sender, not the recipient, pays). A notice (`joined`,
//! `left`) is never refused for its bytes (it is tiny, and dropping it would leave the client
//! with a wrong list of peers); only a client that lets [`NOTICE_HEADROOM`] notices pile up
//! beyond a full queue of data is [`Refused::Full`], i.e. not reading at all, and is evicted.
//!
//! A `Mutex<VecDeque>` and a `Notify` rather than a tokio mpsc channel: an idle connection's
//! queue is then about a hundred bytes instead of the ~1.6 KiB that a channel allocates up
//! front (a 32-slot block and cache-padded counters), which matters at 10,000 connections.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::hub::Outbound;
use crate::metrics::Metrics;

/// Notices a client may have waiting beyond a full queue of data frames before it counts as
/// not reading: one `joined` and one `left` for each of 32 peers. Data frames can therefore
/// never crowd out the notices, and a flood of data can never get a recipient evicted.
pub const NOTICE_HEADROOM: usize = 64;

/// The limits every mailbox shares, and the bytes queued in all of them together.
pub struct Budget {
    /// Frames (data) one client may have waiting.
    max_frames: usize,
    /// Bytes one client may have waiting. A frame always fits into an empty queue, whatever
    /// its size, so a budget below the frame limit still lets everything through, one by one.
    max_bytes: usize,
    /// Bytes all clients together may have waiting.
    max_total_bytes: u64,
    /// Holds the process-wide count (`queued_bytes`), which is also a gauge in `/metrics`.
    metrics: Arc<Metrics>,
}

impl Budget {
    pub fn new(
        max_frames: usize,
        max_bytes: usize,
        max_total_bytes: u64,
        metrics: Arc<Metrics>,
    ) -> Arc<Budget> {
        Arc::new(Budget {
            max_frames: max_frames.max(1),
            max_bytes,
            max_total_bytes,
            metrics,
        })
    }

    /// Takes `bytes` from the process-wide budget, unless that would exceed it (`force`: take
    /// them regardless, for notices).
    fn take(&self, bytes: usize, force: bool) -> bool {
        let bytes = bytes as u64;
        let before = self.metrics.queued_bytes.fetch_add(bytes, Relaxed);
        if !force && before + bytes > self.max_total_bytes {
            self.metrics.queued_bytes.fetch_sub(bytes, Relaxed);
            return false;
        }
        true
    }

    fn give_back(&self, bytes: usize) {
        self.metrics.queued_bytes.fetch_sub(bytes as u64, Relaxed);
    }

    /// Bytes queued in all mailboxes of this budget.
    pub fn queued_total(&self) -> u64 {
        self.metrics.queued_bytes.load(Relaxed)
    }
}

pub struct Mailbox {
    state: Mutex<State>,
    ready: Notify,
    budget: Arc<Budget>,
}

#[derive(Default)]
struct State {
    frames: VecDeque<Outbound>,
    /// Bytes of `frames`.
    bytes: usize,
    closed: bool,
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A data frame that does not fit the client's budget (or the process's) now; the client
    /// may well be reading, just not as fast as it is sent to.
    Busy,
    /// A notice beyond [`NOTICE_HEADROOM`] on top of a full queue: the client is not reading.
    Full,
    /// The mailbox was closed (the client was evicted, or is leaving).
    Closed,
}

impl Mailbox {
    pub fn new(budget: Arc<Budget>) -> Arc<Mailbox> {
        Arc::new(Mailbox {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            budget,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a data frame without waiting, if it fits within both budgets.
    pub fn try_send(&self, frame: Outbound) -> Result<(), Refused> {
        let state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        let len = frame.len();
        let fits = state.frames.is_empty()
            || (state.frames.len() < self.budget.max_frames
                && state.bytes + len <= self.budget.max_bytes);
        if !fits || !self.budget.take(len, false) {
            return Err(Refused::Busy);
        }
        self.push(state, frame);
        Ok(())
    }

    /// Queues a notice (`joined`, `left`): bounded only by the frame count plus
    /// [`NOTICE_HEADROOM`], never by bytes.
    pub fn try_notify(&self, frame: Outbound) -> Result<(), Refused> {
        let state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.frames.len() >= self.budget.max_frames + NOTICE_HEADROOM {
            return Err(Refused::Full);
        }
        self.budget.take(frame.len(), true);
        self.push(state, frame);
        Ok(())
    }

    fn push(&self, mut state: std::sync::MutexGuard<'_, State>, frame: Outbound) {
        state.bytes += frame.len();
        state.frames.push_back(frame);
        drop(state);
        // Stores a permit if the reader is not waiting yet, so no wake-up is lost.
        self.ready.notify_one();
    }

    fn pop(&self, state: &mut State) -> Option<Outbound> {
        let frame = state.frames.pop_front()?;
        state.bytes -= frame.len();
        self.budget.give_back(frame.len());
        Some(frame)
    }

    /// The next frame; `None` once the mailbox is closed. Cancel-safe: frames live in the
    /// queue, never in the future.
    pub async fn recv(&self) -> Option<Outbound> {
        loop {
            {
                // One lock decides both: a frame to hand out, or the end.
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                if let Some(frame) = self.pop(&mut state) {
                    return Some(frame);
                }
            }
            self.ready.notified().await;
        }
    }

    pub fn try_recv(&self) -> Option<Outbound> {
        let mut state = self.lock();
        self.pop(&mut state)
    }

    /// Refuses further frames and drops those waiting (their bytes go back to the budget at
    /// once): only an evicted client's mailbox is closed, and it will not read them.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.budget.give_back(state.bytes);
        state.bytes = 0;
        state.frames = VecDeque::new();
        drop(state);
        self.ready.notify_one();
    }

    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Bytes waiting (tests and the fuzz harness check the accounting with it).
    pub fn queued_bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.give_back(state.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(frames: usize, bytes: usize, total: u64) -> Arc<Budget> {
        Budget::new(frames, bytes, total, Arc::new(Metrics::default()))
    }

    #[tokio::test]
    async fn bounded_in_frames_in_order_and_emptied_by_close() {
        let mailbox = Mailbox::new(budget(2, 1 << 20, 1 << 30));
        mailbox.try_send("a".into()).unwrap();
        mailbox.try_send("b".into()).unwrap();
        assert_eq!(mailbox.try_send("c".into()), Err(Refused::Busy));
        assert_eq!(mailbox.recv().await.unwrap().as_str(), "a");
        mailbox.close();
        assert_eq!(mailbox.try_send("d".into()), Err(Refused::Closed));
        assert_eq!(mailbox.try_notify("e".into()), Err(Refused::Closed));
        assert!(
            mailbox.recv().await.is_none(),
            "an evicted client gets nothing more"
        );
        assert_eq!(mailbox.queued_bytes(), 0);
    }

    #[test]
    fn bounded_in_bytes_but_an_empty_queue_takes_any_frame() {
        let budget = budget(100, 10, 1 << 30);
        let mailbox = Mailbox::new(budget.clone());
        let big: Outbound = "x".repeat(25).into();
        mailbox.try_send(big.clone()).unwrap();
        assert_eq!(mailbox.try_send("y".into()), Err(Refused::Busy));
        assert_eq!(mailbox.queued_bytes(), 25);
        assert_eq!(budget.queued_total(), 25);
        mailbox.try_recv().unwrap();
        mailbox.try_send("12345".into()).unwrap();
        mailbox.try_send("12345".into()).unwrap();
        assert_eq!(mailbox.try_send("1".into()), Err(Refused::Busy));
        assert_eq!(budget.queued_total(), 10);
    }

    #[test]
    fn the_process_budget_is_shared_and_released() {
        let budget = budget(100, 100, 15);
        let (a, b) = (Mailbox::new(budget.clone()), Mailbox::new(budget.clone()));
        a.try_send("x".repeat(10).into()).unwrap();
        assert_eq!(
            b.try_send("x".repeat(10).into()),
            Err(Refused::Busy),
            "an empty queue still may not exceed the process budget"
        );
        b.try_send("x".repeat(5).into()).unwrap();
        assert_eq!(budget.queued_total(), 15);
        a.close();
        assert_eq!(budget.queued_total(), 5, "closing gives the bytes back");
        drop(b);
        assert_eq!(budget.queued_total(), 0, "dropping gives the bytes back");
    }

    #[test]
    fn notices_pass_a_full_queue_up_to_the_headroom() {
        let budget = budget(2, 4, 4);
        let mailbox = Mailbox::new(budget.clone());
        mailbox.try_send("data".into()).unwrap();
        assert_eq!(mailbox.try_send("data".into()), Err(Refused::Busy));
        for _ in 0..NOTICE_HEADROOM + 1 {
            mailbox.try_notify("left".into()).unwrap();
        }
        assert_eq!(mailbox.try_notify("left".into()), Err(Refused::Full));
        assert_eq!(budget.queued_total(), 4 * (NOTICE_HEADROOM as u64 + 2));
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken() {
        let mailbox = Mailbox::new(budget(4, 1024, 1 << 20));
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
