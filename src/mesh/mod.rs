//! The mesh's decisions (pure, sans-IO): one link to every other person in the room, who offers,
//! how glare resolves, when a broken link is restarted or given up, and which endpoint route
//! reaches whom. `web::mesh` owns the `RTCPeerConnection`s; it feeds what they report into
//! [`Links::handle_input`], drains [`Links::poll_action`] and carries each action out, and wakes
//! the machine at [`Links::poll_timeout`]. Nothing here awaits, touches a clock or a browser API.
//!
//! - Peers are known by their session id (from the sealed hello), not by the endpoint's transport
//!   id, so an endpoint restart changes routes but never breaks a link.
//! - Perfect negotiation (see [`link`]): both sides may offer at once; the polite side yields.
//!   What needs negotiating (data channels today, media tracks later) is the browser's to say:
//!   every cause arrives as the same [`Input::NegotiationNeeded`].
//! - A link that never opens is not silently dropped: its person stays in the list as
//!   unreachable, with the reason ([`crate::connectivity::Unreachable`]), until they leave.
//! - A link that does not open within [`CONNECT_TIMEOUT`] is not left connecting forever: a peer
//!   that never answered is closed and shown as not answering; one that answered but is not
//!   reached yet is shown as unreachable.
//! - What a member with the room key but a modified client can make us do is bounded: hellos and
//!   other signals per peer are rate limited, one endpoint connection speaks for one session only
//!   (so forged hellos cannot make us open connection after connection), and there are at most
//!   [`MAX_LINKS`] links.
//! - Input that is not what it claims to be, that is over a limit, or that arrives for a link
//!   that is gone, is dropped and counted; nothing here panics on it.

pub mod identity;
pub mod link;

use crate::connectivity::{LinkPath, Unreachable};
use crate::room::wire::normalize_name;
use crate::signaling::endpoint::Outage;
use crate::signaling::payload::{Envelope, SdpType, SessionId, SignalPayload};
use crate::sync::LocalTime;
use link::{Link, LinkChange, RemoteDecision};
use std::collections::{BTreeMap, VecDeque};

pub use link::{Connectivity, Phase, CONNECT_TIMEOUT, RECOVERY_GRACE, UNREACHABLE_RETRY};

/// Links at most. The endpoint admits 32 peers to a topic (signal/PROTOCOL.md), so an honest
/// room never needs more than 31; a payload that would make one more is dropped and counted.
pub const MAX_LINKS: usize = 32;

/// Which data channel a message travels on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Reliable and ordered.
    State,
    /// Unordered, no retransmits.
    Clock,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MeshEvent {
    /// A link to this person is being set up.
    Connecting(SessionId),
    /// Their hello named them (before any link is open, so even an unreachable friend has a
    /// name).
    Introduced { session: SessionId, name: String },
    /// Both data channels are open.
    Open(SessionId),
    /// A message, with the `performance.now()` at which it arrived.
    Message {
        from: SessionId,
        channel: Channel,
        bytes: Vec<u8>,
        received_at_ms: f64,
    },
    /// The link broke and is being restored.
    Reconnecting(SessionId),
    /// A broken link recovered.
    Restored(SessionId),
    /// The link never opened: no path worked, for the reason given. Retried now and then.
    Unreachable {
        session: SessionId,
        why: Unreachable,
    },
    /// The kind of path an open link uses (reported by the browser side from its stats).
    Path { session: SessionId, path: LinkPath },
    /// The link is gone for good.
    Gone(SessionId),
    /// The signaling endpoint is reachable (`None`), or why not; existing links are unaffected.
    Signaling { outage: Option<Outage> },
    /// Something the logs should know (dropped input, endpoint errors).
    Problem(String),
}

