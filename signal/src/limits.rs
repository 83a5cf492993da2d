//! The limits that keep one client from hurting the others: connection counts (total and per
//! client address) checked at accept time, topics per client address checked at join time,
//! and the per-connection message rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::metrics::{Metrics, Refusal};
use crate::protocol::Topic;

/// Bits of an IPv6 address that name one client for the per-IP limits. A home, a phone or a
/// server is given at least a /64 and picks addresses in it at will (privacy extensions make
/// new ones all the time), so counting full IPv6 addresses would give one client 2^64 separate
/// allowances.
pub const IPV6_CLIENT_PREFIX: u32 = 64;

/// What the per-IP limits count a client under: its IPv4 address, or the /64 its IPv6 address
/// is in. An IPv4 address written as IPv6 (`::ffff:a.b.c.d`, as a dual-stack listener reports
/// IPv4 peers) counts as the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpKey(IpAddr);

impl IpKey {
    pub fn of(ip: IpAddr) -> IpKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let host_bits = 128 - IPV6_CLIENT_PREFIX;
                let network = (u128::from(v6) >> host_bits) << host_bits;
                IpKey(IpAddr::V6(network.into()))
            }
        }
    }
}

impl std::fmt::Display for IpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => v4.fmt(f),
            IpAddr::V6(v6) => write!(f, "{v6}/{IPV6_CLIENT_PREFIX}"),
        }
    }
}

/// Counts open TCP connections in total, and per client address its connections and the
/// topics it is in.
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    max_topics_per_ip: usize,
    state: Mutex<CountState>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct CountState {
    total: usize,
    per_ip: HashMap<IpKey, IpCounts>,
}

/// One client address's share; removed from the map when it holds nothing.
#[derive(Default)]
struct IpCounts {
    connections: usize,
    /// Topics it has members in, with how many.
    topics: HashMap<Topic, usize>,
}

/// Proof that a TCP connection was counted; dropping it releases the count. It is shared (in
/// an `Arc`) between the HTTP connection task and the WebSocket task that may outlive it.
pub struct ConnectionSlot {
    /// None for a trusted proxy's connection: counted in the total only, its clients are
    /// counted per address when they join (see [`ClientSlot`]).
    ip: Option<IpKey>,
    limits: Arc<ConnectionLimits>,
}

/// A joined client's place in its address's counts: its topic, and its connection when that
/// was not counted at accept (it came through a trusted proxy). Dropping it releases both.
pub struct ClientSlot {
    ip: IpKey,
    topic: Topic,
    counts_connection: bool,
    limits: Arc<ConnectionLimits>,
}

impl ConnectionLimits {
    pub fn new(
        max_total: usize,
        max_per_ip: usize,
        max_topics_per_ip: usize,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            max_total,
            max_per_ip,
            max_topics_per_ip,
            state: Mutex::new(CountState::default()),
            metrics,
        })
    }

    fn lock(&self) -> MutexGuard<'_, CountState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a new TCP connection, from `ip` (None: from a trusted proxy, counted in the
    /// total only), or says which limit it would break.
    pub fn try_acquire(self: &Arc<Self>, ip: Option<IpKey>) -> Result<ConnectionSlot, Refusal> {
        let mut state = self.lock();
        if state.total >= self.max_total {
            return Err(Refusal::ServerFull);
        }
        if let Some(ip) = ip {
            let counts = state.per_ip.entry(ip).or_default();
            if counts.connections >= self.max_per_ip {
                state.remove_if_empty(ip);
                return Err(Refusal::IpFull);
            }
            counts.connections += 1;
        }
        state.total += 1;
        self.metrics
            .tcp_connections
            .store(state.total as u64, Relaxed);
        Ok(ConnectionSlot {
            ip,
            limits: self.clone(),
        })
    }

    /// Counts a client joining `topic` from `ip`: refused when that would put the address in
    /// more than its share of topics, or (`count_connection`, for a client behind a trusted
    /// proxy) over its share of connections.
    pub fn try_join(
        self: &Arc<Self>,
        ip: IpKey,
        topic: Topic,
        count_connection: bool,
    ) -> Result<ClientSlot, Refusal> {
        let mut state = self.lock();
        let counts = state.per_ip.entry(ip).or_default();
        let refusal = if count_connection && counts.connections >= self.max_per_ip {
            Some(Refusal::IpFull)
        } else if !counts.topics.contains_key(&topic)
            && counts.topics.len() >= self.max_topics_per_ip
        {
            Some(Refusal::IpTopics)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            state.remove_if_empty(ip);
            return Err(refusal);
        }
        *counts.topics.entry(topic).or_insert(0) += 1;
        if count_connection {
            counts.connections += 1;
        }
        Ok(ClientSlot {
            ip,
            topic,
            counts_connection: count_connection,
            limits: self.clone(),
        })
    }
}

