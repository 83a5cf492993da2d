//! End-to-end encryption of everything that crosses the signaling endpoint, with WebCrypto.
//!
//! The room secret (from the link's fragment) is the HKDF-SHA256 input keying material for two
//! independent outputs, separated by their `info` labels:
//! - the topic: 256 bits the endpoint uses to group a room's browsers; it reveals nothing about
//!   the secret, and cannot be turned into the key;
//! - an AES-256-GCM key that seals every signaling payload (hello, offer, answer, candidate).
//!
//! Each sealed payload binds, as associated data, the route (the sender's and recipient's
//! endpoint ids) and the recipient's session id (drawn afresh by every page load; 0 only on a
//! first hello, whose sender does not know us yet). So the endpoint can neither read, alter nor
//! forge one, nor deliver it to another page, the same page reloaded included; DTLS fingerprints
//! travel inside, so it cannot substitute an offer either. Replaying a message to the page it
//! was sealed for is refused by its sequence number (`signaling::payload::Envelope`). What the
//! endpoint still sees and can do is in docs/threats.md. No cryptography here is hand-written.

use super::describe_js_error;
use crate::room_link::RoomSecret;
use crate::signaling::payload::SessionId;
use js_sys::{Array, Object, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesDerivedKeyParams, AesGcmParams, CryptoKey, HkdfParams, SubtleCrypto};

/// Domain separation: a fixed salt for this protocol version and one label per derived output.
const HKDF_SALT: &[u8] = b"insieme/v1";
const TOPIC_INFO: &[u8] = b"insieme/v1 signaling topic";
const PAYLOAD_KEY_INFO: &[u8] = b"insieme/v1 signaling payload key";
/// AES-GCM's standard 96-bit nonce, drawn at random for each message.
const NONCE_BYTES: usize = 12;

/// The keys of one room.
#[derive(Clone)]
pub struct RoomKeys {
    /// The 43-character base64url topic the endpoint sees.
    pub topic: String,
    payload_key: CryptoKey,
}

pub(crate) fn subtle() -> Result<SubtleCrypto, String> {
    let window = web_sys::window().ok_or("this page has no window")?;
    let crypto = window
        .crypto()
        .map_err(|e| describe_js_error("no WebCrypto", e))?;
    Ok(crypto.subtle())
}

/// A WebCrypto promise's result, or what failed (`what`) in words.
pub(crate) async fn resolve(
    promise: Result<js_sys::Promise, JsValue>,
    what: &str,
) -> Result<JsValue, String> {
    let promise = promise.map_err(|e| describe_js_error(what, e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| describe_js_error(what, e))
}

fn hkdf(info: &[u8]) -> HkdfParams {
    HkdfParams::new_with_str(
        "HKDF",
        "SHA-256",
        &Uint8Array::from(info),
        &Uint8Array::from(HKDF_SALT),
    )
}

impl RoomKeys {
    pub async fn derive(secret: &RoomSecret) -> Result<Self, String> {
        let subtle = subtle()?;
        let usages = Array::of2(&"deriveBits".into(), &"deriveKey".into());
        let secret_bytes = Uint8Array::from(&secret.as_bytes()[..]);
        let base_key: CryptoKey = resolve(
            subtle.import_key_with_str("raw", &secret_bytes, "HKDF", false, &usages),
            "importing the room secret",
        )
        .await?
        .unchecked_into();

        let topic_bits = resolve(
            subtle.derive_bits_with_object(&hkdf(TOPIC_INFO), &base_key, 256),
            "deriving the topic",
        )
        .await?;
        let topic = crate::base64url::encode(Uint8Array::new(&topic_bits).to_vec());

        let payload_key: CryptoKey = resolve(
            subtle.derive_key_with_object_and_object(
                &hkdf(PAYLOAD_KEY_INFO),
                &base_key,
                &AesDerivedKeyParams::new("AES-GCM", 256),
                false,
                &Array::of2(&"encrypt".into(), &"decrypt".into()),
            ),
            "deriving the payload key",
        )
        .await?
        .unchecked_into();
        Ok(Self { topic, payload_key })
    }

    /// Encrypts `plaintext` from `from` to `to`, for session `to_session` (0: whoever is
    /// there): returns nonce ‖ ciphertext ‖ tag.
    pub async fn seal(
        &self,
        from: &str,
        to: &str,
        to_session: SessionId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_BYTES];
        web_sys::window()
            .ok_or("this page has no window")?
            .crypto()
            .and_then(|c| c.get_random_values_with_u8_array(&mut nonce))
            .map_err(|e| describe_js_error("drawing a nonce", e))?;
        let params = gcm_params(&nonce, from, to, to_session);
        let sealed = resolve(
            subtle()?.encrypt_with_object_and_u8_array(&params, &self.payload_key, plaintext),
            "encrypting a signaling message",
        )
        .await?;
        let mut out = nonce.to_vec();
        out.extend(Uint8Array::new(&sealed).to_vec());
        Ok(out)
    }

    /// Decrypts what `from` sealed for `to` and session `to_session`; any tampering, wrong
    /// room, wrong route or wrong recipient fails.
    pub async fn open(
        &self,
        from: &str,
        to: &str,
        to_session: SessionId,
        sealed: &[u8],
    ) -> Result<Vec<u8>, String> {
        if sealed.len() < NONCE_BYTES + 16 {
            return Err("sealed message is too short".into());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let params = gcm_params(nonce, from, to, to_session);
        let plain = resolve(
            subtle()?.decrypt_with_object_and_u8_array(&params, &self.payload_key, ciphertext),
            "decrypting a signaling message",
        )
        .await?;
        Ok(Uint8Array::new(&plain).to_vec())
    }
}

/// AES-GCM parameters whose associated data is the route `from → to` and the recipient.
fn gcm_params(nonce: &[u8], from: &str, to: &str, to_session: SessionId) -> Object {
    let params = AesGcmParams::new("AES-GCM", &Uint8Array::from(nonce));
    let route = format!("{from}>{to}#{to_session}");
    params.set_additional_data(&Uint8Array::from(route.as_bytes()));
    params.unchecked_into()
}
