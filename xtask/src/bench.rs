//! `cargo xtask bench <name>`: benchmarks, each writing `target/bench/<name>.json`.
//! Targets live here, not in timed tests, because these machines are shared and noisy.

use crate::app_build::cargo;
use crate::browser_world::BrowserWorld;
use crate::command;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;

pub const NAMES: &[&str] = &[
    "sync", "relay", "abuse", "e2e", "paths", "call", "player", "size",
];

/// The benchmarks in real browsers that take flags, and the example each runs:
/// - `e2e` (examples/e2e_bench.rs): `--clip NAME`, `--browsers A,B,C`, `--matrix`, which also
///   choose where it writes: `target/bench/e2e.json` for the default run,
///   `e2e-<clip>[-<browsers>].json` for another, `e2e-matrix.json` for the matrix; `--slow
///   [--runs N]` measures starts and slow devices instead, into `e2e-slow.json`;
/// - `player` (examples/player_probe.rs), the player probe: `--browser firefox|chromium`; how
///   one browser's `<video>` presents frames, follows rates and starts, written to
///   `target/bench/player-<browser>.json`; `--sound` gives Firefox a sound output.
const WITH_FLAGS: [(&str, &str); 2] = [("e2e", "e2e-bench"), ("player", "player-probe")];

/// Runs benchmark `name`; only those in [`WITH_FLAGS`] take `flags`.
pub fn run(name: &str, flags: &[String]) -> Result<()> {
    if let Some((_, example)) = WITH_FLAGS.iter().find(|(n, _)| *n == name) {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        if name == "player" && flags.contains(&"--sound") {
            crate::tools::ensure_sound_server()?;
        }
        return in_browsers(example, None, &flags);
    }
    if !flags.is_empty() {
        bail!("`cargo xtask bench {name}` takes no flags");
    }
    // A native benchmark: its package, binary, and the mode it is asked for (if any).
    let (package, binary, mode): (_, _, &[&str]) = match name {
        "sync" => ("insieme-sim", "sync-bench", &[]),
        "relay" => ("insieme-signal", "relay-bench", &[]),
        // The endpoint under attack from one address: relay-bench's `abuse` mode reuses its
        // server start-up and clients. `INSIEME_SIGNAL_BIN` measures another build of it.
        "abuse" => ("insieme-signal", "relay-bench", &["abuse"]),
        "size" => return crate::size::report(),
        "paths" => return in_browsers("paths-bench", Some("target/bench/paths.json"), &[]),
        "call" => return in_browsers("call-bench", Some("target/bench/call.json"), &[]),
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

/// A benchmark in real browsers (examples/e2e_bench.rs: three viewers in sync;
/// examples/paths_bench.rs: two friends over each network shape; examples/call_bench.rs: three
/// viewers in a video call), in the end-to-end tests' world.
/// `out` is passed as `--out`; without it the example picks its report's path from its flags.
fn in_browsers(example_name: &str, out: Option<&str>, extra: &[&str]) -> Result<()> {
    let example = [
        "-p",
        "insieme",
        "--features",
        "e2e",
        "--example",
        example_name,
    ];
    let out: Vec<&str> = match out {
        Some(out) => vec!["--", "--out", out],
        None => vec!["--"],
    };
    BrowserWorld::prepare_verbose()?
        .build_then_run(
            &[&["build"][..], &example].concat(),
            &[&["run"][..], &example, &out, extra].concat(),
            &format!("the {example_name} benchmark"),
        )
        .0
}
