//! What a room watched: this browser's own list (kept in its storage under the room's topic)
//! and what friends in the room recently watched (each sends their list when a link opens).
//!
//! One bounded list type serves both: newest first, one row per link, at most
//! [`MAX_HISTORY`] rows, and its text (JSON, the storage form and what travels) at most
//! [`MAX_HISTORY_BYTES`], so it always fits one room message. Reading is forgiving: a row
//! that is wrong (from an old version, a hand-edited storage or a hostile friend) is dropped
//! and counted, the others kept.

use super::entry::{MAX_TITLE_CHARS, MAX_URL_BYTES};
use super::title::clean_title;
use crate::json::{self, ObjectWriter, Value};

/// Most rows kept: a few evenings of a room's videos.
pub const MAX_HISTORY: usize = 30;
/// Longest text of a list: within one room message (8 KB) with room for its envelope. The
/// oldest rows give way when long links would pass it.
pub const MAX_HISTORY_BYTES: usize = 6 * 1024;

/// One video watched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub url: String,
    pub title: String,
    /// When, in milliseconds since 1970 by the watcher's clock (it only orders rows).
    pub at_ms: u64,
}

/// A bounded list of videos watched, newest first, one row per link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    rows: Vec<Watched>,
}

impl History {
    pub fn rows(&self) -> &[Watched] {
        &self.rows
    }

    /// Notes that `w` was watched: it takes its place by time (replacing an older row of the
    /// same link), and the oldest row goes past [`MAX_HISTORY`]. A row that is not well
    /// formed is ignored; returns whether the list changed.
    ///
    /// Rows are in one total order, newest first, then by link ([`newer`]), and of two rows
    /// of one link the newer wins (at one time, the larger title): so the list is the
    /// [`MAX_HISTORY`] first of the newest row of each link, whatever the order rows came in.
    pub fn record(&mut self, w: Watched) -> bool {
        let w = match well_formed(w) {
            Some(w) => w,
            None => return false,
        };
        if let Some(i) = self.rows.iter().position(|r| r.url == w.url) {
            if (self.rows[i].at_ms, &self.rows[i].title) >= (w.at_ms, &w.title) {
                return false;
            }
            self.rows.remove(i);
        }
        let at = self.rows.partition_point(|r| newer(r, &w));
        if at == MAX_HISTORY {
            return false;
        }
        self.rows.insert(at, w);
        self.rows.truncate(MAX_HISTORY);
        true
    }

    /// Joins `other` into this list (a friend's list into what friends watched): every row
    /// recorded, so the result does not depend on the order lists arrive in.
    pub fn merge(&mut self, other: History) -> bool {
        let mut changed = false;
        for w in other.rows {
            changed |= self.record(w);
        }
        changed
    }

    /// The list as stored and sent: a JSON array, newest first, cut to
    /// [`MAX_HISTORY_BYTES`] by leaving out the oldest rows.
    pub fn encode(&self) -> String {
        let mut out = String::from("[");
        for w in &self.rows {
            let row = ObjectWriter::new()
                .str("url", &w.url)
                .str("title", &w.title)
                .u64("at", w.at_ms)
                .finish();
            if out.len() + row.len() + 2 > MAX_HISTORY_BYTES {
                break;
            }
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&row);
        }
        out.push(']');
        out
    }

    /// Reads a list from storage or from a friend; returns it and how many rows were dropped
    /// (malformed, or past the bounds). Text that is not a list reads as an empty list with
    /// one drop.
    pub fn decode(text: &str) -> (History, usize) {
        let parsed = (text.len() <= MAX_HISTORY_BYTES)
            .then(|| json::parse(text).ok())
            .flatten();
        let Some(Value::Array(items)) = parsed else {
            return (History::default(), 1);
        };
        let mut history = History::default();
        let mut dropped = 0;
        for item in &items {
            let row = item.object().ok().and_then(|o| {
                Some(Watched {
                    url: o.string("url").ok()?,
                    title: o.string("title").ok()?,
                    at_ms: o.u64("at").ok()?,
                })
            });
            match row.and_then(well_formed) {
                Some(w) => {
                    history.record(w);
                }
                None => dropped += 1,
            }
        }
        dropped += items.len().saturating_sub(MAX_HISTORY + dropped);
        (history, dropped)
    }
}

/// Whether row `a` comes before row `b`: watched later, or at the same time with a smaller
/// link (a list holds one row per link, so this orders any two of its rows).
fn newer(a: &Watched, b: &Watched) -> bool {
    (b.at_ms, &a.url) < (a.at_ms, &b.url)
}

