//! What one connection does with each frame it receives, without any I/O: parse, rate-limit,
//! count strikes, and decide. The connection task carries the decisions out; the fuzz target
//! and the tests drive this directly.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use crate::limits::TokenBucket;
use crate::protocol::{parse_client_message, ClientMessage, ErrorCode, PeerId};

/// How a frame arrived, reduced to what the decision needs.
#[derive(Debug, Clone, Copy)]
pub enum Frame<'a> {
    Text(&'a str),
    Binary,
    /// Bigger than the size limit; the WebSocket layer refused to read it.
    TooLarge,
}

/// WebSocket close codes the server uses (RFC 6455 §7.4.1).
pub mod close {
    /// The client sent `leave`.
    pub const NORMAL: u16 = 1000;
    /// Idle timeout: nothing received, not even a pong.
    pub const GOING_AWAY: u16 = 1001;
    /// Repeated abuse, or a stalled reader.
    pub const POLICY: u16 = 1008;
    /// A frame above the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// Graceful shutdown: reconnect, the server (or its replacement) is coming back.
    pub const SERVICE_RESTART: u16 = 1012;
    /// The topic is full.
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// What to do with a frame, before any relaying ([`Session::handle`] carries out the relay).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict<'a> {
    /// Relay `data` to `to`.
    Relay { to: PeerId, data: Cow<'a, str> },
    /// Close normally (1000) after leaving the topic.
    Leave,
    /// Answer with an error frame; then close with this code if `close` is set.
    Error { code: ErrorCode, close: Option<u16> },
}

/// What became of a frame, once any relaying is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    Relayed,
    /// The recipient's queue is full: the message was dropped; answer `peer_busy` and stop
    /// reading from this connection for a moment (not a strike: the sender may be honest).
    Busy,
    /// Close normally (1000) after leaving the topic.
    Leave,
    /// Answer with an error frame; then close with this code if `close` is set.
    Error {
        code: ErrorCode,
        close: Option<u16>,
    },
}

impl From<Verdict<'_>> for Handled {
    fn from(verdict: Verdict<'_>) -> Self {
        match verdict {
            Verdict::Relay { .. } => Handled::Relayed,
            Verdict::Leave => Handled::Leave,
            Verdict::Error { code, close } => Handled::Error { code, close },
        }
    }
}

/// Per-connection protocol state.
#[derive(Debug, Clone)]
pub struct Session {
    rate: TokenBucket,
    /// Errors are tolerated in bursts of `max_strikes`, recovering at that many per
    /// [`STRIKE_WINDOW`]; a client past that is abusive and gets disconnected.
    strikes: TokenBucket,
}

/// The window over which `max_strikes` errors are forgiven.
pub const STRIKE_WINDOW: Duration = Duration::from_secs(60);

impl Session {
    pub fn new(rate: u32, burst: u32, max_strikes: u32, now: Instant) -> Session {
        let strikes_per_window = max_strikes.max(1);
        let strike_rate = f64::from(strikes_per_window) / STRIKE_WINDOW.as_secs_f64();
        Session {
            rate: TokenBucket::new(f64::from(rate), burst, now),
            strikes: TokenBucket::new(strike_rate, strikes_per_window, now),
        }
    }

