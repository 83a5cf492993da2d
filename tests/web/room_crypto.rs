//! Room keys through the browser's WebCrypto.

use insieme::room_link::RoomSecret;
use insieme::web::room_crypto::RoomKeys;
use wasm_bindgen_test::*;

const ALICE: &str = "aaaaaaaaaaaaaaaaaaaaaa";
const BOB: &str = "bbbbbbbbbbbbbbbbbbbbbb";
/// Bob's page's session id, and the one his page gets when reloaded.
const BOBS_PAGE: u64 = 0x0b0b;
const BOBS_RELOADED_PAGE: u64 = 0x0b0c;

async fn keys(byte: u8) -> RoomKeys {
    RoomKeys::derive(&RoomSecret::from_bytes([byte; 16]))
        .await
        .expect("derivation works")
}

#[wasm_bindgen_test]
async fn everyone_with_the_link_derives_the_same_topic() {
    let (first, again, other_room) = (keys(1).await, keys(1).await, keys(2).await);
    assert_eq!(first.topic.len(), 43);
    assert!(first
        .topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(first.topic, again.topic);
    assert_ne!(first.topic, other_room.topic);
    // The topic is not the secret in disguise.
    assert!(!first
        .topic
        .contains(&RoomSecret::from_bytes([1; 16]).to_fragment()));
}

#[wasm_bindgen_test]
async fn sealed_messages_open_only_for_their_route_and_room() {
    let (alice, bob, stranger) = (keys(1).await, keys(1).await, keys(2).await);
    let offer = b"v=0 a=fingerprint:sha-256 AB:CD";
    let sealed = alice.seal(ALICE, BOB, BOBS_PAGE, offer).await.unwrap();
    assert!(
        !sealed.windows(3).any(|w| w == b"v=0"),
        "plaintext leaked into the ciphertext"
    );
    assert_eq!(
        bob.open(ALICE, BOB, BOBS_PAGE, &sealed).await.unwrap(),
        offer
    );

    // Redirected to another peer, or claimed to come from someone else: refused.
    assert!(bob
        .open(ALICE, "cccccccccccccccccccccc", BOBS_PAGE, &sealed)
        .await
        .is_err());
    assert!(bob.open(BOB, BOB, BOBS_PAGE, &sealed).await.is_err());
    // The same route but another page of Bob's (his reload, given the same endpoint id), or
    // "whoever is there": refused.
    assert!(bob
        .open(ALICE, BOB, BOBS_RELOADED_PAGE, &sealed)
        .await
        .is_err());
    assert!(bob.open(ALICE, BOB, 0, &sealed).await.is_err());
    // Another room's key: refused.
    assert!(stranger.open(ALICE, BOB, BOBS_PAGE, &sealed).await.is_err());
    // Any flipped bit: refused.
    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(bob.open(ALICE, BOB, BOBS_PAGE, &tampered).await.is_err());
    // Garbage shorter than a nonce and a tag: refused, no panic.
    assert!(bob.open(ALICE, BOB, BOBS_PAGE, &[1, 2, 3]).await.is_err());
}

#[wasm_bindgen_test]
async fn the_same_message_seals_differently_each_time() {
    let alice = keys(1).await;
    let first = alice.seal(ALICE, BOB, BOBS_PAGE, b"hello").await.unwrap();
    let second = alice.seal(ALICE, BOB, BOBS_PAGE, b"hello").await.unwrap();
    assert_ne!(first, second, "nonces must not repeat");
}
