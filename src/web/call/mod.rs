//! The video call in the browser: our camera and microphone on the mesh's existing peer
//! connections, the others' tracks into tiles, voice levels, and smart volume for the film.
//!
//! Every decision (who speaks, how far the film ducks, which tiles show video, what a sender
//! may spend, what a device failure means) is [`crate::call`]'s; this file measures, feeds
//! those machines and carries out their answers:
//! - Whoever is in the call sends to every open link, members outside the call included, so
//!   someone who opens the link later sees and hears the call as soon as their link opens.
//! - Tracks ride the one `RTCPeerConnection` per friend; adding or removing one makes the mesh
//!   renegotiate (perfect negotiation), never a second connection.
//! - Who is in the call, muted or without camera travels as [`CallPresence`] on the state
//!   channel, so tiles need not guess it from the media.

mod levels;
mod local_media;
mod senders;

use super::event_listener::Listener;
use super::local_now;
use super::mesh::{Channel, Mesh};
use crate::call::{
    camera_allowed, camera_encoding, max_video_tiles, plan_tiles, ring_level, tile_height_px,
    Ducker, MediaProblem, SpeakerHistory, TileInput, VoiceActivity, SILENCE_DBFS,
};
use crate::num::Clamp;
use crate::room::wire::{CallPresence, PeerMessage};
use crate::signaling::payload::SessionId;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use levels::{Meter, Meters};
use local_media::LocalMedia;
use senders::{kind_of, Kind, LinkSenders};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{MediaStream, MediaStreamTrack, RtcTrackEvent};

/// How often voices are measured: fast enough for smart volume's 50 ms attack.
const TICK_MS: u32 = 20;
/// The film's gain is republished only when it moved this much (the ramps are smooth anyway).
const GAIN_STEP: f64 = 0.005;
/// Remembers that the headphones hint was shown, so it is shown once per browser.
const HINT_SHOWN_KEY: &str = "insieme.headphones-hint";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallPhase {
    #[default]
    Out,
    /// Waiting for the browser to hand over the camera or microphone.
    Joining,
    In,
}

/// Our side of the call, as the call bar shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MyCall {
    pub phase: CallPhase,
    pub muted: bool,
    pub camera: bool,
    pub has_microphone: bool,
    pub push_to_talk: bool,
    pub smart_volume: bool,
}

/// A remote person's tile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tile {
    pub session: SessionId,
    pub presence: CallPresence,
    /// False when their camera is off, or when the call is too big and they have not spoken
    /// lately (their tile then shows the avatar and plays their voice only).
    pub show_video: bool,
}

/// How loud someone is right now, for their tile's ring (ours under our own session).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loudness {
    pub session: SessionId,
    /// 0–10.
    pub level: u8,
    pub speaking: bool,
}

/// The call as the interface reads it; only the call writes.
#[derive(Clone, Copy)]
pub struct CallView {
    pub me: ReadSignal<MyCall>,
    pub tiles: ReadSignal<Vec<Tile>>,
    pub loudness: ReadSignal<Vec<Loudness>>,
    /// Bumped whenever a tile's stream or our preview changes: elements re-read theirs.
    pub streams_changed: ReadSignal<u32>,
    pub problem: ReadSignal<Option<MediaProblem>>,
    /// Something worth saying that is not a failure (joined without camera, and why).
    pub notice: ReadSignal<Option<String>>,
    pub headphones_hint: ReadSignal<bool>,
    /// What smart volume multiplies the film's volume by (1 when nobody speaks).
    pub film_gain: ReadSignal<f64>,
}

#[derive(Clone, Copy)]
struct Writers {
    me: WriteSignal<MyCall>,
    tiles: WriteSignal<Vec<Tile>>,
    loudness: WriteSignal<Vec<Loudness>>,
    streams_changed: WriteSignal<u32>,
    problem: WriteSignal<Option<MediaProblem>>,
    notice: WriteSignal<Option<String>>,
    headphones_hint: WriteSignal<bool>,
    film_gain: WriteSignal<f64>,
}

