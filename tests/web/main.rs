//! In-browser tests (wasm-bindgen-test in headless Chromium): the glue and components against
//! real web APIs. `cargo xtask test` runs them; the pure logic is tested natively instead.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

mod pages;
mod player;
mod room_crypto;
