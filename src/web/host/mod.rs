//! The party's host as the rest of the app sees it: a small handle in the first download, in
//! front of the host's machinery (`live`: this page's signing key, signature checks, the
//! rules of `room::host`), which is a download of its own.
//!
//! A hosted room fetches that code as soon as it opens (and "Start a watch party" before it
//! makes the host's key). Until it runs, every message from the room's peers is held here, in
//! arrival order, and replayed through it: nothing reaches the engine or the queue before the
//! checks that host mode needs can run. So this handle is only "the link names a host: hold
//! messages until the code is here"; everything else, the panel's signals included, is made by
//! the code itself. `xtask` splits the download at [`live::start`] (the `lazy-chunks` feature);
//! without it the code is built in and loading is immediate.

pub mod keys;
mod live;

use crate::room::host::KeyId;
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{RoomTime, Versioned, WireMessage};
use crate::web::chunk::ChunkUnavailable;
use leptos::prelude::*;
use std::cell::{Cell, OnceCell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Messages held while the host's code is on its way (it is fetched as the room opens,
/// before links do, so this is only ever a handful).
const MAX_HELD: usize = 4096;

/// Sends a message to one peer, or to everyone (`None`).
pub type Send = Rc<dyn Fn(Option<SessionId>, &PeerMessage)>;
/// Hands a checked message on to the party, in arrival order: (from, message, received at).
pub type Deliver = Rc<dyn Fn(SessionId, PeerMessage, f64)>;

/// What the interface shows of the host; made and written only by the host's code.
#[derive(Clone, Copy)]
pub struct HostView {
    pub host_mode: ReadSignal<bool>,
    pub i_am_host: ReadSignal<bool>,
    /// Whether this page may play, pause, seek, load and edit the queue now.
    pub i_may_control: ReadSignal<bool>,
    pub i_am_cohost: ReadSignal<bool>,
    /// The session the host speaks from, while it is in the room.
    pub host_session: ReadSignal<Option<SessionId>>,
    pub cohosts: ReadSignal<Vec<SessionId>>,
    /// Who asked for the remote (the host's page only).
    pub asks: ReadSignal<Vec<SessionId>>,
    /// This page asked for the remote and has not been granted it.
    pub asked: ReadSignal<bool>,
    /// Why the person's last action did nothing, while it is relevant.
    pub refused: ReadSignal<Option<&'static str>>,
}

/// What the panel's buttons do.
#[derive(Clone)]
pub struct HostActions {
    pub set_mode: Rc<dyn Fn(bool)>,
    pub ask: Rc<dyn Fn()>,
    pub grant: Rc<dyn Fn(SessionId, bool)>,
    pub hand_over: Rc<dyn Fn(SessionId)>,
}

/// What the party and the panel ask of the running host.
trait HostEngine {
    fn may_control(&self, session: SessionId) -> bool;
    fn check_my_action(&self) -> bool;
    fn signs(&self) -> bool;
    fn host_mode(&self) -> bool;
    fn dropped(&self) -> u32;
    fn check_sync(
        &self,
        from: SessionId,
        current: Option<&Versioned>,
        now: Option<RoomTime>,
        message: WireMessage,
    ) -> Option<WireMessage>;
    fn moves_on_at_end(&self) -> bool;
    fn releases_hold(&self, current: Option<&Versioned>, now: Option<RoomTime>) -> bool;
    fn greet(&self, session: SessionId, current: Option<&Versioned>);
    fn gone(&self, session: SessionId);
    fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64);
    fn send_state(&self, to: Option<SessionId>, state: Versioned, message: PeerMessage);
    fn send_piece(&self, to: Option<SessionId>, piece: Vec<u8>);
    fn set_mode(&self, on: bool, current: Option<Versioned>);
    fn new_party(&self) -> Pin<Box<dyn Future<Output = Result<KeyId, String>>>>;
    fn mount_panel(
        &self,
        container: web_sys::HtmlElement,
        people: ReadSignal<crate::room::people::People>,
        set_mode: Rc<dyn Fn(bool)>,
    );
}

