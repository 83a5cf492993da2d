//! Release builds of the two things we ship: the browser app (`dist/`) and the endpoint binary.

use crate::command::run;
use crate::lazy_chunks::split_into_dist;
use crate::tools::BuildTools;
use crate::workspace_root;
use anyhow::Result;
use std::path::PathBuf;

/// `trunk build --release` into `dist/`, then the wasm split into what the first load needs
/// and what is fetched later (`lazy_chunks`); Trunk.toml keeps Trunk offline and on our tools.
pub fn build_dist(tools: &BuildTools) -> Result<PathBuf> {
    let root = workspace_root();
    let dist = root.join("dist");
    println!("xtask: building the app (trunk build --release)");
    run(
        tools
            .command("trunk")
            .args(["build", "--release", "--features", "lazy-chunks"])
            .current_dir(&root),
        "trunk build",
    )?;
    split_into_dist(tools, &dist)?;
    Ok(dist)
}

/// The release app with its verbose console diagnostics kept (the `verbose-log` feature), in
/// `target/dist-verbose/`: for the benchmarks, whose saved consoles are read afterwards.
pub fn build_verbose_dist(tools: &BuildTools) -> Result<PathBuf> {
    let root = workspace_root();
    let dist = root.join("target/dist-verbose");
    println!("xtask: building the app with verbose-log (trunk build --release)");
    run(
        tools
            .command("trunk")
            .args([
                "build",
                "--release",
                "--features",
                "verbose-log,lazy-chunks",
                "--dist",
            ])
            .arg(&dist)
            .current_dir(&root),
        "trunk build --features verbose-log",
    )?;
    split_into_dist(tools, &dist)?;
    Ok(dist)
}

/// The release binary of `insieme-signal`, which serves `dist/` and the signaling WebSocket.
pub fn build_signal() -> Result<PathBuf> {
    let root = workspace_root();
    println!("xtask: building the signaling endpoint (release)");
    run(
        std::process::Command::new(cargo())
            .args(["build", "--release", "-p", "insieme-signal"])
            .current_dir(&root),
        "building insieme-signal",
    )?;
    Ok(root.join("target/release/insieme-signal"))
}

/// The cargo that runs us, so that toolchain overrides carry through.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
