//! Per-member rate limits (pure): how much one member may make everyone else's page do.
//!
//! Anyone with the room link may run a modified client, and a data channel carries thousands of
//! messages a second. Each costs every receiver a decode and, for chat, status, names and call
//! presence, a redraw; a flood would freeze the others' main thread, which also carries the
//! frame-accurate sync. So each member's messages pass token buckets: one for everything they
//! send (so even malformed messages and sync messages are bounded before they are decoded), and
//! one per kind that redraws something. Every limit is well above what the honest client sends
//! (its status once a second, pings ten times a second), so only a flood is ever held back.
//!
//! Excess is counted, never queued without bound. Chat lines and queue pieces over the limit
//! are dropped. Messages that carry state (a status, a name, a place in the call) are not all dropped: the
//! latest one held back is kept and handed out once its bucket refills, so a member whose last
//! word came in a burst is still shown as they are; the ones it replaced count as dropped.

use super::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{LocalTime, Span};

/// A burst, then a steady rate: `burst` messages at once, then one every `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub interval: Span,
    pub burst: u32,
}

impl Rate {
    pub const fn per_sec(per_sec: i64, burst: u32) -> Rate {
        Rate {
            interval: Span::from_micros(1_000_000 / per_sec),
            burst,
        }
    }

    /// How far ahead of `now` the bucket may be booked: the burst after the first message.
    fn tolerance(self) -> Span {
        Span::from_micros(self.interval.as_micros() * i64::from(self.burst.saturating_sub(1)))
    }
}

/// A token bucket, kept as the generic cell rate algorithm keeps one: a single instant, when
/// the bucket will be full again. Integer time only; no clock of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenBucket {
    full_at: LocalTime,
}

impl TokenBucket {
    /// Takes a token at `now` if there is one.
    pub fn take(&mut self, rate: Rate, now: LocalTime) -> bool {
        if self.ready_at(rate, now) > now {
            return false;
        }
        self.full_at = self.full_at.max(now) + rate.interval;
        true
    }

    /// When the next token is there (`now` or earlier if there is one already).
    pub fn ready_at(&self, rate: Rate, now: LocalTime) -> LocalTime {
        self.full_at.max(now) - rate.tolerance()
    }
}

/// Everything one member sends, whatever it is (checked before decoding): ten times the
/// honest client's busiest traffic (clock pings and their answers at 10 Hz each, while it
/// converges, plus playback state).
pub const ANY_RATE: Rate = Rate::per_sec(200, 400);

/// The messages that redraw something, each limited on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    Status,
    Profile,
    Presence,
    Queue,
    Ready,
    Watched,
    Reaction,
    ReactionTrack,
    /// The host's statements and requests for the remote (`room::host`).
    Host,
}

const KINDS: usize = 10;

impl Kind {
    const ALL: [Kind; KINDS] = [
        Kind::Chat,
        Kind::Status,
        Kind::Profile,
        Kind::Presence,
        Kind::Queue,
        Kind::Ready,
        Kind::Watched,
        Kind::Reaction,
        Kind::ReactionTrack,
        Kind::Host,
    ];

    /// The kind of `message`, or `None` for the sync engine's own (bounded by [`ANY_RATE`]
    /// only: the engine paces itself, and its messages redraw nothing per message).
    pub fn of(message: &PeerMessage) -> Option<Kind> {
        match message {
            PeerMessage::Chat { .. } => Some(Kind::Chat),
            PeerMessage::Status(_) => Some(Kind::Status),
            PeerMessage::Profile { .. } => Some(Kind::Profile),
            PeerMessage::Call(_) => Some(Kind::Presence),
            PeerMessage::Queue(_) => Some(Kind::Queue),
            PeerMessage::Ready(_) => Some(Kind::Ready),
            PeerMessage::Watched(_) => Some(Kind::Watched),
            PeerMessage::React(_) => Some(Kind::Reaction),
            PeerMessage::ReactionTrack(_) => Some(Kind::ReactionTrack),
            PeerMessage::Host(_) => Some(Kind::Host),
            PeerMessage::Sync(_) => None,
        }
    }