/// Counters of input dropped because it was not what it claimed to be, or came too late.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeshCounters {
    pub undecryptable: u32,
    pub malformed_payloads: u32,
    /// Payloads claiming our own session id.
    pub own_session: u32,
    /// Hellos naming their sender with a name that is blank or overlong once invisible
    /// characters are removed (the hello itself is kept).
    pub bad_names: u32,
    /// Reports about a link that does not exist (any more): it was given up while they were
    /// under way, or they are out of order.
    pub stale: u32,
    /// Payloads for a second session from an endpoint connection that already speaks for
    /// another: a member making up sessions.
    pub forged_sessions: u32,
    /// Payloads that would have made a link beyond [`MAX_LINKS`].
    pub over_cap: u32,
    /// Payloads over their sender's rate.
    pub rate_limited: u32,
    /// Payloads numbered no higher than one already accepted from their session: replayed by
    /// the endpoint, or repeated.
    pub replayed: u32,
    /// Payloads other than a hello sealed without naming us as their recipient.
    pub unaddressed: u32,
    /// Descriptions whose certificate is not the session's they claim (see [`identity`]).
    pub impersonations: u32,
    /// Payloads for a connected session from another endpoint connection than the one that
    /// reaches it, without proof that they come from it: the session's route is not moved,
    /// and a hello among them neither renames the session nor is answered.
    pub route_claims: u32,
}

/// Sessions whose last sequence number we remember. Beyond this many the oldest is forgotten;
/// a forgotten session can be replayed to, which costs at most one refused connection attempt.
const MAX_REMEMBERED_SESSIONS: usize = 256;

/// A session description, as made by one side and applied by the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub sdp_type: SdpType,
    pub sdp: String,
}

/// A trickled ICE candidate (an empty `candidate` marks the end of candidates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub candidate: String,
    pub sdp_mid: Option<String>,
    pub sdp_m_line_index: Option<u16>,
}

/// What the browser reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The endpoint accepted us; `peers` are the transports already in the topic, and
    /// `relay_configured` says whether the ICE plan made from its welcome can relay.
    SignalingJoined {
        peers: Vec<String>,
        relay_configured: bool,
    },
    /// Our display name changed (hellos carry it).
    Renamed(String),
    /// The socket to the endpoint ended, for this reason.
    SignalingLost(Outage),
    /// This endpoint transport left; whoever it reached needs a new route.
    RouteLeft(String),
    /// A sealed message from `from` that did not open with the room key.
    Undecryptable { from: String },
    /// An opened message from `from`, not yet decoded. `addressed`: it was sealed for our
    /// session, not for "whoever is on this route" (only a first hello may be, since its sender
    /// does not know us yet).
    Signal {
        from: String,
        plain: Vec<u8>,
        addressed: bool,
    },
    /// [`Action::CreateLink`] succeeded.
    Created(SessionId),
    /// [`Action::CreateLink`] failed; `error` says why, with context.
    CreationFailed { session: SessionId, error: String },
    /// The connection needs (re)negotiating, whatever the cause.
    NegotiationNeeded(SessionId),
    /// [`Action::MakeOffer`] finished: the local description to send, if there is one.
    OfferMade {
        session: SessionId,
        result: Result<Option<Description>, String>,
    },
    /// [`Action::ApplyRemote`] finished: whether the channels were opened, and the answer to
    /// send (if an offer was answered).
    RemoteApplied {
        session: SessionId,
        channels_opened: bool,
        result: Result<Option<Description>, String>,
    },
    /// [`Action::AddCandidate`] failed.
    CandidateRejected { session: SessionId, error: String },
    /// The connection gathered a candidate of its own.
    LocalCandidate {
        session: SessionId,
        candidate: Candidate,
    },
    /// The connection's signaling state changed (`stable` or not).
    SignalingState { session: SessionId, stable: bool },
    ChannelOpen {
        session: SessionId,
        channel: Channel,
    },
    ChannelClosed {
        session: SessionId,
        channel: Channel,
    },
    Connectivity {
        session: SessionId,
        state: Connectivity,
    },
    /// The time asked for by [`Links::poll_timeout`] has come.
    Timeout,
}

