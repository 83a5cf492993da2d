//! `cargo xtask test`: every suite, with the tools each needs, and the app built once.

use crate::app_build::{build_dist, build_signal, cargo};
use crate::command::run;
use crate::tools::{ensure_build_tools, ensure_test_tools, BuildTools};
use crate::{network_namespace, workspace_root};
use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run_all() -> Result<()> {
    let tools = ensure_build_tools()?;
    ensure_test_tools(&tools)?;
    // The end-to-end suite serves exactly what ships: release dist/ and the release endpoint.
    let dist = build_dist(&tools)?;
    let signal = build_signal()?;

    let suites: [(&str, Box<dyn Fn() -> Result<()>>); 3] = [
        ("native unit and integration tests", Box::new(native_tests)),
        (
            "in-browser tests (wasm-bindgen-test, headless Chromium)",
            Box::new(|| browser_unit_tests(&tools)),
        ),
        (
            "end-to-end tests (real browsers)",
            Box::new(|| end_to_end_tests(&tools, &dist, &signal)),
        ),
    ];
    let mut failed = Vec::new();
    for (name, suite) in &suites {
        println!("\nxtask: ==> {name}");
        let started = Instant::now();
        match suite() {
            Ok(()) => println!("xtask: <== {name}: passed in {:.0?}", started.elapsed()),
            Err(error) => {
                eprintln!("xtask: <== {name}: FAILED: {error:#}");
                failed.push(*name);
            }
        }
    }
    if !failed.is_empty() {
        bail!("{} suite(s) failed: {}", failed.len(), failed.join("; "));
    }
    println!("\nxtask: every suite passed");
    Ok(())
}

pub fn cargo_in_workspace(tools: &BuildTools) -> Command {
    let mut command = tools.command(cargo());
    command.current_dir(workspace_root());
    command
}

fn native_tests() -> Result<()> {
    run(
        Command::new(cargo())
            .args(["test", "--workspace"])
            .current_dir(workspace_root()),
        "native tests",
    )
}

/// wasm-bindgen-test in headless Chromium; `webdriver.json` (root) adds the flags root needs.
///
/// Release, because the wasm is built without reference types (see .cargo/config.toml) and only
/// LTO recompiles std to match; it also reuses the dependencies `trunk build --release` built.
fn browser_unit_tests(tools: &BuildTools) -> Result<()> {
    let mut command = cargo_in_workspace(tools);
    command
        .args([
            "test",
            "--release",
            "-p",
            "insieme",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "web",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run(&mut command, "in-browser tests")
}

/// Builds the end-to-end tests with the network available, then runs them offline inside the
/// private network namespace.
fn end_to_end_tests(tools: &BuildTools, dist: &Path, signal: &Path) -> Result<()> {
    let test_args = [
        "test",
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--test",
        "e2e",
    ];
    run(
        cargo_in_workspace(tools).args(test_args).arg("--no-run"),
        "building the end-to-end tests",
    )?;
    let mut inner = cargo_in_workspace(tools);
    inner.args(test_args).arg("--offline");
    run(
        &mut in_browser_world(inner, dist, signal),
        "end-to-end tests",
    )
}

/// Runs `inner` (a cargo command of the end-to-end harness) where its browsers can work: told
/// what to serve, inside the private network namespace.
pub fn in_browser_world(mut inner: Command, dist: &Path, signal: &Path) -> Command {
    // Artifacts describe the last run only; stale ones would mislead.
    let _ = std::fs::remove_dir_all(workspace_root().join("target/e2e-artifacts"));
    inner
        .env("INSIEME_DIST", dist)
        .env("INSIEME_SIGNAL_BIN", signal)
        .env(
            "INSIEME_E2E_ARTIFACTS",
            workspace_root().join("target/e2e-artifacts"),
        );
    network_namespace::wrap(inner)
}
