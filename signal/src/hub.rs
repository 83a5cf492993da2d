//! The only state the endpoint keeps: which live connections are in which topic.
//!
//! Each connection task reads a bounded [`Mailbox`] of frames to send; the hub holds them,
//! grouped by topic. Relaying is a `try_send` into the target's mailbox under that topic's lock,
//! so nothing here ever awaits, and a client that stops reading fills its own queue and is
//! evicted (the others see it leave) instead of making the server buffer without bound.
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

/// Sends `frame` to every member; members whose queue is full (stalled) or closed (gone) are
/// removed, and the remaining ones are told that they left.
fn broadcast(members: &mut Vec<Member>, frame: &Outbound, metrics: &Metrics) {
    let mut gone: Vec<PeerId> = Vec::new();
    let mut frame = frame.clone();
    // Each eviction is news for the others, which may evict more; every round removes at
    // least one member, so this ends.
    loop {
        members.retain(|member| match member.mailbox.try_send(frame.clone()) {
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

/// Closes the mailbox of a member being removed: its task drains what is queued, then closes
/// the socket. Only a full mailbox (a client not reading) is a stall worth counting.
fn evict(member: &Member, error: Refused, metrics: &Metrics) {
    member.mailbox.close();
    if error == Refused::Full {
        tracing::info!(peer = %member.id, "evicting a stalled peer: its queue is full");
        metrics.refused(Refusal::Stalled);
    }
}

impl Membership {
    pub fn id(&self) -> PeerId {
        self.id
    }

    /// Relays `data` (already checked to be base64url) to peer `to` of the same topic.
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
            Err(error) => {
                // The target is stalled or gone: evict it so the others stop waiting for it.
                let evicted = members.remove(index);
                evict(&evicted, error, metrics);
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

    fn topic(n: u8) -> Topic {
        Topic::from_bytes([n; 32])
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
        let (a_box, b_box) = (Mailbox::new(8), Mailbox::new(8));
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
            .map(|_| {
                hub.join(topic(1), PeerId::random(), Mailbox::new(8))
                    .unwrap()
                    .0
            })
            .collect();
        assert!(hub
            .join(topic(1), PeerId::random(), Mailbox::new(8))
            .is_err());
        let (other, _) = hub
            .join(topic(2), PeerId::random(), Mailbox::new(8))
            .unwrap();
        assert_eq!(
            keep[0].relay(other.id(), "aGk"),
            Err(ErrorCode::UnknownPeer),
            "a peer of another topic is unknown"
        );
        assert_eq!(hub.topic_count(), 2);
    }

    #[test]
    fn a_stalled_peer_is_evicted_and_the_others_told() {
        let hub = Hub::new(4, Arc::new(Metrics::default()));
        let a_box = Mailbox::new(64);
        let (a, _) = hub.join(topic(1), PeerId::random(), a_box.clone()).unwrap();
        let (slow, _) = hub
            .join(topic(1), PeerId::random(), Mailbox::new(1))
            .unwrap();
        drain(&a_box);
        assert!(a.relay(slow.id(), "aa").is_ok());
        assert_eq!(a.relay(slow.id(), "aa"), Err(ErrorCode::UnknownPeer));
        assert_eq!(drain(&a_box), vec![protocol::left_frame(slow.id())]);
        assert_eq!(hub.metrics().refusals(Refusal::Stalled), 1);
        drop(slow);
        assert!(drain(&a_box).is_empty(), "no second `left`");
    }
}
