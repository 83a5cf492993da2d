#![no_main]

//! A list of videos watched (`programme::history::History::decode`) on arbitrary text, as it
//! comes from this browser's storage or from a friend (`PeerMessage::Watched`): never panics,
//! what it keeps is bounded and ordered, its text round-trips, and merging two lists gives
//! one list whatever the order.
//!
//! The input is cut in two at its first NUL byte (or in the middle): two friends' lists.

use insieme::programme::history::{History, MAX_HISTORY, MAX_HISTORY_BYTES};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|bytes: &[u8]| {
    let cut = bytes
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(bytes.len() / 2);
    let (a, b) = (&bytes[..cut], &bytes[(cut + 1).min(bytes.len())..]);
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else {
        return;
    };
    let (first, _) = History::decode(a);
    let (second, _) = History::decode(b);
    well_formed(&first, a);
    well_formed(&second, b);
    round_trips(&first, a);

    let mut ab = first.clone();
    ab.merge(second.clone());
    let mut ba = second.clone();
    ba.merge(first.clone());
    assert!(
        ab == ba,
        "merging in the two orders differs for {a:?} and {b:?}:\n{ab:#?}\n{ba:#?}"
    );
    well_formed(&ab, "the merge");
    // A join: merging again changes nothing.
    let mut again = ab.clone();
    assert!(
        !again.merge(second) && again == ab,
        "merging a list again changed the merge of {a:?} and {b:?}"
    );
});

/// At most [`MAX_HISTORY`] rows, newest first, one per link.
fn well_formed(h: &History, text: &str) {
    let rows = h.rows();
    let urls: BTreeSet<&str> = rows.iter().map(|r| r.url.as_str()).collect();
    assert!(
        rows.len() <= MAX_HISTORY,
        "{} rows from {text:?}",
        rows.len()
    );
    assert_eq!(urls.len(), rows.len(), "a link twice from {text:?}: {h:#?}");
    assert!(
        rows.windows(2).all(|w| w[0].at_ms >= w[1].at_ms),
        "not newest first from {text:?}: {h:#?}"
    );
}

/// Its text is within the bound and reads back, without a drop, as its newest rows.
fn round_trips(h: &History, text: &str) {
    let encoded = h.encode();
    assert!(
        encoded.len() <= MAX_HISTORY_BYTES,
        "{} bytes of text from {text:?}",
        encoded.len()
    );
    let (back, dropped) = History::decode(&encoded);
    assert_eq!(
        dropped, 0,
        "its own text {encoded:?} (from {text:?}) drops rows"
    );
    assert!(
        back.rows() == &h.rows()[..back.rows().len()],
        "{text:?} read back as another list: {h:#?}\n{back:#?}"
    );
    assert_eq!(back.encode(), encoded, "the text of {text:?} is not stable");
}
