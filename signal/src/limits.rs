//! The limits that keep one client from hurting the others: connection counts (total and per
//! IP) checked at accept time, and the per-connection message rate.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::metrics::{Metrics, Refusal};

/// Counts open TCP connections, in total and per client IP.
pub struct ConnectionLimits {
    max_total: usize,
    max_per_ip: usize,
    state: Mutex<CountState>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct CountState {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// Proof that a connection was counted; dropping it releases the count. It is shared (in an
/// `Arc`) between the HTTP connection task and the WebSocket task that may outlive it.
pub struct ConnectionSlot {
    ip: IpAddr,
    limits: Arc<ConnectionLimits>,
}

impl ConnectionLimits {
    pub fn new(max_total: usize, max_per_ip: usize, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            max_total,
            max_per_ip,
            state: Mutex::new(CountState::default()),
            metrics,
        })
    }

    /// Counts a new connection from `ip`, or says which limit it would break.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, Refusal> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.total >= self.max_total {
            return Err(Refusal::ServerFull);
        }
        let count = state.per_ip.entry(ip).or_insert(0);
        if *count >= self.max_per_ip {
            return Err(Refusal::IpFull);
        }
        *count += 1;
        state.total += 1;
        self.metrics
            .tcp_connections
            .store(state.total as u64, Relaxed);
        Ok(ConnectionSlot {
            ip,
            limits: self.clone(),
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let limits = &self.limits;
        let mut state = limits.state.lock().unwrap_or_else(|e| e.into_inner());
        state.total -= 1;
        if let Some(count) = state.per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                state.per_ip.remove(&self.ip);
            }
        }
        limits
            .metrics
            .tcp_connections
            .store(state.total as u64, Relaxed);
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

    #[test]
    fn counts_total_and_per_ip_and_releases_on_drop() {
        let limits = ConnectionLimits::new(3, 2, Arc::new(Metrics::default()));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = limits.try_acquire(a).unwrap();
        let _a2 = limits.try_acquire(a).unwrap();
        assert_eq!(limits.try_acquire(a).err(), Some(Refusal::IpFull));
        let _b1 = limits.try_acquire(b).unwrap();
        assert_eq!(limits.try_acquire(b).err(), Some(Refusal::ServerFull));
        drop(a1);
        assert!(limits.try_acquire(a).is_ok());
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
