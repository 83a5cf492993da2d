//! The video call in the browser: our camera and microphone on the mesh's existing peer
//! connections, the others' tracks into tiles, voice levels, and smart volume for the film.
//!
//! Every decision (who speaks, how far the film ducks, which tiles show video, what a sender
//! may spend, what a device failure means) is [`crate::call`]'s; this folder measures, feeds
//! those machines and carries out their answers. This file holds the call's state and what the
//! party reports to it; beside it: our devices (`devices`), who gets what (`roster`), voices
//! and smart volume (`voices`), and the browser calls (`local_media`, `senders`, `levels`).
//!
//! - Whoever is in the call sends to every open link, members outside the call included, so
//!   someone who opens the link later sees and hears the call as soon as their link opens.
//! - Tracks ride the one `RTCPeerConnection` per friend; adding or removing one makes the mesh
//!   renegotiate (perfect negotiation), never a second connection.
//! - Who is in the call, muted or without camera travels as [`CallPresence`] on the state
//!   channel, so tiles need not guess it from the media.

mod devices;
mod levels;
mod local_media;
mod roster;
mod senders;
mod tile_elements;
mod voices;

use super::event_listener::Listener;
use super::mesh::Mesh;
use crate::call::{Ducker, MediaProblem, SpeakerHistory, VoiceActivity, SILENCE_DBFS};
use crate::room::wire::CallPresence;
use crate::signaling::payload::SessionId;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use levels::{Meter, Meters};
use local_media::LocalMedia;
use senders::{kind_of, Kind, LinkSenders};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{MediaStream, MediaStreamTrack, RtcTrackEvent};

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
    /// By session, so every walk over them (rings, tiles) comes out in one stable order.
    remotes: BTreeMap<SessionId, Remote>,
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
    tile_elements: tile_elements::TileElements,
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
                remotes: BTreeMap::new(),
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
                tile_elements: Default::default(),
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

    pub fn dismiss_hint(&self) {
        self.set.headphones_hint.set(false);
    }

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

    pub(super) fn on_remote_track(&self, session: SessionId, event: RtcTrackEvent) {
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

    pub(super) fn local(&self) -> Option<LocalMedia> {
        self.inner.borrow().local.clone()
    }

    pub(super) fn update_my(&self, change: impl FnOnce(&mut MyCall)) {
        let my = {
            let mut inner = self.inner.borrow_mut();
            change(&mut inner.my);
            inner.my
        };
        self.set.me.set(my);
        self.publish_presence();
    }

    pub(super) fn bump_streams(&self) {
        self.set.streams_changed.update(|n| *n = n.wrapping_add(1));
    }
}
