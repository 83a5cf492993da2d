//! Browser glue: thin wrappers over web APIs, shaped as `use_x` hooks where they hold state.
//!
//! Nothing here decides anything; decisions live in the pure modules so they are tested natively.

pub mod app_config;
pub mod clipboard;
pub mod event_listener;
pub mod location;
pub mod mesh;
pub mod party;
pub mod player;
pub mod player_driver;
pub mod random;
pub mod room_crypto;
pub mod serial_queue;
pub mod signaling_client;
pub mod stored_name;

use wasm_bindgen::JsValue;

/// Turns a JS exception into text a person can read in the interface or the console.
pub(crate) fn describe_js_error(context: &str, error: JsValue) -> String {
    let detail = js_sys::Error::try_from(error.clone())
        .map(|e| String::from(e.message()))
        .ok()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"));
    format!("{context}: {detail}")
}

/// The page's monotonic clock (`performance.now()`, ms): the local time the sync engine runs on.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}
