//! A page's reactions: the ones it sends (anchored to the frame the person sees, held to the
//! same rate the others hold it to), the ones peers send (checked, deduplicated, shown at
//! once if the playhead has just passed them), the current video's track for a newcomer, and
//! on every frame the ones the playhead crosses.

use super::playhead::{Playhead, Step};
use super::reaction::{video_key, Reaction, ReactionId, ReactionKind, VideoKey};
use super::track::{Added, Track};
use crate::room::limits::{Kind, TokenBucket};
use crate::signaling::payload::SessionId;
use crate::sync::{LocalTime, MediaTime, Span};

/// A reaction that arrives up to this far behind the playhead is shown at once: it was sent
/// a moment ago at a frame this page has just shown (the link's latency, or a viewer a little
/// ahead of the sender). Older ones (a newcomer's track) wait for the playhead to come back.
pub const LIVE_LATE: Span = Span::from_millis(2_000);
/// A reaction up to this far *ahead* of the playhead is shown at once too, and then not again
/// when the playhead crosses it: a sender paused a frame or two further on than this page
/// (two frames at 30 fps). Further ahead, it waits for the playhead, which is exact.
pub const LIVE_AHEAD: Span = Span::from_millis(67);
/// Tracks kept: the current video's, and those of videos whose reactions arrived before this
/// page learned the room had moved to them (at most a couple).
const MAX_TRACKS: usize = 3;
/// Reactions shown ahead of the playhead and not yet crossed; more than a burst's worth
/// means they came from several people at once, and forgetting one shows it twice at worst.
const MAX_EARLY: usize = 64;

/// What peers sent that was refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReactionStats {
    /// Media time out of range, or a live reaction under someone else's id.
    pub refused: u64,
    /// Copies of reactions already known (normal: a newcomer's tracks overlap).
    pub duplicates: u64,
}

/// Why a reaction of ours was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSent {
    /// The room has no video to react to.
    NoVideo,
    /// Faster than the others accept (the same rate their limits hold us to).
    TooFast,
}

pub struct Reactions {
    me: SessionId,
    next_seq: u32,
    own_rate: TokenBucket,
    current: Option<VideoKey>,
    tracks: Vec<Track>,
    playhead: Playhead,
    /// Shown ahead of the playhead on arrival in this pass; skipped once when crossed.
    early: Vec<ReactionId>,
    stats: ReactionStats,
}

impl Reactions {
    pub fn new(me: SessionId) -> Reactions {
        Reactions {
            me,
            next_seq: 0,
            own_rate: TokenBucket::default(),
            current: None,
            tracks: Vec::new(),
            playhead: Playhead::default(),
            early: Vec::new(),
            stats: ReactionStats::default(),
        }
    }

    pub fn stats(&self) -> ReactionStats {
        self.stats
    }

    pub fn video(&self) -> Option<VideoKey> {
        self.current
    }

    /// The room's video is now `media`. Another video starts an empty track (keeping only
    /// reactions to it that came before this page followed the room there) and a new pass.
    pub fn set_video(&mut self, media: Option<&str>) {
        let key = media.map(video_key);
        if key == self.current {
            return;
        }
        self.current = key;
        self.playhead.reset();
        self.early.clear();
        self.tracks.retain(|t| Some(t.video()) == key);
    }

    /// The current video's track, if it has one.
    pub fn track(&self) -> Option<&Track> {
        let current = self.current?;
        self.tracks.iter().find(|t| t.video() == current)
    }

    fn track_mut(&mut self, video: VideoKey) -> &mut Track {
        let index = match self.tracks.iter().position(|t| t.video() == video) {
            Some(index) => index,
            None => {
                if self.tracks.len() >= MAX_TRACKS {
                    // The oldest track of a video the room is not on.
                    let stale = self
                        .tracks
                        .iter()
                        .position(|t| Some(t.video()) != self.current);
                    self.tracks.remove(stale.unwrap_or(0));
                }
                self.tracks.push(Track::new(video));
                self.tracks.len() - 1
            }
        };
        &mut self.tracks[index]
    }