/// What the browser must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Seal `payload` for session `to_session` (when we know it) and send it to endpoint
    /// transport `to`.
    Send {
        to: String,
        to_session: Option<SessionId>,
        payload: SignalPayload,
    },
    /// Make the peer connection (and its data channels if `open_channels`), then report
    /// [`Input::Created`] or [`Input::CreationFailed`].
    CreateLink {
        session: SessionId,
        open_channels: bool,
    },
    /// Create and set the local offer, then report [`Input::OfferMade`].
    MakeOffer(SessionId),
    /// Apply the remote description, open the channels first if asked, answer if asked, then
    /// report [`Input::RemoteApplied`].
    ApplyRemote {
        session: SessionId,
        description: Description,
        open_channels: bool,
        answer: bool,
    },
    /// Add a remote candidate; report [`Input::CandidateRejected`] if it fails.
    AddCandidate {
        session: SessionId,
        candidate: Candidate,
    },
    RestartIce(SessionId),
    /// Close the peer connection and forget it.
    CloseLink(SessionId),
    /// Tell the application.
    Emit(MeshEvent),
}

/// The set of links of one member of a room.
pub struct Links {
    me: SessionId,
    name: String,
    /// Whether peer connections can relay through TURN (known from the endpoint's welcome).
    relay_configured: bool,
    links: BTreeMap<SessionId, Link>,
    /// People whose link was closed because they never answered, with the endpoint connection
    /// that reached them: listed until it leaves; a hello from them starts over.
    silent: Vec<(SessionId, String)>,
    counters: MeshCounters,
    /// The highest sequence number accepted from each session, oldest first.
    last_seq: VecDeque<(SessionId, u64)>,
    actions: VecDeque<Action>,
}

impl Links {
    pub fn new(me: SessionId, name: String) -> Links {
        Links {
            me,
            name,
            relay_configured: false,
            links: BTreeMap::new(),
            silent: Vec::new(),
            counters: MeshCounters::default(),
            last_seq: VecDeque::new(),
            actions: VecDeque::new(),
        }
    }

    pub fn counters(&self) -> MeshCounters {
        self.counters
    }

