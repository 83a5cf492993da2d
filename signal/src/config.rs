//! Command-line flags and environment variables, and the limits they set.
//!
//! Every limit has a default chosen for one small machine serving many small rooms, and can be
//! changed by a flag or by the environment variable named beside it (`INSIEME_SIGNAL_*`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::forwarded::Cidr;
use crate::turn::TurnSecret;

/// Largest WebSocket message a client may send. An encrypted SDP offer with a few candidates
/// is 2–6 KiB once base64url-encoded; 32 KiB leaves room for big offers and still keeps a
/// hostile client from making the server buffer much.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 32 * 1024;
/// A watch party is a handful of friends; a full WebRTC mesh past ~8 peers is already heavy.
/// 32 is generous and bounds the fan-out of every join/leave broadcast.
pub const DEFAULT_MAX_PEERS_PER_TOPIC: usize = 32;
/// Sustained messages per second per connection. Perfect negotiation with trickle ICE sends a
/// few dozen messages per peer pair, mostly at once; the burst absorbs that.
pub const DEFAULT_RATE_PER_SEC: u32 = 50;
/// Messages a connection may send at once before the sustained rate applies.
pub const DEFAULT_RATE_BURST: u32 = 200;
/// Protocol errors (malformed frames, rate-limited messages, …) tolerated before the server
/// closes the connection with 1008: a buggy client gets clear errors, an abusive one is cut off.
pub const DEFAULT_MAX_STRIKES: u32 = 10;
/// Open TCP connections for the whole process (each costs a file descriptor and some memory).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Open TCP connections per client IP: a browser opens a few for the page and one WebSocket
/// per tab, so 64 only stops one address from taking the whole server.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 64;
/// Topics one client address may have members in at once. A household or an office behind
/// one address runs a party or two at a time (a topic per tab); 32 is generous, and keeps one
/// address from spreading over many rooms when the connection limits are raised.
pub const DEFAULT_MAX_TOPICS_PER_IP: usize = 32;
/// Time from TCP accept until the HTTP request (the WebSocket upgrade that joins a topic) has
/// fully arrived. Stops slowloris-style clients from holding connections without joining.
pub const DEFAULT_JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings each WebSocket. Browsers answer pings by themselves.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(20);
/// A WebSocket that sends nothing, not even a pong, for this long is closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Data frames queued for one client; beyond it (or beyond the byte budgets below) a message
/// to it is refused to its sender (`peer_busy`), so that one slow reader never makes the
/// server buffer without bound.
pub const DEFAULT_OUTBOUND_QUEUE: usize = 256;
/// Bytes queued for one client. A newcomer to a full topic (32 peers) is sent an offer (up to
/// ~6 KiB encrypted) and a dozen ICE candidates (~300 B each) by each of 31 others at once,
/// about 300 KiB; 512 KiB holds that with room to spare, and is 16 frames of the largest size.
/// The frame count alone (256 × 32 KiB = 8 MiB) let a client that stops reading hold 8 MiB.
pub const DEFAULT_OUTBOUND_BYTES: usize = 512 * 1024;
/// Bytes queued for all clients together: the process's memory stays bounded however many
/// clients stop reading. 64 MiB fits the smallest machines; when it is reached, messages are
/// refused (`peer_busy`) until queues drain, which the write deadline guarantees within
/// seconds. Raise it on a machine with memory to spare.
pub const DEFAULT_OUTBOUND_BYTES_TOTAL: u64 = 64 * 1024 * 1024;
/// A write to a client's socket that does not complete in this long drops the client: it is
/// not reading, and its queue and task should not be held for the whole idle timeout (60 s).
/// Generous for a live browser on a bad link (a frame is at most 32 KiB).
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// See [`Config::threads`].
pub const DEFAULT_THREADS: usize = 0;
/// TURN credentials live a few hours: long enough for a film and its intermission, short
/// enough that a leaked one is soon useless. A browser gets a fresh one each time it joins.
pub const DEFAULT_TURN_TTL: Duration = Duration::from_secs(4 * 3600);
/// Credentials live hours, never days: longer TTLs are refused at start-up.
pub const MAX_TURN_TTL: Duration = Duration::from_secs(24 * 3600);
/// Environment variable holding the TURN secret itself. There is deliberately no flag for it:
/// a command line is visible to every user through `ps`.
pub const TURN_SECRET_ENV: &str = "INSIEME_SIGNAL_TURN_SECRET";
/// See [`Config::drain`]: by default a shutdown starts at once.
pub const DEFAULT_DRAIN: Duration = Duration::ZERO;
/// How long a graceful shutdown waits for sockets to close before exiting anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Insieme's signaling endpoint: relays opaque, encrypted offers between the browsers of a room,
/// and can serve the built app from a folder so one process runs everything locally.
#[derive(Debug, Clone, PartialEq, Parser)]
#[command(name = "insieme-signal", version, about)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (the bound address is printed).
    #[arg(long, env = "INSIEME_SIGNAL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder served as static files at `/` (index.html for directories).
    #[arg(long = "static", env = "INSIEME_SIGNAL_STATIC", value_name = "DIR")]
    pub static_dir: Option<PathBuf>,

    /// Largest WebSocket message accepted from a client, in bytes.
    #[arg(long, env = "INSIEME_SIGNAL_MAX_FRAME_BYTES", default_value_t = DEFAULT_MAX_FRAME_BYTES)]
    pub max_frame_bytes: usize,

    /// Peers allowed in one topic at once.
    #[arg(long, env = "INSIEME_SIGNAL_MAX_PEERS_PER_TOPIC", default_value_t = DEFAULT_MAX_PEERS_PER_TOPIC)]
    pub max_peers_per_topic: usize,

    /// Sustained messages per second one connection may send.
    #[arg(long, env = "INSIEME_SIGNAL_RATE", default_value_t = DEFAULT_RATE_PER_SEC)]
    pub rate: u32,

    /// Messages one connection may send in a burst above the sustained rate.
    #[arg(long, env = "INSIEME_SIGNAL_RATE_BURST", default_value_t = DEFAULT_RATE_BURST)]
    pub rate_burst: u32,

    /// Protocol errors tolerated on one connection before it is closed (1008).
    #[arg(long, env = "INSIEME_SIGNAL_MAX_STRIKES", default_value_t = DEFAULT_MAX_STRIKES)]
    pub max_strikes: u32,

    /// Open connections allowed in total; more are refused with HTTP 503.
    #[arg(long, env = "INSIEME_SIGNAL_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Open connections allowed per client IP; more are refused with HTTP 429.
    #[arg(long, env = "INSIEME_SIGNAL_MAX_CONNECTIONS_PER_IP", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_IP)]
    pub max_connections_per_ip: usize,

    /// Topics one client address (IPv4, or IPv6 /64) may be in at once; more joins are refused
    /// with HTTP 429.
    #[arg(long, env = "INSIEME_SIGNAL_MAX_TOPICS_PER_IP", default_value_t = DEFAULT_MAX_TOPICS_PER_IP)]
    pub max_topics_per_ip: usize,

    /// Proxies (address or CIDR block; repeat, or comma-separate in the env var) whose
    /// connections are taken to carry the client's address in X-Forwarded-For: for those, the
    /// right-most address in it that is not itself a trusted proxy is the client, for the
    /// per-IP limits. Empty: the TCP peer is always the client, and the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "INSIEME_SIGNAL_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Seconds from TCP connect until the join (WebSocket upgrade) request must have arrived.
    #[arg(long, env = "INSIEME_SIGNAL_JOIN_TIMEOUT", default_value = "10", value_parser = parse_secs)]
    pub join_timeout: Duration,

    /// Seconds between the WebSocket pings the server sends each client.
    #[arg(long, env = "INSIEME_SIGNAL_PING_INTERVAL", default_value = "20", value_parser = parse_secs)]
    pub ping_interval: Duration,

    /// Seconds without any frame from a client (pongs included) before it is disconnected.
    #[arg(long, env = "INSIEME_SIGNAL_IDLE_TIMEOUT", default_value = "60", value_parser = parse_secs)]
    pub idle_timeout: Duration,

    /// Data frames queued for one client; more are refused to their sender (peer_busy).
    #[arg(long, env = "INSIEME_SIGNAL_OUTBOUND_QUEUE", default_value_t = DEFAULT_OUTBOUND_QUEUE)]
    pub outbound_queue: usize,

    /// Bytes queued for one client; more are refused to their sender (peer_busy).
    #[arg(long, env = "INSIEME_SIGNAL_OUTBOUND_BYTES", default_value_t = DEFAULT_OUTBOUND_BYTES)]
    pub outbound_bytes: usize,

    /// Bytes queued for all clients together; beyond it every message is refused (peer_busy)
    /// until the queues drain.
    #[arg(long, env = "INSIEME_SIGNAL_OUTBOUND_BYTES_TOTAL", default_value_t = DEFAULT_OUTBOUND_BYTES_TOTAL)]
    pub outbound_bytes_total: u64,

    /// Seconds a write to a client may take before the client is dropped as not reading.
    #[arg(long, env = "INSIEME_SIGNAL_WRITE_TIMEOUT", default_value = "10", value_parser = parse_secs)]
    pub write_timeout: Duration,

    /// Origins allowed to open a WebSocket (repeat the flag or separate with commas); `*` for
    /// any. When set, an upgrade without a listed Origin header is refused with 403. Empty:
    /// with --static, the app's own origin (same host as the request's Host); without, any.
    #[arg(
        long = "allow-origin",
        env = "INSIEME_SIGNAL_ALLOW_ORIGINS",
        value_delimiter = ','
    )]
    pub allow_origins: Vec<String>,

    /// Address to serve Prometheus metrics at (`GET /metrics`), on a listener of its own;
    /// bind it where only the scraper reaches (e.g. 127.0.0.1:9090). Unset: no metrics.
    #[arg(long, env = "INSIEME_SIGNAL_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,

    /// Worker threads; 0 means one per CPU. 1 runs everything on one thread (no cross-thread
    /// hand-offs, but any stall of that thread stalls every peer; measured slower here).
    #[arg(long, env = "INSIEME_SIGNAL_THREADS", default_value_t = DEFAULT_THREADS)]
    pub threads: usize,

    /// File holding the TURN secret shared with coturn (`static-auth-secret`); the endpoint
    /// then hands every browser a short-lived TURN credential with its welcome. Alternatively
    /// put the secret itself in the environment variable INSIEME_SIGNAL_TURN_SECRET (never on
    /// the command line, where `ps` shows it). Neither: no credentials are minted.
    #[arg(long, env = "INSIEME_SIGNAL_TURN_SECRET_FILE", value_name = "FILE")]
    pub turn_secret_file: Option<PathBuf>,

    /// Seconds a minted TURN credential stays valid (at most 86400).
    #[arg(long, env = "INSIEME_SIGNAL_TURN_TTL", default_value = "14400", value_parser = parse_turn_ttl)]
    pub turn_ttl: Duration,

    /// The TURN secret itself, when it came from INSIEME_SIGNAL_TURN_SECRET (see
    /// [`Config::take_turn_secret_from_env`]) or from code embedding the server.
    #[arg(skip)]
    pub turn_secret: Option<TurnSecret>,

    /// Seconds to keep answering after SIGTERM before closing the listener: meanwhile
    /// `/healthz` says 503 and new joins are refused with 503, so a balancer that polls
    /// `/healthz` (or retries on 503, like nginx with `proxy_next_upstream http_503`) moves
    /// rooms elsewhere. Open WebSockets are closed with 1012 when draining starts.
    #[arg(long, env = "INSIEME_SIGNAL_DRAIN", default_value = "0", value_parser = parse_drain_secs)]
    pub drain: Duration,

    /// TEST ONLY: append every relayed `data` payload, one per line, to FILE. End-to-end tests
    /// use it to prove that nothing readable crosses the endpoint. Never use in production.
    #[arg(long, value_name = "FILE", hide = true)]
    pub capture_relayed: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("a valid literal address"),
            static_dir: None,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_peers_per_topic: DEFAULT_MAX_PEERS_PER_TOPIC,
            rate: DEFAULT_RATE_PER_SEC,
            rate_burst: DEFAULT_RATE_BURST,
            max_strikes: DEFAULT_MAX_STRIKES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            max_topics_per_ip: DEFAULT_MAX_TOPICS_PER_IP,
            trusted_proxies: Vec::new(),
            join_timeout: DEFAULT_JOIN_TIMEOUT,
            ping_interval: DEFAULT_PING_INTERVAL,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            outbound_queue: DEFAULT_OUTBOUND_QUEUE,
            outbound_bytes: DEFAULT_OUTBOUND_BYTES,
            outbound_bytes_total: DEFAULT_OUTBOUND_BYTES_TOTAL,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            allow_origins: Vec::new(),
            metrics_listen: None,
            threads: DEFAULT_THREADS,
            turn_secret_file: None,
            turn_ttl: DEFAULT_TURN_TTL,
            turn_secret: None,
            drain: DEFAULT_DRAIN,
            capture_relayed: None,
        }
    }
}

