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

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::config::{Config, SHUTDOWN_GRACE};
use crate::protocol::Topic;

/// State shared by every request handler.
pub struct AppState {
    pub config: Config,
    pub shutdown: CancellationToken,
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    router: Router,
    tracker: TaskTracker,
}

impl Server {
    /// Binds the listening socket (so the port is known before serving starts).
    pub async fn bind(config: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(config.listen).await.map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot listen on {}: {error}", config.listen),
            )
        })?;
        if let Some(dir) = &config.static_dir {
            if !dir.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("--static {}: not a directory", dir.display()),
                ));
            }
        }
        let state = Arc::new(AppState {
            config,
            shutdown: CancellationToken::new(),
        });
        let router = router(state.clone());
        Ok(Server {
            listener,
            state,
            router,
            tracker: TaskTracker::new(),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// A token that, once cancelled, shuts the server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signal(self) {
        self.run(shutdown_signal()).await
    }

    /// Serves until `stop` completes (or the shutdown token is cancelled), then closes every
    /// WebSocket with 1012 (service restart) and waits a bounded time for them to finish.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        let Server {
            listener,
            state,
            router,
            tracker,
        } = self;
        let shutdown = state.shutdown.clone();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let router = router.clone();
                        let state = state.clone();
                        tracker.spawn(serve_connection(stream, peer, router, state));
                    }
                    // Out of file descriptors and the like: log, pause briefly, keep serving.
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                },
                () = &mut stop => break,
                () = shutdown.cancelled() => break,
            }
        }
        tracing::info!("shutting down: closing every socket with 1012");
        drop(listener);
        shutdown.cancel();
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("some connections did not close within the grace period");
        }
    }
}

/// Convenience for tests and embedding: bind and serve until the token is cancelled.
pub async fn serve(
    config: Config,
) -> io::Result<(SocketAddr, CancellationToken, tokio::task::JoinHandle<()>)> {
    let server = Server::bind(config).await?;
    let addr = server.local_addr();
    let token = server.shutdown_token();
    let handle = tokio::spawn(server.run(std::future::pending()));
    Ok((addr, token, handle))
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    state: Arc<AppState>,
) {
    // Signaling messages are small and latency-bound; never wait to coalesce them.
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(
        move |mut request: axum::extract::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ClientAddr(peer));
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
                tracing::debug!(%peer, %error, "http connection ended with an error");
            }
        }
        () = state.shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
        }
    }
}

/// The client's address, attached to every request by the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

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
    router
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn bad_topic() -> Response {
    (
        StatusCode::BAD_REQUEST,
        "topic must be 43 characters of base64url (a 256-bit hash)\n",
    )
        .into_response()
}

async fn websocket(
    Path(topic): Path<String>,
    State(_state): State<Arc<AppState>>,
    upgrade: Result<
        axum::extract::ws::WebSocketUpgrade,
        axum::extract::ws::rejection::WebSocketUpgradeRejection,
    >,
) -> Response {
    let Some(_topic) = Topic::parse(&topic) else {
        return bad_topic().await;
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    upgrade.on_upgrade(|socket| async move {
        drop(socket);
    })
}

/// Completes on SIGTERM (what service managers send) or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
