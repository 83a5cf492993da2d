//! What a bug that panics leaves in the console: its message and where in our source it was.
//!
//! `console_error_panic_hook` adds a JavaScript stack, which in a release build (names stripped)
//! lists only `wasm-function[N]` offsets; its formatting cost the first load 1.1 KB gzipped.

/// Sends every panic's message and place to `console.error`. A panic aborts the app
/// (`panic = "abort"`), so this is the last thing it says.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.payload_as_str().unwrap_or("(no message)");
        let (file, line) = info
            .location()
            .map_or(("(unknown place)", 0), |at| (at.file(), at.line()));
        web_sys::console::error_4(
            &"Insieme stopped on a bug:".into(),
            &message.into(),
            &file.into(),
            &line.into(),
        );
    }));
}