/// Everything the host's code is built from.
struct HostSeed {
    me: SessionId,
    /// The link's host; `None` only to make a new party.
    room: Option<KeyId>,
    send: Send,
    /// Where checked messages go: set once, when the party is made ([`Host::deliver_to`]).
    deliver: Rc<OnceCell<Deliver>>,
}

async fn load(seed: HostSeed) -> Result<Rc<dyn HostEngine>, ChunkUnavailable> {
    #[cfg(feature = "lazy-chunks")]
    let engine = live::start(seed).await;
    #[cfg(not(feature = "lazy-chunks"))]
    let engine = live::start(seed);
    engine
}

enum Stage {
    /// The code is on its way: what arrived meanwhile, in order.
    Loading(Vec<(SessionId, PeerMessage, f64)>),
    Live(Rc<dyn HostEngine>),
}

/// The host of a hosted room, as this page takes part in it. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    stage: Rc<RefCell<Stage>>,
    /// The host's code runs here (its panel can be drawn).
    pub loaded: ReadSignal<bool>,
    deliver: Rc<OnceCell<Deliver>>,
    /// Messages dropped while waiting, past [`MAX_HELD`].
    dropped: Rc<Cell<u32>>,
}

impl Host {
    /// Takes part in the room whose link names `room` as its host, as session `me`: fetches
    /// the host's code at once (it then loads or makes this page's key and announces it).
    pub fn new(me: SessionId, room: KeyId, send: Send) -> Host {
        let (loaded, set_loaded) = signal(false);
        let host = Host {
            stage: Rc::new(RefCell::new(Stage::Loading(Vec::new()))),
            loaded,
            deliver: Rc::new(OnceCell::new()),
            dropped: Rc::new(Cell::new(0)),
        };
        let loading = host.clone();
        leptos::task::spawn_local(async move {
            let seed = HostSeed {
                me,
                room: Some(room),
                send,
                deliver: loading.deliver.clone(),
            };
            // No retry yet: if the code cannot be fetched, the room's messages stay held (never
            // applied unchecked) until the page is reloaded.
            let engine = match load(seed).await {
                Ok(engine) => engine,
                Err(ChunkUnavailable) => {
                    return web_sys::console::warn_1(&"host: its code could not be fetched".into())
                }
            };
            let held = std::mem::replace(
                &mut *loading.stage.borrow_mut(),
                Stage::Live(engine.clone()),
            );
            set_loaded.set(true);
            if let Stage::Loading(held) = held {
                for (from, message, at) in held {
                    engine.receive(from, message, at);
                }
            }
        });
        host
    }

    /// Where checked messages go, in arrival order: the party's own handling. Set once, when
    /// the party is made (messages wait for it like for the code).
    pub fn deliver_to(&self, deliver: Deliver) {
        let _ = self.deliver.set(deliver);
    }

    fn live(&self) -> Option<Rc<dyn HostEngine>> {
        match &*self.stage.borrow() {
            Stage::Live(engine) => Some(engine.clone()),
            Stage::Loading(..) => None,
        }
    }

    /// The pure rules' answer for `session` (`room::host::Authority::may_control`): may it
    /// control the room now? Also "may this person start a ready check or press Start
    /// anyway". Everyone may until the host's code runs (nothing from peers is applied
    /// before then).
    pub fn may_control(&self, session: SessionId) -> bool {
        self.live().is_none_or(|h| h.may_control(session))
    }

    /// Whether this page may act on the room now; if not, the interface says why.
    pub fn check_my_action(&self) -> bool {
        self.live().is_none_or(|h| h.check_my_action())
    }

    /// Whether what this page writes must be signed before it goes out.
    pub fn signs(&self) -> bool {
        self.live().is_some_and(|h| h.signs())
    }

    pub fn host_mode(&self) -> bool {
        self.live().is_some_and(|h| h.host_mode())
    }

