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

/// Prints `rows` (label, report key, target) of `report` as a table, labels `label_width` wide:
/// each value with one decimal (all of them, for an array), or "never" where there is none.
pub fn print_table(
    report: &serde_json::Value,
    label_width: usize,
    target_header: &str,
    rows: &[(&str, &str, &str)],
) {
    println!(
        "\n{:<label_width$} {:>10}  {target_header}",
        "metric", "measured"
    );
    for (label, key, target) in rows {
        let value = match &report[key] {
            serde_json::Value::Array(values) => values
                .iter()
                .filter_map(|v| v.as_f64())
                .map(|v| format!("{v:.1}"))
                .collect::<Vec<_>>()
                .join(" "),
            value => value
                .as_f64()
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "never".into()),
        };
        println!("{label:<label_width$} {value:>10}  {target}");
    }
}
