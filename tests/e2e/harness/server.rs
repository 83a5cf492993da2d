//! A fresh `insieme-signal` per test, serving the release `dist/` on a free loopback port.

use super::path_from_env;
use anyhow::{bail, Context, Result};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct TestServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    _process: Child,
}

impl TestServer {
    pub async fn start() -> Result<Self> {
        let binary = path_from_env("INSIEME_SIGNAL_BIN", "target/release/insieme-signal")?;
        let dist = path_from_env("INSIEME_DIST", "dist")?;
        let mut process = Command::new(&binary)
            .args(["--listen", "127.0.0.1:0", "--static"])
            .arg(&dist)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = process.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = listening_url(&line) {
                    return Ok(url);
                }
            }
            bail!("insieme-signal exited before it was listening")
        })
        .await
        .context("insieme-signal did not say `listening on http://…` within 10 s")??;
        // Keep draining its output so the pipe never fills and blocks the server.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            url,
            _process: process,
        })
    }
}

/// Finds `http://ADDR` in the server's `listening on` line, ignoring any terminal colours.
fn listening_url(line: &str) -> Option<String> {
    if !line.contains("listening on") {
        return None;
    }
    let start = line.find("http://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
        .collect();
    Some(url.trim_end_matches('/').to_owned())
}