/// `w` with a clean title, if its link is one that could have been played (bounded, with a
/// scheme, no blanks) and its title fits.
fn well_formed(mut w: Watched) -> Option<Watched> {
    let url_ok = !w.url.is_empty()
        && w.url.len() <= MAX_URL_BYTES
        && w.url.contains(':')
        && w.url.bytes().all(|c| c > b' ' && c != 0x7F);
    if !url_ok || w.title.chars().count() > MAX_TITLE_CHARS {
        return None;
    }
    w.title = clean_title(&w.title);
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(url: &str, at_ms: u64) -> Watched {
        Watched {
            url: format!("https://x.org/{url}"),
            title: url.to_uppercase(),
            at_ms,
        }
    }

    fn urls(h: &History) -> Vec<&str> {
        h.rows()
            .iter()
            .map(|r| r.url.trim_start_matches("https://x.org/"))
            .collect()
    }

    #[test]
    fn newest_first_one_row_per_link_bounded() {
        let mut h = History::default();
        assert!(h.record(w("a", 1)));
        assert!(h.record(w("b", 2)));
        assert!(h.record(w("a", 3)));
        // An older sighting of a known link changes nothing.
        assert!(!h.record(w("b", 1)));
        assert_eq!(urls(&h), ["a", "b"]);
        for i in 0..MAX_HISTORY as u64 + 5 {
            h.record(w(&format!("n{i}"), 10 + i));
        }
        assert_eq!(h.rows().len(), MAX_HISTORY);
        assert_eq!(
            h.rows()[0].url,
            format!("https://x.org/n{}", MAX_HISTORY + 4)
        );
        assert!(!urls(&h).contains(&"a"));
        // Bad rows are ignored.
        assert!(!h.record(w("has space", 99)));
        let mut untitled = w("t", 100);
        untitled.title = "x".repeat(MAX_TITLE_CHARS + 1);
        assert!(!h.record(untitled));
    }

    #[test]
    fn merging_lists_in_any_order_gives_one_list() {
        let lists: Vec<History> = (0..4u64)
            .map(|k| {
                let mut h = History::default();
                for i in 0..20u64 {
                    // Overlapping links, seen at different times by different friends.
                    h.record(w(
                        &format!("v{}", (i * 7 + k * 3) % 25),
                        (i * 13 + k * 5) % 41,
                    ));
                }
                h
            })
            .collect();
        let mut forward = History::default();
        for l in lists.iter().cloned() {
            forward.merge(l);
        }
        let mut backward = History::default();
        for l in lists.iter().rev().cloned() {
            backward.merge(l);
        }
        assert_eq!(forward, backward);
        assert!(forward.rows().len() <= MAX_HISTORY);
    }

    #[test]
    fn ties_resolve_the_same_whatever_came_first() {
        let titled = |url: &str, title: &str, at_ms| Watched {
            title: title.into(),
            ..w(url, at_ms)
        };
        // One link seen at one time under two titles: the larger title, in either order.
        let (a, b) = (titled("v", "Alpha", 5), titled("v", "Beta", 5));
        let mut ab = History::default();
        ab.record(a.clone());
        ab.record(b.clone());
        let mut ba = History::default();
        ba.record(b);
        assert!(!ba.record(a));
        assert_eq!(ab, ba);
        assert_eq!(ab.rows()[0].title, "Beta");
        // Links seen at one time order by link, and the cut at the bound keeps the same ones.
        let rows: Vec<Watched> = (0..MAX_HISTORY + 3)
            .map(|i| w(&format!("t{i:02}"), 7))
            .collect();
        let mut forward = History::default();
        for r in rows.iter().cloned() {
            forward.record(r);
        }
        let mut backward = History::default();
        for r in rows.iter().rev().cloned() {
            backward.record(r);
        }
        assert_eq!(forward, backward);
        assert_eq!(urls(&forward)[..2], ["t00", "t01"]);
        // A row that would land past the bound changes nothing.
        assert!(!forward.record(w("zz", 7)));
    }

    #[test]
    fn the_text_round_trips_and_stays_under_its_bound() {
        let mut h = History::default();
        h.record(w("a \"quoted\" title", 0));
        h.record(Watched {
            url: "https://x.org/é.webm".into(),
            title: "Café \"noir\" \\ ok".into(),
            at_ms: u64::MAX,
        });
        let (back, dropped) = History::decode(&h.encode());
        assert_eq!((back, dropped), (h, 0));

        let mut big = History::default();
        for i in 0..MAX_HISTORY as u64 {
            big.record(Watched {
                url: format!("https://x.org/{i}/{}", "u".repeat(1000)),
                title: "t".repeat(MAX_TITLE_CHARS),
                at_ms: i,
            });
        }
        let text = big.encode();
        assert!(text.len() <= MAX_HISTORY_BYTES, "{}", text.len());
        let (back, dropped) = History::decode(&text);
        assert_eq!(dropped, 0);
        assert!(!back.rows().is_empty());
        assert_eq!(back.rows(), &big.rows()[..back.rows().len()]);
    }

    #[test]
    fn bad_text_and_rows_are_dropped_and_counted() {
        for bad in ["", "{}", "[", "\"x\""] {
            assert_eq!(History::decode(bad), (History::default(), 1), "{bad:?}");
        }
        let text = r#"[{"url":"https://x.org/ok","title":"OK","at":5},
            {"url":"no scheme","title":"x","at":1},
            {"url":"https://x.org/neg","title":"x","at":-1},
            {"title":"x","at":1}, 7, null]"#;
        let (h, dropped) = History::decode(text);
        assert_eq!(urls(&h), ["ok"]);
        assert_eq!(dropped, 5);
        let long = format!("[{}]", " ".repeat(MAX_HISTORY_BYTES));
        assert_eq!(History::decode(&long).1, 1);
    }
}
