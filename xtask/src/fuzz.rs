//! The fuzz suite (`cargo xtask test fuzz`): every cargo-fuzz target of the app (`fuzz/`) and
//! of the endpoint (`signal/fuzz/`), each for a few seconds, so that fuzzing keeps running in
//! CI at a bounded cost. A crash fails the suite, which prints the input, how to replay it and
//! the bytes to paste into a regression test (README, "Fuzzing").
//!
//! No sanitizer: the crates forbid `unsafe`, so what the fuzzer finds is panics and broken
//! properties, and an uninstrumented build is quicker to build and to run. It also needs no
//! nightly: without a sanitizer cargo-fuzz passes only stable flags (coverage instrumentation,
//! `--cfg fuzzing`), so stable Rust builds the targets as they are (AddressSanitizer would need
//! `RUSTC_BOOTSTRAP=1`, see signal/README.md). Debug assertions are on, so an arithmetic
//! overflow is a crash too. Builds, and the corpus each run grows, stay under `target/` for
//! the next run.

use crate::command::probe;
use crate::tools::{ensure_fuzz_tools, BuildTools};
use crate::workspace_root;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Fuzzing time per target: eight targets, under a minute and a half in all.
const SECONDS_PER_TARGET: u32 = 10;

/// The fuzz crates: their folder, and the name of their corpus folder under `target/`.
const CRATES: [(&str, &str); 2] = [("fuzz", "app"), ("signal/fuzz", "signal")];

/// How every target is built and run (the same flags each time, so nothing rebuilds).
const BUILD_FLAGS: [&str; 5] = [
    "--sanitizer",
    "none",
    "--debug-assertions",
    "--target-dir",
    "target/fuzz",
];

/// Runs every target, or those whose names contain `filter`.
pub fn run(filter: Option<&str>) -> Result<()> {
    let tools = ensure_fuzz_tools()?;
    let root = workspace_root();
    let mut crashes = Vec::new();
    let mut ran = 0;
    for (dir, corpus_name) in CRATES {
        let targets: Vec<String> = list_targets(&tools, dir)?
            .into_iter()
            .filter(|t| filter.is_none_or(|f| t.contains(f)))
            .collect();
        if targets.is_empty() {
            continue;
        }
        let started = Instant::now();
        println!("xtask: building the fuzz targets in {dir}/");
        let status = cargo_fuzz(&tools, "build", dir)
            .status()
            .context("starting cargo-fuzz")?;
        if !status.success() {
            bail!("building the fuzz targets in {dir}/ failed ({status})");
        }
        println!("xtask: built in {:.0?}", started.elapsed());
        for target in targets {
            ran += 1;
            let corpus = root.join("target/fuzz-corpus").join(corpus_name);
            if let Some(crash) = fuzz_one(&tools, dir, &target, &corpus.join(&target))? {
                crashes.push(crash);
            }
        }
    }
    if ran == 0 {
        bail!(
            "no fuzz target's name contains `{}`",
            filter.unwrap_or_default()
        );
    }
    if !crashes.is_empty() {
        bail!(
            "{} fuzz target(s) crashed: {}",
            crashes.len(),
            crashes.join(", ")
        );
    }
    Ok(())
}

/// `cargo-fuzz <subcommand>` for the crate in `dir`, run from the workspace root (where the
/// replay commands we print are run from too).
fn cargo_fuzz(tools: &BuildTools, subcommand: &str, dir: &str) -> Command {
    let mut command = tools.command("cargo-fuzz");
    command
        .arg(subcommand)
        .args(["--fuzz-dir", dir])
        .current_dir(workspace_root());
    if subcommand != "list" {
        command.args(BUILD_FLAGS);
    }
    command
}

fn list_targets(tools: &BuildTools, dir: &str) -> Result<Vec<String>> {
    let listed = probe(&mut cargo_fuzz(tools, "list", dir))
        .with_context(|| format!("`cargo fuzz list` failed in {dir}/"))?;
    Ok(listed.split_whitespace().map(str::to_owned).collect())
}

