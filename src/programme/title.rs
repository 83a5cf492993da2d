//! What an entry is called: the title its adder typed, or else the file name in its link
//! ("Big_Buck_Bunny.mp4" → "Big Buck Bunny"), cleaned like a display name and bounded.

use super::entry::MAX_TITLE_CHARS;
use crate::num::clock_text;
use crate::room::wire::visible_name;

/// `typed` as a title: only visible characters, runs of blanks made one space, cut to
/// [`MAX_TITLE_CHARS`]. Empty when nothing visible was typed.
pub fn clean_title(typed: &str) -> String {
    visible_name(typed).chars().take(MAX_TITLE_CHARS).collect()
}

/// A title from `url`'s file name: its last path segment, percent-decoded (left as it is when
/// that is not UTF-8), without its extension, with `_` and `+` read as spaces; the host when
/// the path names no file. Empty when nothing is left.
pub fn title_from_url(url: &str) -> String {
    let no_fragment = url.split('#').next().unwrap_or_default();
    let no_query = no_fragment.split('?').next().unwrap_or_default();
    let (host, path) = match no_query.split_once("://") {
        Some((_, rest)) => rest.split_once('/').unwrap_or((rest, "")),
        None => (
            "",
            no_query.split_once(':').map_or(no_query, |(_, rest)| rest),
        ),
    };
    let Some(segment) = path.rsplit('/').find(|s| !s.is_empty()) else {
        return clean_title(host);
    };
    let decoded = percent_decode(segment);
    let stem = match decoded.rsplit_once('.') {
        // A leading dot (".hidden") or a long "extension" is part of the name.
        Some((stem, ext)) if !stem.is_empty() && (1..=5).contains(&ext.len()) => stem,
        _ => decoded.as_str(),
    };
    clean_title(&stem.replace(['_', '+'], " "))
}

/// A video's length as the rows show it: "m:ss", or "h:mm:ss" from an hour; rounded to the
/// second, negative or not-a-number as zero.
pub fn clock(secs: f64) -> String {
    // `as` reads NaN as 0.
    clock_text(secs.max(0.0).round() as u64)
}

/// `%XX` escapes decoded; the text unchanged when an escape is malformed or the result is not
/// UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                None => return text.to_owned(),
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_becomes_the_title() {
        for (url, title) in [
            ("https://x.org/films/Big_Buck_Bunny.mp4", "Big Buck Bunny"),
            ("https://x.org/a/b/night%20walk.webm?t=3#x", "night walk"),
            ("https://x.org/caf%C3%A9.ogg", "café"),
            ("https://x.org/dir/", "dir"),
            ("https://x.org", "x.org"),
            ("/alice-1.webm", "alice-1"),
            ("https://x.org/.hidden", ".hidden"),
            ("https://x.org/v.2024.final.mp4", "v.2024.final"),
            ("https://x.org/archive.tar.gzipped", "archive.tar.gzipped"),
            // A broken escape or bytes that are not UTF-8 are shown as they are.
            ("https://x.org/a%zz.mp4", "a%zz"),
            ("https://x.org/a%FF.mp4", "a%FF"),
            ("https://x.org/%E2%80%AEevil.mp4", "evil"),
            ("", ""),
        ] {
            assert_eq!(title_from_url(url), title, "{url}");
        }
    }

    #[test]
    fn lengths_read_as_a_clock() {
        for (secs, shown) in [
            (0.0, "0:00"),
            (3.02, "0:03"),
            (59.6, "1:00"),
            (90.0, "1:30"),
            (3723.0, "1:02:03"),
            (-5.0, "0:00"),
            (f64::NAN, "0:00"),
        ] {
            assert_eq!(clock(secs), shown, "{secs}");
        }
    }

    #[test]
    fn typed_titles_are_cleaned_and_bounded() {
        assert_eq!(clean_title("  Movie\u{202E} \n night  "), "Movie night");
        assert_eq!(clean_title(" \u{200B} "), "");
        let long = "é".repeat(MAX_TITLE_CHARS + 10);
        assert_eq!(clean_title(&long).chars().count(), MAX_TITLE_CHARS);
        let from_url = title_from_url(&format!("https://x/{}.mp4", "a".repeat(500)));
        assert_eq!(from_url.chars().count(), MAX_TITLE_CHARS);
    }
}
