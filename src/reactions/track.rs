//! One video's reaction track: every reaction anyone sent during it, deduplicated by id and
//! bounded (the oldest to arrive is dropped first), so it can be replayed on a rewind and sent
//! to a newcomer in one message.

use super::reaction::{Reaction, ReactionId, VideoKey};
use crate::sync::MediaTime;

/// Most reactions kept per video. A lively evening is a few dozen per film; at most 22 bytes
/// each on the wire, a full track is about 5.6 KB, one room message (8 KB) for a newcomer.
pub const MAX_TRACK: usize = 256;

#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    video: VideoKey,
    /// In order of arrival here, so the oldest is first; searched linearly (at most 256).
    reactions: Vec<Reaction>,
}

/// What adding a reaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    New,
    /// A copy of one the track has (with the same content): nothing changed.
    Duplicate,
    /// Its id was taken by different content (a copy forged in someone's track, overruled by
    /// the reaction its own author sent), now replaced.
    Replaced,
}

impl Track {
    pub fn new(video: VideoKey) -> Track {
        Track {
            video,
            reactions: Vec::new(),
        }
    }

    pub fn video(&self) -> VideoKey {
        self.video
    }

    pub fn len(&self) -> usize {
        self.reactions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reactions.is_empty()
    }

    /// The reactions in order of arrival.
    pub fn reactions(&self) -> &[Reaction] {
        &self.reactions
    }

    /// Adds `reaction` unless its id is there already. An `authoritative` copy (from its own
    /// author, over the author's link) replaces a different one under the same id: otherwise a
    /// member could pre-empt someone's next id in a track it hands a newcomer.
    pub fn add(&mut self, reaction: Reaction, authoritative: bool) -> Added {
        if let Some(known) = self.reactions.iter_mut().find(|r| r.id == reaction.id) {
            if *known == reaction || !authoritative {
                return Added::Duplicate;
            }
            *known = reaction;
            return Added::Replaced;
        }
        if self.reactions.len() >= MAX_TRACK {
            self.reactions.remove(0);
        }
        self.reactions.push(reaction);
        Added::New
    }

    pub fn contains(&self, id: ReactionId) -> bool {
        self.reactions.iter().any(|r| r.id == id)
    }

    /// The reactions with a media time in `(after, up_to]`, in media time order (ties by id).
    pub fn between(&self, after: MediaTime, up_to: MediaTime) -> Vec<Reaction> {
        // An insertion sort: a frame's due reactions are a handful, and the standard sorts
        // cost kilobytes of download.
        let mut due: Vec<Reaction> = Vec::new();
        for &r in self
            .reactions
            .iter()
            .filter(|r| r.at > after && r.at <= up_to)
        {
            let place = due
                .iter()
                .take_while(|d| (d.at, d.id) <= (r.at, r.id))
                .count();
            due.insert(place, r);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::ReactionKind;

    fn reaction(session: u64, seq: u32, at_ms: i64) -> Reaction {
        Reaction {
            id: ReactionId { session, seq },
            kind: ReactionKind::Clap,
            at: MediaTime::from_micros(at_ms * 1000),
        }
    }

    fn ms(ms: i64) -> MediaTime {
        MediaTime::from_micros(ms * 1000)
    }

    #[test]
    fn a_reaction_is_kept_once() {
        let mut track = Track::new(VideoKey(1));
        assert_eq!(track.add(reaction(1, 0, 500), false), Added::New);
        assert_eq!(track.add(reaction(1, 0, 500), true), Added::Duplicate);
        assert_eq!(track.add(reaction(1, 1, 500), false), Added::New);
        assert_eq!(track.add(reaction(2, 0, 500), false), Added::New);
        assert_eq!(track.len(), 3);
    }

    #[test]
    fn only_its_author_overrules_a_copy_under_its_id() {
        let mut track = Track::new(VideoKey(1));
        let forged = reaction(7, 3, 100);
        let real = Reaction {
            kind: ReactionKind::Love,
            ..reaction(7, 3, 9_000)
        };
        assert_eq!(track.add(forged, false), Added::New);
        assert_eq!(track.add(real, false), Added::Duplicate);
        assert_eq!(track.reactions(), &[forged]);
        assert_eq!(track.add(real, true), Added::Replaced);
        assert_eq!(track.reactions(), &[real]);
    }

    #[test]
    fn a_full_track_drops_the_oldest_to_arrive() {
        let mut track = Track::new(VideoKey(1));
        // Arriving in reverse media time order: the oldest to arrive is the latest in the film.
        for n in 0..MAX_TRACK as u32 + 10 {
            track.add(reaction(1, n, 1_000_000 - i64::from(n)), false);
        }
        assert_eq!(track.len(), MAX_TRACK);
        assert!(!track.contains(ReactionId { session: 1, seq: 9 }));
        assert!(track.contains(ReactionId {
            session: 1,
            seq: 10
        }));
        assert!(track.contains(ReactionId {
            session: 1,
            seq: MAX_TRACK as u32 + 9
        }));
    }

    #[test]
    fn between_is_half_open_and_in_film_order() {
        let mut track = Track::new(VideoKey(1));
        for (seq, at) in [(0, 300), (1, 100), (2, 200), (3, 200), (4, 400)] {
            track.add(reaction(1, seq, at), false);
        }
        let seqs = |after, up_to| {
            track
                .between(ms(after), ms(up_to))
                .iter()
                .map(|r| r.id.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(100, 300), vec![2, 3, 0]);
        assert_eq!(seqs(0, 100), vec![1]);
        assert_eq!(seqs(400, 900), Vec::<u32>::new());
        assert_eq!(seqs(200, 200), Vec::<u32>::new());
    }
}
