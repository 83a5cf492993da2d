//! Where the real-browser benchmarks (examples/*_bench.rs) write their reports, and how.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The report's path: `--out PATH` from the command line, else `default`; relative paths are
/// taken from the workspace root (where `cargo xtask bench` looks for them).
pub fn out_path(default: &str) -> PathBuf {
    let out = std::env::args()
        .skip_while(|a| a != "--out")
        .nth(1)
        .unwrap_or_else(|| default.into());
    Path::new(env!("CARGO_MANIFEST_DIR")).join(out)
}

/// Writes `report` to `out` as pretty JSON, making its folder.
pub fn write_report(out: &Path, report: &serde_json::Value) -> Result<()> {
    std::fs::create_dir_all(out.parent().context("the report's path has no folder")?)?;
    std::fs::write(out, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("writing {}", out.display()))
}
