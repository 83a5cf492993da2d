//! The HTTP side: the accept loop with its connection limits, the routes, and graceful shutdown.
//!
//! The accept loop is our own (rather than `axum::serve`) because the limits that protect the
//! process belong at the TCP level: total and per-IP connection counts are checked before any
//! byte is parsed, and the join deadline bounds how long a connection may sit before sending
//! its upgrade request.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::config::{Config, SHUTDOWN_GRACE};
use crate::connection;
use crate::forwarded;
use crate::hub::Hub;
use crate::limits::{ConnectionLimits, ConnectionSlot, IpKey};
use crate::mailbox::Budget;
use crate::metrics::{Metrics, Refusal};
use crate::origin::OriginPolicy;
use crate::protocol::Topic;
use crate::site_headers::{self, Csp};
use crate::turn::{TurnMinter, TurnSecret};

/// Bytes tungstenite reads from the socket at a time, and so the size of the (zero-filled)
/// read buffer every idle connection keeps. Its default, 128 KiB, would make each idle peer
/// cost 128 KiB of resident memory; signaling frames are a few KiB, and a larger frame still
/// arrives whole, only in more reads.
const READ_BUFFER_BYTES: usize = 1024;

/// Connections the kernel may hold, handshake done, until the accept loop takes them.
/// `TcpListener::bind` asks for 1024; a node that stalls for a moment (a CPU quota spent, a
/// long pause) while joins keep arriving fills that, and then the kernel drops new SYNs: the
/// client (nginx, in a scaled-out deployment) sees its connect time out after the SYN
/// retransmits, and nginx counts that against the node. 4096 rides out a longer stall. The
/// kernel silently caps it at `net.core.somaxconn` (4096 by default since Linux 5.4; raise that
/// sysctl too to go further).
const LISTEN_BACKLOG: u32 = 4096;

/// State shared by every request handler.
pub struct AppState {
    pub config: Config,
    /// Cancelled when a shutdown begins: `/healthz` and new joins answer 503, and every open
    /// WebSocket is closed with 1012, while the listener keeps answering for `config.drain`.
    pub draining: CancellationToken,
    /// Cancelled when the drain is over: every HTTP connection is finished off.
    pub shutdown: CancellationToken,
    /// Mints each welcome's TURN credential, when a TURN secret is configured.
    pub turn: Option<TurnMinter>,
    pub hub: Arc<Hub>,
    /// What every client's queue draws on: its own byte budget and the process's.
    pub budget: Arc<Budget>,
    pub limits: Arc<ConnectionLimits>,
    /// Which pages may open a WebSocket (see `origin.rs`).
    pub origins: OriginPolicy,
    /// The served app's Content-Security-Policy (with `--static`).
    pub csp: Option<Csp>,
    lingering_refusals: Arc<tokio::sync::Semaphore>,
    /// Every connection task, HTTP and WebSocket, so shutdown can wait for them all.
    tracker: TaskTracker,
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    /// `/metrics`, on a listener of its own (`--metrics-listen`), if asked for.
    metrics_listener: Option<TcpListener>,
    state: Arc<AppState>,
    router: Router,
}