impl Config {
    /// Moves the secret from INSIEME_SIGNAL_TURN_SECRET into the configuration and removes the
    /// variable, so that no process this one starts inherits it. Call it first thing in `main`,
    /// while the process has one thread. Refuses the variable together with
    /// `--turn-secret-file`: two sources for one secret would leave the reader guessing.
    pub fn take_turn_secret_from_env(&mut self) -> Result<(), String> {
        let Some(text) = std::env::var_os(TURN_SECRET_ENV) else {
            return Ok(());
        };
        std::env::remove_var(TURN_SECRET_ENV);
        if self.turn_secret_file.is_some() {
            return Err(format!(
                "{TURN_SECRET_ENV} and --turn-secret-file are both set; use one"
            ));
        }
        let text = text
            .into_string()
            .map_err(|_| format!("{TURN_SECRET_ENV} is not valid UTF-8"))?;
        self.turn_secret =
            Some(TurnSecret::new(&text).map_err(|e| format!("{TURN_SECRET_ENV}: {e}"))?);
        Ok(())
    }
}

/// Whole seconds, from a minute up to [`MAX_TURN_TTL`].
fn parse_turn_ttl(text: &str) -> Result<Duration, String> {
    let secs: u64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number of seconds"))?;
    let ttl = Duration::from_secs(secs);
    if ttl < Duration::from_secs(60) || ttl > MAX_TURN_TTL {
        return Err(format!(
            "a TURN credential lives between 60 and {} seconds (hours, never days)",
            MAX_TURN_TTL.as_secs()
        ));
    }
    Ok(ttl)
}

