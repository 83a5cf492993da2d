//! Scale-out: two insieme-signal nodes behind a real nginx running the shipped configuration
//! (deploy/nginx/insieme/*.conf, included unchanged by a test server block on 127.0.0.1).
//!
//! These tests need nginx (Debian package `nginx`; `cargo xtask test` installs it). Without it
//! they fail and say so, rather than pass without having run.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::common::*;

/// Rooms per test: enough that both nodes get some under the hash, whatever the topics.
const ROOMS: usize = 24;

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!(
        "nginx is not installed, so the scale-out tests cannot run: `cargo xtask test` \
         installs it, or `apt-get install nginx`"
    );
}

/// The folder holding the shipped nginx files.
fn deploy_nginx() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx/insieme")
}

/// The parameters of the shipped nodes.conf's first `server` line (`max_fails=… fail_timeout=…`):
/// the nodes here are taken out of the pool by the rule a deployment ships.
fn shipped_node_parameters() -> String {
    let text = std::fs::read_to_string(deploy_nginx().join("nodes.conf"))
        .expect("read deploy/nginx/insieme/nodes.conf");
    text.lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("server "))
        .and_then(|rest| rest.trim_end_matches(';').split_once(char::is_whitespace))
        .map(|(_addr, parameters)| parameters.trim().to_owned())
        .expect("a `server <addr> <parameters>;` line in deploy/nginx/insieme/nodes.conf")
}

/// nginx in the foreground with a temporary prefix: the shipped upstream.conf and
/// locations.conf, a nodes.conf naming `nodes`, and a plain-HTTP server on 127.0.0.1.
pub struct Nginx {
    child: Child,
    pub addr: std::net::SocketAddr,
    prefix: PathBuf,
}

