//! The messages peers exchange, and the checks every received message passes first.
//!
//! Plain serde types (the browser glue encodes them with postcard). Each message travels in a
//! [`WireMessage`] envelope with a protocol version, so a peer running a newer build is
//! recognised and ignored instead of misread. Times on the wire are integer microseconds:
//! local-clock times are only ever echoed back to their owner, room times are comparable
//! everywhere.
//!
//! [`WireMessage::validate`] rejects what no honest peer can send (unknown version, NaN or
//! out-of-range rates, times outside the sane range, stamp counters past
//! [`MAX_COUNTER`](super::state::MAX_COUNTER), negative durations). Checks that need the
//! receiver's context (a stamp from the far future, a pong for a ping never sent) happen in the
//! engine; both kinds are counted in [`super::Stats`] and never touch the playback state.

use super::state::{Stamp, Versioned, MAX_COUNTER};
use super::time::{LocalTime, Span};
use super::PeerId;
use serde::{Deserialize, Serialize};

/// Version of this protocol. Bump on any incompatible change to the types below.
pub const PROTOCOL_VERSION: u16 = 3;

/// Longest time a peer may say it held a ping before replying. Anything longer is not a
/// usable clock sample (and probably not honest).
pub const MAX_PONG_HOLD: Span = Span::from_secs(10);

/// Largest frame grid offset a peer may announce ([`Hello::frame_grid`]): a follower's offset
/// is at most a step (100 ms at the coarsest plausible step) and half a step past its own.
pub const MAX_GRID_OFFSET: Span = Span::from_millis(150);

/// The versioned envelope of every message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    pub version: u16,
    pub body: Body,
}

impl WireMessage {
    /// Wraps a body in the current protocol version.
    pub fn new(body: Body) -> WireMessage {
        WireMessage {
            version: PROTOCOL_VERSION,
            body,
        }
    }

    /// Checks the values a message carries, independently of any context.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.version != PROTOCOL_VERSION {
            return Err(Invalid::Version);
        }
        match &self.body {
            Body::Ping { t1, .. } => sane(t1.is_sane()),
            Body::Pong { t1, t2, t3, .. } => {
                sane(t1.is_sane() && t2.is_sane() && t3.is_sane())?;
                let held = *t3 - *t2;
                if held < Span::ZERO || held > MAX_PONG_HOLD {
                    return Err(Invalid::NegativeDuration);
                }
                Ok(())
            }
            Body::Hello(h) => {
                if let Some(tb) = &h.timebase {
                    sane(tb.base.is_sane())?;
                }
                sane(h.prep.is_sane() && h.prep >= Span::ZERO)?;
                sane(h.seek.is_none_or(|s| s.is_sane() && s >= Span::ZERO))?;
                sane(h.error.is_none_or(|e| e.is_sane()))?;
                sane(
                    h.frame_grid.is_none_or(|g| {
                        g.state.wall.is_sane() && g.offset.abs() <= MAX_GRID_OFFSET
                    }),
                )?;
                if let Some(s) = &h.state {
                    validate_state(s)?;
                }
                Ok(())
            }
            Body::State(s) => validate_state(s),
        }
    }
}

fn sane(ok: bool) -> Result<(), Invalid> {
    if ok {
        Ok(())
    } else {
        Err(Invalid::Value)
    }
}

fn validate_state(s: &Versioned) -> Result<(), Invalid> {
    // `is_valid` also bounds the media id's length.
    sane(s.stamp.wall.is_sane() && s.stamp.counter <= MAX_COUNTER && s.playback.is_valid())
}

/// Why a message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Another protocol version.
    Version,
    /// An impossible value (NaN, out-of-range rate or time, oversized id).
    Value,
    /// A duration that cannot be negative (or absurdly long) is.
    NegativeDuration,
}

/// Message bodies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// Clock probe; `t1` is the sender's local time, echoed back untouched.
    Ping { seq: u32, t1: LocalTime },
    /// Reply to a ping: the echoed `t1`, then the replier's local receive and send times.
    Pong {
        seq: u32,
        t1: LocalTime,
        t2: LocalTime,
        t3: LocalTime,
    },
    /// Who the sender is in the room: sent reliably on joining and on every change, and
    /// periodically on the unreliable channel as anti-entropy (it heals partitions).
    Hello(Hello),
    /// A new playback state (sent reliably to all when written).
    State(Versioned),
}

