//! What the group does when one viewer's player stalls (buffering).
//!
//! The stalled viewer's own engine decides, because only it knows when the stall began and
//! ended. With the default policy it asks the group to hold (a paused state marked as a hold,
//! at the position where it froze), and releases the hold when it recovers or when the wait
//! budget runs out, whichever comes first; after a timeout the group goes on and the late
//! viewer catches up on its own with a seek. A cooldown keeps one flaky connection from
//! pausing the room over and over.
//!
//! A player that seeks while playing waits for data (`waiting`) as a matter of course. Such a
//! stall, begun while a seek we asked for is under way, holds the group only if it lasts past
//! the group's start (by [`SEEK_STALL_GRACE`]): until then the room loses nothing by it. Held at
//! once, every viewer's own seek after a seek in the room paused the room again, once per
//! viewer, and each pause made everyone seek once more; never held, a viewer whose seek takes
//! longer than the room planned is left chasing it alone.
//!
//! A seek of our own to catch up with a room already moving ([`OwnSeek::CatchingUp`]: we fell
//! behind, or heard of a start too late to make it) never holds the group: the room is not
//! waiting for it, and a hold would pause everyone where our player froze, which is where it
//! was before the seek, behind the room by however far we had fallen, and then cost a restart's
//! lead on top. A slow device does exactly this: its frames run late, it falls behind by more
//! than a seek's threshold, its catch-up seek waits for data past the grace on its busy page,
//! and the room stepped back about a second (`sim/tests/slow_reference.rs`).

use super::state::Playback;
use super::time::{LocalTime, MediaTime, RoomTime, Span};
use super::PeerId;

/// How long past the group's start a stall that began during our own seek may last before the
/// group is held for it: about one missed refresh cycle of the start.
pub const SEEK_STALL_GRACE: Span = Span::from_millis(100);

/// How long any other stall must last before the group is held for it. A slow device's player
/// stalls for tens of milliseconds now and then (a page at a fifth of its speed and busy: 20 to
/// 150 ms, `bench e2e --slow`, 2026-12-06), and each hold cost the whole room its restart lead
/// (0.6 to 0.7 s: held at once, the slow viewer pulled everyone back); the stalled viewer
/// catches up with so short a stall alone. A longer stall holds the group where the player
/// froze, so the others step back by about this much.
pub const STALL_HOLD_AFTER: Span = Span::from_millis(250);

/// How far the position a stalled player froze at may be from the room's for the group to be
/// held there; further off it is stale (from before a seek, say) and the room's is taken.
pub const HOLD_AT_FROZEN_WITHIN: Span = Span::from_secs(5);

/// How long past the wait budget a hold lasts before the reference releases it although its
/// holder is still connected: the holder releases at the budget's end itself, and this margin
/// leaves the reference to step in only for a holder gone quiet (a lost connection whose
/// channel has not closed yet).
pub const ORPHAN_HOLD_GRACE: Span = Span::from_secs(5);

/// How long the group waits for a buffering viewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferingPolicy {
    /// Never pause the group; the stalled viewer catches up alone.
    NeverWait,
    /// Pause the group for at most this long per stall.
    WaitUpTo(Span),
    /// Pause the group until the viewer recovers, however long that takes.
    AlwaysWait,
}

impl Default for BufferingPolicy {
    fn default() -> Self {
        BufferingPolicy::WaitUpTo(Span::from_secs(4))
    }
}

impl BufferingPolicy {
    /// Whether a hold begun `age` ago has outlived what this policy waits (and
    /// [`ORPHAN_HOLD_GRACE`] beyond), so that the reference should release it.
    pub fn hold_overdue(self, age: Span) -> bool {
        match self {
            BufferingPolicy::WaitUpTo(w) => age > w + ORPHAN_HOLD_GRACE,
            BufferingPolicy::AlwaysWait => false,
            BufferingPolicy::NeverWait => true,
        }
    }
}

