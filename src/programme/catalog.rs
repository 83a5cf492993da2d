//! The deployer's catalogue of suggested videos (`catalog.json` next to `config.json`): read
//! once per page, bounded, and forgiving: an entry that is wrong is dropped and counted, and
//! the others are kept, so one typo does not empty the Suggested tab.
//!
//! ```json
//! { "videos": [
//!     { "title": "Big Buck Bunny", "url": "media/bbb.webm", "duration": 596,
//!       "thumbnail": "media/bbb.jpg", "tags": ["animation", "short"] }
//! ] }
//! ```
//! A bare array of entries is read the same way; other members of the object (a `"comment"`)
//! are ignored. `url` and `thumbnail` may be relative to the page; `duration` is seconds (a
//! number, or `"m:ss"` / `"h:mm:ss"`).

use super::entry::{MAX_TITLE_CHARS, MAX_URL_BYTES};
use super::title::clean_title;
use crate::json::{self, Number, Value};
use crate::sync::Span;

/// Largest `catalog.json` read, in bytes: 500 entries of ordinary links and titles fit in a
/// fraction of it; more is a mistake (or a hostile host) and is refused whole.
pub const MAX_CATALOG_BYTES: usize = 512 * 1024;
/// Most entries kept, in file order: a tab people scroll and search, not a video library.
pub const MAX_CATALOG_ENTRIES: usize = 500;
/// Most tags kept per entry, and their longest, in characters.
pub const MAX_TAGS: usize = 8;
pub const MAX_TAG_CHARS: usize = 32;
/// Longest duration believed: a day (a longer one is a typo).
const MAX_DURATION_SECS: f64 = 86_400.0;

/// One video the deployer suggests.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    pub title: String,
    /// As written in the file: absolute, or relative to the page (the app resolves it).
    pub url: String,
    pub duration: Option<Span>,
    pub thumbnail: Option<String>,
    pub tags: Vec<String>,
}

/// A catalogue as read: the entries kept, and why each dropped one was dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub entries: Vec<Suggestion>,
    /// One line per dropped entry ("entry 3: ..."), for the console.
    pub dropped: Vec<String>,
}

impl Catalog {
    /// Reads `catalog.json`'s text. An error means the whole file is unusable (too big, not
    /// JSON, not a list); bad entries inside a good file are only dropped.
    pub fn parse(text: &str) -> Result<Catalog, String> {
        if text.len() > MAX_CATALOG_BYTES {
            return Err(format!(
                "catalog.json is {} bytes, more than the {MAX_CATALOG_BYTES} read",
                text.len()
            ));
        }
        let value = json::parse(text).map_err(|e| format!("catalog.json is not JSON: {e}"))?;
        let list = match &value {
            Value::Array(list) => list,
            Value::Object(_) => match value.object().ok().and_then(|o| o.get("videos")) {
                Some(Value::Array(list)) => list,
                _ => return Err("catalog.json has no \"videos\" list".into()),
            },
            other => return Err(format!("catalog.json is {}, not a list", other.kind())),
        };
        let mut catalog = Catalog::default();
        for (i, value) in list.iter().enumerate() {
            if catalog.entries.len() == MAX_CATALOG_ENTRIES {
                let more = list.len() - i;
                catalog.dropped.push(format!(
                    "{more} entries past the first {MAX_CATALOG_ENTRIES} are not read"
                ));
                break;
            }
            match suggestion(value) {
                Ok(s) if catalog.entries.iter().any(|e| e.url == s.url) => catalog
                    .dropped
                    .push(format!("entry {i}: the same url again")),
                Ok(s) => catalog.entries.push(s),
                Err(why) => catalog.dropped.push(format!("entry {i}: {why}")),
            }
        }
        Ok(catalog)
    }
}

fn suggestion(value: &Value) -> Result<Suggestion, String> {
    let o = value.object().map_err(|e| e.to_string())?;
    let raw_title = o.str("title").map_err(|e| e.to_string())?;
    let title = clean_title(raw_title);
    if title.is_empty() || raw_title.chars().count() > MAX_TITLE_CHARS {
        return Err(format!(
            "the title is empty or over {MAX_TITLE_CHARS} characters"
        ));
    }
    let url = link(o.str("url").map_err(|e| e.to_string())?).ok_or("the url is not a link")?;
    let thumbnail = match o.opt_string("thumbnail").map_err(|e| e.to_string())? {
        Some(t) => Some(link(&t).ok_or("the thumbnail is not a link")?),
        None => None,
    };
    let duration = match o.get("duration") {
        None | Some(Value::Null) => None,
        Some(d) => Some(duration(d).ok_or("the duration is not seconds or h:mm:ss")?),
    };
    let tags = match o.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) => o.strings("tags").map_err(|e| e.to_string())?,
    };
    let tags: Vec<String> = tags.iter().map(|t| clean_title(t)).collect();
    if tags.len() > MAX_TAGS
        || tags
            .iter()
            .any(|t| t.is_empty() || t.chars().count() > MAX_TAG_CHARS)
    {
        return Err(format!(
            "over {MAX_TAGS} tags, or one empty or over {MAX_TAG_CHARS} characters"
        ));
    }
    Ok(Suggestion {
        title,
        url,
        duration,
        thumbnail,
        tags,
    })
}

/// A link as written (absolute or relative): bounded, no blanks or control characters. Which
/// links may play is decided when one is added, as for every link.
fn link(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= MAX_URL_BYTES
        && text.bytes().all(|c| c > b' ' && c != 0x7F);
    ok.then(|| text.to_owned())
}

