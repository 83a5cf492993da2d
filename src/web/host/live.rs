//! The host's machinery, loaded on demand (see [`super`]): this page's signing key, the checks
//! every host statement passes before the rules see it, and the signatures this page adds to
//! what it sends in host mode. The rules themselves are `room::host`'s.
//!
//! Order matters and checks are asynchronous (WebCrypto answers with promises), so every
//! message from a peer of a hosted room goes through that peer's inbox, handled strictly in
//! arrival order: a signed statement is verified before the messages after it are looked at,
//! so a state arrives after the signature its sender sent first. What this page signs goes
//! out through one outbox in the same way: the statement, then what it vouches for.

use super::keys::{self, SigningKey};
use super::{Deliver, HostEngine, HostSeed, HostView, Send};
use crate::room::host::gate::{Context, Verdict};
use crate::room::host::guest_hold;
use crate::room::host::record::signed_bytes;
use crate::room::host::{Accepted, Authority, HostMessage, KeyId, Signed, StateGate, Statement};
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{Body, PeerId, RoomTime, Versioned, WireMessage};
use crate::web::chunk::ChunkUnavailable;
use crate::web::serial_queue::SerialQueue;
use crate::web::set_if_changed;
use leptos::prelude::*;
use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Requests for the remote the host's page lists at most (one per member).
const MAX_ASKS: usize = 32;

/// The write ends of [`HostView`] (and the read ends, to write only changes).
#[derive(Clone, Copy)]
struct Writers {
    view: HostView,
    host_mode: WriteSignal<bool>,
    i_am_host: WriteSignal<bool>,
    i_may_control: WriteSignal<bool>,
    i_am_cohost: WriteSignal<bool>,
    host_session: WriteSignal<Option<SessionId>>,
    cohosts: WriteSignal<Vec<SessionId>>,
    asks: WriteSignal<Vec<SessionId>>,
    asked: WriteSignal<bool>,
    refused: WriteSignal<Option<&'static str>>,
}

fn new_view() -> Writers {
    let (host_mode, w_host_mode) = signal(false);
    let (i_am_host, w_i_am_host) = signal(false);
    let (i_may_control, w_i_may_control) = signal(true);
    let (i_am_cohost, w_i_am_cohost) = signal(false);
    let (host_session, w_host_session) = signal(None);
    let (cohosts, w_cohosts) = signal(Vec::new());
    let (asks, w_asks) = signal(Vec::new());
    let (asked, w_asked) = signal(false);
    let (refused, w_refused) = signal(None);
    Writers {
        view: HostView {
            host_mode,
            i_am_host,
            i_may_control,
            i_am_cohost,
            host_session,
            cohosts,
            asks,
            asked,
            refused,
        },
        host_mode: w_host_mode,
        i_am_host: w_i_am_host,
        i_may_control: w_i_may_control,
        i_am_cohost: w_i_am_cohost,
        host_session: w_host_session,
        cohosts: w_cohosts,
        asks: w_asks,
        asked: w_asked,
        refused: w_refused,
    }
}

struct Inner {
    me: SessionId,
    authority: Authority,
    gate: StateGate,
    key: Option<SigningKey>,
    /// Signed vouchings for the latest states, to give newcomers with the state itself.
    vouched: Vec<Signed>,
    /// Each peer's inbox and how many of its messages are in it.
    inboxes: BTreeMap<SessionId, (Rc<SerialQueue<()>>, usize)>,
    asks: Vec<SessionId>,
    /// Who is connected (the host "has left" when its session is not).
    present: Vec<SessionId>,
}

