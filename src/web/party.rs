//! The watch party as one object: drives the sync engine with what the mesh and the player
//! report, carries out what the engine asks, and publishes the room (people, chat, playback) as
//! signals for the interface.
//!
//! The engine is sans-IO; this is its thin shell, str0m-style: every input is followed by
//! draining `poll_output` and re-arming one timer at `poll_timeout`.

use super::call::Call;
use super::event_listener::use_window_listener;
use super::host::Host;
use super::identity::PageIdentity;
use super::mesh::{Channel as MeshChannel, Mesh, MeshEvent};
use super::player::this_browser;
use super::player_driver::link_to_queue;
use super::programme::{Deferred, Engines, Programme, Seed, Waiting};
use super::queue::SharedQueue;
use super::reactions::Incoming;
use super::room_crypto::RoomKeys;
use super::{local_now, set_if_changed};
use crate::config::{AppConfig, PageOrigin};
use crate::num::Clamp;
use crate::programme::{AtEnd, Edit, EditError, EntryId, Item};
use crate::room::chat::{ChatLine, ChatLog};
use crate::room::host::KeyId;
use crate::room::limits::{Kind, PeerLimits};
use crate::room::people::{LinkState, People};
use crate::room::shown_offset::{within_ms, ShownOffset};
use crate::room::wire::{normalize_name, PeerMessage, ViewerPhase, ViewerStatus};
use crate::room_link::RoomSecret;
use crate::signaling::endpoint::Outage;
use crate::signaling::payload::SessionId;
use crate::sync::{
    self, Engine, Input, Intent, LocalTime, MediaTime, Output, PeerId, PlayerCommand, RoomTime,
};
use gloo_timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

/// How often each viewer tells the others how its playback is doing.
const STATUS_INTERVAL_MS: u32 = 1_000;

/// The room, as the interface shows it: read-only signals, written only by the party (the
/// leptos-use shape: the hook writes, components read and call the party's methods).
#[derive(Clone, Copy)]
pub struct PartyView {
    pub people: ReadSignal<People>,
    pub chat: ReadSignal<ChatLog>,
    /// The room's playback state, once anyone chose a video.
    pub playback: ReadSignal<Option<sync::Playback>>,
    /// Our own offset from the room, as the people list says it (`None`: unknown).
    pub my_offset: ReadSignal<Option<ShownOffset>>,
    /// Why the signaling endpoint is out of reach, while it is (`None` once joined, and while
    /// first connecting).
    pub signaling_outage: ReadSignal<Option<Outage>>,
    /// Messages from peers dropped because they were malformed, of another version, or over a
    /// member's rate limit, and queue entries refused (brought up to date once a second, not
    /// per message).
    pub dropped_messages: ReadSignal<u32>,
    pub problem: ReadSignal<Option<String>>,
}

/// The write ends of [`PartyView`]'s signals; only the party holds them.
#[derive(Clone, Copy)]
struct ViewWriters {
    people: WriteSignal<People>,
    chat: WriteSignal<ChatLog>,
    playback: WriteSignal<Option<sync::Playback>>,
    my_offset: WriteSignal<Option<ShownOffset>>,
    signaling_outage: WriteSignal<Option<Outage>>,
    dropped_messages: WriteSignal<u32>,
    problem: WriteSignal<Option<String>>,
}

/// A fresh view of an empty room, and the only handles that can change it.
fn new_view() -> (PartyView, ViewWriters) {
    let (people, set_people) = signal(People::default());
    let (chat, set_chat) = signal(ChatLog::default());
    let (playback, set_playback) = signal(None);
    let (my_offset, set_my_offset) = signal(None);
    let (signaling_outage, set_signaling_outage) = signal(None);
    let (dropped_messages, set_dropped_messages) = signal(0);
    let (problem, set_problem) = signal(None);
    let view = PartyView {
        people,
        chat,
        playback,
        my_offset,
        signaling_outage,
        dropped_messages,
        problem,
    };
    let writers = ViewWriters {
        people: set_people,
        chat: set_chat,
        playback: set_playback,
        my_offset: set_my_offset,
        signaling_outage: set_signaling_outage,
        dropped_messages: set_dropped_messages,
        problem: set_problem,
    };
    (view, writers)
}

type PlayerSink = Rc<dyn Fn(PlayerCommand)>;

struct Inner {
    engine: Engine,
    mesh: Option<Mesh>,
    name: String,
    local_phase: ViewerPhase,
    player: Option<PlayerSink>,
    /// Commands the engine gave before the player was attached.
    queued_commands: Vec<PlayerCommand>,
    /// The engine's wake-up: when it is due, and the browser timer for it.
    timer: Option<(LocalTime, Timeout)>,
    /// Each member's rate limits, and what they held back.
    limits: PeerLimits<PeerMessage>,
    /// Messages from peers that did not decode.
    malformed: u32,
    /// The local player reached the end of the media.
    ended: bool,
    /// Our picture's error from the timeline, whole ms (`Engine::picture_error`), and the one
    /// our last status told the others with when it was sent (`now_ms`).
    picture_ms: Option<f32>,
    picture_told: Option<(Option<f32>, f64)>,
    /// How far either way our picture may be from where its frames' times put it, whole ms
    /// (`BrowserKind::picture_within`); `None` until the player measured it.
    picture_within_ms: Option<u8>,
    _status_timer: Option<Interval>,
}

