//! The systems under test: how to install, start and stop each, and a small adapter per wire
//! protocol so the same load generator drives them all. insieme-signal runs three ways: alone,
//! and behind nginx with one or two nodes (see `front.rs`). Each server process may be held
//! to a CPU budget (see `cap.rs`); nginx never is.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use insieme_signal::protocol::{ClientFrame, ServerMessage};
use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cap::{CpuCap, Group, Throttling};

/// Bounds for the set-up steps, so the bench always ends by itself.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const START_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Names an insieme-signal binary to measure instead of building the workspace's.
const INSIEME_SIGNAL_BIN: &str = "INSIEME_SIGNAL_BIN";

/// insieme-signal's limits raised to fit the comparison's load (the anchors have none).
const RAISED_LIMITS: &[&str] = &[
    "--max-connections",
    "100000",
    "--max-connections-per-ip",
    "100000",
    "--max-topics-per-ip",
    "100000",
    "--rate",
    "1000000",
    "--rate-burst",
    "1000000",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Insieme(Front),
    Matchbox,
    PeerJs,
}

/// How clients reach insieme-signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// Straight to one node.
    Direct,
    /// Through nginx running the shipped deploy/nginx files, over this many nodes.
    Nginx { nodes: usize },
}

impl System {
    pub const ALL: [System; 5] = [
        System::Insieme(Front::Direct),
        System::Insieme(Front::Nginx { nodes: 1 }),
        System::Insieme(Front::Nginx { nodes: 2 }),
        System::Matchbox,
        System::PeerJs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            System::Insieme(Front::Direct) => "insieme-signal",
            System::Insieme(Front::Nginx { nodes: 1 }) => "insieme-signal (nginx)",
            System::Insieme(Front::Nginx { .. }) => "insieme-signal x2 (nginx)",
            System::Matchbox => "matchbox_server",
            System::PeerJs => "peerjs-server",
        }
    }

    pub fn from_name(name: &str) -> Option<System> {
        System::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The WebSocket URL for one client. `topic` is a 256-bit value in base64url; `peer` is a
    /// unique name for this client, used where the client chooses its own id (PeerJS).
    pub fn url(self, addr: &str, topic: &str, peer: &str) -> String {
        match self {
            System::Insieme(_) => format!("ws://{addr}/ws/{topic}"),
            System::Matchbox => format!("ws://{addr}/{topic}"),
            System::PeerJs => format!("ws://{addr}/peerjs?key=peerjs&id={peer}&token=t{peer}"),
        }
    }

    /// If this frame completes a join: the peers it says are present (only insieme-signal
    /// lists them).
    pub fn welcome(self, text: &str) -> Option<Vec<String>> {
        match self {
            System::Insieme(_) => match serde_json::from_str(text).ok()? {
                ServerMessage::Welcome { peers, .. } => Some(peers),
                _ => None,
            },
            System::Matchbox => {
                let value: Value = serde_json::from_str(text).ok()?;
                value.get("IdAssigned")?.as_str().map(|_| Vec::new())
            }
            System::PeerJs => {
                let value: Value = serde_json::from_str(text).ok()?;
                (value["type"] == "OPEN").then(Vec::new)
            }
        }
    }

    /// The id of a peer announced as joining, if this frame is such an announcement.
    pub fn joined(self, text: &str) -> Option<String> {
        match self {
            System::Insieme(_) => match serde_json::from_str(text).ok()? {
                ServerMessage::Joined { peer } => Some(peer),
                _ => None,
            },
            System::Matchbox => {
                let value: Value = serde_json::from_str(text).ok()?;
                value.get("NewPeer")?.as_str().map(str::to_owned)
            }
            System::PeerJs => None,
        }
    }

    /// A frame relaying `payload` to peer `to`.
    pub fn data_frame(self, to: &str, payload: &str) -> String {
        match self {
            System::Insieme(_) => ClientFrame::Data { to, data: payload }.to_json(),
            System::Matchbox => {
                format!(r#"{{"Signal":{{"receiver":"{to}","data":"{payload}"}}}}"#)
            }
            System::PeerJs => {
                format!(r#"{{"type":"OFFER","dst":"{to}","payload":"{payload}"}}"#)
            }
        }
    }

    /// (sender, payload) if this frame is relayed data. Borrowed from `text`, never copied:
    /// this runs for every message, and the load generator's own CPU is taken from the server
    /// under test.
    pub fn data(self, text: &str) -> Option<(&str, &str)> {
        #[derive(Deserialize)]
        struct Insieme<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            from: Option<&'a str>,
            data: Option<&'a str>,
        }
        #[derive(Deserialize)]
        struct Matchbox<'a> {
            #[serde(rename = "Signal", borrow)]
            signal: Option<MatchboxSignal<'a>>,
        }
        #[derive(Deserialize)]
        struct MatchboxSignal<'a> {
            sender: &'a str,
            data: &'a str,
        }
        #[derive(Deserialize)]
        struct PeerJs<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            src: Option<&'a str>,
            payload: Option<&'a str>,
        }
        match self {
            System::Insieme(_) => {
                let m: Insieme<'_> = serde_json::from_str(text).ok()?;
                if m.kind != "data" {
                    return None;
                }
                Some((m.from?, m.data?))
            }
            System::Matchbox => {
                let m: Matchbox<'_> = serde_json::from_str(text).ok()?;
                let signal = m.signal?;
                Some((signal.sender, signal.data))
            }
            System::PeerJs => {
                let m: PeerJs<'_> = serde_json::from_str(text).ok()?;
                if m.kind != "OFFER" {
                    return None;
                }
                Some((m.src?, m.payload?))
            }
        }
    }
}