/// Someone else, as far as the call is concerned.
struct Remote {
    presence: CallPresence,
    /// What their tile plays: the tracks they send us.
    stream: Option<MediaStream>,
    meter: Option<Meter>,
    /// The latest reading of `meter`, in dBFS.
    level_dbfs: f64,
    voice: VoiceActivity,
    joined_order: u64,
}

impl Remote {
    fn new() -> Self {
        Remote {
            presence: CallPresence::default(),
            stream: None,
            meter: None,
            level_dbfs: SILENCE_DBFS,
            voice: VoiceActivity::new(),
            joined_order: 0,
        }
    }
}

struct Inner {
    me: SessionId,
    mesh: Option<Mesh>,
    local: Option<LocalMedia>,
    my: MyCall,
    /// Held down while push-to-talk is on.
    talk_key_held: bool,
    /// What the person last asked for (microphone, camera), for "Try again".
    wanted: (bool, bool),
    senders: HashMap<SessionId, LinkSenders>,
    remotes: HashMap<SessionId, Remote>,
    next_order: u64,
    meters: Option<Meters>,
    my_meter: Option<Meter>,
    my_level_dbfs: f64,
    my_voice: VoiceActivity,
    history: SpeakerHistory,
    ducker: Ducker,
    ticker: Option<Interval>,
    /// "ended" listeners on our own tracks (a device unplugged).
    track_listeners: Vec<Listener>,
    /// What the others were last told, so a change is told once.
    told: CallPresence,
}

/// A handle to the call; cheap to clone, lives as long as the party.
#[derive(Clone)]
pub struct Call {
    inner: Rc<RefCell<Inner>>,
    pub view: CallView,
    set: Writers,
}

impl Call {
    pub fn new(me: SessionId) -> Self {
        let initial = MyCall {
            smart_volume: true,
            ..MyCall::default()
        };
        let (me_signal, set_me) = signal(initial);
        let (tiles, set_tiles) = signal(Vec::new());
        let (loudness, set_loudness) = signal(Vec::new());
        let (streams_changed, set_streams_changed) = signal(0);
        let (problem, set_problem) = signal(None);
        let (notice, set_notice) = signal(None);
        let (headphones_hint, set_headphones_hint) = signal(false);
        let (film_gain, set_film_gain) = signal(1.0);
        Call {
            inner: Rc::new(RefCell::new(Inner {
                me,
                mesh: None,
                local: None,
                my: initial,
                talk_key_held: false,
                wanted: (true, true),
                senders: HashMap::new(),
                remotes: HashMap::new(),
                next_order: 0,
                meters: None,
                my_meter: None,
                my_level_dbfs: SILENCE_DBFS,
                my_voice: VoiceActivity::new(),
                history: SpeakerHistory::default(),
                ducker: Ducker::new(),
                ticker: None,
                track_listeners: Vec::new(),
                told: CallPresence::default(),
            })),
            view: CallView {
                me: me_signal,
                tiles,
                loudness,
                streams_changed,
                problem,
                notice,
                headphones_hint,
                film_gain,
            },
            set: Writers {
                me: set_me,
                tiles: set_tiles,
                loudness: set_loudness,
                streams_changed: set_streams_changed,
                problem: set_problem,
                notice: set_notice,
                headphones_hint: set_headphones_hint,
                film_gain: set_film_gain,
            },
        }
    }

    /// The mesh the call rides on, once the party joined it.
    pub fn attach_mesh(&self, mesh: &Mesh) {
        let call = self.clone();
        mesh.on_remote_track(move |session, event| call.on_remote_track(session, event));
        self.inner.borrow_mut().mesh = Some(mesh.clone());
    }

    // ----- What the person does -----

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

