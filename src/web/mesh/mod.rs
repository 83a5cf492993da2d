//! The WebRTC mesh in the browser: one `RTCPeerConnection` to every other person in the room.
//!
//! Every decision (who offers, glare, recovery, routes) is [`crate::mesh::Links`]'s; this file
//! feeds it what the connections, the endpoint and the room key report, and carries out its
//! actions. What stays here is WebRTC's own shape:
//! - Two negotiated data channels per link: `state` (reliable, ordered) for playback state,
//!   presence and chat, and `clock` (unordered, no retransmits) for clock samples, so that a
//!   retransmission never pollutes a round-trip measurement.
//! - Everything from the endpoint is sealed with the room key and handled strictly in arrival
//!   order (a candidate handled before its description would be lost); trickle ICE.
//! - Connections are made with the [`IcePlan`] of the latest welcome (STUN from `config.json`,
//!   TURN URLs from `config.json` with the endpoint's short-lived credential), and each open
//!   link's path (direct, through NAT, relayed) is read from its stats and reported.

mod sealing;
mod stats;

use super::event_listener::Listener;
use super::identity::PageIdentity;
use super::local_now;
use super::room_crypto::RoomKeys;
use super::serial_queue::SerialQueue;
use super::signaling_client::{SignalingClient, SignalingEvent};
use crate::config::{AppConfig, IceTransportPolicy};
use crate::connectivity::{renewal_delay_secs, IcePlan, LinkPath};
use crate::mesh::{Action, Candidate, Connectivity, Description, Input, Links};
use crate::signaling::admission::Admission;
use crate::signaling::payload::{Envelope, SdpType, SessionId};
use crate::sync::LocalTime;
use gloo_timers::callback::{Interval, Timeout};
use insieme_signal_protocol::TurnCredential;
use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, EventTarget, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelState, RtcDataChannelType, RtcIceCandidateInit, RtcIceServer,
    RtcIceTransportPolicy, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcTrackEvent,
};

pub use crate::mesh::{Channel, MeshCounters, MeshEvent};

/// An action's asynchronous part (a WebRTC promise to await), if it has one.
type Work = Pin<Box<dyn Future<Output = ()>>>;

/// How often open links' paths are read again: ICE may move a link to another pair (a
/// network change, a restart), and the people list should say so within seconds.
const PATH_REFRESH_MS: u32 = 5_000;

/// A link that just opened is read again this soon: its first checks often beat the trickled
/// candidates through the endpoint, so a friend on the same network first shows up peer-reflexive
/// (looking like a NAT) until their host candidate arrives.
const PATH_SETTLE_MS: u32 = 1_000;

/// The browser side of one link.
struct Peer {
    pc: RtcPeerConnection,
    /// Absent on the polite side until the first offer arrives.
    channels: Option<Channels>,
    /// The path last reported for this link.
    path: Option<LinkPath>,
    /// Kept alive as long as the connection they are attached to.
    _listeners: Vec<Listener>,
}

struct Channels {
    state: RtcDataChannel,
    clock: RtcDataChannel,
    /// Kept alive as long as the channels they are attached to.
    _listeners: Vec<Listener>,
}

struct Inner {
    me: SessionId,
    /// This page's certificate, for every configuration (see [`rtc_configuration`]).
    certificates: js_sys::Array,
    /// How many payloads we have sealed: each is numbered (see [`Envelope`]).
    sealed_count: u64,
    links: Links,
    keys: RoomKeys,
    config: AppConfig,
    /// The ICE plan of `config` and the latest welcome, as every new connection gets it.
    rtc_configuration: RtcConfiguration,
    signaling: Option<SignalingClient>,
    my_transport: Option<String>,
    /// The order the endpoint admitted the topic's transports in (the room's ranks).
    admission: Admission,
    peers: HashMap<SessionId, Peer>,
    /// The timer armed for `links.poll_timeout()`, and the time it was armed for.
    wake: Option<(LocalTime, Timeout)>,
    _path_refresh: Option<Interval>,
    /// Rejoins the endpoint for a fresh TURN credential before the current one expires.
    credential_renewal: Option<Timeout>,
    on_event: Rc<dyn Fn(MeshEvent)>,
    /// Who gets the media tracks peers send us (the call), once someone asked.
    on_track: Option<Rc<dyn Fn(SessionId, RtcTrackEvent)>>,
}