/// A handle to the party; cheap to clone (one `Rc`: many closures of the room page capture
/// it, and cloning and dropping each of its parts there was first-load code), lives as long
/// as the room page. Its parts are read through it (`party.queue`, `party.view`, …).
#[derive(Clone)]
pub struct Party(Rc<Parts>);

/// What a [`Party`] holds.
pub struct Parts {
    inner: Rc<RefCell<Inner>>,
    pub view: PartyView,
    /// The video call on the party's links.
    pub call: Call,
    /// What the first load keeps of the shared queue ("Up next").
    pub queue: SharedQueue,
    /// The queue, the ready check before a film starts and reactions on the frame: one
    /// handle in front of their code, fetched as the room opens.
    pub programme: Programme,
    /// The party's host, if its link names one (links made before hosts have none).
    pub host: Option<Host>,
    writers: ViewWriters,
}

impl std::ops::Deref for Party {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl Party {
    /// Starts the party as this page (`identity`): derives the room keys, joins the mesh,
    /// starts the engine.
    pub fn start(
        identity: PageIdentity,
        secret: RoomSecret,
        host: Option<KeyId>,
        config: AppConfig,
        name: String,
    ) -> Self {
        let session = identity.session;
        let (view, writers) = new_view();
        let mut sync_config = sync::Config::default();
        // The browser's clock jumps, until the engine measured its player's own.
        sync_config.controller.entry_jump_guess = this_browser().entry_jump_guess();
        let engine = Engine::new(sync_config, PeerId(session), local_now());
        let inner = Rc::new(RefCell::new(Inner {
            engine,
            mesh: None,
            name,
            local_phase: ViewerPhase::Idle,
            player: None,
            queued_commands: Vec::new(),
            timer: None,
            limits: PeerLimits::default(),
            malformed: 0,
            ended: false,
            picture_ms: None,
            picture_within_ms: None,
            picture_told: None,
            _status_timer: None,
        }));
        let host = host.map(|room| {
            let sender = inner.clone();
            let send: super::host::Send = Rc::new(move |to, message: &PeerMessage| {
                send_on_mesh(&sender, to, MeshChannel::State, &message.encode())
            });
            Host::new(session, room, send)
        });
        let party = Party(Rc::new(Parts {
            inner,
            view,
            call: Call::new(session),
            queue: SharedQueue::default(),
            programme: Programme::default(),
            host,
            writers,
        }));
        if let Some(host) = &party.host {
            // Built once: every checked message of a hosted room goes through it.
            let receiver = party.clone();
            host.deliver_to(Rc::new(move |from, message, at| {
                receiver.on_checked_message(from, message, at)
            }));
        }
        let status_party = party.clone();
        party.inner.borrow_mut()._status_timer =
            Some(Interval::new(STATUS_INTERVAL_MS, move || {
                status_party.every_second()
            }));
        let joining = party.clone();
        leptos::task::spawn_local(async move { joining.join_mesh(identity, secret, config).await });
        party.pump();
        party
    }

    async fn join_mesh(&self, identity: PageIdentity, secret: RoomSecret, config: AppConfig) {
        let keys = match RoomKeys::derive(&secret).await {
            Ok(keys) => keys,
            Err(problem) => return self.writers.problem.set(Some(problem)),
        };
        self.queue.set_topic(keys.topic.clone());
        // The programme's code, now that its history has a name: after the first paint, and
        // before anyone is likely to use it.
        self.load_programme();
        let page = web_sys::window().map(|w| w.location());
        let origin = page
            .map(|l| {
                PageOrigin::new(
                    &l.protocol().unwrap_or_default(),
                    &l.host().unwrap_or_default(),
                )
            })
            .unwrap_or_else(|| PageOrigin::new("http", "localhost"));
        let base = match config.signaling_base(&origin) {
            Ok(base) => base,
            Err(problem) => return self.writers.problem.set(Some(problem.to_string())),
        };
        let party = self.clone();
        let name = self.inner.borrow().name.clone();
        let mesh = Mesh::join(&identity, name, keys, &base, config, move |event| {
            party.on_mesh(event)
        });
        self.call.attach_mesh(&mesh);
        self.inner.borrow_mut().mesh = Some(mesh);
    }

    /// Attaches the player; commands issued before are replayed in order.
    pub fn attach_player(&self, sink: impl Fn(PlayerCommand) + 'static) {
        let sink: PlayerSink = Rc::new(sink);
        let queued = {
            let mut inner = self.inner.borrow_mut();
            inner.player = Some(sink.clone());
            std::mem::take(&mut inner.queued_commands)
        };
        for command in queued {
            sink(command);
        }
    }

    /// The person wants something (play, pause, seek, load). In host mode only the host and
    /// co-hosts may; anyone else is told why nothing happened.
    pub fn intent(&self, intent: Intent) {
        if !self.may_act() {
            return;
        }
        self.input(Input::Intent(intent));
    }

    /// Whether this page may act on the room (and if not, the host's panel says why).
    fn may_act(&self) -> bool {
        self.host.as_ref().is_none_or(Host::check_my_action)
    }

