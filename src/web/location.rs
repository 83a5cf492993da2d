//! The page's location: its fragment, which carries the room secret, and whether it is secure.

use super::event_listener::use_window_listener;
use leptos::prelude::*;

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The location fragment (`#...`) as a signal, following `hashchange` (links, back/forward).
pub fn use_location_hash() -> ReadSignal<String> {
    let (hash, set_hash) = signal(current_hash());
    use_window_listener("hashchange", move |_| set_hash.set(current_hash()));
    hash
}

/// Navigates to a fragment of this page; `hashchange` then re-routes the app.
pub fn navigate_to_fragment(fragment: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("this page has no window")?;
    window
        .location()
        .set_hash(fragment)
        .map_err(|e| super::describe_js_error("could not open the room", e))
}

/// Whether the page is a secure context (https, or localhost): only then do browsers offer
/// WebCrypto, which every room needs.
pub fn is_secure_context() -> bool {
    web_sys::window().is_some_and(|w| w.is_secure_context())
}

/// The page's full URL, from which room links are built.
pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}