/// The group's state held for `holder` at room time `now`: paused where its player froze
/// (`frozen`, when known and within [`HOLD_AT_FROZEN_WITHIN`] of the room's position), so that
/// it resumes from data it already has. `None` when there is nothing to hold: the group is
/// paused, or held already.
pub fn held(
    cur: Playback,
    now: RoomTime,
    frozen: Option<MediaTime>,
    holder: PeerId,
) -> Option<Playback> {
    if !cur.playing || cur.hold.is_some() {
        return None;
    }
    let expected = cur.position_at(now);
    let at = frozen
        .filter(|p| (*p - expected).abs() < HOLD_AT_FROZEN_WITHIN)
        .unwrap_or(expected);
    Some(Playback {
        playing: false,
        anchor_media: at,
        anchor_room: now,
        lead_in_rate: 0.0,
        hold: Some(holder),
        ..cur
    })
}

/// Whether the local player's stall began during a seek we asked for, and what for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnSeek {
    /// No seek of ours under way: an ordinary stall.
    None,
    /// A seek for a start of the group, which begins at this instant (our clock; now, if it
    /// has begun): its wait for data matters only past it.
    ForStart(LocalTime),
    /// A seek to catch up alone with a room already moving: its wait never holds the group.
    CatchingUp,
}

/// What the engine should do to the replicated state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldAction {
    /// Pause the group for us.
    Hold,
    /// Let the group go on.
    Release,
}

/// Tracks the local player's stalls and the hold we asked for.
#[derive(Clone, Debug)]
pub struct StallGuard {
    policy: BufferingPolicy,
    cooldown: Span,
    since: Option<LocalTime>,
    holding: bool,
    last_hold: Option<LocalTime>,
    /// When a stall begun during our own seek starts to hold the group, if it lasts.
    hold_due: Option<LocalTime>,
}

impl StallGuard {
    pub fn new(policy: BufferingPolicy, cooldown: Span) -> StallGuard {
        StallGuard {
            policy,
            cooldown,
            since: None,
            holding: false,
            last_hold: None,
            hold_due: None,
        }
    }

    /// Whether the local player is stalled.
    pub fn is_stalled(&self) -> bool {
        self.since.is_some()
    }

    /// Whether we hold the group right now.
    pub fn is_holding(&self) -> bool {
        self.holding
    }

    /// The local player reported a stall or its end. A stall holds the group only once it
    /// lasted [`STALL_HOLD_AFTER`] (see [`StallGuard::tick`]); one that began during a seek of
    /// ours for the group's start ([`OwnSeek::ForStart`]) waits until [`SEEK_STALL_GRACE`]
    /// past that start instead, and one that began during our own catch-up seek never holds
    /// it. Only the end of a stall we held for is an action: the release.
    pub fn report(
        &mut self,
        now: LocalTime,
        stalled: bool,
        own_seek: OwnSeek,
    ) -> Option<HoldAction> {
        if stalled {
            if self.since.is_none() {
                self.since = Some(now);
                self.hold_due = match own_seek {
                    OwnSeek::None => Some(now + STALL_HOLD_AFTER),
                    OwnSeek::ForStart(start) => Some(start.max(now) + SEEK_STALL_GRACE),
                    OwnSeek::CatchingUp => None,
                };
            }
            None
        } else {
            self.since = None;
            self.hold_due = None;
            if self.holding {
                self.holding = false;
                return Some(HoldAction::Release);
            }
            None
        }
    }

    /// Holds the group for the stall under way, unless there is nothing to hold, the policy
    /// never waits, or we held it too recently.
    fn hold_if_due(&mut self, now: LocalTime, group_playing: bool) -> Option<HoldAction> {
        let cooled = self
            .last_hold
            .is_none_or(|t| now - t >= self.cooldown || self.policy == BufferingPolicy::AlwaysWait);
        if group_playing && self.policy != BufferingPolicy::NeverWait && cooled {
            self.holding = true;
            self.last_hold = Some(now);
            return Some(HoldAction::Hold);
        }
        None
    }

    /// The hold was superseded (a user acted meanwhile): nothing left to release.
    pub fn forget_hold(&mut self) {
        self.holding = false;
    }

    /// Holds the group once a stall begun during our own seek has lasted past its due, and
    /// releases the hold once the wait budget (counted from the stall's start) is spent.
    pub fn tick(&mut self, now: LocalTime, group_playing: bool) -> Option<HoldAction> {
        if self.hold_due.is_some_and(|due| now >= due) {
            self.hold_due = None;
            return self.hold_if_due(now, group_playing);
        }
        match self.release_due() {
            Some(d) if now >= d => {
                self.holding = false;
                Some(HoldAction::Release)
            }
            _ => None,
        }
    }