    /// The player presented `media_secs` at `presented_at_ms` (performance.now clock).
    pub fn observe(&self, media_secs: f64, presented_at_ms: f64) {
        let observation = sync::Observation {
            media_time: MediaTime::from_secs_f64(media_secs),
            presented_at: LocalTime::from_millis_f64(presented_at_ms),
        };
        self.programme.on_frame(observation.media_time);
        self.input(Input::Observation(observation));
    }

    /// The player's media clock read `media_secs` at `read_at_ms` (performance.now clock).
    pub fn observe_clock(&self, media_secs: f64, read_at_ms: f64) {
        let reading = sync::ClockReading {
            media_time: MediaTime::from_secs_f64(media_secs),
            read_at: LocalTime::from_millis_f64(read_at_ms),
        };
        self.input(Input::MediaClock(reading));
    }

    /// The player's frames are quantized to `step` (see [`Input::PresentationStep`]).
    pub fn presentation_step(&self, step: sync::Span) {
        self.input(Input::PresentationStep(step));
    }

    /// How far either way the player's picture may be from where its frames' times put it
    /// (`BrowserKind::picture_within`): the offset we show and send is that number give or take
    /// this.
    pub fn picture_within(&self, within: sync::Span) {
        self.inner.borrow_mut().picture_within_ms = Some(within_ms(within));
        self.refresh_my_offset();
    }

    /// The player stalled or recovered; `phase` is what the others see.
    pub fn set_local_phase(&self, phase: ViewerPhase) {
        let was_buffering = {
            let mut inner = self.inner.borrow_mut();
            let was = inner.local_phase == ViewerPhase::Buffering;
            inner.local_phase = phase.clone();
            was
        };
        let is_buffering = phase == ViewerPhase::Buffering;
        if was_buffering != is_buffering {
            // Hidden unless verbose: a stall here may hold the room (`buffering.rs`).
            crate::web::debug_log!(
                "player: buffering {is_buffering} at {:.1}",
                crate::web::now_ms()
            );
            self.input(Input::Buffering(is_buffering));
        }
        self.broadcast_status();
    }

    pub fn send_chat(&self, text: String) {
        let author = self.inner.borrow().name.clone();
        self.send_to(None, &PeerMessage::Chat { text: text.clone() });
        self.writers.chat.update(|chat| {
            chat.push(ChatLine {
                author,
                text,
                at_ms: js_sys::Date::now(),
                mine: true,
            })
        });
    }

    pub fn rename(&self, name: String) {
        self.inner.borrow_mut().name = name.clone();
        if let Some(mesh) = self.inner.borrow().mesh.clone() {
            mesh.rename(name.clone());
        }
        self.send_to(None, &PeerMessage::Profile { name });
    }

    /// Edits the shared queue and sends the edit to everyone. The first edit in a room
    /// nobody has acted in founds its timeline, so that every edit is stamped in room time;
    /// if another page has just founded it, the edit waits until this page has met it.
    pub fn edit_queue(&self, edit: Edit) -> Result<(), EditError> {
        if !self.may_act() {
            return Ok(());
        }
        if self.inner.borrow().engine.rank().is_none() {
            self.input(Input::Act);
        }
        match self.programme.live() {
            Some(live) => {
                let pieces = live.queue.edit(self.queue_time(), edit)?;
                self.send_queue_pieces(None, pieces);
            }
            None => self.defer(Deferred::Edit(edit)),
        }
        Ok(())
    }

    /// The host switches Host controls on or off (on, it also vouches for the current state).
    pub fn set_host_mode(&self, on: bool) {
        if let Some(host) = &self.host {
            let current = self.inner.borrow().engine.playback().cloned();
            host.set_mode(on, current);
        }
    }

    /// In host mode a guest's buffering hold is bounded in time: past it, a page in control
    /// resumes the room (signed, as any of its writes).
    fn release_guest_hold(&self) {
        let Some(host) = &self.host else { return };
        let (current, now) = self.register_now();
        if host.releases_hold(current.as_ref(), now) {
            self.input(Input::Intent(Intent::Play));
        }
    }

    /// The register's state and this page's room time now: what the host's rules judge a
    /// state against.
    fn register_now(&self) -> (Option<sync::Versioned>, Option<RoomTime>) {
        let engine = &self.inner.borrow().engine;
        (engine.playback().cloned(), engine.room_time(local_now()))
    }

    /// Keeps `what` until the programme's code runs, fetching it if nobody is (or the last
    /// fetch failed).
    fn defer(&self, what: Deferred) {
        if self.programme.wait(what) {
            self.load_programme();
        }
    }

    /// Fetches the programme's code, then replays what waited for it.
    fn load_programme(&self) {
        let party = self.clone();
        leptos::task::spawn_local(async move {
            let seed = Seed {
                party: party.clone(),
                topic: party.queue.topic(),
            };
            if let Some(waiting) = party.programme.load(seed).await {
                party.replay(waiting);
            }
        });
    }

