//! `cargo xtask bench <name>`: benchmarks, each writing `target/bench/<name>.json`.
//! Targets live here, not in timed tests, because these machines are shared and noisy.

use crate::app_build::cargo;
use crate::command;
use crate::workspace_root;
use anyhow::{bail, Result};
use std::process::Command;

pub const NAMES: &[&str] = &["sync", "relay", "size"];

pub fn run(name: &str) -> Result<()> {
    let (package, binary) = match name {
        "sync" => ("insieme-sim", "sync-bench"),
        "relay" => ("insieme-signal", "relay-bench"),
        "size" => return crate::size::report(),
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