impl Server {
    /// Binds the listening socket (so the port is known before serving starts).
    pub async fn bind(config: Config) -> io::Result<Server> {
        let listener = listen(config.listen).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot listen on {}: {error}", config.listen),
            )
        })?;
        let csp = match &config.static_dir {
            None => None,
            Some(dir) => {
                if !dir.is_dir() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("--static {}: not a directory", dir.display()),
                    ));
                }
                let csp = Csp::for_site(dir).map_err(|error| {
                    io::Error::new(error.kind(), format!("--static {}: {error}", dir.display()))
                })?;
                tracing::info!(
                    inline_scripts = csp.inline_scripts(),
                    "serving {} with its Content-Security-Policy (restart after rebuilding it)",
                    dir.display()
                );
                Some(csp)
            }
        };
        let metrics = Arc::new(Metrics::default());
        let hub = match &config.capture_relayed {
            None => Hub::new(config.max_peers_per_topic, metrics.clone()),
            Some(path) => Hub::with_capture(config.max_peers_per_topic, metrics.clone(), path)
                .map_err(|error| {
                    io::Error::new(
                        error.kind(),
                        format!("--capture-relayed {}: {error}", path.display()),
                    )
                })?,
        };
        let turn = turn_minter(&config)?;
        let budget = Budget::new(
            config.outbound_queue,
            config.outbound_bytes,
            config.outbound_bytes_total,
            metrics.clone(),
        );
        let limits = ConnectionLimits::new(
            config.max_connections,
            config.max_connections_per_ip,
            config.max_topics_per_ip,
            metrics,
        );
        let origins = OriginPolicy::new(&config.allow_origins, config.static_dir.is_some());
        let metrics_listener = match config.metrics_listen {
            None => None,
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("--metrics-listen {addr}: cannot listen: {error}"),
                )
            })?),
        };
        let state = Arc::new(AppState {
            config,
            draining: CancellationToken::new(),
            shutdown: CancellationToken::new(),
            turn,
            hub,
            budget,
            limits,
            origins,
            csp,
            lingering_refusals: Arc::new(tokio::sync::Semaphore::new(MAX_LINGERING_REFUSALS)),
            tracker: TaskTracker::new(),
        });
        let router = router(state.clone());
        Ok(Server {
            listener,
            metrics_listener,
            state,
            router,
        })
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .map(|l| l.local_addr().expect("a bound listener has an address"))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// A token that, once cancelled, shuts the server down gracefully (drain included).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.draining.clone()
    }

    /// Serves until `stop` completes (or the shutdown token is cancelled), then drains: closes
    /// every WebSocket with 1012 (service restart), answers `/healthz` and new joins with 503
    /// for `config.drain`, and finally closes the listener and waits a bounded time for the
    /// remaining connections to finish.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let Server {
            listener,
            metrics_listener,
            state,
            router,
        } = self;
        let metrics =
            metrics_listener.map(|listener| tokio::spawn(serve_metrics(listener, state.clone())));
        let tracker = state.tracker.clone();
        let draining = state.draining.clone();
        tokio::pin!(stop);
        tokio::select! {
            () = accept_loop(&listener, &router, &state) => {}
            () = &mut stop => {}
            () = draining.cancelled() => {}
        }
        draining.cancel();
        if state.config.drain.is_zero() {
            tracing::info!("shutting down: closing every socket with 1012");
        } else {
            tracing::info!(
                drain_secs = state.config.drain.as_secs_f64(),
                "draining: sockets closed with 1012, /healthz and joins answer 503"
            );
            let _ =
                tokio::time::timeout(state.config.drain, accept_loop(&listener, &router, &state))
                    .await;
            tracing::info!("drain over: shutting down");
        }
        drop(listener);
        state.shutdown.cancel();
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within the grace period");
        }
        if let Some(metrics) = metrics {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, metrics).await;
        }
    }
}

/// Serves `/metrics` alone on its own listener until the shutdown (the end of the drain), so
/// the counters stay off the public port: bind it to an address only the scraper reaches.
async fn serve_metrics(listener: TcpListener, state: Arc<AppState>) {
    let shutdown = state.shutdown.clone();
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::warn!(%error, "the metrics listener failed");
    }
}

