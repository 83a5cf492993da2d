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
use super::{Deliver, HostEngine, HostSeed, Send, Writers};
use crate::room::host::gate::Verdict;
use crate::room::host::record::signed_bytes;
use crate::room::host::{Accepted, Authority, HostMessage, KeyId, Signed, StateGate, Statement};
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{Versioned, WireMessage};
use crate::web::chunk::ChunkUnavailable;
use crate::web::serial_queue::SerialQueue;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

/// Requests for the remote the host's page lists at most (one per member).
const MAX_ASKS: usize = 32;

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
            writers,
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
            writers,
        };
        let Some(room) = room else { return host };
        let starting = host.clone();
        leptos::task::spawn_local(async move {
            match SigningKey::for_room(room).await {
                Ok(key) => {
                    starting.inner.borrow_mut().key = Some(key);
                    starting.sign_and_send(None, move |_| Statement::KeyOf { session: me }, None);
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

    /// What the gate lets through of a sync message, given the register's `current` state.
    fn check_sync(&self, current: Option<&Versioned>, message: WireMessage) -> Option<WireMessage> {
        let mut inner = self.inner.borrow_mut();
        let verdict = inner
            .gate
            .check(inner.authority.host_mode(), current, message);
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
        }
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
        }
        self.refresh();
    }

    /// A message from a peer of this room, in arrival order: host statements are verified and
    /// judged here; queue pieces in host mode are checked against the signed digests; the
    /// rest is handed to `deliver` in order.
    fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64, deliver: Deliver) {
        let needs_async = matches!(message, PeerMessage::Host(_))
            || (matches!(message, PeerMessage::Queue(_)) && self.host_mode());
        let queued = self
            .inner
            .borrow()
            .inboxes
            .get(&from)
            .is_some_and(|(_, n)| *n > 0);
        if !needs_async && !queued {
            return self.handle_now(from, message, at_ms, &deliver);
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
            host.handle(from, message, at_ms, &deliver).await;
            if let Some((_, n)) = host.inner.borrow_mut().inboxes.get_mut(&from) {
                *n -= 1;
            }
        });
    }

    fn handle_now(&self, from: SessionId, message: PeerMessage, at_ms: f64, deliver: &Deliver) {
        match message {
            PeerMessage::Host(_) => {}
            message => deliver(from, message, at_ms),
        }
    }

    async fn handle(&self, from: SessionId, message: PeerMessage, at_ms: f64, deliver: &Deliver) {
        match message {
            PeerMessage::Host(bytes) => match HostMessage::decode(&bytes) {
                Some(HostMessage::Signed(signed)) => self.on_signed(from, signed).await,
                Some(HostMessage::Ask) => self.on_ask(from),
                None => self.inner.borrow_mut().authority.count_forged(),
            },
            PeerMessage::Queue(piece) if self.host_mode() => {
                let digest = keys::sha256(&piece).await.unwrap_or_default();
                if self.inner.borrow().gate.admits_piece(&digest) {
                    deliver(from, PeerMessage::Queue(piece), at_ms);
                } else {
                    self.inner.borrow_mut().authority.count_unsigned();
                }
            }
            message => self.handle_now(from, message, at_ms, deliver),
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
        set_if_changed(self.writers.host_mode, self.writers.view.host_mode, mode);
        set_if_changed(
            self.writers.i_am_host,
            self.writers.view.i_am_host,
            i_am_host,
        );
        set_if_changed(
            self.writers.i_may_control,
            self.writers.view.i_may_control,
            may,
        );
        set_if_changed(
            self.writers.i_am_cohost,
            self.writers.view.i_am_cohost,
            cohost,
        );
        set_if_changed(
            self.writers.host_session,
            self.writers.view.host_session,
            host_session,
        );
        set_if_changed(self.writers.cohosts, self.writers.view.cohosts, cohosts);
        if may {
            set_if_changed(self.writers.asked, self.writers.view.asked, false);
            set_if_changed(self.writers.refused, self.writers.view.refused, None);
        }
    }
}

fn set_if_changed<T: PartialEq + Clone + std::marker::Send + Sync + 'static>(
    write: WriteSignal<T>,
    read: ReadSignal<T>,
    value: T,
) {
    if read.with_untracked(|v| *v != value) {
        write.set(value);
    }
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
    fn check_sync(&self, current: Option<&Versioned>, message: WireMessage) -> Option<WireMessage> {
        Host::check_sync(self, current, message)
    }
    fn greet(&self, session: SessionId, current: Option<&Versioned>) {
        Host::greet(self, session, current)
    }
    fn gone(&self, session: SessionId) {
        Host::gone(self, session)
    }
    fn receive(&self, from: SessionId, message: PeerMessage, at_ms: f64, deliver: Deliver) {
        Host::receive(self, from, message, at_ms, deliver)
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
