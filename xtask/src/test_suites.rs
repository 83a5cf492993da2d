//! `cargo xtask test`: every suite, with the tools each needs, and the app built once.

use crate::app_build::cargo;
use crate::browser_world::BrowserWorld;
use crate::command::run;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;
use std::time::Instant;

pub fn run_all() -> Result<()> {
    // The browser suites serve exactly what ships: release dist/ and the release endpoint.
    let world = BrowserWorld::prepare()?;

    let suites: [(&str, Box<dyn Fn() -> Result<()>>); 3] = [
        ("native unit and integration tests", Box::new(native_tests)),
        (
            "in-browser tests (wasm-bindgen-test, headless Chromium)",
            Box::new(|| browser_unit_tests(&world)),
        ),
        (
            "end-to-end tests (real browsers)",
            Box::new(|| end_to_end_tests(&world)),
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
fn browser_unit_tests(world: &BrowserWorld) -> Result<()> {
    let mut command = world.cargo();
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

/// The end-to-end tests, built with the network available and run offline in the namespace.
fn end_to_end_tests(world: &BrowserWorld) -> Result<()> {
    let test = [
        "test",
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--test",
        "e2e",
    ];
    world.build_then_run(
        &[&test[..], &["--no-run"]].concat(),
        &test,
        "the end-to-end tests",
    )
}