    /// Statements refused, forged or unsigned so far, and messages dropped while waiting.
    pub fn dropped(&self) -> u32 {
        let live = self.live().map_or(0, |h| h.dropped());
        live.saturating_add(self.dropped.get())
    }

    /// What the gate lets through of a sync message from `from`, given the register's
    /// `current` state and this page's room time `now`.
    pub fn check_sync(
        &self,
        from: SessionId,
        current: Option<&Versioned>,
        now: Option<RoomTime>,
        message: WireMessage,
    ) -> Option<WireMessage> {
        match self.live() {
            Some(h) => h.check_sync(from, current, now, message),
            None => Some(message),
        }
    }

    /// Whether this page moves the room on at the end of a video in host mode: one in control
    /// (the host, or while it is away each co-host; they write the same next entry).
    pub fn moves_on_at_end(&self) -> bool {
        self.live().is_some_and(|h| h.moves_on_at_end())
    }

    /// Whether this page, in control, should release the room's `current` state now: a
    /// guest's buffering hold that has stood too long (`room::host::guest_hold::overdue`).
    pub fn releases_hold(&self, current: Option<&Versioned>, now: Option<RoomTime>) -> bool {
        self.live().is_some_and(|h| h.releases_hold(current, now))
    }

    /// A link opened: tell the newcomer what this page knows of the host, first.
    pub fn greet(&self, session: SessionId, current: Option<&Versioned>) {
        if let Some(h) = self.live() {
            h.greet(session, current);
        }
    }

    /// A peer left.
    pub fn gone(&self, session: SessionId) {
        if let Some(h) = self.live() {
            h.gone(session);
        }
    }

    /// A message from a peer, checked in arrival order, then handed to the party
    /// ([`Host::deliver_to`]); held until the host's code runs.
    pub fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64) {
        let mut stage = self.stage.borrow_mut();
        match &mut *stage {
            Stage::Live(engine) => {
                let engine = engine.clone();
                drop(stage);
                engine.receive(from, message, at_ms);
            }
            Stage::Loading(held) if held.len() >= MAX_HELD => {
                self.dropped.set(self.dropped.get().saturating_add(1))
            }
            Stage::Loading(held) => held.push((from, message, at_ms)),
        }
    }

    pub fn send_state(&self, to: Option<SessionId>, state: Versioned, message: PeerMessage) {
        if let Some(h) = self.live() {
            h.send_state(to, state, message);
        }
    }

    pub fn send_piece(&self, to: Option<SessionId>, piece: Vec<u8>) {
        if let Some(h) = self.live() {
            h.send_piece(to, piece);
        }
    }

    /// The host switches Host controls; on, it also vouches for the room's current state.
    pub fn set_mode(&self, on: bool, current: Option<Versioned>) {
        if let Some(h) = self.live() {
            h.set_mode(on, current);
        }
    }

    /// Draws the host's panel into `container` (once the code runs: see `loaded`).
    pub fn mount_panel(
        &self,
        container: web_sys::HtmlElement,
        people: ReadSignal<crate::room::people::People>,
        set_mode: Rc<dyn Fn(bool)>,
    ) {
        if let Some(h) = self.live() {
            h.mount_panel(container, people, set_mode);
        }
    }
}

/// Starts a new party with this page as its host: fetches the host's code, makes a signing
/// key (kept for the room) and opens the link naming it. Without a key store (some private
/// windows) or the code, the party has no host, as links made before hosts.
pub async fn open_new_party() -> Result<(), String> {
    let secret = crate::web::random::new_room_secret()?;
    let seed = HostSeed {
        me: 0,
        room: None,
        send: Rc::new(|_, _| {}),
        deliver: Rc::new(OnceCell::new()),
    };
    let host = match load(seed).await {
        Ok(engine) => engine.new_party().await,
        Err(ChunkUnavailable) => Err("the host's code could not be fetched".into()),
    };
    let host = host
        .map_err(|why| {
            web_sys::console::warn_1(&format!("host: a party without a host: {why}").into())
        })
        .ok();
    crate::web::location::navigate_to_fragment(&crate::room_link::fragment(&secret, host))
}
