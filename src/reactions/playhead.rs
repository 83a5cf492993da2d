//! Which stretch of the film the playhead has just crossed, frame by frame: the reactions in
//! it are due. Forward play shows each reaction once; a rewind starts a new pass, so they show
//! again; a seek forward skips what it jumps over; a pause crosses nothing.
//!
//! The playhead keeps a *mark*: the furthest media time of the current pass. A frame past it
//! (by at most [`MAX_PLAY_STEP`]) crosses `(mark, frame]`. The sync engine nudges the player
//! and may step it back a little to correct an error; a step back shorter than [`REWIND`]
//! leaves the mark where it is, so the frames it replays show nothing twice. A longer step
//! back is a rewind: the pass starts again there.

use crate::sync::{MediaTime, Span};

/// The largest forward step between two frames that is still playing through: a few frames
/// at 24 fps, with room for frames a busy page did not present. A longer one is a seek.
pub const MAX_PLAY_STEP: Span = Span::from_millis(1_000);
/// The shortest step back that is a rewind (someone moved the room), not a sync correction.
pub const REWIND: Span = Span::from_millis(1_000);

/// What a new frame's media time means for the reactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Playing through: the reactions in `(after, up_to]` are due.
    Crossed { after: MediaTime, up_to: MediaTime },
    /// A new pass starts at `at` (the first frame, a seek, a rewind): only reactions exactly
    /// at `at` are due.
    Jumped { at: MediaTime },
    /// Nothing new: paused, or replaying frames a small correction stepped back over.
    Held,
}

