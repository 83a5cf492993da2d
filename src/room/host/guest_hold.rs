//! What a guest may still cause in host mode: the room waiting for its player.
//!
//! When a viewer's player stalls, its own engine writes a buffering hold (the room pauses
//! where it froze, `sync::buffering::held`) and later releases it. In host mode only the host's
//! and co-hosts' signed states pass, so a guest's hold was dropped and the guest drifted until
//! the next controller action. A guest's page cannot sign (it has no grant), so this is the one
//! unsigned write host mode accepts, and only in the shape an honest engine writes it:
//! - **a hold**: exactly the room's current playing state paused at the room's position (within
//!   [`GUEST_HOLD_JUMP`] of where it is now), marked as held *by the member whose link it came
//!   over*, and written by it; a guest cannot hold in another's name, load, seek further, or
//!   change the rate;
//! - **at most once per [`GUEST_HOLD_COOLDOWN`]** per member (the engine's own cooldown, so an
//!   honest guest never meets it);
//! - **for at most [`MAX_GUEST_HOLD`]**: past it, the pages in control release it themselves
//!   ([`overdue`]), as signed states;
//! - **a release**: exactly the room's held state playing again from where it was held, starting
//!   within [`MAX_RELEASE_LEAD`] (anyone may write it: it only resumes what a controller chose).
//!
//! So a rogue member can pause the room for at most 9 s in each 20 s and move it by at most
//! 2 s each time, never for good and never elsewhere; every hold admitted is counted.

use crate::sync::buffering::{self, ORPHAN_HOLD_GRACE};
use crate::sync::{PeerId, RoomTime, Span, Versioned};
use std::collections::BTreeMap;

/// Least time between two holds one guest may cause: the engine's default `hold_cooldown`,
/// so an honest guest's holds always pass.
pub const GUEST_HOLD_COOLDOWN: Span = Span::from_secs(20);
/// How far a guest's hold may put the room from where it is now (its position and its delay
/// on the way): a stalled player freezes where it was showing, a fraction of a second behind.
pub const GUEST_HOLD_JUMP: Span = Span::from_secs(2);
/// How long a guest's hold may stand: the default wait budget (4 s) and the grace after which
/// the engine's reference releases an orphan hold.
pub const MAX_GUEST_HOLD: Span =
    Span::from_micros(Span::from_secs(4).as_micros() + ORPHAN_HOLD_GRACE.as_micros());
/// How far ahead a release may schedule the room's restart (the engine's longest lead).
pub const MAX_RELEASE_LEAD: Span = Span::from_secs(3);
/// How far in the future (on this page's room clock) a hold may say it was made: clock error
/// between pages is milliseconds; this is generous.
const CLOCK_SLACK: Span = Span::from_millis(500);
/// Members whose last hold is remembered (far above a room's size).
const MAX_HOLDERS: usize = 64;

/// What an unsigned state from a guest is, in host mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestWrite {
    /// Its own buffering hold, within the bounds: may enter the register.
    Hold,
    /// The release of the room's hold, from where it was held: may enter the register.
    Release,
    /// Anything else (or a hold too soon after the last): dropped.
    Refused,
}

/// The guests' holds this page let through: when each member last held the room.
#[derive(Debug, Clone, Default)]
pub struct GuestHolds {
    last: BTreeMap<PeerId, RoomTime>,
    /// Guest holds admitted so far.
    pub admitted: u32,
}

impl GuestHolds {
    /// Judges the unsigned `state` that member `from` sent, given the register's `current`
    /// state and this page's room time `now`; an admitted hold starts `from`'s cooldown.
    pub fn judge(
        &mut self,
        from: PeerId,
        state: &Versioned,
        current: Option<&Versioned>,
        now: Option<RoomTime>,
    ) -> GuestWrite {
        let (Some(current), Some(now)) = (current, now) else {
            return GuestWrite::Refused;
        };
        if !state.beats(current) {
            return GuestWrite::Refused;
        }
        if is_release(state, current, now) {
            return GuestWrite::Release;
        }
        if !is_own_hold(from, state, current, now) {
            return GuestWrite::Refused;
        }
        if self
            .last
            .get(&from)
            .is_some_and(|at| now - *at < GUEST_HOLD_COOLDOWN)
        {
            return GuestWrite::Refused;
        }
        if !self.last.contains_key(&from) && self.last.len() >= MAX_HOLDERS {
            // Forget the longest-cooled member: its cooldown is the likeliest to be over.
            if let Some(oldest) = self.last.iter().min_by_key(|(_, at)| **at).map(|(p, _)| *p) {
                self.last.remove(&oldest);
            }
        }
        self.last.insert(from, now);
        self.admitted = self.admitted.saturating_add(1);
        GuestWrite::Hold
    }

    /// A member left: its cooldown goes with it (a new session is a new member).
    pub fn forget(&mut self, member: PeerId) {
        self.last.remove(&member);
    }
}

/// Whether `state` is `from`'s own buffering hold of the playing `current` state, as its
/// engine writes it, and close to where the room is at `now`.
fn is_own_hold(from: PeerId, state: &Versioned, current: &Versioned, now: RoomTime) -> bool {
    let p = &state.playback;
    if state.stamp.peer != from || p.hold != Some(from) || p.anchor_room > now + CLOCK_SLACK {
        return false;
    }
    let shape = buffering::held(
        current.playback.clone(),
        p.anchor_room,
        Some(p.anchor_media),
        from,
    );
    shape.as_ref() == Some(p)
        && (p.anchor_media - current.playback.position_at(now)).abs() <= GUEST_HOLD_JUMP
}

/// Whether `state` resumes the held `current` state from where it was held, soon after `now`.
fn is_release(state: &Versioned, current: &Versioned, now: RoomTime) -> bool {
    let held = &current.playback;
    let start = state.playback.anchor_room;
    held.hold.is_some()
        && !held.playing
        && start >= held.anchor_room
        && start <= now + MAX_RELEASE_LEAD
        && held.clone().released_at(start) == state.playback
}

/// Whether the room's `current` state is a guest's hold that has stood longer than
/// [`MAX_GUEST_HOLD`] at `now`: then a page in control releases it (`may_control` says who
/// is in control; a controller's own hold is its own to release).
pub fn overdue(
    current: Option<&Versioned>,
    now: Option<RoomTime>,
    may_control: impl Fn(PeerId) -> bool,
) -> bool {
    let (Some(current), Some(now)) = (current, now) else {
        return false;
    };
    let p = &current.playback;
    p.hold.is_some_and(|holder| !may_control(holder))
        && !p.playing
        && now - p.anchor_room > MAX_GUEST_HOLD
}
