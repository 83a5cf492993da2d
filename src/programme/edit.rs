//! This page's edits: add, move, remove, and the two switches. Each takes effect here at once
//! and returns the piece of state to send to everyone (cut by [`Delta::split`]); `now` is
//! this page's room time, which stamps the edit.
//!
//! A move gives the entry a key between its new neighbours' keys. Two cases write more than
//! the moved entry: neighbours with equal keys (two entries placed in one gap at once), where
//! the rest of that tie gets fresh keys too so the entry can go between them; and a key that
//! would pass `MAX_KEY_LEN`, where every entry gets a fresh evenly spaced key (a respace).

use super::delta::Delta;
use super::entry::{Entry, EntryId, Item, Lww};
use super::key::{spread, Key};
use super::order::mix;
use super::queue::{Queue, MAX_ENTRIES};
use super::removed::Range;
use crate::sync::RoomTime;

/// Why an edit was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditError {
    /// The queue holds [`MAX_ENTRIES`] (or the removed ids their cap).
    Full,
    /// The item is malformed or too long (see [`Item::is_valid`]).
    Invalid,
    /// No live entry has that id (it may have been removed meanwhile).
    Unknown,
    /// The edit would not change anything.
    NoChange,
    /// This session has used every entry id (4 billion adds).
    Exhausted,
    /// This page has not met the room yet, so it has no room time to stamp an edit with.
    NoRoomTime,
}

impl EditError {
    /// Why an add was refused, for the person who asked (an add fails only when full, or
    /// for a link too long to play).
    pub fn message(self) -> &'static str {
        match self {
            EditError::Full => "The queue is full: remove something first.",
            _ => "That link cannot be queued.",
        }
    }
}

/// One edit, as the interface asks for it (each is the [`Queue`] method of its name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    Add(Item),
    MoveUp(EntryId),
    MoveDown(EntryId),
    /// Drag and drop: the first entry to just before the second.
    MoveBefore(EntryId, EntryId),
    /// Drag and drop past the last entry: the first to just after the second.
    MoveAfter(EntryId, EntryId),
    Remove(EntryId),
    Repeat(bool),
    Shuffle(bool),
}

impl Queue {
    /// Makes `edit` at room time `now` (`None` while the page has not met the room).
    pub fn edit(&mut self, now: Option<RoomTime>, edit: Edit) -> Result<Delta, EditError> {
        let now = now.ok_or(EditError::NoRoomTime)?;
        match edit {
            Edit::Add(item) => self.add(now, item),
            Edit::MoveUp(id) => self.move_up(now, id),
            Edit::MoveDown(id) => self.move_down(now, id),
            Edit::MoveBefore(id, anchor) => self.move_before(now, id, anchor),
            Edit::MoveAfter(id, anchor) => self.move_after(now, id, anchor),
            Edit::Remove(id) => self.remove(id),
            Edit::Repeat(on) => self.set_repeat(now, on),
            Edit::Shuffle(on) => self.set_shuffle(now, on),
        }
    }