impl Step {
    /// The stretch `(after, up_to]` whose reactions are due, if any.
    pub fn window(self) -> Option<(MediaTime, MediaTime)> {
        match self {
            Step::Crossed { after, up_to } => Some((after, up_to)),
            Step::Jumped { at } => Some((at - Span::from_micros(1), at)),
            Step::Held => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Playhead {
    /// The furthest frame of this pass; `None` before the video's first frame.
    mark: Option<MediaTime>,
    /// The latest frame, which is what the person sees (behind the mark after a correction).
    frame: Option<MediaTime>,
}

impl Playhead {
    /// The player presented a frame of media time `at`.
    pub fn advance(&mut self, at: MediaTime) -> Step {
        self.frame = Some(at);
        let Some(mark) = self.mark else {
            self.mark = Some(at);
            return Step::Jumped { at };
        };
        if at > mark + MAX_PLAY_STEP || at < mark - REWIND {
            self.mark = Some(at);
            return Step::Jumped { at };
        }
        if at > mark {
            self.mark = Some(at);
            return Step::Crossed {
                after: mark,
                up_to: at,
            };
        }
        Step::Held
    }

    /// The furthest frame of this pass.
    pub fn mark(&self) -> Option<MediaTime> {
        self.mark
    }

    /// The media time of the latest frame: where a reaction sent now is anchored.
    pub fn frame(&self) -> Option<MediaTime> {
        self.frame
    }

    /// Another video: no frame yet.
    pub fn reset(&mut self) {
        *self = Playhead::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    fn ms(ms: i64) -> MediaTime {
        MediaTime::from_micros(ms * 1000)
    }

    /// The reactions (media times, in ms) shown as the playhead visits `frames`, in order.
    fn shown(reactions: &[i64], frames: &[i64]) -> Vec<i64> {
        let mut playhead = Playhead::default();
        let mut shown = Vec::new();
        for &frame in frames {
            if let Some((after, up_to)) = playhead.advance(ms(frame)).window() {
                let mut due: Vec<i64> = reactions
                    .iter()
                    .copied()
                    .filter(|&r| ms(r) > after && ms(r) <= up_to)
                    .collect();
                due.sort();
                shown.extend(due);
            }
        }
        shown
    }

    #[test]
    fn playing_through_shows_each_reaction_once() {
        let frames: Vec<i64> = (0..=200).map(|n| n * 16).collect();
        assert_eq!(
            shown(&[0, 16, 17, 500, 3_200], &frames),
            vec![0, 16, 17, 500, 3_200]
        );
    }

    #[test]
    fn a_pause_shows_nothing_more() {
        assert_eq!(shown(&[100], &[0, 50, 100, 100, 100, 100]), vec![100]);
    }

    #[test]
    fn a_small_correction_back_does_not_show_again() {
        // Played to 600, stepped back 200 ms by the sync engine, played on.
        let frames = [0, 200, 400, 600, 400, 500, 600, 700];
        assert_eq!(shown(&[450, 650], &frames), vec![450, 650]);
    }

    #[test]
    fn a_rewind_shows_again_and_a_seek_forward_skips() {
        // Played to 5 s, rewound to 2 s, played to 5 s again, then skipped to 60 s.
        let mut frames: Vec<i64> = (0..=50).map(|n| n * 100).collect();
        frames.extend((20..=50).map(|n| n * 100));
        frames.extend([60_000, 60_100]);
        assert_eq!(
            shown(&[1_000, 3_000, 30_000, 60_050], &frames),
            vec![1_000, 3_000, 3_000, 60_050]
        );
    }

    #[test]
    fn a_new_pass_shows_what_is_exactly_at_its_first_frame() {
        assert_eq!(shown(&[0, 8_000], &[0, 8_000]), vec![0, 8_000]);
    }

    #[test]
    fn the_frame_is_what_the_person_sees_and_the_mark_how_far_the_pass_went() {
        let mut playhead = Playhead::default();
        assert_eq!(playhead.frame(), None);
        for frame in [0, 100, 200, 150] {
            playhead.advance(ms(frame));
        }
        assert_eq!(
            (playhead.frame(), playhead.mark()),
            (Some(ms(150)), Some(ms(200)))
        );
        playhead.reset();
        assert_eq!((playhead.frame(), playhead.mark()), (None, None));
    }

    /// A pass: playing forward from `start` in steps of up to a frame or a dropped few, with
    /// pauses (zero steps) and corrections back shorter than a rewind.
    fn pass() -> impl Strategy<Value = (i64, Vec<i64>)> {
        let step = prop_oneof![
            6 => 1i64..=100,
            2 => Just(0i64),
            1 => -(REWIND.as_micros() / 1000 - 1)..0i64,
        ];
        (0i64..10_000, proptest::collection::vec(step, 1..300))
    }

    /// The frames of `pass`, and the furthest one. Corrections never take the playhead a
    /// rewind's length behind the furthest frame (several in a row would be a rewind).
    fn frames_of(start: i64, steps: &[i64]) -> (Vec<i64>, i64) {
        let mut frames = vec![start];
        let (mut at, mut furthest) = (start, start);
        for step in steps {
            at = (at + step)
                .max(furthest - REWIND.as_micros() / 1000 + 1)
                .max(0);
            furthest = furthest.max(at);
            frames.push(at);
        }
        (frames, furthest)
    }

    proptest! {
        #![proptest_config(deterministic(500))]

        /// However it plays, pauses and corrects, a pass shows exactly the reactions between
        /// its first frame and its furthest, each once, in film order; and after a rewind to
        /// before them, a second pass shows them all again, once.
        #[test]
        fn each_pass_shows_each_reaction_once(
            (start, steps) in pass(),
            (again, steps_again) in pass(),
            reactions in proptest::collection::vec(0i64..20_000, 0..40),
        ) {
            let (mut frames, furthest) = frames_of(start, &steps);
            let first: Vec<i64> = {
                let mut r: Vec<i64> = reactions.iter().copied()
                    .filter(|&r| r >= start && r <= furthest).collect();
                r.sort();
                r
            };
            prop_assert_eq!(&shown(&reactions, &frames), &first);

            // A rewind: the second pass starts well before the first one's furthest frame.
            let again = again.min(furthest - REWIND.as_micros() / 1000 - 1);
            if again < 0 {
                return Ok(());
            }
            let (second_frames, second_furthest) = frames_of(again, &steps_again);
            frames.extend(&second_frames);
            let mut second: Vec<i64> = reactions.iter().copied()
                .filter(|&r| r >= again && r <= second_furthest).collect();
            second.sort();
            let mut both = first.clone();
            both.extend(second);
            prop_assert_eq!(shown(&reactions, &frames), both);
        }
    }
}
