//! The page's signing key for a hosted room, and signature checks, with WebCrypto.
//!
//! Each page has one ECDSA P-256 key pair per hosted room. The private key is made
//! non-extractable: script on the page can ask the browser to sign with it, never read it.
//! It is kept in IndexedDB (which stores `CryptoKey` objects as they are, without exporting
//! them) under the room's host key id, so a reload is the same signer: the host stays host and
//! a co-host stays co-host. The public key travels raw (65 bytes); its id is the first 16 bytes
//! of its SHA-256 ([`KeyId`]). No cryptography here is hand-written.

use crate::room::host::{KeyId, PUBLIC_KEY_BYTES};
use crate::web::describe_js_error;
use crate::web::room_crypto::{resolve, subtle};
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbDatabase, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "insieme";
const STORE: &str = "room-keys";

/// This page's key pair for one room.
#[derive(Clone)]
pub struct SigningKey {
    private: CryptoKey,
    /// The raw public key, as every statement carries it.
    pub public: Vec<u8>,
    pub id: KeyId,
}

fn object(pairs: &[(&str, &str)]) -> Object {
    let object = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&object, &(*key).into(), &(*value).into());
    }
    object
}

fn curve() -> Object {
    object(&[("name", "ECDSA"), ("namedCurve", "P-256")])
}

fn ecdsa() -> Object {
    object(&[("name", "ECDSA"), ("hash", "SHA-256")])
}

/// SHA-256 of `bytes`.
pub async fn sha256(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let digest = resolve(
        subtle()?.digest_with_str_and_u8_array("SHA-256", bytes),
        "hashing",
    )
    .await?;
    Ok(Uint8Array::new(&digest).to_vec())
}

/// The id of the raw public key `public`.
pub async fn key_id(public: &[u8]) -> Result<KeyId, String> {
    KeyId::from_digest(&sha256(public).await?).ok_or_else(|| "a short digest".into())
}

impl SigningKey {
    /// A fresh key pair (the private half non-extractable).
    pub async fn generate() -> Result<SigningKey, String> {
        let usages = Array::of2(&"sign".into(), &"verify".into());
        let pair = resolve(
            subtle()?.generate_key_with_object(&curve(), false, &usages),
            "making a signing key",
        )
        .await?;
        SigningKey::from_pair(&pair).await
    }

    async fn from_pair(pair: &JsValue) -> Result<SigningKey, String> {
        let get = |name: &str| -> Result<CryptoKey, String> {
            Reflect::get(pair, &name.into())
                .ok()
                .and_then(|k| k.dyn_into::<CryptoKey>().ok())
                .ok_or_else(|| format!("the key pair has no {name}"))
        };
        let (private, public_key) = (get("privateKey")?, get("publicKey")?);
        let raw = resolve(
            subtle()?.export_key("raw", &public_key),
            "reading the public key",
        )
        .await?;
        let public = Uint8Array::new(&raw).to_vec();
        if public.len() != PUBLIC_KEY_BYTES {
            return Err("the browser exported a public key of an unexpected size".into());
        }
        let id = key_id(&public).await?;
        Ok(SigningKey {
            private,
            public,
            id,
        })
    }

    /// Signs `bytes` (ECDSA P-256, SHA-256; 64 bytes).
    pub async fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let signature = resolve(
            subtle()?.sign_with_object_and_u8_array(&ecdsa(), &self.private, bytes),
            "signing",
        )
        .await?;
        Ok(Uint8Array::new(&signature).to_vec())
    }

    /// The key kept for `room`, or a new one (then kept), so a reload signs as before.
    pub async fn for_room(room: KeyId) -> Result<SigningKey, String> {
        let db = open().await?;
        if let Some(pair) = load(&db, room).await? {
            if let Ok(key) = SigningKey::from_pair(&pair).await {
                return Ok(key);
            }
        }
        let key = SigningKey::generate().await?;
        key.keep(&db, room).await?;
        Ok(key)
    }

    /// A new key for a party this page is starting: kept under its own id, which the link
    /// will name.
    pub async fn for_new_party() -> Result<SigningKey, String> {
        let key = SigningKey::generate().await?;
        key.keep(&open().await?, key.id).await?;
        Ok(key)
    }

    async fn keep(&self, db: &IdbDatabase, room: KeyId) -> Result<(), String> {
        let pair = Object::new();
        let public = resolve(
            subtle()?.import_key_with_object(
                "raw",
                &Uint8Array::from(&self.public[..]),
                &curve(),
                true,
                &Array::of1(&"verify".into()),
            ),
            "keeping the public key",
        )
        .await?;
        let _ = Reflect::set(&pair, &"privateKey".into(), &self.private);
        let _ = Reflect::set(&pair, &"publicKey".into(), &public);
        let store = db
            .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
            .and_then(|t| t.object_store(STORE))
            .map_err(|e| describe_js_error("keeping the signing key", e))?;
        let request = store
            .put_with_key(&pair, &room.to_text().into())
            .map_err(|e| describe_js_error("keeping the signing key", e))?;
        done(&request, "keeping the signing key").await.map(drop)
    }
}

/// Whether `signature` by the raw public key `public` is valid over `bytes`.
pub async fn verify(public: &[u8], signature: &[u8], bytes: &[u8]) -> Result<bool, String> {
    let key: CryptoKey = resolve(
        subtle()?.import_key_with_object(
            "raw",
            &Uint8Array::from(public),
            &curve(),
            false,
            &Array::of1(&"verify".into()),
        ),
        "reading a public key",
    )
    .await?
    .unchecked_into();
    let valid = resolve(
        subtle()?.verify_with_object_and_u8_array_and_u8_array(&ecdsa(), &key, signature, bytes),
        "checking a signature",
    )
    .await?;
    Ok(valid.as_bool() == Some(true))
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("this page has no window")?
        .indexed_db()
        .map_err(|e| describe_js_error("opening the key store", e))?
        .ok_or("this browser keeps no IndexedDB here (a private window?)")?;
    let request = factory
        .open_with_u32(DATABASE, 1)
        .map_err(|e| describe_js_error("opening the key store", e))?;
    let upgrading = request.clone();
    let upgrade = Closure::once_into_js(move |_: JsValue| {
        if let Ok(db) = upgrading.result() {
            let _ = db
                .unchecked_into::<IdbDatabase>()
                .create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    Ok(done(&request, "opening the key store")
        .await?
        .unchecked_into())
}

async fn load(db: &IdbDatabase, room: KeyId) -> Result<Option<JsValue>, String> {
    let request = db
        .transaction_with_str(STORE)
        .and_then(|t| t.object_store(STORE))
        .and_then(|s| s.get(&room.to_text().into()))
        .map_err(|e| describe_js_error("reading the key store", e))?;
    let value = done(&request, "reading the key store").await?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// The result of an IndexedDB request, once it succeeds.
async fn done(request: &IdbRequest, what: &str) -> Result<JsValue, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let succeeded = request.clone();
        let ok = Closure::once_into_js(move |_: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &succeeded.result().unwrap_or_default());
        });
        let failed = Closure::once_into_js(move |_: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &"the request failed".into());
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(failed.unchecked_ref()));
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| describe_js_error(what, e))
}
