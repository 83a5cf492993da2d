//! Where on the frame grid the controller steers: the player's presentation step, the offset
//! of the timeline from the frames it shows, and the grid of the frames it last presented.
//!
//! A browser shows a frame only at a display refresh, and its renderer keeps a steady frame
//! cadence until the media clock has drifted most of a frame away from it. With a step
//! ([`Controller::set_presentation_step`]), the controller steers the clock to where frame
//! starts fall on refreshes (see [`Controller::grid_offset`]), so every viewer on the same
//! refresh grid shows the same frame, as far as can be from the tie between two. The grid
//! arithmetic itself lives in [`crate::sync::presentation`].

use super::{Controller, Observation, QUANTIZED_ERROR_FRAMES};
use crate::stats::median;
use crate::sync::clock_steering::Picture;
use crate::sync::presentation::{
    cadence_places, grid_side, offset_on_grid, standard_frame_us, FrameGrid,
};
use crate::sync::samples::recent_median;
use crate::sync::time::{LocalTime, Span};
use crate::sync::wire::GridSide;
use std::collections::VecDeque;

/// A step finer than this is continuous presentation for the controller's purposes; coarser
/// than this is no display a person watches.
const STEP_RANGE: std::ops::RangeInclusive<Span> = Span::ZERO..=Span::from_millis(100);
/// How long the refreshes of the last presented frame stay a grid to start on: a display's
/// refresh drifts from the local clock by tens of ppm, milliseconds a minute.
const PRESENTED_GRID_FRESH: Span = Span::from_secs(10);

/// What the controller knows of the player's frame grid.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Grid {
    /// The player's presentation step (zero: continuous). Set only through
    /// [`Controller::set_presentation_step`], which keeps [`Grid::places`] up to date.
    pub(super) step: Span,
    /// The frame grid offset in use, µs (see [`Controller::grid_offset`]).
    pub(super) offset: Option<f64>,
    /// The grid sides older viewers announced, oldest first (see [`GridSide`]).
    older_sides: Vec<GridSide>,
    /// The latest frame presented while playing: its media time, and a display refresh.
    pub(super) last_presented: Option<Observation>,
    /// Media time between consecutive presented frames, µs, latest last: the frame duration
    /// (or a multiple, where frames are skipped), for the cadence ([`cadence_places`]).
    frame_gaps: VecDeque<f64>,
    /// The cadence of the frame gaps and step above ([`Grid::places`]), worked out when either
    /// changes: the controller reads it at every frame, far more often than it changes.
    places: u32,
}

/// Frame gaps the frame duration is the median of.
const FRAME_GAPS: usize = 15;
/// A gap longer than this is a seek or a pause, not a frame.
const MAX_FRAME_GAP: Span = Span::from_millis(100);

impl Grid {
    pub(super) fn new() -> Grid {
        Grid {
            step: Span::ZERO,
            offset: None,
            older_sides: Vec::new(),
            last_presented: None,
            frame_gaps: VecDeque::new(),
            places: 1,
        }
    }
}

impl Grid {
    /// Another media: its frames are of another duration.
    pub(super) fn new_media(&mut self) {
        self.frame_gaps.clear();
        self.last_presented = None;
        self.count_places();
    }

    /// A frame presented while playing: the latest, and its media gap from the one before.
    pub(super) fn presented(&mut self, obs: Observation) {
        if let Some(last) = self.last_presented {
            let gap = obs.media_time - last.media_time;
            if gap > Span::ZERO && gap <= MAX_FRAME_GAP {
                if self.frame_gaps.len() == FRAME_GAPS {
                    self.frame_gaps.pop_front();
                }
                self.frame_gaps.push_back(gap.0 as f64);
                self.count_places();
            }
        }
        self.last_presented = Some(obs);
    }

    /// In how many places among a step presented frames begin ([`cadence_places`]): from the
    /// median gap between presented frames, 1 until one is known.
    pub(super) fn places(&self) -> u32 {
        self.places
    }