    /// Adds `item` at the end of the list.
    pub fn add(&mut self, now: RoomTime, item: Item) -> Result<Delta, EditError> {
        if !item.is_valid() {
            return Err(EditError::Invalid);
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(EditError::Full);
        }
        if self.next_seq == u32::MAX {
            return Err(EditError::Exhausted);
        }
        let id = EntryId {
            peer: self.me,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        let e = Entry {
            id,
            item,
            key: Key::first(),
            placed: self.hlc.stamp(now, self.me),
        };
        let end = self.entries.len();
        Ok(self.place(now, e, end))
    }

    /// Moves entry `id` to just before entry `anchor`.
    pub fn move_before(
        &mut self,
        now: RoomTime,
        id: EntryId,
        anchor: EntryId,
    ) -> Result<Delta, EditError> {
        self.move_beside(now, id, anchor, 0)
    }

    /// Moves entry `id` to just after entry `anchor`.
    pub fn move_after(
        &mut self,
        now: RoomTime,
        id: EntryId,
        anchor: EntryId,
    ) -> Result<Delta, EditError> {
        self.move_beside(now, id, anchor, 1)
    }

    /// Moves entry `id` one place towards the top.
    pub fn move_up(&mut self, now: RoomTime, id: EntryId) -> Result<Delta, EditError> {
        let i = self.index_of(id).ok_or(EditError::Unknown)?;
        let above = i.checked_sub(1).ok_or(EditError::NoChange)?;
        self.move_before(now, id, self.entries[above].id)
    }

    /// Moves entry `id` one place towards the bottom.
    pub fn move_down(&mut self, now: RoomTime, id: EntryId) -> Result<Delta, EditError> {
        let i = self.index_of(id).ok_or(EditError::Unknown)?;
        let below = self.entries.get(i + 1).ok_or(EditError::NoChange)?.id;
        self.move_after(now, id, below)
    }

    /// Removes entry `id`, for good.
    pub fn remove(&mut self, id: EntryId) -> Result<Delta, EditError> {
        let i = self.index_of(id).ok_or(EditError::Unknown)?;
        let r = Range::one(id);
        self.removed.insert(r).map_err(|_| EditError::Full)?;
        self.entries.remove(i);
        Ok(Delta {
            removed: vec![r],
            ..Delta::default()
        })
    }

    /// Turns repeat on or off.
    pub fn set_repeat(&mut self, now: RoomTime, on: bool) -> Result<Delta, EditError> {
        if self.repeat() == on {
            return Err(EditError::NoChange);
        }
        let s = Lww {
            stamp: self.hlc.stamp(now, self.me),
            value: on,
        };
        self.repeat = Some(s);
        Ok(Delta {
            repeat: Some(s),
            ..Delta::default()
        })
    }

    /// Turns shuffle on (with a new order) or off. The order's seed comes from the edit's
    /// stamp, which is unique, so the core needs no randomness of its own.
    pub fn set_shuffle(&mut self, now: RoomTime, on: bool) -> Result<Delta, EditError> {
        if self.shuffled() == on {
            return Err(EditError::NoChange);
        }
        let stamp = self.hlc.stamp(now, self.me);
        let seed = mix(stamp.wall.0 as u64 ^ mix(stamp.peer.0 ^ u64::from(stamp.counter)));
        let s = Lww {
            stamp,
            value: on.then_some(seed),
        };
        self.shuffle = Some(s);
        Ok(Delta {
            shuffle: Some(s),
            ..Delta::default()
        })
    }

    /// `side` 0 is before the anchor, 1 after.
    fn move_beside(
        &mut self,
        now: RoomTime,
        id: EntryId,
        anchor: EntryId,
        side: usize,
    ) -> Result<Delta, EditError> {
        let i = self.index_of(id).ok_or(EditError::Unknown)?;
        let a = self.index_of(anchor).ok_or(EditError::Unknown)?;
        if i == a {
            return Err(EditError::NoChange);
        }
        // The place in the list without the moving entry.
        let slot = a - usize::from(a > i) + side;
        if slot == i {
            return Err(EditError::NoChange);
        }
        let e = self.entries.remove(i);
        Ok(self.place(now, e, slot))
    }

    /// Puts `e` (not in the list) at index `slot` of the list, with new keys for it and, if
    /// needed, for others (see the module comment); applies them and returns them.
    fn place(&mut self, now: RoomTime, mut e: Entry, slot: usize) -> Delta {
        let mut out = Delta::default();
        let (tie_end, keys) = self.keys_for(slot);
        let Some(keys) = keys else {
            self.respace(now, e, slot, &mut out);
            return out;
        };
        let mut keys = keys.into_iter();
        e.key = keys.next().unwrap_or_else(Key::first);
        e.placed = self.hlc.stamp(now, self.me);
        // The rest of a tie, rekeyed in its order (they may move, so their ids come first).
        let tie: Vec<EntryId> = self.entries[slot..tie_end].iter().map(|x| x.id).collect();
        out.entries.push(e.clone());
        self.upsert(e);
        for (id, key) in tie.into_iter().zip(keys) {
            if let Some(i) = self.index_of(id) {
                let mut x = self.entries[i].clone();
                x.key = key;
                x.placed = self.hlc.stamp(now, self.me);
                out.entries.push(x.clone());
                self.upsert(x);
            }
        }
        out
    }

    /// New keys for an entry placed at `slot`, then for the entries `slot..end` (the end of
    /// the returned range) that tie with the one above the slot; `None` if a key would be too
    /// long.
    fn keys_for(&self, slot: usize) -> (usize, Option<Vec<Key>>) {
        let lo = slot.checked_sub(1).map(|i| &self.entries[i].key);
        let hi = self.entries.get(slot).map(|x| &x.key);
        match (lo, hi) {
            (None, None) => (slot, Some(vec![Key::first()])),
            (None, Some(h)) => (slot, h.before().map(|k| vec![k])),
            (Some(l), h) if h != Some(l) => (slot, l.towards(h).map(|k| vec![k])),
            (Some(l), _) => {
                let end = slot
                    + self.entries[slot..]
                        .iter()
                        .take_while(|x| x.key == *l)
                        .count();
                let above = self.entries.get(end).map(|x| &x.key);
                let mut keys: Vec<Key> = Vec::with_capacity(end - slot + 1);
                for _ in slot..=end {
                    let Some(k) = keys.last().unwrap_or(l).towards(above) else {
                        return (end, None);
                    };
                    keys.push(k);
                }
                (end, Some(keys))
            }
        }
    }

    /// Puts `e` at `slot` and gives every entry a fresh evenly spaced key.
    fn respace(&mut self, now: RoomTime, e: Entry, slot: usize, out: &mut Delta) {
        self.entries.insert(slot, e);
        let n = self.entries.len();
        for (x, key) in self.entries.iter_mut().zip(spread(n)) {
            x.key = key;
            x.placed = self.hlc.stamp(now, self.me);
        }
        out.entries = self.entries.clone();
    }
}
