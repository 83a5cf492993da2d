//! `cargo xtask bench <name>`: benchmarks, each writing `target/bench/<name>.json`.
//! Targets live here, not in timed tests, because these machines are shared and noisy.

use crate::app_build::cargo;
use crate::browser_world::BrowserWorld;
use crate::command;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;

pub const NAMES: &[&str] = &["sync", "relay", "e2e", "size"];

pub fn run(name: &str) -> Result<()> {
    let (package, binary) = match name {
        "sync" => ("insieme-sim", "sync-bench"),
        "relay" => ("insieme-signal", "relay-bench"),
        "size" => return crate::size::report(),
        "e2e" => return end_to_end(),
        other => bail!(
            "unknown benchmark `{other}`; choose one of: {}",
            NAMES.join(" | ")
        ),
    };
    let out = format!("target/bench/{name}.json");
    command::run(
        Command::new(cargo())
            .args([
                "run",
                "--release",
                "-p",
                package,
                "--bin",
                binary,
                "--",
                "--out",
                &out,
            ])
            .current_dir(workspace_root()),
        &format!("the {name} benchmark"),
    )
}

/// Three real browsers in sync (see examples/e2e_bench.rs), in the end-to-end tests' world.
fn end_to_end() -> Result<()> {
    let example = [
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--example",
        "e2e-bench",
    ];
    let out = ["--", "--out", "target/bench/e2e.json"];
    BrowserWorld::prepare()?.build_then_run(
        &[&["build"][..], &example].concat(),
        &[&["run"][..], &example, &out].concat(),
        "the e2e benchmark",
    )
}
