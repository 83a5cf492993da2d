//! End-to-end tests: real headless browsers (Chromium, and Firefox in a few), one per person, against the release build
//! served by a fresh `insieme-signal` per test. Run them with `cargo xtask test`, which builds
//! what they serve and runs them inside a private network namespace (see xtask).
#![cfg(not(target_arch = "wasm32"))]

mod background;
mod call;
mod connectivity;
mod content_security;
mod firefox;
mod harness;
mod host;
mod queue;
mod reactions;
mod ready;
mod room_link;
mod server;
mod starts;
mod suggested;
mod synced_playback;
mod watch_party;
