//! Our camera and microphone: `getUserMedia` with the constraints a call wants, and its
//! failures as [`MediaProblem`]s a person can act on.

use crate::call::MediaProblem;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

/// The camera is captured this large at most: tiles are at most 180 px high (twice that on a
/// dense screen still needs no more), and every receiver in a mesh costs one encode of it,
/// which competes with the film's decoding for the CPU.
const CAPTURE_WIDTH: u32 = 426;
const CAPTURE_HEIGHT: u32 = 240;
/// Faces need no more, and half the frames is half the encoding.
const CAPTURE_FPS: u32 = 15;

/// What was captured: one stream with at most one audio and one video track.
#[derive(Clone)]
pub struct LocalMedia {
    pub stream: MediaStream,
    pub audio: Option<MediaStreamTrack>,
    pub video: Option<MediaStreamTrack>,
}

impl LocalMedia {
    /// Stops the tracks (the camera light goes off, the microphone is released).
    pub fn stop(&self) {
        for track in self.audio.iter().chain(self.video.iter()) {
            track.stop();
        }
    }

    /// The height the camera actually delivers, for scaling what we send.
    pub fn video_height(&self) -> u32 {
        self.video
            .as_ref()
            .and_then(|track| {
                let settings = js_sys::Reflect::get(track, &"getSettings".into())
                    .ok()?
                    .dyn_into::<js_sys::Function>()
                    .ok()?
                    .call0(track)
                    .ok()?;
                js_sys::Reflect::get(&settings, &"height".into())
                    .ok()?
                    .as_f64()
            })
            .map(|h| h as u32)
            .unwrap_or(CAPTURE_HEIGHT)
    }
}

/// Asks for the microphone and/or the camera. Voice processing (echo cancellation, noise
/// suppression, automatic gain) is asked for explicitly: the film plays in the same room.
pub async fn capture(microphone: bool, camera: bool) -> Result<LocalMedia, MediaProblem> {
    let devices = web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| n.media_devices().ok())
        // Browsers hide `mediaDevices` outside secure contexts (https or localhost).
        .ok_or(MediaProblem::Insecure)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&if microphone {
        object(&[
            ("echoCancellation", true.into()),
            ("noiseSuppression", true.into()),
            ("autoGainControl", true.into()),
        ])
    } else {
        false.into()
    });
    constraints.set_video(&if camera {
        object(&[
            ("width", object(&[("ideal", CAPTURE_WIDTH.into())])),
            ("height", object(&[("ideal", CAPTURE_HEIGHT.into())])),
            (
                "frameRate",
                object(&[("ideal", CAPTURE_FPS.into()), ("max", CAPTURE_FPS.into())]),
            ),
        ])
    } else {
        false.into()
    });
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(problem)?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(problem)?
        .unchecked_into();
    let first = |tracks: js_sys::Array| tracks.get(0).dyn_into::<MediaStreamTrack>().ok();
    Ok(LocalMedia {
        audio: first(stream.get_audio_tracks()),
        video: first(stream.get_video_tracks()),
        stream,
    })
}

/// A `getUserMedia` rejection (a `DOMException`, by name) as a problem.
fn problem(error: JsValue) -> MediaProblem {
    let name = js_sys::Reflect::get(&error, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    let message = js_sys::Reflect::get(&error, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default();
    MediaProblem::from_dom_error(&name, &message)
}

/// A plain JS object with these members, for constraint dictionaries.
fn object(members: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in members {
        let _ = js_sys::Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}
