//! Reactions as the rest of the app sees them: a small handle in the first download, in front
//! of the reactions' machinery (`live`: the track, the playhead and the overlay that floats
//! them over the film), which is a download of its own.
//!
//! The buttons and the keys are in the first load; the rest (the messages, which travel as
//! opaque bytes like queue pieces, decoded there) is fetched the first time a reaction is sent
//! here or arrives. Until it runs, the handle keeps what arrived and what was pressed (bounded)
//! and replays them, with the latest frame's media time so the playhead starts where the film
//! is. `xtask` splits the download at [`live::start`] (the `lazy-chunks` feature); without it
//! the code is built in and loading is immediate.
//!
//! "Show reactions" is a plain checkbox (`#show-reactions`) the overlay reads and the style
//! sheet follows: no signal, no reactive code in the first load.

mod live;

use crate::reactions::ReactionKind;
use crate::room::wire::PeerMessage;
use crate::signaling::payload::SessionId;
use crate::sync::{LocalTime, MediaTime};
use crate::web::chunk::ChunkUnavailable;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Most messages kept while the code is on its way: a few tracks and a burst from everyone.
const MAX_WAITING: usize = 64;

/// A reaction message from a peer, as the party hands it over (still encoded).
pub enum Incoming {
    Live(Vec<u8>),
    Track(Vec<u8>),
}

/// What the party asks of the running reactions.
trait ReactionsEngine {
    fn set_video(&self, media: Option<&str>);
    fn on_frame(&self, at: MediaTime);
    /// Our reaction to the frame at `at`: shown here, and the message for everyone (`None`
    /// if not sent).
    fn react(&self, now: LocalTime, kind: ReactionKind, at: MediaTime) -> Option<PeerMessage>;
    fn receive(&self, from: SessionId, incoming: Incoming);
    fn snapshot(&self) -> Option<PeerMessage>;
    fn refused(&self) -> u64;
}

/// Everything the running reactions are built from.
struct Seed {
    me: SessionId,
}

async fn load(seed: Seed) -> Result<Rc<dyn ReactionsEngine>, ChunkUnavailable> {
    #[cfg(feature = "lazy-chunks")]
    let engine = live::start(seed).await;
    #[cfg(not(feature = "lazy-chunks"))]
    let engine = live::start(seed);
    engine
}

#[derive(Default)]
struct Waiting {
    incoming: Vec<(SessionId, Incoming)>,
    /// With the frame the person saw when they pressed.
    pressed: Vec<(ReactionKind, MediaTime)>,
}

enum Stage {
    /// No reaction yet (or the code could not be fetched: the next one retries).
    Idle(Waiting),
    Loading(Waiting),
    Live(Rc<dyn ReactionsEngine>),
}

type Sender = Box<dyn Fn(&PeerMessage)>;

/// A handle to the room's reactions; cheap to clone (one `Rc`), lives as long as the party.
#[derive(Clone)]
pub struct SharedReactions(Rc<Handle>);

struct Handle {
    me: SessionId,
    stage: RefCell<Stage>,
    /// The latest frame's media time and the room's video, for the playhead to start from.
    frame: Cell<Option<MediaTime>>,
    media: RefCell<Option<String>>,
    /// Where our reactions go (the party's broadcast).
    send: RefCell<Option<Sender>>,
    /// Messages dropped while the code was on its way, past [`MAX_WAITING`].
    dropped: Cell<u64>,
}

impl SharedReactions {
    pub fn new(me: SessionId) -> Self {
        SharedReactions(Rc::new(Handle {
            me,
            stage: RefCell::new(Stage::Idle(Waiting::default())),
            frame: Cell::new(None),
            media: RefCell::new(None),
            send: RefCell::new(None),
            dropped: Cell::new(0),
        }))
    }

    fn live(&self) -> Option<Rc<dyn ReactionsEngine>> {
        match &*self.0.stage.borrow() {
            Stage::Live(engine) => Some(engine.clone()),
            _ => None,
        }
    }

