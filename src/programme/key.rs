//! Position keys: where an entry sits in the list, so that a move rewrites one entry only.
//!
//! A key is a fraction in (0, 1) written as base-256 digits, most significant first, and
//! compared as a byte string. Without trailing zero digits (the rule every valid key keeps)
//! byte-string order is the order of the fractions, and between any two keys there is
//! always another one, so an entry can be placed between any two neighbours without touching
//! them. Equal keys happen when two people place entries in the same gap at once; the list
//! then orders them by entry id (see `queue`).
//!
//! Growth is what bounds a fractional key. Appending (the usual edit) and prepending step the
//! first digit that can move by one and drop the rest, so 127 appends cost one byte. Placing
//! between two neighbours halves their gap, one byte per 8 placements into the same gap. A key
//! that would pass [`MAX_KEY_LEN`] is not made: the editing peer respaces the whole list
//! ([`spread`]) instead, which needs 2 bytes per key.

use serde::{Deserialize, Serialize};

/// Longest key accepted or made, in bytes. About 240 placements into one gap (or 3,900
/// appends) before a respace; far more than a queue of a few hundred entries needs, and small
/// beside an entry's URL.
pub const MAX_KEY_LEN: usize = 32;

/// A position in the list (see the module comment for the encoding).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Key(pub Vec<u8>);

impl Key {
    /// The key of the first entry of an empty list: the middle, leaving room on both sides.
    pub fn first() -> Key {
        Key(vec![0x80])
    }

    /// Not empty, not too long, and no trailing zero digit (so order is fraction order and
    /// there is room below).
    pub fn is_valid(&self) -> bool {
        !self.0.is_empty() && self.0.len() <= MAX_KEY_LEN && self.0.last() != Some(&0)
    }

    /// A short key above `self`, or `None` if it would be too long.
    pub fn after(&self) -> Option<Key> {
        bounded(after(&self.0))
    }

    /// A short key below `self`, or `None` if it would be too long.
    pub fn before(&self) -> Option<Key> {
        bounded(before(&self.0)?)
    }

    /// A key strictly between `self` and `hi`, or `None` if `self >= hi` or it would be too
    /// long.
    pub fn between(&self, hi: &Key) -> Option<Key> {
        bounded(between(&self.0, &hi.0)?)
    }

    /// A key above `self` and below `hi` if there is one (`None` is the end of the list).
    pub fn towards(&self, hi: Option<&Key>) -> Option<Key> {
        match hi {
            Some(hi) => self.between(hi),
            None => self.after(),
        }
    }
}

fn bounded(k: Vec<u8>) -> Option<Key> {
    let k = Key(k);
    k.is_valid().then_some(k)
}

/// The first digit that can grow grows by one and the rest is dropped; all `0xFF` digits grow
/// a digit instead. An empty slice (the fraction 0) gives the middle.
fn after(a: &[u8]) -> Vec<u8> {
    match a.iter().position(|&d| d < 0xFF) {
        Some(i) => {
            let mut k = a[..=i].to_vec();
            k[i] += 1;
            k
        }
        None => {
            let mut k = a.to_vec();
            k.push(0x80);
            k
        }
    }
}

/// The mirror of [`after`]: the first non-zero digit shrinks by one, or, if it is a final 1,
/// becomes `0, 0xFF`. `None` for a key with no non-zero digit (never valid).
fn before(b: &[u8]) -> Option<Vec<u8>> {
    let i = b.iter().position(|&d| d != 0)?;
    let mut k = b[..=i].to_vec();
    if b[i] >= 2 {
        k[i] -= 1;
    } else if i + 1 == b.len() {
        // b is 0.00…01: go one digit deeper.
        k[i] = 0;
        k.push(0xFF);
    }
    // Otherwise b[i] is 1 with more digits after it: the prefix ending in that 1 is below b.
    Some(k)
}

/// Walks the common prefix; at the first differing digit takes the middle if there is one,
/// else keeps `a`'s digit and goes [`after`] the rest of `a`.
fn between(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    let mut k = Vec::new();
    let mut i = 0;
    loop {
        let da = a.get(i).copied().unwrap_or(0);
        // If b runs out first, b is a prefix of a (or equal): not above it.
        let db = *b.get(i)?;
        if da > db {
            return None;
        }
        if da == db {
            k.push(da);
            i += 1;
            continue;
        }
        if db - da >= 2 {
            k.push(da + (db - da) / 2);
        } else {
            k.push(da);
            k.extend(after(a.get(i + 1..).unwrap_or(&[])));
        }
        return Some(k);
    }
}

/// `n` evenly spaced keys of at most 2 bytes, ascending, for a respace (`n` up to 65,535).
pub fn spread(n: usize) -> impl Iterator<Item = Key> {
    let n = n.min(0xFFFF) as u32;
    (1..=n).map(move |i| {
        let v = i * 0x1_0000 / (n + 1);
        let (hi, lo) = ((v >> 8) as u8, v as u8);
        if lo == 0 {
            Key(vec![hi])
        } else {
            Key(vec![hi, lo])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_cases::deterministic;
    use proptest::prelude::*;

    fn valid_key() -> impl Strategy<Value = Key> {
        proptest::collection::vec(any::<u8>(), 0..MAX_KEY_LEN - 1).prop_flat_map(|v| {
            (1u8..=255).prop_map(move |last| {
                let mut k = v.clone();
                k.push(last);
                Key(k)
            })
        })
    }

    proptest! {
        #![proptest_config(deterministic(2000))]

        #[test]
        fn between_is_strictly_between(a in valid_key(), b in valid_key()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            match lo.between(&hi) {
                Some(m) => prop_assert!(lo < m && m < hi && m.is_valid()),
                // Only equal keys, or a gap too deep for MAX_KEY_LEN, have no key between.
                None => prop_assert!(lo == hi || between(&lo.0, &hi.0).is_some_and(|m| m.len() > MAX_KEY_LEN)),
            }
        }

        #[test]
        fn after_and_before_are_beside(k in valid_key()) {
            if let Some(a) = k.after() { prop_assert!(a > k && a.is_valid()); }
            if let Some(b) = k.before() { prop_assert!(b < k && b.is_valid()); }
        }
    }

    #[test]
    fn appends_and_prepends_stay_short() {
        let (mut hi, mut lo) = (Key::first(), Key::first());
        for _ in 0..1000 {
            hi = hi.after().unwrap();
            lo = lo.before().unwrap();
        }
        assert!(hi.0.len() <= 9 && lo.0.len() <= 9, "{hi:?} {lo:?}");
    }

    #[test]
    fn placements_into_one_gap_grow_a_byte_per_eight() {
        // Always just below the last placed: the worst case, halving every time.
        let lo = Key::first();
        let mut hi = lo.after().unwrap();
        let mut n = 0;
        while let Some(m) = lo.between(&hi) {
            assert!(lo < m && m < hi);
            hi = m;
            n += 1;
        }
        assert!(n >= 8 * (MAX_KEY_LEN - 2), "{n}");
        // Always just above the last placed: the increment, cheaper still.
        let hi = Key::first().after().unwrap();
        let mut lo = Key::first();
        for _ in 0..1000 {
            lo = lo.between(&hi).unwrap();
        }
        assert!(lo.0.len() <= 11, "{lo:?}");
    }

    #[test]
    fn spread_keys_ascend_within_two_bytes() {
        for n in [1, 2, 255, 256, 300, 400, 65_535] {
            let keys: Vec<Key> = spread(n).collect();
            assert_eq!(keys.len(), n);
            assert!(keys.iter().all(|k| k.is_valid() && k.0.len() <= 2));
            assert!(keys.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
