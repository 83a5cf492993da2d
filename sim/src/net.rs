//! The network between simulated peers: one-way delays, jitter, asymmetry, loss, reordering,
//! and the head-of-line blocking of a reliable ordered channel.
//!
//! Each ordered pair of peers has its own directed link. The unreliable channel delivers each
//! packet independently (so jitter reorders them) or drops it. The reliable channel never
//! drops: a lost packet is retransmitted after a retransmission timeout, and nothing behind it
//! is delivered before it (head-of-line delay), like SCTP in WebRTC data channels.

use crate::rng::Rng;

/// How a path's queueing delay varies from packet to packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Jitter {
    /// Uniform extra delay in [0, max_us).
    Uniform { max_us: f64 },
    /// Exponential body with the given mean, plus with probability `tail_prob` a uniform extra
    /// delay up to `tail_max_us`; the total is capped at `tail_max_us`.
    Tail {
        mean_us: f64,
        tail_prob: f64,
        tail_max_us: f64,
    },
}

impl Jitter {
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match *self {
            Jitter::Uniform { max_us } => rng.range(0.0, max_us),
            Jitter::Tail {
                mean_us,
                tail_prob,
                tail_max_us,
            } => {
                let mut j = rng.exp(mean_us);
                if rng.chance(tail_prob) {
                    j += rng.range(0.0, tail_max_us);
                }
                j.min(tail_max_us)
            }
        }
    }
}

/// Conditions of every link in a scenario.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSpec {
    /// Base one-way delay (half the base round trip).
    pub one_way_us: f64,
    pub jitter: Jitter,
    /// Largest difference between the two directions' base delays.
    pub asymmetry_us: f64,
    /// Loss probability per packet (unreliable: dropped; reliable: retransmitted).
    pub loss: f64,
    /// Least retransmission timeout of the reliable channel.
    pub rto_min_us: f64,
}

/// One direction of one link.
#[derive(Clone, Debug)]
pub struct Link {
    pub base_us: f64,
    last_reliable: i64,
}

impl Link {
    /// Builds both directions of the link between two peers.
    pub fn pair(spec: &LinkSpec, rng: &mut Rng) -> (Link, Link) {
        let a = rng.range(-spec.asymmetry_us, spec.asymmetry_us) / 2.0;
        let mk = |d: f64| Link {
            base_us: (spec.one_way_us + d).max(0.0),
            last_reliable: i64::MIN,
        };
        (mk(a), mk(-a))
    }

    /// Arrival time of an unreliable packet sent at `now`, or `None` if lost.
    pub fn unreliable(&mut self, spec: &LinkSpec, rng: &mut Rng, now: i64) -> Option<i64> {
        if rng.chance(spec.loss) {
            return None;
        }
        Some(now + (self.base_us + spec.jitter.sample(rng)).round() as i64)
    }

    /// Arrival time of a reliable message sent at `now`: retransmitted until it gets through,
    /// and never before the message sent ahead of it.
    pub fn reliable(&mut self, spec: &LinkSpec, rng: &mut Rng, now: i64) -> i64 {
        let rto = spec.rto_min_us.max(4.0 * self.base_us);
        let mut t = now as f64;
        let mut tries = 0;
        while rng.chance(spec.loss) && tries < 20 {
            t += rto * f64::from(1u32 << tries.min(4));
            tries += 1;
        }
        let arrive = (t + self.base_us + spec.jitter.sample(rng)).round() as i64;
        let arrive = arrive.max(self.last_reliable);
        self.last_reliable = arrive;
        arrive
    }
}