    /// Works [`Grid::places`] out afresh, after the frame gaps or the step changed.
    fn count_places(&mut self) {
        let gaps: Vec<f64> = self.frame_gaps.iter().copied().collect();
        self.places = median(&gaps).map_or(1, |gap| cadence_places(gap, self.step.0 as f64));
    }
}

impl Controller {
    /// Sets how finely the player can place a frame in time (see the module notes); `false`
    /// (and no change) for a step outside 0–100 ms.
    pub fn set_presentation_step(&mut self, step: Span) -> bool {
        if !STEP_RANGE.contains(&step) {
            return false;
        }
        self.grid.step = step;
        self.grid.count_places();
        true
    }

    /// The player's presentation step (zero: continuous).
    pub fn presentation_step(&self) -> Span {
        self.grid.step
    }

    /// Whether the player's frames are quantized coarsely enough to matter.
    pub(super) fn quantized(&self) -> bool {
        self.grid.step > self.cfg.deadband_enter
    }

    /// Where on the frame grid the clock is steered, off the timeline (see `grid_offset`); `None`
    /// for a player whose frames are not quantized, or before any frame was seen.
    pub fn frame_grid_offset(&self) -> Option<Span> {
        self.grid
            .offset
            .filter(|_| self.quantized())
            .map(|g| Span(g as i64))
    }

    /// The frame grid offset in use and the state it was measured for, to announce to
    /// younger viewers (see [`GridSide`]).
    pub fn grid_side(&self) -> Option<GridSide> {
        Some(GridSide {
            state: self.planning.planned?,
            offset: self.frame_grid_offset()?,
        })
    }

    /// The grid sides the viewers older than this one announced, oldest first.
    pub fn set_older_grid_sides(&mut self, sides: Vec<GridSide>) {
        self.grid.older_sides = sides;
    }

    /// The grid this player presented frames on, while it played within the last
    /// [`PRESENTED_GRID_FRESH`]: a frame it presented and the refresh it was presented at, and
    /// the presentation step as both the refresh and the frame (frames are presented once per
    /// step), taken to the standard frame rate it measures (see [`standard_frame_us`]). A start
    /// moved onto it (see [`FrameGrid::align`]) puts the new timeline's frames on this screen's
    /// refreshes, far from the tie between two frames where viewers sharing the screen would
    /// each pick a side of their own.
    pub fn presented_grid(&self, now: LocalTime) -> Option<FrameGrid> {
        let last = self
            .grid
            .last_presented
            .filter(|o| now - o.presented_at <= PRESENTED_GRID_FRESH)?;
        let step = standard_frame_us(self.grid.step);
        self.quantized().then_some(FrameGrid {
            vsync: last.presented_at,
            refresh_us: step,
            frame: last.media_time,
            frame_us: step,
        })
    }