/// Seconds as a number (whole or not), or `"m:ss"` / `"h:mm:ss"`.
fn duration(value: &Value) -> Option<Span> {
    let secs = match value {
        Value::Number(Number::Unsigned(n)) => *n as f64,
        Value::Number(Number::Other(text)) => decimal(text)?,
        Value::String(text) => clock(text)?,
        _ => return None,
    };
    (secs.is_finite() && (0.0..=MAX_DURATION_SECS).contains(&secs))
        .then(|| Span::from_secs_f64(secs))
}

/// `12.5`: digits, a point, digits (no sign, no exponent). Read by hand: the standard float
/// parser's tables would land in the first download (a split-off chunk's data stays there).
fn decimal(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let scale = 10u32.pow(fraction.len() as u32);
    Some(
        f64::from(whole.parse::<u32>().ok()?)
            + f64::from(fraction.parse::<u32>().ok()?) / f64::from(scale),
    )
}

fn clock(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut secs = 0.0;
    for (i, part) in parts.iter().enumerate() {
        let n: u32 = part.parse().ok()?;
        // Minutes and seconds after the first field are two digits below 60.
        if i > 0 && (part.len() != 2 || n >= 60) {
            return None;
        }
        secs = secs * 60.0 + f64::from(n);
    }
    Some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_catalogue_is_read_whole() {
        let text = r#"{ "comment": "ours", "videos": [
            { "title": " Big  Buck Bunny ", "url": "media/bbb.webm", "duration": 596,
              "thumbnail": "media/bbb.jpg", "tags": ["animation", "short"] },
            { "title": "Sintel", "url": "https://x.org/sintel.mp4", "duration": "14:48" },
            { "title": "Clip", "url": "/c.webm", "duration": 2.50, "thumbnail": null },
            { "title": "Long", "url": "/l.webm", "duration": "1:02:03" }
        ] }"#;
        let c = Catalog::parse(text).unwrap();
        assert_eq!(c.dropped, Vec::<String>::new());
        let titles: Vec<&str> = c.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Big Buck Bunny", "Sintel", "Clip", "Long"]);
        let bbb = &c.entries[0];
        assert_eq!(bbb.duration, Some(Span::from_secs(596)));
        assert_eq!(bbb.thumbnail.as_deref(), Some("media/bbb.jpg"));
        assert_eq!(bbb.tags, ["animation", "short"]);
        assert_eq!(c.entries[1].duration, Some(Span::from_secs(14 * 60 + 48)));
        assert_eq!(c.entries[2].duration, Some(Span::from_millis(2500)));
        assert_eq!(c.entries[3].duration, Some(Span::from_secs(3723)));
        // A bare list reads the same; so does an empty one.
        let bare = Catalog::parse(r#"[{"title":"A","url":"/a.webm"}]"#).unwrap();
        assert_eq!(bare.entries.len(), 1);
        assert_eq!(
            Catalog::parse(r#"{"videos": []}"#).unwrap(),
            Catalog::default()
        );
    }

    #[test]
    fn bad_entries_are_dropped_and_the_rest_kept() {
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        let text = format!(
            r#"[ {{"title":"ok","url":"/ok.webm"}},
                 "not an object",
                 {{"url":"/no-title.webm"}},
                 {{"title":" \u200b ","url":"/blank.webm"}},
                 {{"title":"{long}","url":"/long.webm"}},
                 {{"title":"t","url":"has space.webm"}},
                 {{"title":"t","url":""}},
                 {{"title":"t","url":"/d.webm","duration":-1}},
                 {{"title":"t","url":"/d.webm","duration":"1:75"}},
                 {{"title":"t","url":"/d.webm","duration":1e9}},
                 {{"title":"t","url":"/d.webm","duration":100000}},
                 {{"title":"t","url":"/d.webm","thumbnail":7}},
                 {{"title":"t","url":"/d.webm","tags":"one"}},
                 {{"title":"t","url":"/d.webm","tags":["a","b","c","d","e","f","g","h","i"]}},
                 {{"title":"again","url":"/ok.webm"}},
                 {{"title":"last","url":"/last.webm"}} ]"#
        );
        let c = Catalog::parse(&text).unwrap();
        let urls: Vec<&str> = c.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["/ok.webm", "/last.webm"]);
        assert_eq!(c.dropped.len(), 14, "{:#?}", c.dropped);
        assert!(c.dropped[0].starts_with("entry 1:"), "{}", c.dropped[0]);
    }

    #[test]
    fn the_shipped_catalogue_is_empty_and_valid() {
        let shipped = include_str!("../../catalog.json");
        assert_eq!(Catalog::parse(shipped), Ok(Catalog::default()));
    }

    #[test]
    fn unusable_files_are_refused_whole_and_big_ones_cut() {
        for bad in ["", "nope", "{}", r#"{"videos": 3}"#, "3", r#""list""#] {
            assert!(Catalog::parse(bad).is_err(), "{bad:?}");
        }
        let huge = format!("[{}]", " ".repeat(MAX_CATALOG_BYTES));
        assert!(Catalog::parse(&huge).is_err());
        let many: Vec<String> = (0..MAX_CATALOG_ENTRIES + 3)
            .map(|i| format!(r#"{{"title":"v{i}","url":"/{i}.webm"}}"#))
            .collect();
        let c = Catalog::parse(&format!("[{}]", many.join(","))).unwrap();
        assert_eq!(c.entries.len(), MAX_CATALOG_ENTRIES);
        assert_eq!(c.dropped, ["3 entries past the first 500 are not read"]);
    }
}