    /// What waited for the programme's code, now that it runs.
    fn replay(&self, waiting: Waiting) {
        for piece in waiting.pieces {
            self.on_queue_piece(piece);
        }
        for edit in waiting.edits {
            let _ = self.edit_queue(edit);
        }
        // After the pieces, so that a video from the queue is recorded under its title.
        for (url, at_ms) in waiting.watched {
            self.record_watched(url, at_ms);
        }
        for list in waiting.lists {
            self.friend_watched(list);
        }
        // Every note merged first, then one check (below) of where they leave everyone: each
        // note checking on its own would redraw the list and poll the check once per note.
        let live = self.programme.live();
        for (PeerId(from), note) in waiting.notes {
            match &live {
                Some(live) => self.merge_ready_note(live, from, note),
                // Not reached: `load` hands back what waited once the code runs.
                None => self.defer(Deferred::Note(PeerId(from), note)),
            }
        }
        match waiting.open {
            Some(media) => self.open_check(media),
            None => self.check_ready(),
        }
        // The reactions start where the film is.
        let Some(live) = self.programme.live() else {
            return;
        };
        let media = self.current_media();
        live.reactions.set_video(media.as_deref());
        if let Some(at) = waiting.frame {
            live.reactions.on_frame(at);
        }
        for (from, incoming) in waiting.reactions {
            live.reactions.receive(from, incoming);
        }
    }

    /// The room's video, if it has one.
    fn current_media(&self) -> Option<String> {
        self.view
            .playback
            .with_untracked(|p| p.as_ref().and_then(|p| p.media.clone()))
    }

    fn on_queue_piece(&self, piece: Vec<u8>) {
        match self.programme.live() {
            Some(live) => {
                let media = self.current_media();
                live.queue
                    .merge(&piece, self.queue_time(), media.as_deref());
            }
            None => self.defer(Deferred::Piece(piece)),
        }
    }

    /// The room loaded `url` at `at_ms`: a row of its history.
    fn record_watched(&self, url: String, at_ms: u64) {
        if let Some(live) = self.live_or_keep(|| Deferred::Watched(url.clone(), at_ms)) {
            live.queue.watched(&url, at_ms);
        }
    }

    /// A friend's list of what they watched here.
    fn friend_watched(&self, list: String) {
        if let Some(live) = self.live_or_keep(|| Deferred::List(list.clone())) {
            live.queue.friend_watched(&list);
        }
    }

    /// The running programme, or `None` after keeping what `kept` makes until its code runs:
    /// for history, which is never a reason to fetch the code (`defer` is, for the rest).
    fn live_or_keep(&self, kept: impl FnOnce() -> Deferred) -> Option<Rc<Engines>> {
        let live = self.programme.live();
        if live.is_none() {
            self.programme.wait(kept());
        }
        live
    }

    /// A friend's reaction message.
    fn on_reaction(&self, from: SessionId, incoming: Incoming) {
        match self.programme.live() {
            Some(live) => live.reactions.receive(from, incoming),
            None => self.defer(Deferred::Reaction(from, incoming)),
        }
    }

    /// Sends queue pieces to one peer, or to everyone. In host mode a controller signs each;
    /// anyone else's would be dropped, so it sends none.
    fn send_queue_pieces(&self, to: Option<SessionId>, pieces: Vec<Vec<u8>>) {
        if let Some(host) = self.host.as_ref().filter(|h| h.host_mode()) {
            if host.signs() {
                for piece in pieces {
                    host.send_piece(to, piece);
                }
            }
            return;
        }
        for piece in pieces {
            self.send_to(to, &PeerMessage::Queue(piece));
        }
    }

    /// "Add to queue", from the source box or the Suggested tab: the video at `link`, as this
    /// page would load it (`link_to_queue`), to the end of the queue, as added by us, with the
    /// title typed (the queue's code cleans it, or takes the link's file name when empty).
    /// The error says, for the person, why nothing was queued.
    pub fn queue_link(&self, link: &str, title: String) -> Result<(), String> {
        let url = link_to_queue(link)?;
        let name = self.inner.borrow().name.clone();
        let item = Item {
            url,
            title,
            duration: None,
            added_by: normalize_name(&name).unwrap_or_else(|| "Someone".into()),
        };
        self.edit_queue(Edit::Add(item))
            .map_err(|why| why.message().to_owned())
    }

    /// "Play now": loads entry `id` for everyone, with a ready check.
    pub fn play_entry(&self, id: EntryId) {
        if let Some(url) = self.programme.live().and_then(|p| p.queue.start(id)) {
            self.load_video(url);
        }
    }

    /// "Load video": loads `url` for everyone, paused, and asks everyone whether they are
    /// ready (the film starts when all are, or on "Start anyway", or after the countdown).
    pub fn load_video(&self, url: String) {
        self.intent(Intent::Load {
            media_id: url.clone(),
        });
        self.open_check(url);
    }

    /// "Ready check": asks everyone again, for the video the room is paused on.
    pub fn open_ready_check(&self) {
        let media = self.inner.borrow().engine.playback().cloned();
        if let Some(media) = media.and_then(|v| v.playback.media) {
            self.open_check(media);
        }
    }

    /// Opens a check for `media`, once the check's code is here.
    fn open_check(&self, media: String) {
        let Some(live) = self.programme.live() else {
            return self.defer(Deferred::Open(media));
        };
        // Room time is known once the load has founded the timeline or this page met it.
        let now = self.queue_time();
        let note = live.ready.open(now, &media, self.may_control(self.me()));
        self.send_ready(note);
        self.check_ready();
    }

