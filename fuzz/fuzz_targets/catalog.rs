#![no_main]

//! The deployer's catalogue (`programme::catalog::Catalog::parse`) on arbitrary text, as a
//! static host could serve it: never panics, and what it keeps is within every bound the
//! Suggested tab relies on (entries, unique links, clean titles, tags, durations).

use insieme::programme::catalog::{
    Catalog, MAX_CATALOG_BYTES, MAX_CATALOG_ENTRIES, MAX_TAGS, MAX_TAG_CHARS,
};
use insieme::programme::entry::{MAX_TITLE_CHARS, MAX_URL_BYTES};
use insieme::programme::title::clean_title;
use insieme::sync::Span;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|bytes: &[u8]| {
    // The app reads the file as text; what is not UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let catalog = match Catalog::parse(text) {
        Ok(catalog) => catalog,
        Err(why) => {
            assert!(!why.is_empty(), "an error without a reason for {text:?}");
            return;
        }
    };
    assert!(text.len() <= MAX_CATALOG_BYTES, "an oversized file read");
    let context = || format!("{text:?} read as {catalog:#?}");
    assert!(
        catalog.entries.len() <= MAX_CATALOG_ENTRIES,
        "over the entry cap: {}",
        context()
    );
    let urls: BTreeSet<&str> = catalog.entries.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(
        urls.len(),
        catalog.entries.len(),
        "a link listed twice: {}",
        context()
    );
    for s in &catalog.entries {
        assert!(
            !s.title.is_empty()
                && s.title.chars().count() <= MAX_TITLE_CHARS
                && clean_title(&s.title) == s.title,
            "a title empty, too long or not clean: {}",
            context()
        );
        for link in std::iter::once(&s.url).chain(&s.thumbnail) {
            assert!(
                is_link(link),
                "a link empty, too long or with blanks: {}",
                context()
            );
        }
        assert!(
            s.duration.is_none_or(|d| d <= Span::from_secs(86_400)),
            "a duration over a day: {}",
            context()
        );
        assert!(
            s.tags.len() <= MAX_TAGS
                && s.tags.iter().all(|t| {
                    !t.is_empty() && t.chars().count() <= MAX_TAG_CHARS && clean_title(t) == *t
                }),
            "a tag out of bounds: {}",
            context()
        );
    }
});

fn is_link(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_URL_BYTES && text.bytes().all(|c| c > b' ' && c != 0x7F)
}