impl Nginx {
    pub async fn start(nodes: &[std::net::SocketAddr]) -> Nginx {
        let binary = nginx_binary();
        let prefix = std::env::temp_dir().join(format!(
            "insieme-nginx-{}-{}",
            std::process::id(),
            nodes[0].port()
        ));
        let _ = std::fs::remove_dir_all(&prefix);
        let conf = prefix.join("conf");
        std::fs::create_dir_all(conf.join("insieme")).unwrap();
        std::fs::create_dir_all(prefix.join("dist")).unwrap();
        std::fs::create_dir_all(prefix.join("logs")).unwrap();
        for file in ["upstream.conf", "locations.conf"] {
            std::fs::copy(deploy_nginx().join(file), conf.join("insieme").join(file))
                .unwrap_or_else(|e| panic!("copy deploy/nginx/insieme/{file}: {e}"));
        }
        let rule = shipped_node_parameters();
        let node_lines: String = nodes
            .iter()
            .map(|n| format!("server {n} {rule};\n"))
            .collect();
        std::fs::write(conf.join("insieme/nodes.conf"), node_lines).unwrap();
        std::fs::write(
            prefix.join("dist/index.html"),
            "<!doctype html><title>Insieme</title>",
        )
        .unwrap();
        std::fs::write(
            prefix.join("dist/insieme-0123456789abcdef_bg.wasm"),
            b"\0asm\x01\0\0\0",
        )
        .unwrap();
        std::fs::write(prefix.join("dist/config.json"), "{}").unwrap();
        let port = free_port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        std::fs::write(
            conf.join("nginx.conf"),
            format!(
                "worker_processes 1;\n\
                 error_log {prefix}/logs/error.log warn;\n\
                 pid {prefix}/logs/nginx.pid;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{\n\
                   include /etc/nginx/mime.types;\n\
                   access_log off;\n\
                   include insieme/upstream.conf;\n\
                   server {{\n\
                     listen {addr};\n\
                     root {prefix}/dist;\n\
                     include insieme/locations.conf;\n\
                   }}\n\
                 }}\n",
                prefix = prefix.display()
            ),
        )
        .unwrap();
        let child = Command::new(&binary)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(conf.join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start nginx");
        let nginx = Nginx {
            child,
            addr,
            prefix,
        };
        let deadline = tokio::time::Instant::now() + STEP;
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nginx did not listen on {addr}; see {}/logs/error.log",
                nginx.prefix.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nginx
    }

    pub fn url(&self, topic: &str) -> String {
        format!("ws://{}/ws/{}", self.addr, topic)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `-s stop` has the master stop its workers before it exits: killed, the master would
        // leave its workers running after the test, holding their ports.
        let _ = std::process::Command::new(nginx_binary())
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(self.prefix.join("conf/nginx.conf"))
            .args(["-s", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.prefix);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The number of topics a node holds, from its metrics.
async fn topics_on(node: &Process) -> usize {
    let metrics = node.metrics_addr.expect("nodes serve metrics");
    let (_, _, body) = http_get(metrics, "/metrics", &[]).await;
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("insieme_signal_topics "))
        .expect("a topics gauge")
        .parse()
        .unwrap()
}

/// Two members of a room relay through whichever node they share; false when either socket
/// is gone (its node died).
async fn still_relaying(a: &mut Client, b: &mut Client) -> bool {
    use futures_util::SinkExt;
    let text = serde_json::json!({"type": "data", "to": b.id, "data": "cHJvYmU"}).to_string();
    if a.ws.send(Message::text(text)).await.is_err() {
        return false;
    }
    let received = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match b.ws.next().await {
                Some(Ok(Message::Text(text))) => return text.contains("cHJvYmU"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return false,
            }
        }
    })
    .await;
    matches!(received, Ok(true))
}

async fn node() -> Process {
    // Everyone reaches the nodes from nginx's address: the per-IP limit is nginx's job here.
    Process::start(
        "127.0.0.1:0",
        &[
            "--max-connections-per-ip",
            "100000",
            "--max-topics-per-ip",
            "100000",
            "--metrics-listen",
            "127.0.0.1:0",
        ],
    )
    .await
}

#[tokio::test]
async fn behind_nginx_members_of_many_rooms_always_meet_on_one_node() {
    let (one, two) = (node().await, node().await);
    let nginx = Nginx::start(&[one.addr, two.addr]).await;
    let mut rooms = Vec::new();
    for _ in 0..ROOMS {
        let room = topic();
        let a = Client::join(&nginx.url(&room)).await;
        let b = Client::join(&nginx.url(&room)).await;
        assert_eq!(
            b.peers,
            vec![a.id.clone()],
            "the second member meets the first"
        );
        rooms.push((a, b));
    }
    let (on_one, on_two) = (topics_on(&one).await, topics_on(&two).await);
    assert_eq!(on_one + on_two, ROOMS, "each room is on exactly one node");
    assert!(
        on_one > 0 && on_two > 0,
        "rooms spread: {on_one} and {on_two}"
    );
    for (a, b) in &mut rooms {
        assert!(still_relaying(a, b).await);
    }

    // The shipped static part: MIME types and cache headers.
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (status, headers, _) = http_get(nginx.addr, "/insieme-0123456789abcdef_bg.wasm", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/wasm");
    assert!(header(&headers, "cache-control").contains("immutable"));
    for path in ["/", "/config.json"] {
        let (status, headers, _) = http_get(nginx.addr, path, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&headers, "cache-control"), "no-cache", "{path}");
    }
    assert_eq!(http_status(nginx.addr, "/healthz").await, 200);
    assert_eq!(http_status(nginx.addr, "/ws/short").await, 400);
    assert_eq!(http_status(nginx.addr, "/metrics").await, 404);
    drop(nginx);
    one.terminate().await;
    two.terminate().await;
}

#[tokio::test]
async fn when_a_node_dies_its_rooms_reconnect_to_the_other_and_newcomers_join() {
    let (one, mut two) = (node().await, node().await);
    let nginx = Nginx::start(&[one.addr, two.addr]).await;
    let mut rooms = Vec::new();
    for _ in 0..ROOMS {
        let room = topic();
        let a = Client::join(&nginx.url(&room)).await;
        let b = Client::join(&nginx.url(&room)).await;
        rooms.push((room, a, b));
    }
    let on_two = topics_on(&two).await;
    assert!(on_two > 0, "some rooms on the node about to die");

    two.child.start_kill().unwrap();
    two.child.wait().await.unwrap();

    let mut moved = 0;
    for (room, a, b) in &mut rooms {
        if still_relaying(a, b).await {
            continue;
        }
        // What the browsers do on a lost socket: join again, through nginx.
        moved += 1;
        *a = Client::join(&nginx.url(room)).await;
        *b = Client::join(&nginx.url(room)).await;
        assert_eq!(
            b.peers,
            vec![a.id.clone()],
            "reconnected members meet again"
        );
        assert!(still_relaying(a, b).await);
    }
    assert_eq!(moved, on_two, "exactly the dead node's rooms moved");
    assert_eq!(
        topics_on(&one).await,
        ROOMS,
        "every room now on the survivor"
    );
    for (room, a, b) in &mut rooms {
        let newcomer = Client::join(&nginx.url(room)).await;
        let mut present = newcomer.peers.clone();
        present.sort();
        let mut expected = vec![a.id.clone(), b.id.clone()];
        expected.sort();
        assert_eq!(present, expected, "a newcomer finds the room");
    }
    drop(nginx);
    one.terminate().await;
}