    /// This person is ready ("Ready").
    pub fn mark_ready(&self) {
        let Some(live) = self.programme.live() else {
            return;
        };
        let note = live.ready.mark_ready();
        // If that makes everyone, the start goes out first, so the others hear it before
        // the mark and do not start themselves.
        self.check_ready();
        self.send_ready(note);
    }

    /// "Start anyway".
    pub fn start_anyway(&self) {
        let Some(live) = self.programme.live() else {
            return;
        };
        let note = live.ready.start_anyway(self.may_control(self.me()));
        self.check_ready();
        self.send_ready(note);
    }

    /// Whether `who` may start the film or ask for a ready check: everyone, outside host mode;
    /// in it, the host and its co-hosts.
    fn may_control(&self, who: PeerId) -> bool {
        self.host
            .as_ref()
            .is_none_or(|host| host.may_control(who.0))
    }

    pub(crate) fn me(&self) -> PeerId {
        self.inner.borrow().engine.id()
    }

    fn on_ready_note(&self, from: SessionId, note: Vec<u8>) {
        let Some(live) = self.programme.live() else {
            return self.defer(Deferred::Note(PeerId(from), note));
        };
        self.merge_ready_note(&live, from, note);
        self.check_ready();
    }

    /// Merges a friend's ready note, and passes on a check newly heard of, for whoever the
    /// opener cannot reach; the caller checks where that leaves everyone.
    fn merge_ready_note(&self, live: &Engines, from: SessionId, note: Vec<u8>) {
        let now = self.queue_time();
        let relay = live
            .ready
            .merge(PeerId(from), &note, now, &|who| self.may_control(who));
        self.send_ready(relay);
    }

    fn send_ready(&self, note: Option<Vec<u8>>) {
        if let Some(note) = note {
            self.send_to(None, &PeerMessage::Ready(note));
        }
    }

    /// Starts the film if the ready check says this page should, and shows where everyone
    /// stands in it.
    fn check_ready(&self) {
        let Some(live) = self.programme.live() else {
            return;
        };
        let now = self.queue_time();
        let state = self.inner.borrow().engine.playback().cloned();
        // In place: the list is redrawn only when someone's place in the check changed.
        let mut start = false;
        self.writers.people.maybe_update(|people| {
            let checked = live.ready.check(now, state.as_ref(), people);
            start = checked.start;
            checked.people_changed
        });
        if start {
            self.intent(Intent::Play);
        }
    }

    /// The local player reached the end of the media (or left it).
    pub fn media_ended(&self, ended: bool) {
        self.inner.borrow_mut().ended = ended;
        self.check_end();
    }

    /// If the video ended and this page is the sync reference, starts what comes next.
    fn check_end(&self) {
        let (state, ended, reference) = {
            let inner = self.inner.borrow();
            let engine = &inner.engine;
            // In host mode the one who moves on is in control: the host, or while it is away
            // a co-host (each; they write the same next entry).
            let reference = match self.host.as_ref().filter(|h| h.host_mode()) {
                Some(host) => host.moves_on_at_end(),
                None => engine.reference() == engine.id(),
            };
            (engine.playback().cloned(), inner.ended, reference)
        };
        let Some(state) = state else { return };
        let Some(live) = self.programme.live() else {
            return;
        };
        let next = live.queue.on_end(AtEnd {
            media: state.playback.media.as_deref(),
            version: state.stamp,
            playing: state.playback.playing,
            ended,
            reference,
        });
        if let Some(url) = next {
            self.load_and_play(url);
        }
    }

    fn load_and_play(&self, url: String) {
        self.intent(Intent::Start { media_id: url });
    }

    /// Room time for the queue: once the room's timeline is founded and this page has met it
    /// (before, room time follows whichever page has the lowest id and may move).
    fn queue_time(&self) -> Option<RoomTime> {
        let inner = self.inner.borrow();
        let engine = &inner.engine;
        engine.rank().and(engine.room_time(local_now()))
    }

    /// Leaves the room (the page is going away).
    pub fn leave(&self) {
        self.call.leave();
        let mut inner = self.inner.borrow_mut();
        inner.timer = None;
        inner._status_timer = None;
        if let Some(mesh) = inner.mesh.take() {
            mesh.leave();
        }
    }

    fn input(&self, input: Input) {
        self.inner
            .borrow_mut()
            .engine
            .handle_input(local_now(), input);
        self.pump();
    }