    /// The person sent `kind` at `now`, seeing the frame of media time `at` (the latest
    /// frame, [`Reactions::frame`], unless they pressed before this code ran): the reaction
    /// and the video it belongs to, to show here at once and send to everyone.
    pub fn react(
        &mut self,
        now: LocalTime,
        kind: ReactionKind,
        at: MediaTime,
    ) -> Result<(VideoKey, Reaction), NotSent> {
        let Some(video) = self.current else {
            return Err(NotSent::NoVideo);
        };
        if !self.own_rate.take(Kind::Reaction.rate(), now) {
            return Err(NotSent::TooFast);
        }
        let reaction = Reaction {
            id: ReactionId {
                session: self.me,
                seq: self.next_seq,
            },
            kind,
            at,
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        self.track_mut(video).add(reaction, true);
        Ok((video, reaction))
    }

    /// A reaction `from` sent live: kept, and returned if it is to show now (see
    /// [`LIVE_LATE`], [`LIVE_AHEAD`]); later ones show when the playhead crosses them.
    pub fn receive(
        &mut self,
        from: SessionId,
        video: VideoKey,
        reaction: Reaction,
    ) -> Option<Reaction> {
        if reaction.id.session != from || !reaction.is_sane() {
            self.stats.refused += 1;
            return None;
        }
        if self.track_mut(video).add(reaction, true) == Added::Duplicate {
            self.stats.duplicates += 1;
            return None;
        }
        let mark = self
            .playhead
            .mark()
            .filter(|_| Some(video) == self.current)?;
        if reaction.at <= mark {
            return (mark - reaction.at <= LIVE_LATE).then_some(reaction);
        }
        if reaction.at - mark > LIVE_AHEAD {
            return None;
        }
        if self.early.len() >= MAX_EARLY {
            self.early.remove(0);
        }
        self.early.push(reaction.id);
        Some(reaction)
    }

    /// A track `from` sent this page on joining: kept, to show when the playhead crosses it.
    /// The sender's own reactions in it are as good as sent live.
    pub fn receive_track(&mut self, from: SessionId, video: VideoKey, reactions: &[Reaction]) {
        for &reaction in reactions {
            if !reaction.is_sane() {
                self.stats.refused += 1;
                continue;
            }
            let authoritative = reaction.id.session == from;
            if self.track_mut(video).add(reaction, authoritative) == Added::Duplicate {
                self.stats.duplicates += 1;
            }
        }
    }

    /// What to send a newcomer: the current video's track, unless it is empty.
    pub fn snapshot(&self) -> Option<(VideoKey, Vec<Reaction>)> {
        let track = self.track().filter(|t| !t.is_empty())?;
        Some((track.video(), track.reactions().to_vec()))
    }

    /// The player presented a frame at `at`: the reactions the playhead crossed, in film order.
    pub fn on_frame(&mut self, at: MediaTime) -> Vec<Reaction> {
        let step = self.playhead.advance(at);
        if let Step::Jumped { .. } = step {
            self.early.clear();
        }
        let (Some((after, up_to)), Some(track)) = (step.window(), self.track()) else {
            return Vec::new();
        };
        let mut due = track.between(after, up_to);
        let early = &mut self.early;
        due.retain(|r| match early.iter().position(|id| *id == r.id) {
            Some(i) => {
                early.remove(i);
                false
            }
            None => true,
        });
        due
    }

    /// The media time of the frame the person sees, once there is one.
    pub fn frame(&self) -> Option<MediaTime> {
        self.playhead.frame()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reactions::MAX_TRACK;

    const VIDEO: &str = "https://videos.example/film.mp4";

    fn ms(ms: i64) -> MediaTime {
        MediaTime::from_micros(ms * 1000)
    }

    fn now(ms: i64) -> LocalTime {
        LocalTime::from_micros(1_000_000_000 + ms * 1000)
    }

    fn page(me: SessionId) -> Reactions {
        let mut page = Reactions::new(me);
        page.set_video(Some(VIDEO));
        page
    }

    /// Plays `page` from `from` to `to` ms in 60 fps frames; the media times (ms) shown.
    fn play(page: &mut Reactions, from: i64, to: i64) -> Vec<i64> {
        let mut shown = Vec::new();
        let mut frame = 0;
        loop {
            let at = (from * 1000 + frame * 16_667).min(to * 1000);
            shown.extend(
                page.on_frame(MediaTime::from_micros(at))
                    .iter()
                    .map(|r| r.at.as_micros() / 1000),
            );
            if at == to * 1000 {
                return shown;
            }
            frame += 1;
        }
    }

    /// `page` reacts at `at_ms` (local time) to the frame it shows.
    fn react(
        page: &mut Reactions,
        at_ms: i64,
        kind: ReactionKind,
    ) -> Result<(VideoKey, Reaction), NotSent> {
        let frame = page.frame().expect("a frame to react to");
        page.react(now(at_ms), kind, frame)
    }

    #[test]
    fn a_reaction_is_anchored_to_the_frame_the_sender_sees() {
        let mut alice = page(1);
        assert_eq!(
            Reactions::new(1).react(now(0), ReactionKind::Wow, ms(0)),
            Err(NotSent::NoVideo)
        );
        play(&mut alice, 0, 12_030);
        let (video, sent) = react(&mut alice, 0, ReactionKind::Wow).unwrap();
        assert_eq!(video, video_key(VIDEO));
        assert_eq!(sent.at, ms(12_030));
        assert_eq!(sent.id, ReactionId { session: 1, seq: 0 });
        // The sender sees it at once; playing on does not show it again, a rewind does.
        assert_eq!(play(&mut alice, 12_030, 15_000), Vec::<i64>::new());
        assert_eq!(play(&mut alice, 10_000, 15_000), vec![12_030]);
    }

    #[test]
    fn the_others_see_it_live_then_again_after_a_rewind() {
        let (mut alice, mut bob, mut carol) = (page(1), page(2), page(3));
        play(&mut alice, 0, 12_000);
        play(&mut bob, 0, 12_010); // a little ahead: the message comes after Bob's frame
        play(&mut carol, 0, 11_500); // behind: Carol's playhead crosses it
        let (video, sent) = react(&mut alice, 0, ReactionKind::Clap).unwrap();
        assert_eq!(bob.receive(1, video, sent), Some(sent));
        assert_eq!(carol.receive(1, video, sent), None);
        assert_eq!(play(&mut carol, 11_500, 13_000), vec![12_000]);
        assert_eq!(play(&mut bob, 12_010, 13_000), Vec::<i64>::new());
        for viewer in [&mut alice, &mut bob, &mut carol] {
            assert_eq!(play(viewer, 5_000, 20_000), vec![12_000]);
        }
    }

    #[test]
    fn a_reaction_a_little_ahead_shows_at_once_and_not_again() {
        let (mut alice, mut bob) = (page(1), page(2));
        play(&mut alice, 0, 8_050);
        play(&mut bob, 0, 8_000); // paused a few frames behind
        let (video, sent) = react(&mut alice, 0, ReactionKind::Love).unwrap();
        assert_eq!(bob.receive(1, video, sent), Some(sent));
        assert_eq!(play(&mut bob, 8_000, 9_000), Vec::<i64>::new());
        assert_eq!(play(&mut bob, 0, 9_000), vec![8_050]);
        // Far ahead (Bob far behind): it waits for his playhead.
        play(&mut alice, 8_100, 30_000);
        let (video, later) = react(&mut alice, 10_000, ReactionKind::Love).unwrap();
        assert_eq!(bob.receive(1, video, later), None);
        assert_eq!(play(&mut bob, 9_000, 31_000), vec![30_000]);
    }

    #[test]
    fn copies_forgeries_and_impossible_times_are_dropped_and_counted() {
        let (mut alice, mut bob) = (page(1), page(2));
        play(&mut alice, 0, 1_000);
        play(&mut bob, 0, 1_000);
        let (video, sent) = react(&mut alice, 0, ReactionKind::Sad).unwrap();
        assert_eq!(bob.receive(1, video, sent), Some(sent));
        assert_eq!(bob.receive(1, video, sent), None, "a copy shows once");
        assert_eq!(bob.stats().duplicates, 1);
        // Carol (3) claims Alice's next reaction; a reaction at an impossible time.
        let forged = Reaction {
            id: ReactionId { session: 1, seq: 1 },
            ..sent
        };
        assert_eq!(bob.receive(3, video, forged), None);
        let mut wild = Reaction {
            id: ReactionId { session: 3, seq: 0 },
            ..sent
        };
        wild.at = MediaTime::from_micros(-5);
        assert_eq!(bob.receive(3, video, wild), None);
        bob.receive_track(3, video, &[wild]);
        assert_eq!(bob.stats().refused, 3);
        assert_eq!(bob.track().unwrap().len(), 1);
        // Alice's real next reaction still arrives, although Carol put a copy in a track first.
        bob.receive_track(
            3,
            video,
            &[Reaction {
                kind: ReactionKind::Fire,
                ..forged
            }],
        );
        let (_, real) = react(&mut alice, 0, ReactionKind::Laugh).unwrap();
        assert_eq!(real.id, forged.id);
        assert_eq!(bob.receive(1, video, real), Some(real));
        assert!(bob.track().unwrap().reactions().contains(&real));
    }

    #[test]
    fn the_sender_is_held_to_the_rate_the_others_accept() {
        let mut alice = page(1);
        play(&mut alice, 0, 1_000);
        let burst = Kind::Reaction.rate().burst as usize;
        let sent = (0..50)
            .filter(|_| react(&mut alice, 0, ReactionKind::Fire).is_ok())
            .count();
        assert_eq!(sent, burst);
        assert_eq!(
            react(&mut alice, 0, ReactionKind::Fire),
            Err(NotSent::TooFast)
        );
        assert!(react(&mut alice, 1_000, ReactionKind::Fire).is_ok());
    }

    #[test]
    fn a_newcomer_gets_the_track_and_sees_it_when_the_playhead_comes() {
        let mut alice = page(1);
        for at in [1_000, 2_000, 3_000] {
            play(&mut alice, at - 500, at);
            react(&mut alice, at, ReactionKind::Wow).unwrap();
        }
        let (video, track) = alice.snapshot().unwrap();
        // Dave learns the track before he learns which video the room is on.
        let mut dave = Reactions::new(4);
        dave.receive_track(1, video, &track);
        dave.set_video(Some(VIDEO));
        assert_eq!(dave.track().unwrap().len(), 3);
        dave.on_frame(ms(2_500)); // joined at 2.5 s: nothing shows for what is past
        assert_eq!(play(&mut dave, 2_500, 4_000), vec![3_000]);
        // Alice's own copies are not counted twice when her track comes again.
        dave.receive_track(1, video, &track);
        assert_eq!(dave.track().unwrap().len(), 3);
        assert_eq!(Reactions::new(5).snapshot(), None);
    }

    #[test]
    fn a_new_video_starts_an_empty_track() {
        let mut alice = page(1);
        play(&mut alice, 0, 1_000);
        react(&mut alice, 0, ReactionKind::Wow).unwrap();
        alice.set_video(Some("https://videos.example/next.mp4"));
        assert_eq!(alice.track(), None);
        assert_eq!(alice.snapshot(), None);
        assert_eq!(play(&mut alice, 0, 2_000), Vec::<i64>::new());
        // A reaction to the old video arriving late is not shown, and is forgotten.
        let mut bob = page(2);
        bob.set_video(Some("https://videos.example/next.mp4"));
        let (_, late) = page_with_reaction(1, 500);
        assert_eq!(bob.receive(1, video_key(VIDEO), late), None);
        bob.set_video(Some("https://videos.example/third.mp4"));
        assert_eq!(bob.tracks.len(), 0);
    }

    fn page_with_reaction(me: SessionId, at: i64) -> (Reactions, Reaction) {
        let mut page = page(me);
        page.on_frame(ms(at));
        let (_, reaction) = react(&mut page, 0, ReactionKind::Clap).unwrap();
        (page, reaction)
    }

    #[test]
    fn tracks_stay_bounded_whatever_peers_send() {
        let mut bob = page(2);
        for video in 0..20u64 {
            let reactions: Vec<Reaction> = (0..MAX_TRACK as u32 + 50)
                .map(|seq| Reaction {
                    id: ReactionId { session: 9, seq },
                    kind: ReactionKind::Fire,
                    at: ms(i64::from(seq)),
                })
                .collect();
            bob.receive_track(9, VideoKey(video), &reactions);
        }
        assert!(bob.tracks.len() <= MAX_TRACKS);
        assert!(bob.tracks.iter().all(|t| t.len() <= MAX_TRACK));
        // The current video's track survives a flood of others.
        let (_, mine) = page_with_reaction(2, 100);
        bob.receive(2, video_key(VIDEO), mine);
        for video in 100..110u64 {
            bob.receive_track(9, VideoKey(video), &[mine]);
        }
        assert!(bob.track().is_some_and(|t| t.contains(mine.id)));
    }
}
