//! The engine's tuning: how often it probes clocks and announces itself, how far ahead it
//! schedules, what it refuses.

use crate::sync::buffering::BufferingPolicy;
use crate::sync::clock::ClockConfig;
use crate::sync::controller::ControllerConfig;
use crate::sync::time::Span;

/// Tuning of the engine. The defaults are what the simulator's benchmark runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub clock: ClockConfig,
    pub controller: ControllerConfig,
    pub buffering: BufferingPolicy,
    /// Least time between two holds requested by this viewer (a flaky connection must not
    /// pause the room over and over).
    pub hold_cooldown: Span,
    /// Clock probes per peer, in steady state...
    pub ping_interval: Span,
    /// ...and while the first `fast_pings` samples are collected, to sync a newcomer quickly.
    pub fast_ping_interval: Span,
    pub fast_pings: usize,
    /// Period of the unreliable anti-entropy announcement.
    pub hello_interval: Span,
    /// Bounds of the lead with which changes are scheduled ahead.
    pub min_lead: Span,
    pub max_lead: Span,
    /// Clock samples needed from the reference before we trust room time.
    pub min_sync_samples: usize,
    /// Stamps and anchors further ahead of our room time than this are refused: no honest
    /// peer schedules that far, and a far-future stamp would pin the register forever.
    pub max_future: Span,
    /// Least time between two clock events per peer (for the UI).
    pub event_interval: Span,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            clock: ClockConfig::default(),
            controller: ControllerConfig::default(),
            buffering: BufferingPolicy::default(),
            hold_cooldown: Span::from_secs(20),
            ping_interval: Span::from_millis(500),
            fast_ping_interval: Span::from_millis(100),
            fast_pings: 10,
            hello_interval: Span::from_secs(2),
            min_lead: Span::from_millis(100),
            max_lead: Span::from_secs(3),
            min_sync_samples: 4,
            max_future: Span::from_secs(60),
            event_interval: Span::from_secs(1),
        }
    }
}
