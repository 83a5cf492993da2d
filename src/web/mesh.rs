//! The WebRTC mesh: one `RTCPeerConnection` to every other person in the room.
//!
//! - Peers are known by their session id (from the sealed hello), not by the endpoint's transport
//!   id, so an endpoint restart changes routes but never breaks a link.
//! - Perfect negotiation: both sides may offer at once; the peer with the lower session id is
//!   polite and yields, so simultaneous offers never deadlock. Trickle ICE.
//! - Two negotiated data channels per link: `state` (reliable, ordered) for playback state,
//!   presence and chat, and `clock` (unordered, no retransmits) for clock samples, so that a
//!   retransmission never pollutes a round-trip measurement.
//! - Everything from the endpoint is sealed with the room key; what fails to open is dropped and
//!   counted. A link that fails is restarted (ICE restart) and given up after a grace period.

use super::event_listener::Listener;
use super::room_crypto::RoomKeys;
use super::serial_queue::SerialQueue;
use super::signaling_client::{SignalingClient, SignalingEvent};
use crate::config::IceServer;
use crate::signaling::payload::{SdpType, SessionId, SignalPayload};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState,
    RtcDataChannelType, RtcIceCandidateInit, RtcIceServer, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType, RtcSessionDescriptionInit,
    RtcSignalingState,
};

/// How long a broken link may try to recover (ICE restart) before its person is shown as gone.
const RECOVERY_GRACE_MS: u32 = 10_000;

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
    /// The link is gone for good.
    Gone(SessionId),
    /// The signaling endpoint is (un)reachable; existing links are unaffected.
    Signaling { connected: bool },
    /// Something the logs should know (dropped input, endpoint errors).
    Problem(String),
}

/// Counters of input dropped because it was not what it claimed to be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MeshCounters {
    pub undecryptable: u32,
    pub malformed_payloads: u32,
}

struct Link {
    pc: RtcPeerConnection,
    /// Absent on the polite side until the first offer arrives (see `create_link`).
    channels: Option<Channels>,
    /// The endpoint transport id that currently reaches this person.
    route: Option<String>,
    polite: bool,
    making_offer: bool,
    ignore_offer: bool,
    announced_open: bool,
    /// Between losing connectivity and either recovering it or giving up.
    recovering: bool,
    /// Kept alive as long as the connection they are attached to.
    _listeners: Vec<Listener>,
}

struct Inner {
    me: SessionId,
    keys: RoomKeys,
    ice_servers: Vec<IceServer>,
    signaling: Option<SignalingClient>,
    my_transport: Option<String>,
    links: HashMap<SessionId, Link>,
    counters: MeshCounters,
    on_event: Rc<dyn Fn(MeshEvent)>,
}

#[derive(Clone)]
pub struct Mesh {
    inner: Rc<RefCell<Inner>>,
    /// Sealed messages from the endpoint, opened and handled strictly in arrival order.
    inbox: Rc<SerialQueue<(String, Vec<u8>)>>,
    /// Messages to seal and send, in the order we produced them (sealing is asynchronous).
    outbox: Rc<SerialQueue<(String, SignalPayload)>>,
}

impl Mesh {
    /// Joins the room's topic at `signaling_base` and connects to everyone there.
    pub fn join(
        me: SessionId,
        keys: RoomKeys,
        signaling_base: &str,
        ice_servers: Vec<IceServer>,
        on_event: impl Fn(MeshEvent) + 'static,
    ) -> Self {
        let url = format!("{}/{}", signaling_base.trim_end_matches('/'), keys.topic);
        let mesh = Mesh {
            inner: Rc::new(RefCell::new(Inner {
                me,
                keys,
                ice_servers,
                signaling: None,
                my_transport: None,
                links: HashMap::new(),
                counters: MeshCounters::default(),
                on_event: Rc::new(on_event),
            })),
            inbox: SerialQueue::new(),
            outbox: SerialQueue::new(),
        };
        let for_events = mesh.clone();
        let signaling = SignalingClient::connect(url, move |event| for_events.on_signaling(event));
        mesh.inner.borrow_mut().signaling = Some(signaling);
        mesh
    }