    /// When [`StallGuard::tick`] has something to do.
    pub fn deadline(&self) -> Option<LocalTime> {
        self.hold_due.or(self.release_due())
    }

    fn release_due(&self) -> Option<LocalTime> {
        match (self.policy, self.holding, self.since) {
            (BufferingPolicy::WaitUpTo(w), true, Some(s)) => Some(s + w),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: i64) -> LocalTime {
        LocalTime(ms * 1000)
    }

    #[test]
    fn waits_a_bounded_time_then_goes_on() {
        let mut g = StallGuard::new(
            BufferingPolicy::WaitUpTo(Span::from_secs(3)),
            Span::from_secs(20),
        );
        assert_eq!(g.report(t(0), true, OwnSeek::None), None);
        assert_eq!(g.deadline(), Some(t(0) + STALL_HOLD_AFTER));
        assert_eq!(g.tick(t(249), true), None);
        assert_eq!(g.tick(t(250), true), Some(HoldAction::Hold));
        assert_eq!(g.tick(t(2_999), true), None);
        assert_eq!(g.tick(t(3_000), true), Some(HoldAction::Release));
        // Recovery after the timeout changes nothing for the group.
        assert_eq!(g.report(t(5_000), false, OwnSeek::None), None);
        // A new stall within the cooldown does not pause the room again.
        assert_eq!(g.report(t(6_000), true, OwnSeek::None), None);
        assert_eq!(g.tick(t(6_300), true), None);
        assert_eq!(g.report(t(6_500), false, OwnSeek::None), None);
        assert_eq!(g.report(t(30_000), true, OwnSeek::None), None);
        assert_eq!(g.tick(t(30_250), true), Some(HoldAction::Hold));
        assert_eq!(
            g.report(t(30_400), false, OwnSeek::None),
            Some(HoldAction::Release)
        );
    }

    /// A slow device's stalls of tens of milliseconds (20 to 150 ms in `bench e2e --slow`) each
    /// paused the whole room for its restart lead; they no longer hold it.
    #[test]
    fn a_short_stall_does_not_hold_the_group() {
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::from_secs(20));
        for start in [0, 1_000, 2_000, 3_000] {
            assert_eq!(g.report(t(start), true, OwnSeek::None), None);
            assert_eq!(g.tick(t(start + 150), true), None);
            assert_eq!(g.report(t(start + 150), false, OwnSeek::None), None);
            assert_eq!(g.deadline(), None);
            assert!(!g.is_holding());
        }
        // The cooldown was never spent on them: a real stall still holds the group.
        assert_eq!(g.report(t(4_000), true, OwnSeek::None), None);
        assert_eq!(
            g.tick(t(4_000) + STALL_HOLD_AFTER, true),
            Some(HoldAction::Hold)
        );
    }