    /// Carries out everything the engine asks, then re-arms its timer.
    fn pump(&self) {
        loop {
            let output = self.inner.borrow_mut().engine.poll_output();
            let Some(output) = output else { break };
            match output {
                Output::Send(transmit) => {
                    let channel = match transmit.channel {
                        sync::Channel::Reliable => MeshChannel::State,
                        sync::Channel::Unreliable => MeshChannel::Clock,
                    };
                    let to = match transmit.to {
                        sync::Destination::All => None,
                        sync::Destination::One(PeerId(to)) => Some(to),
                    };
                    // In host mode a state this page wrote goes out after its signature.
                    if let (Some(host), sync::Body::State(state)) =
                        (self.host.as_ref().filter(|h| h.signs()), &transmit.msg.body)
                    {
                        let state = state.clone();
                        host.send_state(to, state, PeerMessage::Sync(transmit.msg));
                        continue;
                    }
                    let bytes = PeerMessage::Sync(transmit.msg).encode();
                    send_on_mesh(&self.inner, to, channel, &bytes);
                }
                Output::Player(command) => {
                    if let PlayerCommand::SetRate(_) = command {
                        self.log_correction();
                    }
                    let player = self.inner.borrow().player.clone();
                    match player {
                        Some(player) => player(command),
                        None => self.inner.borrow_mut().queued_commands.push(command),
                    }
                }
                Output::Event(event) => self.on_engine_event(event),
            }
        }
        let (deadline, picture) = {
            let inner = self.inner.borrow();
            (
                inner.engine.poll_timeout(),
                // Whole milliseconds: what the people list shows, so it is not redrawn per frame.
                // The picture's error, not the media clock's the engine steers by (issue 19).
                inner
                    .engine
                    .picture_error(local_now())
                    .map(|e| e.as_millis_f64().round() as f32),
            )
        };
        if self.inner.borrow().picture_ms != picture {
            self.inner.borrow_mut().picture_ms = picture;
            self.refresh_my_offset();
            if self.picture_worth_telling(picture) {
                self.broadcast_status();
            }
        }
        let editable = self.inner.borrow().engine.room_time(local_now()).is_some();
        self.queue.set_editable(editable);
        if let Some(live) = self
            .programme
            .live()
            .filter(|l| l.queue.has_waiting_edits())
        {
            if let Some(now) = self.queue_time() {
                self.send_queue_pieces(None, live.queue.flush(now));
            }
        }
        self.arm_timer(deadline);
    }

    /// Sets the browser timer for the engine's next deadline. Pumps run on every presented
    /// frame, and the deadline rarely moves: the timer is replaced only when it does.
    fn arm_timer(&self, deadline: Option<LocalTime>) {
        let armed = self.inner.borrow().timer.as_ref().map(|(due, _)| *due);
        if armed == deadline {
            return;
        }
        let timer = deadline.map(|due| {
            let wait_ms = (due - local_now()).as_millis_f64().clamp_to(0.0, 60_000.0);
            let party = self.clone();
            (
                due,
                Timeout::new(wait_ms.ceil() as u32, move || party.on_timer()),
            )
        });
        self.inner.borrow_mut().timer = timer;
    }

    fn on_timer(&self) {
        // This timer has fired: forget it so the next deadline, even an equal one, is armed.
        let fired = self.inner.borrow_mut().timer.take();
        self.input(Input::Tick);
        drop(fired);
    }

    /// Hidden unless the console shows verbose messages: what a rate change corrects.
    fn log_correction(&self) {
        let inner = self.inner.borrow();
        let ms = |s: Option<sync::Span>| s.map(|s| (s.as_millis_f64() * 10.0).round() / 10.0);
        crate::web::debug_log!(
            "sync: correcting an error of {:?} ms (frame grid offset {:?} ms)",
            ms(inner.engine.playback_error()),
            ms(inner.engine.frame_grid_offset())
        );
    }

    fn on_engine_event(&self, event: sync::Event) {
        // Hidden unless the console shows verbose messages: with the player's commands, enough
        // to follow who moved the room and why; a peer's clock estimate (at most once a second
        // per peer) shows whether room time, read from the reference's clock, moved.
        crate::web::debug_log!("sync event: {event:?} at {:.1}", crate::web::now_ms());
        match event {
            sync::Event::StateChanged(versioned) => {
                let media = versioned.playback.media.as_deref();
                if let Some(live) = self.programme.live() {
                    live.queue.follow(media);
                    live.reactions.set_video(media);
                }
                if let Some(url) = self.queue.new_media(media) {
                    self.record_watched(url, js_sys::Date::now() as u64);
                }
                self.writers.playback.set(Some(versioned.playback));
                self.check_ready();
            }
            sync::Event::PeerClock {
                peer: PeerId(session),
                rtt,
                ..
            } => self.writers.people.update(|people| {
                if let Some(person) = people.get_mut(session) {
                    person.rtt_ms = Some(rtt.as_millis_f64() as f32);
                }
            }),
            // The reference may have left at the end of the video, before moving on.
            sync::Event::ReferenceChanged(_) => self.check_end(),
            sync::Event::PeerBuffering { .. } => {}
        }
    }

    /// The endpoint's order of admission, which makes the engine's ranks facts: told as links
    /// open and close (a reconnect's new place counts from the next of those).
    fn tell_seniority(&self) {
        let order = self
            .inner
            .borrow()
            .mesh
            .as_ref()
            .and_then(|m| m.seniority());
        if let Some(order) = order {
            self.input(Input::Seniority(order.into_iter().map(PeerId).collect()));
        }
    }

