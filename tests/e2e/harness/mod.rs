//! The harness: a server per test, a browser per person, and artifacts when a test fails.

pub mod actions;
#[allow(dead_code)] // used by the benchmarks, not the tests
pub mod bench_output;
mod browser;
#[allow(dead_code)] // parts are read by the call benchmark only
pub mod call;
pub mod capture;
#[allow(dead_code)] // read by the benchmarks, not the tests
pub mod film_frames;
#[allow(dead_code)] // a Firefox person is chosen by some tests and the benchmarks
mod firefox;
pub mod homes;
#[allow(dead_code)] // read by the benchmarks, not the tests
pub mod host_load;
mod http;
pub mod media;
pub mod network;
#[allow(dead_code)] // read by the e2e benchmark, not the tests
pub mod next_video;
mod party;
pub mod rogue;
mod server;
pub mod slow_device;
#[allow(dead_code)] // a sound output for the player probe, not the tests
pub mod sound_server;
mod throttle;
mod visibility;

#[allow(unused_imports)] // the benchmarks choose browsers by engine
pub use browser::Engine;
pub use browser::{Browser, Place};
pub use http::http_get;
pub use party::Party;
pub use server::{ServerOptions, TestServer};

use anyhow::{Context, Result};
use std::path::PathBuf;

/// How long a page gets to show what a test waits for before the test fails.
pub const UI_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A path given by `cargo xtask test`, or its default relative to the workspace root.
fn path_from_env(var: &str, default: &str) -> Result<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(default));
    path.try_exists()
        .ok()
        .filter(|exists| *exists)
        .with_context(|| {
            format!(
                "{} is missing ({var}); run the suite with `cargo xtask test`",
                path.display()
            )
        })?;
    Ok(path)
}
