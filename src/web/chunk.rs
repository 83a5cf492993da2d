//! What the parts of the app fetched on demand (the call, the queue, the ready check) have in
//! common: each sits behind a small handle in the first download, and `xtask` splits its code
//! off at one entry point (see xtask/src/lazy_chunks.rs).

use std::cell::RefCell;

/// A part's code could not be fetched (offline, or the server lost the file); the next use
/// tries again.
#[derive(Debug)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}

/// Where a part fetched on demand stands, as its handle keeps it: what waits for its code
/// (`W`: what arrived and what was asked meanwhile, replayed once it runs), then the running
/// part (`E`).
pub struct OnDemand<W, E> {
    stage: RefCell<Stage<W, E>>,
}

enum Stage<W, E> {
    /// Not needed yet (or its code could not be fetched: the next use retries).
    Idle(W),
    /// Its code is on its way.
    Loading(W),
    Live(E),
}

impl<W: Default, E: Clone> Default for OnDemand<W, E> {
    fn default() -> Self {
        OnDemand {
            stage: RefCell::new(Stage::Idle(W::default())),
        }
    }
}

impl<W: Default, E: Clone> OnDemand<W, E> {
    /// The running part, once its code has arrived.
    pub fn live(&self) -> Option<E> {
        match &*self.stage.borrow() {
            Stage::Live(e) => Some(e.clone()),
            _ => None,
        }
    }

    /// Lets `keep` add to what waits, unless the part runs; returns whether to start fetching
    /// its code (nobody has yet).
    pub fn wait(&self, keep: impl FnOnce(&mut W)) -> bool {
        let mut stage = self.stage.borrow_mut();
        let (Stage::Idle(waiting) | Stage::Loading(waiting)) = &mut *stage else {
            return false;
        };
        keep(waiting);
        matches!(*stage, Stage::Idle(_))
    }

    /// Reads what waits (`None` once the part runs).
    pub fn waiting<R>(&self, read: impl FnOnce(Option<&W>) -> R) -> R {
        match &*self.stage.borrow() {
            Stage::Idle(w) | Stage::Loading(w) => read(Some(w)),
            Stage::Live(_) => read(None),
        }
    }

    /// Fetches the part with `fetch` (once); returns what waited for it, or `None` if it
    /// already runs, is on its way, or could not be fetched (what waited keeps waiting).
    pub async fn load<F>(&self, fetch: impl FnOnce() -> F) -> Option<W>
    where
        F: std::future::Future<Output = Result<E, ChunkUnavailable>>,
    {
        {
            let mut stage = self.stage.borrow_mut();
            let Stage::Idle(waiting) = &mut *stage else {
                return None;
            };
            let waiting = std::mem::take(waiting);
            *stage = Stage::Loading(waiting);
        }
        let loaded = fetch().await;
        let mut stage = self.stage.borrow_mut();
        let Stage::Loading(waiting) = std::mem::replace(&mut *stage, Stage::Idle(W::default()))
        else {
            return None;
        };
        match loaded {
            Ok(e) => {
                *stage = Stage::Live(e);
                Some(waiting)
            }
            Err(ChunkUnavailable) => {
                *stage = Stage::Idle(waiting);
                None
            }
        }
    }
}
