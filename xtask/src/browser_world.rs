//! Where the browser suites and the real-browser benchmark run: the release app and endpoint
//! they serve, the tools they drive, and the private network namespace they run in.

use crate::app_build::{build_dist, build_signal, build_verbose_dist, cargo};
use crate::command::{run, run_keeping_stdout};
use crate::tools::{ensure_build_tools, ensure_test_tools, BuildTools};
use crate::{network_namespace, workspace_root};
use anyhow::Result;
use std::path::PathBuf;
use std::process::Command;

pub struct BrowserWorld {
    pub tools: BuildTools,
    /// What ships: release `dist/` (for the benchmarks, with verbose-log), or the caller's
    /// `INSIEME_DIST`; and the release `insieme-signal`.
    dist: PathBuf,
    signal: PathBuf,
}

impl BrowserWorld {
    /// Installs what is missing and builds what the browsers will be served, once.
    pub fn prepare() -> Result<Self> {
        Self::prepare_serving(build_dist)
    }

    /// The same, serving the release app with its verbose console diagnostics kept (what the
    /// benchmarks save of each page's console is read afterwards).
    pub fn prepare_verbose() -> Result<Self> {
        Self::prepare_serving(build_verbose_dist)
    }

    fn prepare_serving(build: fn(&BuildTools) -> Result<PathBuf>) -> Result<Self> {
        let tools = ensure_build_tools()?;
        ensure_test_tools(&tools)?;
        // `INSIEME_DIST` set by the caller serves another build of the app (e.g. an older
        // commit's `dist/`, to compare before and after in one sitting); ours is not built then.
        let dist = match std::env::var_os("INSIEME_DIST") {
            Some(other) => {
                println!(
                    "xtask: serving the app from INSIEME_DIST={}",
                    other.to_string_lossy()
                );
                PathBuf::from(other)
            }
            None => build(&tools)?,
        };
        let signal = build_signal()?;
        Ok(Self {
            tools,
            dist,
            signal,
        })
    }

    /// The app the browsers are served.
    pub fn dist(&self) -> &std::path::Path {
        &self.dist
    }

    /// A cargo command in the workspace whose PATH finds our tools.
    pub fn cargo(&self) -> Command {
        let mut command = self.tools.command(cargo());
        command.current_dir(workspace_root());
        command
    }

    /// Runs `cargo <build>` with the network available, then `cargo <run>` offline inside the
    /// private network namespace, told what to serve. After a failed run, repeats each failed
    /// test's last lines at the end. Returns the run's outcome and its stdout.
    pub fn build_then_run(
        &self,
        build: &[&str],
        run_args: &[&str],
        what: &str,
    ) -> (Result<()>, String) {
        if let Err(error) = run(self.cargo().args(build), &format!("building {what}")) {
            return (Err(error), String::new());
        }
        // Artifacts describe the last run only; stale ones would mislead.
        let _ = std::fs::remove_dir_all(artifacts_dir());
        let (outcome, output) = self.run_offline(run_args, what);
        if outcome.is_err() {
            if let Some(digest) = crate::test_failures::digest(&output) {
                println!("\n{digest}");
            }
        }
        (outcome, output)
    }

    /// Runs `cargo <run>` (already built) offline inside the private network namespace, told
    /// what to serve; its stdout passes through and is returned too.
    pub fn run_offline(&self, run_args: &[&str], what: &str) -> (Result<()>, String) {
        let mut inner = self.cargo();
        inner
            .arg("--offline") // a global flag, so it stays cargo's even when `run_args` has `--`
            .args(run_args)
            .env("INSIEME_DIST", &self.dist)
            .env("INSIEME_SIGNAL_BIN", &self.signal)
            .env("INSIEME_E2E_ARTIFACTS", artifacts_dir());
        // anyhow's backtraces of failed async tests bury the reasons; the errors carry context.
        if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
            inner.env("RUST_LIB_BACKTRACE", "0");
        }
        run_keeping_stdout(&mut network_namespace::wrap(inner), what)
    }
}

/// Where failed tests leave their screenshots and consoles.
fn artifacts_dir() -> PathBuf {
    workspace_root().join("target/e2e-artifacts")
}
