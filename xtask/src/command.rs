//! Running child processes with errors that say what was being done.

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitStatus, Output, Stdio};

/// Runs `command` to completion, inheriting stdio; fails naming `what` if it fails.
pub fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("could not start {what} ({})", describe(command)))?;
    succeeded(status, command, what)
}

/// `Ok` for a successful exit, else an error naming `what` and the command.
fn succeeded(status: ExitStatus, command: &Command, what: &str) -> Result<()> {
    if !status.success() {
        bail!("{what} failed ({status}): {}", describe(command));
    }
    Ok(())
}

/// Runs `command` like [`run`], passing its stdout through line by line and also keeping it, so
/// that the caller can read it afterwards (what failed, and why). Stderr stays inherited.
pub fn run_keeping_stdout(command: &mut Command, what: &str) -> (Result<()>, String) {
    let mut kept = String::new();
    let mut child = match command.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            let error = anyhow::Error::new(error)
                .context(format!("could not start {what} ({})", describe(command)));
            return (Err(error), kept);
        }
    };
    if let Some(stdout) = child.stdout.take() {
        let mut terminal = std::io::stdout();
        for line in BufReader::new(stdout).lines() {
            // A line that is not UTF-8 is dropped from both copies rather than ending the run.
            let Ok(line) = line else { continue };
            let _ = writeln!(terminal, "{line}");
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    let outcome = child
        .wait()
        .with_context(|| format!("waiting for {what}"))
        .and_then(|status| succeeded(status, command, what));
    (outcome, kept)
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
