//! Which tiles of the call show video, and how big the tiles are.
//!
//! Tiles keep the order people joined in, so nobody jumps around while talking. When more
//! cameras are on than can be shown, the least recently speaking go audio-only first: the
//! people in the conversation stay visible.

use crate::signaling::payload::SessionId;
use crate::sync::LocalTime;
use std::collections::{BTreeMap, BTreeSet};

/// Smallest tile height (CSS pixels): initials and a name still read at this size.
pub const MIN_TILE_PX: u32 = 72;
/// Largest tile height: a few faces beside the film, never bigger than the film itself.
pub const MAX_TILE_PX: u32 = 180;
/// Space between two tiles of the strip.
pub const TILE_GAP_PX: u32 = 8;

/// When each person last spoke.
#[derive(Debug, Clone, Default)]
pub struct SpeakerHistory {
    last_spoke: BTreeMap<SessionId, LocalTime>,
}

impl SpeakerHistory {
    pub fn new() -> Self {
        Self::default()
    }

    /// `who` is speaking at `now`. An earlier `now` than already known changes nothing.
    pub fn spoke(&mut self, who: SessionId, now: LocalTime) {
        let last = self.last_spoke.entry(who).or_insert(now);
        *last = (*last).max(now);
    }

    /// `who` left the call.
    pub fn forget(&mut self, who: SessionId) {
        self.last_spoke.remove(&who);
    }

    pub fn last_spoke(&self, who: SessionId) -> Option<LocalTime> {
        self.last_spoke.get(&who).copied()
    }
}

/// One person in the call, as the glue knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileInput {
    pub session: SessionId,
    pub camera_on: bool,
    /// Position in the call; earlier joiners come first.
    pub joined_order: u64,
}

/// One tile to render, and whether it plays the person's video or shows their initials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileSlot {
    pub session: SessionId,
    pub show_video: bool,
}

/// The tiles in join order (then session, so equal orders stay stable), one per session, at
/// most `max_video` of them with video. When more cameras are on, the most recently speaking
/// keep video; people who never spoke count as the oldest, and ties go to the earlier joiner.
pub fn plan_tiles(
    people: &[TileInput],
    history: &SpeakerHistory,
    max_video: usize,
) -> Vec<TileSlot> {
    // Both orders sort plain `(u64, u64, u64)` keys that are unique per session, so any sort
    // gives one answer.
    let mut seen = BTreeSet::new();
    let firsts: Vec<&TileInput> = people.iter().filter(|p| seen.insert(p.session)).collect();
    let mut order: Vec<(u64, u64, SessionId)> = firsts
        .iter()
        .map(|p| (p.joined_order, 0, p.session))
        .collect();
    sort_keys(&mut order);
    let camera_on: BTreeSet<SessionId> = firsts
        .iter()
        .filter(|p| p.camera_on)
        .map(|p| p.session)
        .collect();
    // Most recent speaker first; never spoke counts as the oldest; ties keep join order.
    let mut by_recency: Vec<(u64, u64, SessionId)> = order
        .iter()
        .filter(|(_, _, session)| camera_on.contains(session))
        .map(|&(joined, _, session)| {
            let spoke = history
                .last_spoke(session)
                .map_or(0, |t| t.0.max(0) as u64 + 1);
            (u64::MAX - spoke, joined, session)
        })
        .collect();
    sort_keys(&mut by_recency);
    let video: BTreeSet<SessionId> = by_recency
        .iter()
        .take(max_video)
        .map(|&(_, _, session)| session)
        .collect();
    order
        .iter()
        .map(|&(_, _, session)| TileSlot {
            session,
            show_video: video.contains(&session),
        })
        .collect()
}

