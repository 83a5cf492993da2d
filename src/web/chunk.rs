//! What the parts of the app fetched on demand (the call, the host, the programme) have in
//! common: each sits behind a small handle in the first download, and `xtask` splits its code
//! off at one entry point (see xtask/src/lazy_chunks.rs).

/// A part's code could not be fetched (offline, or the server lost the file); the next use
/// tries again.
#[derive(Debug)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}
