//! Copying text to the clipboard, with feedback for the button that asked.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// What happened to the last copy request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyState {
    Idle,
    Copied,
    /// The browser refused (no permission, insecure context): the caller should offer manual copy.
    Failed,
}

#[derive(Clone, Copy)]
pub struct UseClipboard {
    pub state: ReadSignal<CopyState>,
    set_state: WriteSignal<CopyState>,
}

impl UseClipboard {
    /// Starts copying `text`; `state` reports the outcome.
    pub fn copy(&self, text: String) {
        let set_state = self.set_state;
        leptos::task::spawn_local(async move {
            let copied = match web_sys::window() {
                Some(window) => JsFuture::from(window.navigator().clipboard().write_text(&text))
                    .await
                    .is_ok(),
                None => false,
            };
            set_state.set(if copied {
                CopyState::Copied
            } else {
                CopyState::Failed
            });
        });
    }
}

pub fn use_clipboard() -> UseClipboard {
    let (state, set_state) = signal(CopyState::Idle);
    UseClipboard { state, set_state }
}