    fn on_mesh(&self, event: MeshEvent) {
        match event {
            MeshEvent::Connecting(session) => self
                .writers
                .people
                .update(|p| p.entry(session).link = LinkState::Connecting),
            MeshEvent::Open(session) => {
                self.writers
                    .people
                    .update(|p| p.entry(session).link = LinkState::Connected);
                if let Some(host) = &self.host {
                    let current = self.inner.borrow().engine.playback().cloned();
                    host.greet(session, current.as_ref());
                }
                self.tell_seniority();
                self.input(Input::PeerJoined(PeerId(session)));
                let name = self.inner.borrow().name.clone();
                self.send(session, &PeerMessage::Profile { name });
                self.broadcast_status();
                let live = self.programme.live();
                let snapshot = match &live {
                    Some(live) => live.queue.snapshot(),
                    // Whatever is still waiting for the queue's code merges like a snapshot.
                    None => self.programme.waiting_pieces(),
                };
                self.send_queue_pieces(Some(session), snapshot);
                if let Some(live) = live {
                    if let Some(note) = live.ready.note() {
                        self.send(session, &PeerMessage::Ready(note));
                    }
                    if let Some(track) = live.reactions.snapshot() {
                        self.send(session, &track);
                    }
                }
                if let Some(list) = self.queue.stored_history() {
                    self.send(session, &PeerMessage::Watched(list));
                }
                self.call.link_open(session);
            }
            MeshEvent::Message {
                from,
                bytes,
                received_at_ms,
                ..
            } => self.on_peer_bytes(from, &bytes, received_at_ms),
            MeshEvent::Restored(session) => self
                .writers
                .people
                .update(|p| p.entry(session).link = LinkState::Connected),
            MeshEvent::Reconnecting(session) => self
                .writers
                .people
                .update(|p| p.entry(session).link = LinkState::Reconnecting),
            // A hello's name only fills in who is connecting; their profile has the last word.
            MeshEvent::Introduced { session, name } => self.writers.people.update(|p| {
                if let Some(person) = p.get_mut(session).filter(|person| person.name.is_none()) {
                    person.name = Some(name);
                }
            }),
            MeshEvent::Unreachable { session, why } => self
                .writers
                .people
                .update(|p| p.entry(session).link = LinkState::Unreachable(why)),
            MeshEvent::Path { session, path } => self.writers.people.update(|p| {
                if let Some(person) = p.get_mut(session) {
                    person.path = Some(path);
                }
            }),
            MeshEvent::Gone(session) => {
                self.writers.people.update(|p| {
                    p.remove(session);
                });
                self.inner.borrow_mut().limits.forget(session);
                if let Some(host) = &self.host {
                    host.gone(session);
                }
                self.input(Input::PeerLeft(PeerId(session)));
                self.tell_seniority();
                self.call.link_gone(session);
                // They stop counting: the others may all be ready now.
                self.check_ready();
            }
            MeshEvent::Signaling { outage } => self.writers.signaling_outage.set(outage),
            MeshEvent::Problem(problem) => web_sys::console::warn_1(&problem.into()),
        }
    }

    /// A message from a member: bounded by their rate limits before and after decoding, then
    /// acted on (or held back, or dropped and counted).
    fn on_peer_bytes(&self, from: SessionId, bytes: &[u8], received_at_ms: f64) {
        let now = local_now();
        if !self.inner.borrow_mut().limits.admit_any(now, from) {
            return;
        }
        let message = match PeerMessage::decode(bytes) {
            Ok(message) => message,
            Err(error) => {
                self.inner.borrow_mut().malformed += 1;
                web_sys::console::warn_1(&format!("dropped a message from a peer: {error}").into());
                return;
            }
        };
        let admitted = match Kind::of(&message) {
            Some(kind) => self
                .inner
                .borrow_mut()
                .limits
                .admit(now, from, kind, message),
            None => Some(message),
        };
        if let Some(message) = admitted {
            self.on_peer_message(from, message, received_at_ms);
        }
    }

    /// A message within its limits: in a hosted room, through the host's checks (in order per
    /// peer), then acted on.
    fn on_peer_message(&self, from: SessionId, message: PeerMessage, received_at_ms: f64) {
        match &self.host {
            Some(host) => host.receive(from, message, received_at_ms),
            None => self.on_checked_message(from, message, received_at_ms),
        }
    }

    fn on_checked_message(&self, from: SessionId, message: PeerMessage, received_at_ms: f64) {
        match message {
            PeerMessage::Sync(msg) => {
                let msg = match &self.host {
                    Some(host) => {
                        // Only a state, or a hello relaying one, is judged against the
                        // register: a clock sample (most messages) needs neither.
                        let (current, now) = match msg.body {
                            sync::Body::State(_) | sync::Body::Hello(_) => self.register_now(),
                            _ => (None, None),
                        };
                        match host.check_sync(from, current.as_ref(), now, msg) {
                            Some(msg) => msg,
                            None => return,
                        }
                    }
                    None => msg,
                };
                let received_at = LocalTime::from_millis_f64(received_at_ms);
                self.input(Input::PeerMessage {
                    from: PeerId(from),
                    msg,
                    received_at,
                });
            }
            PeerMessage::Profile { name } => self
                .writers
                .people
                .update(|p| p.entry(from).name = Some(name)),
            PeerMessage::Chat { text } => {
                let author = self
                    .view
                    .people
                    .with_untracked(|p| p.get(from).map(|p| p.display_name().to_owned()));
                let line = ChatLine {
                    author: author.unwrap_or_else(|| "Someone".into()),
                    text,
                    at_ms: js_sys::Date::now(),
                    mine: false,
                };
                self.writers.chat.update(|chat| chat.push(line));
            }
            PeerMessage::Status(status) => {
                self.writers
                    .people
                    .update(|p| p.entry(from).status = status);
                self.refresh_my_offset();
            }
            PeerMessage::Call(presence) => self.call.on_presence(from, presence),
            PeerMessage::Queue(piece) => self.on_queue_piece(piece),
            PeerMessage::Ready(note) => self.on_ready_note(from, note),
            PeerMessage::Watched(list) => self.friend_watched(list),
            PeerMessage::React(live) => self.on_reaction(from, Incoming::Live(live)),
            PeerMessage::ReactionTrack(track) => self.on_reaction(from, Incoming::Track(track)),
            // Handled by the host's checks; in a room without a host, meaningless.
            PeerMessage::Host(_) => self.inner.borrow_mut().malformed += 1,
        }
    }

