//! The video call as the rest of the app sees it: a small handle that is part of the first
//! download, in front of the call's machinery (`live`), which is a separate download.
//!
//! Most parties never start a call, so its code (capture, senders, voice levels, tiles: about
//! a fifth of the app) is fetched the first time someone needs it: when we press "Join call",
//! or when a friend's presence says they joined or their media arrives. Until then the handle
//! keeps the party's reports in [`PendingReports`] and replays them once the call runs; the
//! interface reads the same signals throughout (the first load's stand-in of the bar, then the
//! call's own bar and tiles, which its code draws: [`Call::mount_ui`]). `xtask` splits the download at [`live::start`]
//! (the `lazy-chunks` feature); without that feature the call is built in, and loading it is
//! immediate.

mod live;

use crate::call::{CallReport, MediaProblem, PendingReports};
use crate::room::people::People;
use crate::room::wire::CallPresence;
use crate::signaling::payload::SessionId;
use crate::web::chunk::ChunkUnavailable;
use crate::web::mesh::Mesh;
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{Element, RtcTrackEvent};

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
    /// The call's code runs here: its bar and tiles can be drawn ([`Call::mount_ui`]).
    pub loaded: ReadSignal<bool>,
}

/// The other half of [`CallView`]: only the call writes.
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
    loaded: WriteSignal<bool>,
}

/// What the party and the interface ask of the running call.
trait CallEngine {
    fn set_mesh(&self, mesh: Mesh);
    fn link_open(&self, session: SessionId);
    fn link_gone(&self, session: SessionId);
    fn on_presence(&self, from: SessionId, presence: CallPresence);
    fn on_remote_track(&self, session: SessionId, event: RtcTrackEvent);
    fn join(&self, camera: bool, film_playing: bool);
    fn retry(&self);
    fn leave(&self);
    fn set_muted(&self, muted: bool);
    fn set_camera(&self, on: bool);
    fn set_push_to_talk(&self, on: bool);
    fn hold_to_talk(&self, held: bool);
    fn set_smart_volume(&self, on: bool);
    fn wake_audio(&self);
    fn draw_tiles(&self, container: &Element, my_name: &str, name_of: &dyn Fn(SessionId) -> String);
    fn mount_ui(&self, call: Call, slots: CallSlots);
}

/// Where the room page has the call draw its interface, and what that interface reads: the
/// bar (in place of the first load's stand-in) and the tiles over the film.
pub struct CallSlots {
    pub bar: web_sys::HtmlElement,
    pub tiles: web_sys::HtmlElement,
    /// Whether the film plays, for the headphones hint.
    pub film_playing: Signal<bool>,
    pub people: ReadSignal<People>,
    pub my_name: Signal<String>,
}

/// Everything the call is built from.
struct CallSeed {
    me: SessionId,
    mesh: Option<Mesh>,
    view: CallView,
    set: Writers,
}

/// Builds the running call, fetching its code first where the download is split.
async fn load(seed: CallSeed) -> Result<Rc<dyn CallEngine>, ChunkUnavailable> {
    #[cfg(feature = "lazy-chunks")]
    let engine = live::start(seed).await;
    #[cfg(not(feature = "lazy-chunks"))]
    let engine = live::start(seed);
    engine
}

/// A user's request made while the call's code was on its way.
enum Deferred {
    Join { camera: bool, film_playing: bool },
}

enum Stage {
    /// Nobody needed the call yet.
    Waiting(PendingReports<RtcTrackEvent>),
    /// Its code is being fetched.
    Loading(PendingReports<RtcTrackEvent>, Vec<Deferred>),
    Live(Rc<dyn CallEngine>),
}

