//! Counters and gauges, rendered in the Prometheus text format at `GET /metrics`.
//!
//! Plain atomics rather than a metrics library: a dozen numbers do not justify a dependency,
//! and the text format is simple enough to write by hand.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::protocol::ErrorCode;

/// Why the server refused or ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `/ws/<topic>` with a malformed topic (HTTP 400).
    BadTopic,
    /// A WebSocket request from an Origin outside the allow-list (HTTP 403).
    Origin,
    /// The process-wide connection limit was reached (HTTP 503).
    ServerFull,
    /// The per-IP connection limit was reached (HTTP 429).
    IpFull,
    /// The client's address is in as many topics as it may be (HTTP 429).
    IpTopics,
    /// The topic already held the maximum number of peers (close 1013).
    TopicFull,
    /// The upgrade request did not arrive within the join deadline.
    JoinTimeout,
    /// A frame above the size limit (close 1009).
    TooLarge,
    /// Too many protocol errors on one connection (close 1008).
    Abuse,
    /// The client did not read its messages fast enough (close 1008).
    Stalled,
    /// Nothing received, not even a pong, within the idle timeout (close 1001).
    Idle,
    /// A join while the server drains before shutting down (HTTP 503).
    Draining,
}

impl Refusal {
    pub const ALL: [Refusal; 12] = [
        Refusal::BadTopic,
        Refusal::Origin,
        Refusal::ServerFull,
        Refusal::IpFull,
        Refusal::IpTopics,
        Refusal::TopicFull,
        Refusal::JoinTimeout,
        Refusal::TooLarge,
        Refusal::Abuse,
        Refusal::Stalled,
        Refusal::Idle,
        Refusal::Draining,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BadTopic => "bad_topic",
            Refusal::Origin => "origin",
            Refusal::ServerFull => "server_full",
            Refusal::IpFull => "ip_full",
            Refusal::IpTopics => "ip_topics",
            Refusal::TopicFull => "topic_full",
            Refusal::JoinTimeout => "join_timeout",
            Refusal::TooLarge => "too_large",
            Refusal::Abuse => "abuse",
            Refusal::Stalled => "stalled",
            Refusal::Idle => "idle",
            Refusal::Draining => "draining",
        }
    }

    fn index(self) -> usize {
        Refusal::ALL
            .iter()
            .position(|r| *r == self)
            .expect("ALL lists every variant")
    }
}

fn error_index(code: ErrorCode) -> usize {
    ErrorCode::ALL
        .iter()
        .position(|c| *c == code)
        .expect("ALL lists every variant")
}

#[derive(Default)]
pub struct Metrics {
    /// TCP connections open now (HTTP and WebSocket).
    pub tcp_connections: AtomicU64,
    /// WebSocket peers currently joined to a topic.
    pub peers: AtomicU64,
    /// Topics with at least one peer.
    pub topics: AtomicU64,
    pub joins_total: AtomicU64,
    pub messages_relayed_total: AtomicU64,
    pub bytes_relayed_total: AtomicU64,
    /// Bytes waiting in client queues, all clients together (the process-wide budget's count).
    pub queued_bytes: AtomicU64,
    refusals: [AtomicU64; Refusal::ALL.len()],
    errors: [AtomicU64; ErrorCode::ALL.len()],
}

impl Metrics {
    pub fn refused(&self, reason: Refusal) {
        self.refusals[reason.index()].fetch_add(1, Relaxed);
    }

    pub fn refusals(&self, reason: Refusal) -> u64 {
        self.refusals[reason.index()].load(Relaxed)
    }

    pub fn error_sent(&self, code: ErrorCode) {
        self.errors[error_index(code)].fetch_add(1, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let header = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        for (name, kind, help, value) in [
            (
                "insieme_signal_connections",
                "gauge",
                "Open TCP connections (HTTP and WebSocket).",
                &self.tcp_connections,
            ),
            (
                "insieme_signal_peers",
                "gauge",
                "WebSocket peers currently joined to a topic.",
                &self.peers,
            ),
            (
                "insieme_signal_topics",
                "gauge",
                "Topics with at least one peer.",
                &self.topics,
            ),
            (
                "insieme_signal_joins_total",
                "counter",
                "Peers that joined a topic.",
                &self.joins_total,
            ),
            (
                "insieme_signal_messages_relayed_total",
                "counter",
                "Data messages relayed from one peer to another.",
                &self.messages_relayed_total,
            ),
            (
                "insieme_signal_bytes_relayed_total",
                "counter",
                "Bytes of opaque data relayed.",
                &self.bytes_relayed_total,
            ),
            (
                "insieme_signal_queued_bytes",
                "gauge",
                "Bytes waiting to be written to clients, all queues together.",
                &self.queued_bytes,
            ),
        ] {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        let name = "insieme_signal_refusals_total";
        header(
            &mut out,
            name,
            "counter",
            "Connections refused or closed by the server, by reason.",
        );
        for reason in Refusal::ALL {
            let (reason, value) = (reason.as_str(), self.refusals(reason));
            let _ = writeln!(out, "{name}{{reason=\"{reason}\"}} {value}");
        }
        let name = "insieme_signal_errors_total";
        header(
            &mut out,
            name,
            "counter",
            "Error frames sent to clients, by code.",
        );
        for code in ErrorCode::ALL {
            let value = self.errors[error_index(code)].load(Relaxed);
            let _ = writeln!(out, "{name}{{code=\"{}\"}} {value}", code.as_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_once() {
        let metrics = Metrics::default();
        metrics.refused(Refusal::Abuse);
        metrics.refused(Refusal::Abuse);
        metrics.error_sent(ErrorCode::BadJson);
        let text = metrics.render();
        assert!(text.contains("insieme_signal_refusals_total{reason=\"abuse\"} 2\n"));
        assert!(text.contains("insieme_signal_errors_total{code=\"bad_json\"} 1\n"));
        assert_eq!(
            text.matches("# TYPE insieme_signal_topics gauge").count(),
            1
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("name value");
            value.parse::<u64>().expect("numeric sample");
        }
    }
}
