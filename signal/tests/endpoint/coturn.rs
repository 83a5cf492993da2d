//! coturn with the shipped deploy/turnserver.conf accepts the credentials the endpoint mints,
//! refuses wrong and expired ones, and refuses to relay to a loopback peer.
//!
//! Needs coturn (Debian package `coturn`; `cargo xtask test` installs it): without it this
//! test fails and says so. Only 127.0.0.1 is used.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use insieme_signal::turn::{TurnMinter, TurnSecret};
use tokio::process::Command;

use crate::common::STEP;

const SECRET: &str = "a-test-secret-for-coturn";

fn require(binary: &str) -> String {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let path = format!("{dir}/{binary}");
        if Path::new(&path).exists() {
            return path;
        }
    }
    panic!(
        "{binary} is not installed, so the TURN test cannot run: `cargo xtask test` installs \
         coturn, or `apt-get install coturn`"
    );
}

/// A port free for both UDP and TCP, below Linux's ephemeral range (32768–60999): coturn binds
/// it with several sockets, and an ephemeral port may be held in TIME_WAIT by any other program's
/// outgoing connections (a load test leaves tens of thousands), which makes some binds fail.
fn port_outside_the_ephemeral_range() -> u16 {
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (start..32_000)
        .chain(20_000..start)
        .find(|port| {
            std::net::UdpSocket::bind(("127.0.0.1", *port)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok()
        })
        .expect("a free port between 20000 and 32000")
}

/// One allocation with `turnutils_uclient`; its output says how far it got.
async fn allocate(port: u16, username: &str, password: &str) -> String {
    let output = tokio::time::timeout(
        STEP * 2,
        Command::new(require("turnutils_uclient"))
            .args(["-y", "-c", "-n", "1", "-u", username, "-w", password])
            .args(["-p", &port.to_string(), "127.0.0.1"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("turnutils_uclient finishes in time")
    .expect("run turnutils_uclient");
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

#[tokio::test]
async fn coturn_with_the_shipped_config_accepts_minted_credentials_only() {
    let turnserver = require("turnserver");
    let dir = std::env::temp_dir().join(format!("insieme-coturn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = port_outside_the_ephemeral_range();
    let user = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/turnserver.conf");
    let mut coturn = Command::new(turnserver)
        .arg("-c")
        .arg(&config)
        // The test overrides documented at the top of deploy/turnserver.conf.
        .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
        .args([
            "--listening-port",
            &port.to_string(),
            "--no-tls",
            "--no-dtls",
        ])
        .args(["--static-auth-secret", SECRET, "--realm", "test.invalid"])
        .args(["--proc-user", user.trim(), "--proc-group", user.trim()])
        .arg("--pidfile")
        .arg(dir.join("turn.pid"))
        .args(["--log-file", "stdout"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start turnserver");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        coturn.try_wait().unwrap().is_none(),
        "turnserver exited at start"
    );

    let minter = TurnMinter::new(TurnSecret::new(SECRET).unwrap(), Duration::from_secs(3600));
    let fresh = minter.mint(SystemTime::now());
    let output = allocate(port, &fresh.username, &fresh.credential).await;
    assert!(
        !output.contains("Cannot complete Allocation"),
        "refused a minted credential:\n{output}"
    );
    // Allocated; then binding a channel to the (loopback) peer is refused: the relay cannot be
    // used to reach this machine.
    assert!(output.contains("403 (Forbidden IP)"), "{output}");

    let wrong = allocate(port, &fresh.username, "d3JvbmcgcGFzc3dvcmQgaGVyZQ==").await;
    assert!(wrong.contains("Cannot complete Allocation"), "{wrong}");

    let expired = minter.mint(SystemTime::now() - Duration::from_secs(7200));
    let late = allocate(port, &expired.username, &expired.credential).await;
    assert!(
        late.contains("Cannot complete Allocation"),
        "accepted an expired credential:\n{late}"
    );

    coturn.start_kill().unwrap();
    let _ = coturn.wait().await;
    let _ = std::fs::remove_dir_all(dir);
}
