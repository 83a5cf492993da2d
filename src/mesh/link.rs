//! One link's decisions (pure): perfect negotiation's roles and collisions, and the link's
//! liveness (connecting, open, recovering, unreachable, gone) with its recovery grace.
//!
//! The link never sees a peer connection: it is told what the connection reported and answers
//! with what to do. [`super::Links`] turns those answers into actions for the browser.

use crate::connectivity::{candidate_type, CandidateType, Unreachable};
use crate::room::limits::{Rate, TokenBucket};
use crate::signaling::payload::SessionId;
use crate::sync::{LocalTime, Span};

use super::Channel;

/// How long a broken link may try to recover (ICE restart) before its person is shown as gone.
pub const RECOVERY_GRACE: Span = Span::from_millis(10_000);

/// How often a link that never opened tries again (an ICE restart, which gathers afresh): a
/// relay that was down may be back, a network may have changed. Rare enough to cost nothing.
pub const UNREACHABLE_RETRY: Span = Span::from_millis(15_000);

/// How long a new link may take to open. A peer that has not answered our negotiation by then
/// never will (its page closed or is stuck, or the hello that made the link was forged): the
/// connection is closed and the person shown as not answering. A peer that answered but to
/// which no path has worked yet is shown as unreachable now, as ICE would say when it gives up
/// (later, or never if their candidates were lost), and retried like any unreachable link.
pub const CONNECT_TIMEOUT: Span = Span::from_millis(20_000);

/// Hellos a peer may send: one when either side (re)joins the endpoint, which reconnects with
/// backoff; each is answered, so a flood of them must not become a flood of our answers.
const HELLO_RATE: Rate = Rate::per_sec(1, 5);
/// Descriptions and candidates: a negotiation trickles a dozen candidates, and the call
/// renegotiates as tracks come and go. (The endpoint also limits each peer to 50 messages a
/// second.)
const SIGNAL_RATE: Rate = Rate::per_sec(20, 100);

/// What the peer connection says about its transport (`RTCPeerConnectionState`, folded to what
/// the decisions need).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    /// `new` or `connecting`: nothing to decide yet.
    Connecting,
    Connected,
    /// Often heals by itself.
    Disconnected,
    /// Needs an ICE restart to heal.
    Failed,
    /// Closed by this side or by the browser: the link is over.
    Closed,
}

/// Where a link is, as the room sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Asked for, but the browser has not yet confirmed its peer connection exists.
    Creating,
    /// Negotiating, channels not both open yet.
    Connecting,
    /// Both channels open and the transport up.
    Open,
    /// The transport broke; restoring until the grace runs out.
    Recovering { gives_up_at: LocalTime },
    /// Never opened: every path failed. Retried now and then; gone when the person leaves.
    Unreachable { retry_at: LocalTime },
}

/// What to do with a remote session description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteDecision {
    /// The impolite side's answer to glare: keep our own offer, drop theirs.
    Ignore,
    /// Apply it (an offer over our own pending one rolls ours back).
    Apply {
        /// The polite side creates its matching channels inside the first offer's negotiation.
        open_channels: bool,
        /// An offer needs our answer.
        answer: bool,
    },
}

/// A change the room must hear about, or a step the connection must take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkChange {
    Open,
    Reconnecting,
    Restored,
    RestartIce,
    /// A link that never opened failed: say why.
    Unreachable(Unreachable),
    /// The peer never answered our negotiation within [`CONNECT_TIMEOUT`]: close the
    /// connection, and show them as not answering.
    NoAnswer,
    Gone,
}