/// Where things live: the workspace's target folder and the anchors installed into it.
pub struct Paths {
    pub workspace: PathBuf,
    pub target: PathBuf,
}

impl Paths {
    pub fn discover() -> Paths {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the signal crate sits inside the workspace")
            .to_path_buf();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .map(|t| {
                if t.is_absolute() {
                    t
                } else {
                    workspace.join(t)
                }
            })
            .unwrap_or_else(|| workspace.join("target"));
        Paths { workspace, target }
    }

    fn anchors(&self) -> PathBuf {
        self.target.join("anchors")
    }

    fn matchbox_bin(&self) -> PathBuf {
        self.anchors().join("bin").join("matchbox_server")
    }

    fn peerjs_dir(&self) -> PathBuf {
        self.anchors().join("peerjs")
    }

    /// Built by [`ensure_installed`] with the workspace's release profile: what ships. Or
    /// the binary named by `INSIEME_SIGNAL_BIN` (as in the end-to-end tests), to measure
    /// another build, e.g. an older commit's, with the same load generator.
    fn insieme_bin(&self) -> PathBuf {
        match std::env::var_os(INSIEME_SIGNAL_BIN) {
            Some(path) => PathBuf::from(path),
            None => self
                .target
                .join("release")
                .join(format!("insieme-signal{}", std::env::consts::EXE_SUFFIX)),
        }
    }
}

async fn run_bounded(command: &mut Command, what: &str) -> Result<()> {
    command.stdin(Stdio::null()).kill_on_drop(true);
    let status = tokio::time::timeout(INSTALL_TIMEOUT, command.status())
        .await
        .with_context(|| format!("{what}: did not finish within {INSTALL_TIMEOUT:?}"))?
        .with_context(|| format!("{what}: cannot start"))?;
    if !status.success() {
        bail!("{what}: failed ({status})");
    }
    Ok(())
}