#[derive(Clone)]
pub struct Mesh {
    inner: Rc<RefCell<Inner>>,
    /// Sealed messages from the endpoint, opened and handled strictly in arrival order.
    inbox: Rc<SerialQueue<(String, Vec<u8>)>>,
    /// Messages to seal and send, in the order we produced them (sealing is asynchronous):
    /// the endpoint transport, the recipient's session if known, and the numbered payload.
    outbox: Rc<SerialQueue<(String, Option<SessionId>, Envelope)>>,
}

impl Mesh {
    /// Joins the room's topic at `signaling_base` as `name` and connects to everyone there,
    /// every connection with this page's certificate (its identity).
    pub fn join(
        identity: &PageIdentity,
        name: String,
        keys: RoomKeys,
        signaling_base: &str,
        config: AppConfig,
        on_event: impl Fn(MeshEvent) + 'static,
    ) -> Self {
        let url = format!("{}/{}", signaling_base.trim_end_matches('/'), keys.topic);
        let me = identity.session;
        let certificates = js_sys::Array::of1(&identity.certificate);
        let rtc_configuration = rtc_configuration(&IcePlan::new(&config, None), &certificates);
        let mesh = Mesh {
            inner: Rc::new(RefCell::new(Inner {
                me,
                certificates,
                sealed_count: 0,
                links: Links::new(me, name),
                keys,
                config,
                rtc_configuration,
                signaling: None,
                my_transport: None,
                admission: Admission::default(),
                peers: HashMap::new(),
                wake: None,
                _path_refresh: None,
                credential_renewal: None,
                on_event: Rc::new(on_event),
                on_track: None,
            })),
            inbox: SerialQueue::new(),
            outbox: SerialQueue::new(),
        };
        let for_events = mesh.clone();
        let signaling = SignalingClient::connect(url, move |event| for_events.on_signaling(event));
        let refreshing = mesh.clone();
        let path_refresh = Interval::new(PATH_REFRESH_MS, move || refreshing.refresh_paths());
        let mut inner = mesh.inner.borrow_mut();
        inner.signaling = Some(signaling);
        inner._path_refresh = Some(path_refresh);
        drop(inner);
        mesh
    }

    /// Our display name changed; hellos from now on carry it.
    pub fn rename(&self, name: String) {
        self.feed(Input::Renamed(name));
    }

    /// Sends to one person; false if their link is not open.
    pub fn send(&self, to: SessionId, channel: Channel, bytes: &[u8]) -> bool {
        let inner = self.inner.borrow();
        inner
            .peers
            .get(&to)
            .and_then(|peer| peer.channel(channel))
            .is_some_and(|c| send_on(c, bytes))
    }

    /// Sends to everyone whose link is open.
    pub fn broadcast(&self, channel: Channel, bytes: &[u8]) {
        for peer in self.inner.borrow().peers.values() {
            if let Some(channel) = peer.channel(channel) {
                send_on(channel, bytes);
            }
        }
    }

    /// The connection to `session`, for what rides on it besides the data channels (the
    /// call's media). Tracks added to it are negotiated by the mesh like everything else.
    pub fn peer_connection(&self, session: SessionId) -> Option<RtcPeerConnection> {
        self.pc(session)
    }

    /// Everyone we have a link to, and us, in the order the endpoint admitted them (oldest
    /// first; those whose transport we do not know are left out): the room's ranks. `None`
    /// before the endpoint's first welcome.
    pub fn seniority(&self) -> Option<Vec<SessionId>> {
        let inner = self.inner.borrow();
        let routes: Vec<(SessionId, &str)> = inner
            .peers
            .keys()
            .filter_map(|session| Some((*session, inner.links.link(*session)?.route()?)))
            .collect();
        inner.admission.seniority(inner.me, &routes)
    }

    /// The people whose link is open now.
    pub fn open_sessions(&self) -> Vec<SessionId> {
        let inner = self.inner.borrow();
        inner
            .peers
            .keys()
            .copied()
            .filter(|session| {
                inner
                    .links
                    .link(*session)
                    .is_some_and(|link| link.phase() == crate::mesh::Phase::Open)
            })
            .collect()
    }

    /// Hands every media track a peer sends us to `handler`.
    pub fn on_remote_track(&self, handler: impl Fn(SessionId, RtcTrackEvent) + 'static) {
        self.inner.borrow_mut().on_track = Some(Rc::new(handler));
    }

    pub fn counters(&self) -> MeshCounters {
        self.inner.borrow().links.counters()
    }