    /// Chat: faster than anyone types, with room for a few lines sent at once. Status: once a
    /// second, plus each change of the player's phase and each link that opens, and at most
    /// twice a second a picture error that moved 2 ms (`web::party`: the others' offsets are
    /// worked out from it). Names: on
    /// each link that opens and each rename. Call presence: on each link that opens and each
    /// change (mute, camera, tiles resized as people come and go). Queue pieces: a whole
    /// snapshot when a link opens (at most about 200 pieces, for 400 entries of maximal
    /// links; a typical queue is a handful), then one per click, a respace a few dozen.
    /// Ready-check notes: per check, one on opening or hearing of it, one on Ready, one on
    /// Start anyway, and one per link that opens; the latest stands for the ones before.
    /// What the sender watched: once per link that opens (the latest held back stands for
    /// the others: each list is whole).
    /// Reactions: each floats over everyone's film, so a person may send a burst of ten (a
    /// few quick clicks), then five a second; the sender's page holds itself to the same
    /// rate, so only a modified client is ever dropped. Reaction tracks: one per link that
    /// opens (a whole track fits one message), with room for a few reconnections.
    pub fn rate(self) -> Rate {
        match self {
            Kind::Chat => Rate::per_sec(3, 10),
            Kind::Status => Rate::per_sec(4, 10),
            Kind::Profile => Rate::per_sec(1, 4),
            Kind::Presence => Rate::per_sec(4, 10),
            Kind::Queue => Rate::per_sec(10, 250),
            Kind::Ready => Rate::per_sec(2, 8),
            Kind::Watched => Rate::per_sec(1, 3),
            Kind::Reaction => Rate::per_sec(5, 10),
            Kind::ReactionTrack => Rate::per_sec(1, 4),
            // Host statements: a newcomer's log (each member's key, the mode, a few grants,
            // the handovers: tens) and the vouching for each state and queue piece a
            // controller sends (as fast as those: 4 states and 10 pieces a second, a snapshot).
            Kind::Host => Rate::per_sec(20, 300),
        }
    }

    /// Whether the latest message held back is kept for later (it carries state) rather than
    /// dropped. Each queue piece is its own part of the state, so the latest does not stand
    /// for the others: over the limit they are dropped (only a flood gets there; its pieces
    /// are lost until the next snapshot).
    /// Reactions are events, not state: late ones would float at the wrong moment.
    fn keeps_latest(self) -> bool {
        !matches!(self, Kind::Chat | Kind::Queue | Kind::Reaction | Kind::Host)
    }
}

struct Member<M> {
    session: SessionId,
    any: TokenBucket,
    buckets: [TokenBucket; KINDS],
    held: [Option<M>; KINDS],
}

/// Every member's buckets and what each held back. `M` is the message type (the party's
/// [`PeerMessage`]; anything in the tests).
pub struct PeerLimits<M> {
    /// At most one entry per open link (a few dozen): a list is smaller than a map here.
    members: Vec<Member<M>>,
    dropped: u32,
}

impl<M> Default for PeerLimits<M> {
    fn default() -> Self {
        PeerLimits {
            members: Vec::new(),
            dropped: 0,
        }
    }
}

impl<M> PeerLimits<M> {
    /// Messages dropped so far: over a limit, or replaced while held back.
    pub fn dropped(&self) -> u32 {
        self.dropped
    }

    /// A message from `from` arrived at `now`, not yet decoded: whether to decode it.
    pub fn admit_any(&mut self, now: LocalTime, from: SessionId) -> bool {
        let admitted = self.member(from).any.take(ANY_RATE, now);
        if !admitted {
            self.dropped = self.dropped.saturating_add(1);
        }
        admitted
    }

    /// `message`, of `kind`, from `from`: returned if it may be acted on now; otherwise held
    /// (the latest of a kind that carries state) or dropped.
    pub fn admit(&mut self, now: LocalTime, from: SessionId, kind: Kind, message: M) -> Option<M> {
        let i = kind as usize;
        let member = self.member(from);
        let (admitted, replaced) = if member.buckets[i].take(kind.rate(), now) {
            // Anything held back is older than this message: it is outdated.
            (Some(message), member.held[i].take().is_some())
        } else if kind.keeps_latest() {
            (None, member.held[i].replace(message).is_some())
        } else {
            (None, true)
        };
        if replaced {
            self.dropped = self.dropped.saturating_add(1);
        }
        admitted
    }

    /// The messages held back whose bucket has a token again at `now` (taking it), to act on
    /// in this order.
    pub fn release(&mut self, now: LocalTime) -> Vec<(SessionId, M)> {
        let mut due = Vec::new();
        for member in &mut self.members {
            for (i, kind) in Kind::ALL.into_iter().enumerate() {
                if member.held[i].is_some() && member.buckets[i].take(kind.rate(), now) {
                    due.extend(member.held[i].take().map(|m| (member.session, m)));
                }
            }
        }
        due
    }

    /// `session` left: its buckets and whatever it had held back go with it.
    pub fn forget(&mut self, session: SessionId) {
        self.members.retain(|m| m.session != session);
    }

