//! Our camera and microphone in the call: joining, leaving, mute and push-to-talk, the camera
//! on and off, and a device that fails or goes away.

use super::local_media::{self, LocalMedia};
use super::senders::Kind;
use super::{CallPhase, LiveCall};
use crate::call::{camera_allowed, MediaProblem};
use crate::web::event_listener::Listener;
use leptos::prelude::*;
use web_sys::MediaStreamTrack;

/// Remembers that the headphones hint was shown, so it is shown once per browser.
const HINT_SHOWN_KEY: &str = "insieme.headphones-hint";

impl LiveCall {
    /// Joins with the microphone, and the camera unless `camera` is false. `film_playing`
    /// decides whether the headphones hint is worth showing.
    pub fn join(&self, camera: bool, film_playing: bool) {
        if self.inner.borrow().my.phase != CallPhase::Out {
            return;
        }
        let cameras_on = self.remote_cameras();
        let camera = camera && camera_allowed(cameras_on);
        self.set.notice.set(
            (!camera && cameras_on > 0 && !camera_allowed(cameras_on))
                .then(|| "Six cameras are already on: you joined with audio only.".to_owned()),
        );
        self.inner.borrow_mut().wanted = (true, camera);
        self.set.problem.set(None);
        self.update_my(|my| my.phase = CallPhase::Joining);
        self.wake_audio();
        let call = self.clone();
        leptos::task::spawn_local(async move {
            let mut captured = local_media::capture(true, camera).await;
            if camera && matches!(captured, Err(MediaProblem::NoDevice)) {
                // No camera is no reason to stay out: join with the voice alone, and say so.
                captured = local_media::capture(true, false).await;
                if captured.is_ok() {
                    call.set.notice.set(Some(
                        "No camera found: you joined with audio only.".to_owned(),
                    ));
                }
            }
            match captured {
                Ok(media) => call.joined(media, film_playing),
                Err(problem) => {
                    call.set.problem.set(Some(problem));
                    call.update_my(|my| my.phase = CallPhase::Out);
                }
            }
        });
    }

    /// Asks again for what the last attempt wanted (after permission was granted, a device
    /// plugged back in).
    pub fn retry(&self) {
        let (_, camera) = self.inner.borrow().wanted;
        let phase = self.inner.borrow().my.phase;
        match phase {
            CallPhase::Out => self.join(camera, false),
            CallPhase::In => {
                self.set.problem.set(None);
                if camera {
                    self.set_camera(true);
                }
                if !self.inner.borrow().my.has_microphone {
                    self.recapture_microphone();
                }
            }
            CallPhase::Joining => {}
        }
    }

    /// Leaves the call; the party goes on.
    pub fn leave(&self) {
        let local = {
            let mut inner = self.inner.borrow_mut();
            inner.my_meter = None;
            inner.track_listeners.clear();
            inner.local.take()
        };
        if let Some(local) = &local {
            local.stop();
        }
        self.for_each_link(|senders, pc, stream| {
            senders.send(pc, Kind::Audio, None, stream);
            senders.send(pc, Kind::Video, None, stream);
        });
        self.update_my(|my| {
            my.phase = CallPhase::Out;
            my.camera = false;
            my.has_microphone = false;
            my.muted = false;
        });
        self.set.notice.set(None);
        self.bump_streams();
        self.publish_loudness();
    }

    pub fn set_muted(&self, muted: bool) {
        self.update_my(|my| my.muted = muted);
        self.apply_microphone();
    }

    /// Push-to-talk: the microphone is open only while the talk key is held.
    pub fn set_push_to_talk(&self, on: bool) {
        self.update_my(|my| my.push_to_talk = on);
        self.apply_microphone();
    }

    /// The talk key went down or up.
    pub fn hold_to_talk(&self, held: bool) {
        let changed = {
            let mut inner = self.inner.borrow_mut();
            let changed = inner.talk_key_held != held;
            inner.talk_key_held = held;
            changed && inner.my.push_to_talk
        };
        if changed {
            self.apply_microphone();
        }
    }

    /// Turns the camera off (released: its light goes off) or on (asked for again).
    pub fn set_camera(&self, on: bool) {
        if self.inner.borrow().my.phase != CallPhase::In {
            return;
        }
        if !on {
            let track = {
                let mut inner = self.inner.borrow_mut();
                inner.local.as_mut().and_then(|local| local.video.take())
            };
            if let Some(track) = track {
                track.stop();
                if let Some(local) = self.local() {
                    local.stream.remove_track(&track);
                }
            }
            self.send_local_tracks();
            self.update_my(|my| my.camera = false);
            self.bump_streams();
            return;
        }
        if !camera_allowed(self.remote_cameras()) {
            self.set.notice.set(Some(
                "Six cameras are already on: turn yours on when someone turns theirs off."
                    .to_owned(),
            ));
            return;
        }
        self.inner.borrow_mut().wanted.1 = true;
        let call = self.clone();
        leptos::task::spawn_local(async move {
            match local_media::capture(false, true).await {
                Ok(media) => {
                    let Some(track) = media.video else { return };
                    let added = {
                        let mut inner = call.inner.borrow_mut();
                        let in_call = inner.my.phase == CallPhase::In;
                        match inner.local.as_mut() {
                            Some(local) if in_call => {
                                local.stream.add_track(&track);
                                // A second handle to the one track (see clippy.toml).
                                local.video = Some(Clone::clone(&track));
                                true
                            }
                            _ => false,
                        }
                    };
                    if !added {
                        track.stop();
                        return;
                    }
                    call.watch_ended(&track, Kind::Video);
                    call.send_local_tracks();
                    call.update_my(|my| my.camera = true);
                    call.set.problem.set(None);
                    call.bump_streams();
                }
                Err(problem) => call.set.problem.set(Some(problem)),
            }
        });
    }