/// A peer's announcement of its place in the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// Join order in the room (lower is older); `None` until the peer has met the room.
    pub rank: Option<u64>,
    /// The sender's room timeline: whose clock it follows, and the base added to it.
    pub timebase: Option<Timebase>,
    /// Time the sender needs to get ready for a start it must seek for (learned seek plus
    /// start latency), so that whoever schedules a start leaves it enough lead.
    pub prep: Span,
    /// How long a seek across the current media took the sender, rarely exceeded, once it has
    /// measured one (version 2): peers that have not measured their own plan seeks with it
    /// rather than with a guess.
    pub seek: Option<Span>,
    /// Whether the sender is buffering right now (shown in the UI).
    pub buffering: bool,
    /// The sender's latest measured playback offset from the room (positive: ahead), so
    /// everyone's people list can show how well each viewer is in sync.
    pub error: Option<Span>,
    /// Where on the frame grid the sender steers its clock for the state it plays (version 3),
    /// so that viewers sharing a screen's refreshes take the same side of the tie between two
    /// frames (see [`GridSide`]).
    pub frame_grid: Option<GridSide>,
    /// The sender's current playback state, so newcomers and healed partitions converge.
    pub state: Option<Versioned>,
}

/// A viewer's frame grid offset (how far from the room timeline its frames start, within about
/// half a frame) for one playback state. An offset near half a frame is as near one frame as
/// the next, and viewers deciding alone took opposite sides and showed frames a frame apart
/// for 38 s; so each takes the side of the oldest viewer announcing one for the same state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridSide {
    /// The state the offset was measured against (a new state measures it afresh).
    pub state: Stamp,
    pub offset: Span,
}

/// A room timeline: `room time = reference's local clock + base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timebase {
    pub reference: PeerId,
    pub base: Span,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::state::{Playback, Stamp};
    use crate::sync::time::RoomTime;

    fn state(rate: f64) -> Body {
        Body::State(Versioned {
            stamp: Stamp {
                wall: RoomTime(1),
                counter: 0,
                peer: PeerId(1),
            },
            playback: Playback {
                rate,
                ..Playback::empty()
            },
        })
    }

    #[test]
    fn rejects_impossible_values() {
        assert_eq!(WireMessage::new(state(1.0)).validate(), Ok(()));
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.0, 100.0] {
            assert_eq!(WireMessage::new(state(bad)).validate(), Err(Invalid::Value));
        }
        let mut m = WireMessage::new(state(1.0));
        m.version = 99;
        assert_eq!(m.validate(), Err(Invalid::Version));
        let pong = WireMessage::new(Body::Pong {
            seq: 1,
            t1: LocalTime(0),
            t2: LocalTime(10),
            t3: LocalTime(5),
        });
        assert_eq!(pong.validate(), Err(Invalid::NegativeDuration));
        let mut saturated = WireMessage::new(state(1.0));
        if let Body::State(v) = &mut saturated.body {
            v.stamp.counter = MAX_COUNTER + 1;
        }
        assert_eq!(saturated.validate(), Err(Invalid::Value));
        let ping = WireMessage::new(Body::Ping {
            seq: 1,
            t1: LocalTime(i64::MIN),
        });
        assert_eq!(ping.validate(), Err(Invalid::Value));
    }

    #[test]
    fn a_frame_grid_side_beyond_any_frame_is_refused() {
        let hello = |offset_ms: i64| {
            WireMessage::new(Body::Hello(Hello {
                rank: Some(0),
                timebase: None,
                prep: Span::ZERO,
                seek: None,
                buffering: false,
                error: None,
                frame_grid: Some(GridSide {
                    state: Stamp {
                        wall: RoomTime(1),
                        counter: 0,
                        peer: PeerId(1),
                    },
                    offset: Span::from_millis(offset_ms),
                }),
                state: None,
            }))
        };
        assert_eq!(hello(-16).validate(), Ok(()));
        assert_eq!(hello(150).validate(), Ok(()));
        assert_eq!(hello(151).validate(), Err(Invalid::Value));
        assert_eq!(hello(-10_000).validate(), Err(Invalid::Value));
    }
}
