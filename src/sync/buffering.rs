//! What the group does when one viewer's player stalls (buffering).
//!
//! The stalled viewer's own engine decides, because only it knows when the stall began and
//! ended. With the default policy it asks the group to hold (a paused state marked as a hold,
//! at the position where it froze), and releases the hold when it recovers or when the wait
//! budget runs out, whichever comes first; after a timeout the group goes on and the late
//! viewer catches up on its own with a seek. A cooldown keeps one flaky connection from
//! pausing the room over and over.

use super::time::{LocalTime, Span};

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
}

impl StallGuard {
    pub fn new(policy: BufferingPolicy, cooldown: Span) -> StallGuard {
        StallGuard {
            policy,
            cooldown,
            since: None,
            holding: false,
            last_hold: None,
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
    /// anything to hold.
    pub fn report(
        &mut self,
        now: LocalTime,
        stalled: bool,
        group_playing: bool,
    ) -> Option<HoldAction> {
        if stalled {
            if self.since.is_some() {
                return None;
            }
            self.since = Some(now);
            let cooled = self.last_hold.is_none_or(|t| {
                now - t >= self.cooldown || self.policy == BufferingPolicy::AlwaysWait
            });
            if group_playing && self.policy != BufferingPolicy::NeverWait && cooled {
                self.holding = true;
                self.last_hold = Some(now);
                return Some(HoldAction::Hold);
            }
            None
        } else {
            self.since = None;
            if self.holding {
                self.holding = false;
                return Some(HoldAction::Release);
            }
            None
        }
    }

    /// The hold was superseded (a user acted meanwhile): nothing left to release.
    pub fn forget_hold(&mut self) {
        self.holding = false;
    }

    /// Releases the hold once the wait budget is spent.
    pub fn tick(&mut self, now: LocalTime) -> Option<HoldAction> {
        match self.deadline() {
            Some(d) if now >= d => {
                self.holding = false;
                Some(HoldAction::Release)
            }
            _ => None,
        }
    }

    /// When [`StallGuard::tick`] will release the hold.
    pub fn deadline(&self) -> Option<LocalTime> {
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
        assert_eq!(g.report(t(0), true, true), Some(HoldAction::Hold));
        assert_eq!(g.tick(t(2_999)), None);
        assert_eq!(g.tick(t(3_000)), Some(HoldAction::Release));
        // Recovery after the timeout changes nothing for the group.
        assert_eq!(g.report(t(5_000), false, true), None);
        // A new stall within the cooldown does not pause the room again.
        assert_eq!(g.report(t(6_000), true, true), None);
        assert_eq!(g.report(t(6_500), false, true), None);
        assert_eq!(g.report(t(30_000), true, true), Some(HoldAction::Hold));
        assert_eq!(g.report(t(30_400), false, true), Some(HoldAction::Release));
    }

    #[test]
    fn other_policies() {
        let mut never = StallGuard::new(BufferingPolicy::NeverWait, Span::ZERO);
        assert_eq!(never.report(t(0), true, true), None);
        let mut always = StallGuard::new(BufferingPolicy::AlwaysWait, Span::from_secs(20));
        assert_eq!(always.report(t(0), true, true), Some(HoldAction::Hold));
        assert_eq!(always.tick(t(1_000_000)), None);
        assert_eq!(
            always.report(t(1_000_001), false, true),
            Some(HoldAction::Release)
        );
        // Nothing to hold while the group is paused anyway.
        let mut g = StallGuard::new(BufferingPolicy::default(), Span::ZERO);
        assert_eq!(g.report(t(0), true, false), None);
    }
}