    pub fn set_smart_volume(&self, on: bool) {
        self.update_my(|my| my.smart_volume = on);
        self.ensure_ticking();
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
                                local.video = Some(track.clone());
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

    /// Any click may let a suspended audio context run (needed to hear who speaks).
    pub fn wake_audio(&self) {
        let meters = self.meters();
        if let Some(meters) = meters {
            meters.resume();
        }
    }

    pub fn dismiss_hint(&self) {
        self.set.headphones_hint.set(false);
    }

    /// Our preview: the local stream while in the call.
    pub fn local_stream(&self) -> Option<MediaStream> {
        self.local().map(|local| local.stream)
    }

    /// What `session`'s tile plays.
    pub fn remote_stream(&self, session: SessionId) -> Option<MediaStream> {
        let inner = self.inner.borrow();
        inner.remotes.get(&session).and_then(|r| r.stream.clone())
    }

    pub fn my_session(&self) -> SessionId {
        self.inner.borrow().me
    }

    // ----- What the party reports -----

    /// A link opened: it gets our tracks if we are in the call, and our presence.
    pub fn link_open(&self, session: SessionId) {
        self.inner
            .borrow_mut()
            .remotes
            .entry(session)
            .or_insert_with(Remote::new);
        if self.inner.borrow().my.phase == CallPhase::In {
            self.send_local_tracks();
        }
        let presence = self.presence();
        self.send_presence(Some(session), presence);
    }

    pub fn link_gone(&self, session: SessionId) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.senders.remove(&session);
            inner.remotes.remove(&session);
            inner.history.forget(session);
        }
        self.replan_tiles();
        self.apply_encodings();
        self.publish_loudness();
    }

    /// A friend's presence message.
    pub fn on_presence(&self, from: SessionId, presence: CallPresence) {
        {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let remote = inner.remotes.entry(from).or_insert_with(Remote::new);
            if presence.joined && !remote.presence.joined {
                remote.joined_order = inner.next_order;
                inner.next_order += 1;
            }
            remote.presence = presence;
        }
        self.replan_tiles();
        self.apply_encodings();
        self.ensure_ticking();
        self.publish_presence();
    }

    fn on_remote_track(&self, session: SessionId, event: RtcTrackEvent) {
        let track = event.track();
        let Some(kind) = kind_of(&track) else { return };
        let meters = self.meters();
        {
            let mut inner = self.inner.borrow_mut();
            let Some(remote) = inner.remotes.get_mut(&session) else {
                return;
            };
            // A fresh stream per change: an element given a new object surely shows it.
            let tracks = js_sys::Array::new();
            if let Some(old) = &remote.stream {
                for kept in old.get_tracks().iter() {
                    let kept: MediaStreamTrack = kept.unchecked_into();
                    if kind_of(&kept) != Some(kind) {
                        tracks.push(&kept);
                    }
                }
            }
            tracks.push(&track);
            let Ok(stream) = MediaStream::new_with_tracks(&tracks) else {
                return;
            };
            if kind == Kind::Audio {
                remote.meter = meters.and_then(|m| m.meter(&stream).ok());
            }
            remote.stream = Some(stream);
        }
        self.bump_streams();
        self.ensure_ticking();
    }

    // ----- Carrying it out -----

    fn joined(&self, media: LocalMedia, film_playing: bool) {
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
    fn watch_ended(&self, track: &MediaStreamTrack, kind: Kind) {
        let call = self.clone();
        let watched = track.clone();
        let listener = Listener::new(track, "ended", move |_| call.device_lost(&watched, kind));
        if let Ok(listener) = listener {
            self.inner.borrow_mut().track_listeners.push(listener);
        }
    }

    fn device_lost(&self, track: &MediaStreamTrack, kind: Kind) {
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

    fn recapture_microphone(&self) {
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
                        local.audio = Some(track.clone());
                        let stream = local.stream.clone();
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
    fn apply_microphone(&self) {
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

    /// Puts our current tracks (or none) on every open link, and their budgets.
    fn send_local_tracks(&self) {
        let local = self.local();
        self.for_each_link(|senders, pc, fallback| {
            let stream = local.as_ref().map(|l| &l.stream).unwrap_or(fallback);
            let audio = local.as_ref().and_then(|l| l.audio.as_ref());
            let video = local.as_ref().and_then(|l| l.video.as_ref());
            senders.send(pc, Kind::Audio, audio, stream);
            senders.send(pc, Kind::Video, video, stream);
        });
        self.apply_encodings();
        self.publish_presence();
    }

    /// Runs `f` on each open link's senders and connection.
    fn for_each_link(
        &self,
        mut f: impl FnMut(&mut LinkSenders, &web_sys::RtcPeerConnection, &MediaStream),
    ) {
        let Some(mesh) = self.inner.borrow().mesh.clone() else {
            return;
        };
        let Ok(empty) = MediaStream::new() else {
            return;
        };
        for session in mesh.open_sessions() {
            let Some(pc) = mesh.peer_connection(session) else {
                continue;
            };
            let mut inner = self.inner.borrow_mut();
            let senders = inner.senders.entry(session).or_default();
            f(senders, &pc, &empty);
        }
    }

    /// Splits our uplink across the links, each scaled to the tiles its receiver shows.
    fn apply_encodings(&self) {
        let inner = self.inner.borrow();
        let receivers = inner.senders.len().max(1);
        let capture_height = inner
            .local
            .as_ref()
            .map(LocalMedia::video_height)
            .unwrap_or(360);
        for (session, senders) in &inner.senders {
            let tile_px = inner
                .remotes
                .get(session)
                .map(|r| u32::from(r.presence.tile_px))
                .filter(|px| *px > 0);
            senders.apply_encoding(&camera_encoding(receivers, tile_px, capture_height));
        }
    }

    /// Our presence as it stands.
    fn presence(&self) -> CallPresence {
        let inner = self.inner.borrow();
        let my = inner.my;
        let microphone_open = inner
            .local
            .as_ref()
            .and_then(|l| l.audio.as_ref())
            .is_some_and(MediaStreamTrack::enabled);
        let tiles = inner.remotes.values().filter(|r| r.presence.joined).count()
            + usize::from(my.phase == CallPhase::In);
        CallPresence {
            joined: my.phase == CallPhase::In,
            muted: !microphone_open,
            camera: my.camera,
            tile_px: tile_height_px(tiles, strip_px()).min(u32::from(u16::MAX)) as u16,
        }
    }

    /// Tells everyone our presence if it changed since we last did.
    fn publish_presence(&self) {
        let presence = self.presence();
        let changed = {
            let mut inner = self.inner.borrow_mut();
            std::mem::replace(&mut inner.told, presence) != presence
        };
        if changed {
            self.send_presence(None, presence);
        }
    }

    fn send_presence(&self, to: Option<SessionId>, presence: CallPresence) {
        let Some(mesh) = self.inner.borrow().mesh.clone() else {
            return;
        };
        let bytes = PeerMessage::Call(presence).encode();
        match to {
            Some(session) => {
                mesh.send(session, Channel::State, &bytes);
            }
            None => mesh.broadcast(Channel::State, &bytes),
        }
    }

    /// Measures every voice, updates speaking rings, tiles and the film's gain.
    fn tick(&self) {
        let now = local_now();
        let (any_remote_speaking, smart_volume) = {
            let mut inner = self.inner.borrow_mut();
            let inner = &mut *inner;
            let mut any = false;
            for (session, remote) in inner.remotes.iter_mut() {
                let Some(meter) = remote.meter.as_mut() else {
                    continue;
                };
                remote.level_dbfs = meter.read_dbfs();
                let speaking =
                    remote.presence.joined && remote.voice.update(now, remote.level_dbfs);
                if speaking {
                    inner.history.spoke(*session, now);
                    any = true;
                }
            }
            if let Some(meter) = inner.my_meter.as_mut() {
                inner.my_level_dbfs = meter.read_dbfs();
                inner.my_voice.update(now, inner.my_level_dbfs);
            }
            (any, inner.my.smart_volume)
        };
        let gain = self
            .inner
            .borrow_mut()
            .ducker
            .update(now, any_remote_speaking, smart_volume);
        if (gain - self.view.film_gain.get_untracked()).abs() >= GAIN_STEP
            || (gain == 1.0 && self.view.film_gain.get_untracked() != 1.0)
        {
            self.set.film_gain.set(gain);
        }
        self.publish_loudness();
        self.replan_tiles();
        if !self.needs_ticking() && gain == 1.0 {
            self.inner.borrow_mut().ticker = None;
        }
    }

    fn needs_ticking(&self) -> bool {
        let inner = self.inner.borrow();
        inner.my_meter.is_some() || inner.remotes.values().any(|r| r.meter.is_some())
    }

    fn ensure_ticking(&self) {
        if self.inner.borrow().ticker.is_some() || !self.needs_ticking() {
            return;
        }
        let call = self.clone();
        let ticker = Interval::new(TICK_MS, move || call.tick());
        self.inner.borrow_mut().ticker = Some(ticker);
    }

    fn publish_loudness(&self) {
        let loudness: Vec<Loudness> = {
            let inner = self.inner.borrow();
            let mut all: Vec<Loudness> = inner
                .remotes
                .iter()
                .filter(|(_, r)| r.presence.joined)
                .map(|(session, remote)| Loudness {
                    session: *session,
                    level: ring_step(remote.level_dbfs),
                    speaking: remote.voice.is_speaking(),
                })
                .collect();
            if inner.my.phase == CallPhase::In {
                let muted = inner
                    .local
                    .as_ref()
                    .and_then(|l| l.audio.as_ref())
                    .is_none_or(|t| !t.enabled());
                all.push(Loudness {
                    session: inner.me,
                    level: if muted {
                        0
                    } else {
                        ring_step(inner.my_level_dbfs)
                    },
                    speaking: !muted && inner.my_voice.is_speaking(),
                });
            }
            all.sort_by_key(|l| l.session);
            all
        };
        if self.view.loudness.with_untracked(|old| *old != loudness) {
            self.set.loudness.set(loudness);
        }
    }

    fn replan_tiles(&self) {
        let tiles: Vec<Tile> = {
            let inner = self.inner.borrow();
            let joined: Vec<(&SessionId, &Remote)> = inner
                .remotes
                .iter()
                .filter(|(_, r)| r.presence.joined)
                .collect();
            let inputs: Vec<TileInput> = joined
                .iter()
                .map(|(session, remote)| TileInput {
                    session: **session,
                    camera_on: remote.presence.camera,
                    joined_order: remote.joined_order,
                })
                .collect();
            plan_tiles(&inputs, &inner.history, max_video_tiles(strip_px()))
                .into_iter()
                .filter_map(|slot| {
                    let remote = inner.remotes.get(&slot.session)?;
                    Some(Tile {
                        session: slot.session,
                        presence: remote.presence,
                        show_video: slot.show_video,
                    })
                })
                .collect()
        };
        if self.view.tiles.with_untracked(|old| *old != tiles) {
            self.set.tiles.set(tiles);
        }
    }

    fn remote_cameras(&self) -> usize {
        let inner = self.inner.borrow();
        inner
            .remotes
            .values()
            .filter(|r| r.presence.joined && r.presence.camera)
            .count()
    }

    fn meters(&self) -> Option<Meters> {
        let existing = self.inner.borrow().meters.clone();
        if existing.is_some() {
            return existing;
        }
        match Meters::new() {
            Ok(meters) => {
                self.inner.borrow_mut().meters = Some(meters.clone());
                Some(meters)
            }
            Err(error) => {
                let problem = super::describe_js_error("measuring voices", error);
                web_sys::console::warn_1(&problem.into());
                None
            }
        }
    }

    fn local(&self) -> Option<LocalMedia> {
        self.inner.borrow().local.clone()
    }

    fn update_my(&self, change: impl FnOnce(&mut MyCall)) {
        let my = {
            let mut inner = self.inner.borrow_mut();
            change(&mut inner.my);
            inner.my
        };
        self.set.me.set(my);
        self.publish_presence();
    }

    fn bump_streams(&self) {
        self.set.streams_changed.update(|n| *n = n.wrapping_add(1));
    }
}

/// A level on the ring's 0–10 scale (so the rings redraw at most ten steps, not per reading).
fn ring_step(level_dbfs: f64) -> u8 {
    (ring_level(level_dbfs) * 10.0).round().clamp_to(0.0, 10.0) as u8
}

/// How much room the tiles get: the page's width on a wide screen, its height on a phone.
fn strip_px() -> u32 {
    let window = web_sys::window();
    let size =
        |value: Option<wasm_bindgen::JsValue>| value.and_then(|v| v.as_f64()).unwrap_or(1280.0);
    let width = size(window.as_ref().and_then(|w| w.inner_width().ok()));
    let height = size(window.as_ref().and_then(|w| w.inner_height().ok()));
    width.max(height).clamp_to(0.0, 10_000.0) as u32
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
