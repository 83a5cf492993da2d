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
//! stall, begun while a seek we asked for is under way, holds the group only if it outlasts
//! [`SEEK_STALL_GRACE`]: otherwise every viewer's own seek after a seek in the room paused the
//! room again, once per viewer, and each pause made everyone seek once more.

use super::time::{LocalTime, Span};

/// How long a stall that began during our own seek may last before the group is held for it.
/// Seeks in the end-to-end runs took 40–150 ms; a seek still waiting after a second is a stall
/// like any other.
pub const SEEK_STALL_GRACE: Span = Span::from_secs(1);

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

    /// The local player reported a stall or its end. `group_playing` says whether there is
    /// anything to hold; `seeking`, whether the player is carrying out a seek we asked for
    /// (then the hold waits for [`SEEK_STALL_GRACE`], see [`StallGuard::tick`]).
    pub fn report(
        &mut self,
        now: LocalTime,
        stalled: bool,
        group_playing: bool,
        seeking: bool,
    ) -> Option<HoldAction> {
        if stalled {
            if self.since.is_some() {
                return None;
            }
            self.since = Some(now);
            if seeking {
                self.hold_due = Some(now + SEEK_STALL_GRACE);
                return None;
            }
            self.hold_if_due(now, group_playing)
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

    /// Holds the group once a stall begun during our own seek has outlasted its grace, and
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
        assert_eq!(g.report(t(0), true, true, false), Some(HoldAction::Hold));
        assert_eq!(g.tick(t(2_999), true), None);
        assert_eq!(g.tick(t(3_000), true), Some(HoldAction::Release));
        // Recovery after the timeout changes nothing for the group.
        assert_eq!(g.report(t(5_000), false, true, false), None);
        // A new stall within the cooldown does not pause the room again.
        assert_eq!(g.report(t(6_000), true, true, false), None);
        assert_eq!(g.report(t(6_500), false, true, false), None);
        assert_eq!(
            g.report(t(30_000), true, true, false),
            Some(HoldAction::Hold)
        );
        assert_eq!(
            g.report(t(30_400), false, true, false),
            Some(HoldAction::Release)
        );
    }

    #[test]
    fn other_policies() {
        let mut never = StallGuard::new(BufferingPolicy::NeverWait, Span::ZERO);
        assert_eq!(never.report(t(0), true, true, false), None);
        let mut always = StallGuard::new(BufferingPolicy::AlwaysWait, Span::from_secs(20));
        assert_eq!(
            always.report(t(0), true, true, false),
            Some(HoldAction::Hold)
        );
        assert_eq!(always.tick(t(1_000_000), true), None);
        assert_eq!(
            always.report(t(1_000_001), false, true, false),
            Some(HoldAction::Release)
        );
        // Nothing to hold while the group is paused anyway.
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::ZERO);
        assert_eq!(g.report(t(0), true, false, false), None);
    }

    #[test]
    fn a_stall_during_our_own_seek_holds_only_if_it_lasts() {
        let mut g = StallGuard::new(
            BufferingPolicy::WaitUpTo(Span::from_secs(4)),
            Span::from_secs(20),
        );
        // A seek's wait for data, over within the grace: the group never hears of it.
        assert_eq!(g.report(t(0), true, true, true), None);
        assert_eq!(g.deadline(), Some(t(0) + SEEK_STALL_GRACE));
        assert_eq!(g.report(t(120), false, true, false), None);
        assert_eq!(g.deadline(), None);
        assert_eq!(g.tick(t(5_000), true), None);
        // One that outlasts it holds the group, and the wait budget counts from its start.
        assert_eq!(g.report(t(10_000), true, true, true), None);
        assert_eq!(g.tick(t(10_999), true), None);
        assert_eq!(g.tick(t(11_000), true), Some(HoldAction::Hold));
        assert_eq!(g.deadline(), Some(t(14_000)));
        assert_eq!(g.tick(t(14_000), true), Some(HoldAction::Release));
        // Past its grace with the group paused meanwhile, there is nothing to hold.
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::ZERO);
        assert_eq!(g.report(t(0), true, true, true), None);
        assert_eq!(g.tick(t(1_000), false), None);
        assert!(!g.is_holding());
    }
}
