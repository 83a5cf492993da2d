//! The pages, mounted for real: landing, room and invalid link.

use crate::{test_host, window};
use insieme::room_link::{RoomSecret, Route};
use insieme::ui::{App, Landing};
use insieme::web::random::new_room_secret;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

fn text_of(host: &web_sys::HtmlElement) -> String {
    host.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
fn room_secrets_come_from_the_browser_and_differ() {
    let first = new_room_secret().unwrap();
    let second = new_room_secret().unwrap();
    assert_ne!(first, second, "two draws of 128 random bits collided");
    let reparsed = RoomSecret::from_fragment(&first.to_fragment()).unwrap();
    assert_eq!(reparsed, first);
}

/// Waits `ms` milliseconds (the browser's timer).
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

#[wasm_bindgen_test]
async fn start_button_opens_a_new_room() {
    window().location().set_hash("").unwrap();
    let host = test_host();
    let _mounted = leptos::mount::mount_to(host.clone(), Landing);
    let button: web_sys::HtmlElement = host
        .query_selector("button")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(button.text_content().unwrap(), "Start a watch party");

    button.click();

    // The host's signing key is made (and kept) first: the link names it.
    let mut hash = String::new();
    for _ in 0..250 {
        hash = window().location().hash().unwrap();
        if !hash.is_empty() {
            break;
        }
        sleep_ms(20).await;
    }
    assert!(
        matches!(Route::from_hash(&hash), Route::Room(_, Some(_))),
        "landed on {hash:?}"
    );
    window().location().set_hash("").unwrap();
}

#[wasm_bindgen_test]
fn a_malformed_link_is_explained_with_a_way_back() {
    window().location().set_hash("not-a-room").unwrap();
    let host = test_host();
    let _mounted = leptos::mount::mount_to(host.clone(), App);

    let text = text_of(&host);
    assert!(
        text.contains("This room link does not work"),
        "page said: {text}"
    );
    assert!(
        text.contains("22 characters"),
        "the reason is missing: {text}"
    );
    let back = host
        .query_selector("a.button")
        .unwrap()
        .expect("a way back");
    assert_eq!(back.text_content().unwrap(), "Back to start");
    window().location().set_hash("").unwrap();
}

#[wasm_bindgen_test]
fn a_room_link_shows_the_link_to_share() {
    let secret = new_room_secret().unwrap();
    window().location().set_hash(&secret.to_fragment()).unwrap();
    let host = test_host();
    let _mounted = leptos::mount::mount_to(host.clone(), App);

    let input: web_sys::HtmlInputElement = host
        .query_selector("#room-link")
        .unwrap()
        .expect("the link box")
        .unchecked_into();
    assert!(
        input
            .value()
            .ends_with(&format!("#{}", secret.to_fragment())),
        "link: {}",
        input.value()
    );
    assert!(text_of(&host).contains("Copy room link"));
    window().location().set_hash("").unwrap();
}
