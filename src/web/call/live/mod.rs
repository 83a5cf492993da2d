//! The call itself, loaded on demand (see [`super`]): our camera and microphone on the mesh's
//! existing peer connections, the others' tracks into tiles, voice levels, and smart volume
//! for the film.
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

use super::{
    Call, CallEngine, CallPhase, CallSeed, CallSlots, CallView, Loudness, MyCall, Tile, Writers,
};
use crate::call::{Ducker, SpeakerHistory, VoiceActivity, SILENCE_DBFS};
use crate::room::wire::CallPresence;
use crate::signaling::payload::SessionId;
use crate::web::chunk::ChunkUnavailable;
use crate::web::event_listener::Listener;
use crate::web::mesh::Mesh;
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use levels::{Meter, Meters};
use local_media::LocalMedia;
use senders::{kind_of, Kind, LinkSenders};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{Element, MediaStream, MediaStreamTrack, RtcTrackEvent};

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
    /// The bar and the tiles drawn into the room page, kept alive with the call.
    ui: Option<Box<dyn std::any::Any>>,
}

/// Builds the running call: the one way into this part of the download. With `lazy-chunks`,
/// `xtask` moves everything only this reaches into its own file, fetched when this is first
/// called; a failed fetch comes back as [`ChunkUnavailable`] and may be tried again.
#[cfg_attr(
    feature = "lazy-chunks",
    leptos::wasm_split::wasm_split(call, wasm_split_path = ::leptos::wasm_split, fallible)
)]
pub(super) fn start(seed: CallSeed) -> Result<Rc<dyn CallEngine>, ChunkUnavailable> {
    Ok(Rc::new(LiveCall::new(seed)))
}

/// The call's machinery; cheap to clone, lives as long as the party once loaded.
#[derive(Clone)]
pub(crate) struct LiveCall {
    inner: Rc<RefCell<Inner>>,
    pub view: CallView,
    set: Writers,
}

impl LiveCall {
    fn new(seed: CallSeed) -> Self {
        LiveCall {
            inner: Rc::new(RefCell::new(Inner {
                me: seed.me,
                mesh: seed.mesh,
                local: None,
                // The interface may show "joining" while this code was fetched; the join
                // itself starts from here.
                my: MyCall {
                    phase: CallPhase::Out,
                    ..seed.view.me.get_untracked()
                },
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
                ui: None,
            })),
            view: seed.view,
            set: seed.set,
        }
    }
}

/// What the rest of the app asks of the call (see [`CallEngine`]).
impl CallEngine for LiveCall {
    fn set_mesh(&self, mesh: Mesh) {
        self.inner.borrow_mut().mesh = Some(mesh);
    }

    /// A link opened: it gets our tracks if we are in the call, and our presence.
    fn link_open(&self, session: SessionId) {
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

    fn link_gone(&self, session: SessionId) {
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
    fn on_presence(&self, from: SessionId, presence: CallPresence) {
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

    fn join(&self, camera: bool, film_playing: bool) {
        LiveCall::join(self, camera, film_playing);
    }

    fn retry(&self) {
        LiveCall::retry(self);
    }

    fn leave(&self) {
        LiveCall::leave(self);
    }

    fn set_muted(&self, muted: bool) {
        LiveCall::set_muted(self, muted);
    }

    fn set_camera(&self, on: bool) {
        LiveCall::set_camera(self, on);
    }

    fn set_push_to_talk(&self, on: bool) {
        LiveCall::set_push_to_talk(self, on);
    }

    fn hold_to_talk(&self, held: bool) {
        LiveCall::hold_to_talk(self, held);
    }

    fn set_smart_volume(&self, on: bool) {
        LiveCall::set_smart_volume(self, on);
    }

    fn wake_audio(&self) {
        LiveCall::wake_audio(self);
    }

    fn draw_tiles(
        &self,
        container: &Element,
        my_name: &str,
        name_of: &dyn Fn(SessionId) -> String,
    ) {
        LiveCall::draw_tiles(self, container, my_name, name_of);
    }

    fn mount_ui(&self, call: Call, slots: CallSlots) {
        use crate::ui::call::{CallBar, CallTiles};
        let CallSlots {
            bar,
            tiles,
            film_playing,
            people,
            my_name,
        } = slots;
        // In place of the first load's stand-in.
        bar.set_inner_html("");
        let tiles_call = call.clone();
        let bar = leptos::mount::mount_to(bar, move || {
            let call = StoredValue::new_local(call);
            view! { <CallBar call film_playing/> }
        });
        let tiles = leptos::mount::mount_to(tiles, move || {
            let call = StoredValue::new_local(tiles_call);
            view! { <CallTiles call people my_name/> }
        });
        self.inner.borrow_mut().ui = Some(Box::new((bar, tiles)));
    }
}

impl LiveCall {
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