#[derive(Debug, Clone)]
pub struct Link {
    polite: bool,
    /// The endpoint transport id that currently reaches this person.
    route: Option<String>,
    created: bool,
    channels_created: bool,
    /// Open state of [`Channel::State`] and [`Channel::Clock`], in that order.
    channels_open: [bool; 2],
    making_offer: bool,
    ignore_offer: bool,
    signaling_stable: bool,
    connectivity: Connectivity,
    announced_open: bool,
    /// Set between losing the transport and either recovering it or giving up.
    gives_up_at: Option<LocalTime>,
    /// We gathered a relay candidate for this link: the relay answered us.
    relay_gathered: bool,
    /// Set while a link that never opened is unreachable: when to try again.
    retry_at: Option<LocalTime>,
    /// Set until the link opens or is found unreachable: when to stop waiting.
    connect_by: Option<LocalTime>,
    /// We had the peer's session description: they answered our negotiation.
    heard_back: bool,
    hellos: TokenBucket,
    signals: TokenBucket,
}

impl Link {
    /// The peer with the lower session id is polite: on glare it yields its own offer. Both
    /// sides compute the same answer from the same two ids, so exactly one yields.
    pub fn new(me: SessionId, peer: SessionId, route: String, now: LocalTime) -> Link {
        let polite = me < peer;
        Link {
            polite,
            route: Some(route),
            created: false,
            // Only the impolite side opens the channels up front, so only it makes the first
            // offer: no glare on the initial negotiation, whose rollback would close them.
            channels_created: !polite,
            channels_open: [false; 2],
            making_offer: false,
            ignore_offer: false,
            signaling_stable: true,
            connectivity: Connectivity::Connecting,
            announced_open: false,
            gives_up_at: None,
            relay_gathered: false,
            retry_at: None,
            connect_by: Some(now + CONNECT_TIMEOUT),
            heard_back: false,
            hellos: TokenBucket::default(),
            signals: TokenBucket::default(),
        }
    }

    /// Whether a signaling message from the peer (a hello or not) is within its rate; what is
    /// not is dropped.
    pub fn admit_signal(&mut self, now: LocalTime, hello: bool) -> bool {
        match hello {
            true => self.hellos.take(HELLO_RATE, now),
            false => self.signals.take(SIGNAL_RATE, now),
        }
    }

    pub fn polite(&self) -> bool {
        self.polite
    }

    /// Whether the peer connection is created with its data channels (the impolite side).
    pub fn opens_channels_up_front(&self) -> bool {
        !self.polite
    }

    pub fn route(&self) -> Option<&str> {
        self.route.as_deref()
    }

    pub fn set_route(&mut self, route: Option<String>) {
        self.route = route;
    }

    pub fn phase(&self) -> Phase {
        match (self.created, self.gives_up_at, self.retry_at) {
            (false, _, _) => Phase::Creating,
            (true, Some(gives_up_at), _) => Phase::Recovering { gives_up_at },
            (true, None, Some(retry_at)) => Phase::Unreachable { retry_at },
            (true, None, None) if self.announced_open => Phase::Open,
            (true, None, None) => Phase::Connecting,
        }
    }

    /// We gathered a candidate of our own (an SDP candidate line) for this link.
    pub fn on_local_candidate(&mut self, candidate_line: &str) {
        if candidate_type(candidate_line) == Some(CandidateType::Relay) {
            self.relay_gathered = true;
        }
    }

    /// The browser made the peer connection; false if it already had.
    pub fn confirm_created(&mut self) -> bool {
        !std::mem::replace(&mut self.created, true)
    }

    /// Negotiation is needed (channels, tracks, an ICE restart: any cause). We make an offer.
    pub fn start_offer(&mut self) {
        self.making_offer = true;
    }

    pub fn offer_done(&mut self) {
        self.making_offer = false;
    }

    pub fn set_signaling_stable(&mut self, stable: bool) {
        self.signaling_stable = stable;
    }

    /// Perfect negotiation's receiving side: an offer collides with ours if we are making one
    /// or are not back to `stable`; the impolite side then ignores it.
    pub fn on_remote_description(&mut self, is_offer: bool) -> RemoteDecision {
        let collision = is_offer && (self.making_offer || !self.signaling_stable);
        self.ignore_offer = !self.polite && collision;
        if self.ignore_offer {
            return RemoteDecision::Ignore;
        }
        self.heard_back = true;
        RemoteDecision::Apply {
            open_channels: is_offer && !self.channels_created,
            answer: is_offer,
        }
    }

