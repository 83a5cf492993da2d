//! In-browser tests (wasm-bindgen-test in headless Chromium): the glue and components against
//! real web APIs. `cargo xtask test` runs them; the pure logic is tested natively instead.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

mod pages;
mod player;
mod room_crypto;

fn window() -> web_sys::Window {
    web_sys::window().expect("tests run in a page")
}

/// A fresh element to mount a component into, so tests do not see each other's DOM.
fn test_host() -> web_sys::HtmlElement {
    let document = window().document().unwrap();
    let host: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}