    /// The link to `session`, if there is one (for inspection).
    pub fn link(&self, session: SessionId) -> Option<&Link> {
        self.links.get(&session)
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The earliest time the machine wants an [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<LocalTime> {
        self.links.values().filter_map(Link::deadline).min()
    }

    /// Forgets every link without announcing anything (we are the one leaving); the browser
    /// closes its connections itself.
    pub fn leave(&mut self) {
        self.links.clear();
        self.silent.clear();
        self.actions.clear();
    }

    pub fn handle_input(&mut self, now: LocalTime, input: Input) {
        match input {
            Input::SignalingJoined {
                peers,
                relay_configured,
            } => {
                self.relay_configured = relay_configured;
                self.emit(MeshEvent::Signaling { outage: None });
                // Whoever did not answer and left while we were away is gone.
                self.forget_silent(&|route| !peers.iter().any(|peer| peer == route));
                for peer in peers {
                    self.send(peer, None, self.hello(false));
                }
            }
            Input::SignalingLost(outage) => self.emit(MeshEvent::Signaling {
                outage: Some(outage),
            }),
            Input::Renamed(name) => self.name = name,
            Input::RouteLeft(transport) => {
                let mut left = Vec::new();
                for (session, link) in self.links.iter_mut() {
                    if link.route() == Some(transport.as_str()) {
                        link.set_route(None);
                        // The endpoint was our only way to them: they have left the room.
                        if link.is_unreachable() {
                            left.push(*session);
                        }
                    }
                }
                for session in left {
                    self.drop_link(session);
                }
                self.forget_silent(&|route| route == transport);
            }
            Input::Undecryptable { .. } => self.counters.undecryptable += 1,
            Input::Signal {
                from,
                plain,
                addressed,
            } => self.on_signal(now, from, &plain, addressed),
            Input::Created(session) => {
                if self.with_link(session, Link::confirm_created) == Some(true) {
                    self.emit(MeshEvent::Connecting(session));
                }
            }
            Input::CreationFailed { session, error } => {
                self.links.remove(&session);
                self.emit(MeshEvent::Problem(error));
            }
            Input::NegotiationNeeded(session) => {
                if self.with_link(session, Link::start_offer).is_some() {
                    self.actions.push_back(Action::MakeOffer(session));
                }
            }
            Input::OfferMade { session, result } => {
                if self.with_link(session, Link::offer_done).is_some() {
                    self.send_local(session, result);
                }
            }
            Input::RemoteApplied {
                session,
                channels_opened,
                result,
            } => {
                let known = self.with_link(session, |link| {
                    if channels_opened {
                        link.channels_opened();
                    }
                });
                if known.is_some() {
                    self.send_local(session, result);
                }
            }
            Input::CandidateRejected { session, error } => {
                if self.with_link(session, |l| l.reports_candidate_errors()) == Some(true) {
                    self.emit(MeshEvent::Problem(error));
                }
            }
            Input::LocalCandidate { session, candidate } => {
                self.with_link(session, |l| l.on_local_candidate(&candidate.candidate));
                let payload = SignalPayload::Candidate {
                    session: self.me,
                    candidate: candidate.candidate,
                    sdp_mid: candidate.sdp_mid,
                    sdp_m_line_index: candidate.sdp_m_line_index,
                };
                self.send_to_session(session, payload);
            }
            Input::SignalingState { session, stable } => {
                self.with_link(session, |l| l.set_signaling_stable(stable));
            }
            Input::ChannelOpen { session, channel } => {
                if let Some(change) = self.with_link(session, |l| l.on_channel_open(channel)) {
                    self.apply_changes(session, change);
                }
            }
            Input::ChannelClosed { session, channel } => {
                if let Some(change) = self.with_link(session, |l| l.on_channel_closed(channel)) {
                    self.apply_changes(session, change);
                }
            }
            Input::Connectivity { session, state } => {
                let relay = self.relay_configured;
                if let Some(changes) =
                    self.with_link(session, |l| l.on_connectivity(now, state, relay))
                {
                    self.apply_changes(session, changes);
                }
            }
            Input::Timeout => {
                let relay = self.relay_configured;
                let due: Vec<(SessionId, LinkChange)> = self
                    .links
                    .iter_mut()
                    .filter_map(|(session, link)| Some((*session, link.on_timeout(now, relay)?)))
                    .collect();
                for (session, change) in due {
                    self.apply_changes(session, [change]);
                }
            }
        }
    }

    fn on_signal(&mut self, now: LocalTime, from: String, plain: &[u8], addressed: bool) {
        let Envelope { seq, payload } = match Envelope::decode(plain) {
            Ok(envelope) => envelope,
            Err(error) => {
                self.counters.malformed_payloads += 1;
                self.emit(MeshEvent::Problem(format!(
                    "dropped a signaling payload: {error}"
                )));
                return;
            }
        };
        let session = payload.session();
        if session == self.me {
            self.counters.own_session += 1;
            return;
        }
        let hello = matches!(payload, SignalPayload::Hello { .. });
        if !addressed && !hello {
            self.counters.unaddressed += 1;
            return;
        }
        if self.speaks_for_another(session, &from) {
            self.counters.forged_sessions += 1;
            return;
        }
        if !self.accept_seq(session, seq) {
            self.counters.replayed += 1;
            return;
        }
        // Only a description proves who sent it: its certificate is the session's.
        let proven = match &payload {
            SignalPayload::Description { sdp, .. } => {
                if !identity::sdp_is_from(sdp, session) {
                    self.counters.impersonations += 1;
                    return;
                }
                true
            }
            _ => false,
        };
        if !self.ensure_link(now, session, &from, hello, proven) {
            return;
        }
        if self
            .links
            .get_mut(&session)
            .is_some_and(|link| !link.admit_signal(now, hello))
        {
            self.counters.rate_limited += 1;
            return;
        }
        match payload {
            SignalPayload::Hello { .. }
                if self.links.get(&session).and_then(Link::route) != Some(from.as_str()) =>
            {
                // A hello under a connected session's name from elsewhere (a route claim,
                // counted above): it may not rename them, and needs no answer.
            }
            SignalPayload::Hello { reply, name, .. } => {
                match name.as_deref().map(normalize_name) {
                    Some(Some(name)) => self.emit(MeshEvent::Introduced { session, name }),
                    Some(None) => self.counters.bad_names += 1,
                    None => {}
                }
                if !reply {
                    self.send(from, Some(session), self.hello(true));
                }
            }
            SignalPayload::Description { sdp_type, sdp, .. } => {
                let is_offer = sdp_type == SdpType::Offer;
                let decision = self.with_link(session, |l| l.on_remote_description(is_offer));
                if let Some(RemoteDecision::Apply {
                    open_channels,
                    answer,
                }) = decision
                {
                    self.actions.push_back(Action::ApplyRemote {
                        session,
                        description: Description { sdp_type, sdp },
                        open_channels,
                        answer,
                    });
                }
            }
            SignalPayload::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
                ..
            } => self.actions.push_back(Action::AddCandidate {
                session,
                candidate: Candidate {
                    candidate,
                    sdp_mid,
                    sdp_m_line_index,
                },
            }),
        }
    }

    /// Whether `seq` is above every number accepted from `session` so far; if so, remembers it.
    fn accept_seq(&mut self, session: SessionId, seq: u64) -> bool {
        if let Some((_, last)) = self.last_seq.iter_mut().find(|(s, _)| *s == session) {
            if seq <= *last {
                return false;
            }
            *last = seq;
            return true;
        }
        if self.last_seq.len() >= MAX_REMEMBERED_SESSIONS {
            self.last_seq.pop_front();
        }
        self.last_seq.push_back((session, seq));
        true
    }

    /// Whether endpoint connection `route` already speaks for a session other than `session`.
    /// A connection is one page, and a page one session (a reloaded page connects anew): a
    /// second session from it is made up, and each would cost us a peer connection.
    fn speaks_for_another(&self, session: SessionId, route: &str) -> bool {
        self.links
            .iter()
            .any(|(s, link)| *s != session && link.route() == Some(route))
            || self.silent.iter().any(|(s, r)| *s != session && r == route)
    }

    /// Creates the link to `session` if there is none, and records the route that reaches it:
    /// the latest message from a session says where it is now, except that a connected
    /// session's route moves only when it has none left or the message is `proven` to come
    /// from it (any member could otherwise point someone's signaling at itself). False if there is no link to
    /// handle the payload on: someone who did not answer sent something else than a hello
    /// (which would start over), or the room is at [`MAX_LINKS`].
    fn ensure_link(
        &mut self,
        now: LocalTime,
        session: SessionId,
        route: &str,
        hello: bool,
        proven: bool,
    ) -> bool {
        if let Some(link) = self.links.get_mut(&session) {
            if link.route() != Some(route) {
                if link.route().is_none() || link.phase() != Phase::Open || proven {
                    link.set_route(Some(route.to_owned()));
                } else {
                    self.counters.route_claims += 1;
                }
            }
            return true;
        }
        if let Some(index) = self.silent.iter().position(|(s, _)| *s == session) {
            if !hello {
                self.counters.stale += 1;
                return false;
            }
            self.silent.swap_remove(index);
        }
        if self.links.len() >= MAX_LINKS {
            self.counters.over_cap += 1;
            return false;
        }
        let link = Link::new(self.me, session, route.to_owned(), now);
        let open_channels = link.opens_channels_up_front();
        self.links.insert(session, link);
        self.actions.push_back(Action::CreateLink {
            session,
            open_channels,
        });
        true
    }

    fn send_local(&mut self, session: SessionId, result: Result<Option<Description>, String>) {
        match result {
            Ok(Some(Description { sdp_type, sdp })) => {
                let payload = SignalPayload::Description {
                    session: self.me,
                    sdp_type,
                    sdp,
                };
                self.send_to_session(session, payload);
            }
            Ok(None) => {}
            Err(error) => self.emit(MeshEvent::Problem(error)),
        }
    }

    fn apply_changes(&mut self, session: SessionId, changes: impl IntoIterator<Item = LinkChange>) {
        for change in changes {
            match change {
                LinkChange::Open => self.emit(MeshEvent::Open(session)),
                LinkChange::Reconnecting => self.emit(MeshEvent::Reconnecting(session)),
                LinkChange::Restored => self.emit(MeshEvent::Restored(session)),
                LinkChange::RestartIce => self.actions.push_back(Action::RestartIce(session)),
                LinkChange::Unreachable(why) => self.emit(MeshEvent::Unreachable { session, why }),
                LinkChange::NoAnswer => self.silence(session),
                LinkChange::Gone => self.drop_link(session),
            }
        }
    }

    /// Forgets whoever did not answer and whose endpoint connection is `gone`: they left.
    fn forget_silent(&mut self, gone: &dyn Fn(&str) -> bool) {
        let mut index = 0;
        while let Some((session, route)) = self.silent.get(index) {
            if gone(route) {
                let session = *session;
                self.silent.swap_remove(index);
                self.emit(MeshEvent::Gone(session));
            } else {
                index += 1;
            }
        }
    }

    /// Closes the link to someone who never answered. While their endpoint connection is in
    /// the room they stay listed, as not answering; without one, they are gone.
    fn silence(&mut self, session: SessionId) {
        let Some(link) = self.links.remove(&session) else {
            return;
        };
        self.actions.push_back(Action::CloseLink(session));
        match link.route() {
            Some(route) => {
                self.silent.push((session, route.to_owned()));
                let why = Unreachable::NoAnswer;
                self.emit(MeshEvent::Unreachable { session, why });
            }
            None => self.emit(MeshEvent::Gone(session)),
        }
    }

    fn drop_link(&mut self, session: SessionId) {
        if self.links.remove(&session).is_some() {
            self.actions.push_back(Action::CloseLink(session));
            self.emit(MeshEvent::Gone(session));
        }
    }

    /// Runs `f` on the link to `session`; a report about a missing link is counted as stale.
    fn with_link<T>(&mut self, session: SessionId, f: impl FnOnce(&mut Link) -> T) -> Option<T> {
        let result = self.links.get_mut(&session).map(f);
        if result.is_none() {
            self.counters.stale += 1;
        }
        result
    }

    fn hello(&self, reply: bool) -> SignalPayload {
        SignalPayload::Hello {
            session: self.me,
            reply,
            name: Some(self.name.clone()),
        }
    }

    fn send(&mut self, to: String, to_session: Option<SessionId>, payload: SignalPayload) {
        self.actions.push_back(Action::Send {
            to,
            to_session,
            payload,
        });
    }

    /// Sends to whichever route reaches `session` now; without one the payload is dropped (the
    /// route comes back with the peer's next message).
    fn send_to_session(&mut self, session: SessionId, payload: SignalPayload) {
        if let Some(Some(route)) = self.with_link(session, |l| l.route().map(str::to_owned)) {
            self.send(route, Some(session), payload);
        }
    }

    fn emit(&mut self, event: MeshEvent) {
        self.actions.push_back(Action::Emit(event));
    }
}

#[cfg(test)]
mod tests;
