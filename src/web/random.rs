//! Room secrets from the browser's cryptographically secure generator.

use super::describe_js_error;
use crate::room_link::{RoomSecret, SECRET_BYTES};

/// A fresh 128-bit room secret from `crypto.getRandomValues`.
pub fn new_room_secret() -> Result<RoomSecret, String> {
    let window = web_sys::window().ok_or("this page has no window")?;
    let crypto = window
        .crypto()
        .map_err(|e| describe_js_error("the browser offers no secure random generator", e))?;
    let mut bytes = [0u8; SECRET_BYTES];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| describe_js_error("could not draw random bytes", e))?;
    Ok(RoomSecret::from_bytes(bytes))
}
