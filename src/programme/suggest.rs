//! The Suggested tab's list: the catalogue, then what this room watched here, then what
//! friends recently watched (less what is already listed as watched here), each filtered by
//! the search box.

use super::catalog::Suggestion;
use super::history::{History, Watched};
use crate::sync::Span;

/// Where a suggestion comes from: each is its own group in the tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Catalog,
    WatchedHere,
    Friends,
}

/// One suggestion as the tab shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub source: Source,
    pub title: String,
    pub url: String,
    pub duration: Option<Span>,
    pub thumbnail: Option<String>,
}

/// Whether a title (and tags) matches what was typed: every word of the query appears in the
/// title or a tag, ignoring the case of ASCII letters (other letters match as typed: full
/// Unicode case folding brings tables that would land in the first download, where a
/// split-off chunk's data stays). An empty query matches everything.
pub fn matches(query: &str, title: &str, tags: &[String]) -> bool {
    let title = title.to_ascii_lowercase();
    let tags: Vec<String> = tags.iter().map(|t| t.to_ascii_lowercase()).collect();
    query
        .to_ascii_lowercase()
        .split_whitespace()
        .all(|word| title.contains(word) || tags.iter().any(|t| t.contains(word)))
}

/// The rows to show for `query`, in the order of the tab's groups.
pub fn rows(catalog: &[Suggestion], here: &History, friends: &History, query: &str) -> Vec<Row> {
    let watched = |source, w: &Watched| Row {
        source,
        title: w.title.clone(),
        url: w.url.clone(),
        duration: None,
        thumbnail: None,
    };
    let from_catalog = catalog
        .iter()
        .filter(|s| matches(query, &s.title, &s.tags))
        .map(|s| Row {
            source: Source::Catalog,
            title: s.title.clone(),
            url: s.url.clone(),
            duration: s.duration,
            thumbnail: s.thumbnail.clone(),
        });
    let from_here = here
        .rows()
        .iter()
        .filter(|w| matches(query, &w.title, &[]))
        .map(|w| watched(Source::WatchedHere, w));
    let from_friends = friends
        .rows()
        .iter()
        .filter(|w| !here.rows().iter().any(|h| h.url == w.url))
        .filter(|w| matches(query, &w.title, &[]))
        .map(|w| watched(Source::Friends, w));
    from_catalog.chain(from_here).chain(from_friends).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(title: &str, tags: &[&str]) -> Suggestion {
        Suggestion {
            title: title.into(),
            url: format!("/{}.webm", title.replace(' ', "-")),
            duration: Some(Span::from_secs(60)),
            thumbnail: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    fn history(titles: &[(&str, u64)]) -> History {
        let mut h = History::default();
        for (t, at) in titles {
            h.record(Watched {
                url: format!("https://x.org/{t}"),
                title: t.to_string(),
                at_ms: *at,
            });
        }
        h
    }

    #[test]
    fn every_word_must_match_the_title_or_a_tag_ignoring_case() {
        let tags = ["Animation".to_string()];
        assert!(matches("", "Big Buck Bunny", &[]));
        assert!(matches("  ", "Big Buck Bunny", &[]));
        assert!(matches("bunny", "Big Buck Bunny", &[]));
        assert!(matches("BUCK big", "Big Buck Bunny", &[]));
        assert!(matches("bunny anim", "Big Buck Bunny", &tags));
        assert!(!matches("bunny sintel", "Big Buck Bunny", &tags));
        assert!(!matches("dragon", "Big Buck Bunny", &[]));
        assert!(!matches("CAFÉ", "Café Society", &[]));
        assert!(matches("café soc", "Café Society", &[]));
    }

    #[test]
    fn groups_in_order_filtered_and_friends_less_what_is_watched_here() {
        let catalog = [s("Big Buck Bunny", &["short"]), s("Sintel", &["dragon"])];
        let here = history(&[("bunny-outtakes", 2), ("intro", 1)]);
        let friends = history(&[("intro", 5), ("dragon-documentary", 4)]);
        let all = rows(&catalog, &here, &friends, "");
        let seen: Vec<(Source, &str)> = all.iter().map(|r| (r.source, r.title.as_str())).collect();
        assert_eq!(
            seen,
            [
                (Source::Catalog, "Big Buck Bunny"),
                (Source::Catalog, "Sintel"),
                (Source::WatchedHere, "bunny-outtakes"),
                (Source::WatchedHere, "intro"),
                (Source::Friends, "dragon-documentary"),
            ]
        );
        assert_eq!(all[0].duration, Some(Span::from_secs(60)));
        let dragon: Vec<String> = rows(&catalog, &here, &friends, "dragon")
            .into_iter()
            .map(|r| r.title)
            .collect();
        assert_eq!(dragon, ["Sintel", "dragon-documentary"]);
        let bunny = rows(&catalog, &here, &friends, "BUNNY");
        assert_eq!(bunny.len(), 2);
        // An empty catalogue shows only history.
        let none = rows(&[], &here, &History::default(), "");
        assert!(none.iter().all(|r| r.source == Source::WatchedHere));
        assert_eq!(none.len(), 2);
    }
}
