//! `cargo xtask test`: every suite, with the tools each needs, and the app built once.

use crate::app_build::{build_dist, cargo};
use crate::browser_world::BrowserWorld;
use crate::command::run;
use crate::second_try::second_try;
use crate::test_failures::{failures, tests_run};
use crate::tools::ensure_build_tools;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;
use std::time::Instant;

/// The suites by the names `cargo xtask test SUITE` takes.
const SUITES: [&str; 5] = ["size", "native", "fuzz", "web", "e2e"];

/// A suite of the full run: its name, and how to run it.
type Suite<'a> = (&'static str, Box<dyn Fn() -> Result<()> + 'a>);

pub fn run_all() -> Result<()> {
    // The browser suites serve exactly what ships: release dist/ and the release endpoint.
    let world = BrowserWorld::prepare()?;

    let suites: [Suite; 5] = [
        (
            "first-load size budget (gzip -9 of the dist/ the browser suites serve)",
            Box::new(|| crate::size::check_budget(world.dist())),
        ),
        (
            "native unit and integration tests",
            Box::new(|| native_tests(None)),
        ),
        (
            "fuzzing, time-boxed (every cargo-fuzz target of fuzz/ and signal/fuzz/)",
            Box::new(|| crate::fuzz::run(None)),
        ),
        (
            "in-browser tests (wasm-bindgen-test, headless Chromium)",
            Box::new(|| browser_unit_tests(&world, None)),
        ),
        (
            "end-to-end tests (real browsers)",
            Box::new(|| end_to_end_tests(&world, None)),
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

/// One suite, and within it only the tests whose names contain `filter`: for working on one
/// thing without waiting for everything.
pub fn run_one(suite: &str, filter: Option<&str>) -> Result<()> {
    match suite {
        "size" => crate::size::check_budget(&build_dist(&ensure_build_tools()?)?),
        "native" => native_tests(filter),
        "fuzz" => crate::fuzz::run(filter),
        "web" => browser_unit_tests(&BrowserWorld::prepare()?, filter),
        "e2e" => end_to_end_tests(&BrowserWorld::prepare()?, filter),
        other => bail!(
            "unknown suite `{other}`; choose one of: {}",
            SUITES.join(" | ")
        ),
    }
}

fn native_tests(filter: Option<&str>) -> Result<()> {
    let mut command = Command::new(cargo());
    command
        .args(["test", "--workspace"])
        .args(filter)
        .current_dir(workspace_root());
    run(&mut command, "native tests")
}

/// wasm-bindgen-test in headless Chromium; `webdriver.json` (root) adds the flags root needs.
///
/// Release, because the wasm is built without reference types (see .cargo/config.toml) and only
/// LTO recompiles std to match; it also reuses the dependencies `trunk build --release` built.
fn browser_unit_tests(world: &BrowserWorld, filter: Option<&str>) -> Result<()> {
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
        .args(filter)
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    run(&mut command, "in-browser tests")
}

/// The end-to-end tests, built with the network available and run offline in the namespace.
fn end_to_end_tests(world: &BrowserWorld, filter: Option<&str>) -> Result<()> {
    let test = [
        "test",
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--test",
        "e2e",
    ];
    // Tests too heavy for this kind of host are ignored; a larger host runs them too.
    let ignored: &[&str] = if std::env::var_os("INSIEME_E2E_INCLUDE_IGNORED").is_some() {
        &["--include-ignored"]
    } else {
        &[]
    };
    let run_args: Vec<&str> = [&test[..], filter.as_slice(), &["--"], ignored].concat();
    let (first_run, output) = world.build_then_run(
        &[&test[..], &["--no-run"]].concat(),
        &run_args,
        "the end-to-end tests",
    );
    if first_run.is_ok() {
        return first_run;
    }
    let verdict = second_try(failures(&output), |name| {
        let alone = [&test[..], &["--", "--exact", name], ignored].concat();
        let (outcome, output) = world.run_offline(&alone, &format!("{name}, alone"));
        // A name libtest did not find runs nothing, and nothing passes: that is no second try.
        let outcome = outcome.and_then(|()| match tests_run(&output) {
            Some(1) => Ok(()),
            ran => bail!("the second try of {name} ran {ran:?} tests, not 1"),
        });
        (outcome, failures(&output))
    });
    crate::second_try::report(verdict, first_run)
}
