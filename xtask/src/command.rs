//! Running child processes with errors that say what was being done.

use anyhow::{bail, Context, Result};
use std::process::{Command, Output};

/// Runs `command` to completion, inheriting stdio; fails naming `what` if it fails.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not start {what} ({})", describe(command)))?;
    if !status.success() {
        bail!("{what} failed ({status}): {}", describe(command));
    }
    Ok(())
}

/// Runs `command` and returns its stdout, or `None` if it cannot start or fails (probing for tools).
pub fn probe(command: &mut Command) -> Option<String> {
    let Output { status, stdout, .. } = command.output().ok()?;
    status
        .success()
        .then(|| String::from_utf8_lossy(&stdout).into_owned())
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Whether we run as root (and may install system packages or create network namespaces).
pub fn is_root() -> bool {
    probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0")
}