    /// Sends to one person; false if their link is not open.
    pub fn send(&self, to: SessionId, channel: Channel, bytes: &[u8]) -> bool {
        let inner = self.inner.borrow();
        inner
            .links
            .get(&to)
            .and_then(|link| link.channel(channel))
            .is_some_and(|c| send_on(c, bytes))
    }

    /// Sends to everyone whose link is open.
    pub fn broadcast(&self, channel: Channel, bytes: &[u8]) {
        for link in self.inner.borrow().links.values() {
            if let Some(channel) = link.channel(channel) {
                send_on(channel, bytes);
            }
        }
    }

    pub fn counters(&self) -> MeshCounters {
        self.inner.borrow().counters
    }

    /// Leaves the room: closes every link and the signaling socket.
    pub fn leave(&self) {
        let mut inner = self.inner.borrow_mut();
        if let Some(signaling) = inner.signaling.take() {
            signaling.close();
        }
        for (_, link) in inner.links.drain() {
            link.pc.close();
        }
    }

    fn emit(&self, event: MeshEvent) {
        let handler = self.inner.borrow().on_event.clone();
        handler(event);
    }

    fn on_signaling(&self, event: SignalingEvent) {
        match event {
            SignalingEvent::Joined { my_id, peers } => {
                let me = {
                    let mut inner = self.inner.borrow_mut();
                    inner.my_transport = Some(my_id);
                    inner.me
                };
                self.emit(MeshEvent::Signaling { connected: true });
                for peer in peers {
                    self.send_sealed(
                        peer,
                        SignalPayload::Hello {
                            session: me,
                            reply: false,
                        },
                    );
                }
            }
            // Newcomers greet us; nothing to do until they do.
            SignalingEvent::PeerJoined(_) => {}
            SignalingEvent::PeerLeft(transport) => {
                for link in self.inner.borrow_mut().links.values_mut() {
                    if link.route.as_deref() == Some(transport.as_str()) {
                        link.route = None;
                    }
                }
            }
            SignalingEvent::Data { from, bytes } => {
                let mesh = self.clone();
                self.inbox.push((from, bytes), move |(from, sealed)| {
                    let mesh = mesh.clone();
                    async move { mesh.on_sealed(from, sealed).await }
                });
            }
            SignalingEvent::Disconnected => self.emit(MeshEvent::Signaling { connected: false }),
            SignalingEvent::Problem(problem) => self.emit(MeshEvent::Problem(problem)),
        }
    }