/// Builds the running host: the one way into this part of the download. With `lazy-chunks`,
/// `xtask` moves everything only this reaches into its own file, fetched when this is first
/// called; a failed fetch comes back as [`ChunkUnavailable`] and may be tried again.
#[cfg_attr(
    feature = "lazy-chunks",
    leptos::wasm_split::wasm_split(host, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub(super) fn start(seed: HostSeed) -> Result<Rc<dyn HostEngine>, ChunkUnavailable> {
    Ok(Rc::new(Host::new(seed)))
}

/// The host of a hosted room, as this page takes part in it. Cheap to clone.
#[derive(Clone)]
struct Host {
    inner: Rc<RefCell<Inner>>,
    outbox: Rc<SerialQueue<()>>,
    send: Send,
    deliver: Rc<OnceCell<Deliver>>,
    writers: Writers,
}

impl Host {
    /// Takes part in the room whose link names `room` as its host, as session `me`: loads
    /// (or makes) this page's key for the room, then announces it. Without a room, only
    /// makes new parties.
    fn new(seed: HostSeed) -> Host {
        let HostSeed {
            me,
            room,
            send,
            deliver,
        } = seed;
        let host = Host {
            inner: Rc::new(RefCell::new(Inner {
                me,
                authority: Authority::new(
                    room.unwrap_or(KeyId([0; crate::room::host::KEY_ID_BYTES])),
                ),
                gate: StateGate::default(),
                key: None,
                vouched: Vec::new(),
                inboxes: BTreeMap::new(),
                asks: Vec::new(),
                present: Vec::new(),
            })),
            outbox: SerialQueue::new(),
            send,
            deliver,
            writers: new_view(),
        };
        let Some(room) = room else { return host };
        let starting = host.clone();
        leptos::task::spawn_local(async move {
            match SigningKey::for_room(room).await {
                Ok(key) => {
                    let links_host = key.id == room;
                    starting.inner.borrow_mut().key = Some(key);
                    starting.sign_and_send(None, move |_| Statement::KeyOf { session: me }, None);
                    match (links_host, recall_mode(room)) {
                        // The host reloaded: the mode it last said is the room's (applied after
                        // its key, which the outbox is announcing).
                        (true, Some(said)) => {
                            let host = starting.clone();
                            let recalled = move |()| async move { host.apply(me, room, said) };
                            starting.outbox.push((), recalled);
                        }
                        // "No Host controls" at (term 0, seq 0): so that everyone who meets
                        // this room knows its mode at once (`room::host::newcomer`); any switch
                        // the host makes has a later seq and wins over it.
                        (true, None) => {
                            let opening = |_: &Authority| Statement::Mode {
                                on: false,
                                term: 0,
                                seq: 0,
                            };
                            starting.sign_and_send(None, opening, None);
                        }
                        (false, _) => {}
                    }
                }
                Err(why) => web_sys::console::warn_1(
                    &format!("host: this page cannot sign in this room: {why}").into(),
                ),
            }
        });
        host
    }

    /// The pure rules' answer for `session`: may it control the room now? (For the ready
    /// check: "may this person press Start anyway".)
    fn may_control(&self, session: SessionId) -> bool {
        self.inner.borrow().authority.may_control(session)
    }

    /// Whether this page may act on the room now; if not, the interface says why.
    fn check_my_action(&self) -> bool {
        let may = {
            let inner = self.inner.borrow();
            inner.authority.may_control(inner.me)
        };
        self.writers.refused.set((!may).then_some(
            "The host has the remote: only the host and co-hosts can play, pause, seek, load or edit the queue.",
        ));
        may
    }

    /// Whether what this page writes must be signed before it goes out.
    fn signs(&self) -> bool {
        let inner = self.inner.borrow();
        inner.authority.host_mode() && inner.authority.may_control(inner.me)
    }

    fn host_mode(&self) -> bool {
        self.inner.borrow().authority.host_mode()
    }

    /// Statements refused, forged or unsigned so far.
    fn dropped(&self) -> u32 {
        self.inner.borrow().authority.stats().dropped()
    }

    /// What the gate lets through of a sync message from `from`, given the register's
    /// `current` state and this page's room time `now`.
    fn check_sync(
        &self,
        from: SessionId,
        current: Option<&Versioned>,
        now: Option<RoomTime>,
        message: WireMessage,
    ) -> Option<WireMessage> {
        let mut inner = self.inner.borrow_mut();
        let cx = Context {
            mode: inner.authority.mode(),
            from,
            current,
            now,
            now_ms: crate::web::now_ms(),
        };
        let waited = inner.gate.newcomer.deadline_ms().is_some();
        let verdict = inner.gate.check(cx, message);
        match verdict {
            Verdict::Pass(message) => Some(message),
            Verdict::Stripped(message) => {
                inner.authority.count_unsigned();
                Some(message)
            }
            Verdict::Dropped => {
                inner.authority.count_unsigned();
                None
            }
            Verdict::Waits => {
                if let (false, Some(deadline)) = (waited, inner.gate.newcomer.deadline_ms()) {
                    drop(inner);
                    self.settle_at(deadline);
                }
                None
            }
        }
    }

    /// Ends the wait for the room's mode at `deadline_ms` if the mode is not heard before.
    fn settle_at(&self, deadline_ms: f64) {
        let host = self.clone();
        let wait = (deadline_ms - crate::web::now_ms()).max(0.0) as u32;
        gloo_timers::callback::Timeout::new(wait, move || host.settle()).forget();
    }

    /// Ends the wait for the room's mode (heard, or waited for long enough): the states kept
    /// aside go through the checks now, as if they had just arrived.
    fn settle(&self) {
        let kept = {
            let mut inner = self.inner.borrow_mut();
            if inner.gate.newcomer.settled() {
                return;
            }
            inner.gate.newcomer.settle()
        };
        let Some(deliver) = self.deliver.get() else {
            return;
        };
        let now_ms = crate::web::now_ms();
        for (from, state) in kept {
            let message = WireMessage::new(Body::State(state));
            deliver(from, PeerMessage::Sync(message), now_ms);
        }
    }

    /// Whether this page moves the room on at the end of a video in host mode: it signs, and
    /// it is the host or the host is away.
    fn moves_on_at_end(&self) -> bool {
        if !self.signs() {
            return false;
        }
        let inner = self.inner.borrow();
        let host = inner.authority.host();
        let i_am_host = inner.key.as_ref().is_some_and(|k| k.id == host);
        let host_here = inner
            .authority
            .host_session()
            .is_some_and(|s| inner.present.contains(&s));
        i_am_host || !host_here
    }

    /// Whether this page, in control, releases the room's `current` state now: a guest's
    /// buffering hold that stood too long.
    fn releases_hold(&self, current: Option<&Versioned>, now: Option<RoomTime>) -> bool {
        if !self.signs() {
            return false;
        }
        let inner = self.inner.borrow();
        guest_hold::overdue(current, now, |p: PeerId| inner.authority.may_control(p.0))
    }

    /// A link opened: tell the newcomer what this page knows of the host (before anything
    /// else, so its checks know the mode when our state arrives).
    fn greet(&self, session: SessionId, current: Option<&Versioned>) {
        let statements: Vec<Signed> = {
            let mut inner = self.inner.borrow_mut();
            inner.present.push(session);
            let me = inner.me;
            let log = inner.authority.log().iter().filter(|s| match s.statement {
                // Each member announces its own key (relayed, it would be refused).
                Statement::KeyOf { session } => session == me,
                _ => true,
            });
            let vouched = inner
                .vouched
                .iter()
                .filter(|s| matches!(&s.statement, Statement::State(v) if Some(v) == current));
            log.chain(vouched).cloned().collect()
        };
        for signed in statements {
            (self.send)(
                Some(session),
                &PeerMessage::Host(HostMessage::Signed(signed).encode()),
            );
        }
        self.refresh();
    }

    /// A peer left: its inbox and the key it announced go (its grant stays).
    fn gone(&self, session: SessionId) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.inboxes.remove(&session);
            inner.present.retain(|s| *s != session);
            inner.authority.forget(session);
            inner.gate.guest_holds.forget(PeerId(session));
        }
        self.refresh();
    }

    /// A message from a peer of this room, in arrival order: host statements are verified and
    /// judged here; queue pieces in host mode are checked against the signed digests; the
    /// rest is handed to the party in order.
    fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64) {
        let needs_async = matches!(message, PeerMessage::Host(_))
            || (matches!(message, PeerMessage::Queue(_)) && self.host_mode());
        let queued = self
            .inner
            .borrow()
            .inboxes
            .get(&from)
            .is_some_and(|(_, n)| *n > 0);
        if !needs_async && !queued {
            return self.handle_now(from, message, at_ms);
        }
        let inbox = {
            let mut inner = self.inner.borrow_mut();
            let entry = inner
                .inboxes
                .entry(from)
                .or_insert_with(|| (SerialQueue::new(), 0));
            entry.1 += 1;
            entry.0.clone()
        };
        let host = self.clone();
        inbox.push((), move |()| async move {
            host.handle(from, message, at_ms).await;
            if let Some((_, n)) = host.inner.borrow_mut().inboxes.get_mut(&from) {
                *n -= 1;
            }
        });
    }

    fn handle_now(&self, from: SessionId, message: PeerMessage, at_ms: f64) {
        match (message, self.deliver.get()) {
            (PeerMessage::Host(_), _) | (_, None) => {}
            (message, Some(deliver)) => deliver(from, message, at_ms),
        }
    }

    async fn handle(&self, from: SessionId, message: PeerMessage, at_ms: f64) {
        match message {
            PeerMessage::Host(bytes) => match HostMessage::decode(&bytes) {
                Some(HostMessage::Signed(signed)) => self.on_signed(from, signed).await,
                Some(HostMessage::Ask) => self.on_ask(from),
                None => self.inner.borrow_mut().authority.count_forged(),
            },
            PeerMessage::Queue(piece) if self.host_mode() => {
                let digest = keys::sha256(&piece).await.unwrap_or_default();
                if self.inner.borrow().gate.admits_piece(&digest) {
                    self.handle_now(from, PeerMessage::Queue(piece), at_ms);
                } else {
                    self.inner.borrow_mut().authority.count_unsigned();
                }
            }
            message => self.handle_now(from, message, at_ms),
        }
    }

    async fn on_signed(&self, from: SessionId, signed: Signed) {
        let room = self.inner.borrow().authority.room();
        let bytes = signed_bytes(room, &signed.statement);
        let checked = match keys::verify(&signed.key, &signed.signature, &bytes).await {
            Ok(true) => keys::key_id(&signed.key).await.ok(),
            _ => None,
        };
        let Some(signer) = checked else {
            self.inner.borrow_mut().authority.count_forged();
            return;
        };
        self.apply(from, signer, signed);
    }

    /// A statement whose signature is good, judged by the rules.
    fn apply(&self, from: SessionId, signer: KeyId, signed: Signed) {
        let result = self
            .inner
            .borrow_mut()
            .authority
            .accept(from, signer, signed.clone());
        match result {
            Ok(Accepted::State(state)) => {
                let mut inner = self.inner.borrow_mut();
                inner.gate.attest(state);
                remember_vouching(&mut inner.vouched, signed);
            }
            Ok(Accepted::Queue(digest)) => self.inner.borrow_mut().gate.attest_piece(digest),
            Ok(Accepted::Changed) => self.refresh(),
            Ok(Accepted::Unchanged | Accepted::Waiting) => {}
            Err(why) => web_sys::console::warn_1(
                &format!("host: ignored a statement from a peer: {why:?}").into(),
            ),
        }
        // The host or a co-host told this page the room's mode (or this page is the host and
        // said it): what waited for it goes on.
        if self.inner.borrow().authority.mode_settled() {
            self.settle();
        }
    }

    fn on_ask(&self, from: SessionId) {
        let mut inner = self.inner.borrow_mut();
        let host = inner.authority.host();
        if inner.key.as_ref().is_some_and(|k| k.id == host)
            && !inner.asks.contains(&from)
            && inner.asks.len() < MAX_ASKS
        {
            inner.asks.push(from);
            let asks = inner.asks.clone();
            drop(inner);
            self.writers.asks.set(asks);
        }
    }

    /// Signs the statement `make` builds (from the rules' state at its turn in the outbox),
    /// applies it here, sends it to `to` (or everyone), then sends `after` (what it vouches
    /// for), in that order.
    fn sign_and_send(
        &self,
        to: Option<SessionId>,
        make: impl FnOnce(&Authority) -> Statement + 'static,
        after: Option<PeerMessage>,
    ) {
        let host = self.clone();
        self.outbox.push((), move |()| async move {
            let (key, statement, room, me) = {
                let inner = host.inner.borrow();
                let Some(key) = inner.key.clone() else { return };
                (
                    key,
                    make(&inner.authority),
                    inner.authority.room(),
                    inner.me,
                )
            };
            let bytes = signed_bytes(room, &statement);
            let signature = match key.sign(&bytes).await {
                Ok(signature) => signature,
                Err(why) => return web_sys::console::warn_1(&format!("host: {why}").into()),
            };
            let signed = Signed {
                statement,
                key: key.public.clone(),
                signature,
            };
            if matches!(signed.statement, Statement::Mode { .. }) {
                remember_mode(room, &signed);
            }
            host.apply(me, key.id, signed.clone());
            (host.send)(to, &PeerMessage::Host(HostMessage::Signed(signed).encode()));
            if let Some(after) = after {
                (host.send)(to, &after);
            }
        });
    }

    /// Sends `message` (a state this page wrote) after signing `state` for it.
    fn send_state(&self, to: Option<SessionId>, state: Versioned, message: PeerMessage) {
        self.sign_and_send(to, move |_| Statement::State(state), Some(message));
    }

    /// Sends a queue piece after signing its digest.
    fn send_piece(&self, to: Option<SessionId>, piece: Vec<u8>) {
        let host = self.clone();
        self.outbox.push((), move |()| async move {
            let digest = keys::sha256(&piece).await.unwrap_or_default();
            host.sign_and_send(
                to,
                move |_| Statement::Queue(digest),
                Some(PeerMessage::Queue(piece)),
            );
        });
    }

    /// The host switches Host controls; on, it also vouches for the room's current state, so
    /// newcomers can take it.
    fn set_mode(&self, on: bool, current: Option<Versioned>) {
        self.sign_and_send(
            None,
            move |a| Statement::Mode {
                on,
                term: a.term(),
                seq: a.next_seq(js_sys::Date::now() as u64),
            },
            None,
        );
        if let (true, Some(state)) = (on, current) {
            self.sign_and_send(None, move |_| Statement::State(state), None);
        }
    }

    /// The host makes `session` a co-host (or no longer one).
    fn grant(&self, session: SessionId, granted: bool) {
        let Some(key) = self.inner.borrow().authority.key_of(session) else {
            return;
        };
        self.sign_and_send(
            None,
            move |a| Statement::Grant {
                key,
                session,
                granted,
                term: a.term(),
                seq: a.next_seq(js_sys::Date::now() as u64),
            },
            None,
        );
        let asks = {
            let mut inner = self.inner.borrow_mut();
            inner.asks.retain(|s| *s != session);
            inner.asks.clone()
        };
        self.writers.asks.set(asks);
    }

    /// The host hands its role to `session`.
    fn hand_over(&self, session: SessionId) {
        let Some(to) = self.inner.borrow().authority.key_of(session) else {
            return;
        };
        self.sign_and_send(
            None,
            move |a| Statement::Handover {
                to,
                session,
                term: a.term(),
            },
            None,
        );
    }

    /// "Ask for the remote": tells the host.
    fn ask(&self) {
        let host = self.inner.borrow().authority.host_session();
        (self.send)(host, &PeerMessage::Host(HostMessage::Ask.encode()));
        self.writers.asked.set(true);
    }

    /// Brings the view up to date with the rules.
    fn refresh(&self) {
        let inner = self.inner.borrow();
        let a = &inner.authority;
        let mine = inner.key.as_ref().map(|k| k.id);
        let i_am_host = mine == Some(a.host());
        let host_session = a
            .host_session()
            .filter(|s| *s == inner.me || inner.present.contains(s));
        let cohosts: Vec<SessionId> = inner
            .present
            .iter()
            .copied()
            .filter(|s| a.is_cohost(*s))
            .collect();
        let (mode, may) = (a.host_mode(), a.may_control(inner.me));
        let cohost = a.is_cohost(inner.me);
        drop(inner);
        let w = &self.writers;
        set_if_changed(w.host_mode, mode);
        set_if_changed(w.i_am_host, i_am_host);
        set_if_changed(w.i_may_control, may);
        set_if_changed(w.i_am_cohost, cohost);
        set_if_changed(w.host_session, host_session);
        set_if_changed(w.cohosts, cohosts);
        if may {
            set_if_changed(w.asked, false);
            set_if_changed(w.refused, None);
        }
    }
}