    pub fn channels_opened(&mut self) {
        self.channels_created = true;
    }

    /// Candidates of an offer we ignored fail to apply; that is expected, not a problem.
    pub fn reports_candidate_errors(&self) -> bool {
        !self.ignore_offer
    }

    pub fn on_channel_open(&mut self, channel: Channel) -> Option<LinkChange> {
        self.channels_open[channel_index(channel)] = true;
        self.maybe_open()
    }

    /// Closing the state channel is how the other side's departure shows first (it closed its
    /// page): gone now, not after ICE times out.
    pub fn on_channel_closed(&mut self, channel: Channel) -> Option<LinkChange> {
        self.channels_open[channel_index(channel)] = false;
        (channel == Channel::State).then_some(LinkChange::Gone)
    }

    /// Disconnected and failed both show the person as reconnecting and start the grace; only
    /// failed needs an ICE restart. A recovery ends with the transport connected again.
    ///
    /// A link that never opened has nothing to recover: when it fails, every path was tried,
    /// so the person is shown as unreachable (with why, from `relay_configured` and what we
    /// gathered) and the link retries now and then instead of vanishing from the list.
    pub fn on_connectivity(
        &mut self,
        now: LocalTime,
        state: Connectivity,
        relay_configured: bool,
    ) -> Vec<LinkChange> {
        self.connectivity = state;
        let mut changes = Vec::new();
        match state {
            Connectivity::Connected => {
                self.retry_at = None;
                changes.extend(self.maybe_open());
                if self.gives_up_at.take().is_some() {
                    changes.push(LinkChange::Restored);
                }
            }
            Connectivity::Failed if !self.announced_open => {
                changes.extend(self.unreachable(relay_configured));
                self.retry_at = Some(now + UNREACHABLE_RETRY);
            }
            Connectivity::Disconnected if !self.announced_open => {}
            Connectivity::Disconnected | Connectivity::Failed => {
                if state == Connectivity::Failed {
                    changes.push(LinkChange::RestartIce);
                }
                if self.gives_up_at.is_none() {
                    self.gives_up_at = Some(now + RECOVERY_GRACE);
                    changes.push(LinkChange::Reconnecting);
                }
            }
            Connectivity::Closed => changes.push(LinkChange::Gone),
            Connectivity::Connecting => {}
        }
        changes
    }

    /// Every path failed before the link ever opened: the reason, unless it was given already
    /// (retries fail again and again). Connecting stops being waited for.
    fn unreachable(&mut self, relay_configured: bool) -> Option<LinkChange> {
        self.connect_by = None;
        let why = Unreachable::diagnose(relay_configured, self.relay_gathered);
        self.retry_at
            .is_none()
            .then_some(LinkChange::Unreachable(why))
    }

    /// When this link wants to be woken, if at all.
    pub fn deadline(&self) -> Option<LocalTime> {
        self.gives_up_at.or(self.retry_at).or(self.connect_by)
    }

    /// [`LinkChange::Gone`] when the grace ran out with the transport still broken;
    /// [`LinkChange::RestartIce`] when an unreachable link is due to try again;
    /// [`LinkChange::NoAnswer`] or [`LinkChange::Unreachable`] when a new link did not open
    /// within [`CONNECT_TIMEOUT`].
    pub fn on_timeout(&mut self, now: LocalTime, relay_configured: bool) -> Option<LinkChange> {
        if self.connect_by.is_some_and(|at| at <= now) {
            if !self.heard_back {
                self.connect_by = None;
                return Some(LinkChange::NoAnswer);
            }
            let change = self.unreachable(relay_configured);
            self.retry_at = Some(now + UNREACHABLE_RETRY);
            return change;
        }
        if self.gives_up_at.is_some_and(|at| at <= now) {
            self.gives_up_at = None;
            return (self.connectivity != Connectivity::Connected).then_some(LinkChange::Gone);
        }
        if let Some(at) = self.retry_at.filter(|at| *at <= now) {
            // Stays unreachable until it connects; the next failure re-arms the retry.
            self.retry_at = Some(at + UNREACHABLE_RETRY);
            self.relay_gathered = false;
            return Some(LinkChange::RestartIce);
        }
        None
    }