    async fn on_sealed(&self, from: String, sealed: Vec<u8>) {
        let (keys, my_transport) = {
            let inner = self.inner.borrow();
            (
                inner.keys.clone(),
                inner.my_transport.clone().unwrap_or_default(),
            )
        };
        let plain = match keys.open(&from, &my_transport, &sealed).await {
            Ok(plain) => plain,
            Err(_) => {
                self.inner.borrow_mut().counters.undecryptable += 1;
                return;
            }
        };
        let payload = match SignalPayload::decode(&plain) {
            Ok(payload) => payload,
            Err(error) => {
                self.inner.borrow_mut().counters.malformed_payloads += 1;
                self.emit(MeshEvent::Problem(format!(
                    "dropped a signaling payload: {error}"
                )));
                return;
            }
        };
        let session = payload.session();
        if session == self.inner.borrow().me {
            return;
        }
        self.ensure_link(session, &from);
        match payload {
            SignalPayload::Hello { reply: false, .. } => {
                let me = self.inner.borrow().me;
                self.send_sealed(
                    from,
                    SignalPayload::Hello {
                        session: me,
                        reply: true,
                    },
                );
            }
            SignalPayload::Hello { reply: true, .. } => {}
            SignalPayload::Description { sdp_type, sdp, .. } => {
                self.on_description(session, sdp_type, sdp).await
            }
            SignalPayload::Candidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
                ..
            } => {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                let Some((pc, ignore_offer)) =
                    self.with_link(session, |l| (l.pc.clone(), l.ignore_offer))
                else {
                    return;
                };
                let added = JsFuture::from(
                    pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
                )
                .await;
                if let Err(error) = added {
                    if !ignore_offer {
                        self.emit(MeshEvent::Problem(super::describe_js_error(
                            "adding an ICE candidate",
                            error,
                        )));
                    }
                }
            }
        }
    }

    /// Perfect negotiation's receiving side.
    async fn on_description(&self, session: SessionId, sdp_type: SdpType, sdp: String) {
        let Some((pc, polite, making_offer)) =
            self.with_link(session, |l| (l.pc.clone(), l.polite, l.making_offer))
        else {
            return;
        };
        let is_offer = sdp_type == SdpType::Offer;
        let collision =
            is_offer && (making_offer || pc.signaling_state() != RtcSignalingState::Stable);
        let ignore = !polite && collision;
        self.with_link(session, |l| l.ignore_offer = ignore);
        if ignore {
            return;
        }
        let result: Result<(), JsValue> = async {
            let remote = RtcSessionDescriptionInit::new(if is_offer {
                RtcSdpType::Offer
            } else {
                RtcSdpType::Answer
            });
            remote.set_sdp(&sdp);
            // Applying an offer over our own pending one rolls ours back implicitly.
            JsFuture::from(pc.set_remote_description(&remote)).await?;
            if is_offer
                && self
                    .with_link(session, |l| l.channels.is_none())
                    .unwrap_or(false)
            {
                // The polite side's matching channels: created now, inside the offer's
                // negotiation, they need no negotiation of their own.
                let channels = self.open_channels(&pc, session);
                self.with_link(session, |l| l.channels = Some(channels));
            }
            if is_offer {
                JsFuture::from(set_local_description(&pc)?).await?;
                self.send_local_description(session, &pc);
            }
            Ok(())
        }
        .await;
        if let Err(error) = result {
            self.emit(MeshEvent::Problem(super::describe_js_error(
                "applying a session description",
                error,
            )));
        }
    }

    fn send_local_description(&self, session: SessionId, pc: &RtcPeerConnection) {
        let Some(local) = pc.local_description() else {
            return;
        };
        let sdp_type = if local.type_() == RtcSdpType::Offer {
            SdpType::Offer
        } else {
            SdpType::Answer
        };
        let me = self.inner.borrow().me;
        self.send_to_session(
            session,
            SignalPayload::Description {
                session: me,
                sdp_type,
                sdp: local.sdp(),
            },
        );
    }

    /// Perfect negotiation's offering side, run on `negotiationneeded`.
    async fn negotiate(&self, session: SessionId) {
        let Some(pc) = self.with_link(session, |l| {
            l.making_offer = true;
            l.pc.clone()
        }) else {
            return;
        };
        let result: Result<(), JsValue> = async {
            JsFuture::from(set_local_description(&pc)?).await?;
            self.send_local_description(session, &pc);
            Ok(())
        }
        .await;
        self.with_link(session, |l| l.making_offer = false);
        if let Err(error) = result {
            self.emit(MeshEvent::Problem(super::describe_js_error(
                "making an offer",
                error,
            )));
        }
    }

    fn with_link<T>(&self, session: SessionId, f: impl FnOnce(&mut Link) -> T) -> Option<T> {
        self.inner.borrow_mut().links.get_mut(&session).map(f)
    }

    fn send_sealed(&self, to_transport: String, payload: SignalPayload) {
        let mesh = self.clone();
        self.outbox
            .push((to_transport, payload), move |(to, payload)| {
                let mesh = mesh.clone();
                async move { mesh.seal_and_send(to, payload).await }
            });
    }

    async fn seal_and_send(&self, to: String, payload: SignalPayload) {
        let (keys, from, signaling) = {
            let inner = self.inner.borrow();
            (
                inner.keys.clone(),
                inner.my_transport.clone(),
                inner.signaling.clone(),
            )
        };
        let (Some(from), Some(signaling)) = (from, signaling) else {
            return;
        };
        match keys.seal(&from, &to, &payload.encode()).await {
            Ok(sealed) => {
                signaling.send(&to, &sealed);
            }
            Err(problem) => self.emit(MeshEvent::Problem(problem)),
        }
    }

    fn send_to_session(&self, session: SessionId, payload: SignalPayload) {
        if let Some(Some(route)) = self.with_link(session, |l| l.route.clone()) {
            self.send_sealed(route, payload);
        }
    }

    /// Creates the link to `session` if there is none, and records the route that reaches it.
    fn ensure_link(&self, session: SessionId, route: &str) {
        if self
            .with_link(session, |l| l.route = Some(route.to_owned()))
            .is_some()
        {
            return;
        }
        match self.create_link(session, route) {
            Ok(link) => {
                self.inner.borrow_mut().links.insert(session, link);
                self.emit(MeshEvent::Connecting(session));
            }
            Err(error) => self.emit(MeshEvent::Problem(super::describe_js_error(
                "creating a peer connection",
                error,
            ))),
        }
    }

    fn create_link(&self, session: SessionId, route: &str) -> Result<Link, JsValue> {
        let (me, ice_servers) = {
            let inner = self.inner.borrow();
            (inner.me, inner.ice_servers.clone())
        };
        let config = RtcConfiguration::new();
        let servers = js_sys::Array::new();
        for server in &ice_servers {
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
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        let mut listeners = Vec::new();
        let mut listen = |target: &web_sys::EventTarget, event, handler| {
            add_listener(&mut listeners, target, event, handler)
        };
        let mesh = self.clone();
        listen(
            &pc,
            "negotiationneeded",
            Box::new(move |_| {
                let mesh = mesh.clone();
                spawn_local(async move { mesh.negotiate(session).await });
            }),
        );
        let mesh = self.clone();
        listen(
            &pc,
            "icecandidate",
            Box::new(move |event: Event| {
                let Some(candidate) = event
                    .unchecked_into::<RtcPeerConnectionIceEvent>()
                    .candidate()
                else {
                    return;
                };
                let me = mesh.inner.borrow().me;
                mesh.send_to_session(
                    session,
                    SignalPayload::Candidate {
                        session: me,
                        candidate: candidate.candidate(),
                        sdp_mid: candidate.sdp_mid(),
                        sdp_m_line_index: candidate.sdp_m_line_index(),
                    },
                );
            }),
        );
        let mesh = self.clone();
        listen(
            &pc,
            "connectionstatechange",
            Box::new(move |_| mesh.on_connection_state(session)),
        );
        let polite = me < session;
        // Only the impolite side opens the channels up front, so only it makes the first offer:
        // no glare on the initial negotiation, whose rollback would close the channels.
        let channels = (!polite).then(|| self.open_channels(&pc, session));
        Ok(Link {
            pc,
            channels,
            route: Some(route.to_owned()),
            polite,
            making_offer: false,
            ignore_offer: false,
            announced_open: false,
            recovering: false,
            _listeners: listeners,
        })
    }

    /// Creates the two negotiated data channels of a link and listens to them.
    fn open_channels(&self, pc: &RtcPeerConnection, session: SessionId) -> Channels {
        let state = negotiated_channel(pc, "state", 0, true);
        let clock = negotiated_channel(pc, "clock", 1, false);
        let mut listeners = Vec::new();
        let mut listen = |target: &web_sys::EventTarget, event, handler| {
            add_listener(&mut listeners, target, event, handler)
        };
        // The other side closed its connection (left the page): gone now, not after ICE times out.
        let mesh = self.clone();
        listen(&state, "close", Box::new(move |_| mesh.drop_link(session)));
        for (channel, kind) in [(&state, Channel::State), (&clock, Channel::Clock)] {
            let mesh = self.clone();
            listen(
                channel,
                "message",
                Box::new(move |event: Event| {
                    let received_at_ms = super::now_ms();
                    let data = event.unchecked_into::<MessageEvent>().data();
                    let bytes = js_sys::Uint8Array::new(&data).to_vec();
                    mesh.emit(MeshEvent::Message {
                        from: session,
                        channel: kind,
                        bytes,
                        received_at_ms,
                    });
                }),
            );
            let mesh = self.clone();
            listen(
                channel,
                "open",
                Box::new(move |_| mesh.maybe_announce_open(session)),
            );
        }
        Channels {
            state,
            clock,
            _listeners: listeners,
        }
    }

    fn maybe_announce_open(&self, session: SessionId) {
        let newly_open = self
            .with_link(session, |l| {
                let open = l.channels.as_ref().is_some_and(|c| {
                    c.state.ready_state() == RtcDataChannelState::Open
                        && c.clock.ready_state() == RtcDataChannelState::Open
                });
                let newly = open && !l.announced_open;
                l.announced_open |= open;
                newly
            })
            .unwrap_or(false);
        if newly_open {
            self.emit(MeshEvent::Open(session));
        }
    }

    fn on_connection_state(&self, session: SessionId) {
        let Some((state, was_recovering)) =
            self.with_link(session, |l| (l.pc.connection_state(), l.recovering))
        else {
            return;
        };
        match state {
            RtcPeerConnectionState::Connected => {
                self.maybe_announce_open(session);
                if was_recovering {
                    self.with_link(session, |l| l.recovering = false);
                    self.emit(MeshEvent::Restored(session));
                }
            }
            // Disconnected often heals by itself; failed needs an ICE restart. Either way the
            // person is shown as reconnecting and given a grace period before being dropped.
            RtcPeerConnectionState::Disconnected | RtcPeerConnectionState::Failed => {
                if state == RtcPeerConnectionState::Failed {
                    if let Some(pc) = self.with_link(session, |l| l.pc.clone()) {
                        restart_ice(&pc);
                    }
                }
                if !was_recovering {
                    self.with_link(session, |l| l.recovering = true);
                    self.emit(MeshEvent::Reconnecting(session));
                    let mesh = self.clone();
                    gloo_timers::callback::Timeout::new(RECOVERY_GRACE_MS, move || {
                        let still_broken = mesh
                            .with_link(session, |l| {
                                l.pc.connection_state() != RtcPeerConnectionState::Connected
                            })
                            .unwrap_or(false);
                        if still_broken {
                            mesh.drop_link(session);
                        }
                    })
                    .forget();
                }
            }
            RtcPeerConnectionState::Closed => self.drop_link(session),
            _ => {}
        }
    }

    fn drop_link(&self, session: SessionId) {
        let removed = self.inner.borrow_mut().links.remove(&session);
        if let Some(link) = removed {
            link.pc.close();
            self.emit(MeshEvent::Gone(session));
        }
    }
}

struct Channels {
    state: RtcDataChannel,
    clock: RtcDataChannel,
    /// Kept alive as long as the channels they are attached to.
    _listeners: Vec<Listener>,
}

impl Link {
    fn channel(&self, channel: Channel) -> Option<&RtcDataChannel> {
        let channels = self.channels.as_ref()?;
        Some(match channel {
            Channel::State => &channels.state,
            Channel::Clock => &channels.clock,
        })
    }
}

/// Listens to `event` on `target` for as long as `listeners` is kept.
fn add_listener(
    listeners: &mut Vec<Listener>,
    target: &web_sys::EventTarget,
    event: &'static str,
    handler: Box<dyn FnMut(Event)>,
) {
    match Listener::new(target, event, handler) {
        Ok(listener) => listeners.push(listener),
        Err(error) => web_sys::console::warn_1(&super::describe_js_error(event, error).into()),
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
    let channel = pc.create_data_channel_with_data_channel_dict(label, &init);
    channel.set_binary_type(RtcDataChannelType::Arraybuffer);
    channel
}

fn send_on(channel: &RtcDataChannel, bytes: &[u8]) -> bool {
    channel.ready_state() == RtcDataChannelState::Open && channel.send_with_u8_array(bytes).is_ok()
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
