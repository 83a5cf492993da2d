//! Browser glue: thin wrappers over web APIs, shaped as `use_x` hooks where they hold state.
//!
//! Nothing here decides anything; decisions live in the pure modules so they are tested natively.

pub mod app_config;
pub mod call;
pub mod chunk;
pub mod clipboard;
pub mod dom;
pub mod event_listener;
pub mod host;
pub mod identity;
pub mod keyboard;
pub mod location;
pub mod mesh;
pub mod panic_log;
pub mod party;
pub mod player;
pub mod player_driver;
pub mod programme;
pub mod queue;
pub mod random;
pub mod reactions;
pub mod ready;
pub mod room_crypto;
pub mod serial_queue;
pub mod signaling_client;
pub mod stored_name;

use wasm_bindgen::JsValue;

/// Verbose diagnostics for the console (`console.debug`, hidden unless the console shows verbose
/// messages), as `format!` takes them. Compiled into debug builds and into release builds with the
/// `verbose-log` feature only: in the shipped build these messages would keep alive the `Debug`
/// impls of the sync engine's types and the float formatting they print with, tens of KB of wasm
/// for messages nobody sees. The arguments are still type-checked in every build.
macro_rules! debug_log {
    ($($arg:tt)*) => {
        if cfg!(any(debug_assertions, feature = "verbose-log")) {
            web_sys::console::debug_1(&format!($($arg)*).into());
        }
    };
}
pub(crate) use debug_log;

/// Turns a JS exception into text a person can read in the interface or the console.
pub(crate) fn describe_js_error(context: &str, error: JsValue) -> String {
    let detail = js_sys::Error::try_from(error.clone())
        .map(|e| String::from(e.message()))
        .ok()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"));
    format!("{context}: {detail}")
}

/// A number as JavaScript writes it (`String(value)`), so the wasm needs no float formatting of
/// its own: for the times, rates and volumes we show, the same text as Rust's `Display`.
pub(crate) fn number_text(value: f64) -> String {
    js_sys::Number::from(value)
        .to_string_with_radix(10)
        .map(String::from)
        .unwrap_or_default()
}

/// Sets `signal` to `value` only if that changes it, so its readers are not woken (nor the
/// page redrawn) for nothing.
pub(crate) fn set_if_changed<T: PartialEq>(
    signal: impl leptos::prelude::Update<Value = T>,
    value: T,
) {
    signal.maybe_update(|current| {
        let changed = *current != value;
        if changed {
            *current = value;
        }
        changed
    });
}

/// The page's monotonic clock (`performance.now()`, ms): the local time the sync engine runs on.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

/// [`now_ms`] as the pure machines' local time.
pub fn local_now() -> crate::sync::LocalTime {
    crate::sync::LocalTime::from_millis_f64(now_ms())
}