/// Sorts a call's worth of keys (a few dozen at most) by insertion: the standard library's
/// sorts would add a few KB of code to the download for lists this short.
fn sort_keys(keys: &mut [(u64, u64, SessionId)]) {
    for i in 1..keys.len() {
        let mut j = i;
        while j > 0 && keys[j - 1] > keys[j] {
            keys.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Height of each of `tiles` tiles laid along a strip `strip_px` long: they share it, within
/// [`MIN_TILE_PX`] and [`MAX_TILE_PX`] (past that the strip scrolls).
pub fn tile_height_px(tiles: usize, strip_px: u32) -> u32 {
    let tiles = u32::try_from(tiles.max(1)).unwrap_or(u32::MAX);
    let gaps = (tiles - 1).saturating_mul(TILE_GAP_PX);
    (strip_px.saturating_sub(gaps) / tiles).clamp(MIN_TILE_PX, MAX_TILE_PX)
}

/// How many tiles may show video on a strip `strip_px` long: as many as fit at the smallest
/// size (4 on a phone's 390 px, 6 on a laptop), since video scrolled out of sight still costs
/// decoding; at least one, at most [`super::MAX_CAMERAS`].
pub fn max_video_tiles(strip_px: u32) -> usize {
    let fit = strip_px.saturating_add(TILE_GAP_PX) / (MIN_TILE_PX + TILE_GAP_PX);
    (fit as usize).clamp(1, super::MAX_CAMERAS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;
    use std::cmp::Reverse;

    fn person(session: SessionId, camera_on: bool, joined_order: u64) -> TileInput {
        TileInput {
            session,
            camera_on,
            joined_order,
        }
    }

    fn with_video(slots: &[TileSlot]) -> Vec<SessionId> {
        slots
            .iter()
            .filter(|s| s.show_video)
            .map(|s| s.session)
            .collect()
    }

    #[test]
    fn the_least_recently_speaking_go_audio_only_first() {
        let people = [
            person(50, true, 5),
            person(10, true, 1),
            person(30, true, 3),
            person(20, false, 2),
            person(40, true, 4),
            person(10, false, 9), // a duplicate is dropped
        ];
        let mut history = SpeakerHistory::new();
        let none = plan_tiles(&people, &history, 2);
        let order: Vec<_> = none.iter().map(|s| s.session).collect();
        assert_eq!(order, [10, 20, 30, 40, 50], "join order");
        assert_eq!(
            with_video(&none),
            [10, 30],
            "nobody spoke: earliest joiners"
        );
        history.spoke(50, LocalTime::from_micros(100));
        history.spoke(40, LocalTime::from_micros(200));
        history.spoke(20, LocalTime::from_micros(300)); // camera off: no video anyway
        assert_eq!(with_video(&plan_tiles(&people, &history, 2)), [40, 50]);
        history.spoke(50, LocalTime::from_micros(50)); // older news changes nothing
        history.forget(40);
        assert_eq!(with_video(&plan_tiles(&people, &history, 2)), [10, 50]);
        assert_eq!(
            with_video(&plan_tiles(&people, &history, 9)),
            [10, 30, 40, 50]
        );
        assert!(with_video(&plan_tiles(&people, &history, 0)).is_empty());
    }

    #[test]
    fn tiles_shrink_as_the_call_grows() {
        let calls = [(1, 800), (0, 800), (6, 800), (20, 800), (usize::MAX, 0)];
        let heights = calls.map(|(tiles, strip)| tile_height_px(tiles, strip));
        assert_eq!(
            heights,
            [MAX_TILE_PX, MAX_TILE_PX, 126, MIN_TILE_PX, MIN_TILE_PX]
        );
        let video = [390, 800, 0, u32::MAX].map(max_video_tiles);
        assert_eq!(video, [4, 6, 1, 6], "a phone, a laptop, nothing, anything");
    }

    proptest! {
        #![proptest_config(deterministic(256))]

        /// Property: every session gets one tile, in join order; video goes only to cameras
        /// that are on, as many as allowed, and never to someone who spoke less recently than
        /// a camera left without video (or as recently but joined later).
        #[test]
        fn video_goes_to_the_most_recent_speakers(
            people in prop::collection::vec((0u64..12, any::<bool>(), 0u64..6), 0..12),
            spoke in prop::collection::vec((0u64..12, 0i64..5), 0..12),
            max_video in 0usize..8,
        ) {
            let people: Vec<_> = people.into_iter().map(|(s, c, j)| person(s, c, j)).collect();
            let mut history = SpeakerHistory::new();
            for (who, at) in spoke {
                history.spoke(who, LocalTime::from_micros(at));
            }
            let slots = plan_tiles(&people, &history, max_video);
            let sessions: BTreeSet<_> = people.iter().map(|p| p.session).collect();
            prop_assert_eq!(slots.len(), sessions.len());
            let first = |s: SessionId| *people.iter().find(|p| p.session == s).unwrap();
            let key = |s: &TileSlot| (first(s.session).joined_order, s.session);
            prop_assert!(slots.windows(2).all(|w| key(&w[0]) < key(&w[1])));
            let cameras = slots.iter().filter(|s| first(s.session).camera_on).count();
            prop_assert_eq!(with_video(&slots).len(), cameras.min(max_video));
            let rank = |s: SessionId| (Reverse(history.last_spoke(s)), first(s).joined_order, s);
            for shown in slots.iter().filter(|s| s.show_video) {
                prop_assert!(first(shown.session).camera_on);
                let left_out = slots.iter().filter(|s| !s.show_video && first(s.session).camera_on);
                for hidden in left_out {
                    prop_assert!(rank(shown.session) < rank(hidden.session));
                }
            }
        }
    }
}
