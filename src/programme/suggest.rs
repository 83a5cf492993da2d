//! The Suggested tab's list: the catalogue, then what this room watched here, then what
//! friends recently watched (less what is already listed as watched here), each filtered by
//! the search box.

use super::catalog::Suggestion;
use super::fold::fold;
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

/// What was typed in the search box, folded (`fold`: case and accents) and cut into words.
pub struct Search {
    words: Vec<String>,
}

impl Search {
    pub fn new(query: &str) -> Search {
        Search {
            words: fold(query).split_whitespace().map(str::to_owned).collect(),
        }
    }

    /// Whether every word of the query appears in the title or a tag, folded alike. An empty
    /// query finds everything.
    pub fn finds(&self, title: &str, tags: &[String]) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let title = fold(title);
        let tags: Vec<String> = tags.iter().map(|t| fold(t)).collect();
        self.words.iter().all(|word| {
            title.contains(word.as_str()) || tags.iter().any(|t| t.contains(word.as_str()))
        })
    }
}

/// The rows to show for `query`, in the order of the tab's groups.
pub fn rows(catalog: &[Suggestion], here: &History, friends: &History, query: &str) -> Vec<Row> {
    let search = Search::new(query);
    let watched = |source, w: &Watched| Row {
        source,
        title: w.title.clone(),
        url: w.url.clone(),
        duration: None,
        thumbnail: None,
    };
    let from_catalog = catalog
        .iter()
        .filter(|s| search.finds(&s.title, &s.tags))
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
        .filter(|w| search.finds(&w.title, &[]))
        .map(|w| watched(Source::WatchedHere, w));
    let from_friends = friends
        .rows()
        .iter()
        .filter(|w| !here.rows().iter().any(|h| h.url == w.url))
        .filter(|w| search.finds(&w.title, &[]))
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

    fn matches(query: &str, title: &str, tags: &[String]) -> bool {
        Search::new(query).finds(title, tags)
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
    }

    #[test]
    fn titles_in_other_scripts_and_with_accents_are_found_as_typed_anywhere() {
        let found = |query: &str, title: &str| matches(query, title, &[]);
        // Accents and case fold both ways: the query's and the title's.
        assert!(found("CAFÉ", "Café Society"));
        assert!(found("cafe", "Café Society"));
        assert!(found("amelie", "Le Fabuleux Destin d'Amélie Poulain"));
        assert!(found("AMÉLIE", "Amélie"));
        assert!(found("école", "ÉCOLE DES FEMMES"));
        assert!(found("ecole", "ÉCOLE DES FEMMES"));
        // ß is "ss", in either direction and either case.
        assert!(found("straße", "STRASSE"));
        assert!(found("strasse", "Die Straße"));
        assert!(found("STRASSE", "Die Straße"));
        // Greek: case, final sigma and tonos.
        assert!(found("οδος", "ΟΔΌΣ ΠΡΟΣ"));
        assert!(found("ΑΘΗΝΑ", "Αθήνα by night"));
        assert!(found("σ", "ΟΔΌΣ"));
        // Turkish: both dotted and dotless i find "i" (the search cannot know the language).
        assert!(found("istanbul", "İSTANBUL"));
        assert!(found("İstanbul", "istanbul"));
        assert!(found("ısparta", "ISPARTA"));
        // Tags fold too.
        assert!(matches("animacion", "Sintel", &["Animación".to_string()]));
        // Different letters stay different.
        assert!(!found("ecole", "Eccles"));
        assert!(!found("иод", "Йод"));
        assert!(!found("ss", "Straßburg".replace('ß', "t").as_str()));
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
