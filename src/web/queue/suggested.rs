//! The Suggested tab's sources in the browser: `catalog.json` fetched once, this room's
//! history in this browser's storage, and what friends sent. What they hold and how they
//! merge is `programme::{catalog, history}`; this file only fetches, stores and publishes.

use crate::programme::catalog::{Catalog, Suggestion};
use crate::programme::history::{History, Watched};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The tab's sources, as signals for its panel; only this file writes them.
#[derive(Clone, Copy)]
pub struct Sources {
    pub catalog: RwSignal<Vec<Suggestion>>,
    pub here: RwSignal<History>,
    pub friends: RwSignal<History>,
    /// Where `here` is stored (`None` before the room's topic is known: kept for the page).
    key: StoredValue<Option<String>>,
    /// Rows of friends' lists (or whole lists) that were malformed, for the refusal count.
    pub refused: StoredValue<u64>,
}

impl Sources {
    /// Reads this room's history from storage and starts fetching the catalogue.
    pub fn new(topic: Option<String>) -> Sources {
        let key = topic.map(|t| super::history_key(&t));
        let stored = key
            .as_deref()
            .and_then(|k| super::local_storage()?.get_item(k).ok()?);
        let here = stored
            .map(|text| History::decode(&text).0)
            .unwrap_or_default();
        let sources = Sources {
            catalog: RwSignal::new(Vec::new()),
            here: RwSignal::new(here),
            friends: RwSignal::new(History::default()),
            key: StoredValue::new(key),
            refused: StoredValue::new(0),
        };
        let catalog = sources.catalog;
        leptos::task::spawn_local(async move {
            match fetch_catalog().await {
                Ok(c) => {
                    if !c.dropped.is_empty() {
                        let why = c.dropped.join("; ");
                        let count = c.dropped.len();
                        web_sys::console::warn_1(
                            &format!("catalog.json: {count} entries dropped: {why}").into(),
                        );
                    }
                    catalog.set(c.entries.into_iter().filter_map(absolute).collect());
                }
                Err(problem) => web_sys::console::warn_1(&problem.into()),
            }
        });
        sources
    }

    /// The room loaded `url`: a row of its history, stored at once.
    pub fn watched(&self, url: &str, title: String, at_ms: u64) {
        let row = Watched {
            url: url.to_owned(),
            title,
            at_ms,
        };
        let mut changed = false;
        self.here.update(|h| changed = h.record(row));
        if !changed {
            return;
        }
        let text = self.here.with_untracked(History::encode);
        let stored = self.key.with_value(|k| {
            let storage = super::local_storage()?;
            storage.set_item(k.as_deref()?, &text).ok()
        });
        if stored.is_none() {
            crate::web::debug_log!("the room's history could not be stored");
        }
    }

    /// A friend's list of what they watched: merged row by row, bad rows counted.
    pub fn friend_watched(&self, list: &str) {
        let (list, dropped) = History::decode(list);
        self.refused.update_value(|n| *n += dropped as u64);
        self.friends.update(|f| {
            f.merge(list);
        });
    }

    /// The catalogue's title for `url`, if it lists it (a suggestion added keeps its name).
    pub fn catalog_title(&self, url: &str) -> Option<String> {
        self.catalog
            .with_untracked(|c| c.iter().find(|s| s.url == url).map(|s| s.title.clone()))
    }
}

/// `s` with its links resolved against the page, as the queue and the history keep links;
/// `None` (dropped, with a warning) if the browser cannot read one as a link.
fn absolute(mut s: Suggestion) -> Option<Suggestion> {
    let page = crate::web::location::page_url();
    let resolve = |link: &str| Some(web_sys::Url::new_with_base(link, &page).ok()?.href());
    let Some(url) = resolve(&s.url) else {
        web_sys::console::warn_1(&format!("catalog.json: \"{}\" is not a link", s.url).into());
        return None;
    };
    s.url = url;
    s.thumbnail = s.thumbnail.as_deref().and_then(resolve);
    Some(s)
}

/// `catalog.json` next to the page, read; an empty catalogue when there is none (404).
async fn fetch_catalog() -> Result<Catalog, String> {
    let describe = crate::web::describe_js_error;
    let window = web_sys::window().ok_or("this page has no window")?;
    let response = JsFuture::from(window.fetch_with_str("catalog.json"))
        .await
        .map_err(|e| describe("could not fetch catalog.json", e))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|e| describe("fetch returned no response", e))?;
    if response.status() == 404 {
        return Ok(Catalog::default());
    }
    if !response.ok() {
        return Err(format!("catalog.json answered HTTP {}", response.status()));
    }
    let text = response
        .text()
        .map_err(|e| describe("could not read catalog.json", e))?;
    let text = JsFuture::from(text)
        .await
        .map_err(|e| describe("could not read catalog.json", e))?;
    Catalog::parse(&text.as_string().unwrap_or_default())
}