impl CountState {
    fn remove_if_empty(&mut self, ip: IpKey) {
        if let Some(counts) = self.per_ip.get(&ip) {
            if counts.connections == 0 && counts.topics.is_empty() {
                self.per_ip.remove(&ip);
            }
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let limits = &self.limits;
        let mut state = limits.lock();
        state.total -= 1;
        if let Some(ip) = self.ip {
            if let Some(counts) = state.per_ip.get_mut(&ip) {
                counts.connections -= 1;
            }
            state.remove_if_empty(ip);
        }
        limits
            .metrics
            .tcp_connections
            .store(state.total as u64, Relaxed);
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut state = self.limits.lock();
        if let Some(counts) = state.per_ip.get_mut(&self.ip) {
            if let Some(count) = counts.topics.get_mut(&self.topic) {
                *count -= 1;
                if *count == 0 {
                    counts.topics.remove(&self.topic);
                }
            }
            if self.counts_connection {
                counts.connections -= 1;
            }
        }
        state.remove_if_empty(self.ip);
    }
}

/// Token bucket: `burst` messages at once, refilled at `rate` per second.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate_per_sec: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            rate_per_sec: rate_per_sec.max(0.0),
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token if there is one. `now` comes from the caller so tests control time.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate_per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Time until the next token (tests check the bucket with it).
    #[cfg(test)]
    pub fn wait_hint(&self) -> std::time::Duration {
        use std::time::Duration;
        if self.tokens >= 1.0 || self.rate_per_sec <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.rate_per_sec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn key(text: &str) -> IpKey {
        IpKey::of(text.parse().unwrap())
    }

    fn topic(n: u8) -> Topic {
        Topic::from_bytes([n; 32])
    }

    #[test]
    fn counts_total_and_per_ip_and_releases_on_drop() {
        let limits = ConnectionLimits::new(3, 2, 10, Arc::new(Metrics::default()));
        let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
        let a1 = limits.try_acquire(Some(a)).unwrap();
        let _a2 = limits.try_acquire(Some(a)).unwrap();
        assert_eq!(limits.try_acquire(Some(a)).err(), Some(Refusal::IpFull));
        let _b1 = limits.try_acquire(Some(b)).unwrap();
        assert_eq!(limits.try_acquire(Some(b)).err(), Some(Refusal::ServerFull));
        drop(a1);
        assert!(limits.try_acquire(Some(a)).is_ok());
        assert!(limits.lock().per_ip.len() == 2);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
        assert_eq!(key("2001:db8:1:2:aaaa::1").to_string(), "2001:db8:1:2::/64");
        let limits = ConnectionLimits::new(100, 2, 10, Arc::new(Metrics::default()));
        let _one = limits.try_acquire(Some(key("2001:db8::1"))).unwrap();
        let _two = limits.try_acquire(Some(key("2001:db8::2"))).unwrap();
        assert_eq!(
            limits.try_acquire(Some(key("2001:db8::3"))).err(),
            Some(Refusal::IpFull),
            "a fresh address in the same /64 is the same client"
        );
    }

    #[test]
    fn topics_per_ip_are_limited_and_released() {
        let limits = ConnectionLimits::new(100, 100, 2, Arc::new(Metrics::default()));
        let a = key("10.0.0.1");
        let one = limits.try_join(a, topic(1), false).unwrap();
        let _one_again = limits.try_join(a, topic(1), false).unwrap();
        let _two = limits.try_join(a, topic(2), false).unwrap();
        assert_eq!(
            limits.try_join(a, topic(3), false).err(),
            Some(Refusal::IpTopics)
        );
        assert!(
            limits.try_join(a, topic(2), false).is_ok(),
            "a topic it is in already does not count again"
        );
        assert!(limits.try_join(key("10.0.0.2"), topic(3), false).is_ok());
        drop(one);
        assert_eq!(
            limits.try_join(a, topic(3), false).err(),
            Some(Refusal::IpTopics),
            "topic 1 still has a member from this address"
        );
    }

    #[test]
    fn behind_a_proxy_connections_are_counted_per_client_at_join() {
        let limits = ConnectionLimits::new(100, 1, 10, Arc::new(Metrics::default()));
        // The proxy's TCP connections count in the total only.
        let _proxy_1 = limits.try_acquire(None).unwrap();
        let _proxy_2 = limits.try_acquire(None).unwrap();
        let client = key("203.0.113.9");
        let first = limits.try_join(client, topic(1), true).unwrap();
        assert_eq!(
            limits.try_join(client, topic(1), true).err(),
            Some(Refusal::IpFull)
        );
        assert!(limits.try_join(key("203.0.113.10"), topic(1), true).is_ok());
        drop(first);
        assert!(limits.try_join(client, topic(1), true).is_ok());
        assert!(
            limits.lock().per_ip.is_empty(),
            "an address that holds nothing is forgotten"
        );
    }

    #[test]
    fn bucket_allows_burst_then_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 5, start);
        for _ in 0..5 {
            assert!(bucket.try_take(start));
        }
        assert!(!bucket.try_take(start));
        assert!(bucket.wait_hint() > Duration::ZERO);
        assert!(bucket.try_take(start + Duration::from_millis(100)));
        assert!(!bucket.try_take(start + Duration::from_millis(100)));
        // Refill never exceeds the burst.
        let later = start + Duration::from_secs(60);
        for _ in 0..5 {
            assert!(bucket.try_take(later));
        }
        assert!(!bucket.try_take(later));
    }
}