    /// Where our reactions are sent.
    pub fn set_sender(&self, send: impl Fn(&PeerMessage) + 'static) {
        *self.0.send.borrow_mut() = Some(Box::new(send));
    }

    pub fn set_video(&self, media: Option<&str>) {
        if self.0.media.borrow().as_deref() != media {
            *self.0.media.borrow_mut() = media.map(str::to_owned);
            self.0.frame.set(None);
        }
        if let Some(engine) = self.live() {
            engine.set_video(media);
        }
    }

    /// The player presented a frame at `at`.
    pub fn on_frame(&self, at: MediaTime) {
        self.0.frame.set(Some(at));
        if let Some(engine) = self.live() {
            engine.on_frame(at);
        }
    }

    /// The person pressed a reaction's button or key (ignored before the video's first frame:
    /// there is nothing to anchor it to).
    pub fn react(&self, kind: ReactionKind) {
        if let Some(at) = self.0.frame.get() {
            self.react_at(kind, at);
        }
    }

    fn react_at(&self, kind: ReactionKind, at: MediaTime) {
        match self.live() {
            Some(engine) => {
                let message = engine.react(super::local_now(), kind, at);
                if let (Some(message), Some(send)) = (message, &*self.0.send.borrow()) {
                    send(&message);
                }
            }
            None => self.wait(|w| w.pressed.push((kind, at))),
        }
    }

    /// A reaction message from a peer.
    pub fn receive(&self, from: SessionId, incoming: Incoming) {
        match self.live() {
            Some(engine) => engine.receive(from, incoming),
            None => self.wait(|w| w.incoming.push((from, incoming))),
        }
    }

    /// What a newcomer gets: the current video's track.
    pub fn snapshot(&self) -> Option<PeerMessage> {
        self.live()?.snapshot()
    }

    /// Reaction messages refused, and those dropped while the code was on its way.
    pub fn refused(&self) -> u64 {
        self.live().map_or(0, |e| e.refused()) + self.0.dropped.get()
    }

    /// Keeps something until the code runs (fetching it on the first), within the bound.
    fn wait(&self, keep: impl FnOnce(&mut Waiting)) {
        let start = {
            let mut stage = self.0.stage.borrow_mut();
            let (Stage::Idle(waiting) | Stage::Loading(waiting)) = &mut *stage else {
                return;
            };
            if waiting.incoming.len() + waiting.pressed.len() < MAX_WAITING {
                keep(waiting);
            } else {
                self.0.dropped.set(self.0.dropped.get() + 1);
            }
            matches!(*stage, Stage::Idle(_))
        };
        if start {
            let handle = self.clone();
            leptos::task::spawn_local(async move { handle.load().await });
        }
    }

    /// Fetches the code, starts it where the film is, and replays what waited.
    async fn load(&self) {
        {
            let mut stage = self.0.stage.borrow_mut();
            let Stage::Idle(waiting) = &mut *stage else {
                return;
            };
            *stage = Stage::Loading(std::mem::take(waiting));
        }
        let loaded = load(Seed { me: self.0.me }).await;
        let waiting = {
            let mut stage = self.0.stage.borrow_mut();
            let Stage::Loading(waiting) =
                std::mem::replace(&mut *stage, Stage::Idle(Waiting::default()))
            else {
                return;
            };
            match loaded {
                Ok(engine) => {
                    *stage = Stage::Live(engine);
                    waiting
                }
                Err(ChunkUnavailable) => {
                    *stage = Stage::Idle(waiting);
                    return;
                }
            }
        };
        let media = self.0.media.borrow().clone();
        self.set_video(media.as_deref());
        if let Some(at) = self.0.frame.get() {
            self.on_frame(at);
        }
        for (from, incoming) in waiting.incoming {
            self.receive(from, incoming);
        }
        for (kind, at) in waiting.pressed {
            self.react_at(kind, at);
        }
    }
}
