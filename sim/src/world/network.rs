//! How messages travel between pages: over each pair's links, reliable or not, and across a
//! partition (unreliable ones lost, reliable ones held until it heals).

use super::events::{Delivery, Ev};
use super::World;
use crate::net::{Link, LinkSpec};
use crate::rng::Rng;
use insieme::sync::{Channel, Destination, WireMessage};

/// The links between `n` slots, `[from][to]`, each pair drawn together (two directions of one
/// path), in a fixed order from `rng`.
pub(crate) fn links(spec: &LinkSpec, n: usize, rng: &mut Rng) -> Vec<Vec<Link>> {
    let mut links: Vec<Vec<Link>> = (0..n)
        .map(|_| (0..n).map(|_| Link::pair(spec, rng).0).collect())
        .collect();
    for a in 0..n {
        for b in (a + 1)..n {
            let (ab, ba) = Link::pair(spec, rng);
            links[a][b] = ab;
            links[b][a] = ba;
        }
    }
    links
}

impl World {
    /// Sends `msg` from `from` to its destination among the slots it is connected to.
    pub(super) fn route(
        &mut self,
        from: usize,
        to: Destination,
        channel: Channel,
        mut msg: WireMessage,
    ) {
        let node = self.slots[from].node.as_ref().unwrap();
        if let Some(h) = self.sc.hostile.filter(|h| h.slot == from) {
            let local = self.slots[from].clock.local(self.now as f64);
            (h.tamper)(&node.engine, local, &mut msg);
        }
        let from_gen = node.gen;
        let targets: Vec<usize> = match to {
            Destination::All => node.connected.iter().copied().collect(),
            Destination::One(id) => node
                .connected
                .iter()
                .copied()
                .filter(|s| self.slots[*s].node.as_ref().is_some_and(|n| n.id == id))
                .collect(),
        };
        for t in targets {
            let cut = self
                .partition
                .as_ref()
                .is_some_and(|side| side.contains(&from) != side.contains(&t));
            let d = Delivery {
                to: t,
                to_gen: self.slots[t].gen,
                from,
                from_gen,
                msg: msg.clone(),
            };
            let link = &mut self.links[from][t];
            let at = match (channel, cut) {
                (Channel::Unreliable, true) => None,
                (Channel::Reliable, true) => {
                    self.held.push(d);
                    continue;
                }
                (Channel::Unreliable, false) => {
                    link.unreliable(&self.sc.link, &mut self.link_rng, self.now)
                }
                (Channel::Reliable, false) => {
                    Some(link.reliable(&self.sc.link, &mut self.link_rng, self.now))
                }
            };
            if let Some(at) = at {
                self.push(at, Ev::Deliver(d));
            }
        }
    }

    /// The network is whole again: reliable messages held across the partition are sent.
    pub(super) fn heal(&mut self) {
        self.partition = None;
        for d in std::mem::take(&mut self.held) {
            let t = self.links[d.from][d.to].reliable(&self.sc.link, &mut self.link_rng, self.now);
            self.push(t, Ev::Deliver(d));
        }
    }
}
