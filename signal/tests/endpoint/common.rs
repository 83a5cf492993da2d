//! Helpers shared by the integration tests: a real server on a free port, and a real
//! WebSocket client that speaks protocol v1.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use insieme_signal::protocol::Topic;
use insieme_signal::Config;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

/// Every wait in the tests is bounded by this, so a bug fails fast instead of hanging.
pub const STEP: Duration = Duration::from_secs(5);

pub struct TestServer {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when the config asked for it ([`with_metrics`]).
    pub metrics_addr: Option<SocketAddr>,
    pub token: CancellationToken,
    pub handle: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start(config: Config) -> TestServer {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let serving = insieme_signal::serve(config).await.expect("server starts");
        TestServer {
            addr: serving.addr,
            metrics_addr: serving.metrics_addr,
            token: serving.token,
            handle: serving.handle,
        }
    }

    pub fn url(&self, topic: &str) -> String {
        format!("ws://{}/ws/{}", self.addr, topic)
    }

    pub async fn join(&self, topic: &str) -> Client {
        Client::join(&self.url(topic)).await
    }

    /// Joins with a small socket receive buffer: a client that stops reading then fills its
    /// queue on the server at once, instead of after the kernel has taken megabytes.
    pub async fn join_with_small_buffer(&self, topic: &str) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(self.addr).await.unwrap();
        let (ws, _) = tokio::time::timeout(
            STEP,
            tokio_tungstenite::client_async(self.url(topic), MaybeTlsStream::Plain(stream)),
        )
        .await
        .expect("connect in time")
        .expect("connect");
        Client::welcomed(ws).await
    }

    /// The value of one series (`name` with its labels, as rendered) in `/metrics`.
    pub async fn metric(&self, series: &str) -> u64 {
        let (status, _, body) = http_get(self.metrics_addr(), "/metrics", &[]).await;
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {series} in {text}"))
            .parse()
            .unwrap()
    }

    /// Where `/metrics` is served; the test must have asked for it ([`with_metrics`]).
    pub fn metrics_addr(&self) -> SocketAddr {
        self.metrics_addr
            .expect("start the server with `with_metrics(config())` to read its metrics")
    }

    pub async fn stop(self) {
        self.token.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("server stops in time")
            .expect("server task did not panic");
    }
}

/// A fresh random topic in canonical form.
pub fn topic() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    Topic::from_bytes(bytes).to_string()
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Client {
    pub ws: Socket,
    pub id: String,
    pub peers: Vec<String>,
    /// The welcome frame as received.
    pub welcome: Value,
}

impl Client {
    /// Connects and waits for the welcome.
    pub async fn join(url: &str) -> Client {
        let (ws, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(url))
            .await
            .expect("connect in time")
            .expect("connect");
        Client::welcomed(ws).await
    }

    /// Waits for the welcome on a socket just opened.
    pub async fn welcomed(ws: Socket) -> Client {
        let mut client = Client {
            ws,
            id: String::new(),
            peers: Vec::new(),
            welcome: Value::Null,
        };
        let welcome = client.next_json().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        assert_eq!(welcome["v"], 1);
        client.id = welcome["id"].as_str().unwrap().to_owned();
        client.peers = welcome["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        client.welcome = welcome;
        client
    }

    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws
            .send(Message::text(text.into()))
            .await
            .expect("send");
    }

    pub async fn send_data(&mut self, to: &str, data: &str) {
        let text = serde_json::json!({"type": "data", "to": to, "data": data}).to_string();
        self.send_text(text).await;
    }

    /// The next JSON frame, skipping pings; panics on close or after [`STEP`].
    pub async fn next_json(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(STEP, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("no socket error");
            match message {
                Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Expects an error frame with `code`.
    pub async fn expect_error(&mut self, code: &str) {
        let frame = self.next_json().await;
        assert_eq!(frame["type"], "error", "{frame}");
        assert_eq!(frame["code"], code, "{frame}");
        assert!(frame["message"].as_str().is_some_and(|m| !m.is_empty()));
    }

    /// Reads until the server's close frame and returns its code; text frames before it are
    /// returned too, in order.
    pub async fn expect_close(&mut self) -> (u16, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let next = tokio::time::timeout(STEP, self.ws.next())
                .await
                .expect("close in time");
            match next {
                Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), before),
                Some(Ok(Message::Close(None))) => return (u16::from(CloseCode::Status), before),
                Some(Ok(Message::Text(text))) => {
                    before.push(serde_json::from_str(text.as_str()).unwrap())
                }
                Some(Ok(_)) => continue,
                Some(Err(tungstenite::Error::Protocol(_))) | None => {
                    panic!("connection ended without a close frame")
                }
                Some(Err(error)) => panic!("socket error before close: {error}"),
            }
        }
    }
}

/// A config suitable for most tests: defaults, with connection limits out of the way.
pub fn config() -> Config {
    Config::default()
}

/// `config` with `/metrics` served on a listener of its own, on a free port.
pub fn with_metrics(config: Config) -> Config {
    Config {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..config
    }
}

/// Sends a raw HTTP GET and returns the status code.
pub async fn http_status(addr: SocketAddr, path: &str) -> u16 {
    let (status, _, _) = http_get(addr, path, &[]).await;
    status
}

/// Minimal HTTP/1.1 GET: status, headers (lowercased names), body.
pub async fn http_get(
    addr: SocketAddr,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n");
    if !extra_headers.iter().any(|(name, _)| *name == "connection") {
        request.push_str("connection: close\r\n");
    }
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(STEP, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let body = response[split + 4..].to_vec();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

/// The real binary, started like a user would, on `listen`.
pub struct Process {
    pub child: Child,
    pub addr: std::net::SocketAddr,
    /// Where `/metrics` is served, when started with `--metrics-listen`.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

impl Process {
    pub async fn start(listen: &str, extra: &[&str]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_insieme-signal"))
            .args(["--listen", listen])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start insieme-signal");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(STEP, lines.next_line())
            .await
            .expect("startup line in time")
            .unwrap()
            .expect("a startup line");
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected startup line: {line}"))
            .parse()
            .unwrap();
        let mut metrics_addr = None;
        if extra.contains(&"--metrics-listen") {
            let line = tokio::time::timeout(STEP, lines.next_line())
                .await
                .expect("metrics line in time")
                .unwrap()
                .expect("a metrics line");
            metrics_addr = Some(
                line.strip_prefix("metrics on http://")
                    .and_then(|rest| rest.strip_suffix("/metrics"))
                    .unwrap_or_else(|| panic!("unexpected metrics line: {line}"))
                    .parse()
                    .unwrap(),
            );
        }
        Process {
            child,
            addr,
            metrics_addr,
        }
    }

    pub fn url(&self, topic: &str) -> String {
        format!("ws://{}/ws/{}", self.addr, topic)
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("exits in time after SIGTERM")
            .unwrap();
        assert!(exit.success(), "{exit:?}");
    }
}