    pub(super) fn joined(&self, media: LocalMedia, film_playing: bool) {
        if self.inner.borrow().my.phase != CallPhase::Joining {
            media.stop();
            return;
        }
        let my_meter = self.meters().and_then(|m| m.meter(&media.stream).ok());
        for (track, kind) in [(&media.audio, Kind::Audio), (&media.video, Kind::Video)] {
            if let Some(track) = track {
                self.watch_ended(track, kind);
            }
        }
        let (has_microphone, camera) = (media.audio.is_some(), media.video.is_some());
        {
            let mut inner = self.inner.borrow_mut();
            inner.local = Some(media);
            inner.my_meter = my_meter;
        }
        self.update_my(|my| {
            my.phase = CallPhase::In;
            my.camera = camera;
            my.has_microphone = has_microphone;
            my.muted = false;
        });
        self.apply_microphone();
        self.send_local_tracks();
        self.bump_streams();
        self.ensure_ticking();
        if has_microphone && film_playing && !hint_shown() {
            remember_hint_shown();
            self.set.headphones_hint.set(true);
        }
    }

    /// A device that stops (unplugged, taken by the system) is reported, and the call goes on
    /// without it.
    pub(super) fn watch_ended(&self, track: &MediaStreamTrack, kind: Kind) {
        let call = self.clone();
        // The same track, so that `device_lost` finds it in its slot (see clippy.toml).
        let watched = Clone::clone(track);
        let listener = Listener::new(track, "ended", move |_| call.device_lost(&watched, kind));
        if let Ok(listener) = listener {
            self.inner.borrow_mut().track_listeners.push(listener);
        }
    }

    pub(super) fn device_lost(&self, track: &MediaStreamTrack, kind: Kind) {
        {
            let mut inner = self.inner.borrow_mut();
            let Some(local) = inner.local.as_mut() else {
                return;
            };
            let slot = match kind {
                Kind::Audio => &mut local.audio,
                Kind::Video => &mut local.video,
            };
            if slot.as_ref() != Some(track) {
                return;
            }
            *slot = None;
            local.stream.remove_track(track);
            if kind == Kind::Audio {
                inner.my_meter = None;
            }
        }
        self.send_local_tracks();
        self.update_my(|my| match kind {
            Kind::Audio => my.has_microphone = false,
            Kind::Video => my.camera = false,
        });
        self.set.problem.set(Some(MediaProblem::Unplugged));
        self.bump_streams();
    }

    pub(super) fn recapture_microphone(&self) {
        let call = self.clone();
        leptos::task::spawn_local(async move {
            match local_media::capture(true, false).await {
                Ok(media) => {
                    let Some(track) = media.audio else { return };
                    let meters = call.meters();
                    {
                        let mut inner = call.inner.borrow_mut();
                        let Some(local) = inner.local.as_mut() else {
                            track.stop();
                            return;
                        };
                        local.stream.add_track(&track);
                        // Handles to the same track and stream (see clippy.toml): muting
                        // disables the track sent and metered.
                        local.audio = Some(Clone::clone(&track));
                        let stream = Clone::clone(&local.stream);
                        inner.my_meter = meters.and_then(|m| m.meter(&stream).ok());
                    }
                    call.watch_ended(&track, Kind::Audio);
                    call.update_my(|my| my.has_microphone = true);
                    call.apply_microphone();
                    call.send_local_tracks();
                }
                Err(problem) => call.set.problem.set(Some(problem)),
            }
        });
    }

    /// Opens or closes the microphone as mute and push-to-talk say, and tells the others.
    pub(super) fn apply_microphone(&self) {
        let (track, open) = {
            let inner = self.inner.borrow();
            let my = inner.my;
            let open = !my.muted && (!my.push_to_talk || inner.talk_key_held);
            (inner.local.as_ref().and_then(|l| l.audio.clone()), open)
        };
        if let Some(track) = track {
            // A disabled track sends silence: no renegotiation, instant both ways.
            track.set_enabled(open);
        }
        self.publish_presence();
    }
}

fn hint_shown() -> bool {
    storage()
        .and_then(|s| s.get_item(HINT_SHOWN_KEY).ok().flatten())
        .is_some()
}

fn remember_hint_shown() {
    if let Some(storage) = storage() {
        let _ = storage.set_item(HINT_SHOWN_KEY, "1");
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}
