//! `cargo xtask bench <name>`: benchmarks, each writing `target/bench/<name>.json`.
//! Targets live here, not in timed tests, because these machines are shared and noisy.

use crate::app_build::cargo;
use crate::browser_world::BrowserWorld;
use crate::command;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;

pub const NAMES: &[&str] = &["sync", "relay", "abuse", "e2e", "paths", "call", "size"];

pub fn run(name: &str) -> Result<()> {
    // A native benchmark: its package, binary, and the mode it is asked for (if any).
    let (package, binary, mode): (_, _, &[&str]) = match name {
        "sync" => ("insieme-sim", "sync-bench", &[]),
        "relay" => ("insieme-signal", "relay-bench", &[]),
        // The endpoint under attack from one address: relay-bench's `abuse` mode reuses its
        // server start-up and clients. `INSIEME_SIGNAL_BIN` measures another build of it.
        "abuse" => ("insieme-signal", "relay-bench", &["abuse"]),
        "size" => return crate::size::report(),
        "e2e" => return run_e2e(None),
        "paths" => return in_browsers("paths-bench", "target/bench/paths.json", &[]),
        "call" => return in_browsers("call-bench", "target/bench/call.json", &[]),
        other => bail!(
            "unknown benchmark `{other}`; choose one of: {}",
            NAMES.join(" | ")
        ),
    };
    let out = format!("target/bench/{name}.json");
    command::run(
        Command::new(cargo())
            .args(["run", "--release", "-p", package, "--bin", binary, "--"])
            .args(mode)
            .args(["--out", &out])
            .current_dir(workspace_root()),
        &format!("the {name} benchmark"),
    )
}

/// The e2e bench, on `clip` (examples/e2e_bench.rs names them) or its default one; the default
/// writes `target/bench/e2e.json`, another clip `target/bench/e2e-<clip>.json`.
pub fn run_e2e(clip: Option<&str>) -> Result<()> {
    match clip {
        None | Some("webm-60") => in_browsers("e2e-bench", "target/bench/e2e.json", &[]),
        Some(clip) => in_browsers(
            "e2e-bench",
            &format!("target/bench/e2e-{clip}.json"),
            &["--clip", clip],
        ),
    }
}

/// A benchmark in real browsers (examples/e2e_bench.rs: three viewers in sync;
/// examples/paths_bench.rs: two friends over each network shape; examples/call_bench.rs: three
/// viewers in a video call), in the end-to-end tests' world.
fn in_browsers(example_name: &str, out: &str, extra: &[&str]) -> Result<()> {
    let example = [
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--example",
        example_name,
    ];
    let out = ["--", "--out", out];
    BrowserWorld::prepare_verbose()?.build_then_run(
        &[&["build"][..], &example].concat(),
        &[&["run"][..], &example, &out, extra].concat(),
        &format!("the {example_name} benchmark"),
    )
}
