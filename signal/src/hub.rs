//! The only state the endpoint keeps: which live connections are in which topic.
//!
//! Each connection task reads a bounded [`Mailbox`] of frames to send; the hub holds them,
//! grouped by topic. Relaying is a `try_send` into the target's mailbox under that topic's lock,
//! so nothing here ever awaits. A `data` frame that does not fit the target's queue is refused
//! to its sender (`peer_busy`), never buffered without bound; a client that stops reading is
//! dropped by its own task's write deadline, or evicted here once even its notices pile up
//! (the others see it leave).
//!
//! Lock order: the topic map, then a room. Relaying takes only the room lock; joining and
//! leaving take both, so a room is removed from the map exactly when it becomes empty.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;

use crate::mailbox::{Mailbox, Refused};
use crate::metrics::{Metrics, Refusal};
use crate::protocol::{self, ErrorCode, PeerId, Topic};

/// A frame ready to send, shared between recipients without copying.
pub type Outbound = Utf8Bytes;

pub struct Hub {
    topics: Mutex<HashMap<Topic, Arc<Room>>>,
    max_peers: usize,
    metrics: Arc<Metrics>,
    capture: Option<Mutex<std::fs::File>>,
}

/// The peers of one topic.
#[derive(Default)]
pub struct Room {
    members: Mutex<Vec<Member>>,
}

struct Member {
    id: PeerId,
    mailbox: Arc<Mailbox>,
}

/// The topic was full; the connection must be refused.
#[derive(Debug, PartialEq, Eq)]
pub struct TopicFull;

/// A connection's place in its topic. Dropping it leaves the topic and tells the others.
pub struct Membership {
    hub: Arc<Hub>,
    topic: Topic,
    room: Arc<Room>,
    id: PeerId,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock would be a bug; keep serving the other topics regardless.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Hub {
    pub fn new(max_peers: usize, metrics: Arc<Metrics>) -> Arc<Hub> {
        Arc::new(Hub {
            topics: Mutex::new(HashMap::new()),
            max_peers: max_peers.max(1),
            metrics,
            capture: None,
        })
    }

    /// Like [`Hub::new`], and appends every relayed payload as a line to `path` (test only).
    pub fn with_capture(
        max_peers: usize,
        metrics: Arc<Metrics>,
        path: &Path,
    ) -> std::io::Result<Arc<Hub>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Arc::new(Hub {
            topics: Mutex::new(HashMap::new()),
            max_peers: max_peers.max(1),
            metrics,
            capture: Some(Mutex::new(file)),
        }))
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub fn topic_count(&self) -> usize {
        lock(&self.topics).len()
    }

    /// Joins `topic` as `id`. Returns the membership and the peers already present (in join
    /// order); the others are told `joined` before this returns.
    pub fn join(
        self: &Arc<Self>,
        topic: Topic,
        id: PeerId,
        mailbox: Arc<Mailbox>,
    ) -> Result<(Membership, Vec<PeerId>), TopicFull> {
        let mut topics = lock(&self.topics);
        let room = topics.entry(topic).or_default().clone();
        let mut members = lock(&room.members);
        if members.len() >= self.max_peers {
            drop(members);
            self.metrics.refused(Refusal::TopicFull);
            if lock(&room.members).is_empty() {
                topics.remove(&topic);
            }
            return Err(TopicFull);
        }
        let present: Vec<PeerId> = members.iter().map(|m| m.id).collect();
        let joined = Outbound::from(protocol::joined_frame(id));
        broadcast(&mut members, &joined, &self.metrics);
        members.push(Member { id, mailbox });
        self.metrics.topics.store(topics.len() as u64, Relaxed);
        self.metrics.peers.fetch_add(1, Relaxed);
        self.metrics.joins_total.fetch_add(1, Relaxed);
        drop(members);
        drop(topics);
        Ok((
            Membership {
                hub: self.clone(),
                topic,
                room,
                id,
            },
            present,
        ))
    }

    fn leave(&self, topic: Topic, room: &Arc<Room>, id: PeerId) {
        let mut topics = lock(&self.topics);
        let mut members = lock(&room.members);
        if let Some(index) = members.iter().position(|m| m.id == id) {
            members.remove(index);
            let left = Outbound::from(protocol::left_frame(id));
            broadcast(&mut members, &left, &self.metrics);
        }
        if members.is_empty() {
            if let Some(current) = topics.get(&topic) {
                if Arc::ptr_eq(current, room) {
                    topics.remove(&topic);
                }
            }
        }
        self.metrics.topics.store(topics.len() as u64, Relaxed);
    }

