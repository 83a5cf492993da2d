//! The three clocks of a watch party, kept apart by type.
//!
//! Mixing them up is the classic sync bug (comparing a peer's clock reading with ours, or a media
//! position with a wall time), so each gets its own newtype and only the meaningful arithmetic is
//! implemented: instants of the same clock subtract to a [`Span`], and an instant plus a span is
//! an instant of the same clock. Everything is integer microseconds: exact, ordered, cheap to
//! send, and no NaN can ever enter through a timestamp.

use crate::num::Clamp;
use core::ops::{Add, AddAssign, Neg, Sub, SubAssign};
use serde::{Deserialize, Serialize};

/// Largest magnitude any time value may have (about 31 years in microseconds). Inputs beyond it
/// are rejected so that sums of a few times can never overflow an `i64`.
pub const MAX_ABS_MICROS: i64 = 1_000_000_000_000_000;

/// A signed length of time, in microseconds. Shared by all three clocks because a length is
/// the same length on any of them (up to skew, which the clock estimator tracks separately).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Span(pub i64);

impl Span {
    pub const ZERO: Span = Span(0);

    pub const fn from_micros(us: i64) -> Span {
        Span(us)
    }
    pub const fn from_millis(ms: i64) -> Span {
        Span(ms * 1_000)
    }
    pub const fn from_secs(s: i64) -> Span {
        Span(s * 1_000_000)
    }
    /// Rounds to the nearest microsecond; non-finite input becomes zero rather than garbage.
    pub fn from_secs_f64(s: f64) -> Span {
        Span(f64_to_micros(s * 1e6))
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
    pub const fn abs(self) -> Span {
        Span(self.0.saturating_abs())
    }
    /// Scales the span, e.g. a room-time span by a playback rate to get a media span.
    pub fn mul_f64(self, k: f64) -> Span {
        Span(f64_to_micros(self.0 as f64 * k))
    }
    /// True when the value is within the range accepted from the outside world.
    pub const fn is_sane(self) -> bool {
        self.0 >= -MAX_ABS_MICROS && self.0 <= MAX_ABS_MICROS
    }
}

/// Converts to microseconds, saturating and mapping NaN to zero, so no float can make an
/// out-of-range integer time.
fn f64_to_micros(us: f64) -> i64 {
    if us.is_nan() {
        0
    } else {
        us.round()
            .clamp_to(-(MAX_ABS_MICROS as f64), MAX_ABS_MICROS as f64) as i64
    }
}

impl Add for Span {
    type Output = Span;
    fn add(self, o: Span) -> Span {
        Span(self.0.saturating_add(o.0))
    }
}
impl Sub for Span {
    type Output = Span;
    fn sub(self, o: Span) -> Span {
        Span(self.0.saturating_sub(o.0))
    }
}
impl Neg for Span {
    type Output = Span;
    fn neg(self) -> Span {
        Span(self.0.saturating_neg())
    }
}
impl AddAssign for Span {
    fn add_assign(&mut self, o: Span) {
        *self = *self + o;
    }
}

macro_rules! instant {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn from_micros(us: i64) -> Self {
                Self(us)
            }
            pub fn from_secs_f64(s: f64) -> Self {
                Self(f64_to_micros(s * 1e6))
            }
            pub const fn as_micros(self) -> i64 {
                self.0
            }
            pub fn as_secs_f64(self) -> f64 {
                self.0 as f64 / 1e6
            }
            /// True when the value is within the range accepted from the outside world.
            pub const fn is_sane(self) -> bool {
                self.0 >= -MAX_ABS_MICROS && self.0 <= MAX_ABS_MICROS
            }
        }
        impl Add<Span> for $name {
            type Output = $name;
            fn add(self, s: Span) -> $name {
                $name(self.0.saturating_add(s.0))
            }
        }
        impl Sub<Span> for $name {
            type Output = $name;
            fn sub(self, s: Span) -> $name {
                $name(self.0.saturating_sub(s.0))
            }
        }
        impl Sub for $name {
            type Output = Span;
            fn sub(self, o: $name) -> Span {
                Span(self.0.saturating_sub(o.0))
            }
        }
        impl AddAssign<Span> for $name {
            fn add_assign(&mut self, s: Span) {
                *self = *self + s;
            }
        }
        impl SubAssign<Span> for $name {
            fn sub_assign(&mut self, s: Span) {
                *self = *self - s;
            }
        }
    };
}

instant!(
    /// A reading of this device's monotonic clock (`performance.now()` in the browser). Only
    /// meaningful on the device that took it; peers' readings are converted through the clock
    /// estimator, never compared directly.
    LocalTime
);
/// The browser hands out local time as `f64` milliseconds (`performance.now()`, event and frame
/// timestamps) and takes it back as such (timers, scheduled starts): the conversion lives here,
/// once, so the glue never multiplies by a thousand by hand.
impl LocalTime {
    /// Rounds to the nearest microsecond; NaN becomes zero and infinities saturate, like
    /// [`LocalTime::from_secs_f64`].
    pub fn from_millis_f64(ms: f64) -> LocalTime {
        LocalTime(f64_to_micros(ms * 1e3))
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
}
instant!(
    /// A reading of the shared room clock: the clock of the reference peer plus an agreed base,
    /// so that it stays continuous when the reference changes. Playback anchors live here.
    RoomTime
);
instant!(
    /// A position in the media (the video element's `currentTime`).
    MediaTime
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_stays_within_one_clock() {
        let a = LocalTime::from_micros(1_000);
        let b = a + Span::from_millis(2);
        assert_eq!(b - a, Span::from_micros(2_000));
        assert_eq!(Span::from_millis(10).mul_f64(1.5), Span::from_millis(15));
    }

    #[test]
    fn floats_never_make_garbage() {
        assert_eq!(Span::from_secs_f64(f64::NAN), Span::ZERO);
        assert!(Span::from_secs_f64(f64::INFINITY).is_sane());
        assert!(MediaTime::from_secs_f64(-1e300).is_sane());
        assert_eq!(LocalTime(i64::MAX) + Span(5), LocalTime(i64::MAX));
    }

    #[test]
    fn local_time_converts_browser_milliseconds() {
        let at = LocalTime::from_millis_f64(1_234.5678);
        assert_eq!(at, LocalTime::from_micros(1_234_568));
        assert_eq!(at.as_millis_f64(), 1_234.568);
        assert_eq!(
            LocalTime::from_millis_f64(-0.0004),
            LocalTime::from_micros(0)
        );
        assert_eq!(
            LocalTime::from_millis_f64(f64::NAN),
            LocalTime::from_micros(0)
        );
        assert!(LocalTime::from_millis_f64(f64::INFINITY).is_sane());
        assert!(LocalTime::from_millis_f64(-1e300).is_sane());
    }
}