fn mode_slot(room: KeyId) -> String {
    format!("insieme.host-mode.{}", room.to_text())
}

/// Keeps the last mode statement this page signed in the room, so a reload of the host's page
/// knows the room's mode at once rather than waiting to hear it (`room::host::newcomer`).
fn remember_mode(room: KeyId, said: &Signed) {
    let text = crate::base64url::encode(HostMessage::Signed(said.clone()).encode());
    if let Some(storage) = local_storage() {
        // Private modes may refuse storage: a reload then waits to hear the mode.
        let _ = storage.set_item(&mode_slot(room), &text);
    }
}

/// The mode statement this page last signed in the room, if it kept one.
fn recall_mode(room: KeyId) -> Option<Signed> {
    let text = local_storage()?.get_item(&mode_slot(room)).ok()??;
    match HostMessage::decode(&crate::base64url::decode(&text).ok()?)? {
        HostMessage::Signed(said) => Some(said),
        HostMessage::Ask => None,
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Keeps the latest few vouchings (a newcomer needs the one for the current state).
fn remember_vouching(vouched: &mut Vec<Signed>, signed: Signed) {
    if vouched.contains(&signed) {
        return;
    }
    if vouched.len() == 4 {
        vouched.remove(0);
    }
    vouched.push(signed);
}

impl HostEngine for Host {
    fn may_control(&self, session: SessionId) -> bool {
        Host::may_control(self, session)
    }
    fn check_my_action(&self) -> bool {
        Host::check_my_action(self)
    }
    fn signs(&self) -> bool {
        Host::signs(self)
    }
    fn host_mode(&self) -> bool {
        Host::host_mode(self)
    }
    fn dropped(&self) -> u32 {
        Host::dropped(self)
    }
    fn check_sync(
        &self,
        from: SessionId,
        current: Option<&Versioned>,
        now: Option<RoomTime>,
        message: WireMessage,
    ) -> Option<WireMessage> {
        Host::check_sync(self, from, current, now, message)
    }
    fn moves_on_at_end(&self) -> bool {
        Host::moves_on_at_end(self)
    }
    fn releases_hold(&self, current: Option<&Versioned>, now: Option<RoomTime>) -> bool {
        Host::releases_hold(self, current, now)
    }
    fn greet(&self, session: SessionId, current: Option<&Versioned>) {
        Host::greet(self, session, current)
    }
    fn gone(&self, session: SessionId) {
        Host::gone(self, session)
    }
    fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64) {
        Host::receive(self, from, message, at_ms)
    }
    fn send_state(&self, to: Option<SessionId>, state: Versioned, message: PeerMessage) {
        Host::send_state(self, to, state, message)
    }
    fn send_piece(&self, to: Option<SessionId>, piece: Vec<u8>) {
        Host::send_piece(self, to, piece)
    }
    fn set_mode(&self, on: bool, current: Option<Versioned>) {
        Host::set_mode(self, on, current)
    }
    fn new_party(&self) -> Pin<Box<dyn Future<Output = Result<KeyId, String>>>> {
        Box::pin(async { Ok(SigningKey::for_new_party().await?.id) })
    }
    fn mount_panel(
        &self,
        container: web_sys::HtmlElement,
        people: ReadSignal<crate::room::people::People>,
        set_mode: Rc<dyn Fn(bool)>,
    ) {
        let (asker, granter, handing) = (self.clone(), self.clone(), self.clone());
        let actions = super::HostActions {
            set_mode,
            ask: Rc::new(move || asker.ask()),
            grant: Rc::new(move |session, granted| granter.grant(session, granted)),
            hand_over: Rc::new(move |session| handing.hand_over(session)),
        };
        let view = self.writers.view;
        let panel = leptos::mount::mount_to(container, move || {
            crate::ui::host_panel::panel(view, people, actions)
        });
        // The panel lives as long as the room page: the party outlives it only on leaving.
        std::mem::forget(panel);
    }
}