    /// Once a second: our status to everyone, the messages members' limits held back and that
    /// may now be acted on, and the count of dropped ones.
    fn every_second(&self) {
        self.broadcast_status();
        // The countdown, and whoever stopped counting (their player failed).
        self.check_ready();
        let due = self.inner.borrow_mut().limits.release(local_now());
        for (from, message) in due {
            self.on_peer_message(from, message, super::now_ms());
        }
        self.release_guest_hold();
        let dropped = {
            let inner = self.inner.borrow();
            let programme = self.programme.live().map_or(0, |live| {
                live.queue.refused() + live.ready.refused() + live.reactions.refused()
            });
            let programme = u32::try_from(programme + self.programme.dropped()).unwrap_or(u32::MAX);
            let host = self.host.as_ref().map_or(0, Host::dropped);
            inner
                .malformed
                .saturating_add(inner.limits.dropped())
                .saturating_add(programme)
                .saturating_add(host)
        };
        set_if_changed(self.writers.dropped_messages, dropped);
    }

    /// Our offset from the room as the people list shows it: our picture's error less the
    /// room's median of them, give or take the picture's or the room's precision
    /// (`People::offset_from_room`), and unknown until ours is measured; redrawn only when it
    /// changed.
    #[inline(never)] // called from the pump and each status: one copy, for the first load
    fn refresh_my_offset(&self) {
        let (picture, within_ms) = {
            let inner = self.inner.borrow();
            (inner.picture_ms, inner.picture_within_ms)
        };
        let offset = within_ms.and_then(|within_ms| {
            self.view
                .people
                .with_untracked(|people| people.offset_from_room(picture, within_ms))
                .map(|offset| ShownOffset {
                    ms: offset.ms.round(),
                    ..offset
                })
        });
        set_if_changed(self.writers.my_offset, offset);
    }

    /// Whether our picture's error moved far enough from what the others were last told to
    /// tell them now rather than with the next second's status: the others work out their own
    /// offsets from it. No oftener than the status rate limit allows (`room::limits`).
    fn picture_worth_telling(&self, picture: Option<f32>) -> bool {
        const MOVED_MS: f32 = 2.0;
        const LEAST_GAP_MS: f64 = 500.0;
        let Some((told, at)) = self.inner.borrow().picture_told else {
            return true;
        };
        let moved = match (told, picture) {
            (Some(a), Some(b)) => (a - b).abs() >= MOVED_MS,
            (a, b) => a.is_some() != b.is_some(),
        };
        moved && super::now_ms() - at >= LEAST_GAP_MS
    }

    fn broadcast_status(&self) {
        let (phase, picture_ms) = {
            let mut inner = self.inner.borrow_mut();
            inner.picture_told = Some((inner.picture_ms, super::now_ms()));
            (inner.local_phase.clone(), inner.picture_ms)
        };
        let offset = self.view.my_offset.get_untracked();
        self.send_to(
            None,
            &PeerMessage::Status(ViewerStatus {
                phase,
                offset_ms: offset.map(|o| o.ms),
                picture_ms,
                offset_within_ms: offset.map_or(0, |o| o.within_ms),
            }),
        );
    }

    fn send(&self, to: SessionId, message: &PeerMessage) {
        self.send_to(Some(to), message);
    }

    /// A message to one member, or to everyone (`None`), on the reliable channel.
    pub(crate) fn send_to(&self, to: Option<SessionId>, message: &PeerMessage) {
        send_on_mesh(&self.inner, to, MeshChannel::State, &message.encode());
    }
}

/// Sends `bytes` on `channel` to one member, or to everyone (`None`): the one place the party
/// chooses between the two. Nothing goes out before this page has joined the mesh (there is
/// nobody to send to yet). The mesh is cloned out first, so no borrow is held while sending.
fn send_on_mesh(inner: &RefCell<Inner>, to: Option<SessionId>, channel: MeshChannel, bytes: &[u8]) {
    let mesh = inner.borrow().mesh.clone();
    match (mesh, to) {
        (Some(mesh), Some(to)) => {
            mesh.send(to, channel, bytes);
        }
        (Some(mesh), None) => mesh.broadcast(channel, bytes),
        (None, _) => {}
    }
}

/// Joins the room for as long as the calling component lives.
pub fn use_party(
    identity: PageIdentity,
    secret: RoomSecret,
    host: Option<KeyId>,
    config: AppConfig,
    name: String,
) -> Party {
    let party = Party::start(identity, secret, host, config, name);
    // Closing the tab runs no cleanup: leave on pagehide so the others see us go at once.
    let on_hide = party.clone();
    use_window_listener("pagehide", move |_| on_hide.leave());
    let leaving = send_wrapper::SendWrapper::new(party.clone());
    on_cleanup(move || leaving.leave());
    party
}
