//! The ready check: before a film starts (a video loaded by hand, or someone asking), everyone
//! says "Ready"; the film starts for everyone the moment all present people are, when someone
//! presses "Start anyway", or when the countdown ends. Pure: the party sends the notes this
//! returns and issues the start as an ordinary `Play` intent on the playback register.
//!
//! The check is replicated like the queue, by a join: a check is named by its id (a hybrid
//! logical clock stamp, so a newer check supersedes an older one everywhere), and within one
//! check the ready marks, "started" and "start anyway" only ever grow. Every page tells the
//! others what it knows as a [`ReadyNote`] (when it opens or adopts a check, when it is ready,
//! to each newcomer); merging notes in any order, with repeats and losses healed by a later
//! note, ends on the same check everywhere.
//!
//! A mark counts only from the person it is about (`from`, which the mesh authenticates), so
//! nobody can say another is ready. Whether the check is still waiting is read from the
//! playback register: it waits while the room's state is paused on the check's video; a
//! playing state newer than the check means the film started, however (the last Ready, Start
//! anyway, the countdown, or someone's Play button), and the check is over for good.
//!
//! Several pages may decide to start at once (each saw the last mark, or the countdown end).
//! Each then issues a `Play`; the register is last-writer-wins, so every page ends on the one
//! state with the largest stamp, one start instant (`tests::concurrent_starts_converge`). To
//! make that rare, at the deadline only the check's opener starts at once; the others wait
//! [`GRACE`] more, in case it left. A person who leaves stops counting (the caller passes who
//! is present); one who stalls for good is waited for until the countdown ends.

use crate::sync::state::{Hlc, Stamp, MAX_COUNTER};
use crate::sync::{PeerId, RoomTime, Span};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// How long a check waits before the film starts anyway: long enough to fetch the first
/// seconds of a video on a slow link and to find the button, short enough that nobody
/// wonders whether the room is stuck.
pub const WAIT: Span = Span::from_millis(30_000);
/// How much longer than the opener the others wait at the deadline before starting
/// themselves: the opener's start normally reaches them first, so only one start is issued.
pub const GRACE: Span = Span::from_millis(2_000);
/// Checks stamped further than this ahead of room time are refused (the engine's bound): a
/// far-future id would supersede every later check.
pub const MAX_FUTURE: Span = Span::from_millis(60_000);

/// Most bytes a note may take on the wire (postcard; an honest one takes about 30).
pub const MAX_NOTE_BYTES: usize = 64;

/// What a page says about the check it knows; the one message of the ready check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyNote {
    /// The check: opened by `id.peer` at room time `id.wall`.
    pub id: Stamp,
    /// The video it is for ([`media_tag`] of the register's media id).
    pub media: u64,
    /// When the film starts anyway, in room time.
    pub deadline: RoomTime,
    /// The sender is ready.
    pub ready: bool,
    /// The sender saw the film start: the check is over.
    pub started: bool,
    /// Someone pressed "Start anyway".
    pub anyway: bool,
}

impl ReadyNote {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("a note always serializes")
    }

    /// A note from a peer, if it decodes and its values are possible.
    pub fn decode(bytes: &[u8]) -> Option<ReadyNote> {
        let note: ReadyNote = postcard::from_bytes(bytes).ok()?;
        note.is_valid().then_some(note)
    }

    /// Whether the values are possible at all (before anything reads them).
    pub fn is_valid(&self) -> bool {
        self.id.wall.is_sane()
            && self.deadline.is_sane()
            && self.id.counter <= MAX_COUNTER
            && self.deadline <= self.id.wall + WAIT
    }
}

/// A short tag of a media id, so that a note stays a few dozen bytes whatever the link's
/// length (FNV-1a: the same on every page and platform; a collision only confuses two
/// checks of which the newer wins anyway).
pub fn media_tag(media: &str) -> u64 {
    media.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Why the film starts now, by this page's decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Go {
    AllReady,
    Anyway,
    TimeUp,
}

/// How a person stands in the check, for the people list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Not ready, and their player cannot play the video yet.
    Loading,
    NotYet,
}

impl Readiness {
    pub fn of(marked: bool, can_play: bool) -> Readiness {
        match (marked, can_play) {
            (true, _) => Readiness::Ready,
            (false, false) => Readiness::Loading,
            (false, true) => Readiness::NotYet,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Loading => "loading",
            Readiness::NotYet => "not yet",
        }
    }
}

/// The room as the check needs it, read by the caller when it asks.
#[derive(Clone, Copy, Debug)]
pub struct Room<'a> {
    /// Room time now.
    pub now: RoomTime,
    /// The playback register: its media, whether it plays, and its state's stamp.
    pub media: Option<&'a str>,
    pub playing: bool,
    pub version: Option<Stamp>,
    /// The others who count: connected, and able to play the video.
    pub present: &'a [PeerId],
}

/// One check, as this page knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Check {
    id: Stamp,
    media: u64,
    deadline: RoomTime,
    ready: BTreeSet<PeerId>,
    started: bool,
    anyway: bool,
}

impl Check {
    /// A check just opened (here, or heard of): nobody ready yet, not started.
    fn new(id: Stamp, media: u64, deadline: RoomTime) -> Check {
        Check {
            id,
            media,
            deadline,
            ready: BTreeSet::new(),
            started: false,
            anyway: false,
        }
    }
}

