//! The three measurements, each bounded in count and in time: idle memory, join storm, relay.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::{stream, SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::systems::{Running, System};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One connect + welcome may take this long before it counts as failed.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections being opened at once while filling the idle and relay rows.
const SETUP_CONCURRENCY: usize = 128;
/// The whole fill of a row (10,000 connections) must finish within this.
const SETUP_TIMEOUT: Duration = Duration::from_secs(180);
/// Relay traffic before measuring starts (connections warm, caches hot).
const RELAY_WARMUP: Duration = Duration::from_secs(1);
/// A ping-pong pair that hears nothing for this long is counted as stalled and stops.
const RELAY_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// Client buffers kept small too: the bench holds 10,000 sockets itself.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

/// Run-unique names, so topics and PeerJS ids never collide with an earlier run.
pub struct Names {
    nonce: u64,
}

impl Names {
    pub fn new() -> Names {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("OS randomness");
        Names {
            nonce: u64::from_le_bytes(bytes),
        }
    }

    /// A topic in insieme-signal's canonical form (43 base64url characters, 256 bits). The
    /// anchors accept any path segment, so all three get the same topic strings.
    pub fn topic(&self, phase: u8, index: u64) -> String {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&self.nonce.to_le_bytes());
        bytes[8] = phase;
        bytes[9..17].copy_from_slice(&index.to_le_bytes());
        insieme_signal::protocol::Topic::from_bytes(bytes).to_string()
    }

    /// A client name (PeerJS lets clients choose their ids).
    pub fn peer(&self, phase: u8, index: u64, side: char) -> String {
        format!("b{:x}{phase}n{index}{side}", self.nonce & 0xffff_ffff)
    }
}

async fn connect(url: &str) -> Result<Ws> {
    let (ws, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(client_config()), true).await?;
    Ok(ws)
}

/// The next text frame, as received (pings are answered by tungstenite as we read).
async fn next_text(ws: &mut Ws) -> Result<Utf8Bytes> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Ok(Message::Close(frame))) => bail!("closed by the server: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("connection ended"),
        }
    }
}

/// A joined client: its socket and the peers its welcome listed.
pub struct Joined {
    pub ws: Ws,
    pub peers: Vec<String>,
}

/// Connects and waits for the welcome; a join is complete when the welcome arrives.
pub async fn join(system: System, addr: &str, topic: &str, peer: &str) -> Result<Joined> {
    tokio::time::timeout(JOIN_TIMEOUT, async {
        let ws = connect(&system.url(addr, topic, peer)).await?;
        welcomed(system, ws).await
    })
    .await
    .context("join timed out")?
}

/// Like [`join`], from the loopback address `source` (all of 127.0.0.0/8 is this machine, so
/// a bench can play several client addresses), and with the socket's receive buffer shrunk to
/// `receive_buffer` bytes when given (a client that means to stop reading, and wants the
/// server, not the kernel, to hold what it does not read).
pub async fn join_from(
    system: System,
    addr: &str,
    topic: &str,
    peer: &str,
    source: std::net::IpAddr,
    receive_buffer: Option<u32>,
) -> Result<Joined> {
    let server: std::net::SocketAddr = addr.parse().context("a server address")?;
    tokio::time::timeout(JOIN_TIMEOUT, async {
        let socket = match source {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind((source, 0).into())?;
        if let Some(bytes) = receive_buffer {
            socket.set_recv_buffer_size(bytes)?;
        }
        let stream = socket.connect(server).await?;
        stream.set_nodelay(true)?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(
            system.url(addr, topic, peer),
            MaybeTlsStream::Plain(stream),
            Some(client_config()),
        )
        .await?;
        welcomed(system, ws).await
    })
    .await
    .context("join timed out")?
}

/// Reads until the welcome.
async fn welcomed(system: System, mut ws: Ws) -> Result<Joined> {
    loop {
        let text = next_text(&mut ws).await?;
        if let Some(peers) = system.welcome(&text) {
            return Ok(Joined { ws, peers });
        }
    }
}

pub struct IdleResult {
    pub held: usize,
    pub rss_before: u64,
    pub rss_after: u64,
}

impl IdleResult {
    pub fn per_connection(&self) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / self.held.max(1) as f64
    }
}

