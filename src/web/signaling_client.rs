//! The WebSocket to the signaling endpoint: connects to `<base>/<topic>`, parses frames, and
//! when the socket ends says why and reconnects as [`plan_after`] decides (jittered backoff
//! after a restart, slowly for a full room, never when the browser refuses the URL), so
//! newcomers can still join after an endpoint restart. Existing peer links never depend on it.

use super::event_listener::Listener;
use crate::base64url;
use crate::signaling::endpoint::{
    data_frame, leave_frame, parse_server_frame, plan_after, Ending, Outage,
};
use insieme_signal_protocol::{ServerMessage, TurnCredential};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

#[derive(Debug, Clone, PartialEq)]
pub enum SignalingEvent {
    /// (Re)joined the topic: our transport id, the peers already there, and a fresh TURN
    /// credential if the endpoint mints them.
    Joined {
        my_id: String,
        peers: Vec<String>,
        turn: Option<TurnCredential>,
    },
    PeerJoined(String),
    PeerLeft(String),
    /// Opaque bytes from a peer (still sealed).
    Data {
        from: String,
        bytes: Vec<u8>,
    },
    /// The socket ended, for this reason; a reconnect is scheduled unless it cannot help.
    Disconnected(Outage),
    /// Something the endpoint or a frame said that the person or the logs should know.
    Problem(String),
}

type Handler = Rc<dyn Fn(SignalingEvent)>;

struct Inner {
    url: String,
    handler: Handler,
    socket: Option<WebSocket>,
    /// The current socket got the endpoint's welcome.
    welcomed: bool,
    /// Sockets in a row that ended without a welcome.
    failed_attempts: u32,
    closed_by_us: bool,
    /// The current socket's listeners; replacing or clearing them detaches them from it.
    listeners: Vec<Listener>,
}

impl Inner {
    /// Leaves the topic on the current socket and closes it. Its listeners go first, so its
    /// close event cannot schedule a reconnect of its own.
    fn leave_socket(&mut self) {
        self.listeners.clear();
        if let Some(socket) = self.socket.take() {
            let _ = socket.send_with_str(&leave_frame());
            let _ = socket.close();
        }
    }
}

#[derive(Clone)]
pub struct SignalingClient {
    inner: Rc<RefCell<Inner>>,
}

impl SignalingClient {
    /// Connects to `url` (`ws(s)://host/ws/<topic>`) and keeps reconnecting until [`close`].
    pub fn connect(url: String, on_event: impl Fn(SignalingEvent) + 'static) -> Self {
        let inner = Rc::new(RefCell::new(Inner {
            url,
            handler: Rc::new(on_event),
            socket: None,
            welcomed: false,
            failed_attempts: 0,
            closed_by_us: false,
            listeners: Vec::new(),
        }));
        let client = Self { inner };
        client.open_socket();
        client
    }

    /// Sends `bytes` to the peer with transport id `to`; false if the endpoint is unreachable now.
    pub fn send(&self, to: &str, bytes: &[u8]) -> bool {
        let inner = self.inner.borrow();
        let Some(socket) = inner
            .socket
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
        else {
            return false;
        };
        socket
            .send_with_str(&data_frame(to, &base64url::encode(bytes)))
            .is_ok()
    }

    /// Rejoins at once on a fresh socket (for a fresh welcome: a new TURN credential). Peer
    /// links do not depend on the socket, and the rejoin greets everyone again, as after an
    /// endpoint restart.
    pub fn rejoin(&self) {
        {
            let mut inner = self.inner.borrow_mut();
            if inner.closed_by_us {
                return;
            }
            inner.leave_socket();
        }
        self.open_socket();
    }

    /// Leaves the topic for good.
    pub fn close(&self) {
        let mut inner = self.inner.borrow_mut();
        inner.closed_by_us = true;
        inner.leave_socket();
    }