    /// Leaves the room: closes every link and the signaling socket.
    pub fn leave(&self) {
        let mut inner = self.inner.borrow_mut();
        if let Some(signaling) = inner.signaling.take() {
            signaling.close();
        }
        inner.links.leave();
        inner.wake = None;
        inner._path_refresh = None;
        inner.credential_renewal = None;
        for (_, peer) in inner.peers.drain() {
            peer.pc.close();
        }
    }

    /// Feeds `input` to the machine and carries out its actions, starting the asynchronous
    /// ones without waiting for them.
    fn feed(&self, input: Input) {
        for action in self.decide(input) {
            if let Some(work) = self.execute(action) {
                spawn_local(work);
            }
        }
    }

    /// Like [`Mesh::feed`], but each action is finished before the next starts: what arrives
    /// from the endpoint must be applied in order.
    async fn feed_in_order(&self, input: Input) {
        for action in self.decide(input) {
            if let Some(work) = self.execute(action) {
                work.await;
            }
        }
    }

    /// Hands `input` to the machine and takes all it wants done, so no borrow is held while
    /// the actions run (they call back into the mesh).
    fn decide(&self, input: Input) -> Vec<Action> {
        let now = local_now();
        let actions = {
            let mut inner = self.inner.borrow_mut();
            inner.links.handle_input(now, input);
            std::iter::from_fn(|| inner.links.poll_action()).collect()
        };
        self.arm_wake(now);
        actions
    }

    /// Keeps one timer armed for the machine's earliest deadline.
    fn arm_wake(&self, now: LocalTime) {
        let mut inner = self.inner.borrow_mut();
        let wanted = inner.links.poll_timeout();
        if inner.wake.as_ref().map(|(at, _)| *at) == wanted {
            return;
        }
        inner.wake = wanted.map(|at| {
            let delay_ms = (at - now).as_millis_f64().ceil().max(0.0) as u32;
            let mesh = self.clone();
            let timer = Timeout::new(delay_ms, move || {
                // This timer is the one running: let it finish rather than drop it mid-call.
                if let Some((_, fired)) = mesh.inner.borrow_mut().wake.take() {
                    fired.forget();
                }
                mesh.feed(Input::Timeout);
            });
            (at, timer)
        });
    }

    fn execute(&self, action: Action) -> Option<Work> {
        match action {
            Action::Send {
                to,
                to_session,
                payload,
            } => self.send_sealed(to, to_session, payload),
            Action::CreateLink {
                session,
                open_channels,
            } => self.create_peer(session, open_channels),
            Action::MakeOffer(session) => {
                let pc = self.pc(session)?;
                let mesh = self.clone();
                return Some(Box::pin(async move {
                    let result = make_local_description(&pc)
                        .await
                        .map_err(|e| super::describe_js_error("making an offer", e));
                    mesh.feed(Input::OfferMade { session, result });
                }));
            }
            Action::ApplyRemote {
                session,
                description,
                open_channels,
                answer,
            } => {
                let pc = self.pc(session)?;
                let mesh = self.clone();
                return Some(Box::pin(async move {
                    mesh.apply_remote(session, pc, description, open_channels, answer)
                        .await
                }));
            }
            Action::AddCandidate { session, candidate } => {
                let pc = self.pc(session)?;
                let mesh = self.clone();
                return Some(Box::pin(async move {
                    if let Err(error) = add_candidate(&pc, &candidate).await {
                        let error = super::describe_js_error("adding an ICE candidate", error);
                        mesh.feed(Input::CandidateRejected { session, error });
                    }
                }));
            }
            Action::RestartIce(session) => {
                if let Some(pc) = self.pc(session) {
                    restart_ice(&pc);
                }
            }
            Action::CloseLink(session) => {
                let removed = self.inner.borrow_mut().peers.remove(&session);
                if let Some(peer) = removed {
                    peer.pc.close();
                }
            }
            Action::Emit(event) => {
                if let MeshEvent::Open(session) | MeshEvent::Restored(session) = event {
                    self.refresh_path(session);
                    let mesh = self.clone();
                    Timeout::new(PATH_SETTLE_MS, move || mesh.refresh_path(session)).forget();
                }
                self.emit(event);
            }
        }
        None
    }

    fn refresh_paths(&self) {
        for session in self.open_sessions() {
            self.refresh_path(session);
        }
    }