/// Opens `connections` clients spread over `topics`, holds them, and measures the server's
/// resident memory before and after.
pub async fn idle(
    system: System,
    server: &Running,
    names: &Names,
    connections: u64,
    topics: u64,
) -> Result<IdleResult> {
    // One join and leave first, so lazily initialised server state is in the baseline.
    drop(
        join(
            system,
            &server.addr,
            &names.topic(0, u64::MAX),
            &names.peer(0, u64::MAX, 'w'),
        )
        .await?,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss_bytes()?;
    let addr = server.addr.clone();
    let opened: Vec<Result<Joined>> = tokio::time::timeout(
        SETUP_TIMEOUT,
        stream::iter(0..connections)
            .map(|i| {
                let topic = names.topic(0, i % topics.max(1));
                let peer = names.peer(0, i, 'i');
                let addr = addr.clone();
                async move { join(system, &addr, &topic, &peer).await }
            })
            .buffer_unordered(SETUP_CONCURRENCY)
            .collect(),
    )
    .await
    .context("opening the idle connections took too long")?;
    let failures = opened.iter().filter(|r| r.is_err()).count();
    let first_error = opened
        .iter()
        .find_map(|r| r.as_ref().err().map(|e| format!("{e:#}")));
    let held: Vec<Joined> = opened.into_iter().filter_map(Result::ok).collect();
    if failures > 0 {
        bail!(
            "{failures} of {connections} idle connections failed (first: {})",
            first_error.unwrap_or_default()
        );
    }
    // Let the server settle (and a garbage-collected runtime collect) before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = server.rss_bytes()?;
    let result = IdleResult {
        held: held.len(),
        rss_before,
        rss_after,
    };
    drop(held);
    Ok(result)
}

pub struct StormResult {
    pub joins: u64,
    pub failures: u64,
    pub seconds: f64,
}

/// `workers` clients each connect, wait for the welcome and hang up, again and again, for
/// `duration`. Every join is a fresh topic (or PeerJS id).
pub async fn storm(
    system: System,
    addr: &str,
    names: &Arc<Names>,
    duration: Duration,
    workers: usize,
) -> Result<StormResult> {
    let start = Instant::now();
    let deadline = start + duration;
    let joins = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (joins, failures, next, names) =
            (joins.clone(), failures.clone(), next.clone(), names.clone());
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            // Bounded by time (the deadline) and by count (one join per loop).
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Relaxed);
                let attempt = tokio::time::timeout_at(
                    deadline,
                    join(system, &addr, &names.topic(1, i), &names.peer(1, i, 's')),
                )
                .await;
                match attempt {
                    Ok(Ok(joined)) => {
                        joins.fetch_add(1, Relaxed);
                        drop(joined);
                    }
                    Ok(Err(_)) => {
                        failures.fetch_add(1, Relaxed);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(_) => break,
                }
            }
        }));
    }
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
    }
    Ok(StormResult {
        joins: joins.load(Relaxed),
        failures: failures.load(Relaxed),
        seconds: duration.as_secs_f64(),
    })
}

pub struct RelayResult {
    pub messages: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub stalled_clients: u64,
}

fn epoch() -> std::time::Instant {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    *EPOCH.get_or_init(std::time::Instant::now)
}

/// A payload of `len` base64url characters carrying its send time.
fn stamped(len: usize) -> String {
    let nanos = epoch().elapsed().as_nanos() as u64;
    let mut payload = format!("{nanos}x");
    let padding = len.saturating_sub(payload.len());
    payload.extend(std::iter::repeat_n('A', padding));
    payload
}

fn one_way_nanos(payload: &str) -> Option<u64> {
    let sent: u64 = payload.split_once('x')?.0.parse().ok()?;
    Some((epoch().elapsed().as_nanos() as u64).saturating_sub(sent))
}

struct Pair {
    initiator: Ws,
    responder: Ws,
    target: String,
}

/// Connects the two peers of one topic and works out who can address whom first.
async fn pair(system: System, addr: &str, names: &Names, round: u8, index: u64) -> Result<Pair> {
    let topic = names.topic(round, index);
    let (a_name, b_name) = (names.peer(round, index, 'a'), names.peer(round, index, 'b'));
    let mut a = join(system, addr, &topic, &a_name).await?;
    let b = join(system, addr, &topic, &b_name).await?;
    match system {
        // The newcomer is told who is there.
        System::Insieme(_) => {
            let target = b
                .peers
                .first()
                .cloned()
                .context("welcome lists the first peer")?;
            Ok(Pair {
                initiator: b.ws,
                responder: a.ws,
                target,
            })
        }
        // Those present are told of the newcomer.
        System::Matchbox => {
            let target = tokio::time::timeout(JOIN_TIMEOUT, async {
                loop {
                    let text = next_text(&mut a.ws).await?;
                    if let Some(id) = system.joined(&text) {
                        return Ok::<_, anyhow::Error>(id);
                    }
                }
            })
            .await
            .context("NewPeer in time")??;
            Ok(Pair {
                initiator: a.ws,
                responder: b.ws,
                target,
            })
        }
        // Ids are chosen by the clients.
        System::PeerJs => Ok(Pair {
            initiator: a.ws,
            responder: b.ws,
            target: b_name,
        }),
    }
}

/// How the initiator of a pair sends.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Closed loop: the next message leaves as soon as the previous one came back. Measures
    /// the most a server can relay; latency is then mostly queueing (in flight / throughput).
    Saturate,
    /// Open loop: the initiator starts a round trip every interval, whatever came back. Measures
    /// latency at a known, moderate load.
    Every(Duration),
}