    fn capture(&self, data: &str) {
        if let Some(file) = &self.capture {
            let mut file = lock(file);
            let mut line = String::with_capacity(data.len() + 1);
            line.push_str(data);
            line.push('\n');
            if let Err(error) = file.write_all(line.as_bytes()) {
                tracing::warn!(%error, "cannot write the relay capture");
            }
        }
    }
}

/// Sends the notice `frame` to every member; members that are not reading (notices piling up)
/// or gone (closed) are removed, and the remaining ones are told that they left.
fn broadcast(members: &mut Vec<Member>, frame: &Outbound, metrics: &Metrics) {
    let mut gone: Vec<PeerId> = Vec::new();
    let mut frame = frame.clone();
    // Each eviction is news for the others, which may evict more; every round removes at
    // least one member, so this ends.
    loop {
        members.retain(|member| match member.mailbox.try_notify(frame.clone()) {
            Ok(()) => true,
            Err(error) => {
                evict(member, error, metrics);
                gone.push(member.id);
                false
            }
        });
        let Some(id) = gone.pop() else { return };
        frame = Outbound::from(protocol::left_frame(id));
    }
}

/// Closes the mailbox of a member being removed (dropping what is queued: it is not reading
/// it); its task then closes the socket. Only a full mailbox (a client not reading) is a stall
/// worth counting.
fn evict(member: &Member, error: Refused, metrics: &Metrics) {
    member.mailbox.close();
    if error == Refused::Full {
        tracing::info!(peer = %member.id, "evicting a stalled peer: its notices pile up");
        metrics.refused(Refusal::Stalled);
    }
}

impl Membership {
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// Relays `data` (already checked to be base64url) to peer `to` of the same topic.
    ///
    /// Rule: when the frame does not fit the target's queue (or the process's budget), the
    /// sender pays: the frame is dropped and the sender gets `peer_busy`, which is one of its
    /// strikes. The target keeps its place.
    /// Reason: a full queue means either a target that stopped reading or a member flooding
    /// it, and the hub cannot tell which. Evicting the target (as this did before) let any
    /// member keep any other off signaling just by flooding it. Refused, an honest sender
    /// loses one message in a rare burst; a flooder is cut off after `--max-strikes`; and a
    /// target that truly stopped reading is still dropped, by its own task's write deadline
    /// (`--write-timeout`), once its socket stops taking frames.
    pub fn relay(&self, to: PeerId, data: &str) -> Result<(), ErrorCode> {
        if to == self.id {
            return Err(ErrorCode::UnknownPeer);
        }
        let frame = Outbound::from(protocol::data_frame(self.id, data));
        let metrics = &self.hub.metrics;
        let mut members = lock(&self.room.members);
        let index = members
            .iter()
            .position(|m| m.id == to)
            .ok_or(ErrorCode::UnknownPeer)?;
        match members[index].mailbox.try_send(frame) {
            Ok(()) => {
                drop(members);
                metrics.messages_relayed_total.fetch_add(1, Relaxed);
                metrics
                    .bytes_relayed_total
                    .fetch_add(data.len() as u64, Relaxed);
                self.hub.capture(data);
                Ok(())
            }
            Err(Refused::Busy | Refused::Full) => Err(ErrorCode::PeerBusy),
            Err(Refused::Closed) => {
                // The target is leaving (evicted): take it out now, so the others stop
                // addressing it.
                let evicted = members.remove(index);
                evict(&evicted, Refused::Closed, metrics);
                let left = Outbound::from(protocol::left_frame(to));
                broadcast(&mut members, &left, metrics);
                Err(ErrorCode::UnknownPeer)
            }
        }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.topic, &self.room, self.id);
        self.hub.metrics.peers.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mailbox::{Budget, NOTICE_HEADROOM};

    fn topic(n: u8) -> Topic {
        Topic::from_bytes([n; 32])
    }

    /// A mailbox of `frames` data frames and plenty of bytes.
    fn mailbox(frames: usize) -> Arc<Mailbox> {
        Mailbox::new(Budget::new(
            frames,
            1 << 20,
            1 << 30,
            Arc::new(Metrics::default()),
        ))
    }

