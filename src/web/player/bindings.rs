//! Browser APIs the video adapter needs that web-sys does not bind (yet): frame callbacks and
//! pitch preservation. Declared on local views of the element (Rust allows no new methods on
//! web-sys's types), with `catch` wherever the browser may throw.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlVideoElement;

#[wasm_bindgen]
extern "C" {
    /// The metadata `requestVideoFrameCallback` passes with each presented frame.
    pub type VideoFrameMetadata;

    /// When the frame is expected to be visible, on the `performance.now()` clock (ms).
    #[wasm_bindgen(method, getter, js_name = expectedDisplayTime)]
    pub fn expected_display_time(this: &VideoFrameMetadata) -> f64;

    /// The media position of the frame (s).
    #[wasm_bindgen(method, getter, js_name = mediaTime)]
    pub fn media_time(this: &VideoFrameMetadata) -> f64;

    /// Frames handed to the compositor since the element loaded; gaps mean dropped frames.
    #[wasm_bindgen(method, getter, js_name = presentedFrames)]
    pub fn presented_frames(this: &VideoFrameMetadata) -> f64;

    /// The `<video>` element, seen through the members web-sys lacks.
    #[wasm_bindgen(js_name = HTMLVideoElement)]
    type VideoExt;

    #[wasm_bindgen(catch, method, js_name = requestVideoFrameCallback)]
    fn request_video_frame_callback(
        this: &VideoExt,
        callback: &js_sys::Function,
    ) -> Result<u32, JsValue>;

    #[wasm_bindgen(catch, method, js_name = cancelVideoFrameCallback)]
    fn cancel_video_frame_callback(this: &VideoExt, handle: u32) -> Result<(), JsValue>;

    #[wasm_bindgen(method, getter, js_name = preservesPitch)]
    fn preserves_pitch(this: &VideoExt) -> Option<bool>;

    #[wasm_bindgen(method, setter, js_name = preservesPitch)]
    fn set_preserves_pitch(this: &VideoExt, value: bool);
}

fn ext(video: &HtmlVideoElement) -> &VideoExt {
    video.unchecked_ref()
}

/// True where the browser presents frames through `requestVideoFrameCallback` (Chromium,
/// Safari 15.4+, Firefox 132+).
pub fn has_video_frame_callback(video: &HtmlVideoElement) -> bool {
    js_sys::Reflect::has(video, &JsValue::from_str("requestVideoFrameCallback")).unwrap_or(false)
}

/// Asks for `callback(now, metadata)` when the next frame is presented; returns its handle.
pub fn request_video_frame(video: &HtmlVideoElement, callback: &js_sys::Function) -> Option<u32> {
    ext(video).request_video_frame_callback(callback).ok()
}

pub fn cancel_video_frame(video: &HtmlVideoElement, handle: u32) {
    let _ = ext(video).cancel_video_frame_callback(handle);
}

/// Keeps the pitch when the rate changes (the default in browsers, but sync corrections must
/// never be heard, so it is set rather than assumed).
pub fn keep_pitch(video: &HtmlVideoElement) {
    ext(video).set_preserves_pitch(true);
}

/// Whether the pitch is preserved; `None` where the browser lacks the property.
pub fn pitch_preserved(video: &HtmlVideoElement) -> Option<bool> {
    ext(video).preserves_pitch()
}