/// One side of a ping-pong: answers every data frame to its sender. The initiator (which
/// knows `first_to`) starts the exchange: at once when saturating, or one round trip per
/// interval from `phase` on when paced. Pairs get evenly spread phases, so the offered load
/// is smooth rather than every pair firing in the same instant. Returns one-way latencies
/// measured in the window, and whether this side stalled.
#[allow(clippy::too_many_arguments)]
async fn ping_pong(
    system: System,
    mut ws: Ws,
    first_to: Option<String>,
    pace: Pace,
    phase: Duration,
    payload_len: usize,
    measure_from: Instant,
    end: Instant,
) -> (Vec<u64>, bool) {
    let mut latencies = Vec::with_capacity(8192);
    let paced = match (pace, &first_to) {
        (Pace::Every(interval), Some(_)) => Some(interval),
        _ => None,
    };
    if let (Some(to), None) = (&first_to, paced) {
        if ws
            .send(Message::text(system.data_frame(to, &stamped(payload_len))))
            .await
            .is_err()
        {
            return (latencies, true);
        }
    }
    let interval = paced.unwrap_or(Duration::from_secs(3600));
    let mut ticker = tokio::time::interval_at(Instant::now() + phase, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let received = tokio::select! {
            received = tokio::time::timeout(RELAY_READ_TIMEOUT, next_text(&mut ws)) => received,
            _ = ticker.tick(), if paced.is_some() => {
                if Instant::now() >= end {
                    return (latencies, false);
                }
                let to = first_to.as_deref().expect("only the initiator is paced");
                let ping = system.data_frame(to, &stamped(payload_len));
                if ws.send(Message::text(ping)).await.is_err() {
                    return (latencies, true);
                }
                continue;
            }
        };
        let text = match received {
            Ok(Ok(text)) => text,
            // Quiet after the end is the normal way to stop; before it, a stall.
            _ => return (latencies, Instant::now() < end),
        };
        let Some((from, payload)) = system.data(&text) else {
            continue; // joined/left notices and the like
        };
        let now = Instant::now();
        if now >= measure_from && now < end {
            if let Some(nanos) = one_way_nanos(payload) {
                latencies.push(nanos);
            }
        }
        if now >= end {
            return (latencies, false);
        }
        if paced.is_some() {
            continue; // the initiator's pongs end here; its ticker sends the next ping
        }
        let reply = system.data_frame(from, &stamped(payload_len));
        if ws.send(Message::text(reply)).await.is_err() {
            return (latencies, Instant::now() < end);
        }
    }
}

/// `topics` pairs ping-pong for `duration` (after a warm-up); counts messages delivered and
/// their one-way latency. `round` keeps topic names apart between runs on one server.
#[allow(clippy::too_many_arguments)]
pub async fn relay(
    system: System,
    addr: &str,
    names: &Names,
    round: u8,
    topics: u64,
    pace: Pace,
    duration: Duration,
    payload_len: usize,
) -> Result<RelayResult> {
    let pairs: Vec<Result<Pair>> = tokio::time::timeout(
        SETUP_TIMEOUT,
        stream::iter(0..topics)
            .map(|i| pair(system, addr, names, round, i))
            .buffer_unordered(SETUP_CONCURRENCY / 2)
            .collect(),
    )
    .await
    .context("setting up the relay pairs took too long")?;
    let mut ready = Vec::new();
    for pair in pairs {
        ready.push(pair.context("setting up a relay pair")?);
    }
    let measure_from = Instant::now() + RELAY_WARMUP;
    let end = measure_from + duration;
    let mut tasks = Vec::new();
    let count = ready.len().max(1) as u32;
    for (index, pair) in ready.into_iter().enumerate() {
        let phase = match pace {
            Pace::Every(interval) => interval * index as u32 / count,
            Pace::Saturate => Duration::ZERO,
        };
        tasks.push(tokio::spawn(ping_pong(
            system,
            pair.initiator,
            Some(pair.target),
            pace,
            phase,
            payload_len,
            measure_from,
            end,
        )));
        tasks.push(tokio::spawn(ping_pong(
            system,
            pair.responder,
            None,
            pace,
            Duration::ZERO,
            payload_len,
            measure_from,
            end,
        )));
    }
    let mut latencies: Vec<u64> = Vec::new();
    let mut stalled = 0;
    for task in tasks {
        let bound = (end + RELAY_READ_TIMEOUT * 2).saturating_duration_since(Instant::now());
        match tokio::time::timeout(bound + Duration::from_secs(1), task).await {
            Ok(Ok((mut samples, was_stalled))) => {
                latencies.append(&mut samples);
                stalled += u64::from(was_stalled);
            }
            _ => stalled += 1,
        }
    }
    if latencies.is_empty() {
        bail!("no message was relayed");
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index] as f64 / 1e6
    };
    Ok(RelayResult {
        messages: latencies.len() as u64,
        seconds: duration.as_secs_f64(),
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        stalled_clients: stalled,
    })
}