/// A handle to the call; cheap to clone, lives as long as the party.
#[derive(Clone)]
pub struct Call {
    me: SessionId,
    pub view: CallView,
    set: Writers,
    mesh: Rc<RefCell<Option<Mesh>>>,
    stage: Rc<RefCell<Stage>>,
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
        let (loaded, set_loaded) = signal(false);
        Call {
            me,
            view: CallView {
                me: me_signal,
                tiles,
                loudness,
                streams_changed,
                problem,
                notice,
                headphones_hint,
                film_gain,
                loaded,
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
                loaded: set_loaded,
            },
            mesh: Rc::default(),
            stage: Rc::new(RefCell::new(Stage::Waiting(PendingReports::default()))),
        }
    }

    /// The running call, if its code has arrived.
    fn live(&self) -> Option<Rc<dyn CallEngine>> {
        match &*self.stage.borrow() {
            Stage::Live(engine) => Some(engine.clone()),
            _ => None,
        }
    }

    /// The mesh the call rides on, once the party joined it.
    pub fn attach_mesh(&self, mesh: &Mesh) {
        let call = self.clone();
        mesh.on_remote_track(move |session, event| call.report(CallReport::Track(session, event)));
        *self.mesh.borrow_mut() = Some(mesh.clone());
        if let Some(engine) = self.live() {
            engine.set_mesh(mesh.clone());
        }
    }

    /// A link opened: it gets our tracks if we are in the call, and our presence.
    pub fn link_open(&self, session: SessionId) {
        self.report(CallReport::LinkOpen(session));
    }

    pub fn link_gone(&self, session: SessionId) {
        self.report(CallReport::LinkGone(session));
    }

    /// A friend's presence message.
    pub fn on_presence(&self, from: SessionId, presence: CallPresence) {
        self.report(CallReport::Presence(from, presence));
    }

    fn report(&self, report: CallReport<RtcTrackEvent>) {
        if let Some(engine) = self.live() {
            deliver(&*engine, report);
            return;
        }
        let needed = match &mut *self.stage.borrow_mut() {
            Stage::Waiting(pending) | Stage::Loading(pending, _) => pending.record(report),
            Stage::Live(_) => false,
        };
        if needed {
            self.start_loading(None);
        }
    }

    /// Joins with the microphone, and the camera unless `camera` is false. `film_playing`
    /// decides whether the headphones hint is worth showing.
    pub fn join(&self, camera: bool, film_playing: bool) {
        match self.live() {
            Some(engine) => engine.join(camera, film_playing),
            None => self.start_loading(Some(Deferred::Join {
                camera,
                film_playing,
            })),
        }
    }

    /// Fetches the call's code (once), then runs `then`.
    fn start_loading(&self, then: Option<Deferred>) {
        let pending = {
            let mut stage = self.stage.borrow_mut();
            match &mut *stage {
                Stage::Live(_) => return,
                Stage::Loading(_, deferred) => {
                    deferred.extend(then);
                    return;
                }
                Stage::Waiting(pending) => std::mem::take(pending),
            }
        };
        if matches!(then, Some(Deferred::Join { .. })) {
            // The button shows at once that the press was heard.
            self.set.me.update(|me| me.phase = CallPhase::Joining);
        }
        *self.stage.borrow_mut() = Stage::Loading(pending, then.into_iter().collect());
        let call = self.clone();
        leptos::task::spawn_local(async move {
            let seed = CallSeed {
                me: call.me,
                mesh: call.mesh.borrow().clone(),
                view: call.view,
                set: call.set,
            };
            let loaded = load(seed).await;
            call.finish_loading(loaded);
        });
    }

    fn finish_loading(&self, loaded: Result<Rc<dyn CallEngine>, ChunkUnavailable>) {
        let waiting = std::mem::replace(
            &mut *self.stage.borrow_mut(),
            Stage::Waiting(PendingReports::default()),
        );
        let Stage::Loading(mut pending, deferred) = waiting else {
            *self.stage.borrow_mut() = waiting;
            return;
        };
        match loaded {
            Ok(engine) => {
                *self.stage.borrow_mut() = Stage::Live(engine.clone());
                self.set.loaded.set(true);
                for report in pending.take() {
                    deliver(&*engine, report);
                }
                for request in deferred {
                    match request {
                        Deferred::Join {
                            camera,
                            film_playing,
                        } => engine.join(camera, film_playing),
                    }
                }
            }
            Err(ChunkUnavailable) => {
                *self.stage.borrow_mut() = Stage::Waiting(pending);
                if !deferred.is_empty() {
                    self.set.me.update(|me| me.phase = CallPhase::Out);
                    self.set.notice.set(Some(
                        "The call could not be loaded. Check your connection and try again.".into(),
                    ));
                }
            }
        }
    }

    pub fn retry(&self) {
        if let Some(engine) = self.live() {
            engine.retry();
        }
    }

    pub fn leave(&self) {
        if let Some(engine) = self.live() {
            engine.leave();
        }
    }

    pub fn set_muted(&self, muted: bool) {
        if let Some(engine) = self.live() {
            engine.set_muted(muted);
        }
    }

    pub fn set_camera(&self, on: bool) {
        if let Some(engine) = self.live() {
            engine.set_camera(on);
        }
    }

    pub fn set_push_to_talk(&self, on: bool) {
        match self.live() {
            Some(engine) => engine.set_push_to_talk(on),
            None => self.set.me.update(|me| me.push_to_talk = on),
        }
    }

    /// Push-to-talk's key, held or released.
    pub fn hold_to_talk(&self, held: bool) {
        if let Some(engine) = self.live() {
            engine.hold_to_talk(held);
        }
    }

    pub fn set_smart_volume(&self, on: bool) {
        match self.live() {
            Some(engine) => engine.set_smart_volume(on),
            None => self.set.me.update(|me| me.smart_volume = on),
        }
    }

    /// A user gesture: the moment a suspended audio context may resume.
    pub fn wake_audio(&self) {
        if let Some(engine) = self.live() {
            engine.wake_audio();
        }
    }

    pub fn dismiss_hint(&self) {
        self.set.headphones_hint.set(false);
    }

    /// Draws the call's bar and tiles into the room page (once its code runs; the first load
    /// has only a stand-in of the bar, see `ui::room`).
    pub fn mount_ui(&self, slots: CallSlots) {
        if let Some(engine) = self.live() {
            engine.mount_ui(self.clone(), slots);
        }
    }

    /// Draws the tiles into `container` (nothing to draw before the call runs).
    pub fn draw_tiles(
        &self,
        container: &Element,
        my_name: &str,
        name_of: impl Fn(SessionId) -> String,
    ) {
        if let Some(engine) = self.live() {
            engine.draw_tiles(container, my_name, &name_of);
        }
    }
}

fn deliver(engine: &dyn CallEngine, report: CallReport<RtcTrackEvent>) {
    match report {
        CallReport::LinkOpen(session) => engine.link_open(session),
        CallReport::LinkGone(session) => engine.link_gone(session),
        CallReport::Presence(from, presence) => engine.on_presence(from, presence),
        CallReport::Track(session, event) => engine.on_remote_track(session, event),
    }
}
