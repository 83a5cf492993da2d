//! Our tracks on one peer connection: one audio and one video transceiver per link, reused
//! across leaving and rejoining the call so the session description does not grow, and the
//! encoding each sender is held to.

use crate::call::{SendEncoding, AUDIO_MAX_BITRATE_BPS};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcPeerConnection, RtcRtpSender, RtcRtpTransceiver,
    RtcRtpTransceiverDirection,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Audio,
    Video,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

/// The transceivers we send on, per link.
#[derive(Default)]
pub struct LinkSenders {
    audio: Option<RtcRtpTransceiver>,
    video: Option<RtcRtpTransceiver>,
    /// The budgets last applied to each sender (cleared if the browser refused them), so an
    /// unchanged budget is not applied again: every presence in the room recomputes them, and
    /// overlapping `setParameters` calls refuse each other.
    video_applied: Rc<Cell<Option<SendEncoding>>>,
    audio_applied: Rc<Cell<bool>>,
}

impl LinkSenders {
    fn slot(&mut self, kind: Kind) -> &mut Option<RtcRtpTransceiver> {
        match kind {
            Kind::Audio => &mut self.audio,
            Kind::Video => &mut self.video,
        }
    }

    /// Sends `track` as our `kind` on `pc`, or stops sending that kind (`None`).
    ///
    /// The first time a kind is sent it goes through `addTrack`, which reuses a transceiver the
    /// peer's own offer created (so two people joining at once share one m-line per kind rather
    /// than adding two); after that the same transceiver's track is replaced. A direction
    /// change makes the mesh renegotiate, so the peer learns whether to expect media.
    pub fn send(
        &mut self,
        pc: &RtcPeerConnection,
        kind: Kind,
        track: Option<&MediaStreamTrack>,
        stream: &MediaStream,
    ) {
        let existing = self.slot(kind).clone().filter(|t| !t.stopped());
        match (existing, track) {
            (Some(transceiver), track) => {
                replace_track(&transceiver.sender(), track);
                let direction = if track.is_some() {
                    RtcRtpTransceiverDirection::Sendrecv
                } else {
                    RtcRtpTransceiverDirection::Recvonly
                };
                if transceiver.direction() != direction {
                    transceiver.set_direction(direction);
                }
            }
            (None, Some(track)) => {
                let sender = pc.add_track_0(track, stream);
                *self.slot(kind) = transceiver_of(pc, &sender);
                // A new sender has no budget yet.
                self.video_applied.set(None);
                self.audio_applied.set(false);
            }
            (None, None) => {}
        }
    }

    /// Holds our senders to their budgets (see [`crate::call::bandwidth`]).
    pub fn apply_encoding(&self, video: &SendEncoding) {
        let video = *video;
        if let Some(transceiver) = self
            .video
            .as_ref()
            .filter(|_| self.video_applied.get() != Some(video))
        {
            let applied = self.video_applied.clone();
            applied.set(Some(video));
            set_encoding(
                transceiver.sender(),
                move || applied.set(None),
                move |encoding| {
                    set(encoding, "maxBitrate", video.max_bitrate_bps.into());
                    set(
                        encoding,
                        "scaleResolutionDownBy",
                        video.scale_resolution_down_by.into(),
                    );
                    set(encoding, "maxFramerate", video.max_framerate.into());
                },
            );
        }
        if let Some(transceiver) = self.audio.as_ref().filter(|_| !self.audio_applied.get()) {
            let applied = self.audio_applied.clone();
            applied.set(true);
            set_encoding(
                transceiver.sender(),
                move || applied.set(false),
                |encoding| {
                    set(encoding, "maxBitrate", AUDIO_MAX_BITRATE_BPS.into());
                    // Voice before pictures when the uplink is short.
                    set(encoding, "networkPriority", "medium".into());
                },
            );
        }
    }
}

/// The remote track's kind, as the call tells audio from video.
pub fn kind_of(track: &MediaStreamTrack) -> Option<Kind> {
    [Kind::Audio, Kind::Video]
        .into_iter()
        .find(|kind| track.kind() == kind.name())
}

fn transceiver_of(pc: &RtcPeerConnection, sender: &RtcRtpSender) -> Option<RtcRtpTransceiver> {
    pc.get_transceivers()
        .iter()
        .filter_map(|t| t.dyn_into::<RtcRtpTransceiver>().ok())
        .find(|t| t.sender() == *sender)
}

fn replace_track(sender: &RtcRtpSender, track: Option<&MediaStreamTrack>) {
    let promise = sender.replace_track(track);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = JsFuture::from(promise).await {
            let problem = crate::web::describe_js_error("replacing a call track", error);
            web_sys::console::warn_1(&problem.into());
        }
    });
}

/// Changes the first encoding of `sender`'s parameters with `edit` and applies them; calls
/// `not_applied` if that could not be done, so a later change tries again. Browsers refuse
/// parameters that were not just read, so each change is a read-modify-write.
fn set_encoding(
    sender: RtcRtpSender,
    not_applied: impl FnOnce() + 'static,
    edit: impl FnOnce(&JsValue),
) {
    let parameters = sender.get_parameters();
    let encodings = js_sys::Reflect::get(&parameters, &"encodings".into())
        .ok()
        .and_then(|e| e.dyn_into::<js_sys::Array>().ok());
    let Some(encoding) = encodings.map(|e| e.get(0)).filter(|e| e.is_object()) else {
        // Not negotiated yet: the next link change applies it.
        return not_applied();
    };
    edit(&encoding);
    let promise = sender.set_parameters_with_parameters(&parameters);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = JsFuture::from(promise).await {
            not_applied();
            let problem = crate::web::describe_js_error("limiting a call sender", error);
            web_sys::console::warn_1(&problem.into());
        }
    });
}

fn set(object: &JsValue, key: &str, value: JsValue) {
    let _ = js_sys::Reflect::set(object, &key.into(), &value);
}
