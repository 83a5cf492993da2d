//! What is playing, and what starts when it ends.
//!
//! Each page keeps the entry the room's video came from: the one it started itself ("Play
//! now", or an advance it made), else the first entry with the playback register's media
//! URL. It keeps the entry as it was started, so what comes next is right even if that entry
//! was moved or removed meanwhile (see [`Queue::next_after`]).
//!
//! When the video ends, one page decides what comes next, the sync reference, so that an end
//! makes one load, not one per page; the others follow its `Load` through the register. The
//! page moves on at most once per playback state: its own load makes a new state.

use super::{Entry, EntryId, Queue};
use crate::sync::state::Stamp;

/// The entry playing, as this page knows it, and the state it last moved on from.
#[derive(Clone, Debug, Default)]
pub struct NowPlaying {
    started: Option<Entry>,
    advanced_from: Option<Stamp>,
}

/// What a page knows when it checks whether to start the next video.
#[derive(Clone, Copy, Debug)]
pub struct AtEnd<'a> {
    /// The register's media and the stamp of its state.
    pub media: Option<&'a str>,
    pub version: Stamp,
    /// The room's state says the video plays (a pause at the last frame is not an end).
    pub playing: bool,
    /// This page's player reached the end of the media.
    pub ended: bool,
    /// This page is the sync reference.
    pub reference: bool,
}

impl NowPlaying {
    /// The entry playing, if the room's video came from the queue.
    pub fn entry(&self) -> Option<EntryId> {
        self.started.as_ref().map(|e| e.id)
    }

    /// This page starts `entry` ("Play now").
    pub fn start(&mut self, entry: Entry) {
        self.started = Some(entry);
    }

    /// The room's media is `media` (its state or the queue changed): keeps the entry started
    /// if it is that video, else takes the first entry that is. Returns whether the entry
    /// playing changed.
    pub fn follow(&mut self, queue: &Queue, media: Option<&str>) -> bool {
        let before = self.entry();
        let kept = media.is_some_and(|m| self.started.as_ref().is_some_and(|e| e.item.url == m));
        if !kept {
            self.started = media.and_then(|m| queue.find_url(m)).cloned();
        }
        self.entry() != before
    }

    /// The entry this page is to load now, if the video ended and it is the one to decide:
    /// the next in the play order after the entry playing, or the first if the video was not
    /// from the queue; nothing past the last unless repeat is on.
    pub fn on_end(&mut self, queue: &Queue, at: AtEnd) -> Option<Entry> {
        let media = at.media?;
        if !(at.ended && at.playing && at.reference) || self.advanced_from == Some(at.version) {
            return None;
        }
        self.follow(queue, Some(media));
        let next = match &self.started {
            Some(current) => queue.next_after(current),
            None => queue.first(),
        }
        .cloned()?;
        self.advanced_from = Some(at.version);
        self.started = Some(next.clone());
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::programme::Item;
    use crate::sync::{PeerId, RoomTime};

    fn at(s: i64) -> RoomTime {
        RoomTime::from_micros(1_000_000_000 + s * 1_000_000)
    }

    fn queue_of(urls: &[&str]) -> Queue {
        let mut q = Queue::new(PeerId(1));
        for (i, url) in urls.iter().enumerate() {
            let item = Item {
                url: format!("https://v.example/{url}"),
                title: String::new(),
                duration: None,
                added_by: "Ada".into(),
            };
            q.add(at(i as i64), item).unwrap();
        }
        q
    }

    fn url(e: &Entry) -> &str {
        e.item.url.trim_start_matches("https://v.example/")
    }

    fn stamp(n: u32) -> Stamp {
        Stamp {
            wall: at(100),
            counter: n,
            peer: PeerId(9),
        }
    }

    /// The reference's player ended `media` while the room plays, state `n`.
    fn ended(media: &str, n: u32) -> AtEnd<'_> {
        AtEnd {
            media: Some(media),
            version: stamp(n),
            playing: true,
            ended: true,
            reference: true,
        }
    }

    #[test]
    fn the_reference_starts_the_next_once_per_state() {
        let q = queue_of(&["a", "b", "c"]);
        let mut p = NowPlaying::default();
        let a = q.entries()[0].clone();
        p.start(a.clone());
        let media = a.item.url.as_str();
        let next = p.on_end(&q, ended(media, 1)).map(|e| url(&e).to_owned());
        assert_eq!(next.as_deref(), Some("b"));
        assert_eq!(p.entry(), Some(q.entries()[1].id));
        // The same end seen again (a re-render, the reference changing) loads nothing more.
        assert!(p.on_end(&q, ended(media, 1)).is_none());
        let b = q.entries()[1].item.url.clone();
        assert_eq!(
            p.on_end(&q, ended(&b, 2)).map(|e| e.id),
            Some(q.entries()[2].id)
        );
    }

    #[test]
    fn only_the_reference_decides_and_only_at_a_playing_end() {
        let q = queue_of(&["a", "b"]);
        let media = q.entries()[0].item.url.clone();
        for at in [
            AtEnd {
                reference: false,
                ..ended(&media, 1)
            },
            AtEnd {
                ended: false,
                ..ended(&media, 1)
            },
            AtEnd {
                playing: false,
                ..ended(&media, 1)
            },
            AtEnd {
                media: None,
                ..ended(&media, 1)
            },
        ] {
            assert!(NowPlaying::default().on_end(&q, at).is_none(), "{at:?}");
        }
    }

    #[test]
    fn a_video_started_elsewhere_is_found_by_its_url() {
        let q = queue_of(&["a", "b", "c"]);
        let mut p = NowPlaying::default();
        let b = q.entries()[1].item.url.clone();
        assert!(p.follow(&q, Some(&b)));
        assert_eq!(p.entry(), Some(q.entries()[1].id));
        assert!(!p.follow(&q, Some(&b)));
        let next = p.on_end(&q, ended(&b, 1)).unwrap();
        assert_eq!(url(&next), "c");
        // A video not from the queue: at its end the queue starts from the top.
        let mut p = NowPlaying::default();
        assert!(!p.follow(&q, Some("https://elsewhere.example/x.mp4")));
        let next = p.on_end(&q, ended("https://elsewhere.example/x.mp4", 1));
        assert_eq!(next.map(|e| url(&e).to_owned()).as_deref(), Some("a"));
        assert!(p.follow(&q, None));
        assert_eq!(p.entry(), None);
    }

    #[test]
    fn the_entry_playing_may_move_or_go_and_the_end_of_the_list_waits_for_repeat() {
        let mut q = queue_of(&["a", "b", "c", "d"]);
        let mut p = NowPlaying::default();
        let b = q.entries()[1].clone();
        p.start(b.clone());
        // b is removed while it plays: what follows is what followed its place.
        q.remove(b.id).unwrap();
        assert_eq!(
            p.on_end(&q, ended(&b.item.url, 1))
                .map(|e| url(&e).to_owned())
                .as_deref(),
            Some("c")
        );
        // d, moved to the top while c plays, comes after... nothing: c is now last.
        let d = q.entries()[2].id;
        q.move_before(at(50), d, q.entries()[0].id).unwrap();
        let c = q.entries()[2].item.url.clone();
        assert!(p.on_end(&q, ended(&c, 2)).is_none());
        q.set_repeat(at(60), true).unwrap();
        assert_eq!(
            p.on_end(&q, ended(&c, 2))
                .map(|e| url(&e).to_owned())
                .as_deref(),
            Some("d")
        );
    }
}