/// The listening socket: what `TcpListener::bind` does (`SO_REUSEADDR`, so a restarted node
/// binds while its old connections sit in TIME_WAIT), with [`LISTEN_BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts connections forever (the caller stops it by dropping the future).
async fn accept_loop(listener: &TcpListener, router: &Router, state: &Arc<AppState>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => match state.limits.try_acquire(ip_key(&state.config, peer)) {
                Ok(slot) => {
                    let router = router.clone();
                    let state_for_task = state.clone();
                    state.tracker.spawn(serve_connection(
                        stream,
                        peer,
                        slot,
                        router,
                        state_for_task,
                    ));
                }
                Err(reason) => refuse(stream, reason, state),
            },
            // Out of file descriptors and the like: log, pause briefly, keep serving.
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// What a new TCP connection counts under for the per-IP limit: its peer's address, unless
/// that is a trusted proxy, whose clients are counted when their requests say who they are.
fn ip_key(config: &Config, peer: SocketAddr) -> Option<IpKey> {
    (!forwarded::is_trusted(&config.trusted_proxies, peer.ip())).then(|| IpKey::of(peer.ip()))
}

/// The minter for the configured TURN secret: the one given in code or from the environment,
/// else the one in `--turn-secret-file`, else none.
fn turn_minter(config: &Config) -> io::Result<Option<TurnMinter>> {
    let secret = match (&config.turn_secret, &config.turn_secret_file) {
        (Some(secret), _) => secret.clone(),
        (None, Some(path)) => TurnSecret::from_file(path)?,
        (None, None) => return Ok(None),
    };
    Ok(Some(TurnMinter::new(secret, config.turn_ttl)))
}

/// A server started by [`serve`].
#[derive(Debug)]
pub struct Serving {
    pub addr: SocketAddr,
    /// Where `/metrics` is served (with `--metrics-listen`).
    pub metrics_addr: Option<SocketAddr>,
    /// Cancel it to shut the server down gracefully.
    pub token: CancellationToken,
    pub handle: tokio::task::JoinHandle<()>,
}

/// Convenience for tests and embedding: bind and serve until the token is cancelled.
pub async fn serve(config: Config) -> io::Result<Serving> {
    let server = Server::bind(config).await?;
    let addr = server.local_addr();
    let metrics_addr = server.metrics_addr();
    let token = server.shutdown_token();
    let handle = tokio::spawn(server.run(std::future::pending()));
    Ok(Serving {
        addr,
        metrics_addr,
        token,
        handle,
    })
}

/// Refused connections allowed to linger (to deliver their refusal) at once; beyond this they
/// are dropped at once, so a flood past the limits cannot make refusing itself expensive.
const MAX_LINGERING_REFUSALS: usize = 256;
/// How long a refused connection may linger.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);

/// Answers a connection over a limit with a bare HTTP status and closes it, without spending
/// a parser on it. The request is read and discarded briefly first: closing a socket with
/// unread input makes the kernel send a reset, and the client would see that instead of the
/// status.
fn refuse(stream: TcpStream, reason: Refusal, state: &Arc<AppState>) {
    state.hub.metrics().refused(reason);
    let response: &'static [u8] = match reason {
        Refusal::IpFull => {
            b"HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
        }
        _ => b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
    };
    let Ok(permit) = state.lingering_refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            let mut scratch = [0u8; 1024];
            let _ = stream.write_all(response).await;
            let _ = stream.shutdown().await;
            while matches!(stream.read(&mut scratch).await, Ok(n) if n > 0) {}
        })
        .await;
    });
}

/// The TCP connection a request came on, for its handler: who is at the other end, and its
/// place in the connection counts.
pub struct Tcp {
    peer: SocketAddr,
    slot: Arc<ConnectionSlot>,
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: ConnectionSlot,
    router: Router,
    state: Arc<AppState>,
) {
    // Signaling messages are small and latency-bound; never wait to coalesce them.
    let _ = stream.set_nodelay(true);
    // Shared with the WebSocket task, which may outlive this HTTP connection task.
    let tcp = Arc::new(Tcp {
        peer,
        slot: Arc::new(slot),
    });
    let service = hyper::service::service_fn(
        move |mut request: axum::extract::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(tcp.clone());
            router.clone().oneshot(request)
        },
    );
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.join_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                if error.is_timeout() {
                    state.hub.metrics().refused(Refusal::JoinTimeout);
                }
                tracing::debug!(%peer, %error, "http connection ended with an error");
            }
        }
        () = state.shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/ws", get(bad_topic))
        .route("/ws/", get(bad_topic))
        .route("/ws/{topic}", get(websocket))
        .with_state(state.clone());
    if let Some(dir) = &state.config.static_dir {
        router = router.fallback_service(ServeDir::new(dir));
    }
    router.layer(axum::middleware::from_fn_with_state(
        state,
        security_headers,
    ))
}

