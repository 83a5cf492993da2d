//! The person's display name, remembered in localStorage so they are asked only once.

use crate::room::wire::{normalize_name, visible_name, MAX_NAME_CHARS};
use leptos::prelude::*;

const KEY: &str = "insieme.name";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A typed name as the others will show it (see [`visible_name`]), bounded; `None` if nothing
/// visible was typed.
pub fn clean_name(typed: &str) -> Option<String> {
    let name: String = visible_name(typed).chars().take(MAX_NAME_CHARS).collect();
    normalize_name(&name)
}

/// The remembered name (if any) as a signal, and a setter that also remembers it.
pub fn use_stored_name() -> (ReadSignal<Option<String>>, impl Fn(String) + Copy) {
    let stored = storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|n| clean_name(&n));
    let (name, set_name) = signal(stored);
    let remember = move |typed: String| {
        if let Some(clean) = clean_name(&typed) {
            if let Some(storage) = storage() {
                // Private modes may refuse storage; the name then lasts for this visit only.
                let _ = storage.set_item(KEY, &clean);
            }
            set_name.set(Some(clean));
        }
    };
    (name, remember)
}