    fn drain(mailbox: &Mailbox) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(frame) = mailbox.try_recv() {
            out.push(frame.as_str().to_owned());
        }
        out
    }

    #[test]
    fn join_relay_leave() {
        let hub = Hub::new(4, Arc::new(Metrics::default()));
        let (a_box, b_box) = (mailbox(8), mailbox(8));
        let (a, present) = hub.join(topic(1), PeerId::random(), a_box.clone()).unwrap();
        assert!(present.is_empty());
        let (b, present) = hub.join(topic(1), PeerId::random(), b_box.clone()).unwrap();
        assert_eq!(present, vec![a.id()]);
        assert_eq!(drain(&a_box), vec![protocol::joined_frame(b.id())]);
        a.relay(b.id(), "aGk").unwrap();
        assert_eq!(drain(&b_box), vec![protocol::data_frame(a.id(), "aGk")]);
        assert_eq!(a.relay(a.id(), "aGk"), Err(ErrorCode::UnknownPeer));
        assert_eq!(
            a.relay(PeerId::random(), "aGk"),
            Err(ErrorCode::UnknownPeer)
        );
        let b_id = b.id();
        drop(b);
        assert_eq!(drain(&a_box), vec![protocol::left_frame(b_id)]);
        assert_eq!(hub.topic_count(), 1);
        drop(a);
        assert_eq!(hub.topic_count(), 0);
        assert_eq!(hub.metrics().peers.load(Relaxed), 0);
    }

    #[test]
    fn topics_are_isolated_and_bounded() {
        let hub = Hub::new(2, Arc::new(Metrics::default()));
        // The hub holds each mailbox itself, so the tests need not keep one to stay joined.
        let keep: Vec<Membership> = (0..2)
            .map(|_| hub.join(topic(1), PeerId::random(), mailbox(8)).unwrap().0)
            .collect();
        assert!(hub.join(topic(1), PeerId::random(), mailbox(8)).is_err());
        let (other, _) = hub.join(topic(2), PeerId::random(), mailbox(8)).unwrap();
        assert_eq!(
            keep[0].relay(other.id(), "aGk"),
            Err(ErrorCode::UnknownPeer),
            "a peer of another topic is unknown"
        );
        assert_eq!(hub.topic_count(), 2);
    }

    #[test]
    fn a_flooded_peer_stays_and_the_sender_is_refused() {
        let hub = Hub::new(4, Arc::new(Metrics::default()));
        let (flooder, _) = hub.join(topic(1), PeerId::random(), mailbox(64)).unwrap();
        let victim_box = mailbox(2);
        let (victim, _) = hub
            .join(topic(1), PeerId::random(), victim_box.clone())
            .unwrap();
        let other_box = mailbox(64);
        let (other, _) = hub
            .join(topic(1), PeerId::random(), other_box.clone())
            .unwrap();
        drain(&victim_box);
        assert!(flooder.relay(victim.id(), "aa").is_ok());
        assert!(flooder.relay(victim.id(), "aa").is_ok());
        assert_eq!(
            flooder.relay(victim.id(), "aa"),
            Err(ErrorCode::PeerBusy),
            "the sender pays for the full queue"
        );
        assert_eq!(other.relay(victim.id(), "aa"), Err(ErrorCode::PeerBusy));
        assert!(drain(&other_box).is_empty(), "nobody left");
        assert_eq!(hub.metrics().refusals(Refusal::Stalled), 0);
        // The victim reads, and is reachable again.
        assert_eq!(drain(&victim_box).len(), 2);
        assert!(other.relay(victim.id(), "aa").is_ok());
    }

    #[test]
    fn a_peer_whose_notices_pile_up_is_evicted_and_the_others_told() {
        let hub = Hub::new(NOTICE_HEADROOM + 8, Arc::new(Metrics::default()));
        let watcher_box = mailbox(1024);
        let (_watcher, _) = hub
            .join(topic(1), PeerId::random(), watcher_box.clone())
            .unwrap();
        let slow_box = mailbox(1);
        let (slow, _) = hub
            .join(topic(1), PeerId::random(), slow_box.clone())
            .unwrap();
        // One `joined` per newcomer; the slow peer never reads them.
        let mut newcomers = Vec::new();
        while !slow_box.is_closed() {
            assert!(newcomers.len() <= NOTICE_HEADROOM + 1, "never evicted");
            newcomers.push(
                hub.join(topic(1), PeerId::random(), mailbox(1024))
                    .unwrap()
                    .0,
            );
        }
        assert_eq!(newcomers.len(), NOTICE_HEADROOM + 2);
        assert!(drain(&watcher_box).contains(&protocol::left_frame(slow.id())));
        assert_eq!(hub.metrics().refusals(Refusal::Stalled), 1);
        assert_eq!(slow_box.queued_bytes(), 0, "its queue is dropped at once");
        let slow_id = slow.id();
        drop(slow);
        assert!(
            !drain(&watcher_box).contains(&protocol::left_frame(slow_id)),
            "no second `left`"
        );
    }
}
