//! Two friends in their homes, behind the routers of [`super::network`], with the app server,
//! the endpoint and coturn on the internet: the world of the connectivity tests and of
//! `cargo xtask bench paths`.
//!
//! coturn runs with the shipped `deploy/turnserver.conf` and only the overrides a test network
//! needs; the endpoint mints its credentials from the same secret, as in a deployment.

use super::media::test_clip;
use super::network::{Internet, Nat};
use super::{Browser, Party, ServerOptions, TestServer};
use anyhow::{Context, Result};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// coturn's port on the world's server address (each world has an address of its own).
const TURN_PORT: u16 = 3478;

/// The network shapes the benchmark measures, with the path each must end up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Both friends in one home: host candidates.
    Lan,
    /// Two homes behind ordinary NATs: server-reflexive candidates, found with STUN.
    Nat,
    /// Two homes behind symmetric NATs: only coturn's relay works.
    SymmetricNat,
    /// Ordinary NATs, but the app is told to use relays only (`ice_transport_policy: relay`).
    RelayOnly,
    /// Symmetric NATs that let no UDP out: TURN over TCP.
    UdpBlocked,
}

impl Shape {
    /// Every shape, in the order the benchmark reports them.
    #[allow(dead_code)] // read by the benchmark, not the tests
    pub const ALL: [Shape; 5] = [
        Shape::Lan,
        Shape::Nat,
        Shape::SymmetricNat,
        Shape::RelayOnly,
        Shape::UdpBlocked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Lan => "lan",
            Shape::Nat => "nat",
            Shape::SymmetricNat => "symmetric_nat",
            Shape::RelayOnly => "relay_only",
            Shape::UdpBlocked => "udp_blocked",
        }
    }

    /// The `data-path` the people list must show for a friend.
    pub fn expected_path(self) -> &'static str {
        match self {
            Shape::Lan => "host",
            Shape::Nat => "srflx",
            Shape::SymmetricNat | Shape::RelayOnly | Shape::UdpBlocked => "relay",
        }
    }

    pub fn world(self) -> WorldOptions {
        let nat = match self {
            Shape::Lan | Shape::Nat | Shape::RelayOnly => Nat::Ordinary,
            Shape::SymmetricNat => Nat::Symmetric,
            Shape::UdpBlocked => Nat::SymmetricUdpBlocked,
        };
        WorldOptions {
            nat,
            same_home: self == Shape::Lan,
            relay_only: self == Shape::RelayOnly,
            turn_configured: true,
            coturn_running: true,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct WorldOptions {
    pub nat: Nat,
    /// Both browsers in the first home.
    pub same_home: bool,
    /// `ice_transport_policy: "relay"` in the served config.
    pub relay_only: bool,
    /// `turn_urls` in the served config, and a secret for the endpoint to mint credentials.
    pub turn_configured: bool,
    /// Whether coturn is started at all (configured but not running: a relay that is down).
    pub coturn_running: bool,
}

/// A world: the internet, coturn, and a party whose browsers sit in the homes. Dropped in
/// that order's reverse: browsers, then coturn, then the namespaces.
pub struct World {
    pub party: Party,
    _coturn: Option<Coturn>,
    _internet: Internet,
    _secret: tempfile::TempDir,
}

impl World {
    /// Builds the networks, starts the servers and launches `names[0]` in the first home and
    /// `names[1]` in the second (or the first too, for one home).
    pub async fn start(test_name: &str, names: [&str; 2], options: WorldOptions) -> Result<Self> {
        let mut internet = Internet::new()?;
        let first = internet.add_home(0, options.nat)?;
        let second = if options.same_home {
            first.clone()
        } else {
            internet.add_home(1, options.nat)?
        };
        let secret_dir = tempfile::Builder::new()
            .prefix("insieme-e2e-turn-")
            .tempdir()?;
        let secret = format!("e2e-secret-{}-{test_name}", std::process::id());
        let secret_file = secret_dir.path().join("turn-secret");
        std::fs::write(&secret_file, &secret)?;
        let coturn = if options.coturn_running {
            Some(Coturn::start(internet.server_ip, &secret, secret_dir.path()).await?)
        } else {
            None
        };
        let server = TestServer::start_with(ServerOptions {
            media: vec![test_clip().await?],
            listen: Some(format!("{}:0", internet.server_ip)),
            config_json: Some(config_json(internet.server_ip, options)),
            turn_secret_file: options.turn_configured.then_some(secret_file),
            ..Default::default()
        })
        .await?;
        let origin = server.url.clone();
        let places = [
            (names[0], first.place(&origin)),
            (names[1], second.place(&origin)),
        ];
        let party = Party::start_at(test_name, server, &places).await?;
        Ok(Self {
            party,
            _coturn: coturn,
            _internet: internet,
            _secret: secret_dir,
        })
    }

    /// Ends the test (see [`Party::finish`]), then takes the world down.
    pub async fn finish(self, outcome: Result<()>) -> Result<()> {
        let World {
            party,
            _coturn,
            _internet,
            _secret,
        } = self;
        let result = party.finish(outcome).await;
        drop(_coturn);
        drop(_internet);
        result
    }
}

/// The `config.json` the world's app is served with: coturn for STUN, and for TURN when
/// configured (UDP and TCP; TLS needs a certificate browsers trust, which a test has not).
fn config_json(server: Ipv4Addr, options: WorldOptions) -> String {
    let turn_urls: Vec<String> = if options.turn_configured {
        vec![
            format!("turn:{server}:{TURN_PORT}?transport=udp"),
            format!("turn:{server}:{TURN_PORT}?transport=tcp"),
        ]
    } else {
        Vec::new()
    };
    serde_json::json!({
        "signaling_url": "/ws",
        "ice_servers": [{ "urls": [format!("stun:{server}:{TURN_PORT}")] }],
        "turn_urls": turn_urls,
        "ice_transport_policy": if options.relay_only { "relay" } else { "all" },
    })
    .to_string()
}

/// coturn on the world's server address, with the shipped configuration.
struct Coturn {
    _process: Child,
}

impl Coturn {
    async fn start(ip: Ipv4Addr, secret: &str, dir: &Path) -> Result<Self> {
        let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/turnserver.conf");
        let ip = ip.to_string();
        let user = whoami()?;
        let mut process = Command::new("turnserver")
            .arg("-c")
            .arg(&config)
            // The test overrides documented at the top of deploy/turnserver.conf: no certificate,
            // our own address and secret. The shipped config refuses relaying to private
            // addresses (so the relay cannot reach an internal network); this network is all
            // private, so the one peer the relay must reach, itself, is let in by name.
            .args([
                "--listening-ip",
                &ip,
                "--relay-ip",
                &ip,
                "--allowed-peer-ip",
                &ip,
            ])
            .args(["--listening-port", &TURN_PORT.to_string()])
            .args(["--no-tls", "--no-dtls"])
            .args(["--static-auth-secret", secret, "--realm", "e2e.invalid"])
            .args(["--proc-user", &user, "--proc-group", &user])
            .arg("--pidfile")
            .arg(dir.join("turnserver.pid"))
            .args(["--log-file", "stdout"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting coturn's turnserver (Debian package coturn)")?;
        // Ready once it answers on its TCP port.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect((ip.as_str(), TURN_PORT))
            .await
            .is_err()
        {
            if let Some(status) = process.try_wait()? {
                anyhow::bail!("turnserver exited at start: {status}");
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "turnserver never listened on {ip}:{TURN_PORT}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { _process: process })
    }
}

fn whoami() -> Result<String> {
    let out = std::process::Command::new("id").arg("-un").output()?;
    Ok(String::from_utf8(out.stdout)?.trim().to_owned())
}

/// What a browser's people list says about a friend: `data-state`, `data-path`, `data-reason`,
/// `data-ready` and the row's text, all read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FriendRow {
    pub state: Option<String>,
    pub path: Option<String>,
    pub reason: Option<String>,
    pub ready: Option<String>,
    pub text: String,
}

/// The people list's row for `name`, if shown.
pub async fn friend_row(browser: &Browser, name: &str) -> Result<Option<FriendRow>> {
    let value = browser
        .client
        .execute(
            "for (const li of document.querySelectorAll('li.person')) {
               const n = li.querySelector('.name');
               if (n && n.textContent.trim() === arguments[0]) {
                 return [li.dataset.state || null, li.dataset.path || null,
                         li.dataset.reason || null, li.dataset.ready || null, li.textContent];
               }
             }
             return null;",
            vec![serde_json::Value::from(name)],
        )
        .await?;
    let Some(values) = value.as_array() else {
        return Ok(None);
    };
    let text = |i: usize| values.get(i).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Some(FriendRow {
        state: text(0),
        path: text(1),
        reason: text(2),
        ready: text(3),
        text: text(4).unwrap_or_default(),
    }))
}

/// Polls `name`'s row until `done` holds, or fails with the last row seen.
pub async fn wait_for_row(
    browser: &Browser,
    name: &str,
    timeout: Duration,
    done: impl Fn(&FriendRow) -> bool,
) -> Result<FriendRow> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let row = friend_row(browser, name).await?;
        if let Some(row) = row.as_ref().filter(|row| done(row)) {
            return Ok(row.clone());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{} waited {timeout:?} for {name}'s row; last saw {row:?}",
            browser.name
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Two friends meeting in a world: how long the link took and the path each side reports.
#[derive(Debug, Clone)]
pub struct Meeting {
    /// From the second friend's page showing the room to it showing the first friend's path.
    pub connect_ms: f64,
    /// What the second friend's list says about the first, and the first's about the second.
    pub seen_by_second: FriendRow,
    pub seen_by_first: FriendRow,
}

/// `names[0]` (shown as `display[0]`) starts a party and `names[1]` joins it by the link; waits
/// until both see the other's path.
pub async fn meet(world: &World, names: [&str; 2], display: [&str; 2]) -> Result<Meeting> {
    let party = &world.party;
    let (first, second) = (party.person(names[0]), party.person(names[1]));
    let link = super::actions::start_party(first, &party.server.url).await?;
    first.join_as(&link, display[0]).await?;
    second.join_as(&link, display[1]).await?;
    let joined = tokio::time::Instant::now();
    let has_path = |row: &FriendRow| row.path.is_some();
    let seen_by_second =
        wait_for_row(second, display[0], Duration::from_secs(30), has_path).await?;
    let connect_ms = joined.elapsed().as_secs_f64() * 1000.0;
    let seen_by_first = wait_for_row(first, display[1], Duration::from_secs(10), has_path).await?;
    Ok(Meeting {
        connect_ms,
        seen_by_second,
        seen_by_first,
    })
}

/// The first friend loads the clip, the second plays it; once they are in sync, their offset
/// is sampled for `duration`. Returns the sampled spreads (ms).
pub async fn play_together(
    world: &World,
    names: [&str; 2],
    duration: Duration,
) -> Result<Vec<f64>> {
    use super::media::{sample_spreads, wait_for_sync};
    let party = &world.party;
    let viewers = [party.person(names[0]), party.person(names[1])];
    super::actions::load_clip(viewers[0]).await?;
    wait_for_sync(&viewers, false, 50.0, Some(0.0), Duration::from_secs(20)).await?;
    viewers[1].click_button("Play").await?;
    wait_for_sync(&viewers, true, 50.0, None, Duration::from_secs(20)).await?;
    // Leave the start's correction out: the steady offset is what a viewer sees for a film.
    tokio::time::sleep(Duration::from_secs(2)).await;
    sample_spreads(&viewers, duration, Duration::from_millis(100)).await
}