    /// Reads the link's selected candidate pair and reports its path when it changed.
    fn refresh_path(&self, session: SessionId) {
        let Some(pc) = self.pc(session) else { return };
        let mesh = self.clone();
        spawn_local(async move {
            let path = match stats::read_path(&pc).await {
                Ok(Some(path)) => path,
                Ok(None) => return,
                Err(error) => {
                    let problem = super::describe_js_error("reading a link's stats", error);
                    return mesh.emit(MeshEvent::Problem(problem));
                }
            };
            let changed = {
                let mut inner = mesh.inner.borrow_mut();
                match inner.peers.get_mut(&session) {
                    Some(peer) => peer.path.replace(path) != Some(path),
                    None => false,
                }
            };
            if changed {
                mesh.emit(MeshEvent::Path { session, path });
            }
        });
    }

    fn emit(&self, event: MeshEvent) {
        let handler = self.inner.borrow().on_event.clone();
        handler(event);
    }

    fn pc(&self, session: SessionId) -> Option<RtcPeerConnection> {
        let inner = self.inner.borrow();
        inner.peers.get(&session).map(|peer| peer.pc.clone())
    }

    fn on_signaling(&self, event: SignalingEvent) {
        match event {
            SignalingEvent::Joined { my_id, peers, turn } => self.on_welcome(my_id, peers, turn),
            // Newcomers greet us; until they do, only their place in the order changes.
            SignalingEvent::PeerJoined(transport) => {
                self.inner.borrow_mut().admission.joined(&transport)
            }
            SignalingEvent::PeerLeft(transport) => {
                self.inner.borrow_mut().admission.left(&transport);
                self.feed(Input::RouteLeft(transport))
            }
            SignalingEvent::Data { from, bytes } => {
                let mesh = self.clone();
                self.inbox.push((from, bytes), move |(from, sealed)| {
                    let mesh = mesh.clone();
                    async move { mesh.on_sealed(from, sealed).await }
                });
            }
            SignalingEvent::Disconnected(outage) => self.feed(Input::SignalingLost(outage)),
            SignalingEvent::Problem(problem) => self.emit(MeshEvent::Problem(problem)),
        }
    }

    /// (Re)joined the topic: connections from now on, and the next ICE restart of existing
    /// ones, use the welcome's TURN credential; a fresh one is fetched before it expires.
    fn on_welcome(&self, my_id: String, peers: Vec<String>, turn: Option<TurnCredential>) {
        let plan = IcePlan::new(&self.inner.borrow().config, turn.as_ref());
        if let Some(warning) = &plan.warning {
            self.emit(MeshEvent::Problem(warning.clone()));
        }
        let configuration = rtc_configuration(&plan, &self.inner.borrow().certificates);
        let renewal = turn
            .as_ref()
            .map(|credential| self.rejoin_after(credential));
        {
            let mut inner = self.inner.borrow_mut();
            inner.admission.welcomed(&my_id, &peers);
            inner.my_transport = Some(my_id);
            for peer in inner.peers.values() {
                if let Err(error) = peer.pc.set_configuration_with_configuration(&configuration) {
                    let problem = super::describe_js_error("updating ICE servers", error);
                    web_sys::console::warn_1(&problem.into());
                }
            }
            inner.rtc_configuration = configuration;
            inner.credential_renewal = renewal;
        }
        self.feed(Input::SignalingJoined {
            peers,
            relay_configured: plan.relay_configured,
        });
    }

    /// Rejoins the endpoint (whose welcome brings a fresh credential) before `credential`
    /// expires.
    fn rejoin_after(&self, credential: &TurnCredential) -> Timeout {
        let mesh = self.clone();
        let delay_ms = renewal_delay_secs(credential).saturating_mul(1000);
        Timeout::new(delay_ms.min(u64::from(u32::MAX)) as u32, move || {
            let signaling = mesh.inner.borrow().signaling.clone();
            if let Some(signaling) = signaling {
                signaling.rejoin();
            }
        })
    }

    /// Applies a remote description (opening the polite side's channels inside the offer's
    /// negotiation, when asked) and answers it when asked.
    async fn apply_remote(
        &self,
        session: SessionId,
        pc: RtcPeerConnection,
        description: Description,
        open_channels: bool,
        answer: bool,
    ) {
        let mut channels_opened = false;
        let result: Result<Option<Description>, JsValue> = async {
            let remote = RtcSessionDescriptionInit::new(match description.sdp_type {
                SdpType::Offer => RtcSdpType::Offer,
                SdpType::Answer => RtcSdpType::Answer,
            });
            remote.set_sdp(&description.sdp);
            // Applying an offer over our own pending one rolls ours back implicitly.
            JsFuture::from(pc.set_remote_description(&remote)).await?;
            if open_channels {
                let channels = self.open_channels(&pc, session);
                if let Some(peer) = self.inner.borrow_mut().peers.get_mut(&session) {
                    peer.channels = Some(channels);
                    channels_opened = true;
                }
            }
            if answer {
                return make_local_description(&pc).await;
            }
            Ok(None)
        }
        .await;
        let result =
            result.map_err(|e| super::describe_js_error("applying a session description", e));
        self.feed(Input::RemoteApplied {
            session,
            channels_opened,
            result,
        });
    }

