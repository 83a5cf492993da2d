//! What defines a run: the scenario (peers, links, players, engine configuration, script),
//! the device clocks it gives each slot, and the actions its script takes.

use crate::browsers::Browser;
use crate::net::LinkSpec;
use crate::player::{ClockReadingSpec, DisplaySpec};
use insieme::sync::{Config, Engine, Intent, LocalTime, WireMessage};

/// A device clock: `local = offset + (1 + skew) * true`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockModel {
    pub offset_us: f64,
    pub skew: f64,
}

impl ClockModel {
    pub fn local(&self, t: f64) -> LocalTime {
        LocalTime(self.local_us(t).floor() as i64)
    }
    /// The local instant of true time `t`, unrounded (µs).
    pub fn local_us(&self, t: f64) -> f64 {
        self.offset_us + t * (1.0 + self.skew)
    }
    pub fn to_true(&self, l: LocalTime) -> i64 {
        ((l.0 as f64 - self.offset_us) / (1.0 + self.skew)).ceil() as i64
    }
}

/// A member running a modified client: its engine is the real one, but every message it sends
/// is first rewritten by `tamper` (given its engine and its local time). It is left out of
/// every measurement: the question is what it does to the others.
#[derive(Clone, Copy, Debug)]
pub struct Hostile {
    pub slot: usize,
    pub tamper: fn(&Engine, LocalTime, &mut WireMessage),
}

/// Random stalls of a player.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StallSpec {
    pub mean_interval_s: f64,
    pub min_s: f64,
    pub max_s: f64,
}

/// What the script can make happen.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// A user on this slot acts.
    Intent {
        slot: usize,
        intent: Intent,
    },
    /// A peer opens the room page on this slot (a fresh engine and id).
    Join(usize),
    /// The peer on this slot closes the page.
    Leave(usize),
    /// Whoever is the reference right now leaves.
    LeaveReference,
    /// The network splits: the listed slots on one side, everyone else on the other. Links
    /// open already stay (their messages wait or are lost); a page joining meanwhile connects
    /// only to its own side, and to the other once the network heals (two groups form apart).
    Partition(Vec<usize>),
    Heal,
    /// The page on this slot gets no CPU for this many seconds (a saturated machine): whatever
    /// it would handle meanwhile (messages, timers, its player's reports) waits, and is then
    /// handled in order, stamped when handled, as a browser's event loop does. Its player
    /// plays on.
    Starve {
        slot: usize,
        for_s: f64,
    },
    /// A user on this slot acts outside the playback state (a queue edit: `Input::Act`).
    Act(usize),
}

impl Action {
    /// The page whose user acts, if any: a starved page handles it late.
    pub fn page(&self) -> Option<usize> {
        match self {
            Action::Intent { slot, .. } | Action::Act(slot) => Some(*slot),
            _ => None,
        }
    }
}

/// Everything that defines a run.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub seed: u64,
    /// Peer slots (devices); each keeps its clock and player across rejoins.
    pub slots: usize,
    pub duration_s: f64,
    pub link: LinkSpec,
    pub skew_ppm: f64,
    pub clock_offset_s: f64,
    pub fps: Vec<f64>,
    /// Media time of every video's first frame, ms
    /// ([`PlayerSpec::first_frame_s`](crate::player::PlayerSpec::first_frame_s)).
    pub first_frame_ms: f64,
    pub seek_latency_ms: (f64, f64),
    pub start_latency_ms: (f64, f64),
    pub rate_tau_ms: (f64, f64),
    pub stalls: Option<StallSpec>,
    /// Every player presents on a display like this one (one machine: one vsync phase);
    /// `None`: continuous presentation.
    pub display: Option<DisplaySpec>,
    /// Tell each engine its player's presentation step
    /// ([`Input::PresentationStep`](insieme::sync::Input::PresentationStep)) when its node
    /// starts, as the browser glue does; off, the engine assumes continuous presentation.
    pub tell_presentation_step: bool,
    /// With the step, also tell where frames fall on its grid
    /// ([`Input::FrameGrid`](insieme::sync::Input::FrameGrid), computed from the display and the
    /// slot's clock by [`PlayerSpec::frame_grid`](crate::player::PlayerSpec::frame_grid)), where
    /// that is well defined. On by default; off only to compare.
    pub tell_presentation_phase: bool,
    /// Per slot (missing: 0), how far its player's media clock runs off the commanded rate,
    /// ppm ([`PlayerSpec::media_rate_error_ppm`](crate::player::PlayerSpec::media_rate_error_ppm)).
    pub media_rate_error_ppm: Vec<f64>,
    /// Every page reads its player's media clock at each presented frame and tells its engine
    /// ([`Input::MediaClock`](insieme::sync::Input::MediaClock), just before the frame's
    /// observation), as the browser glue does; `None`: engines see frames only.
    pub clock_readings: Option<ClockReadingSpec>,
    /// Per slot (missing: none), the browser its pages run in: its player takes the browser's
    /// figures ([`crate::browsers`]) instead of the scenario's start latency, rate response,
    /// clock readings and renderer, and its page follows the app's glue for that browser
    /// (start-lead guess, presentation step told or not, Firefox's clock told half a step
    /// behind). Slots with none keep the scenario's figures and Chromium's glue.
    pub browsers: Vec<Browser>,
    /// Each page follows the app's rules for its browser (`insieme::sync::browser_kind`): on
    /// by default; off, every page takes itself for Chromium, as the app did before it had
    /// Firefox rules (to compare).
    pub browser_rules: bool,
    pub engine: Config,
    /// Tell each engine the order the signaling endpoint admitted the pages in
    /// ([`Input::Seniority`](insieme::sync::Input::Seniority)), as the browser glue does: on
    /// by default; off, ranks are the peers' claims (the engine as it was before).
    pub endpoint_order: bool,
    /// A slot whose page lies ([`Hostile`]).
    pub hostile: Option<Hostile>,
    pub script: Vec<(f64, Action)>,
}
