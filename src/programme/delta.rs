//! The queue's one message: a piece of queue state. An edit is a small piece (one entry, one
//! removed id, one setting), a snapshot for a newcomer is the whole state, and merging either
//! is the same join (`Queue::merge`). Pieces are postcard-encoded inside the room's peer
//! message, so a snapshot is cut into pieces that each fit [`MAX_DELTA_BYTES`].

use super::entry::{Entry, Lww};
use super::removed::Range;
use crate::room::wire::MAX_MESSAGE_BYTES;
use serde::{Deserialize, Serialize};

/// Largest encoded piece made: the room's message limit less room for its envelope and tags.
/// A single entry is at most about 3.2 KB (URL, 200 characters of title, name, key), so every
/// piece holds at least two.
pub const MAX_DELTA_BYTES: usize = MAX_MESSAGE_BYTES - 64;
/// Upper bound of an encoded range: a peer id and two sequence numbers as varints.
const RANGE_MAX_LEN: usize = 20;
/// Upper bound of the settings (a stamp, a tag and a value each, 64 bytes) and of the
/// piece's lengths and tags.
const FIXED_MAX_LEN: usize = 96;

/// A piece of queue state (see the module comment).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    /// Entries added or moved (whole, so a move can never arrive for an entry not yet known).
    pub entries: Vec<Entry>,
    /// Removed ids.
    pub removed: Vec<Range>,
    /// Play from the top again after the last entry.
    pub repeat: Option<Lww<bool>>,
    /// Play in a shuffled order, the seed choosing it (`None`: in list order).
    pub shuffle: Option<Lww<Option<u64>>>,
}

impl Delta {
    /// The piece as it travels (inside the room's `PeerMessage::Queue`).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("queue pieces always serialize")
    }

    /// A piece as a peer sent it; `None` if it is not one (the entries are checked on merge).
    pub fn decode(bytes: &[u8]) -> Option<Delta> {
        postcard::from_bytes(bytes).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
            && self.removed.is_empty()
            && self.repeat.is_none()
            && self.shuffle.is_none()
    }

    /// Cuts this piece into pieces of at most [`MAX_DELTA_BYTES`] encoded, for sending. The
    /// settings travel with the first one. Merging all the pieces is merging the whole.
    pub fn split(self) -> Vec<Delta> {
        let mut out = Vec::new();
        let mut cur = Delta {
            repeat: self.repeat,
            shuffle: self.shuffle,
            ..Delta::default()
        };
        let mut size = FIXED_MAX_LEN;
        for e in self.entries {
            let len = e.max_encoded_len();
            if size + len > MAX_DELTA_BYTES && !cur.is_empty() {
                out.push(core::mem::take(&mut cur));
                size = FIXED_MAX_LEN;
            }
            size += len;
            cur.entries.push(e);
        }
        for r in self.removed {
            if size + RANGE_MAX_LEN > MAX_DELTA_BYTES {
                out.push(core::mem::take(&mut cur));
                size = FIXED_MAX_LEN;
            }
            size += RANGE_MAX_LEN;
            cur.removed.push(r);
        }
        if !cur.is_empty() || out.is_empty() {
            out.push(cur);
        }
        out
    }
}
