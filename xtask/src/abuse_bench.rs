//! `cargo xtask bench abuse`: the endpoint under attack from one address (the `abuse` mode of
//! signal's relay-bench, which reuses its server start-up and clients). Writes
//! `target/bench/abuse.json`. To measure another build of the endpoint with the same attack
//! (an older commit's, say), name its binary in `INSIEME_SIGNAL_BIN`.

use crate::app_build::cargo;
use crate::command;
use crate::workspace_root;
use anyhow::Result;
use std::process::Command;

pub const OUT: &str = "target/bench/abuse.json";

pub fn run() -> Result<()> {
    command::run(
        Command::new(cargo())
            .args([
                "run",
                "--release",
                "-p",
                "insieme-signal",
                "--bin",
                "relay-bench",
                "--",
                "abuse",
                "--out",
                OUT,
            ])
            .current_dir(workspace_root()),
        "the abuse benchmark",
    )
}