    /// Whether the link never opened and gave up on every path.
    pub fn is_unreachable(&self) -> bool {
        self.retry_at.is_some()
    }

    /// Both channels open (and the transport not known broken): announced once per link.
    fn maybe_open(&mut self) -> Option<LinkChange> {
        let open = self.channels_open == [true; 2];
        if open && !self.announced_open {
            self.announced_open = true;
            self.connect_by = None;
            return Some(LinkChange::Open);
        }
        None
    }
}

fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::State => 0,
        Channel::Clock => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> LocalTime {
        LocalTime::from_micros(ms * 1_000)
    }

    fn created(me: SessionId, peer: SessionId) -> Link {
        let mut link = Link::new(me, peer, "t".into(), at(0));
        assert!(link.confirm_created());
        link
    }

    #[test]
    fn lower_session_is_polite_and_waits_for_the_offer() {
        let polite = Link::new(1, 2, "t".into(), at(0));
        let impolite = Link::new(2, 1, "t".into(), at(0));
        assert!(polite.polite() && !polite.opens_channels_up_front());
        assert!(!impolite.polite() && impolite.opens_channels_up_front());
    }

    #[test]
    fn polite_side_opens_its_channels_only_with_the_first_offer() {
        let mut link = created(1, 2);
        assert_eq!(
            link.on_remote_description(true),
            RemoteDecision::Apply {
                open_channels: true,
                answer: true
            }
        );
        link.channels_opened();
        assert_eq!(
            link.on_remote_description(true),
            RemoteDecision::Apply {
                open_channels: false,
                answer: true
            }
        );
    }

    #[test]
    fn an_offer_while_not_stable_is_glare() {
        let mut impolite = created(2, 1);
        impolite.set_signaling_stable(false);
        assert_eq!(impolite.on_remote_description(true), RemoteDecision::Ignore);
        assert!(!impolite.reports_candidate_errors());
        // An answer is never glare.
        assert!(matches!(
            impolite.on_remote_description(false),
            RemoteDecision::Apply { answer: false, .. }
        ));
        assert!(impolite.reports_candidate_errors());
    }

    #[test]
    fn open_is_announced_once_both_channels_are_open() {
        let mut link = created(2, 1);
        assert_eq!(link.on_channel_open(Channel::State), None);
        assert_eq!(link.on_channel_open(Channel::Clock), Some(LinkChange::Open));
        assert_eq!(link.phase(), Phase::Open);
        assert_eq!(
            link.on_connectivity(at(0), Connectivity::Connected, true),
            vec![]
        );
    }

    fn opened(me: SessionId, peer: SessionId) -> Link {
        let mut link = created(me, peer);
        link.on_channel_open(Channel::State);
        assert_eq!(link.on_channel_open(Channel::Clock), Some(LinkChange::Open));
        link
    }

    #[test]
    fn disconnected_starts_the_grace_without_an_ice_restart() {
        let mut link = opened(2, 1);
        assert_eq!(
            link.on_connectivity(at(0), Connectivity::Disconnected, false),
            vec![LinkChange::Reconnecting]
        );
        // Failing while already recovering restarts ICE but keeps the first deadline.
        assert_eq!(
            link.on_connectivity(at(3_000), Connectivity::Failed, false),
            vec![LinkChange::RestartIce]
        );
        assert_eq!(link.deadline(), Some(at(10_000)));
        assert_eq!(link.on_timeout(at(9_999), true), None);
        assert_eq!(link.on_timeout(at(10_000), true), Some(LinkChange::Gone));
    }

    #[test]
    fn a_link_that_never_opened_fails_as_unreachable_and_retries() {
        let mut link = created(2, 1);
        // Disconnected before ever connecting means nothing yet.
        assert_eq!(
            link.on_connectivity(at(0), Connectivity::Disconnected, true),
            vec![]
        );
        link.on_local_candidate("candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host");
        assert_eq!(
            link.on_connectivity(at(1_000), Connectivity::Failed, true),
            vec![LinkChange::Unreachable(Unreachable::RelayUnreachable)]
        );
        assert!(link.is_unreachable());
        assert_eq!(
            link.phase(),
            Phase::Unreachable {
                retry_at: at(1_000) + UNREACHABLE_RETRY
            }
        );
        // Told once per episode, however often the retries fail.
        assert_eq!(
            link.on_connectivity(at(2_000), Connectivity::Failed, true),
            vec![]
        );
        let retry_at = link.deadline().unwrap();
        assert_eq!(link.on_timeout(retry_at - Span::from_millis(1), true), None);
        assert_eq!(
            link.on_timeout(retry_at, true),
            Some(LinkChange::RestartIce)
        );
        // The retry connects: open as any link.
        assert_eq!(
            link.on_connectivity(at(20_000), Connectivity::Connected, true),
            vec![]
        );
        link.on_channel_open(Channel::State);
        assert_eq!(link.on_channel_open(Channel::Clock), Some(LinkChange::Open));
        assert!(!link.is_unreachable());
        assert_eq!(link.deadline(), None);
    }

    #[test]
    fn a_peer_that_never_answers_is_given_up_after_the_connect_timeout() {
        let mut link = created(2, 1);
        assert_eq!(link.deadline(), Some(at(0) + CONNECT_TIMEOUT));
        assert_eq!(link.on_timeout(at(19_999), true), None);
        assert_eq!(
            link.on_timeout(at(20_000), true),
            Some(LinkChange::NoAnswer)
        );
        assert_eq!(link.deadline(), None);
    }

    #[test]
    fn a_peer_that_answered_but_is_not_reached_in_time_is_unreachable_and_retried() {
        let mut link = created(2, 1);
        assert!(matches!(
            link.on_remote_description(false),
            RemoteDecision::Apply { .. }
        ));
        assert_eq!(
            link.on_timeout(at(20_000), true),
            Some(LinkChange::Unreachable(Unreachable::RelayUnreachable))
        );
        assert!(link.is_unreachable());
        assert_eq!(link.deadline(), Some(at(20_000) + UNREACHABLE_RETRY));
        // ICE giving up later says nothing new; connecting later opens the link as usual.
        assert_eq!(
            link.on_connectivity(at(30_000), Connectivity::Failed, true),
            vec![]
        );
        link.on_connectivity(at(31_000), Connectivity::Connected, true);
        link.on_channel_open(Channel::State);
        assert_eq!(link.on_channel_open(Channel::Clock), Some(LinkChange::Open));
        assert_eq!(link.deadline(), None);
    }

    #[test]
    fn an_open_link_has_no_connect_deadline() {
        let mut link = opened(2, 1);
        assert_eq!(link.deadline(), None);
        assert_eq!(link.on_timeout(at(60_000), true), None);
    }

    #[test]
    fn hellos_and_other_signals_are_rate_limited_apart() {
        let mut link = created(2, 1);
        let hellos = (0..50).filter(|_| link.admit_signal(at(0), true)).count();
        assert_eq!(hellos, HELLO_RATE.burst as usize);
        let signals = (0..500).filter(|_| link.admit_signal(at(0), false)).count();
        assert_eq!(signals, SIGNAL_RATE.burst as usize);
        assert!(link.admit_signal(at(1_000), true));
    }

    #[test]
    fn the_reason_says_whether_the_relay_answered() {
        let mut no_relay = created(2, 1);
        assert_eq!(
            no_relay.on_connectivity(at(0), Connectivity::Failed, false),
            vec![LinkChange::Unreachable(Unreachable::NoRelay)]
        );
        let mut relayed = created(2, 1);
        relayed.on_local_candidate(
            "candidate:9 1 udp 41885439 10.120.0.1 50000 typ relay raddr 0.0.0.0 rport 0",
        );
        assert_eq!(
            relayed.on_connectivity(at(0), Connectivity::Failed, true),
            vec![LinkChange::Unreachable(Unreachable::Failed)]
        );
    }
}