/// Makes sure `system` can be started: builds insieme-signal, installs the anchors into
/// target/anchors when missing. Returns an error that names what is missing otherwise.
pub async fn ensure_installed(system: System, paths: &Paths) -> Result<()> {
    match system {
        System::Insieme(front) => {
            if let Front::Nginx { .. } = front {
                crate::front::nginx_binary()?;
            }
            if std::env::var_os(INSIEME_SIGNAL_BIN).is_some() {
                let bin = paths.insieme_bin();
                if !bin.is_file() {
                    bail!("{INSIEME_SIGNAL_BIN}={}: no such file", bin.display());
                }
                eprintln!("bench: measuring {} ({INSIEME_SIGNAL_BIN})", bin.display());
                return Ok(());
            }
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            eprintln!("bench: building insieme-signal (release)");
            run_bounded(
                Command::new(cargo).current_dir(&paths.workspace).args([
                    "build",
                    "--release",
                    "-p",
                    "insieme-signal",
                    "--bin",
                    "insieme-signal",
                ]),
                "cargo build insieme-signal",
            )
            .await?;
            if !paths.insieme_bin().exists() {
                bail!("{} not found after building", paths.insieme_bin().display());
            }
        }
        System::Matchbox => {
            if !paths.matchbox_bin().exists() {
                eprintln!(
                    "bench: installing matchbox_server into {}",
                    paths.anchors().display()
                );
                let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
                run_bounded(
                    Command::new(cargo)
                        .args(["install", "--locked", "--root"])
                        .arg(paths.anchors())
                        .arg("matchbox_server"),
                    "cargo install matchbox_server",
                )
                .await?;
            }
        }
        System::PeerJs => {
            let dir = paths.peerjs_dir();
            if !dir.join("node_modules/peer/package.json").exists() {
                eprintln!(
                    "bench: installing peer (peerjs-server) into {}",
                    dir.display()
                );
                std::fs::create_dir_all(&dir)?;
                if !dir.join("package.json").exists() {
                    std::fs::write(
                        dir.join("package.json"),
                        "{\"name\":\"insieme-bench-anchors\",\"private\":true}\n",
                    )?;
                }
                run_bounded(
                    Command::new("npm").current_dir(&dir).args([
                        "install",
                        "--no-audit",
                        "--no-fund",
                        "peer",
                    ]),
                    "npm install peer (needs node and npm)",
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// A running server under test.
pub struct Running {
    pub child: Child,
    pub addr: String,
    /// What else runs for it (nginx's nodes), stopped with it.
    pub behind: Vec<Running>,
    /// A scratch folder removed when it stops (nginx's prefix).
    pub scratch: Option<PathBuf>,
    /// The cgroup holding it to its CPU budget, when capped.
    pub group: Option<Group>,
    /// How to ask it to stop (and take its own children with it) before it is killed: nginx's
    /// workers outlive a killed master, keeping its ports and the bench's output open.
    pub stop_with: Option<Command>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Resident memory of the server process, from /proc/<pid>/status.
    pub fn rss_bytes(&self) -> Result<u64> {
        self.status_bytes("VmRSS")
    }

    /// The most resident memory the server process has had since it started (its high-water
    /// mark), from /proc/<pid>/status.
    pub fn peak_rss_bytes(&self) -> Result<u64> {
        self.status_bytes("VmHWM")
    }

    /// A `Name:   N kB` line of /proc/<pid>/status, in bytes.
    fn status_bytes(&self, name: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .context("reading /proc/<pid>/status (the RSS row needs Linux)")?;
        let line = status
            .lines()
            .find(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(':'))
            })
            .with_context(|| format!("no {name} line"))?;
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("unreadable {name}"))?;
        Ok(kib * 1024)
    }

    /// CPU seconds used so far by the front (nginx: its master and workers); None without one.
    pub fn front_cpu_seconds(&self) -> Option<f64> {
        self.stop_with.as_ref()?;
        let master = self.child.id()?;
        let workers = crate::host::children_of(master);
        std::iter::once(master)
            .chain(workers)
            .map(|pid| crate::host::process_cpu_seconds(pid).ok())
            .sum()
    }

    /// Throttling counters of the capped processes in it (its nodes, behind nginx); None when
    /// nothing is capped.
    pub fn throttling(&self) -> Result<Option<Throttling>> {
        let mut sum: Option<Throttling> = None;
        if let Some(group) = &self.group {
            sum = Some(group.throttling()?);
        }
        for node in &self.behind {
            if let Some(t) = node.throttling()? {
                sum = Some(sum.unwrap_or_default().add(t));
            }
        }
        Ok(sum)
    }

    pub async fn stop(mut self) {
        if let Some(mut command) = self.stop_with.take() {
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if let Ok(Ok(status)) = tokio::time::timeout(STOP_TIMEOUT, command.status()).await {
                if status.success() {
                    let _ = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await;
                }
            }
        }
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await;
        if let Some(group) = self.group.take() {
            group.remove();
        }
        for node in self.behind {
            Box::pin(node.stop()).await;
        }
        if let Some(dir) = self.scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// PeerJS's own CLI logs every connection to stdout; this launcher starts the same server
/// through its library API without that logging, with the connection cap raised (default
/// 5,000) so the idle row can hold 10,000, and prints the bound port.
const PEERJS_LAUNCHER: &str = r#"
import { PeerServer } from 'peer';
PeerServer(
  { host: '127.0.0.1', port: 0, concurrent_limit: 1000000, alive_timeout: 3600000 },
  (server) => console.log('listening on http://127.0.0.1:' + server.address().port),
);
"#;

/// Starts `system`; with `cap`, each of its server processes (not nginx) in a group of its
/// own held to the budget.
pub async fn start(system: System, paths: &Paths, cap: Option<&CpuCap>) -> Result<Running> {
    if let System::Insieme(Front::Nginx { nodes }) = system {
        let mut started = Vec::new();
        for _ in 0..nodes {
            started.push(Box::pin(start(System::Insieme(Front::Direct), paths, cap)).await?);
        }
        return crate::front::start_nginx(paths, started).await;
    }
    let command = match system {
        System::Insieme(_) => return start_insieme(paths, RAISED_LIMITS, cap).await,
        System::Matchbox => {
            let port = free_port()?;
            let mut command = Command::new(paths.matchbox_bin());
            command
                .arg(format!("127.0.0.1:{port}"))
                .env("RUST_LOG", "error");
            let mut child = spawn(&mut command)?;
            let group = capped(&mut child, cap)?;
            wait_for_port(&mut child, port).await?;
            return Ok(Running {
                child,
                addr: format!("127.0.0.1:{port}"),
                behind: Vec::new(),
                scratch: None,
                group,
                stop_with: None,
            });
        }
        System::PeerJs => {
            let mut command = Command::new("node");
            command.current_dir(paths.peerjs_dir()).args([
                "--input-type=module",
                "-e",
                PEERJS_LAUNCHER,
            ]);
            command
        }
    };
    announced(command, cap).await
}

/// insieme-signal on a free loopback port with these flags (nothing else changed from its
/// defaults); with `cap`, held to the budget.
pub async fn start_insieme(paths: &Paths, flags: &[&str], cap: Option<&CpuCap>) -> Result<Running> {
    let mut command = Command::new(paths.insieme_bin());
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(flags)
        .env("INSIEME_SIGNAL_LOG", "warn");
    announced(command, cap).await
}

/// Starts a server that prints `listening on http://ADDR` once bound, and waits for that line.
async fn announced(mut command: Command, cap: Option<&CpuCap>) -> Result<Running> {
    command.stdout(Stdio::piped());
    let mut child = spawn(&mut command)?;
    let group = capped(&mut child, cap)?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(START_TIMEOUT, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix("listening on http://") {
                return Ok::<_, std::io::Error>(Some(addr.trim().to_owned()));
            }
        }
        Ok(None)
    })
    .await
    .context("server did not start in time")??
    .context("server exited before printing its address")?;
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Running {
        child,
        addr,
        behind: Vec::new(),
        scratch: None,
        group,
        stop_with: None,
    })
}

/// Puts a just-started server under the budget, before it serves anything; a server that
/// cannot be capped is stopped rather than measured uncapped in a capped row.
fn capped(child: &mut Child, cap: Option<&CpuCap>) -> Result<Option<Group>> {
    let Some(cap) = cap else {
        return Ok(None);
    };
    let pid = child.id().context("the server exited at start")?;
    match cap.place(pid) {
        Ok(group) => Ok(Some(group)),
        Err(error) => {
            let _ = child.start_kill();
            Err(error.context("capping the server's CPU"))
        }
    }
}

pub fn spawn(command: &mut Command) -> Result<Child> {
    command
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
        .spawn()
        .with_context(|| format!("cannot start {:?}", command.as_std().get_program()))
}

pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

pub async fn wait_for_port(child: &mut Child, port: u16) -> Result<()> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    while tokio::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            bail!("server exited at start ({status})");
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("server did not listen on port {port} within {START_TIMEOUT:?}")
}
