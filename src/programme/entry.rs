//! One entry of the queue as it travels: who added it under which id, what it plays, and where
//! it sits; plus the checks every entry from a peer passes before it is merged.

use super::key::Key;
use crate::room::wire::normalize_name;
use crate::sync::state::{Stamp, MAX_MEDIA_ID_LEN};
use crate::sync::{PeerId, Span};
use serde::{Deserialize, Serialize};

/// Longest URL accepted, in bytes: the URL becomes the playback register's media id when the
/// entry plays, so it has the register's bound.
pub const MAX_URL_BYTES: usize = MAX_MEDIA_ID_LEN;
/// Longest title, in characters: a long film title with its year and episode fits.
pub const MAX_TITLE_CHARS: usize = 200;

/// An entry's identity: its adder's session and the adder's count of entries added so far.
/// Unique because session ids are random per page load and each session counts up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryId {
    pub peer: PeerId,
    pub seq: u32,
}

/// What an entry plays. Set by its adder and never changed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Item {
    pub url: String,
    /// Empty when the adder gave none.
    pub title: String,
    /// The video's length, when the adder's page knew it.
    pub duration: Option<Span>,
    /// The adder's display name when they added it (their session is the entry id's peer).
    pub added_by: String,
}

impl Item {
    /// Bounded and well formed: a URL of at most [`MAX_URL_BYTES`] with a scheme and no
    /// blanks or control characters, a title of at most [`MAX_TITLE_CHARS`] without control
    /// characters, a sane non-negative duration, a valid display name. Whether the URL may be
    /// loaded here is the app's `room::media_source::check`, made when it plays.
    pub fn is_valid(&self) -> bool {
        url_has_shape(&self.url)
            && self.title.chars().count() <= MAX_TITLE_CHARS
            && !self.title.chars().any(char::is_control)
            && self.duration.is_none_or(|d| d.is_sane() && d >= Span::ZERO)
            && normalize_name(&self.added_by).as_deref() == Some(self.added_by.as_str())
    }
}

/// `scheme:rest`, the scheme a letter then letters, digits, `+`, `-` or `.`; no space or
/// control byte anywhere (a browser's `URL.href` is always of this shape).
fn url_has_shape(url: &str) -> bool {
    let b = url.as_bytes();
    let scheme_end = b.iter().position(|&c| c == b':');
    b.len() <= MAX_URL_BYTES
        && b.iter().all(|&c| c > b' ' && c != 0x7F)
        && b.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme_end.is_some_and(|end| {
            end + 1 < b.len()
                && b[..end]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        })
}

/// An entry: its item and its place. The place is a last-writer-wins register: the add
/// writes it, every move rewrites it with a newer stamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub item: Item,
    pub key: Key,
    /// When the place was last written.
    pub placed: Stamp,
}

impl Entry {
    /// Joins another copy of the same entry into this one; returns whether it changed. The
    /// place with the larger (stamp, key) wins; two items under one id only come from a
    /// forger, and the larger wins so that even then every peer keeps the same one.
    pub(crate) fn join(&mut self, other: Entry) -> bool {
        let mut changed = false;
        if (other.placed, &other.key) > (self.placed, &self.key) {
            self.placed = other.placed;
            self.key = other.key;
            changed = true;
        }
        if other.item > self.item {
            self.item = other.item;
            changed = true;
        }
        changed
    }

    /// The list order: by key, then by id (equal keys come from concurrent placements).
    pub(crate) fn order(&self) -> (&Key, EntryId) {
        (&self.key, self.id)
    }

    /// An upper bound of its postcard encoding, for splitting a snapshot into messages: the
    /// strings and key, plus varints for the lengths, ids, stamp and duration.
    pub(crate) fn max_encoded_len(&self) -> usize {
        self.item.url.len()
            + self.item.title.len()
            + self.item.added_by.len()
            + self.key.0.len()
            + 64
    }
}

/// A replicated setting: the value with the larger stamp wins (and the larger value, should
/// a forger reuse a stamp).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Lww<T> {
    pub stamp: Stamp,
    pub value: T,
}

/// Joins `other` into `mine`; returns whether it changed.
pub(crate) fn join_lww<T: Ord>(mine: &mut Option<Lww<T>>, other: Lww<T>) -> bool {
    if mine.as_ref().is_some_and(|m| *m >= other) {
        return false;
    }
    *mine = Some(other);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(url: &str) -> Item {
        Item {
            url: url.into(),
            title: String::new(),
            duration: None,
            added_by: "Ada".into(),
        }
    }

    #[test]
    fn urls_need_a_scheme_and_no_blanks() {
        for ok in [
            "https://example.org/a.mp4",
            "http://x/",
            "blob:https://x/1",
            "a+b.c-d:x",
        ] {
            assert!(item(ok).is_valid(), "{ok}");
        }
        let long = "https://x/".to_string() + &"a".repeat(MAX_URL_BYTES);
        for bad in [
            "",
            "example.org/a.mp4",
            "/a.mp4",
            ":x",
            "https:",
            "1http://x",
            "https://x/a b",
            "https://x/\n",
            &long,
        ] {
            assert!(!item(bad).is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn titles_names_and_durations_are_bounded() {
        let ok = item("https://x/");
        let mut t = ok.clone();
        t.title = "é".repeat(MAX_TITLE_CHARS);
        assert!(t.is_valid());
        t.title.push('x');
        assert!(!t.is_valid());
        t.title = "two\nlines".into();
        assert!(!t.is_valid());
        let mut d = ok.clone();
        d.duration = Some(Span::from_secs(-1));
        assert!(!d.is_valid());
        d.duration = Some(Span(i64::MAX));
        assert!(!d.is_valid());
        let mut n = ok;
        n.added_by = " ".into();
        assert!(!n.is_valid());
    }
}
