//! A sound output for a headless browser on a machine without a sound card: a private PulseAudio
//! server whose only sink is a null sink. Headless Firefox finds no audio device here otherwise
//! (its console: `OpenCubeb() failed to init cubeb`), plays without an audio sink, and its media
//! clock is then the system clock rather than an audio renderer's, which is not what a viewer
//! with speakers runs (docs/measurements/player.md).
//!
//! The server runs as a child of the test (not `--system`, not the user's), listening on a
//! socket in its own temporary directory; a Firefox person reaches it through `PULSE_SERVER`
//! ([`SoundServer::client_env`] for [`super::Place::firefox_env`]).

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SoundServer {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
    /// Holds the server's home, runtime directory, socket and log until it stops.
    _dir: tempfile::TempDir,
}

impl SoundServer {
    /// Starts the server and waits until its socket accepts clients (at most 10 s).
    pub async fn start() -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("native");
        let log_path = dir.path().join("pulseaudio.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new("pulseaudio")
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit",
                // No default script: no hardware modules, only the two below.
                "-n",
                "--load=module-null-sink sink_name=insieme_null",
            ])
            .arg(format!(
                "--load=module-native-protocol-unix socket={} auth-anonymous=1",
                socket.display()
            ))
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting pulseaudio (the Debian packages pulseaudio and pulseaudio-utils)")?;
        let mut server = SoundServer {
            child,
            socket,
            log: log_path,
            _dir: dir,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while server.pactl(&["info"]).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "pulseaudio exited ({status}): {}",
                    std::fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            if tokio::time::Instant::now() > deadline {
                bail!("pulseaudio did not answer on {} in 10 s", server.address());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(server)
    }

    /// Where clients reach it, as `PULSE_SERVER` takes it.
    pub fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// The environment a browser needs to play into it.
    pub fn client_env(&self) -> Vec<(String, String)> {
        vec![("PULSE_SERVER".to_owned(), self.address())]
    }

    /// The streams playing into the null sink now, by the application that opened each: how a
    /// bench knows the browser really had a sound output.
    pub fn playing_applications(&self) -> Result<Vec<String>> {
        let listing = self.pactl(&["list", "sink-inputs"])?;
        Ok(listing
            .lines()
            .filter_map(|line| line.trim().strip_prefix("application.name = "))
            .map(|name| name.trim_matches('"').to_owned())
            .collect())
    }

    fn pactl(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("pactl")
            .arg("--server")
            .arg(self.address())
            .args(args)
            .output()
            .context("running pactl")?;
        if !out.status.success() {
            bail!(
                "pactl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for SoundServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