    /// Makes the peer connection to `session` and reports how that went.
    fn create_peer(&self, session: SessionId, open_channels: bool) {
        let configuration = self.inner.borrow().rtc_configuration.clone();
        let pc = match RtcPeerConnection::new_with_configuration(&configuration) {
            Ok(pc) => pc,
            Err(error) => {
                let error = super::describe_js_error("creating a peer connection", error);
                return self.feed(Input::CreationFailed { session, error });
            }
        };
        let listeners = self.listen_to_connection(&pc, session);
        let channels = open_channels.then(|| self.open_channels(&pc, session));
        let peer = Peer {
            pc,
            channels,
            path: None,
            _listeners: listeners,
        };
        self.inner.borrow_mut().peers.insert(session, peer);
        self.feed(Input::Created(session));
    }

    fn listen_to_connection(&self, pc: &RtcPeerConnection, session: SessionId) -> Vec<Listener> {
        let mut listeners = Vec::new();
        // Whatever needs negotiating (channels now, tracks later), the machine offers.
        let mesh = self.clone();
        listen(&mut listeners, pc, "negotiationneeded", move |_| {
            mesh.feed(Input::NegotiationNeeded(session))
        });
        let mesh = self.clone();
        listen(&mut listeners, pc, "icecandidate", move |event: Event| {
            let event = event.unchecked_into::<RtcPeerConnectionIceEvent>();
            let Some(candidate) = event.candidate() else {
                return;
            };
            let candidate = Candidate {
                candidate: candidate.candidate(),
                sdp_mid: candidate.sdp_mid(),
                sdp_m_line_index: candidate.sdp_m_line_index(),
            };
            mesh.feed(Input::LocalCandidate { session, candidate });
        });
        let mesh = self.clone();
        let watched = pc.clone();
        listen(&mut listeners, pc, "connectionstatechange", move |_| {
            let state = connectivity(watched.connection_state());
            mesh.feed(Input::Connectivity { session, state });
        });
        let mesh = self.clone();
        listen(&mut listeners, pc, "track", move |event: Event| {
            let handler = mesh.inner.borrow().on_track.clone();
            if let Some(handler) = handler {
                handler(session, event.unchecked_into::<RtcTrackEvent>());
            }
        });
        let mesh = self.clone();
        let watched = pc.clone();
        listen(&mut listeners, pc, "signalingstatechange", move |_| {
            let stable = watched.signaling_state() == RtcSignalingState::Stable;
            mesh.feed(Input::SignalingState { session, stable });
        });
        listeners
    }

    /// Creates the two negotiated data channels of a link and listens to them.
    fn open_channels(&self, pc: &RtcPeerConnection, session: SessionId) -> Channels {
        let state = negotiated_channel(pc, "state", 0, true);
        let clock = negotiated_channel(pc, "clock", 1, false);
        let mut listeners = Vec::new();
        for (channel, kind) in [(&state, Channel::State), (&clock, Channel::Clock)] {
            let mesh = self.clone();
            listen(&mut listeners, channel, "message", move |event: Event| {
                let received_at_ms = super::now_ms();
                let data = event.unchecked_into::<MessageEvent>().data();
                let bytes = js_sys::Uint8Array::new(&data).to_vec();
                mesh.emit(MeshEvent::Message {
                    from: session,
                    channel: kind,
                    bytes,
                    received_at_ms,
                });
            });
            let mesh = self.clone();
            listen(&mut listeners, channel, "open", move |_| {
                mesh.feed(Input::ChannelOpen {
                    session,
                    channel: kind,
                })
            });
            let mesh = self.clone();
            listen(&mut listeners, channel, "close", move |_| {
                mesh.feed(Input::ChannelClosed {
                    session,
                    channel: kind,
                })
            });
        }
        Channels {
            state,
            clock,
            _listeners: listeners,
        }
    }
}

impl Peer {
    fn channel(&self, channel: Channel) -> Option<&RtcDataChannel> {
        let channels = self.channels.as_ref()?;
        Some(match channel {
            Channel::State => &channels.state,
            Channel::Clock => &channels.clock,
        })
    }
}

