//! The two reaction messages as they travel inside `PeerMessage::React` and
//! `PeerMessage::ReactionTrack`: postcard bytes, opaque to the room (whose decoder is in the
//! first download) and decoded here, in the reactions' own download. Anything that does not
//! decode or breaks a bound is `None`, for the caller to drop and count.

use super::reaction::{Reaction, VideoKey};
use super::track::MAX_TRACK;
use serde::{Deserialize, Serialize};

/// Largest live reaction: a video key, an id, a kind and a media time, each at its longest.
pub const MAX_LIVE_BYTES: usize = 40;

/// A reaction message from a peer as the room hands it over: still encoded (the reactions'
/// code decodes and checks it).
#[derive(Debug)]
pub enum Incoming {
    Live(Vec<u8>),
    Track(Vec<u8>),
}

/// A reaction just sent, over the video it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveReaction {
    pub video: VideoKey,
    pub reaction: Reaction,
}

/// A page's track of the current video, for a newcomer: 1 to [`MAX_TRACK`] reactions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackMessage {
    pub video: VideoKey,
    pub reactions: Vec<Reaction>,
}

impl LiveReaction {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("reactions always serialize")
    }

    pub fn decode(bytes: &[u8]) -> Option<LiveReaction> {
        if bytes.len() > MAX_LIVE_BYTES {
            return None;
        }
        let live: LiveReaction = postcard::from_bytes(bytes).ok()?;
        live.reaction.is_sane().then_some(live)
    }
}

impl TrackMessage {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("reactions always serialize")
    }

    /// The track, unless it is empty, too long, or holds a reaction at an impossible time.
    pub fn decode(bytes: &[u8]) -> Option<TrackMessage> {
        let track: TrackMessage = postcard::from_bytes(bytes).ok()?;
        let sane = track.reactions.iter().all(Reaction::is_sane);
        let sized = (1..=MAX_TRACK).contains(&track.reactions.len());
        (sane && sized).then_some(track)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::reaction::MAX_MEDIA_TIME;
    use crate::reactions::{ReactionId, ReactionKind};
    use crate::room::wire::{PeerMessage, MAX_MESSAGE_BYTES};
    use crate::sync::MediaTime;

    fn reaction(session: u64, seq: u32, at: i64) -> Reaction {
        Reaction {
            id: ReactionId { session, seq },
            kind: ReactionKind::Fire,
            at: MediaTime::from_micros(at),
        }
    }

    #[test]
    fn the_largest_live_reaction_fits_its_bound_and_round_trips() {
        let live = LiveReaction {
            video: VideoKey(u64::MAX),
            reaction: reaction(u64::MAX, u32::MAX, MAX_MEDIA_TIME.as_micros()),
        };
        let bytes = live.encode();
        assert!(bytes.len() <= MAX_LIVE_BYTES, "{} bytes", bytes.len());
        assert_eq!(LiveReaction::decode(&bytes), Some(live.clone()));
        let message = PeerMessage::React(bytes).encode();
        assert!(message.len() <= 48, "{} bytes on the wire", message.len());
    }

    #[test]
    fn a_full_track_fits_one_room_message() {
        let max_at = MAX_MEDIA_TIME.as_micros();
        let track = TrackMessage {
            video: VideoKey(u64::MAX),
            reactions: (0..MAX_TRACK)
                .map(|n| reaction(u64::MAX - n as u64, u32::MAX - n as u32, max_at))
                .collect(),
        };
        let bytes = track.encode();
        let message = PeerMessage::ReactionTrack(bytes.clone()).encode();
        assert!(
            message.len() <= MAX_MESSAGE_BYTES,
            "{} bytes",
            message.len()
        );
        match PeerMessage::decode(&message) {
            Ok(PeerMessage::ReactionTrack(back)) => {
                assert_eq!(TrackMessage::decode(&back), Some(track))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn impossible_reactions_and_tracks_do_not_decode() {
        let video = VideoKey(1);
        let early = LiveReaction {
            video,
            reaction: reaction(1, 0, -1),
        };
        assert_eq!(LiveReaction::decode(&early.encode()), None);
        let late = LiveReaction {
            video,
            reaction: reaction(1, 0, MAX_MEDIA_TIME.as_micros() + 1),
        };
        assert_eq!(LiveReaction::decode(&late.encode()), None);
        assert_eq!(LiveReaction::decode(&[0; MAX_LIVE_BYTES + 1]), None);
        for reactions in [
            Vec::new(),
            (0..=MAX_TRACK as u32).map(|n| reaction(1, n, 0)).collect(),
            vec![reaction(1, 0, 0), reaction(1, 1, -5)],
        ] {
            let track = TrackMessage { video, reactions };
            assert_eq!(TrackMessage::decode(&track.encode()), None);
        }
        // An unknown kind (a seventh reaction) does not decode.
        let mut bytes = LiveReaction {
            video,
            reaction: reaction(1, 0, 0),
        }
        .encode();
        let kind = bytes.len() - 2; // the kind, then the media time (zero: one byte)
        assert_eq!(bytes[kind], 5);
        bytes[kind] = 6;
        assert_eq!(LiveReaction::decode(&bytes), None);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let live = LiveReaction {
            video: VideoKey(99),
            reaction: reaction(7, 3, 12_000_000),
        }
        .encode();
        let track = TrackMessage {
            video: VideoKey(99),
            reactions: vec![reaction(7, 3, 12_000_000); 3],
        }
        .encode();
        for bytes in [live, track] {
            for end in 0..bytes.len() {
                let _ = (
                    LiveReaction::decode(&bytes[..end]),
                    TrackMessage::decode(&bytes[..end]),
                );
            }
            for i in 0..bytes.len() {
                for flip in [0x01u8, 0x80, 0xff] {
                    let mut mutated = bytes.clone();
                    mutated[i] ^= flip;
                    let _ = (
                        LiveReaction::decode(&mutated),
                        TrackMessage::decode(&mutated),
                    );
                }
            }
        }
    }
}
