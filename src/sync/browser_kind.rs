//! Where the browser a player runs in changes what the engine must assume, as measured
//! (`docs/measurements/player.md`, "Firefox's `<video>`"):
//!
//! - **Starts.** Firefox's media moves a few milliseconds after `play()`, Chromium's 40–90 ms:
//!   the start lead is guessed per browser until the player measured its own.
//! - **Which frame is shown.** Chromium's renderer shows, at each refresh, the frame whose start
//!   is nearest its media clock, and keeps a cadence on the refresh (`controller::grid`).
//!   Firefox shows the frame its clock is in, and where its clock stands in that frame at a
//!   refresh drifts (at 60 fps, anywhere from 0 to a whole frame past the frame's start). Its
//!   picture, updated only at refreshes in no fixed phase, lagged the Chromium viewers' by about
//!   half a refresh at 60 and at 24 fps (7.2 and 10.3 ms, end-to-end bench). So a Firefox page
//!   tells the engine its clock half a presentation step (the finer of refresh and frame)
//!   behind what it reads: steering that onto the timeline runs Firefox's real clock that much
//!   ahead. And since its frames keep no phase on the refresh, its page tells the engine no
//!   presentation step, so the engine does not steer it onto a frame grid it does not keep
//!   (steered onto one, it corrected at ±5 % most of the time).
//! - **Frame callbacks.** Headless Firefox called `requestVideoFrameCallback` for one refresh
//!   in two or three, so its frames are rarely consecutive: the frame duration is the media
//!   advanced per frame presented.

use super::start_lead::{FIREFOX_GUESS, GUESS, MUTED_GUESS};
use super::time::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserKind {
    Firefox,
    /// Chromium, and what behaves like it as far as we know (Safari is unmeasured).
    Other,
}

/// How far leaving the normal rate sets Chromium's media clock back (19–27 ms measured).
const CHROMIUM_ENTRY_JUMP: Span = Span::from_millis(20);
/// Frame durations outside this (s) are not a video's: 10 to 121 frames per second.
const FRAME_SECS: std::ops::RangeInclusive<f64> = (1.0 / 121.0)..=0.1;
/// Two callbacks more frames than this apart say too little of one frame's duration.
const MAX_FRAMES_APART: u64 = 4;

impl BrowserKind {
    /// The browser a `navigator.userAgent` string names.
    pub fn from_user_agent(user_agent: &str) -> BrowserKind {
        // A byte window, not `str::contains`: its substring searcher costs the first load a
        // kilobyte (gzip) for this one check.
        if user_agent.as_bytes().windows(8).any(|w| w == b"Firefox/") {
            BrowserKind::Firefox
        } else {
            BrowserKind::Other
        }
    }

    /// The start lead to assume before the player measured one.
    pub fn start_lead_guess(self) -> Span {
        match self {
            BrowserKind::Firefox => FIREFOX_GUESS,
            BrowserKind::Other => GUESS,
        }
    }

    /// The start lead to assume for a muted element before the player measured one.
    pub fn muted_start_lead_guess(self) -> Span {
        match self {
            BrowserKind::Firefox => FIREFOX_GUESS,
            BrowserKind::Other => MUTED_GUESS,
        }
    }

    /// How far leaving the normal rate sets its media clock back, until the engine measured it
    /// (`ControllerConfig::entry_jump_guess`): Chromium's 19–27 ms; Firefox's clock, the system
    /// clock, does not jump (−0.7…+0.4 ms; both in `docs/measurements/player.md`).
    pub fn entry_jump_guess(self) -> Span {
        match self {
            BrowserKind::Firefox => Span::ZERO,
            BrowserKind::Other => CHROMIUM_ENTRY_JUMP,
        }
    }

    /// Whether its presented frames keep a fixed phase on the display's refresh, so the engine
    /// may be told the presentation step and steer them onto a frame grid.
    pub fn frames_keep_refresh_phase(self) -> bool {
        self == BrowserKind::Other
    }

    /// How far this viewer's picture may be from where its frames' times put it, against the
    /// others': zero where its frames keep one place on the refresh (`locked`, see
    /// `StepEstimator::picture_locked_to_refresh`), else a whole `refresh`. Where the place
    /// varies (film rates' cadences, whose state differs between renderers and changes as the
    /// clock moves; NTSC rates creeping through the refresh) or follows no phase at all
    /// (Firefox), which refresh first shows a frame is known only to one. The offset shown is
    /// then a number give or take this, not a reassuring one (issue 19). `None` while either is
    /// unmeasured: nothing is known of the picture's precision yet.
    pub fn picture_within(self, refresh: Option<Span>, locked: Option<bool>) -> Option<Span> {
        let refresh = refresh?;
        if !self.frames_keep_refresh_phase() {
            return Some(refresh);
        }
        Some(if locked? { Span::ZERO } else { refresh })
    }