/// What every peer connection is created with: the ICE plan's servers and policy.
/// `certificates` is this page's one certificate: the same in every configuration, as a
/// connection's certificate cannot change.
fn rtc_configuration(plan: &IcePlan, certificates: &js_sys::Array) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    config.set_certificates(certificates);
    let servers = js_sys::Array::new();
    for server in &plan.servers {
        let entry = RtcIceServer::new();
        let urls: js_sys::Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        servers.push(&entry);
    }
    config.set_ice_servers(&servers);
    config.set_ice_transport_policy(match plan.policy {
        IceTransportPolicy::All => RtcIceTransportPolicy::All,
        IceTransportPolicy::Relay => RtcIceTransportPolicy::Relay,
    });
    config
}

fn connectivity(state: RtcPeerConnectionState) -> Connectivity {
    match state {
        RtcPeerConnectionState::Connected => Connectivity::Connected,
        RtcPeerConnectionState::Disconnected => Connectivity::Disconnected,
        RtcPeerConnectionState::Failed => Connectivity::Failed,
        RtcPeerConnectionState::Closed => Connectivity::Closed,
        _ => Connectivity::Connecting,
    }
}

/// Listens to `kind` on `target` for as long as `listeners` is kept.
fn listen(
    listeners: &mut Vec<Listener>,
    target: &EventTarget,
    kind: &'static str,
    handler: impl FnMut(Event) + 'static,
) {
    match Listener::new(target, kind, handler) {
        Ok(listener) => listeners.push(listener),
        Err(error) => web_sys::console::warn_1(&super::describe_js_error(kind, error).into()),
    }
}

/// A data channel both sides create with the same id, so neither waits for the other's.
fn negotiated_channel(
    pc: &RtcPeerConnection,
    label: &str,
    id: u16,
    reliable: bool,
) -> RtcDataChannel {
    let init = RtcDataChannelInit::new();
    init.set_negotiated(true);
    init.set_id(id);
    if !reliable {
        init.set_ordered(false);
        init.set_max_retransmits(0);
    }
    // Ahead of the call's audio and video when the uplink is short (WebRTC priority; browsers
    // that do not know the member ignore it): a late clock sample or state costs the film its sync.
    let _ = js_sys::Reflect::set(&init, &"priority".into(), &"high".into());
    let channel = pc.create_data_channel_with_data_channel_dict(label, &init);
    channel.set_binary_type(RtcDataChannelType::Arraybuffer);
    channel
}

fn send_on(channel: &RtcDataChannel, bytes: &[u8]) -> bool {
    channel.ready_state() == RtcDataChannelState::Open && channel.send_with_u8_array(bytes).is_ok()
}

async fn add_candidate(pc: &RtcPeerConnection, candidate: &Candidate) -> Result<(), JsValue> {
    let init = RtcIceCandidateInit::new(&candidate.candidate);
    init.set_sdp_mid(candidate.sdp_mid.as_deref());
    init.set_sdp_m_line_index(candidate.sdp_m_line_index);
    JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await?;
    Ok(())
}

/// Sets the local description the current state needs (an offer, or the answer to a remote
/// offer) and returns it to send.
async fn make_local_description(pc: &RtcPeerConnection) -> Result<Option<Description>, JsValue> {
    JsFuture::from(set_local_description(pc)?).await?;
    Ok(pc.local_description().map(|local| Description {
        sdp_type: if local.type_() == RtcSdpType::Offer {
            SdpType::Offer
        } else {
            SdpType::Answer
        },
        sdp: local.sdp(),
    }))
}

/// `RTCPeerConnection.setLocalDescription()` without arguments (not bound by web-sys): it
/// creates whatever the current state needs, an offer or the answer to a remote offer, in one
/// step, so an offer arriving meanwhile cannot make it fail (perfect negotiation relies on it).
fn set_local_description(pc: &RtcPeerConnection) -> Result<js_sys::Promise, JsValue> {
    let method: js_sys::Function =
        js_sys::Reflect::get(pc, &"setLocalDescription".into())?.dyn_into()?;
    method.call0(pc)?.dyn_into()
}

/// `RTCPeerConnection.restartIce()`, which web-sys does not bind yet.
fn restart_ice(pc: &RtcPeerConnection) {
    if let Ok(restart) = js_sys::Reflect::get(pc, &"restartIce".into()) {
        if let Some(restart) = restart.dyn_ref::<js_sys::Function>() {
            let _ = restart.call0(pc);
        }
    }
}