/// Runs one target for [`SECONDS_PER_TARGET`] from its corpus (and the committed seeds);
/// returns its name if it crashed, after printing what to do about it.
fn fuzz_one(tools: &BuildTools, dir: &str, target: &str, corpus: &Path) -> Result<Option<String>> {
    let root = workspace_root();
    std::fs::create_dir_all(corpus).context("creating the fuzz corpus folder")?;
    let seeds = Path::new(dir).join("seeds").join(target);
    let artifacts = root.join(dir).join("artifacts").join(target);
    let before = files_in(&artifacts);
    let log_path = root.join("target/fuzz-logs").join(format!("{target}.log"));
    std::fs::create_dir_all(log_path.parent().expect("a folder"))?;
    let log = std::fs::File::create(&log_path).context("creating the fuzz log")?;

    let mut command = cargo_fuzz(tools, "run", dir);
    command.arg(target).arg(corpus);
    if root.join(&seeds).is_dir() {
        command.arg(&seeds);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={SECONDS_PER_TARGET}"))
        // One input running this long is a hang a peer could cause: a crash too.
        .arg(format!("-timeout={SECONDS_PER_TARGET}"))
        .stdout(log.try_clone()?)
        .stderr(log)
        .stdin(Stdio::null());
    let status = command.status().context("starting cargo-fuzz run")?;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    if status.success() {
        // libFuzzer's last words: `#runs DONE cov: … corp: … exec/s: …`.
        let done = output.lines().rfind(|l| l.contains("DONE")).unwrap_or("");
        println!("xtask: fuzz {target}: no crash ({})", done.trim());
        return Ok(None);
    }

    eprintln!("xtask: fuzz {target}: CRASHED ({status}):");
    for line in what_failed(&output) {
        eprintln!("    {line}");
    }
    eprintln!("    (all its output: {})", log_path.display());
    let new: Vec<PathBuf> = files_in(&artifacts).difference(&before).cloned().collect();
    if new.is_empty() {
        eprintln!(
            "xtask: fuzz {target}: no new input in {}",
            artifacts.display()
        );
    }
    for input in new {
        report_crash(tools, dir, target, &input);
    }
    Ok(Some(target.to_owned()))
}

/// The panic and its message (up to the backtrace), or else libFuzzer's last words (a
/// timeout, running out of memory).
fn what_failed(output: &str) -> Vec<&str> {
    let lines: Vec<&str> = output.lines().collect();
    match lines.iter().position(|l| l.contains("panicked at")) {
        Some(start) => lines[start..]
            .iter()
            .take_while(|l| !l.starts_with("stack backtrace:"))
            .take(80)
            .copied()
            .collect(),
        None => lines[lines.len().saturating_sub(30)..].to_vec(),
    }
}

fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Where the crashing input is, how to replay and shrink it, and its bytes for a test.
fn report_crash(tools: &BuildTools, dir: &str, target: &str, input: &Path) {
    let root = workspace_root();
    let shown = input.strip_prefix(&root).unwrap_or(input).display();
    let flags = BUILD_FLAGS.join(" ");
    let run = cargo_fuzz_path(tools);
    eprintln!("xtask: fuzz {target}: crashing input {shown}");
    eprintln!("  replay (from the repository root):");
    eprintln!("    {run} run --fuzz-dir {dir} {flags} {target} {shown}");
    eprintln!("  shrink it first if it is long:");
    eprintln!("    {run} tmin --fuzz-dir {dir} {flags} {target} {shown}");
    match std::fs::read(input) {
        Ok(bytes) if bytes.len() <= 4096 => {
            eprintln!(
                "  as a regression test next to the decoder (README, \"Fuzzing\"), {} bytes:",
                bytes.len()
            );
            eprintln!("    {}", byte_literal(&bytes));
        }
        Ok(bytes) => eprintln!("  {} bytes: shrink it before making it a test", bytes.len()),
        Err(error) => eprintln!("  (cannot read it: {error})"),
    }
}

/// The cargo-fuzz we ran, relative to the workspace root when it is ours in target/tools.
fn cargo_fuzz_path(tools: &BuildTools) -> String {
    let found = probe(tools.command("sh").args(["-c", "command -v cargo-fuzz"]));
    let found = PathBuf::from(found.as_deref().unwrap_or("cargo-fuzz").trim());
    found
        .strip_prefix(workspace_root())
        .unwrap_or(&found)
        .display()
        .to_string()
}

/// `bytes` as a Rust byte-string literal: printable ASCII as itself, the rest escaped.
fn byte_literal(bytes: &[u8]) -> String {
    let mut literal = String::from("b\"");
    for &b in bytes {
        match b {
            b'"' => literal.push_str("\\\""),
            b'\\' => literal.push_str("\\\\"),
            b' '..=b'~' => literal.push(char::from(b)),
            _ => {
                let _ = write!(literal, "\\x{b:02x}");
            }
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::byte_literal;

    #[test]
    fn crash_bytes_print_as_a_rust_literal() {
        assert_eq!(
            byte_literal(b"{\"k\":1}\n\x00\xff\\"),
            r#"b"{\"k\":1}\x0a\x00\xff\\""#
        );
    }
}