    /// Where on the frame grid the clock is best placed, off the timeline (µs, within half a
    /// lattice spacing either way): what the clock is steered to, rather than the timeline.
    ///
    /// A renderer shows, at each refresh, the frame under its clock half a refresh on (the one
    /// covering most of the refresh's interval). A clock on the timeline can therefore sit
    /// anywhere up to half a refresh from a frame boundary, and there the smallest error flips
    /// the picture to the next frame, for as long as the clock rests there. Where frames begin
    /// among the refreshes is the same for every viewer on the same refresh grid: one place for
    /// 60 or 30 fps on 60 Hz, two half a refresh apart for 24 fps, five for 25 fps (the
    /// cadence, [`Grid::places`]). The offset is the middle of those places, measured over the
    /// presented frames' errors ([`offset_on_grid`]); moving the clock there puts every refresh
    /// as far from a frame boundary as the cadence allows, and viewers sharing a screen's
    /// refreshes all move alike. It depends on no one video's frame times: they are measured.
    ///
    /// An offset near half a spacing is as near one place as the next: measured afresh each
    /// time, noise can put it just past half a spacing for one viewer and just short of it for
    /// another (or for one, then the other), and they chase each other a frame apart. So the
    /// offset is kept: the next is the one of its equals (a whole spacing apart) nearest the
    /// last, up to a hysteresis past half a spacing (see [`crate::sync::presentation`]);
    /// viewers that agreed stay agreed as the offset crosses half a spacing. It is kept
    /// through the moments the errors are forgotten within one state (a correction, a stall),
    /// which move the clock, not the grid; a new state measures it afresh.
    pub(super) fn grid_offset(&mut self) -> f64 {
        if !self.quantized() {
            return 0.0;
        }
        if self.rate.window.is_empty() {
            return self.grid.offset.unwrap_or(0.0);
        }
        let places = self.grid.places();
        let spacing = self.grid.step.0 as f64 / places as f64;
        let errors = self.rate.window.iter().map(|&(_, error)| error);
        let Some(wrapped) = offset_on_grid(errors, self.grid.step.0 as f64, places) else {
            return self.grid.offset.unwrap_or(0.0);
        };
        let oldest_side = self
            .grid
            .older_sides
            .iter()
            .find(|side| Some(side.state) == self.planning.planned)
            .map(|side| side.offset.0 as f64);
        let offset = grid_side(wrapped, self.grid.offset, oldest_side, spacing);
        self.grid.offset = Some(offset);
        offset
    }

    /// Whether the latest presented frames show another frame than the grid says: their median
    /// error beyond `grid` (µs), when it is half a step or more. Judged from as few as
    /// [`FRAMES_TO_JUDGE_PICTURE`] frames in the error window (a starved page sees about six in
    /// it), and unseen with fewer.
    pub(super) fn frames_off_grid(&self, grid: f64) -> Picture {
        if !self.quantized() {
            return Picture::AsTheClockSays;
        }
        if self.rate.window.len() < FRAMES_TO_JUDGE_PICTURE {
            return Picture::Unseen;
        }
        let off = recent_median(&self.rate.window, QUANTIZED_ERROR_FRAMES) - grid;
        if off.abs() >= self.grid.step.0 as f64 / 2.0 {
            Picture::FramesOff(off)
        } else {
            Picture::AsTheClockSays
        }
    }
}

/// The fewest frames in the error window from which the picture is judged a frame off or
/// not: a median of four still outvotes one odd frame.
const FRAMES_TO_JUDGE_PICTURE: usize = 4;

#[cfg(test)]
mod tests {
    use super::super::{Controller, ControllerConfig, Observation};
    use crate::sync::time::{LocalTime, MediaTime, Span};

    /// `frames` frames `frame_us` apart, presented one a frame's length after the other.
    fn present(c: &mut Controller, frames: i64, frame_us: i64) {
        for n in 0..frames {
            c.grid.presented(Observation {
                media_time: MediaTime::from_micros(n * frame_us),
                presented_at: LocalTime::from_micros(n * frame_us),
            });
        }
    }

    #[test]
    fn the_cadence_follows_the_frames_the_step_and_the_media() {
        let mut c = Controller::new(ControllerConfig::default());
        assert_eq!(c.grid.places(), 1, "no frames yet");
        assert!(c.set_presentation_step(Span::from_micros(16_667)));
        present(&mut c, 20, 41_667);
        assert_eq!(c.grid.places(), 2, "24 fps on 60 Hz");
        assert!(c.set_presentation_step(Span::from_micros(33_333)));
        assert_eq!(c.grid.places(), 4, "the same frames on 30 Hz");
        assert!(!c.set_presentation_step(Span::from_millis(500)));
        assert_eq!(c.grid.places(), 4, "a step refused changes nothing");
        c.grid.new_media();
        assert_eq!(
            c.grid.places(),
            1,
            "another media: its frames are not known yet"
        );
        assert!(c.set_presentation_step(Span::from_micros(16_667)));
        present(&mut c, 20, 40_000);
        assert_eq!(c.grid.places(), 5, "25 fps on 60 Hz");
    }
}