    #[test]
    fn other_policies() {
        let mut never = StallGuard::new(BufferingPolicy::NeverWait, Span::ZERO);
        assert_eq!(never.report(t(0), true, OwnSeek::None), None);
        assert_eq!(never.tick(t(1_000), true), None);
        let mut always = StallGuard::new(BufferingPolicy::AlwaysWait, Span::from_secs(20));
        assert_eq!(always.report(t(0), true, OwnSeek::None), None);
        assert_eq!(always.tick(t(250), true), Some(HoldAction::Hold));
        assert_eq!(always.tick(t(1_000_000), true), None);
        assert_eq!(
            always.report(t(1_000_001), false, OwnSeek::None),
            Some(HoldAction::Release)
        );
        // Nothing to hold while the group is paused anyway.
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::ZERO);
        assert_eq!(g.report(t(0), true, OwnSeek::None), None);
        assert_eq!(g.tick(t(250), false), None);
        assert!(!g.is_holding());
    }

    #[test]
    fn a_stall_during_our_own_seek_holds_only_if_it_lasts_past_the_start() {
        let mut g = StallGuard::new(
            BufferingPolicy::WaitUpTo(Span::from_secs(4)),
            Span::from_secs(20),
        );
        // A seek's wait for data, over before the group starts at 300 ms: the group never
        // hears of it.
        assert_eq!(g.report(t(0), true, OwnSeek::ForStart(t(300))), None);
        assert_eq!(g.deadline(), Some(t(300) + SEEK_STALL_GRACE));
        assert_eq!(g.report(t(250), false, OwnSeek::None), None);
        assert_eq!(g.deadline(), None);
        assert_eq!(g.tick(t(5_000), true), None);
        // One that lasts past the start holds the group, the wait budget counted from its
        // beginning.
        assert_eq!(
            g.report(t(10_000), true, OwnSeek::ForStart(t(10_300))),
            None
        );
        assert_eq!(g.tick(t(10_399), true), None);
        assert_eq!(g.tick(t(10_400), true), Some(HoldAction::Hold));
        assert_eq!(g.deadline(), Some(t(14_000)));
        assert_eq!(g.tick(t(14_000), true), Some(HoldAction::Release));
        // A seek begun after the group started is given the grace from now.
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::ZERO);
        assert_eq!(g.report(t(1_000), true, OwnSeek::ForStart(t(500))), None);
        assert_eq!(g.deadline(), Some(t(1_000) + SEEK_STALL_GRACE));
        // Past its due with the group paused meanwhile, there is nothing to hold.
        assert_eq!(g.tick(t(1_100), false), None);
        assert!(!g.is_holding());
    }

    /// A slow reference fell behind, seeked to catch up, and its busy page waited 150 ms for
    /// the seek's data: held, the room stepped back to where it was before the seek, about a
    /// second (`sim/tests/slow_reference.rs`). It catches up alone; a later stall still holds.
    #[test]
    fn a_stall_during_our_own_catch_up_seek_never_holds_the_group() {
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::from_secs(20));
        assert_eq!(g.report(t(1_000), true, OwnSeek::CatchingUp), None);
        assert_eq!(g.deadline(), None);
        for late in [100, 250, 4_000] {
            assert_eq!(g.tick(t(1_000 + late), true), None);
        }
        assert!(g.is_stalled() && !g.is_holding());
        assert_eq!(g.report(t(6_000), false, OwnSeek::None), None);
        // The cooldown was not spent on it.
        assert_eq!(g.report(t(7_000), true, OwnSeek::None), None);
        assert_eq!(
            g.tick(t(7_000) + STALL_HOLD_AFTER, true),
            Some(HoldAction::Hold)
        );
    }

    #[test]
    fn the_group_is_held_where_the_player_froze_unless_that_is_stale() {
        let playing = Playback {
            media: Some("film".into()),
            playing: true,
            rate: 1.0,
            anchor_media: MediaTime(0),
            anchor_room: RoomTime(0),
            lead_in_rate: 0.0,
            hold: None,
        };
        let now = RoomTime(10_000_000);
        let me = PeerId(7);
        let near = MediaTime(9_000_000);
        let h = held(playing.clone(), now, Some(near), me).unwrap();
        assert_eq!(
            (h.playing, h.anchor_media, h.anchor_room),
            (false, near, now)
        );
        assert_eq!(h.hold, Some(me));
        // Further than HOLD_AT_FROZEN_WITHIN from the room's position: the room's is taken.
        let stale = MediaTime(4_000_000);
        let h = held(playing.clone(), now, Some(stale), me).unwrap();
        assert_eq!(h.anchor_media, MediaTime(10_000_000));
        // Nothing to hold while paused, or held already.
        let paused = Playback {
            playing: false,
            ..playing.clone()
        };
        assert_eq!(held(paused, now, Some(near), me), None);
        let taken = Playback {
            hold: Some(PeerId(8)),
            ..playing
        };
        assert_eq!(held(taken, now, Some(near), me), None);
    }

    #[test]
    fn a_hold_is_overdue_a_grace_after_the_wait_budget() {
        let wait = BufferingPolicy::WaitUpTo(Span::from_secs(4));
        assert!(!wait.hold_overdue(Span::from_secs(4) + ORPHAN_HOLD_GRACE));
        assert!(wait.hold_overdue(Span::from_secs(4) + ORPHAN_HOLD_GRACE + Span::from_micros(1)));
        assert!(!BufferingPolicy::AlwaysWait.hold_overdue(Span::from_secs(3600)));
        assert!(BufferingPolicy::NeverWait.hold_overdue(Span::ZERO));
    }
}
