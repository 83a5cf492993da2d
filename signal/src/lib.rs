//! Insieme's signaling endpoint.
//!
//! Peers of one room find each other here: a browser opens a WebSocket at `/ws/<topic>`, gets a
//! random peer id and the list of peers already present, and then exchanges opaque (encrypted)
//! offers, answers and ICE candidates with them. Nothing is stored; the only state is the set
//! of live connections per topic. PROTOCOL.md describes the wire format.
//!
//! Layout:
//! - [`config`]: flags, environment variables and the named limits.
//! - [`protocol`]: topics, peer ids, the parser and error codes (pure, fuzzed); the frame
//!   shapes shared with clients are in the `insieme-signal-protocol` crate.
//! - [`session`]: what one connection does with each frame (pure: rate limit, strikes).
//! - [`hub`]: the live peers of each topic, and relaying between them.
//! - [`limits`]: connection and topic counts per client address, and the token bucket.
//! - [`forwarded`]: the client's address behind a trusted proxy (X-Forwarded-For).
//! - [`mailbox`]: the bounded queue of frames waiting for one client.
//! - [`site_headers`]: security headers, and the served app's Content-Security-Policy.
//! - [`turn`]: short-lived TURN credentials in coturn's REST scheme, minted per welcome.
//! - [`metrics`]: counters rendered for Prometheus (on `--metrics-listen` only).
//! - [`origin`]: which pages may open a WebSocket (the `Origin` rule).
//! - [`server`]: the HTTP side: accept loop, connection limits, routes, graceful shutdown.
//! - `connection`: the task that runs one WebSocket peer.

pub mod config;
mod connection;
pub mod forwarded;
#[doc(hidden)]
pub mod fuzzing;
pub mod hub;
pub mod limits;
pub mod mailbox;
pub mod metrics;
pub mod origin;
pub mod protocol;
pub mod server;
pub mod session;
pub mod site_headers;
pub mod turn;

pub use config::Config;
pub use server::{serve, Server, Serving};