    fn open_socket(&self) {
        let url = self.inner.borrow().url.clone();
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(error) => {
                self.emit(SignalingEvent::Problem(super::describe_js_error(
                    "cannot open the signaling socket",
                    error,
                )));
                return self.ended(Ending::Refused);
            }
        };
        let on_message = {
            let client = self.clone();
            Listener::new(&socket, "message", move |event| {
                let Some(text) = event
                    .dyn_ref::<MessageEvent>()
                    .and_then(|m| m.data().as_string())
                else {
                    return;
                };
                client.on_frame(&text);
            })
        };
        let on_close = {
            let client = self.clone();
            Listener::new(&socket, "close", move |event| {
                let code = event
                    .dyn_ref::<CloseEvent>()
                    .map(|c| c.code())
                    .unwrap_or_default();
                client.on_closed(code);
            })
        };
        let listeners = match (on_message, on_close) {
            (Ok(on_message), Ok(on_close)) => vec![on_message, on_close],
            (Err(error), _) | (_, Err(error)) => {
                // A socket we cannot hear would look connected and never reconnect.
                let _ = socket.close();
                self.emit(SignalingEvent::Problem(super::describe_js_error(
                    "cannot listen to the signaling socket",
                    error,
                )));
                return self.ended(Ending::BeforeWelcome(0));
            }
        };
        let mut inner = self.inner.borrow_mut();
        inner.socket = Some(socket);
        inner.listeners = listeners;
    }

    fn on_frame(&self, text: &str) {
        let event = match parse_server_frame(text) {
            Ok(Some(ServerMessage::Welcome {
                id, peers, turn, ..
            })) => {
                let mut inner = self.inner.borrow_mut();
                inner.failed_attempts = 0;
                inner.welcomed = true;
                drop(inner);
                SignalingEvent::Joined {
                    my_id: id,
                    peers,
                    turn,
                }
            }
            Ok(Some(ServerMessage::Joined { peer })) => SignalingEvent::PeerJoined(peer),
            Ok(Some(ServerMessage::Left { peer })) => SignalingEvent::PeerLeft(peer),
            Ok(Some(ServerMessage::Data { from, data })) => match base64url::decode(&data) {
                Ok(bytes) => SignalingEvent::Data { from, bytes },
                Err(_) => SignalingEvent::Problem(format!("data from {from} is not base64url")),
            },
            Ok(Some(ServerMessage::Error { code, message })) => {
                SignalingEvent::Problem(format!("endpoint error {code}: {message}"))
            }
            Ok(None) => return,
            Err(error) => SignalingEvent::Problem(error.to_string()),
        };
        self.emit(event);
    }

    fn on_closed(&self, code: u16) {
        if self.inner.borrow().closed_by_us {
            return;
        }
        if code != 1000 && code != 1012 {
            self.emit(SignalingEvent::Problem(format!(
                "signaling connection closed (code {code})"
            )));
        }
        let ending = match self.inner.borrow().welcomed {
            true => Ending::AfterWelcome(code),
            false => Ending::BeforeWelcome(code),
        };
        self.ended(ending);
    }

    /// The socket is over: says why, and tries again when that can help.
    fn ended(&self, ending: Ending) {
        let plan = {
            let mut inner = self.inner.borrow_mut();
            inner.socket = None;
            inner.welcomed = false;
            inner.failed_attempts = inner.failed_attempts.saturating_add(1);
            plan_after(ending, inner.failed_attempts, js_sys::Math::random())
        };
        self.emit(SignalingEvent::Disconnected(plan.outage));
        let Some(delay) = plan.retry_ms else { return };
        let client = self.clone();
        gloo_timers::callback::Timeout::new(delay, move || {
            if !client.inner.borrow().closed_by_us {
                client.open_socket();
            }
        })
        .forget();
    }

    fn emit(&self, event: SignalingEvent) {
        let handler = self.inner.borrow().handler.clone();
        handler(event);
    }
}