/// Like [`parse_secs`], but zero (no drain) is allowed.
fn parse_drain_secs(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    let drain = parse_secs(text)?;
    if drain > Duration::from_secs(3600) {
        return Err(format!(
            "`{text}`: a drain longer than an hour is surely a mistake"
        ));
    }
    Ok(drain)
}

/// Durations on the command line are whole or fractional seconds ("10", "0.5").
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs < 1e9) {
        return Err(format!("`{text}` must be a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_from_no_flags_match_default_impl() {
        // Every field: the flag defaults and `Default` are written in two places.
        let parsed = Config::try_parse_from(["insieme-signal"]).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn origins_split_on_commas_and_repeat() {
        let parsed = Config::try_parse_from([
            "insieme-signal",
            "--allow-origin",
            "https://a.example,https://b.example",
            "--allow-origin",
            "http://localhost:8080",
        ])
        .unwrap();
        assert_eq!(parsed.allow_origins.len(), 3);
    }

    #[test]
    fn trusted_proxies_split_on_commas_and_refuse_nonsense() {
        let parsed = Config::try_parse_from([
            "insieme-signal",
            "--trusted-proxy",
            "127.0.0.1,10.0.0.0/8",
            "--trusted-proxy",
            "fd00::/8",
        ])
        .unwrap();
        let shown: Vec<String> = parsed
            .trusted_proxies
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]);
        assert!(Config::try_parse_from(["insieme-signal", "--trusted-proxy", "nginx"]).is_err());
    }

    #[test]
    fn durations_reject_nonsense() {
        assert!(parse_secs("0.5").is_ok());
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-1").is_err());
        assert!(parse_secs("soon").is_err());
        assert_eq!(parse_drain_secs("0"), Ok(Duration::ZERO));
        assert!(parse_drain_secs("2.5").is_ok());
        assert!(parse_drain_secs("-1").is_err());
    }

    #[test]
    fn turn_ttl_is_hours_never_days() {
        let parsed = Config::try_parse_from(["insieme-signal", "--turn-ttl", "7200"]).unwrap();
        assert_eq!(parsed.turn_ttl, Duration::from_secs(7200));
        assert!(Config::try_parse_from(["insieme-signal", "--turn-ttl", "86400"]).is_ok());
        assert!(Config::try_parse_from(["insieme-signal", "--turn-ttl", "86401"]).is_err());
        assert!(Config::try_parse_from(["insieme-signal", "--turn-ttl", "0"]).is_err());
        assert!(Config::try_parse_from(["insieme-signal", "--turn-ttl", "1.5"]).is_err());
    }

    #[test]
    fn the_turn_secret_has_no_flag() {
        // A secret on the command line would be visible to everyone through `ps`.
        assert!(Config::try_parse_from(["insieme-signal", "--turn-secret", "x"]).is_err());
    }
}
