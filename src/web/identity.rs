//! This page's identity in a room: one DTLS certificate for all its peer connections, and the
//! session id its fingerprint gives (the rule is [`crate::mesh::identity`]'s).
//!
//! The fingerprint is read from an offer made with the certificate rather than from
//! `RTCCertificate.getFingerprints()`, which not every browser has: the same words the others
//! will check, whatever the browser.

use super::describe_js_error;
use crate::mesh::identity::{sdp_fingerprint, session_of_fingerprint};
use crate::signaling::payload::SessionId;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RtcCertificate, RtcConfiguration, RtcPeerConnection};

#[derive(Clone)]
pub struct PageIdentity {
    pub session: SessionId,
    /// Given to every peer connection of this page (`RTCConfiguration.certificates`).
    pub certificate: RtcCertificate,
}

/// Makes this page's certificate (ECDSA P-256, kept only in memory: a reload is a new
/// session) and the session id it gives.
pub async fn new_page_identity() -> Result<PageIdentity, String> {
    let algorithm = Object::new();
    let set = |key: &str, value: &str| Reflect::set(&algorithm, &key.into(), &value.into());
    set("name", "ECDSA")
        .and_then(|_| set("namedCurve", "P-256"))
        .map_err(|e| describe_js_error("describing the certificate", e))?;
    let certificate: RtcCertificate = await_js(
        RtcPeerConnection::generate_certificate_with_object(&algorithm),
        "making this page's certificate",
    )
    .await?
    .unchecked_into();

    let config = RtcConfiguration::new();
    config.set_certificates(&Array::of1(&certificate));
    let pc = RtcPeerConnection::new_with_configuration(&config)
        .map_err(|e| describe_js_error("reading the certificate's fingerprint", e))?;
    let _ = pc.create_data_channel("identity");
    let offer = await_js(
        Ok(pc.create_offer()),
        "reading the certificate's fingerprint",
    )
    .await;
    pc.close();
    let sdp = Reflect::get(&offer?, &"sdp".into())
        .ok()
        .and_then(|sdp| sdp.as_string())
        .ok_or("the browser made an offer without SDP")?;
    let session = sdp_fingerprint(&sdp)
        .and_then(session_of_fingerprint)
        .ok_or("the browser's offer states no SHA-256 certificate fingerprint")?;
    Ok(PageIdentity {
        session,
        certificate,
    })
}

async fn await_js(
    promise: Result<js_sys::Promise, JsValue>,
    what: &str,
) -> Result<JsValue, String> {
    let promise = promise.map_err(|e| describe_js_error(what, e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| describe_js_error(what, e))
}