    /// Decides what to do with one received frame.
    fn on_frame<'a>(&mut self, frame: Frame<'a>, now: Instant) -> Verdict<'a> {
        if let Frame::TooLarge = frame {
            return Verdict::Error {
                code: ErrorCode::TooLarge,
                close: Some(close::TOO_BIG),
            };
        }
        if !self.rate.try_take(now) {
            return self.strike(ErrorCode::RateLimited, now);
        }
        let text = match frame {
            Frame::Text(text) => text,
            Frame::Binary => return self.strike(ErrorCode::BinaryFrame, now),
            Frame::TooLarge => unreachable!("handled above"),
        };
        match parse_client_message(text) {
            Ok(ClientMessage::Data { to, data }) => Verdict::Relay { to, data },
            Ok(ClientMessage::Leave) => Verdict::Leave,
            Err(code) => self.strike(code, now),
        }
    }

    /// The whole step from a received frame to its effect: judges it, and relays a `data`
    /// message through `relay`, which may refuse it: an unknown peer at the price of a
    /// strike, a busy one ([`Handled::Busy`]) without.
    /// The connection task and the fuzzer both go through here, so what is fuzzed is what runs.
    pub fn handle(
        &mut self,
        frame: Frame<'_>,
        now: Instant,
        relay: impl FnOnce(PeerId, &str) -> Result<(), ErrorCode>,
    ) -> Handled {
        match self.on_frame(frame, now) {
            Verdict::Relay { to, data } => match relay(to, &data) {
                Ok(()) => Handled::Relayed,
                Err(ErrorCode::PeerBusy) => Handled::Busy,
                Err(code) => self.strike(code, now).into(),
            },
            other => other.into(),
        }
    }

    fn strike(&mut self, code: ErrorCode, now: Instant) -> Verdict<'static> {
        let close = if self.strikes.try_take(now) {
            None
        } else {
            Some(close::POLICY)
        };
        Verdict::Error { code, close }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floods_are_answered_then_cut_off() {
        let now = Instant::now();
        let mut session = Session::new(10, 5, 3, now);
        let to = PeerId::random();
        let text = format!(r#"{{"type":"data","to":"{to}","data":"aa"}}"#);
        for _ in 0..5 {
            assert!(matches!(
                session.on_frame(Frame::Text(&text), now),
                Verdict::Relay { .. }
            ));
        }
        for _ in 0..3 {
            assert_eq!(
                session.on_frame(Frame::Text(&text), now),
                Verdict::Error {
                    code: ErrorCode::RateLimited,
                    close: None
                }
            );
        }
        assert_eq!(
            session.on_frame(Frame::Text(&text), now),
            Verdict::Error {
                code: ErrorCode::RateLimited,
                close: Some(close::POLICY)
            }
        );
    }

    #[test]
    fn occasional_errors_are_forgiven_over_time() {
        let start = Instant::now();
        let mut session = Session::new(100, 100, 2, start);
        for minute in 0..10u64 {
            let now = start + STRIKE_WINDOW * minute as u32;
            let verdict = session.on_frame(Frame::Binary, now);
            assert_eq!(
                verdict,
                Verdict::Error {
                    code: ErrorCode::BinaryFrame,
                    close: None
                }
            );
        }
    }

    #[test]
    fn a_busy_peer_is_no_strike_but_an_unknown_one_is() {
        let now = Instant::now();
        let mut session = Session::new(100, 100, 1, now);
        let to = PeerId::random();
        let text = format!(r#"{{"type":"data","to":"{to}","data":"aa"}}"#);
        for _ in 0..5 {
            let handled = session.handle(Frame::Text(&text), now, |_, _| Err(ErrorCode::PeerBusy));
            assert_eq!(handled, Handled::Busy);
        }
        let unknown = |_: PeerId, _: &str| Err(ErrorCode::UnknownPeer);
        assert_eq!(
            session.handle(Frame::Text(&text), now, unknown),
            Handled::Error {
                code: ErrorCode::UnknownPeer,
                close: None
            }
        );
        assert_eq!(
            session.handle(Frame::Text(&text), now, unknown),
            Handled::Error {
                code: ErrorCode::UnknownPeer,
                close: Some(close::POLICY)
            }
        );
    }

    #[test]
    fn too_large_closes_at_once() {
        let mut session = Session::new(100, 100, 10, Instant::now());
        assert_eq!(
            session.on_frame(Frame::TooLarge, Instant::now()),
            Verdict::Error {
                code: ErrorCode::TooLarge,
                close: Some(close::TOO_BIG)
            }
        );
    }
}