/// Adds [`site_headers::ALWAYS`] to every response, and the app's Content-Security-Policy to
/// every response but the WebSocket's.
async fn security_headers(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let csp = state
        .csp
        .as_ref()
        .filter(|_| !request.uri().path().starts_with("/ws"));
    let csp = csp.map(|csp| {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        csp.header_value(host)
    });
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in site_headers::ALWAYS {
        headers.insert(name, value);
    }
    if let Some(value) = csp.and_then(|csp| HeaderValue::from_str(&csp).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// For load balancers: 200 while serving, 503 from the moment a drain begins, so that a
/// balancer stops sending new rooms here before the listener closes.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    if state.draining.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else {
        "ok\n".into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.hub.metrics().render(),
    )
        .into_response()
}

async fn bad_topic(State(state): State<Arc<AppState>>) -> Response {
    refuse_topic(&state)
}

fn refuse_topic(state: &AppState) -> Response {
    state.hub.metrics().refused(Refusal::BadTopic);
    (
        StatusCode::BAD_REQUEST,
        "topic must be 43 characters of base64url (a 256-bit hash)\n",
    )
        .into_response()
}

/// `GET /ws/<topic>`: checks everything that can be checked before the upgrade (topic, origin,
/// that it is a WebSocket request at all), then hands the socket to [`connection::run`].
async fn websocket(
    Path(topic): Path<String>,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    tcp: Option<Extension<Arc<Tcp>>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some(topic) = Topic::parse(&topic) else {
        return refuse_topic(&state);
    };
    if state.draining.is_cancelled() {
        // A 503 before the upgrade lets nginx (`proxy_next_upstream http_503`) try the next
        // node at once; the browser would otherwise be closed with 1012 right after joining.
        state.hub.metrics().refused(Refusal::Draining);
        return (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response();
    }
    if !state.origins.allows(&headers) {
        state.hub.metrics().refused(Refusal::Origin);
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    // Counted per client address (behind a trusted proxy, the forwarded one), before the
    // upgrade, so that a refusal is a plain 429.
    let client = match &tcp {
        Some(Extension(tcp)) => {
            let trusted = &state.config.trusted_proxies;
            let ip = forwarded::client_ip(trusted, tcp.peer.ip(), &headers);
            let proxied = forwarded::is_trusted(trusted, tcp.peer.ip());
            match state.limits.try_join(IpKey::of(ip), topic, proxied) {
                Ok(slot) => Some(slot),
                Err(reason) => {
                    state.hub.metrics().refused(reason);
                    let text = match reason {
                        Refusal::IpTopics => "too many rooms from your address\n",
                        _ => "too many connections from your address\n",
                    };
                    return (StatusCode::TOO_MANY_REQUESTS, text).into_response();
                }
            }
        }
        None => None,
    };
    let max = state.config.max_frame_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        // Write each frame straight through: the connection task awaits every send, so at
        // most one frame is buffered, and latency never waits for a fuller buffer.
        .write_buffer_size(0)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(|error| tracing::debug!(%error, "websocket upgrade failed"))
        .on_upgrade(move |socket| {
            // axum spawns this future itself; track it so shutdown waits for its close frame.
            let tracker = state.tracker.clone();
            tracker.track_future(connection::run(
                socket,
                topic,
                state,
                tcp.map(|Extension(tcp)| tcp.slot.clone()),
                client,
            ))
        })
}

/// SIGTERM (what service managers send) and SIGINT (Ctrl-C), caught from the moment this is
/// created: install it before announcing the address, so that no signal sent after the
/// announcement can take the default action (dying without closing sockets with 1012).
pub struct ShutdownSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Registers the handlers now (must be called inside the runtime).
    pub fn install() -> io::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Completes when either signal arrives.
    pub async fn received(self) {
        #[cfg(unix)]
        {
            let ShutdownSignals {
                mut terminate,
                mut interrupt,
            } = self;
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