/// How a note merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merged {
    /// A newer check: pass it on ([`ReadyCheck::note`]), so that it reaches those the opener
    /// cannot reach.
    Adopted,
    /// The check we know, perhaps with a new mark or flag.
    Known,
    /// An older check, or one refused (counted).
    Ignored,
}

/// This page's view of the room's ready check.
#[derive(Clone, Debug)]
pub struct ReadyCheck {
    me: PeerId,
    hlc: Hlc,
    check: Option<Check>,
    /// The check this page issued a start for (at most one start per check and page).
    issued: Option<Stamp>,
    refused: u64,
}

impl ReadyCheck {
    pub fn new(me: PeerId) -> Self {
        ReadyCheck {
            me,
            hlc: Hlc::default(),
            check: None,
            issued: None,
            refused: 0,
        }
    }

    /// Notes refused: stamped in the far future, or opened by someone who may not.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Opens a check for `media` at room time `now`, superseding any other; `None` if this
    /// person may not (host mode).
    pub fn open(&mut self, now: RoomTime, media: &str, may_control: bool) -> Option<ReadyNote> {
        if !may_control {
            return None;
        }
        let id = self.hlc.stamp(now, self.me);
        self.check = Some(Check::new(id, media_tag(media), now.max(id.wall) + WAIT));
        self.note()
    }

    /// This person is ready.
    pub fn mark_ready(&mut self) -> Option<ReadyNote> {
        let check = self.check.as_mut().filter(|c| !c.started)?;
        check.ready.insert(self.me);
        self.note()
    }

    /// "Start anyway"; `None` if this person may not, or there is no check.
    pub fn start_anyway(&mut self, may_control: bool) -> Option<ReadyNote> {
        let check = self.check.as_mut().filter(|c| !c.started && may_control)?;
        check.anyway = true;
        self.note()
    }

    /// What this page says about the check it knows (to a newcomer, or passing one on).
    pub fn note(&self) -> Option<ReadyNote> {
        self.check.as_ref().map(|c| ReadyNote {
            id: c.id,
            media: c.media,
            deadline: c.deadline,
            ready: c.ready.contains(&self.me),
            started: c.started,
            anyway: c.anyway,
        })
    }

    /// Merges `from`'s note. `now` is room time if this page knows it (to refuse the far
    /// future); `may_control` says who may open a check or start anyway.
    pub fn merge(
        &mut self,
        from: PeerId,
        note: ReadyNote,
        now: Option<RoomTime>,
        may_control: &dyn Fn(PeerId) -> bool,
    ) -> Merged {
        let far = now.is_some_and(|now| note.id.wall > now + MAX_FUTURE);
        if far || !note.is_valid() || !may_control(note.id.peer) {
            self.refused += 1;
            return Merged::Ignored;
        }
        self.hlc.observe(&note.id);
        let merged = match &mut self.check {
            Some(c) if c.id > note.id => return Merged::Ignored,
            Some(c) if c.id == note.id => {
                // Only a forger sends one id with two contents: the larger wins everywhere.
                if (note.media, note.deadline) > (c.media, c.deadline) {
                    (c.media, c.deadline) = (note.media, note.deadline);
                }
                Merged::Known
            }
            _ => {
                self.check = Some(Check::new(note.id, note.media, note.deadline));
                Merged::Adopted
            }
        };
        let c = self.check.as_mut().expect("set above");
        c.started |= note.started;
        c.anyway |= note.anyway && may_control(from);
        if note.ready {
            c.ready.insert(from);
        }
        merged
    }

    /// The check, if it is waiting now: for the room's video, which is paused, and not over.
    /// A playing state newer than the check ends it for good.
    fn waiting(&mut self, room: &Room) -> Option<&Check> {
        let c = self.check.as_mut()?;
        let same_media = room.media.map(media_tag) == Some(c.media);
        if same_media && room.playing && room.version.is_some_and(|v| v > c.id) {
            c.started = true;
        }
        let c = self.check.as_ref()?;
        (same_media && !room.playing && !c.started).then_some(c)
    }

    /// Whether this page starts the film now, and why; at most once per check.
    pub fn poll(&mut self, room: &Room) -> Option<Go> {
        let (me, issued) = (self.me, self.issued);
        let c = self.waiting(room).filter(|c| issued != Some(c.id))?;
        let all_ready = room
            .present
            .iter()
            .chain([&me])
            .all(|p| c.ready.contains(p));
        let opener_gone = c.id.peer != me && !room.present.contains(&c.id.peer);
        let due = if c.id.peer == me || opener_gone {
            c.deadline
        } else {
            c.deadline + GRACE
        };
        let go = if c.anyway {
            Go::Anyway
        } else if all_ready {
            Go::AllReady
        } else if room.now >= due {
            Go::TimeUp
        } else {
            return None;
        };
        let id = c.id;
        self.issued = Some(id);
        Some(go)
    }

    /// The check as the prompt shows it, while it waits.
    pub fn view(&mut self, room: &Room) -> Option<Waiting> {
        let me = self.me;
        let c = self.waiting(room)?;
        let left = (c.deadline - room.now).as_micros().max(0);
        Some(Waiting {
            seconds_left: u32::try_from((left + 999_999) / 1_000_000).unwrap_or(u32::MAX),
            me_ready: c.ready.contains(&me),
            ready: c.ready.iter().copied().collect(),
        })
    }
}

/// A waiting check, for the interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Until the film starts anyway (rounded up).
    pub seconds_left: u32,
    pub me_ready: bool,
    /// Who is ready (anyone who marked, present or not).
    pub ready: Vec<PeerId>,
}

#[cfg(test)]
mod tests;
