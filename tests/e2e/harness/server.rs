//! A fresh `insieme-signal` per test, serving the release `dist/` on a free loopback port; it can
//! be killed and restarted on the same port, and asked to capture what it relays.

use super::path_from_env;
use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// What tests are served instead of the shipped `config.json`: the shipped one names a public
/// STUN server, and nothing a test does may reach beyond this machine.
pub const LOCAL_CONFIG: &str = r#"{"signaling_url": "/ws", "ice_servers": []}"#;

#[derive(Default, Clone)]
pub struct ServerOptions {
    /// Test-only: the endpoint appends every relayed payload to this file.
    pub capture_relayed: Option<PathBuf>,
    /// Files served beside the app (test media), at `/<file name>`.
    pub media: Vec<PathBuf>,
    /// Where to listen; a free loopback port by default.
    pub listen: Option<String>,
    /// Served as `config.json`; [`LOCAL_CONFIG`] when unset.
    pub config_json: Option<String>,
    /// The TURN secret shared with the test's coturn, so welcomes carry credentials.
    pub turn_secret_file: Option<PathBuf>,
    /// `--max-peers-per-topic`: how many people a room holds (32 when unset).
    pub max_peers_per_topic: Option<u32>,
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    options: ServerOptions,
    /// What is served: a copy of `dist/` with the test's config and media.
    site: Site,
    process: Option<Child>,
}

/// A copy of `dist/` with the test's `config.json` and media beside it.
struct Site(tempfile::TempDir);

impl Site {
    fn prepare(media: &[PathBuf], config_json: Option<&str>) -> Result<Self> {
        let dist = path_from_env("INSIEME_DIST", "dist")?;
        let dir = tempfile::Builder::new()
            .prefix("insieme-e2e-site-")
            .tempdir()?;
        for entry in std::fs::read_dir(&dist)? {
            let path = entry?.path();
            if path.is_file() {
                std::fs::copy(
                    &path,
                    dir.path()
                        .join(path.file_name().expect("a file has a name")),
                )?;
            }
        }
        for file in media {
            let name = file.file_name().context("media path has no file name")?;
            std::fs::copy(file, dir.path().join(name))
                .with_context(|| format!("copying {}", file.display()))?;
        }
        std::fs::write(
            dir.path().join("config.json"),
            config_json.unwrap_or(LOCAL_CONFIG),
        )?;
        Ok(Site(dir))
    }

    fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl TestServer {
    pub async fn start() -> Result<Self> {
        Self::start_with(ServerOptions::default()).await
    }

    pub async fn start_with(options: ServerOptions) -> Result<Self> {
        let site = Site::prepare(&options.media, options.config_json.as_deref())?;
        let listen = options.listen.as_deref().unwrap_or("127.0.0.1:0");
        let (url, process) = spawn(listen, site.path(), &options).await?;
        Ok(Self {
            url,
            options,
            site,
            process: Some(process),
        })
    }

    /// Kills the endpoint abruptly, as a crash or a redeploy would.
    pub async fn kill(&mut self) -> Result<()> {
        if let Some(mut process) = self.process.take() {
            process.kill().await.context("killing insieme-signal")?;
        }
        Ok(())
    }

    /// Starts the endpoint again on the same address.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await?;
        let address = self.url.trim_start_matches("http://").to_owned();
        let (url, process) = spawn(&address, self.site.path(), &self.options).await?;
        anyhow::ensure!(url == self.url, "restarted on {url}, not {}", self.url);
        self.process = Some(process);
        Ok(())
    }

    /// The `ws://` address of a topic on this endpoint.
    pub fn topic_url(&self, topic: &str) -> String {
        format!("{}/ws/{topic}", self.url.replacen("http://", "ws://", 1))
    }
}

async fn spawn(
    listen: &str,
    site: &std::path::Path,
    options: &ServerOptions,
) -> Result<(String, Child)> {
    let binary = path_from_env("INSIEME_SIGNAL_BIN", "target/release/insieme-signal")?;
    let mut command = Command::new(&binary);
    command.args(["--listen", listen, "--static"]).arg(site);
    if let Some(capture) = &options.capture_relayed {
        command.arg("--capture-relayed").arg(capture);
    }
    if let Some(secret) = &options.turn_secret_file {
        command.arg("--turn-secret-file").arg(secret);
    }
    if let Some(max) = options.max_peers_per_topic {
        command.args(["--max-peers-per-topic", &max.to_string()]);
    }
    let mut process = command
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
    Ok((url, process))
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