    fn member(&mut self, session: SessionId) -> &mut Member<M> {
        let index = match self.members.iter().position(|m| m.session == session) {
            Some(index) => index,
            None => {
                self.members.push(Member {
                    session,
                    any: TokenBucket::default(),
                    buckets: [TokenBucket::default(); KINDS],
                    held: Default::default(),
                });
                self.members.len() - 1
            }
        };
        &mut self.members[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> LocalTime {
        LocalTime::from_micros(ms * 1_000)
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::per_sec(2, 3);
        let mut bucket = TokenBucket::default();
        let start = at(10_000);
        assert_eq!((0..5).filter(|_| bucket.take(rate, start)).count(), 3);
        assert_eq!(bucket.ready_at(rate, start), at(10_500));
        assert!(!bucket.take(rate, at(10_499)));
        assert!(bucket.take(rate, at(10_500)));
        assert!(!bucket.take(rate, at(10_500)));
        // Over a long quiet spell it fills up to its burst, not beyond.
        let later = at(60_000);
        assert_eq!((0..10).filter(|_| bucket.take(rate, later)).count(), 3);
        // A steady flood gets exactly the rate through.
        let mut flood = TokenBucket::default();
        let through = (0..10_000)
            .filter(|n| flood.take(rate, at(100_000 + n)))
            .count();
        assert_eq!(through, 3 + 19);
    }

    #[test]
    fn time_going_backwards_never_grants_more() {
        let rate = Rate::per_sec(1, 1);
        let mut bucket = TokenBucket::default();
        assert!(bucket.take(rate, at(5_000)));
        assert!(!bucket.take(rate, at(1_000)));
        assert!(bucket.take(rate, at(6_000)));
    }

    #[test]
    fn chat_over_the_limit_is_dropped_and_counted_per_member() {
        let mut limits = PeerLimits::default();
        let now = at(1_000);
        let burst = Kind::Chat.rate().burst as usize;
        let through = (0..100)
            .filter_map(|n| limits.admit(now, 7, Kind::Chat, n))
            .count();
        assert_eq!(through, burst);
        assert_eq!(limits.dropped(), 100 - burst as u32);
        // Someone else is not held back by the flooder, nor is another kind.
        assert_eq!(limits.admit(now, 8, Kind::Chat, 0), Some(0));
        assert_eq!(limits.admit(now, 7, Kind::Status, 0), Some(0));
        // Chat is never held back for later.
        assert_eq!(limits.release(at(60_000)), vec![]);
    }

    #[test]
    fn a_flood_of_reactions_gets_its_burst_then_five_a_second_and_none_later() {
        let mut limits = PeerLimits::default();
        let through = (0..1_000)
            .filter_map(|n| limits.admit(at(1_000 + n), 7, Kind::Reaction, n))
            .count();
        // Ten at once, then one every 200 ms of the flood's second.
        assert_eq!(through, 10 + 4);
        assert_eq!(limits.dropped(), 1_000 - 14);
        assert_eq!(limits.release(at(60_000)), vec![]);
    }

    #[test]
    fn the_latest_state_held_back_is_applied_once_the_bucket_refills() {
        let mut limits = PeerLimits::default();
        let now = at(1_000);
        let burst = Kind::Profile.rate().burst;
        for n in 0..burst {
            assert_eq!(limits.admit(now, 7, Kind::Profile, n), Some(n));
        }
        assert_eq!(limits.admit(now, 7, Kind::Profile, 100), None);
        assert_eq!(limits.admit(now, 7, Kind::Profile, 101), None);
        assert_eq!(limits.dropped(), 1, "101 replaced 100");
        assert_eq!(limits.release(now), vec![]);
        assert_eq!(limits.release(at(2_000)), vec![(7, 101)]);
        assert_eq!(limits.release(at(60_000)), vec![]);
        // A fresh message admitted outdates one still held.
        for n in 0..burst {
            limits.admit(at(60_000), 7, Kind::Profile, n);
        }
        assert_eq!(limits.admit(at(60_000), 7, Kind::Profile, 200), None);
        assert_eq!(limits.admit(at(61_000), 7, Kind::Profile, 201), Some(201));
        assert_eq!(limits.dropped(), 2);
        assert_eq!(limits.release(at(99_000)), vec![]);
    }

    #[test]
    fn everything_a_member_sends_is_bounded_before_decoding() {
        let mut limits = PeerLimits::<()>::default();
        let now = at(1_000);
        let through = (0..1_000).filter(|_| limits.admit_any(now, 7)).count();
        assert_eq!(through, ANY_RATE.burst as usize);
        assert_eq!(limits.dropped(), 1_000 - ANY_RATE.burst);
        assert!(limits.admit_any(now, 8));
    }

    #[test]
    fn a_member_who_left_is_forgotten_with_what_they_held_back() {
        let mut limits = PeerLimits::default();
        let now = at(1_000);
        for n in 0..20 {
            limits.admit(now, 7, Kind::Status, n);
        }
        limits.forget(7);
        assert_eq!(limits.release(at(60_000)), vec![]);
        assert_eq!(limits.admit(now, 7, Kind::Status, 0), Some(0));
    }

    #[test]
    fn every_message_has_its_kind() {
        use crate::room::wire::{CallPresence, ViewerPhase, ViewerStatus};
        let status = ViewerStatus {
            phase: ViewerPhase::Idle,
            offset_ms: None,
            picture_ms: None,
            offset_within_ms: 0,
        };
        let kinds = [
            PeerMessage::Chat { text: "hi".into() },
            PeerMessage::Status(status),
            PeerMessage::Profile { name: "Ada".into() },
            PeerMessage::Call(CallPresence::default()),
            PeerMessage::Queue(vec![0]),
            PeerMessage::Ready(vec![0]),
            PeerMessage::Watched("[]".into()),
            PeerMessage::React(vec![0]),
            PeerMessage::ReactionTrack(vec![0]),
            PeerMessage::Host(vec![1]),
        ]
        .map(|m| Kind::of(&m));
        assert_eq!(kinds, Kind::ALL.map(Some));
    }
}