    /// The media clock (s) to tell the engine for a reading `read_secs`, where frames are
    /// shown in steps of `step_secs` (the finer of refresh and frame; unknown yet: the reading
    /// as it is).
    pub fn clock_for_engine(self, read_secs: f64, step_secs: Option<f64>) -> f64 {
        match (self, step_secs) {
            (BrowserKind::Firefox, Some(step)) => read_secs - step / 2.0,
            _ => read_secs,
        }
    }
}

/// A frame's duration (s) from two frame callbacks, each (media time s, frames presented since
/// load): the media advanced per frame presented, when that says something.
pub fn frame_secs_between(earlier: (f64, u64), later: (f64, u64)) -> Option<f64> {
    let frames = later.1.checked_sub(earlier.1)?;
    if frames == 0 || frames > MAX_FRAMES_APART {
        return None;
    }
    let secs = (later.0 - earlier.0) / frames as f64;
    FRAME_SECS.contains(&secs).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0";
    const CHROMIUM: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
                            Gecko) Chrome/156.0.0.0 Safari/537.36";

    #[test]
    fn firefox_is_told_from_its_user_agent() {
        assert_eq!(BrowserKind::from_user_agent(FIREFOX), BrowserKind::Firefox);
        assert_eq!(BrowserKind::from_user_agent(CHROMIUM), BrowserKind::Other);
        assert_eq!(BrowserKind::from_user_agent(""), BrowserKind::Other);
        assert_eq!(BrowserKind::Firefox.start_lead_guess(), FIREFOX_GUESS);
        assert_eq!(BrowserKind::Other.start_lead_guess(), GUESS);
        assert_eq!(BrowserKind::Other.muted_start_lead_guess(), MUTED_GUESS);
        assert_eq!(BrowserKind::Firefox.muted_start_lead_guess(), FIREFOX_GUESS);
        assert!(BrowserKind::Other.frames_keep_refresh_phase());
        assert!(!BrowserKind::Firefox.frames_keep_refresh_phase());
    }

    #[test]
    fn a_picture_is_known_exactly_only_where_its_frames_keep_their_place_on_the_refresh() {
        let refresh = Some(Span::from_micros(16_667));
        let chromium = BrowserKind::Other;
        assert_eq!(
            chromium.picture_within(refresh, Some(true)),
            Some(Span::ZERO)
        );
        assert_eq!(chromium.picture_within(refresh, Some(false)), refresh);
        assert_eq!(chromium.picture_within(refresh, None), None);
        assert_eq!(chromium.picture_within(None, Some(true)), None);
        // Firefox's picture follows no phase: a refresh, whatever its frames.
        let firefox = BrowserKind::Firefox;
        assert_eq!(firefox.picture_within(refresh, Some(true)), refresh);
        assert_eq!(firefox.picture_within(refresh, None), refresh);
        assert_eq!(firefox.picture_within(None, Some(false)), None);
    }

    #[test]
    fn a_firefox_clock_is_told_half_a_step_behind_to_make_up_its_pictures_lag() {
        let refresh = 1.0 / 60.0;
        // A picture updated at refreshes in a drifting phase shows, on average, where its clock
        // was half a refresh ago: the engine, holding the told clock on the timeline, runs the
        // real clock that much ahead, so the picture is on the timeline on average.
        let timeline = 10.0;
        let real = timeline + refresh / 2.0;
        let told = BrowserKind::Firefox.clock_for_engine(real, Some(refresh));
        assert!((told - timeline).abs() < 1e-12);
        let phases = 1000;
        let mean_lag: f64 = (0..phases)
            .map(|i| (i as f64 + 0.5) / phases as f64 * refresh)
            .sum::<f64>()
            / phases as f64;
        assert!((real - mean_lag - timeline).abs() < 1e-9);
        assert_eq!(BrowserKind::Firefox.clock_for_engine(3.0, None), 3.0);
        assert_eq!(BrowserKind::Other.clock_for_engine(3.0, Some(refresh)), 3.0);
    }

    #[test]
    fn the_frame_duration_is_the_media_per_frame_presented() {
        let at_60 = frame_secs_between((20.540, 2295), (20.574, 2297)).unwrap();
        assert!((at_60 - 0.017).abs() < 1e-9);
        let three = frame_secs_between((20.574, 2297), (20.624, 2300)).unwrap();
        assert!((three - 0.050 / 3.0).abs() < 1e-9);
        // Nothing presented between, too many, backwards, or no video's rate: nothing learned.
        assert_eq!(frame_secs_between((1.0, 10), (1.1, 10)), None);
        assert_eq!(frame_secs_between((1.0, 10), (1.2, 20)), None);
        assert_eq!(frame_secs_between((1.0, 10), (0.9, 12)), None);
        assert_eq!(frame_secs_between((1.0, 10), (1.5, 11)), None);
    }
}
